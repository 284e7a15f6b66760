"""What the chat page does, without the page: the handlers behind app.py's components and API endpoints.

``Page`` holds the state they share, all of it explicit: settings, the answer functions, the store (built lazily,
once), the upload folder and its size limit, and the lock that keeps corpus changes one at a time. Each method is
one event or endpoint of app.py and can be called directly, as tests/test_app_handlers.py does. The pure helpers
(``streaming_html``, ``llm_spec``, ``request_settings``, ``clean_history``, ``upload_message``) build what the
methods show. The page's CSS and JavaScript are files in qa/static/, read with ``asset``.

Left out: the components and their layout, the server and its password (app.py), and all HTML markup (qa/render.py).
gradio is imported only where a method must raise its ``Error`` (an endpoint's one-line message to the caller).
No ``from __future__ import annotations``: Gradio reads the endpoints' annotations as types to describe the API.
"""

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from qa import render
from qa.errors import GENERIC_ERROR, BadQuestion, QAError
from qa.settings import Settings
from qa.types import Answer, Evidence
from qa.uploads import DEFAULT_MAX_BYTES, save_uploads

log = logging.getLogger("qa.app")

HISTORY_MESSAGES = 12  # the last six turns are enough context for a follow-up
MAX_HISTORY_CHARS = 4000  # of one message sent back as history
MAX_SHOWN_QUESTION_CHARS = 4000  # a longer question is shown cut, with its length
MAX_PASSAGES = 30  # the most passages (evidence) one request may ask for
STREAM_UPDATE_S = 0.08  # at most ~12 chat updates a second while the answer streams
DEFAULT_HOSTED_LLM = "openai:gpt-4o-mini"  # "hosted" when settings.llm is not a hosted model and QA_HOSTED_LLM is unset
VIEWER_EMPTY = '<p class="qa-viewer-empty">Click a quote card to open its source here, with the quote highlighted.</p>'
REMOVE_FAILED = "The document could not be removed; the server log has the details."
INDEX_FAILED = "the files could not be indexed; the server log has the details"
LIST_FAILED = "the corpus could not be listed"
OPEN_FAILED = "the source could not be opened"


def asset(name: str) -> str:
    """The text of one of the page's files in qa/static/ (page.css, viewer.js, docs.js), from the installed package."""
    return resources.files("qa").joinpath("static", name).read_text(encoding="utf-8")


def user_error(message: str) -> Exception:
    """The error an endpoint raises: the caller gets the one-line message, the server log no traceback."""
    import gradio as gr

    return gr.Error(message, print_exception=False)


class _Lazy:
    """Builds a value once, on first use, even when several requests ask at the same time."""

    def __init__(self, make: Callable[[], Any]):
        self._make, self._lock, self._value = make, threading.Lock(), None

    def __call__(self):
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value


def as_answer(result) -> Answer:
    """An answer function's result as an Answer (it may return the model or its dict)."""
    if isinstance(result, Answer):
        return result
    if isinstance(result, dict):
        return Answer.model_validate(result)
    raise TypeError(f"the answer function returned {type(result).__name__}, not an Answer")


def streaming_html(text: str, evidence: Evidence | None = None) -> str:
    """The answer while it is written: the text so far and, once retrieval is done, the evidence as quote cards.

    The cards carry no [n] label: the model numbers only the passages it is shown, and the final answer renumbers
    its citations; when it arrives, the cards settle to the cited ones."""
    if evidence is None:
        return render.render_streaming_html(text or "…")
    body = f'<p class="qa-text">{render.esc_inline(text)}</p>' if text else ""
    n = len(evidence.citations)
    status = (f"Writing the answer… from {n} passage{'s' if n != 1 else ''} found" if n
              else "Writing the answer…")
    cards = "".join(render.render_card(c, label="") for c in evidence.citations)
    return (f'<div class="qa-answer qa-streaming">{body}<p class="qa-writing" role="status">{status}</p>'
            f'<div class="qa-cards qa-evidence">{cards}</div></div>')


def llm_spec(model: str | None, settings: Settings, env=os.environ) -> str | None:
    """The page's model choice as a make_llm spec; None lets settings.llm decide."""
    model = (model or "auto").strip()
    if model == "auto":
        return None
    if model in ("extractive", "none"):
        return "none"
    if model == "hosted":
        if str(settings.llm).startswith("openai:"):
            return settings.llm
        return env.get("QA_HOSTED_LLM", DEFAULT_HOSTED_LLM)
    return model  # "local", "local-small", "openai:<model>" pass through


def request_settings(settings: Settings, passages) -> Settings:
    """settings with the request's number of passages (0 or empty: the default; at most MAX_PASSAGES)."""
    try:
        n = int(passages or 0)
    except (TypeError, ValueError):
        raise BadQuestion("the number of passages must be a whole number") from None
    return settings.with_(k_evidence=max(1, min(n, MAX_PASSAGES))) if n > 0 else settings


def clean_history(history) -> list[dict]:
    """The last HISTORY_MESSAGES user/assistant messages as plain role/content dicts; anything else is dropped."""
    out = []
    for m in list(history or [])[-HISTORY_MESSAGES:]:
        if isinstance(m, dict) and m.get("role") in ("user", "assistant"):
            out.append({"role": m["role"], "content": str(m.get("content") or "")[:MAX_HISTORY_CHARS]})
    return out


def upload_message(result: dict | None) -> str:
    """The upload endpoint's result as the lines the page shows under the upload control (HTML, escaped)."""
    result = result or {}
    lines = []
    if result.get("added"):
        lines.append("Added: " + ", ".join(result["added"]))
    for r in result.get("refused", []):
        name, reason = str(r.get("name")), str(r.get("reason"))
        lines.append(f"Refused: {reason}" if reason.startswith(name) else f"Refused {name}: {reason}")
    return "".join(f"<p>{render.esc(line)}</p>" for line in lines)


def shown_question(question: str) -> str:
    """The question as the chat shows it: cut to MAX_SHOWN_QUESTION_CHARS, with its full length."""
    if len(question) <= MAX_SHOWN_QUESTION_CHARS:
        return question
    return f"{question[:MAX_SHOWN_QUESTION_CHARS]}… ({len(question):,} characters)"


def _assistant(html: str) -> dict:
    return {"role": "assistant", "content": html}


class Page:
    """The state the page's handlers share, and the handlers. ask_fn/stream_fn take (question, settings, *, store,
    llm, history) like qa.pipeline.ask/ask_stream (both None: those two); store_fn builds the store on first use."""

    def __init__(self, ask_fn=None, stream_fn=None, store_fn=None, settings: Settings | None = None, *,
                 upload_dir: str | Path | None = None, max_upload_bytes: int = DEFAULT_MAX_BYTES):
        self.settings = settings or Settings.from_env()
        if ask_fn is None and stream_fn is None:
            from qa import pipeline

            ask_fn, stream_fn = pipeline.ask, pipeline.ask_stream
        self.ask_fn, self.stream_fn = ask_fn, stream_fn
        self.get_store = _Lazy(store_fn or self._default_store)
        self.upload_dir = Path(upload_dir or os.environ.get("QA_UPLOAD_DIR")
                               or Path(self.settings.corpus_dir) / "uploads")
        self.max_upload_bytes = max_upload_bytes
        self.corpus_lock = threading.Lock()  # one corpus change at a time; searches keep running on the old index

    def _default_store(self):
        from qa.pipeline import get_store

        return get_store(self.settings)

    # -- the answer path, shared by the chat, the /ask endpoint and the OpenAI-compatible API ---------------------
    def _call_kwargs(self, model, history) -> dict:
        return {"store": self.get_store(), "llm": llm_spec(model, self.settings),
                "history": clean_history(history) or None}

    def run_ask(self, question, model, passages, history) -> Answer:
        """One final Answer (raises QAError for the user's mistakes)."""
        s = request_settings(self.settings, passages)
        if self.ask_fn is not None:
            return as_answer(self.ask_fn(question, s, **self._call_kwargs(model, history)))
        final = None
        for piece in self.stream_fn(question, s, **self._call_kwargs(model, history)):
            if not isinstance(piece, str):
                final = piece
        return as_answer(final)

    def run_stream(self, question, model, passages, history) -> Iterator:
        """The answer as it is made: Evidence, text pieces, then the Answer (only the Answer without stream_fn)."""
        s = request_settings(self.settings, passages)
        if self.stream_fn is None:
            yield as_answer(self.ask_fn(question, s, **self._call_kwargs(model, history)))
            return
        yield from self.stream_fn(question, s, **self._call_kwargs(model, history))

    # -- API endpoints ------------------------------------------------------------------------------------------
    def ask(self, question: str, model: str = "auto", passages: int = 0, history: list[dict] | None = None) -> dict:
        """Answer a question from the corpus; returns Answer.to_dict() (text, citations with offsets, ...)."""
        try:
            return self.run_ask(question, model, passages, history).to_dict()
        except QAError as exc:
            raise user_error(str(exc)) from None
        except Exception:
            log.exception("ask failed")
            raise user_error(GENERIC_ERROR) from None

    def documents(self) -> list[dict]:
        """The documents in the corpus: doc_id, title, source, date, kind, characters."""
        return [{"doc_id": d.doc_id, "title": d.title, "source": d.source, "date": d.date, "kind": d.kind,
                 "chars": len(d.text)} for d in sorted(self.get_store().docs.values(), key=lambda d: d.doc_id)]

    def remove(self, doc_id: str) -> dict:
        """Take one document out of the corpus (its file is moved aside, not deleted)."""
        try:
            return self._remove(doc_id)
        except QAError as exc:
            raise user_error(str(exc)) from None

    def _remove(self, doc_id) -> dict:
        """remove() with every failure as a QAError that a person can read."""
        try:
            with self.corpus_lock:
                self.get_store().remove(str(doc_id))
            return {"removed": str(doc_id), "documents": len(self.get_store().docs)}
        except QAError:
            raise
        except Exception as exc:
            log.exception("remove failed")
            raise QAError(REMOVE_FAILED) from exc

    def upload(self, files) -> dict:
        """Save uploaded files into the upload folder and index them."""
        paths = [files] if isinstance(files, (str, Path)) else list(files or [])
        report = save_uploads([(p, Path(str(p)).name) for p in paths], self.upload_dir, self.max_upload_bytes)
        added, refused = [], [{"name": n, "reason": r} for n, r in report.refused]
        if report.saved:
            names = ", ".join(n for n, _ in report.saved)
            try:
                with self.corpus_lock:
                    added = self.get_store().add_files([p for _, p in report.saved])
            except QAError as exc:
                refused.append({"name": names, "reason": str(exc)})
            except Exception:
                log.exception("indexing uploads failed")
                refused.append({"name": names, "reason": INDEX_FAILED})
        return {"added": added, "refused": refused, "documents": len(self.get_store().docs)}

    # -- page events --------------------------------------------------------------------------------------------
    def chat_submit(self, question, chat, history, model, passages) -> Iterator[tuple[list, list, str]]:
        """The Ask button: yields (chat, history, question box) as the answer streams in; errors are one line."""
        chat, history = list(chat or []), list(history or [])
        question = question if isinstance(question, str) else ""
        if not question.strip():
            yield chat, history, question
            return
        turn = 1 + sum(1 for m in chat if isinstance(m, dict) and m.get("role") == "assistant")
        chat.append({"role": "user", "content": render.render_question_html(shown_question(question))})
        chat.append(_assistant(render.render_streaming_html("…")))
        yield chat, history, ""
        try:
            answer = None
            for piece in self._stream_into(chat, question, model, passages, history):
                if piece is None:
                    yield chat, history, ""
                else:
                    answer = piece
            if answer is None:
                raise QAError("the answer did not arrive; please ask again")
            chat[-1] = _assistant(render.render_answer_html(answer, turn))
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        except QAError as exc:
            chat[-1] = _assistant(render.render_error_html(str(exc)))
        except Exception:
            log.exception("answering failed")
            chat[-1] = _assistant(render.render_error_html(GENERIC_ERROR))
        yield chat, history[-HISTORY_MESSAGES:], ""

    def _stream_into(self, chat, question, model, passages, history) -> Iterator[Answer | None]:
        """Shows the stream in chat[-1]: yields None when the chat changed, then the final Answer."""
        text, last, evidence = "", 0.0, None
        for piece in self.run_stream(question, model, passages, history):
            if isinstance(piece, Evidence):  # retrieval is done: show the evidence at once, then the text
                evidence = piece
            elif isinstance(piece, str):
                text += piece
                if time.monotonic() - last <= STREAM_UPDATE_S:
                    continue
            else:
                yield as_answer(piece)
                continue
            chat[-1] = _assistant(streaming_html(text, evidence))
            last = time.monotonic()
            yield None

    def open_source(self, req) -> str:
        """Server function for the viewer: the document with the quote at [start, end) highlighted."""
        try:
            doc_id, start, end = str(req["doc_id"]), req["start"], req["end"]
            if not (isinstance(start, int) and isinstance(end, int)):
                raise ValueError("offsets must be integers")
            return render.render_source_html(self.get_store().docs.get(doc_id), start, end)
        except Exception as exc:
            log.warning("open_source(%r) failed: %s", req, exc)
            return render.render_error_html(OPEN_FAILED)

    def docs_panel(self, message: str = "") -> tuple[str, str]:
        """(the message under the upload control, the corpus list with Remove buttons)."""
        try:
            listing = render.render_documents_html(self.get_store().docs.values())
        except QAError as exc:
            listing = render.render_error_html(str(exc))
        except Exception:
            log.exception("listing documents failed")
            listing = render.render_error_html(LIST_FAILED)
        return message, listing

    def after_upload(self, result) -> tuple[str, str, None]:
        """After /upload: its message, the new corpus list, and an emptied upload control."""
        return (*self.docs_panel(upload_message(result)), None)

    def remove_clicked(self, data) -> tuple[str, str]:
        """A Remove button in the corpus list (data is {"doc_id": ...} from qa/static/docs.js)."""
        doc_id = data.get("doc_id") if isinstance(data, dict) else None
        if not doc_id:
            return self.docs_panel()
        try:
            self._remove(doc_id)
            return self.docs_panel(f"<p>Removed {render.esc(doc_id)}.</p>")
        except QAError as exc:
            return self.docs_panel(render.render_error_html(str(exc)))

    @staticmethod
    def new_conversation() -> tuple[list, list, str]:
        """New conversation: an empty chat and history, and the viewer's hint."""
        return [], [], VIEWER_EMPTY
