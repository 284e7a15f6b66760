"""Hits -> an extractive answer: the best evidence sentences, verbatim, each followed by its [n] marker.

No model writes anything here, so every sentence of the answer is itself a quote (or, for a disagreement answer,
names each source and quotes its words). Left out: LLM answers
(qa/generate.py) and abstention decisions (the pipeline decides before calling this).
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.text import is_question, looks_like_instruction
from qa.types import Citation, Disagreement, Document, Hit

MAX_SENTENCES = 3
KEEP_RATIO = 0.85  # a sentence joins the answer if it scores within 15% of the best one


def citation_for(hit: Hit, n: int, doc: Document) -> Citation:
    """A Citation for a hit, with the document's metadata (quote taken from the document at the offsets)."""
    return Citation(n=n, doc_id=hit.doc_id, title=doc.title, source=doc.source, date=doc.date,
                    quote=doc.text[hit.start:hit.end], start=hit.start, end=hit.end, score=hit.score)


def pick(hits: list[Hit], max_sentences: int = MAX_SENTENCES, ratio: float = KEEP_RATIO) -> list[Hit]:
    """The hits the answer is made of: the best, then others close to it (pure)."""
    # a sentence that asks a question restates it rather than answering it
    # and a sentence that addresses the model ("ignore previous instructions") is no answer at all
    statements = [h for h in hits if not is_question(h.text)
                  and not looks_like_instruction(h.text)] or hits
    if not statements:
        return []
    top = statements[0].score
    return [h for h in statements[:max_sentences] if h.score >= ratio * top]


def extractive_answer(hits: list[Hit], docs: dict[str, Document]) -> tuple[str, list[Citation]]:
    """(text with [n] markers, citations) built from the chosen evidence sentences."""
    chosen = pick(hits)
    citations = [citation_for(h, i + 1, docs[h.doc_id]) for i, h in enumerate(chosen)]
    text = " ".join(f"{' '.join(c.quote.split())} [{c.n}]" for c in citations)
    return text, citations


def disagreement_answer(disagreements: Sequence[Disagreement]) -> tuple[str, list[Citation]]:
    """(text, citations) when no single answer stands but the sources take sides: who says what, in their words."""
    if not disagreements:
        return "", []
    parts, citations = [], []
    for i, claim in enumerate(disagreements[0].claims, 1):
        c = claim.citation.model_copy(update={"n": i})
        who = c.source or c.title or c.doc_id
        words = " ".join((claim.stance or c.quote).split())
        parts.append(f"{who} says “{words}” [{i}]")
        citations.append(c)
    return "The sources disagree: " + ", while ".join(parts) + ".", citations
