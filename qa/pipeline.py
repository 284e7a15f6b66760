"""ask(): question -> retrieve -> answer (LLM or extractive) -> verify -> disagreements -> Answer.

`ask()` builds its defaults (settings from QA_* env, the store of corpus/, the model named by settings.llm) but
takes every part as an argument, so tests and the eval harness swap parts without monkeypatching. A model that
fails never fails the question: the answer falls back to extractive evidence with a note. Left out: rendering
(qa/render.py) and the page (app.py).
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from qa.answer import disagreement_answer, extractive_answer
from qa.errors import BadQuestion, QAError
from qa.retrieve import relevance, retrieve
from qa.settings import Settings
from qa.types import Answer, Hit
from qa.verify import enforce

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "The sources do not answer this question."
_COUNT = re.compile(r"(tokens|threads|calls)$")
_stores: dict[tuple, object] = {}
_stores_lock = threading.Lock()


def clean_question(question) -> str:
    """The question with control, zero-width and bidi characters removed; BadQuestion if nothing usable is left."""
    if not isinstance(question, str):
        raise BadQuestion(f"the question must be text, not {type(question).__name__}")
    kept = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in question)
    kept = re.sub(r"\s+", " ", kept).strip()
    if not kept:
        raise BadQuestion("the question is empty: type a question about the documents")
    letters = sum(ch.isalnum() for ch in kept)
    words = kept.split()
    mean_word = sum(map(len, words)) / len(words)
    if letters < 2 or letters < 0.4 * len(kept.replace(" ", "")) or (mean_word > 25 and len(kept) > 60):
        raise BadQuestion("the question does not look like text: type a question in words")
    return kept


def _check_length(question: str, settings: Settings) -> None:
    if len(question) > settings.max_question_chars:
        raise BadQuestion(f"the question is {len(question):,} characters long; the limit is "
                          f"{settings.max_question_chars:,}: ask a shorter question (quote less of the text)")


def get_store(settings: Settings, progress=None):
    """The process-wide store for these settings, built or updated on first use."""
    from qa.store import open_store

    key = (str(Path(settings.corpus_dir).resolve()), str(Path(settings.index_dir).resolve()), settings.fingerprint())
    with _stores_lock:
        if key not in _stores:
            _stores[key] = open_store(settings, progress=progress)
        return _stores[key]


def resolve_llm(llm, settings: Settings):
    """A langchain chat model, or None for extractive answers. Strings go through qa.llm.make_llm."""
    spec = settings.llm if llm is None else llm
    if spec is None or (isinstance(spec, str) and spec in ("none", "extractive", "")):
        return None
    if not isinstance(spec, str):
        return spec  # already a chat model
    try:
        from qa.llm import make_llm
    except ImportError:
        return None
    return make_llm(spec, settings)


def _is_local(chat_model) -> bool:
    try:
        from qa.llm import LocalLlamaChat
    except ImportError:
        return False
    return isinstance(chat_model, LocalLlamaChat)


def _model_name(chat_model) -> str:
    return getattr(chat_model, "qa_name", None) or getattr(chat_model, "model_name", None) or type(chat_model).__name__


def ask(question, settings: Settings | None = None, *, store=None, llm=None, history=None, k: int | None = None,
        on_token=None) -> Answer:
    """Answer a question from the corpus with verbatim, offset-checked citations."""
    t0 = time.perf_counter()
    settings = settings or Settings.from_env()
    timings: dict[str, float] = {}
    if isinstance(question, str):
        _check_length(question.strip(), settings)  # before cleaning: a 100 kB paste is "too long", not "garbage"
    q = clean_question(question)
    notes: list[str] = []

    t = time.perf_counter()
    store = store if store is not None else get_store(settings)
    chat_model = None
    try:
        chat_model = resolve_llm(llm, settings)
    except QAError as exc:
        if llm is not None and llm != "auto":
            raise
        notes.append(f"Answered from the documents directly: {exc}")
    timings["load"] = time.perf_counter() - t

    search_q = q
    if history:
        t = time.perf_counter()
        try:
            from qa.generate import rewrite_question

            search_q = rewrite_question(q, history, chat_model) or q
        except Exception as exc:  # a follow-up that cannot be rewritten is asked as it stands
            log.warning("question rewrite failed: %s", exc)
        timings["rewrite"] = time.perf_counter() - t

    t = time.perf_counter()
    hits = retrieve(search_q, store, settings, k=k)
    timings["retrieve"] = time.perf_counter() - t

    if relevance(hits, search_q, store) < settings.min_relevance:
        timings["total"] = time.perf_counter() - t0
        if on_token:
            on_token(ABSTAIN_TEXT)
        return Answer(question=q, text=ABSTAIN_TEXT, abstained=True, mode="extractive", notes=tuple(notes),
                      timings=timings)

    mode = "extractive"
    text, citations, abstained = "", [], False
    if chat_model is not None:
        t = time.perf_counter()
        from qa.generate import llm_answer

        gen = llm_answer(q, hits, store, chat_model, settings, on_token=on_token)
        timings["generate"] = time.perf_counter() - t
        timings.update({f"llm_{key}": v for key, v in (gen.timings or {}).items()})
        unverified = gen.failed and bool(gen.raw.strip()) and bool(gen.dropped)
        strong = relevance(hits, search_q, store) >= settings.fallback_relevance
        notes.extend(n for n in gen.notes if not ((unverified or gen.abstained) and (
            n.startswith("Showing the extractive") or n == ABSTAIN_TEXT)))
        if (unverified or gen.abstained) and not strong:
            # the model found no supported answer and the evidence is weak: do not guess
            abstained, text = True, ABSTAIN_TEXT
            mode = _model_name(chat_model)
        elif unverified:
            notes.append("No sentence the model wrote could be verified; here is the best evidence, quoted directly.")
        elif gen.abstained:
            notes.append("The model found no answer in the passages; here is the closest evidence, quoted directly.")
        elif gen.failed:
            notes.append("The language model failed; this answer is the best evidence, quoted directly.")
        else:
            mode = _model_name(chat_model)
            text, citations, abstained = gen.text, list(gen.citations), gen.abstained

    if not text and not abstained:
        text, citations = extractive_answer(hits, store.docs)
        if on_token and (chat_model is None or mode == "extractive"):
            on_token(text)

    t = time.perf_counter()
    text, citations, n_dropped = enforce(text, citations, store.docs)
    if n_dropped:
        notes.append(f"{n_dropped} citation(s) failed the verbatim check and were removed.")
    if not citations and not abstained:
        abstained, text = True, ABSTAIN_TEXT
    if abstained and not text:
        text = ABSTAIN_TEXT
    timings["verify"] = time.perf_counter() - t

    # the evidence passed the relevance gate, so even when no single answer stands the sources may take sides
    t = time.perf_counter()
    disagreements = _disagreements(q, hits, store, chat_model, settings, notes, timings)
    timings["disagree"] = time.perf_counter() - t
    if abstained and disagreements:
        # no supported answer, but sources that disagree on the point: saying who says what is the answer
        text, citations = disagreement_answer(disagreements)
        text, citations, _ = enforce(text, citations, store.docs)
        if citations:
            abstained = False
            notes.append("No single answer is supported: the sources disagree, and each side is quoted.")
        else:
            text, disagreements = ABSTAIN_TEXT, []

    timings["total"] = time.perf_counter() - t0
    usage = {k: v for k, v in timings.items() if _COUNT.search(k)}  # counts are not seconds
    seconds = {k: round(v, 4) for k, v in timings.items() if k not in usage}
    return Answer(question=q, text=text, citations=tuple(citations), disagreements=tuple(disagreements),
                  abstained=abstained, mode=mode, notes=tuple(notes), timings=seconds, usage=usage)


def _disagreements(q: str, hits: list[Hit], store, chat_model, settings: Settings, notes: list[str],
                   timings: dict[str, float]):
    try:
        from qa.disagree import find_disagreements
    except ImportError:
        return []
    judge = chat_model if (settings.local_judge or not _is_local(chat_model)) else None
    try:
        found, more = find_disagreements(q, hits, store, chat_model=judge, settings=settings)
        timings.update({k: v for k, v in more.items() if k != "disagree"})
    except Exception as exc:  # the answer stands without the disagreement check
        log.warning("disagreement check failed: %s", exc)
        notes.append("The check for disagreeing sources failed; sources may still disagree.")
        return []
    docs = store.docs
    valid = []
    for d in found:  # same contract as citations: every claim verbatim at its offsets
        if all(docs.get(c.citation.doc_id) and docs[c.citation.doc_id].text[c.citation.start:c.citation.end]
               == c.citation.quote for c in d.claims) and len({c.citation.doc_id for c in d.claims}) >= 2:
            valid.append(d)
    return valid


def ask_stream(question, settings: Settings | None = None, **kwargs) -> Iterator[str | Answer]:
    """Yield text pieces as the answer is written, then the final Answer. Errors are raised from the generator."""
    pieces: queue.Queue = queue.Queue()
    result: dict = {}

    def work():
        try:
            result["answer"] = ask(question, settings, on_token=pieces.put, **kwargs)
        except BaseException as exc:  # handed to the consumer thread
            result["error"] = exc
        finally:
            pieces.put(None)

    threading.Thread(target=work, daemon=True, name="qa-ask").start()
    while (piece := pieces.get()) is not None:
        yield piece
    if "error" in result:
        raise result["error"]
    yield result["answer"]


__all__ = ["ask", "ask_stream", "get_store", "clean_question", "ABSTAIN_TEXT"]
