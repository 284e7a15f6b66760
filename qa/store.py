"""The saved index: documents, chunks, sentence and chunk vectors (FAISS) and a BM25 index, in index/.

Layout: `index/CURRENT` names the live generation folder `index/gen-*`; a build writes a new generation and then
swaps CURRENT atomically (write + os.replace), so a build killed at any point leaves the previous index usable.
Each generation has `manifest.json` with the format version, the settings fingerprint (embedder, chunking), each
document's content hash and a sha256 of every other file: a mismatch is rebuilt, never silently used. A changed
corpus re-embeds only the documents whose bytes changed. Left out: sharding and approximate FAISS indexes; flat
inner-product search is exact and fast up to ~10^5 chunks.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from contextlib import contextmanager
from collections import Counter
from pathlib import Path

import numpy as np

from qa.chunk import chunk_document, embed_text
from qa.errors import CorpusError, StoreError
from qa.ingest import SUPPORTED, file_sha256, list_files, load_corpus
from qa.settings import INDEX_FORMAT, Settings
from qa.store_api import SentenceRow
from qa.text import content_terms
from qa.types import Chunk, Document

log = logging.getLogger(__name__)

_FILES = ("documents.jsonl", "chunks.jsonl", "sentences.json", "chunk_vecs.npy", "sent_vecs.npy", "chunks.faiss")
UPLOADS = "uploads"
REMOVED = ".removed"


class Store:
    """An index loaded in memory. Search methods are read-only and thread-safe; refresh() swaps the contents."""

    def __init__(self, settings: Settings, embedder, docs: dict[str, Document], chunks: list[Chunk],
                 chunk_vecs: np.ndarray, sentences: list[SentenceRow], sent_vecs: np.ndarray, bm25,
                 skipped: list[tuple[str, str]] | None = None, gen_dir: Path | None = None):
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.RLock()
        self._set(docs, chunks, chunk_vecs, sentences, sent_vecs, bm25, skipped or [], gen_dir)

    def _set(self, docs, chunks, chunk_vecs, sentences, sent_vecs, bm25, skipped, gen_dir):
        import faiss

        index = faiss.IndexFlatIP(chunk_vecs.shape[1] if chunk_vecs.size else self.embedder.dim)
        if len(chunk_vecs):
            index.add(np.ascontiguousarray(chunk_vecs, dtype="float32"))
        self.docs, self.chunks, self.chunk_vecs = docs, chunks, chunk_vecs
        self.sentences, self.sent_vecs, self.bm25 = sentences, sent_vecs, bm25
        self.faiss, self.skipped, self.gen_dir = index, skipped, gen_dir
        self._sent_of_chunk = self._map_sentences()
        self._df = _doc_freq(self.docs, self.chunks)

    def _map_sentences(self) -> dict[int, list[int]]:
        # overlapping chunks share sentences: each chunk lists every sentence it holds
        pos = {(r.doc_id, r.start): i for i, r in enumerate(self.sentences)}
        self._row_of = {(r.doc_id, r.start, r.end): i for i, r in enumerate(self.sentences)}
        out: dict[int, list[int]] = {}
        for c in self.chunks:
            out[c.chunk_id] = [pos[(c.doc_id, s.start)] for s in c.sentences if (c.doc_id, s.start) in pos]
        return out

    # -- search ---------------------------------------------------------------------------------------------
    def sentence_rows(self, chunk_id: int) -> list[int]:
        """Row numbers (into self.sentences / self.sent_vecs) of the sentences in a chunk."""
        return self._sent_of_chunk.get(chunk_id, [])

    sentences_of = sentence_rows

    def sentence(self, row: int) -> SentenceRow:
        return self.sentences[row]

    def sentence_vectors(self, rows) -> np.ndarray:
        return self.sent_vecs[list(rows)].reshape(len(rows), -1)

    def chunk_vector(self, chunk_id: int) -> np.ndarray:
        return self.chunk_vecs[chunk_id]

    def text(self, doc_id: str, start: int, end: int) -> str:
        return self.docs[doc_id].text[start:end]

    def doc_freq(self, terms) -> dict[str, int]:
        """Number of chunks holding each term, from the table built with the index (no scan)."""
        return {t: self._df.get(t, 0) for t in terms}

    def has_term(self, term: str) -> bool:
        return term in self._df

    def search_sentences(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Exact cosine search over every sentence vector (not used per question by retrieve())."""
        if not len(self.sentences):
            return []
        sims = self.sent_vecs @ np.asarray(qvec, dtype="float32")
        top = np.argsort(-sims)[:k]
        return [(int(i), float(sims[i])) for i in top]

    def sentence_vector(self, doc_id: str, start: int, end: int):
        """The stored vector of an indexed sentence, or None when the span is not one."""
        row = self._row_of.get((doc_id, start, end))
        return None if row is None else self.sent_vecs[row]

    def search_dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.chunks:
            return []
        scores, ids = self.faiss.search(np.asarray(qvec, dtype="float32").reshape(1, -1), min(k, len(self.chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def search_lexical(self, question: str, k: int) -> list[tuple[int, float]]:
        if self.bm25 is None or not self.chunks:
            return []
        vocab = self.bm25.vocab_dict
        terms = [t for t in content_terms(question) if t in vocab]
        if not terms:
            return []
        scores = self.bm25.get_scores(terms)
        top = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    # -- changes --------------------------------------------------------------------------------------------
    def refresh(self, progress=None) -> "Store":
        """Re-read the corpus folder and re-embed only what changed; the live index is swapped atomically."""
        with self._lock:
            fresh = _update(self.settings, self, progress)
            self._set(fresh.docs, fresh.chunks, fresh.chunk_vecs, fresh.sentences, fresh.sent_vecs, fresh.bm25,
                      fresh.skipped, fresh.gen_dir)
            return self

    def add_files(self, paths, progress=None) -> list[str]:
        """Add files to the corpus (copied into corpus/uploads/ unless already inside the corpus) and index them.

        Returns the doc_ids added. A file that cannot be read raises CorpusError naming it; nothing else changes."""
        from qa.ingest import read_document

        corpus = Path(self.settings.corpus_dir).resolve()
        targets = []
        for p in map(Path, paths):
            if p.suffix.lower() not in SUPPORTED:
                raise CorpusError(f"{p.name}: unsupported type; use {', '.join(SUPPORTED)}")
            read_document(p, p.parent)  # raises a clear CorpusError before anything is copied
            rp = p.resolve()
            if corpus not in rp.parents:
                dest_dir = corpus / UPLOADS
                dest_dir.mkdir(parents=True, exist_ok=True)
                dest = dest_dir / p.name
                n = 1
                while dest.exists() and file_sha256(dest) != file_sha256(rp):
                    dest = dest_dir / f"{p.stem}-{n}{p.suffix}"
                    n += 1
                shutil.copyfile(rp, dest)
                rp = dest
            targets.append(rp.relative_to(corpus).as_posix())
        self.refresh(progress)
        return [t for t in targets if t in self.docs]

    def remove(self, doc_id: str) -> None:
        """Take a document out of the corpus. The file is moved to corpus/.removed/, never deleted."""
        with self._lock:
            if doc_id not in self.docs:
                raise CorpusError(f"no document {doc_id!r} in the corpus")
            corpus = Path(self.settings.corpus_dir).resolve()
            src = (corpus / doc_id).resolve()
            if corpus not in src.parents:
                raise CorpusError(f"{doc_id!r} is not inside the corpus folder")
            dest = corpus / REMOVED / f"{int(time.time())}-{src.name}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.exists():
                os.replace(src, dest)
            self.refresh()


# -- building and loading ---------------------------------------------------------------------------------------
@contextmanager
def _build_lock(index_dir: Path):
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released by the OS if the process dies
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _current(index_dir: Path) -> Path | None:
    ptr = index_dir / "CURRENT"
    if not ptr.is_file():
        return None
    name = ptr.read_text().strip()
    if not name or "/" in name or name.startswith("."):
        raise StoreError(f"{ptr} is damaged")
    return index_dir / name


def _doc_freq(docs, chunks) -> dict[str, int]:
    df: Counter[str] = Counter()
    for c in chunks:
        df.update(set(content_terms(embed_text(c, docs[c.doc_id]))))
    return dict(df)


def _make_bm25(texts: list[str]):
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([content_terms(t) or ["∅"] for t in texts], show_progress=False)
    return bm25


def load(settings: Settings, embedder=None) -> Store:
    """Load and verify the live index; StoreError when it is missing, damaged or built with other settings."""
    import bm25s
    import faiss

    index_dir = Path(settings.index_dir)
    gen = _current(index_dir)
    if gen is None or not (gen / "manifest.json").is_file():
        raise StoreError(f"no index in {index_dir}: run `qa index`")
    try:
        manifest = json.loads((gen / "manifest.json").read_text())
    except ValueError as exc:
        raise StoreError(f"{gen}/manifest.json is damaged") from exc
    if manifest.get("format") != INDEX_FORMAT:
        raise StoreError(f"index format {manifest.get('format')} is not {INDEX_FORMAT}: rebuild with `qa index`")
    if manifest.get("fingerprint") != settings.fingerprint():
        raise StoreError("index was built with other settings (embedder or chunking): rebuild with `qa index`")
    for rel, digest in manifest.get("files", {}).items():
        f = gen / rel
        if not f.is_file() or file_sha256(f) != digest:
            raise StoreError(f"index file {f} is missing or damaged (checksum mismatch): rebuild with `qa index`")
    try:
        docs = {}
        with open(gen / "documents.jsonl", encoding="utf-8") as fh:
            for line in fh:
                d = Document.model_validate_json(line)
                docs[d.doc_id] = d
        with open(gen / "chunks.jsonl", encoding="utf-8") as fh:
            chunks = [Chunk.model_validate_json(line) for line in fh]
        sentences = [SentenceRow(*r) for r in json.loads((gen / "sentences.json").read_text())]
        chunk_vecs = np.load(gen / "chunk_vecs.npy")
        sent_vecs = np.load(gen / "sent_vecs.npy")
        faiss.read_index(str(gen / "chunks.faiss"))  # proves the file parses; Store rebuilds the flat index
        bm25 = bm25s.BM25.load(str(gen / "bm25")) if chunks else None
    except Exception as exc:
        raise StoreError(f"index in {gen} cannot be read ({type(exc).__name__}: {exc}): rebuild with `qa index`") from exc
    if len(chunk_vecs) != len(chunks) or len(sent_vecs) != len(sentences):
        raise StoreError(f"index in {gen} is inconsistent: rebuild with `qa index`")
    if embedder is None:
        from qa.embed import make_embedder

        embedder = make_embedder(settings.embedder)
    return Store(settings, embedder, docs, chunks, chunk_vecs, sentences, sent_vecs, bm25,
                 [tuple(s) for s in manifest.get("skipped", [])], gen)


def _update(settings: Settings, previous: Store | None, progress=None, embedder=None) -> Store:
    """Build a new generation from the corpus, reusing vectors of unchanged documents from `previous`."""
    from qa.embed import make_embedder

    known = frozenset(previous.docs) if previous else frozenset()
    report = load_corpus(Path(settings.corpus_dir), known)  # fails fast, before a model is loaded
    embedder = embedder or (previous.embedder if previous else None) or make_embedder(settings.embedder)
    docs: dict[str, Document] = {}
    chunks: list[Chunk] = []
    chunk_vecs: list[np.ndarray] = []
    sentences: list[SentenceRow] = []
    sent_vecs: list[np.ndarray] = []
    todo: list[tuple[int, int, list[Chunk], list[SentenceRow], Document]] = []
    for doc in report.documents:
        docs[doc.doc_id] = doc
        old = previous.docs.get(doc.doc_id) if previous else None
        if old is not None and old.sha256 == doc.sha256 and old.text == doc.text:
            _reuse(previous, doc.doc_id, chunks, chunk_vecs, sentences, sent_vecs)
            continue
        new_chunks = chunk_document(doc, settings.chunk_chars, settings.chunk_overlap_sentences, first_id=len(chunks))
        rows, seen = [], set()
        for c in new_chunks:
            for s in c.sentences:
                if s.start not in seen:
                    seen.add(s.start)
                    rows.append(SentenceRow(doc.doc_id, s.start, s.end, c.chunk_id))
        todo.append((len(chunks), len(sentences), new_chunks, rows, doc))
        chunks.extend(new_chunks)
        chunk_vecs.append(np.zeros((len(new_chunks), embedder.dim), "float32"))
        sentences.extend(rows)
        sent_vecs.append(np.zeros((len(rows), embedder.dim), "float32"))
    cv = np.vstack(chunk_vecs) if chunk_vecs else np.zeros((0, embedder.dim), "float32")
    sv = np.vstack(sent_vecs) if sent_vecs else np.zeros((0, embedder.dim), "float32")
    texts, slots = [], []
    for c0, s0, new_chunks, rows, doc in todo:
        for i, c in enumerate(new_chunks):
            texts.append(embed_text(c, doc)), slots.append(("c", c0 + i))
        for i, r in enumerate(rows):
            texts.append(doc.text[r.start:r.end]), slots.append(("s", s0 + i))
    if texts:
        vecs = embedder.embed(texts, progress=(lambda n: progress(n, len(texts))) if progress else None)
        for (kind, row), v in zip(slots, vecs):
            (cv if kind == "c" else sv)[row] = v
    bm25 = _make_bm25([embed_text(c, docs[c.doc_id]) for c in chunks]) if chunks else None
    store = Store(settings, embedder, docs, chunks, cv, sentences, sv, bm25, report.skipped)
    store.gen_dir = _save(store, settings)
    return store


def _reuse(prev: Store, doc_id: str, chunks, chunk_vecs, sentences, sent_vecs) -> None:
    offset = len(chunks)
    ids = [c.chunk_id for c in prev.chunks if c.doc_id == doc_id]
    remap = {old: offset + i for i, old in enumerate(ids)}
    chunks.extend(prev.chunks[i].model_copy(update={"chunk_id": remap[i]}) for i in ids)
    chunk_vecs.append(prev.chunk_vecs[ids])
    rows = [i for i, r in enumerate(prev.sentences) if r.doc_id == doc_id]
    sentences.extend(SentenceRow(r.doc_id, r.start, r.end, remap[r.chunk_id]) for r in (prev.sentences[i] for i in rows))
    sent_vecs.append(prev.sent_vecs[rows].reshape(len(rows), -1))


def _save(store: Store, settings: Settings) -> Path:
    import faiss

    index_dir = Path(settings.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = index_dir / f".{name}.tmp"
    tmp.mkdir()
    with open(tmp / "documents.jsonl", "w", encoding="utf-8") as fh:
        for d in store.docs.values():
            fh.write(d.model_dump_json() + "\n")
    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for c in store.chunks:
            fh.write(c.model_dump_json() + "\n")
    (tmp / "sentences.json").write_text(json.dumps([[r.doc_id, r.start, r.end, r.chunk_id] for r in store.sentences]))
    np.save(tmp / "chunk_vecs.npy", store.chunk_vecs)
    np.save(tmp / "sent_vecs.npy", store.sent_vecs)
    faiss.write_index(store.faiss, str(tmp / "chunks.faiss"))
    if store.bm25 is not None:
        store.bm25.save(str(tmp / "bm25"))
    files = {p.relative_to(tmp).as_posix(): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = {
        "format": INDEX_FORMAT, "fingerprint": settings.fingerprint(), "embedder": settings.embedder,
        "chunking": {"chunk_chars": settings.chunk_chars, "overlap_sentences": settings.chunk_overlap_sentences},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "corpus_dir": str(settings.corpus_dir),
        "documents": {d.doc_id: {"sha256": d.sha256, "title": d.title} for d in store.docs.values()},
        "skipped": [list(s) for s in store.skipped], "files": files,
    }
    with open(tmp / "manifest.json", "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    final = index_dir / name
    os.replace(tmp, final)
    ptr_tmp = index_dir / f".CURRENT.{os.getpid()}.tmp"
    ptr_tmp.write_text(name)
    os.replace(ptr_tmp, index_dir / "CURRENT")  # the atomic switch
    for old in index_dir.iterdir():  # older generations and debris of killed builds
        if old.name != name and (old.name.startswith("gen-") or old.name.startswith(".gen-")):
            shutil.rmtree(old, ignore_errors=True)
    return final


def corpus_changed(store: Store) -> bool:
    """True when the corpus folder no longer matches what the index holds (cheap: sizes and mtimes first)."""
    try:
        files = list_files(Path(store.settings.corpus_dir))
    except CorpusError:
        return True
    corpus = Path(store.settings.corpus_dir).resolve()
    known = {Path(d.path).resolve(): d for d in store.docs.values()}
    skipped = {Path(p).resolve() for p, _ in store.skipped}
    current = {p.resolve() for p in files}
    if current != set(known) | (skipped & current):
        return True
    return any(file_sha256(p) != d.sha256 for p, d in known.items() if p in current and corpus in p.parents)


def open_store(settings: Settings | None = None, progress=None, rebuild: bool = False, embedder=None) -> Store:
    """Load the index of settings.corpus_dir, building or updating it first when needed."""
    settings = settings or Settings.from_env()
    if settings.store.strip() not in ("", "embedded", "faiss"):  # QA_STORE=milvus://...: same API, another engine
        from qa.store_api import make_store

        return make_store(settings, embedder=embedder, progress=progress, rebuild=rebuild)
    index_dir = Path(settings.index_dir)
    with _build_lock(index_dir):
        store = None
        if not rebuild:
            try:
                store = load(settings, embedder)
            except StoreError as exc:
                if _current(index_dir) is not None:
                    log.warning("%s; rebuilding it from %s", exc, settings.corpus_dir)
        if store is not None and not corpus_changed(store):
            return store
        return _update(settings, store, progress, embedder)
