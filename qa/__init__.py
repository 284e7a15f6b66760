"""qa: answers from a folder of documents, with verbatim quotes pinned to their offsets.

`from qa import ask` is the whole API for most uses; the heavy modules load on first call.
"""

from __future__ import annotations

__version__ = "0.1.0"


def ask(question, settings=None, **kwargs):
    """Answer a question from the corpus. See qa.pipeline.ask."""
    from qa.pipeline import ask as _ask

    return _ask(question, settings, **kwargs)


def ask_stream(question, settings=None, **kwargs):
    """Yield the Evidence (quote cards), answer text pieces, then the final Answer. See qa.pipeline.ask_stream."""
    from qa.pipeline import ask_stream as _ask_stream

    return _ask_stream(question, settings, **kwargs)


__all__ = ["ask", "ask_stream", "__version__"]
