"""Errors raised by the model package, each with a stable code."""

from __future__ import annotations


class ModelError(Exception):
    """Base class: a model problem the CLI and the worker report as one clear line."""

    code = "model_error"
    exit_code = 2

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail
