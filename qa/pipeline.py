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
from dataclasses import replace
from pathlib import Path

from qa.answer import disagreement_answer, extractive_answer
from qa.errors import BadQuestion, QAError
from qa.retrieve import relevance, retrieve
from qa.settings import Settings
from qa.types import Answer, Citation, Evidence, Hit
from qa.verify import enforce, quote_is_valid

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "The sources do not answer this question."
# clean_question: text that is not a question in words (hand-set on the garbage inputs of tests/test_bad_inputs.py):
# fewer letters and digits than this share of its non-space characters, or a mean word this long in a text this long
MIN_LETTER_SHARE = 0.4
MAX_MEAN_WORD, LONG_TEXT = 25, 60
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
    if (letters < 2 or letters < MIN_LETTER_SHARE * len(kept.replace(" ", ""))
            or (mean_word > MAX_MEAN_WORD and len(kept) > LONG_TEXT)):
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
        on_token=None, on_evidence=None) -> Answer:
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
    if k is None and chat_model is not None and not _is_local(chat_model):
        k = max(settings.k_evidence, settings.hosted_max_passages)  # a hosted model reads a wider evidence budget
    hits = retrieve(search_q, store, settings, k=k)
    timings["retrieve"] = time.perf_counter() - t
    if on_evidence is not None:  # the page shows the evidence while the answer is written
        on_evidence(evidence_from_hits(hits, store.docs))

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
        if chat_model is not None:
            # the model's answer could not stand: the one or two sentences that answer, never a quote dump
            from qa.fallback import short_extractive

            text, citations = short_extractive(search_q, hits, store)
        if not text:
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
    disagreements, readings = _disagreements(q, hits, store, chat_model, settings, notes, timings)
    timings["disagree"] = time.perf_counter() - t
    # documents giving different answers: the answer says so first and never states one side as plain fact
    if readings is not None and not abstained:
        from qa.disagree import cited_conflict, factual_disagreement

        shown = cited_conflict(readings, citations, store.docs)
        fd = factual_disagreement(shown, store.docs) if shown is not None else None
        if fd is not None and all(quote_is_valid(c.citation, store.docs) for c in fd.claims):
            # the answer quotes different answers side by side: say so instead of showing them in silence
            readings = shown
            disagreements = [fd] + [d for d in disagreements if d.kind not in ("factual", "outdated")]
    differ = readings is not None and readings.plural and (
        readings.distinct or any(d.kind == "factual" and d.sides for d in disagreements))
    if not abstained and citations and not differ:
        off = _off_focus(q, citations, store.docs) or _no_value_asked(q, hits, store.docs)
        if off:
            # the evidence is about something else: "When did Armenia join the UN?" is not answered by the UN's
            # founding date (checked on the question as asked: a follow-up rewritten with the last turn's names
            # must not need those names)
            notes.append(f"The passages found do not mention {', '.join(off)}: the documents do not answer this.")
            abstained, text, citations, disagreements = True, ABSTAIN_TEXT, [], []
    if not abstained and citations:
        text = _attributed(q, text, citations, disagreements)
        text, citations, _ = enforce(text, citations, store.docs)
    if differ:
        # documents giving different answers: the answer says so first and never states one side as plain fact
        text, citations = _with_readings(text if not abstained else "", citations, readings, disagreements,
                                         store.docs)
        text, citations, _ = enforce(text, citations, store.docs)
        if citations:
            abstained = False
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
        from qa.disagree import analyse
    except ImportError:
        return [], None
    judge = chat_model if (settings.local_judge or not _is_local(chat_model)) else None
    try:
        found, readings, more = analyse(q, hits, store, chat_model=judge, settings=settings)
        timings.update({k: v for k, v in more.items() if k != "disagree"})
    except Exception as exc:  # the answer stands without the disagreement check
        log.warning("disagreement check failed: %s", exc)
        notes.append("The check for disagreeing sources failed; sources may still disagree.")
        return [], None
    docs = store.docs
    valid = []
    for d in found:  # same contract as citations: every claim verbatim at its offsets
        if all(quote_is_valid(c.citation, docs) for c in d.claims) and len({c.citation.doc_id for c in d.claims}) >= 2:
            valid.append(d)
    return valid, readings


def _no_value_asked(question: str, hits, docs) -> list[str]:
    """For a question asking for a date, number, amount or share: ["a date"...] when no evidence sentence (read with
    the sentence before it) states one about the question's subject; [] otherwise."""
    from qa.candidates import asked, preceding, states_value

    a = asked(question)
    if a.kind not in ("date", "count", "amount", "percent") or a.plural:
        return []
    # "how long has X operated" is answered by a duration or by a start date ("since 1993")
    kinds = [a] + ([replace(a, kind="date")] if re.search(r"\bhow long\b", question, re.I) else [])
    for h in hits:
        doc = docs.get(h.doc_id)
        before = preceding(doc.text, h.start) if doc is not None else ""
        if doc is not None and any(states_value(k, h.text, before) for k in kinds):
            return []
    return [{"date": "a date", "count": "a number", "amount": "an amount", "percent": "a share"}[a.kind]
            + " for what the question asks"]


def _off_focus(question: str, citations, docs) -> list[str]:
    """Names the question asks about that no cited sentence, its neighbourhood or its document's title mentions."""
    from qa.candidates import missing_names

    texts = []
    for c in citations:
        doc = docs.get(c.doc_id)
        if doc is not None:
            texts += [doc.title, doc.text[max(0, c.start - 300):c.end + 300]]
    return missing_names(question, texts)


def _attributed(question: str, text: str, citations, disagreements) -> str:
    """Claims that another retrieved source disputes, or that judge, name who makes them; on a question sources take
    sides on, a side the answer leaves out is added in its own words (qa.answer.attribute, disagreement_answer)."""
    from qa.answer import attribute
    from qa.disagree import asks_judgement, tone

    disputed = {c.citation.doc_id for d in disagreements for c in d.claims}
    judgement = asks_judgement(question)

    def judges(sentence: str) -> bool:
        t = tone(sentence)
        return t.critical > 0 or (judgement and t.favourable + t.denial > 0)

    text = attribute(text, citations, disputed, judges)
    opinion = next((d for d in disagreements if d.kind == "opinion"), None)
    if opinion is not None and not text.startswith("The sources disagree"):
        cited_docs = {c.doc_id for c in citations if f"[{c.n}]" in text}
        if any(c.citation.doc_id not in cited_docs for c in opinion.claims):
            line, line_cits = disagreement_answer([opinion])
            offset = max((c.n for c in citations), default=0)
            line = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", line)
            citations.extend(c.model_copy(update={"n": c.n + offset}) for c in line_cits)
            text = f"{text} {line}"
    return text


def _with_readings(text: str, citations, readings, disagreements, docs):
    """The answer when documents give different answers: a line saying who says what (or which thing each answer
    is about), then only those sentences of the answer that state none of the contested values."""
    from qa.answer import distinct_line, factual_line, without_values
    from qa.candidates import same_answer, typed_spans

    labels = [(c.text, c.value) for g in readings.groups for c in g.candidates]

    def states(sentence: str) -> bool:
        spans = typed_spans(sentence)
        return any(same_answer(sp.text, t, sp.value, v) for sp in spans for t, v in labels) or any(
            v is None and f" {' '.join(t.lower().split())} " in f" {' '.join(sentence.lower().split())} "
            for t, v in labels)

    factual = next((d for d in disagreements if d.kind == "factual" and d.sides), None)
    rest = without_values(text, states) if text else ""
    offset = max((c.n for c in citations), default=0)
    line, line_cits = (factual_line(factual, offset + 1) if factual is not None
                       else distinct_line(readings.groups, docs, offset + 1))
    return (line + (" " + rest if rest else "")).strip(), list(citations) + line_cits


def evidence_from_hits(hits: list[Hit], docs: dict) -> Evidence:
    """The retrieved hits as quote cards numbered 1..n, best first; a hit whose text is not at its offsets is left out."""
    cards: list[Citation] = []
    for hit in hits:
        doc = docs.get(hit.doc_id)
        if doc is None or doc.text[hit.start:hit.end] != hit.text:
            continue  # the citation contract holds for evidence cards too
        cards.append(Citation(n=len(cards) + 1, doc_id=hit.doc_id, title=doc.title, source=doc.source, date=doc.date,
                              quote=hit.text, start=hit.start, end=hit.end, score=hit.score))
    return Evidence(citations=tuple(cards))


def ask_stream(question, settings: Settings | None = None, *, evidence: bool = True,
               **kwargs) -> Iterator[Evidence | str | Answer]:
    """Yield an Evidence event once retrieval is done, text pieces as the answer is written, then the final Answer.

    ``evidence=False`` leaves the Evidence event out, for consumers that only handle text and the Answer. Errors are
    raised from the generator."""
    pieces: queue.Queue = queue.Queue()
    result: dict = {}
    kwargs.pop("on_token", None)
    kwargs.pop("on_evidence", None)
    hooks = {"on_token": pieces.put, "on_evidence": pieces.put if evidence else None}

    def work():
        try:
            result["answer"] = ask(question, settings, **hooks, **kwargs)
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


__all__ = ["ask", "ask_stream", "evidence_from_hits", "get_store", "clean_question", "ABSTAIN_TEXT"]
