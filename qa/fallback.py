"""The short extractive answer for when nothing a model wrote can be verified: the one or two evidence sentences
that answer the question, verbatim, never a list of loosely related quotes.

Candidates are the retrieved sentences and their neighbours (the sentence after "the resolution was adopted on 23
March" is the one that says "co-sponsored by 137 states"). Each is scored by how much of the question it covers
(its own words, helped by its neighbour's), by its retrieval score, and, when the question asks for a date, number,
amount, person, place or organisation, by whether it states one that the question does not already name
(``qa.candidates``). A second sentence joins only when it scores close to the first and adds what the first lacks:
question words it leaves out, or the other side on a question sources take sides on. Left out: deciding whether the
evidence is strong enough to answer at all (the pipeline's relevance gate decides before calling this).
"""

from __future__ import annotations

from collections.abc import Sequence
import re
from dataclasses import dataclass, replace
from typing import Any

from qa.text import content_terms, is_question, looks_like_instruction
from qa.types import Citation, Hit
from qa.verify import citation_at

# set on the dev split of eval/seed.jsonl
W_COVERAGE, W_RETRIEVAL, W_TYPED = 0.5, 0.3, 0.2
NEIGHBOUR_PRIOR = 0.9  # a neighbour of a hit starts from this share of the hit's retrieval score
UNTYPED = 0.7  # a question asking for a value or name: a sentence stating none is scaled by this
SECOND_RATIO = 0.85  # a second sentence must score this share of the first
_HOW_LONG = re.compile(r"\bhow long\b|\bsince (?:when|what)\b", re.I)
_SINCE = re.compile(r"\b(?:since|for|from|over|nearly|almost|about)\s+(?:the\s+)?(?:\w+\s+)?$", re.I)
_UNIT = re.compile(r"[\s-]*(?:years?|months?|weeks?|days?|decades?|centur(?:y|ies))\b", re.I)
TYPED_KINDS = ("date", "count", "amount", "percent", "person", "org", "place", "title")


@dataclass(frozen=True)
class Scored:
    """One candidate sentence with its score and the question terms it covers."""

    doc_id: str
    start: int
    end: int
    score: float
    covers: frozenset[str]
    retrieval: float
    typed: float | None = None  # typed_score: None when the question asks for no value or name


def _neighbours(hit: Hit, store: Any) -> list[tuple[int, int]]:
    from qa.generate import _hit_sentences

    spans = _hit_sentences(hit, store)
    i = next((j for j, (s, e) in enumerate(spans) if s < hit.end and e > hit.start), None)
    if i is None:
        return [(hit.start, hit.end)]
    return spans[max(0, i - 1):i + 2]


def typed_score(question: str, sentence: str, context: str = "") -> float | None:
    """How well the sentence states a value or name of the kind the question asks for, in [0, 1]; None when the
    question asks for no such kind (why, how, yes/no...)."""
    try:
        from qa.candidates import asked, sentence_candidates
    except ImportError:  # typing is a refinement: coverage alone still picks a sentence
        return None
    a = asked(question)
    if a.kind not in TYPED_KINDS:
        return None
    # a name the sentence writes as its initials ("NAM initiated two resolutions ...") is the question's name
    from qa.aliases import with_acronyms, with_initials

    sentence, context = (with_acronyms(with_initials(t, a.names), a.names) for t in (sentence, context))
    how_long = bool(_HOW_LONG.search(question))
    kinds = [a.kind] + (["date"] if how_long and a.kind != "date" else [])  # "since 1993" answers "how long"
    found = [(s, sp) for k in kinds for s, sp in sentence_candidates(replace(a, kind=k), sentence, context)]
    if how_long:  # a duration or a starting point, not any number ("one of the main components")
        found = [(s, sp) for s, sp in found if _SINCE.search(sentence[:_value_start(sp)]) or _UNIT.match(
            sentence[sp.end:])]
    return max((s for s, _ in found), default=0.0)


def _value_start(sp) -> int:
    """Where a span's value starts: the NER's date "since 1992" holds its "since" (a starting point for "how long")."""
    v = getattr(sp, "value", None)
    return v.start if v is not None and sp.start <= v.start < sp.end else sp.start


def score_candidates(question: str, hits: Sequence[Hit], store: Any) -> list[Scored]:
    """Every hit sentence and its neighbours, scored for how directly it answers the question, best first."""
    from qa.retrieve import list_items, question_shape, term_coverage, window

    docs = store.docs
    listing = question_shape(question).listing
    qterms = list(dict.fromkeys(content_terms(question)))
    prior: dict[tuple[str, int, int], float] = {}
    groups: list[tuple[str, list[tuple[int, int]]]] = []
    for h in hits:
        spans = _neighbours(h, store)
        groups.append((h.doc_id, spans))
        for sp in spans:
            key = (h.doc_id, *sp)
            own = h.score if sp[0] < h.end and sp[1] > h.start else NEIGHBOUR_PRIOR * h.score
            prior[key] = max(prior.get(key, 0.0), own)
    best: dict[tuple[str, int, int], Scored] = {}
    for doc_id, spans in groups:
        text = docs[doc_id].text
        sents = [text[s:e] for s, e in spans]
        # a question in the text ("Does this signify a political message from Baku ...?") restates the topic: it
        # lends its words to no neighbour, or the sentence before it would pass for the answer
        covs = [0.0 if is_question(t) else term_coverage(qterms, t) for t in sents]
        for i, (s, e) in enumerate(spans):
            sent = sents[i]
            if is_question(sent) or looks_like_instruction(sent):
                continue
            key = (doc_id, s, e)
            cov = window(covs, i)
            typed = typed_score(question, sent, sents[i - 1] if i else "")
            if listing and list_items(sent):  # a list question ("which resolutions ...") is answered by a list
                typed = 1.0
            score = W_COVERAGE * cov + W_RETRIEVAL * prior[key]
            if typed is not None:
                score = (score + W_TYPED * typed) * (1.0 if typed > 0 else UNTYPED)
            else:
                score += W_TYPED * cov
            covers = frozenset(t for t in qterms if t in set(content_terms(sent)))
            if key not in best or score > best[key].score:
                best[key] = Scored(doc_id, s, e, round(score, 4), covers, prior[key], typed)
    return sorted(best.values(), key=lambda c: (-c.score, -c.retrieval))


def pick_short(cands: Sequence[Scored], publisher: dict[str, str] | None = None, judgement: bool = False,
               ratio: float = SECOND_RATIO) -> list[Scored]:
    """The best candidate, and a second one that scores within ``ratio`` of it and adds question terms the first
    lacks, or another value of the asked kind, or, on a judgement question, another publisher's side (pure)."""
    if not cands:
        return []
    first = cands[0]
    pub = (publisher or {}).get
    for c in cands[1:]:
        if c.score < ratio * first.score:
            break
        other_side = judgement and pub(c.doc_id, c.doc_id) != pub(first.doc_id, first.doc_id)
        if other_side or c.covers - first.covers or (c.typed or 0) > 0:
            return [first, c]
    return [first]


def names_missing(question: str, chosen: Sequence[Scored], docs: dict) -> list[str]:
    """The names the question asks about that none of the chosen sentences mentions, nor their documents' titles
    and publishers, nor the text near them (the focus check's reading, qa.candidates.near_texts); [] without
    spaCy."""
    try:
        from qa.candidates import missing_names, near_texts
    except ImportError:  # without the name reader every choice stands
        return []
    return missing_names(question, near_texts(chosen, docs))


def on_focus(question: str, cands: Sequence[Scored], chosen: list[Scored], docs: dict, publisher: dict[str, str],
             judgement: bool) -> list[Scored]:
    """``chosen``, or, when it never mentions a name the question asks about and some candidate does, the short
    pick among the candidates that do: the focus check would refuse the first ("Is the ICRC neutral ...?" is not
    answered by "the UN adopted a number of resolutions on the Armenia-Azerbaijan conflict")."""
    if not chosen or not names_missing(question, chosen, docs):
        return chosen
    about = [c for c in cands if not names_missing(question, [c], docs)]
    return pick_short(about, publisher, judgement) if about else chosen


def short_extractive(question: str, hits: Sequence[Hit], store: Any) -> tuple[str, list[Citation]]:
    """(text with [n] markers, citations): the one or two sentences that best answer the question, verbatim."""
    from qa.disagree import asks_judgement

    docs = store.docs
    cands = score_candidates(question, hits, store)
    publisher = {c.doc_id: (getattr(docs[c.doc_id], "source", "") or c.doc_id) for c in cands}
    judgement = asks_judgement(question)
    chosen = on_focus(question, cands, pick_short(cands, publisher, judgement), docs, publisher, judgement)
    # in document order when both come from one document, so a sentence and its follow-on read as written
    if len(chosen) == 2 and chosen[0].doc_id == chosen[1].doc_id and chosen[1].start < chosen[0].start:
        chosen = [chosen[1], chosen[0]]
    citations = []
    for n, c in enumerate(chosen, 1):
        citations.append(citation_at(docs[c.doc_id], c.start, c.end, n=n, score=c.retrieval))
    text = " ".join(f"{' '.join(c.quote.split())} [{c.n}]" for c in citations)
    return text, citations
