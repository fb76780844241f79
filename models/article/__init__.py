"""The article model: features from the evidence, the scikit-learn pipeline, assessment."""
