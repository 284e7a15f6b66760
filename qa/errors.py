"""One error family. Every message says what went wrong and what the user can do about it."""

from __future__ import annotations

#: what the page and the APIs say when something fails that is not the user's mistake (the log has the rest)
GENERIC_ERROR = "Something went wrong while answering. Please try again; the server log has the details."


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
