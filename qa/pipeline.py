"""ask(): question -> retrieve -> answer (model or extractive) -> finish (verify, disagree, abstain) -> Answer.

The steps, each a function over one ``_Run`` (the question, its parts, the notes and timings so far):
``_retrieve`` (a follow-up rewritten to stand alone, then the evidence hits), a relevance gate, ``_answer`` (the
model's verified answer, or quoted evidence: ``_model_answer`` / ``_extractive``), and ``_finish`` (citations checked
verbatim, disagreeing sources found, the answer checked to be about what was asked). Whether the answer abstains is
decided in one place, ``_settle``. Notes are typed (``qa.types.Note``): the pipeline decides on their kind, and
``Answer.notes`` carries their text.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.answer import disagreement_answer, extractive_answer
from qa.errors import BadQuestion, QAError
from qa.prompts import ABSTAIN_TEXT
from qa.retrieve import relevance, retrieve
from qa.settings import Settings
from qa.text import is_question
from qa.types import Answer, Citation, Disagreement, Evidence, Hit, Note, NoteKind
from qa.verify import citation_at, enforce, quote_is_valid

log = logging.getLogger(__name__)

# clean_question: text that is not a question in words (hand-set on the garbage inputs of tests/test_bad_inputs.py):
# fewer letters and digits than this share of its non-space characters, or a mean word this long in a text this long
MIN_LETTER_SHARE = 0.4
MAX_MEAN_WORD, LONG_TEXT = 25, 60
LIST_MISSING_MIN = 2  # a list sentence is quoted after a model's answer that leaves out this many of its items
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


@dataclass
class _Run:
    """One question on its way through the steps: what each step reads, and the notes and timings they add."""

    question: str  # as asked, cleaned
    settings: Settings
    store: Any
    on_token: Callable[[str], None] | None = None
    chat_model: Any = None  # None: extractive answers
    search_q: str = ""  # as searched: a follow-up rewritten to stand alone
    hits: list[Hit] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def note(self, kind: NoteKind, text: str) -> None:
        self.notes.append(Note(kind=kind, text=text))

    @contextmanager
    def timed(self, stage: str):
        t = time.perf_counter()
        yield
        self.timings[stage] = time.perf_counter() - t


@dataclass
class _Draft:
    """What the answer step hands to finish: text with [n] markers and its citations, not yet checked."""

    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    mode: str = "extractive"  # or the name of the model that wrote the text
    declined: bool = False  # the model found no supported answer and the evidence is weak: no guess is shown


def ask(question, settings: Settings | None = None, *, store=None, llm=None, history=None, k: int | None = None,
        on_token=None, on_evidence=None) -> Answer:
    """Answer a question from the corpus with verbatim, offset-checked citations: retrieve, answer, finish."""
    t0 = time.perf_counter()
    settings = settings or Settings.from_env()
    if isinstance(question, str):
        _check_length(question.strip(), settings)  # before cleaning: a 100 kB paste is "too long", not "garbage"
    run = _start(clean_question(question), settings, store, llm, on_token)
    _retrieve(run, history, k, on_evidence)
    relevant = relevance(run.hits, run.search_q, run.store) >= settings.min_relevance
    # too weak to answer from: finish abstains; "When was the interview published?" is answered by its date line
    draft = _dated(run) or (_answer(run) if relevant else None)
    text, citations, disagreements, abstained = _finish(run, draft)
    run.timings["total"] = time.perf_counter() - t0
    usage = {key: v for key, v in run.timings.items() if _COUNT.search(key)}  # counts are not seconds
    seconds = {key: round(v, 4) for key, v in run.timings.items() if key not in usage}
    return Answer(question=run.question, text=text, citations=tuple(citations), disagreements=tuple(disagreements),
                  abstained=abstained, mode=draft.mode if draft else "extractive",
                  notes=tuple(n.text for n in run.notes), timings=seconds, usage=usage)


def _dated(run: _Run) -> _Draft | None:
    """For a question asking a document's own date ("When was the Caliber.az interview published?"): the line
    of each named document that gives its date, quoted; None when the question asks something else or no document
    it names writes its date (the usual search then answers or abstains)."""
    from qa.ingest import date_line
    from qa.sources import asks_date_of

    named = asks_date_of(run.search_q, run.store.docs)
    if not named:
        return None
    citations = []
    for doc_id in sorted(named):
        doc = run.store.docs.get(doc_id)
        span = date_line(doc.text, doc.date) if doc is not None and doc.date else None
        if span is not None:
            citations.append(citation_at(doc, *span, n=len(citations) + 1))
    if not citations:
        return None
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    if run.on_token:
        run.on_token(text)
    return _Draft(text, citations)


def _start(q: str, settings: Settings, store, llm, on_token) -> _Run:
    """The parts a question needs: the store, and the chat model (one that cannot load is noted under auto)."""
    t = time.perf_counter()
    run = _Run(q, settings, store if store is not None else get_store(settings), on_token)
    try:
        run.chat_model = resolve_llm(llm, settings)
    except QAError as exc:
        if llm is not None and llm != "auto":
            raise
        run.note(NoteKind.MODEL_UNAVAILABLE, f"Answered from the documents directly: {exc}")
    run.timings["load"] = time.perf_counter() - t
    return run


def _retrieve(run: _Run, history, k: int | None, on_evidence) -> None:
    """Step 1: a follow-up rewritten to stand alone, then its evidence hits (handed at once to on_evidence)."""
    run.search_q = run.question
    if history:
        with run.timed("rewrite"):
            try:
                from qa.generate import rewrite_question

                run.search_q = rewrite_question(run.question, history, run.chat_model) or run.question
            except Exception as exc:  # a follow-up that cannot be rewritten is asked as it stands
                log.warning("question rewrite failed: %s", exc)
    with run.timed("retrieve"):
        if k is None and run.chat_model is not None and not _is_local(run.chat_model):
            k = max(run.settings.k_evidence, run.settings.hosted_max_passages)  # a hosted model reads more evidence
        run.hits = retrieve(run.search_q, run.store, run.settings, k=k, scope=_follow_up_scope(run))
    if on_evidence is not None:  # the page shows the evidence while the answer is written
        on_evidence(evidence_from_hits(run.hits, run.store.docs))


def _follow_up_scope(run: _Run):
    """A follow-up that names its own source ("And what does the government say?") is searched in that source
    alone, never in one the last question named and the rewrite carried over; None otherwise (the search question
    decides)."""
    if run.search_q == run.question:
        return None
    from qa.sources import Scope, scope_of

    docs = run.store.docs
    own = scope_of(run.question, docs)
    return Scope(docs=own.docs, query=scope_of(run.search_q, docs).query) if own.docs else None


def _answer(run: _Run) -> _Draft:
    """Step 2: the model's verified answer, or quoted evidence when there is no model or its answer cannot stand."""
    draft = _model_answer(run) if run.chat_model is not None else None
    draft = draft if draft is not None else _extractive(run)
    return draft if draft.declined else _with_named_sources(run, draft)


def _named_sources(question: str, docs) -> dict[str, set[str]]:
    """The publishers a question names as its sources, when it names two or more ("What do the MFA and the interview
    say about ...?"), each with its documents; {} otherwise."""
    from qa.retrieve import named_publishers
    from qa.sources import scope_of

    if not isinstance(docs, dict):
        return {}
    pubs = named_publishers(scope_of(question, docs).docs, docs)
    return pubs if len(pubs) > 1 else {}


def _with_named_sources(run: _Run, draft: _Draft) -> _Draft:
    """A question naming two or more sources gets each one's best evidence sentence, quoted after the answer, when
    the answer cites none of that source's documents (the interview outscored the ministry's pages for "What do the
    MFA and the interview say about UN aid?", and the focus check then refused the whole answer for want of the MFA)."""
    docs = run.store.docs
    pubs = _named_sources(run.question, docs)
    if not pubs or not draft.citations:
        return draft
    text, citations = draft.text, list(draft.citations)
    cited = {c.doc_id for c in citations}
    for ids in pubs.values():
        if cited & ids:
            continue
        h = next((h for h in run.hits if h.doc_id in ids and not is_question(h.text)), None)
        if h is None:
            continue
        cit = citation_at(docs[h.doc_id], h.start, h.end, n=max((c.n for c in citations), default=0) + 1,
                          score=h.score)
        citations.append(cit)
        text = f"{text} {' '.join(cit.quote.split())} [{cit.n}]"
    return replace(draft, text=text, citations=citations)


def _model_answer(run: _Run) -> _Draft | None:
    """The model's answer, or a declined draft on weak evidence; None when quoted evidence is shown instead (noted)."""
    from qa.generate import llm_answer

    with run.timed("generate"):
        gen = llm_answer(run.question, run.hits, run.store, run.chat_model, run.settings, on_token=run.on_token)
    run.timings.update({f"llm_{key}": v for key, v in (gen.timings or {}).items()})
    if gen.abstained and not gen.failed and run.settings.retry_declined and run.hits and (
            relevance(run.hits, run.search_q, run.store) >= run.settings.fallback_relevance):
        # the small model loses an answer among several passages ("Going forward, interaction with the UN will
        # primarily take place through their headquarters" was there): the best passage alone, once
        with run.timed("generate_retry"):
            again = llm_answer(run.question, run.hits[:1], run.store, run.chat_model, run.settings)
        # ... and stands if it is about what was asked; else the closest evidence is quoted as before
        docs = run.store.docs
        if not again.abstained and not again.failed and again.citations and not (
                _off_focus(run.question, again.citations, docs, run.store)
                or _no_value_asked(run.question, again.citations, docs, run.store)):
            gen = again
    unverified = gen.failed and bool(gen.raw.strip()) and bool(gen.dropped)
    # when the model gave no answer the pipeline's own note says what is shown instead
    superseded = {NoteKind.SHOWING_EXTRACTIVE, NoteKind.MODEL_ABSTAINED} if unverified or gen.abstained else set()
    run.notes.extend(n for n in gen.notes if n.kind not in superseded)
    # "Who says the closure is politically motivated?" asks which source holds a view: the sentence that states it,
    # quoted with its publisher, is the answer, though the small model declines to name who said it
    strong = (relevance(run.hits, run.search_q, run.store) >= run.settings.fallback_relevance
              or _who_says(run.search_q))
    # a small model declines a question in parts ("which agencies ..., and when did they arrive?") when one part is
    # unanswered: the sentences that answer the others are still shown, checked like any answer (focus, values)
    if (unverified or gen.abstained) and not strong and not _in_parts(run.search_q):
        return _Draft(mode=_model_name(run.chat_model), declined=True)
    if unverified:
        run.note(NoteKind.FALLBACK, "No sentence the model wrote could be verified; here is the best evidence, "
                                    "quoted directly.")
    elif gen.abstained:
        run.note(NoteKind.FALLBACK, "The model found no answer in the passages; here is the closest evidence, "
                                    "quoted directly.")
    elif gen.failed:
        run.note(NoteKind.FALLBACK, "The language model failed; this answer is the best evidence, quoted directly.")
    else:
        text, citations = _with_listed_items(run, gen.text, list(gen.citations))
        return _Draft(text, citations, _model_name(run.chat_model))
    return None


_WHO_SAYS_AT = re.compile(r"^\W*(?:who|which\s+(?:\w+\s+)?(?:sources?|documents?|pages?|publishers?|sites?|experts?|"
                          r"organi[sz]ations?|groups?))\s+(?:\w+ly\s+)?(?P<verb>[a-z]+)\b", re.I)


def _who_says(question: str) -> bool:
    """True for "Who says / noted / believes ...?", "Which source claims ...?": a verb of saying after who (pure)."""
    from qa.speakers import saying

    m = _WHO_SAYS_AT.search(question)
    if not m:
        return False
    verb = m.group("verb").lower()
    if verb.startswith(("wr", "author")) and not re.match(r"\s+that\b", question[m.end():]):
        return False  # "Who wrote the op-ed?" asks for its author; "Who wrote that ...?" who says it
    return saying(verb) or verb in _WHO_BASE


#: the plain forms that ask who says ("Which sources say ...?", "Who think ...?") beside the reporting forms
_WHO_BASE = frozenset({"say", "claim", "argue", "think", "believe", "describe", "state", "consider", "view", "insist",
                       "blame", "deny", "call", "note", "see", "suggest", "warn", "stress", "emphasise", "emphasize"})


def _with_listed_items(run: _Run, text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """On a question asking for a list, the model's answer and, quoted after it, a retrieved sentence that lists
    items when the answer leaves out most of them (qa.answer.items_missing): a small model names one organisation of
    the four a sentence lists. The sentence is the best hit, or stands right beside a better one ("the offices of
    major UN organisations" / "This action ... affects UNDP, UNHCR, UNICEF and ICMPD"), among the hits strong enough
    to be shown to the model; a list elsewhere is about something else more often than not."""
    from qa.answer import beside, items_missing
    from qa.retrieve import list_items, question_shape

    if not question_shape(run.search_q).listing or not run.hits:
        return text, citations
    top = max(h.score for h in run.hits)
    shown = sorted((h for h in run.hits if h.score >= run.settings.min_score_ratio * top), key=lambda h: -h.score)
    docs = run.store.docs

    for h in shown:
        if not list_items(h.text) or not (h is shown[0] or any(beside(h, o, docs) and o.score >= h.score
                                                                for o in shown)):
            continue
        if any(c.doc_id == h.doc_id and c.start < h.end and h.start < c.end for c in citations):
            break  # the model cites it
        missing, listed = items_missing(text, h.text)
        if missing >= LIST_MISSING_MIN and 2 * missing > listed and h.doc_id in docs:
            cit = citation_at(docs[h.doc_id], h.start, h.end, n=len(citations) + 1, score=h.score)
            return f"{text} {' '.join(cit.quote.split())} [{cit.n}]", [*citations, cit]
        break  # its items are told already
    return text, citations


def _in_parts(question: str) -> bool:
    """A question in several parts ("how long ... and what will it cost"), or about several names it joins ("How long
    had UNHCR and UNICEF been working ...?"): each part or name may be answered where the whole is not."""
    from qa.candidates import joined_names, question_names
    from qa.retrieve import split_parts

    return len(split_parts(question)) > 1 or bool(joined_names(question, question_names(question)))


def _extractive(run: _Run) -> _Draft:
    """Quoted evidence: after a model, the one or two sentences that answer (never a quote dump); else the best."""
    text, citations = "", []
    if run.chat_model is not None:
        from qa.fallback import short_extractive

        text, citations = short_extractive(run.search_q, run.hits, run.store)
    if not text:
        from qa.candidates import asked
        from qa.retrieve import question_shape

        text, citations = extractive_answer(run.hits, run.store.docs, question_shape(run.search_q).listing,
                                            who=asked(run.search_q).kind in ("person", "org"),
                                            question=run.search_q)
        text, citations = _with_typed_answer(run, text, citations)
    if run.on_token:
        run.on_token(text)
    return _Draft(text, list(citations))


#: an extractive quote states the kind asked at this typed score (qa.fallback.typed_score) or above; when none does,
#: the best sentence that does joins them. Set on the seed dev split: 0.45 and 0.5 fix the same two questions
#: (answer match 0.765 -> 0.824 there), 0.7 none; RAMDocs, ClapNQ and ConflictQA lose nothing at 0.5
TYPED_PLAIN = 0.5


def _with_typed_answer(run: _Run, text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Extractive quotes for a question asking a date, number, amount or name: when none of them states one of the
    kind asked (``TYPED_PLAIN``), the retrieved sentence, or a neighbour of one, that does joins them, scored as the
    model fallback scores them (qa.fallback): "How many vaccine-access resolutions did the NAM push through?" is
    answered by "NAM initiated two resolutions ...", which retrieval ranks below the resolutions' dates."""
    from qa.candidates import preceding
    from qa.fallback import score_candidates, typed_score

    if not citations:
        return text, citations
    docs = run.store.docs
    q = run.search_q
    for c in citations:  # the first quote that states the kind asked settles it
        typed = typed_score(q, c.quote, preceding(docs[c.doc_id].text, c.start))
        if typed is None or typed >= TYPED_PLAIN:  # None: the question asks for no value or name
            return text, citations
    best = next((c for c in score_candidates(q, run.hits, run.store) if (c.typed or 0.0) >= TYPED_PLAIN), None)
    if best is None or any(c.doc_id == best.doc_id and c.start < best.end and best.start < c.end for c in citations):
        return text, citations
    cit = citation_at(docs[best.doc_id], best.start, best.end, n=len(citations) + 1, score=best.retrieval)
    return f"{text} {' '.join(cit.quote.split())} [{cit.n}]", [*citations, cit]


def _finish(run: _Run, draft: _Draft | None) -> tuple[str, list[Citation], list[Disagreement], bool]:
    """Step 3: verify the citations, compare the sources, then settle the answer (and whether it abstains)."""
    if draft is None:  # the evidence is too weak to answer from, unless two versions of one text disagree on it
        planted, readings = _planted_conflict(run)
        if not planted:
            if run.on_token:
                run.on_token(ABSTAIN_TEXT)
            return _settle(run, "", [], [], stands=False)
        settled = _settle(run, "", [], planted, stands=False, readings=readings)
        if run.on_token:
            run.on_token(settled[0])
        return settled
    docs = run.store.docs
    with run.timed("verify"):
        text, citations, n_dropped = enforce(draft.text, draft.citations, docs)
        if n_dropped:
            run.note(NoteKind.CITATIONS_DROPPED, f"{n_dropped} citation(s) failed the verbatim check and were removed.")
    stands = not draft.declined and bool(citations)  # so far, the answer stands on its own
    # the evidence passed the relevance gate, so even when no single answer stands the sources may take sides
    with run.timed("disagree"):
        disagreements, readings = _disagreements(run)
    if readings is not None and stands:
        readings, disagreements = _cited_conflict(readings, disagreements, citations, docs)
    differ = readings is not None and readings.plural and (
        readings.distinct or any(d.kind == "factual" and d.sides for d in disagreements))
    if stands and not differ:
        off = (_off_focus(run.question, citations, docs, run.store)
               or _no_value_asked(run.question, citations, docs, run.store))
        if off:
            # the evidence is about something else: "When did Armenia join the UN?" is not answered by the UN's
            # founding date (checked on the question as asked: a follow-up rewritten with the last turn's names
            # must not need those names)
            run.note(NoteKind.OFF_FOCUS, f"The passages found do not mention {', '.join(off)}: the documents do not "
                                         "answer this.")
            stands, disagreements = False, []
    if stands:
        text = _attributed(run.question, text, citations, disagreements, docs)
        if run.chat_model is not None and not differ:  # the model may name one thing of a name several things share
            from qa.answer import other_things_line

            text, citations = other_things_line(text, citations, run.hits, docs, run.search_q)
        text, citations, _ = enforce(text, citations, docs)
    return _settle(run, text, citations, disagreements, stands=stands, readings=readings if differ else None)


def _settle(run: _Run, text: str, citations: list[Citation], disagreements: list[Disagreement], *, stands: bool,
            readings=None) -> tuple[str, list[Citation], list[Disagreement], bool]:
    """(text, citations, disagreements, abstained): whether the answer abstains is decided here and only here.

    An answer is given when it stands on its own (verified citations, about what was asked); when documents give
    different answers (``readings``), a line saying who says what leads it, and is the answer if nothing else stood;
    with no answer, sources that disagree on the point are quoted side by side. Otherwise the sources do not answer.
    """
    docs = run.store.docs
    if not stands:
        text, citations = "", []
    answered = stands
    if readings is not None:  # never one side of a factual conflict as plain fact
        text, citations, disagreements = _with_readings(text, citations, readings, disagreements, docs)
        text, citations, _ = enforce(text, citations, docs)
        answered = stands or bool(citations)
    if not answered and disagreements:
        text, citations = disagreement_answer(disagreements)
        text, citations, _ = enforce(text, citations, docs)
        answered = bool(citations)
        if answered:
            run.note(NoteKind.SIDES_QUOTED, "No single answer is supported: the sources disagree, and each side is "
                                            "quoted.")
    if not answered:
        return ABSTAIN_TEXT, [], [], True
    return text, citations, disagreements, False


def _planted_conflict(run: _Run):
    """On evidence too weak to answer from: the factual disagreement, and the readings, when two versions of one
    text (a near-copy or a rewrite of a page) give different answers to the question; ([], None) otherwise. Two
    versions of one page that differ on what is asked speak to it however loosely retrieval matched the question
    ("UPRA" for a page about "UPR-Aguadilla (UPRAG)")."""
    with run.timed("disagree"):
        disagreements, readings = _disagreements(run, judged=False)  # an abstention costs no model calls
    if readings is None or not readings.conflict or not all(any(c.aligned for c in g.candidates)
                                                             for g in readings.groups):
        return [], None
    kept = [d for d in disagreements if d.kind == "factual" and d.sides]
    return (kept, readings) if kept else ([], None)


def _claims_valid(d: Disagreement, docs) -> bool:
    """Every claim of the disagreement quotes its document verbatim at its offsets (the citation contract)."""
    return all(quote_is_valid(c.citation, docs) for c in d.claims)


def _cited_conflict(readings, disagreements: list[Disagreement], citations, docs):
    """When the answer quotes different answers side by side, the factual disagreement that says so leads."""
    from qa.disagree import cited_conflict, factual_disagreement

    shown = cited_conflict(readings, citations, docs)
    fd = factual_disagreement(shown, docs) if shown is not None else None
    if fd is not None and _claims_valid(fd, docs):
        return shown, [fd] + [d for d in disagreements if d.kind not in ("factual", "outdated")]
    return readings, disagreements


def _disagreements(run: _Run, judged: bool = True):
    """Disagreements between two or more documents, every claim verbatim, and the answers each document gives;
    ([], None) when the check is unavailable or fails (noted: the answer stands without it). ``judged=False``: no
    model is asked about opinion pairs (only the documents' own answers are compared)."""
    try:
        from qa.disagree import analyse
    except ImportError:
        return [], None
    judge = run.chat_model if judged and (run.settings.local_judge or not _is_local(run.chat_model)) else None
    try:
        found, readings, more = analyse(run.question, run.hits, run.store, chat_model=judge, settings=run.settings)
        run.timings.update({k: v for k, v in more.items() if k != "disagree"})
    except Exception as exc:  # the answer stands without the disagreement check
        log.warning("disagreement check failed: %s", exc)
        run.note(NoteKind.DISAGREE_FAILED, "The check for disagreeing sources failed; sources may still disagree.")
        return [], None
    docs = run.store.docs
    return [d for d in found if _claims_valid(d, docs) and len({c.citation.doc_id for c in d.claims}) >= 2], readings


#: a question comparing two quantities ("how much more ... than", "how much ... compared with ..."), answered by a
#: ratio or a share as well as by an amount
_COMPARED = re.compile(r"\bhow (?:much|many) (?:more|less|fewer|bigger|larger|greater|higher|lower|smaller)\b"
                       r"|\bhow (?:much|many)\b.*\b(?:compared (?:with|to)|in comparison (?:with|to)|relative to)\b",
                       re.I)


def _no_value_asked(question: str, citations, docs, store=None) -> list[str]:
    """For a question asking for a date, number, amount or share: ["a date"...] when no sentence the answer cites
    (read with the sentence before it) states one about the question's subject; [] otherwise. A name counts in either
    form the corpus defines, and as its initials ("NAM" for "the Non-Aligned Movement")."""
    from qa.aliases import with_acronyms, with_both_forms, with_initials
    from qa.candidates import asked, preceding, states_value
    from qa.retrieve import corpus_aliases, split_parts

    a = asked(question)
    if a.kind not in ("date", "count", "amount", "percent") or a.plural:
        return []
    # each part of a question in several parts is asked on its own ("how long will it take ... and what will it
    # cost"): a part whose value the evidence states is answered
    kinds = []
    for part in dict.fromkeys([question, *split_parts(question)]):
        p = asked(part)
        if p.kind in ("date", "count", "amount", "percent") and not p.plural:
            kinds.append(p)
            if re.search(r"\bhow long\b", part, re.I):  # answered by a duration or by a start date ("since 1993")
                kinds.append(replace(p, kind="date"))
            if _COMPARED.search(part):  # "how much more aid ... than ...?" is answered by "5-10 times greater"
                kinds.append(replace(p, kind="ratio"))
    aliases = corpus_aliases(question, store) if store is not None else []

    def read(text: str) -> str:
        return with_acronyms(with_initials(with_both_forms(text, aliases), a.names), a.names)

    for c in citations:
        doc = docs.get(c.doc_id)
        if doc is not None and any(states_value(k, read(c.quote), read(preceding(doc.text, c.start))) for k in kinds):
            return []
    return [{"date": "a date", "count": "a number", "amount": "an amount", "percent": "a share"}[a.kind]
            + " for what the question asks"]


def _off_focus(question: str, citations, docs, store=None) -> list[str]:
    """Names the question asks about that no cited sentence, its neighbourhood or its document's title mentions,
    in the form asked or in another form the corpus defines ("the International Red Cross" for "the ICRC")."""
    from qa.aliases import states
    from qa.candidates import missing_names, near_texts
    from qa.retrieve import corpus_aliases
    from qa.text import content_terms

    # the publisher counts: "What does the MFA say about ...?" is answered by the ministry's own page
    texts = near_texts(citations, docs)
    missing = missing_names(question, texts)
    if not missing or store is None:
        return missing
    present = {t for text in texts for t in content_terms(text)}
    named = [a for a in corpus_aliases(question, store) if states(a, present)]
    return [m for m in missing if not any(set(content_terms(m)) & a.answers_for for a in named)]


#: parts of speech of a sentence's first word that make it an ordinary word, lower-case after "According to X,"
_ORDINARY_POS = frozenset({"ADP", "ADV", "DET", "CCONJ", "SCONJ", "PRON", "VERB", "AUX", "ADJ", "PART"})


def _attributed(question: str, text: str, citations, disagreements, docs=None) -> str:
    """Claims that another retrieved source disputes, or that judge, name who makes them; on a question sources take
    sides on, a side the answer leaves out is added in its own words (qa.answer.attribute, disagreement_answer)."""
    from qa.answer import attribute, speaker_named
    from qa.candidates import first_pos
    from qa.disagree import asks_judgement, tone

    disputed = {c.citation.doc_id for d in disagreements for c in d.claims}
    judgement = asks_judgement(question)
    # "Who says ...?" is answered by who says it, "What do the MFA and the interview say?" by each: every sentence
    # names its publisher
    # ... and so does "What did Musabayov say about ...?" answered from his quoted words (Citation.speaker)
    speaker = _who_says(question) or bool(_named_sources(question, docs)) or any(
        speaker_named(c, question) for c in citations)

    def judges(sentence: str) -> bool:
        t = tone(sentence)
        return speaker or t.critical > 0 or (judgement and t.favourable + t.denial > 0)

    texts = [docs[c.doc_id].text for c in citations if docs and c.doc_id in docs]

    def common(word: str, sentence: str = "") -> bool:
        """An ordinary word, not a name: never capitalised inside a sentence of the cited documents (not "Bill"
        where "said Bill Gates" occurs), and written lower-case there somewhere or, in its sentence, tagged as no
        noun by spaCy ("Along" a preposition, "Guided" a verb)."""
        inner_cap = re.compile(rf"(?<=[a-z,;:] ){re.escape(word.capitalize())}\b")
        if any(inner_cap.search(t) for t in texts):
            return False
        low = re.compile(rf"\b{re.escape(word)}\b")
        return any(low.search(t) for t in texts) or first_pos(sentence) in _ORDINARY_POS

    text = attribute(text, citations, disputed, judges, common)
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
    is about), then only those sentences of the answer that state none of the contested values, each that gives
    another answer still written with who says it."""
    from qa.answer import answer_sentences, attribute, distinct_line, factual_line, without_values
    from qa.candidates import TYPED, same_answer, sentence_candidates, typed_spans
    from qa.disagree import MIN_CANDIDATE

    labels = [(c.text, c.value) for g in readings.groups for c in g.candidates]

    def states(sentence: str) -> bool:
        spans = typed_spans(sentence)
        return any(same_answer(sp.text, t, sp.value, v) for sp in spans for t, v in labels) or any(
            v is None and f" {' '.join(t.lower().split())} " in f" {' '.join(sentence.lower().split())} "
            for t, v in labels)

    factual = next((d for d in disagreements if d.kind == "factual" and d.sides), None)
    rest = without_values(text, states) if text else ""
    if factual is not None and rest:  # a sentence that gives yet another value of the kind asked is one more side
        rest, more = _third_values(rest, citations, readings.asked, factual, docs)
        if more is not factual:
            disagreements = [more if d is factual else d for d in disagreements]
            factual = more

    def answers(sentence: str) -> bool:  # another answer to the question, which no side holds
        found = sentence_candidates(readings.asked, sentence) if readings.asked.kind in TYPED else []
        return bool(found) and found[0][0] >= MIN_CANDIDATE

    # a sentence that gives yet another answer (no side holds it) names its source: never one more answer as fact.
    # Where no typed span can say whether a sentence answers ("What is the language of ...?"), every sentence from a
    # document that holds no side names its source ("The language ... is Marathi [4]" beside Hindi and Telugu)
    by_n = {c.n: c.doc_id for c in citations}
    side_docs = {c.doc_id for g in readings.groups for c in g.candidates}
    third = set()
    for _, body, marks in answer_sentences(rest):
        cited = {by_n[n] for n in marks if n in by_n}
        if answers(body) or (readings.asked.kind not in TYPED and not cited & side_docs):
            third |= cited
    if third:
        rest = attribute(rest, citations, third, lambda sentence: False)
    offset = max((c.n for c in citations), default=0)
    line, line_cits = (factual_line(factual, offset + 1) if factual is not None
                       else distinct_line(readings.groups, docs, offset + 1))
    return (line + (" " + rest if rest else "")).strip(), list(citations) + line_cits, list(disagreements)


def _third_values(rest: str, citations, a, factual: Disagreement, docs) -> tuple[str, Disagreement]:
    """Answer sentences that state a value of the kind asked (a date, count, amount or share) that conflicts with
    every side of a factual disagreement, taken out of ``rest`` and added to it as sides of their own, each from a
    document no side holds: "Aldworth was born on 12 December 1750" beside sides of 3 September 1717 and 3 July
    1750 is a third answer, not a fact (pure but for the cached NER). A number must also be the sentence's best
    answer to the question (``sentence_candidates``, at least MIN_CANDIDATE). On a question asking for a name
    (person, organisation, place, title), a sentence whose plain answer (a candidate of STRONG_CANDIDATE or more)
    is no side's is one more side: "the artist of "Out of the Box" is Taylor Swift [3]" beside Jade Valerie; the
    sentence stays too (``_with_readings`` has it name its source), since the name read from it may be a passing
    one ("reattributed to Stanzione by Mario Modestini"). ``factual`` itself when there is none."""
    from qa.answer import answer_sentences
    from qa.candidates import _VALUE_KINDS, TYPED, _fit, same_answer, sentence_candidates, typed_spans
    from qa.disagree import MIN_CANDIDATE, STRONG_CANDIDATE, _name
    from qa.types import Claim, Side
    from qa.values import compare, extract_values

    side_values = [v for side in factual.sides for v in extract_values(side.value)]
    named = a.kind in TYPED and a.kind not in _VALUE_KINDS
    if not named and (a.kind not in _VALUE_KINDS or not side_values):
        return rest, factual
    by_n = {c.n: c for c in citations}
    held = {d for side in factual.sides for d in side.doc_ids}
    kept, claims, sides = [], list(factual.claims), list(factual.sides)
    for piece, sentence, numbers in answer_sentences(rest):
        marks = [by_n[n] for n in numbers if n in by_n]
        cit = marks[0] if len(marks) == 1 else None
        if named:  # a name: the sentence's plain answer to the question (a strong candidate) that no side gives
            found = sentence_candidates(a, sentence)
            name = found[0][1] if found and found[0][0] >= STRONG_CANDIDATE else None
            if (name is None or cit is None or cit.doc_id in held or cit.doc_id not in docs
                    or any(same_answer(name.text, side.value) for side in sides)):
                kept.append(piece)
                continue
            held.add(cit.doc_id)
            claims.append(Claim(citation=cit, stance=name.text))
            sides.append(Side(value=name.text, doc_ids=(cit.doc_id,)))
            kept.append(piece)  # the sentence stays, said by its source: a name read from it may not be its answer
            continue
        values = {(sp.value.lo, sp.value.hi): sp for sp in typed_spans(sentence)
                  if sp.value is not None and _fit(sp, a.kind, a.focus) > 0}  # the NER's and the parser's alike
        third = [sp for sp in values.values() if all(compare(sp.value, v) == "conflict" for v in side_values)]
        if third and a.kind != "date":  # a date is read reliably; a number must be the sentence's answer to the
            found = sentence_candidates(a, sentence)  # question ("3 miles south of ..." is no population)
            if not found or found[0][0] < MIN_CANDIDATE or found[0][1].value is None or compare(
                    found[0][1].value, third[0].value) != "agree":
                third = []
        if len(third) != 1 or len(values) != 1 or cit is None or cit.doc_id in held or cit.doc_id not in docs:
            kept.append(piece)
            continue
        held.add(cit.doc_id)
        claims.append(Claim(citation=cit, stance=third[0].text))
        sides.append(Side(value=third[0].text, doc_ids=(cit.doc_id,)))
    if len(sides) == len(factual.sides):
        return rest, factual
    summary = factual.summary.rstrip(".") + "; " + "; ".join(
        f"{_name(docs[s.doc_ids[0]])} says “{s.value}”" for s in sides[len(factual.sides):]) + "."
    return " ".join(kept), factual.model_copy(update={"claims": tuple(claims), "sides": tuple(sides),
                                                      "summary": summary})


def evidence_from_hits(hits: list[Hit], docs: dict) -> Evidence:
    """The retrieved hits as quote cards numbered 1..n, best first; a hit whose text is not at its offsets is left out."""
    cards: list[Citation] = []
    for hit in hits:
        doc = docs.get(hit.doc_id)
        if doc is None or doc.text[hit.start:hit.end] != hit.text:
            continue  # the citation contract holds for evidence cards too
        cards.append(citation_at(doc, hit.start, hit.end, n=len(cards) + 1, score=hit.score))
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
