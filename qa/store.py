"""The embedded store: documents, chunk and sentence vectors, FAISS and BM25 in index/, no server needed.

Layout: `index/CURRENT` names the live generation folder `index/gen-*`; a change writes a new generation and then
swaps CURRENT atomically (write + os.replace), so a build killed at any point leaves the previous index usable.
A generation holds immutable segments (qa/segments.py: documents, chunk/sentence tables, vectors), each written
once and hard-linked into later generations, plus what spans them: the FAISS index over chunk vectors, BM25
(bm25s) with a table of term document frequencies, and the list of removed documents. `manifest.json` records the
format version, the settings fingerprint (embedder, chunking), each document's content hash and a sha256 of every
file: a mismatch is rebuilt, never silently used.

At scale: vectors are memory-mapped; documents are chunked and embedded in batches (bounded memory, a progress
callback); a change embeds only new or changed documents and writes one new segment; removed documents are
tombstones until they are a quarter of the index (small indexes compact at once), and the FAISS index grows by
`add` instead of being rebuilt. Search is exact (flat inner product) up to `Settings.ann_threshold` chunks and HNSW
above it (bench/scale_bench.py measures recall@10 and latency of both). Left out: BM25 is re-indexed over all
live chunks on every change (bm25s cannot add), and segments are never merged except by compaction.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa import bm25
from qa import segments as seg
from qa.errors import CorpusError, StoreError
from qa.ingest import SUPPORTED, file_sha256, list_files, load_corpus
from qa.settings import INDEX_FORMAT, Settings
from qa.store_api import SentenceRow
from qa.text import content_terms
from qa.types import Document

log = logging.getLogger(__name__)

UPLOADS = "uploads"
REMOVED = ".removed"
COMPACT_SHARE = 0.25  # removed chunks above this share of a large index: rewrite the segments that hold them
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 80
EMPTY_TERM = "∅"  # BM25's one term of a chunk with none (qa.text.content_terms never makes it: not a word character)


class _Chunks(Sequence):
    """chunks[chunk_id] -> Chunk, built on demand from the segment tables; iteration yields live chunks only."""

    def __init__(self, store: "Store"):
        self._s = store

    def __len__(self) -> int:
        return self._s._n_chunks

    def __getitem__(self, cid):
        if isinstance(cid, slice):
            return [self[i] for i in range(*cid.indices(len(self)))]
        if cid < 0 or cid >= len(self):
            raise IndexError(cid)
        k, local = self._s._locate_chunk(cid)
        return self._s._segs[k].chunk(local, int(cid))

    def __iter__(self):
        for cid in np.flatnonzero(self._s._live):
            yield self[int(cid)]


class _Sentences(Sequence):
    """sentences[row] -> SentenceRow; iteration yields the sentences of live documents only."""

    def __init__(self, store: "Store"):
        self._s = store

    def __len__(self) -> int:
        return self._s._n_sents

    def __getitem__(self, row):
        return self._s.sentence(int(row))

    def __iter__(self):
        for k, b in enumerate(self._s._segs):
            for d, s, e, c in b.sentences.tolist():
                if (k, d) not in self._s._dead_docs:
                    yield SentenceRow(b.docs[d].doc_id, s, e, int(self._s._c0[k]) + c)


class Store:
    """An index: read-only search methods are thread-safe; changes build a new generation and swap it in."""

    def __init__(self, settings: Settings, embedder, segments: list[seg.Batch] | None = None,
                 dead: dict[int, set[int]] | None = None, index=None, bm25=None, bm25_ids=None, df=None,
                 skipped: list[tuple[str, str]] | None = None, gen_dir: Path | None = None,
                 names: list[str] | None = None):
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.RLock()
        # FAISS may not be searched while vectors are added: a change extends this store's in-memory index in place
        # (no second copy of every vector) and holds this lock while it adds; searches hold it while they search
        self._search_lock = threading.Lock()
        self._faiss_owned = False  # True once the index is this process's own (built or extended, not mapped)
        self._segs = segments or []
        self._names = names or [f"s{i}" for i in range(len(self._segs))]
        self._dead_docs = {(k, d) for k, ds in (dead or {}).items() for d in ds}
        self.faiss, self.bm25 = index, bm25
        self._bm25_ids = bm25_ids if bm25_ids is not None else np.zeros(0, "int64")
        self._df = df or {}
        self.skipped, self.gen_dir = skipped or [], gen_dir
        self.manifest_files: dict[str, str] = {}  # relative path -> sha256, reused for hard-linked segments
        self._index_tables()

    @classmethod
    def empty(cls, settings: Settings, embedder=None) -> "Store":
        """A store with nothing in it yet: add_documents() builds the first generation."""
        if embedder is None:
            from qa.embed import make_embedder

            embedder = make_embedder(settings.embedder, settings.embed_bf16)
        return cls(settings, embedder)

    def _index_tables(self) -> None:
        sizes = [len(b.chunks) for b in self._segs]
        ssizes = [len(b.sentences) for b in self._segs]
        self._c0 = np.concatenate([[0], np.cumsum(sizes)]).astype("int64")
        self._s0 = np.concatenate([[0], np.cumsum(ssizes)]).astype("int64")
        self._n_chunks, self._n_sents = int(self._c0[-1]), int(self._s0[-1])
        self._live = np.ones(self._n_chunks, bool)
        self.docs: dict[str, Document] = {}
        self._doc_loc: dict[str, tuple[int, int, int, int]] = {}  # doc_id -> segment, doc index, sentence rows
        for k, b in enumerate(self._segs):
            ranges = b.doc_sentence_ranges()
            dead = [d for kk, d in self._dead_docs if kk == k]
            if dead:
                self._live[self._c0[k] + np.flatnonzero(np.isin(b.chunks[:, 0], dead))] = False
            for d, doc in enumerate(b.docs):
                if (k, d) not in self._dead_docs:
                    self.docs[doc.doc_id] = doc
                    self._doc_loc[doc.doc_id] = (k, d, *ranges[d])
        self._n_live = int(self._live.sum())
        self.chunks = _Chunks(self)
        self.sentences = _Sentences(self)

    # -- reading ----------------------------------------------------------------------------------------------
    def _locate_chunk(self, cid: int) -> tuple[int, int]:
        k = int(np.searchsorted(self._c0, cid, "right")) - 1
        return k, int(cid - self._c0[k])

    def _locate_row(self, row: int) -> tuple[int, int]:
        k = int(np.searchsorted(self._s0, row, "right")) - 1
        return k, int(row - self._s0[k])

    def chunk_vector(self, chunk_id: int) -> np.ndarray:
        k, i = self._locate_chunk(chunk_id)
        return np.asarray(self._segs[k].chunk_vecs[i])

    def chunk_vectors(self, ids) -> np.ndarray:
        return np.vstack([self.chunk_vector(int(i)) for i in ids]) if len(ids) else np.zeros((0, self.embedder.dim), "float32")

    def sentence_rows(self, chunk_id: int) -> list[int]:
        """Row numbers of the sentences in a chunk (overlapping chunks share rows)."""
        if chunk_id < 0 or chunk_id >= self._n_chunks:
            return []
        k, i = self._locate_chunk(chunk_id)
        b = self._segs[k]
        return (b.rows[b.ptr[i]:b.ptr[i + 1]] + self._s0[k]).tolist()

    sentences_of = sentence_rows

    def sentence(self, row: int) -> SentenceRow:
        k, i = self._locate_row(row)
        b = self._segs[k]
        d, s, e, c = b.sentences[i].tolist()
        return SentenceRow(b.docs[d].doc_id, s, e, int(self._c0[k]) + c)

    def sentence_vectors(self, rows) -> np.ndarray:
        rows = list(rows)
        if not rows:
            return np.zeros((0, self.embedder.dim), "float32")
        k, _ = self._locate_row(rows[0])
        if self._s0[k] <= min(rows) and max(rows) < self._s0[k + 1]:  # the usual case: one chunk, one segment
            return np.asarray(self._segs[k].sent_vecs[np.asarray(rows) - self._s0[k]], "float32")
        return np.vstack([np.asarray(self._segs[kk].sent_vecs[i], "float32") for kk, i in map(self._locate_row, rows)])

    def sentence_vector(self, doc_id: str, start: int, end: int):
        """The stored vector of an indexed sentence, or None when the span is not one."""
        loc = self._doc_loc.get(doc_id)
        if loc is None:
            return None
        k, _, lo, hi = loc
        b = self._segs[k]
        hit = np.flatnonzero((b.sentences[lo:hi, 1] == start) & (b.sentences[lo:hi, 2] == end))
        return np.asarray(b.sent_vecs[lo + hit[0]], "float32") if len(hit) else None

    def text(self, doc_id: str, start: int, end: int) -> str:
        return self.docs[doc_id].text[start:end]

    def doc_freq(self, terms: Iterable[str]) -> dict[str, int]:
        """Number of live chunks holding each term, from the table saved with the index (no scan)."""
        return {t: self._df.get(t, 0) for t in terms}

    def has_term(self, term: str) -> bool:
        return term in self._df

    def live_mask(self) -> np.ndarray:
        return self._live

    # -- search -----------------------------------------------------------------------------------------------
    def search_dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Best chunks by cosine: exact below Settings.ann_threshold chunks, HNSW above (removed ones skipped)."""
        if not self._n_live or self.faiss is None:
            return []
        import faiss

        want = min(k, self._n_live)
        fetch = min(self.faiss.ntotal, want if self._n_live == self.faiss.ntotal else 2 * want)
        q = np.asarray(qvec, "float32").reshape(1, -1)
        while True:
            params = None
            if isinstance(self.faiss, faiss.IndexHNSW):
                params = faiss.SearchParametersHNSW(efSearch=max(int(self.settings.ann_ef_search), fetch))
            with self._search_lock:
                scores, ids = self.faiss.search(q, fetch, params=params)
            live = self._live  # vectors a change is adding have ids past it, and are not live yet
            out = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if 0 <= i < len(live) and live[i]]
            if len(out) >= want or fetch >= self.faiss.ntotal:
                return out[:want]
            fetch = min(self.faiss.ntotal, fetch * 4)

    def search_sentences(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Best sentences by cosine, exact, one segment at a time (not used per question by retrieve())."""
        q = np.asarray(qvec, "float32")
        best: list[tuple[float, int]] = []
        for kk, b in enumerate(self._segs):
            if not len(b.sentences):
                continue
            sims = np.asarray(b.sent_vecs) @ q
            dead = [d for k2, d in self._dead_docs if k2 == kk]
            if dead:
                sims[np.isin(b.sentences[:, 0], dead)] = -np.inf
            top = np.argpartition(-sims, min(k, len(sims) - 1))[:k]
            best += [(float(sims[i]), int(self._s0[kk] + i)) for i in top if np.isfinite(sims[i])]
        return [(r, s) for s, r in sorted(best, reverse=True)[:k]]

    def search_lexical(self, question: str, k: int) -> list[tuple[int, float]]:
        if self.bm25 is None or not self._n_live:
            return []
        terms = [t for t in content_terms(question) if t in self._df]
        if not terms:
            return []
        scores = self.bm25.get_scores(terms)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self._bm25_ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    # -- changes ----------------------------------------------------------------------------------------------
    def add_documents(self, docs: Iterable[Document], progress=None) -> list[str]:
        """Chunk, embed and index documents (a doc_id already indexed is replaced). Returns the doc_ids added.

        The embedded store follows its corpus folder: open_store() drops documents that have no file there. This
        is the door for programs (the Ray indexer, the scale bench) that index documents of their own."""
        docs = list(docs)
        with self._lock:
            replaced = [d.doc_id for d in docs if d.doc_id in self.docs]
            new = seg.batches(docs, self.embedder, self.settings.chunk_chars, self.settings.chunk_overlap_sentences,
                              _texts_progress(progress))
            self._swap(_commit(self.settings, self, new, replaced))
        return [d.doc_id for d in docs]

    def add_batches(self, batches: Iterable[seg.Batch], replaced: Iterable[str] = ()) -> None:
        """Index documents already chunked and embedded (by qa/index_ray.py, for instance)."""
        with self._lock:
            self._swap(_commit(self.settings, self, batches, list(replaced)))

    def remove_documents(self, doc_ids: Iterable[str]) -> None:
        """Take documents out of the index (their files are not touched)."""
        with self._lock:
            self._swap(_commit(self.settings, self, [], [d for d in doc_ids if d in self.docs]))

    def _swap(self, fresh: "Store") -> None:
        lock, search_lock = self._lock, self._search_lock
        self.__dict__.update(fresh.__dict__)
        self._lock, self._search_lock = lock, search_lock  # readers may hold them: they stay the store's
        self.chunks, self.sentences = _Chunks(self), _Sentences(self)

    def refresh(self, progress=None) -> "Store":
        """Re-read the corpus folder and embed only what changed; the live index is swapped atomically."""
        with self._lock:
            self._swap(_update(self.settings, self, progress))
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


def _texts_progress(progress):
    return (lambda n: progress(n, None)) if progress else None


# -- building ------------------------------------------------------------------------------------------------------
def _commit(settings: Settings, prev: Store, new: Iterable[seg.Batch], removed: list[str],
            skipped: list | None = None) -> Store:
    """Write a generation: the previous segments (hard-linked), removed documents as tombstones, new batches as
    new segments; FAISS grows by add() unless a compaction or an exact/approximate switch rebuilds it."""
    index_dir = Path(settings.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = index_dir / f".{name}.tmp"
    (tmp / "segments").mkdir(parents=True)
    old_segs, old_names = list(prev._segs), list(prev._names)
    dead: dict[int, set[int]] = {}
    for k, d in prev._dead_docs:
        dead.setdefault(k, set()).add(d)
    for doc_id in removed:
        k, d, _, _ = prev._doc_loc[doc_id]
        dead.setdefault(k, set()).add(d)
    n_dead = sum(int(np.isin(old_segs[k].chunks[:, 0], list(ds)).sum()) for k, ds in dead.items())
    n_old = sum(len(b.chunks) for b in old_segs)
    compact = bool(dead) and (n_old < settings.ann_threshold or n_dead > COMPACT_SHARE * n_old)
    segs, names, prev_files = [], [], prev.manifest_files
    files: dict[str, str] = {}
    index, in_place = None, False
    if not compact and prev.faiss is not None and prev._faiss_owned:
        index, in_place = prev.faiss, True  # extended where it is, under the search lock: no second copy
    elif not compact and prev.gen_dir is not None and (prev.gen_dir / "chunks.faiss").is_file():
        index = _read_index(prev.gen_dir / "chunks.faiss", mmap=False)  # a mapped index is read-only: copy it
    for k, (b, nm) in enumerate(zip(old_segs, old_names)):
        if compact and k in dead:
            keep = [d for d in range(len(b.docs)) if d not in dead[k]]
            if not keep:
                continue
            b = b.select(keep)
            nm = _seg_name(len(names))
            seg.write(b, tmp / "segments" / nm)
            b = seg.read(tmp / "segments" / nm)
        else:
            for f in seg.FILES + seg.TERM_FILES:  # immutable: a hard link costs no copy
                rel = f"segments/{nm}/{f}"
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                if f in seg.FILES or (prev.gen_dir / rel).is_file():
                    _link(prev.gen_dir / rel, tmp / rel)
            if not (tmp / f"segments/{nm}/{seg.TERM_FILES[0]}").is_file():  # an older segment: keep its terms now
                seg.write_terms(b, tmp / "segments" / nm)
                if rel in prev_files:
                    files[rel] = prev_files[rel]
        segs.append(b)
        names.append(nm)
    kept_dead = {} if compact else dead  # without compaction every old segment keeps its place
    n_before = sum(len(b.chunks) for b in segs)
    for b in new:
        if not len(b.docs):
            continue
        nm = _seg_name(len(names))
        seg.write(b, tmp / "segments" / nm)
        segs.append(seg.read(tmp / "segments" / nm))
        names.append(nm)
    store = Store(settings, prev.embedder, segs, kept_dead, names=names,
                  skipped=prev.skipped if skipped is None else skipped)
    kind = "flat" if store._n_chunks < settings.ann_threshold else "hnsw"
    if index is None or _kind(index) != kind or index.ntotal != n_before:
        index, n_before, in_place = _new_index(kind, _dim(segs, prev)), 0, False
    try:
        _add_vectors(index, segs, n_before, prev._search_lock if in_place else None)
        store.faiss, store._faiss_owned = index, True
        _save_shared(store, tmp, settings)
        return _finish(store, settings, tmp, name, files)
    except BaseException:
        if in_place and index.ntotal != n_before:  # the live index must not keep what this change added
            _restore_index(prev, n_before)
        raise


def _restore_index(prev: Store, n: int) -> None:
    """Take the vectors a failed change added off the live index: a flat index drops them; HNSW, whose graph the
    additions rewired, is read back from the live generation (or rebuilt from its segments)."""
    import faiss

    with prev._search_lock:
        if _kind(prev.faiss) == "flat":
            prev.faiss.remove_ids(faiss.IDSelectorRange(n, prev.faiss.ntotal))
            return
        path = prev.gen_dir / "chunks.faiss" if prev.gen_dir is not None else None
        if path is not None and path.is_file():
            prev.faiss = _read_index(path, mmap=False)
        else:
            prev.faiss = _new_index("hnsw", _dim(prev._segs, prev))
            _add_vectors(prev.faiss, prev._segs, 0)


def _seg_name(n: int) -> str:
    return f"seg-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**9}-{n}"


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system: copy
        shutil.copyfile(src, dst)


def _dim(segs, prev) -> int:
    for b in segs:
        if b.chunk_vecs.ndim == 2 and b.chunk_vecs.shape[1]:
            return int(b.chunk_vecs.shape[1])
    return int(prev.embedder.dim) if prev is not None and prev.embedder is not None else 384


def _kind(index) -> str:
    import faiss

    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def _new_index(kind: str, dim: int):
    import faiss

    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return index


def _add_vectors(index, segs, start: int, lock=None, block: int = 50_000) -> None:
    """Add chunk vectors from chunk id `start` on, a block at a time (the memory-mapped files are not loaded).

    With `lock` (an index being searched), each block of at most 2,000 is added holding it: searches wait for one
    block, not for the whole change."""
    from contextlib import nullcontext

    if lock is not None:
        block = min(block, 2_000)
    c0 = 0
    for b in segs:
        n = len(b.chunks)
        for lo in range(max(0, start - c0), n, block):
            vecs = np.ascontiguousarray(b.chunk_vecs[lo:lo + block], dtype="float32")
            with lock if lock is not None else nullcontext():
                index.add(vecs)
        c0 += n


def _read_index(path: Path, mmap: bool = True):
    import faiss

    if mmap:
        try:
            return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        except Exception:  # not every index type maps; read it
            pass
    return faiss.read_index(str(path))


def _save_shared(store: Store, tmp: Path, settings: Settings) -> None:
    """What spans the segments: FAISS, BM25 over the live chunks, term frequencies, removed documents."""
    import faiss

    faiss.write_index(store.faiss, str(tmp / "chunks.faiss"))
    vocab: dict[str, int] = {}
    live_terms = []  # per segment with live chunks: its terms, their global ids, which chunks are live
    ids = []
    for k, b in enumerate(store._segs):
        c0, n = int(store._c0[k]), len(b.chunks)
        live = np.asarray(store._live[c0:c0 + n], bool)
        if not n or not live.any():
            continue
        t = b.chunk_terms()  # kept with the segment: no chunk text is read again
        to_global = np.fromiter((vocab.setdefault(w, len(vocab)) for w in t.vocab), "int64", len(t.vocab))
        if (np.diff(t.ptr)[live] == 0).any():
            vocab.setdefault(EMPTY_TERM, len(vocab))  # BM25 needs a term in every chunk
        live_terms.append((t, to_global, live))
        ids.append(c0 + np.flatnonzero(live))
    store._bm25_ids = np.concatenate(ids).astype("int64") if ids else np.zeros(0, "int64")
    store.bm25, store._df = None, {}
    if ids:
        store.bm25 = bm25.index(lambda: _live_terms(live_terms, vocab), vocab)
        df = np.diff(store.bm25.scores["indptr"])  # a column's entries are the live chunks holding that term
        words = list(vocab)
        store._df = {words[i]: int(df[i]) for i in np.flatnonzero(df).tolist() if words[i] != EMPTY_TERM}
        store.bm25.save(str(tmp / "bm25"))
    np.save(tmp / "bm25_ids.npy", store._bm25_ids)
    (tmp / "df.json").write_text(json.dumps(store._df))
    (tmp / "removed.json").write_text(json.dumps(sorted([k, d] for k, d in store._dead_docs)))


def _live_terms(live_terms, vocab: dict[str, int]):
    """Each segment's live chunks' terms over the global vocabulary (qa.bm25.Part); an empty chunk gets EMPTY_TERM."""
    for t, to_global, live in live_terms:
        kept = t.select(live)
        g, lens = to_global[kept.ids], np.diff(kept.ptr)
        out_lens = np.maximum(lens, 1)
        ptr = np.concatenate([[0], np.cumsum(out_lens)]).astype("int64")
        if len(g) == ptr[-1]:
            yield g, ptr
            continue
        out = np.full(int(ptr[-1]), vocab[EMPTY_TERM], "int64")
        out[np.arange(len(g)) + np.repeat(ptr[:-1] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)] = g
        yield out, ptr


def _finish(store: Store, settings: Settings, tmp: Path, name: str, files: dict[str, str]) -> Store:
    for p in sorted(tmp.rglob("*")):
        rel = p.relative_to(tmp).as_posix()
        if p.is_file() and rel not in files:
            files[rel] = file_sha256(p)
    manifest = {
        "format": INDEX_FORMAT, "fingerprint": settings.fingerprint(), "embedder": settings.embedder,
        "chunking": {"chunk_chars": settings.chunk_chars, "overlap_sentences": settings.chunk_overlap_sentences},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "corpus_dir": str(settings.corpus_dir),
        "segments": [dict(name=nm, **seg.manifest_entry(b)) for nm, b in zip(store._names, store._segs)],
        "index": _kind(store.faiss) if store.faiss is not None else "flat",
        "documents": {d.doc_id: {"sha256": d.sha256, "title": d.title} for d in store.docs.values()},
        "skipped": [list(s) for s in store.skipped], "files": files,
    }
    with open(tmp / "manifest.json", "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    index_dir = Path(settings.index_dir)
    final = index_dir / name
    os.replace(tmp, final)
    ptr_tmp = index_dir / f".CURRENT.{os.getpid()}.tmp"
    ptr_tmp.write_text(name)
    os.replace(ptr_tmp, index_dir / "CURRENT")  # the atomic switch
    for old in index_dir.iterdir():  # older generations and debris of killed builds
        if old.name != name and (old.name.startswith("gen-") or old.name.startswith(".gen-")):
            shutil.rmtree(old, ignore_errors=True)
    store.gen_dir, store.manifest_files = final, files  # the mapped files moved with their folder: still valid
    return store


# -- loading -------------------------------------------------------------------------------------------------------
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


def load(settings: Settings, embedder=None) -> Store:
    """Load and verify the live index; StoreError when it is missing, damaged or built with other settings."""
    import bm25s

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
    files = manifest.get("files", {})
    for rel, digest in files.items():
        f = gen / rel
        if not f.is_file() or file_sha256(f) != digest:
            raise StoreError(f"index file {f} is missing or damaged (checksum mismatch): rebuild with `qa index`")
    try:
        names = [s["name"] for s in manifest["segments"]]
        segs = [seg.read(gen / "segments" / nm) for nm in names]
        dead: dict[int, set[int]] = {}
        for k, d in json.loads((gen / "removed.json").read_text()):
            dead.setdefault(k, set()).add(d)
        index = _read_index(gen / "chunks.faiss")
        bm25 = bm25s.BM25.load(str(gen / "bm25")) if (gen / "bm25").is_dir() else None
        bm25_ids = np.load(gen / "bm25_ids.npy")
        df = json.loads((gen / "df.json").read_text())
    except Exception as exc:
        raise StoreError(f"index in {gen} cannot be read ({type(exc).__name__}: {exc}): rebuild with `qa index`") from exc
    if embedder is None:
        from qa.embed import make_embedder

        embedder = make_embedder(settings.embedder, settings.embed_bf16)
    store = Store(settings, embedder, segs, dead, index, bm25, bm25_ids, df,
                  [tuple(s) for s in manifest.get("skipped", [])], gen, names)
    if index.ntotal != store._n_chunks or len(bm25_ids) != store._n_live:
        raise StoreError(f"index in {gen} is inconsistent: rebuild with `qa index`")
    store.manifest_files = files
    wanted = "flat" if store._n_chunks < settings.ann_threshold else "hnsw"
    if _kind(index) != wanted:  # the threshold changed since the build: rebuild the FAISS index in memory only
        store.faiss = _new_index(wanted, _dim(segs, store))
        _add_vectors(store.faiss, segs, 0)
        store._faiss_owned = True
    return store


def _update(settings: Settings, previous: Store | None, progress=None, embedder=None) -> Store:
    """Bring the index in line with the corpus folder, embedding only new or changed documents."""
    from qa.embed import make_embedder

    known = frozenset(previous.docs) if previous else frozenset()
    report = load_corpus(Path(settings.corpus_dir), known)  # fails fast, before a model is loaded
    embedder = embedder or (previous.embedder if previous else None) or make_embedder(settings.embedder, settings.embed_bf16)
    if previous is None:
        previous = Store(settings, embedder)
    previous.embedder = embedder
    current = {d.doc_id: d for d in report.documents}
    gone = [d for d, old in previous.docs.items() if d not in current or current[d].sha256 != old.sha256
            or current[d].text != old.text]
    new = [d for d in report.documents if d.doc_id not in previous.docs or d.doc_id in gone]
    total = sum(len(d.text) for d in new) or 1
    done = [0]

    def texts_progress(n, _total=None):
        done[0] += n
        if progress:  # an estimate in texts: about one chunk and four sentences per chunk_chars of text
            progress(n, max(done[0], int(total / max(1, settings.chunk_chars) * 5)))

    batches = seg.batches(new, embedder, settings.chunk_chars, settings.chunk_overlap_sentences,
                          texts_progress if progress else None)
    return _commit(settings, previous, batches, gone, report.skipped)


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


def open_store(settings: Settings | None = None, progress=None, rebuild: bool = False, embedder=None):
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

