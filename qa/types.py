"""The data that flows through the pipeline, in order: Document -> Chunk -> Hit -> Citation -> Answer.

Every span carries character offsets into ``Document.text`` so any quote can be checked with
``doc.text[start:end] == quote``. Interfaces (the page, the CLI, eval) read these fields; nothing parses
rendered text back. Deliberately left out: behaviour. These are plain frozen data.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Span(_Frozen):
    """A half-open character range ``[start, end)`` into a document's text."""

    start: int = Field(description="first character, inclusive")
    end: int = Field(description="last character, exclusive")


class Document(_Frozen):
    """One source file as read, plus where its real content lies."""

    doc_id: str = Field(description="stable id: the file's path relative to the corpus, '/'-separated")
    path: str = Field(description="absolute path of the file when it was read")
    title: str = Field(description="title from the manifest, or the first content line, or the file name")
    source: str = Field(default="", description="publisher or site, from the manifest when known")
    date: str = Field(default="", description="publication date as ISO text, when known")
    kind: str = Field(default="", description="government / press / NGO / op-ed / other")
    text: str = Field(description="the text offsets point into (a .txt/.md file's UTF-8 text, verbatim)")
    sha256: str = Field(description="hash of the file's bytes; changes trigger re-embedding")
    content: tuple[Span, ...] = Field(description="spans of real content, with menus and boilerplate left out")


class Chunk(_Frozen):
    """A retrieval unit: a run of whole sentences of one document."""

    chunk_id: int = Field(description="row in the index")
    doc_id: str = Field(description="document it comes from")
    start: int = Field(description="offset of the first character in Document.text")
    end: int = Field(description="offset after the last character")
    text: str = Field(description="== Document.text[start:end]")
    sentences: tuple[Span, ...] = Field(description="the whole sentences inside, as document offsets")


class Hit(_Frozen):
    """One evidence sentence (or run of sentences) found for a question."""

    doc_id: str
    start: int
    end: int
    text: str = Field(description="== Document.text[start:end]")
    chunk_id: int = Field(description="the chunk the sentence sits in (its context passage)")
    score: float = Field(description="fused relevance, higher is better, roughly in [0, 1]")
    dense: float = Field(default=0.0, description="cosine similarity of sentence and question")
    lexical: float = Field(default=0.0, description="normalised BM25 score of the chunk")


class Citation(_Frozen):
    """A verbatim quote pinned to its document; numbered as the [n] markers in Answer.text."""

    n: int = Field(description="the number used in [n] markers")
    doc_id: str
    title: str
    source: str = ""
    date: str = ""
    quote: str = Field(description="== Document.text[start:end], always")
    start: int
    end: int
    score: float = Field(default=0.0, description="retrieval score of the quote")
    speaker: str = Field(default="", description="who the document quotes as saying it, when the quote lies in a "
                                                 "quotation whose speaker the text names (qa.speakers)")


class Claim(_Frozen):
    """One side of a disagreement: a cited quote and what it says on the point."""

    citation: Citation
    stance: str = Field(default="", description="short paraphrase of the position or value")


class Side(_Frozen):
    """One answer that some of the documents give, in a factual disagreement."""

    value: str = Field(description="the answer as one document words it (a name, date, amount...)")
    doc_ids: tuple[str, ...] = Field(description="the documents that give this answer")
    about: str = Field(default="", description="how these documents qualify the subject, when they do")


class Disagreement(_Frozen):
    """Two or more documents that contradict each other on the question."""

    summary: str = Field(description="one line: who says what")
    kind: Literal["factual", "opinion", "outdated", "other"] = "other"
    claims: tuple[Claim, ...] = Field(description="at least two, from different documents")
    sides: tuple[Side, ...] = Field(default=(), description="factual: each answer given, with its documents, "
                                                            "most documents first")


class NoteKind(str, Enum):
    """What a note on an answer is about: code decides on the kind, never on the wording."""

    MODEL_UNAVAILABLE = "model_unavailable"  # the model could not be loaded: answered from the documents directly
    MODEL_FAILED = "model_failed"  # the model raised, timed out or gave no text
    MODEL_ABSTAINED = "model_abstained"  # the model said the passages do not answer
    NO_EVIDENCE = "no_evidence"  # no passage could be shown to the model
    BAD_MARKERS = "bad_markers"  # [n] markers that point to no passage were dropped
    DROPPED_SENTENCES = "dropped_sentences"  # sentences the sources do not support were left out
    UNVERIFIED = "unverified"  # no sentence the model wrote could be verified
    VERDICT_ONLY = "verdict_only"  # a bare yes/no: what the cited passages say is shown instead
    SHOWING_EXTRACTIVE = "showing_extractive"  # the model's text cannot stand: the caller shows quoted evidence
    FALLBACK = "fallback"  # this answer is quoted evidence, in place of the model's
    CITATIONS_DROPPED = "citations_dropped"  # citations failed the verbatim check
    DISAGREE_FAILED = "disagree_failed"  # the disagreement check raised
    OFF_FOCUS = "off_focus"  # the evidence is about something else: abstained
    SIDES_QUOTED = "sides_quoted"  # no single answer; each side of a disagreement is quoted


class Note(_Frozen):
    """One user-facing note on an answer. ``Answer.notes`` carries the text (the wire format); the pipeline
    decides on the kind."""

    kind: NoteKind
    text: str = Field(description="the sentence shown to the user")

    def __str__(self) -> str:
        return self.text


class Answer(_Frozen):
    """What ask() returns."""

    question: str
    text: str = Field(description="the answer, with [n] markers that map to citations")
    citations: tuple[Citation, ...] = ()
    disagreements: tuple[Disagreement, ...] = ()
    abstained: bool = Field(default=False, description="True when the sources do not answer")
    mode: str = Field(default="extractive", description="extractive, or the llm that wrote the text")
    notes: tuple[str, ...] = Field(default=(), description="user-facing notes: fallbacks, dropped sentences (the "
                                                          "texts of the pipeline's typed Notes)")
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage")
    usage: dict[str, float] = Field(default_factory=dict,
                                    description="counts: prompt and output tokens, disagreement judge calls")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict with the same fields."""
        return self.model_dump(mode="json")


class Evidence(_Frozen):
    """The evidence an answer will draw on, known as soon as retrieval is done (ask_stream's first event)."""

    citations: tuple[Citation, ...] = Field(default=(), description="the retrieved evidence sentences as quote "
                                                                    "cards, best first, numbered 1..n in this order")
