"""Evidence in one article: the cue lexicon, sentences and cues, claim ↔ denial pairs."""
