"""The one interface every store implements, and `make_store()` that picks one from `Settings.store`.

Retrieval (`qa/retrieve.py`), disagreement pairing and generation talk to a store only through these methods and
the two read-only mappings `docs` (doc_id -> Document) and `chunks` (chunk_id -> Chunk). Two implementations:
`qa.store.Store` (embedded: FAISS + bm25s in index/, the default, no server) and `qa.store_milvus.MilvusStore`
(a Milvus server: dense vectors, BM25 full text and hybrid ranking in the engine). The contract tests in
tests/test_store_contract.py run against both. Left out: writes from several processes at once (one indexer at a
time, readers any number).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from qa.errors import QAError
from qa.settings import Settings
from qa.types import Chunk, Document


@dataclass(frozen=True)
class SentenceRow:
    """One evidence sentence: offsets into its document and the first chunk that holds it."""

    doc_id: str
    start: int
    end: int
    chunk_id: int


@runtime_checkable
class StoreAPI(Protocol):
    """What retrieval, answers and the page need from an index, whatever holds it."""

    settings: Settings
    embedder: object  # qa.embed.Embedder: questions are embedded by the same model as the chunks

    @property
    def docs(self) -> Mapping[str, Document]: ...  # doc_id -> Document (text, title, source, date...)

    @property
    def chunks(self) -> Sequence[Chunk]: ...  # chunks[chunk_id] -> Chunk; len() is the number of chunk ids

    # -- changes
    def add_documents(self, docs: Iterable[Document], progress=None) -> list[str]: ...  # chunk, embed, index
    def remove_documents(self, doc_ids: Iterable[str]) -> None: ...

    # -- search, best first, as (id, score)
    def search_dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]: ...  # chunk ids, cosine
    def search_sentences(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]: ...  # sentence rows, cosine
    def search_lexical(self, question: str, k: int) -> list[tuple[int, float]]: ...  # chunk ids, BM25

    # -- reading
    def text(self, doc_id: str, start: int, end: int) -> str: ...  # == docs[doc_id].text[start:end]
    def chunk_vector(self, chunk_id: int) -> np.ndarray: ...
    def sentence_rows(self, chunk_id: int) -> list[int]: ...  # rows of the sentences a chunk holds
    def sentence(self, row: int) -> SentenceRow: ...
    def sentence_vectors(self, rows: Sequence[int]) -> np.ndarray: ...  # (len(rows), dim)
    def sentence_vector(self, doc_id: str, start: int, end: int) -> np.ndarray | None: ...

    # -- term statistics (precomputed when indexing: never a scan of the index per question)
    def doc_freq(self, terms: Iterable[str]) -> dict[str, int]: ...  # chunks containing each term
    def has_term(self, term: str) -> bool: ...


STORES = ("embedded", "milvus://HOST:PORT")


def make_store(settings: Settings, embedder=None, progress=None, rebuild: bool = False,
               empty: bool = False) -> StoreAPI:
    """Open the store named by settings.store: 'embedded' (index/) or 'milvus://host:port[/prefix]'.

    The store follows settings.corpus_dir (only new or changed files are embedded); with empty=True it starts
    empty instead and is filled through add_documents() (the Ray indexer, the scale bench)."""
    spec = settings.store.strip()
    if spec in ("", "embedded", "faiss"):
        from qa.store import Store, open_store

        if empty:
            return Store.empty(settings, embedder)
        return open_store(settings, progress=progress, rebuild=rebuild, embedder=embedder)
    if spec.startswith(("milvus://", "http://", "https://")):
        from qa.store_milvus import open_milvus

        return open_milvus(settings, embedder=embedder, progress=progress, rebuild=rebuild, empty=empty)
    raise QAError(f"unknown store {spec!r}: use one of {', '.join(STORES)} (QA_STORE)")
