"""One error family. Every message says what went wrong and what the user can do about it."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error qa raises on purpose; the page and CLI show its message, never a traceback."""


class BadQuestion(QAError):
    """The question is empty, too long, or not text."""


class CorpusError(QAError):
    """The corpus folder is missing or holds no readable document."""


class StoreError(QAError):
    """The saved index is missing, corrupt, or built with other settings."""


class ModelError(QAError):
    """A language model is missing, failed, timed out, or answered garbage."""


class UploadError(QAError):
    """An uploaded file was refused (name, size, type)."""
