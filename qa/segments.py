"""Documents -> chunk and sentence tables with their vectors, in batches ("segments"), for any store.

A batch of documents is chunked (qa/chunk.py) into compact integer tables and embedded once; the embedded store
writes each batch to disk as an immutable segment (vectors memory-mapped on load), the Milvus store inserts it, and
the Ray path (qa/index_ray.py) builds the same batches on its workers. Left out: any notion of which documents are
live; stores keep that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.chunk import chunk_document, embed_text
from qa.text import content_terms
from qa.types import Chunk, Document, Span

#: documents are prepared (chunked + embedded) and written this many chunks at a time: memory stays bounded
BATCH_CHUNKS = 20_000
FILES = ("documents.jsonl", "chunks.npy", "sentences.npy", "chunk_rows.npy", "chunk_rows_ptr.npy",
         "chunk_vecs.npy", "sent_vecs.npy")
#: each chunk's lexical terms, written with the segment so that an index change never re-reads old chunks' text
#: (optional: a segment written before them gets them computed, and written, on its next change)
TERM_FILES = ("terms.npy", "terms_ptr.npy", "terms_vocab.json")


@dataclass
class Terms:
    """Each chunk's content terms (qa.text.content_terms of its text, in order, repeats kept: what BM25 counts),
    as CSR over a vocabulary local to the batch: chunk i's terms are vocab[ids[ptr[i]:ptr[i + 1]]]."""

    vocab: list[str]
    ids: np.ndarray  # int32
    ptr: np.ndarray  # int64, one more than the chunks

    def select(self, keep: np.ndarray) -> "Terms":
        """The terms of the chunks where `keep` (a boolean mask over chunks) is True."""
        lens = np.diff(self.ptr)
        token_chunk = np.repeat(np.arange(len(lens)), lens)
        ptr = np.concatenate([[0], np.cumsum(lens[keep])]).astype("int64")
        return Terms(self.vocab, self.ids[keep[token_chunk]], ptr)


@dataclass
class Batch:
    """Chunked and embedded documents. Row numbers are local to the batch."""

    docs: list[Document]
    chunks: np.ndarray  # (n, 3) int64: doc index, start, end
    sentences: np.ndarray  # (m, 4) int64: doc index, start, end, local chunk holding it first
    rows: np.ndarray  # CSR: sentence rows of chunk i are rows[ptr[i]:ptr[i + 1]]
    ptr: np.ndarray
    chunk_vecs: np.ndarray  # (n, dim) float32, unit length
    sent_vecs: np.ndarray  # (m, dim) float16 on disk (float32 in a fresh batch or an older segment), unit length
    terms: Terms | None = None  # computed on first use (chunk_terms), kept with the segment on disk

    def chunk_terms(self) -> Terms:
        """Every chunk's content terms (computed once per batch, then read from the segment)."""
        if self.terms is None:
            vocab: dict[str, int] = {}
            ids: list[int] = []
            ptr = [0]
            for i in range(len(self.chunks)):
                ids.extend(vocab.setdefault(t, len(vocab)) for t in content_terms(self.chunk_text(i)))
                ptr.append(len(ids))
            self.terms = Terms(list(vocab), np.asarray(ids, "int32"), np.asarray(ptr, "int64"))
        return self.terms

    def chunk(self, i: int, chunk_id: int) -> Chunk:
        d, s, e = (int(x) for x in self.chunks[i])
        doc = self.docs[d]
        spans = tuple(Span(start=int(a), end=int(b)) for a, b in self.sentences[self.rows[self.ptr[i]:self.ptr[i + 1]], 1:3])
        return Chunk(chunk_id=chunk_id, doc_id=doc.doc_id, start=s, end=e, text=doc.text[s:e], sentences=spans)

    def chunk_text(self, i: int) -> str:
        """What the embedder and BM25 see for chunk i (== chunk.embed_text)."""
        doc = self.docs[int(self.chunks[i, 0])]
        return " ".join(doc.text[a:b] for a, b in self.sentences[self.rows[self.ptr[i]:self.ptr[i + 1]], 1:3])

    def doc_sentence_ranges(self) -> list[tuple[int, int]]:
        """For each document, its [lo, hi) range of sentence rows (a document's rows are contiguous)."""
        out = [(0, 0)] * len(self.docs)
        if len(self.sentences):
            d = self.sentences[:, 0]
            lo = np.searchsorted(d, np.arange(len(self.docs)), "left")
            hi = np.searchsorted(d, np.arange(len(self.docs)), "right")
            out = list(zip(lo.tolist(), hi.tolist()))
        return out

    def select(self, keep_docs: list[int]) -> "Batch":
        """The batch restricted to some of its documents (vectors copied, never re-embedded)."""
        keep = np.zeros(len(self.docs), bool)
        keep[keep_docs] = True
        new_doc = np.cumsum(keep) - 1
        cmask = keep[self.chunks[:, 0]] if len(self.chunks) else np.zeros(0, bool)
        smask = keep[self.sentences[:, 0]] if len(self.sentences) else np.zeros(0, bool)
        cmap = np.cumsum(cmask) - 1
        smap = np.cumsum(smask) - 1
        chunks = self.chunks[cmask].copy()
        chunks[:, 0] = new_doc[chunks[:, 0]]
        sents = self.sentences[smask].copy()
        sents[:, 0] = new_doc[sents[:, 0]]
        sents[:, 3] = cmap[sents[:, 3]]
        ptr, rows = [0], []
        for i in np.flatnonzero(cmask):
            rows.extend(smap[self.rows[self.ptr[i]:self.ptr[i + 1]]].tolist())
            ptr.append(len(rows))
        return Batch([self.docs[i] for i in keep_docs], chunks, sents, np.asarray(rows, "int64"),
                     np.asarray(ptr, "int64"), np.asarray(self.chunk_vecs[cmask]), np.asarray(self.sent_vecs[smask]),
                     self.terms.select(cmask) if self.terms is not None else None)


def chunk_docs(docs: list[Document], chunk_chars: int, overlap: int):
    """Chunk tables and the texts to embed (chunk texts, then sentence texts), for a list of documents (pure)."""
    chunks, sents, rows, ptr = [], [], [], [0]
    ctexts, stexts = [], []
    for di, doc in enumerate(docs):
        row_of: dict[int, int] = {}
        for c in chunk_document(doc, chunk_chars, overlap):
            ci = len(chunks)
            chunks.append((di, c.start, c.end))
            ctexts.append(embed_text(c, doc))
            for s in c.sentences:
                if s.start not in row_of:
                    row_of[s.start] = len(sents)
                    sents.append((di, s.start, s.end, ci))
                    stexts.append(doc.text[s.start:s.end])
                rows.append(row_of[s.start])
            ptr.append(len(rows))
    return (np.asarray(chunks, "int64").reshape(-1, 3), np.asarray(sents, "int64").reshape(-1, 4),
            np.asarray(rows, "int64"), np.asarray(ptr, "int64"), ctexts, stexts)


def prepare(docs: list[Document], embedder, chunk_chars: int, overlap: int, progress=None) -> Batch:
    """Chunk and embed a list of documents: one embed call for chunk and sentence texts together."""
    chunks, sents, rows, ptr, ctexts, stexts = chunk_docs(docs, chunk_chars, overlap)
    # indexing: bfloat16 where the embedder has it (qa.embed.Embedder.embed_bulk; a bare object with embed() works)
    embed = getattr(embedder, "embed_bulk", embedder.embed)
    vecs = embed(ctexts + stexts, progress=progress) if ctexts else np.zeros((0, embedder.dim), "float32")
    vecs = np.asarray(vecs, "float32").reshape(len(ctexts) + len(stexts), -1)
    return Batch(list(docs), chunks, sents, rows, ptr, vecs[:len(ctexts)], vecs[len(ctexts):])


def batches(docs: Iterable[Document], embedder, chunk_chars: int, overlap: int, progress=None,
            batch_chunks: int = BATCH_CHUNKS) -> Iterator[Batch]:
    """Prepare documents in batches of about batch_chunks chunks (estimated from text length: ~chunk_chars each)."""
    todo: list[Document] = []
    size = 0
    for doc in docs:
        todo.append(doc)
        size += max(1, len(doc.text) // max(1, chunk_chars))
        if size >= batch_chunks:
            yield prepare(todo, embedder, chunk_chars, overlap, progress)
            todo, size = [], 0
    if todo:
        yield prepare(todo, embedder, chunk_chars, overlap, progress)


# -- on disk -----------------------------------------------------------------------------------------------------
def write(batch: Batch, folder: Path) -> None:
    folder.mkdir(parents=True)
    with open(folder / "documents.jsonl", "w", encoding="utf-8") as fh:
        for d in batch.docs:
            fh.write(d.model_dump_json() + "\n")
    np.save(folder / "chunks.npy", batch.chunks)
    np.save(folder / "sentences.npy", batch.sentences)
    np.save(folder / "chunk_rows.npy", batch.rows)
    np.save(folder / "chunk_rows_ptr.npy", batch.ptr)
    np.save(folder / "chunk_vecs.npy", np.ascontiguousarray(batch.chunk_vecs, "float32"))
    # sentence vectors are 4x the chunk vectors and only ever ranked: float16 halves their memory and disk (cosines
    # move by under 1e-3); a segment written before keeps its float32 file, read the same way
    np.save(folder / "sent_vecs.npy", np.ascontiguousarray(batch.sent_vecs, "float16"))
    write_terms(batch, folder)


def write_terms(batch: Batch, folder: Path) -> None:
    t = batch.chunk_terms()
    np.save(folder / "terms.npy", t.ids)
    np.save(folder / "terms_ptr.npy", t.ptr)
    (folder / "terms_vocab.json").write_text(json.dumps(t.vocab, ensure_ascii=False), encoding="utf-8")


def _read_terms(folder: Path, n_chunks: int) -> Terms | None:
    if not all((folder / f).is_file() for f in TERM_FILES):
        return None  # written before terms were kept: computed on first use
    t = Terms(json.loads((folder / "terms_vocab.json").read_text(encoding="utf-8")), np.load(folder / "terms.npy"),
              np.load(folder / "terms_ptr.npy"))
    if len(t.ptr) != n_chunks + 1 or (len(t.ptr) and t.ptr[-1] != len(t.ids)) or \
            (len(t.ids) and int(t.ids.max()) >= len(t.vocab)):
        raise ValueError(f"segment {folder.name}: its terms are inconsistent")
    return t


def read(folder: Path) -> Batch:
    """A segment as written; vectors memory-mapped, not read into memory."""
    with open(folder / "documents.jsonl", encoding="utf-8") as fh:
        docs = [Document.model_validate_json(line) for line in fh]
    b = Batch(docs, np.load(folder / "chunks.npy"), np.load(folder / "sentences.npy"), np.load(folder / "chunk_rows.npy"),
              np.load(folder / "chunk_rows_ptr.npy"), np.load(folder / "chunk_vecs.npy", mmap_mode="r"),
              np.load(folder / "sent_vecs.npy", mmap_mode="r"))
    n, m = len(b.chunks), len(b.sentences)
    if len(b.ptr) != n + 1 or len(b.chunk_vecs) != n or len(b.sent_vecs) != m or (m and b.sentences[:, 0].max() >= len(docs)):
        raise ValueError(f"segment {folder.name} is inconsistent")
    b.terms = _read_terms(folder, n)
    return b


def manifest_entry(batch: Batch) -> dict:
    return {"chunks": len(batch.chunks), "sentences": len(batch.sentences), "documents": len(batch.docs)}
