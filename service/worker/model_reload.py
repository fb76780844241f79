"""The worker's model: loaded at start, swapped without a restart, never lost.

``reload`` loads the artifact again (on SIGHUP, or when its file or card changed);
a bad new artifact is refused with a clear message and the current model stays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.article.assess import ArticleModel
from models.artifact import ArtifactError, card_path_for, default_artifact, load_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    changed: bool
    detail: str


class ModelHolder:
    """Holds the current model; ``current`` is always a fully loaded, verified model."""

    def __init__(
        self,
        path: Path | None,
        on_loaded: Callable[[ArticleModel], None] | None = None,
        on_reload: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path) if path else default_artifact()
        self._on_loaded = on_loaded or (lambda _model: None)
        self._on_reload = on_reload or (lambda _result: None)
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self.current: ArticleModel = load_model(self.path)  # refuses a bad artifact at start
        self.last_error: str | None = None
        self._on_loaded(self.current)

    def _file_stamp(self) -> tuple[float, int, float, int] | None:
        try:
            a, c = self.path.stat(), card_path_for(self.path).stat()
        except OSError:
            return None
        return (a.st_mtime, a.st_size, c.st_mtime, c.st_size)

    def changed_on_disk(self) -> bool:
        return self._file_stamp() != self._stamp

    def reload(self) -> ReloadResult:
        """Load the artifact again; keep the current model if the new one is bad."""
        with self._lock:
            stamp = self._file_stamp()
            try:
                model = load_model(self.path)
            except ArtifactError as error:
                self._stamp = stamp  # report a bad file once, not on every check
                self.last_error = str(error)
                log.error("model reload refused, keeping %s: %s", self.current.version, error)
                self._on_reload("failed")
                return ReloadResult(False, False, str(error))
            self._stamp = stamp
            self.last_error = None
            changed = model.sha256 != self.current.sha256
            old = self.current
            self.current = model
            log.info(
                "model reloaded: %s (%s) -> %s (%s)",
                old.version,
                old.sha256[:12],
                model.version,
                model.sha256[:12],
            )
            self._on_loaded(model)
            self._on_reload("ok")
            return ReloadResult(True, changed, f"{model.version} {model.sha256[:12]}")
