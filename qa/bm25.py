"""BM25 scores of a whole index as bm25s's CSC matrix, built from per-segment term tables in bounded memory.

`bm25s.BM25.index` takes every chunk's terms as Python lists of ints: at a million chunks that is some 10^8 Python
ints (about 4 GB) before its own arrays are made. `build` computes the same matrix from the segments' CSR term
tables (`qa.segments.Terms`) with numpy, in two passes over the segments (document frequencies and lengths, then the
scores, written straight into place), so memory is the finished matrix plus one segment's arrays.

The numbers equal bm25s's for its default method (Lucene's idf and term-frequency saturation): every operation is the
one bm25s does, in the same order and precision (float64, rounded to float32 at the end), and the matrix is sorted
by (term, document) as bm25s sorts it. `tests/test_bm25.py` compares the two on random corpora.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

#: one segment's live chunks: (term ids over the global vocabulary, CSR pointer over those chunks); chunks in order
Part = tuple[np.ndarray, np.ndarray]


def sorted_unique(keys: np.ndarray, counts: bool = False):
    """np.unique by sorting (numpy 2's hash-based np.unique is several times slower on 10^6 int64 keys)."""
    k = np.sort(keys, kind="stable")
    first = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]])) if len(k) else np.zeros(0, "int64")
    if not counts:
        return k[first]
    return k[first], np.diff(np.append(first, len(k)))


def build(parts: Callable[[], Iterable[Part]], n_vocab: int, k1: float = 1.5, b: float = 0.75) -> dict:
    """bm25s's `scores` dict ({data, indices, indptr, num_docs}) for the chunks `parts()` yields, in order.

    `parts` is called twice (each pass reads the segments again, rather than holding every term in memory). Every
    chunk must have at least one term (bm25s gets a placeholder term for an empty chunk)."""
    df = np.zeros(n_vocab, "int64")
    lens_parts = []
    for ids, ptr in parts():  # pass 1: how many chunks hold each term, and each chunk's length
        lens = np.diff(ptr)
        rows = np.repeat(np.arange(len(lens), dtype="int64"), lens)
        pairs = sorted_unique(np.asarray(ids, "int64") * max(1, len(lens)) + rows)  # each (term, chunk) once
        df += np.bincount(pairs // max(1, len(lens)), minlength=n_vocab)
        lens_parts.append(lens)
    lens_all = np.concatenate(lens_parts) if lens_parts else np.zeros(0, "int64")
    n_docs = len(lens_all)
    avg_len = lens_all.mean() if n_docs else np.float64(0)  # np.float64, as bm25s's mean of a list of lengths
    del lens_all
    idf = np.zeros(n_vocab, "float32")
    seen = np.unique(df[df > 0])
    by_df = np.asarray([math.log(1 + (n_docs - int(d) + 0.5) / (int(d) + 0.5)) for d in seen], "float32")
    idf[df > 0] = by_df[np.searchsorted(seen, df[df > 0])]

    indptr = np.zeros(n_vocab + 1, "int64")
    np.cumsum(df, out=indptr[1:])
    data = np.empty(int(indptr[-1]), "float32")
    indices = np.empty(int(indptr[-1]), "int32")
    heads = indptr[:-1].copy()  # where each term's next entry goes
    doc0 = 0
    for ids, ptr in parts():  # pass 2: scores, sorted by term and then chunk within each segment
        lens = np.diff(ptr)
        n = max(1, len(lens))
        rows = np.repeat(np.arange(len(lens), dtype="int64"), lens)
        keys, tf = sorted_unique(np.asarray(ids, "int64") * n + rows, counts=True)
        term, row = keys // n, keys % n
        # bm25s: tf / (k1 * ((1 - b) + b * l_d / l_avg) + tf), in float64; times the float32 idf; stored as float32
        norm = k1 * ((1 - b) + b * lens[row].astype("float64") / avg_len)
        tf64 = tf.astype("float32").astype("float64")
        score = idf[term].astype("float64") * (tf64 / (norm + tf64))
        first = np.searchsorted(term, term, "left")  # rank of each entry within its term's run
        pos = heads[term] + (np.arange(len(term)) - first)
        data[pos] = score.astype("float32")
        indices[pos] = (doc0 + row).astype("int32")
        uniq, n_per_term = sorted_unique(term, counts=True)  # term is sorted already
        heads[uniq] += n_per_term
        doc0 += len(lens)
    return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}


def index(parts: Callable[[], Iterable[Part]], vocab: dict[str, int]):
    """A `bm25s.BM25` as `BM25.index((token_ids, vocab))` leaves it, its scores made by `build` (`vocab` gains
    bm25s's empty token)."""
    import bm25s

    bm = bm25s.BM25()
    if (bm.method, bm.idf_method, bm.dtype, bm.int_dtype) != ("lucene", "lucene", "float32", "int32"):
        raise RuntimeError(f"bm25s's defaults changed ({bm.method}, {bm.idf_method}, {bm.dtype}, {bm.int_dtype}): "
                           "qa.bm25 computes Lucene's BM25 in float32 with int32 indices")
    scores = build(parts, len(vocab), bm.k1, bm.b)
    if "" not in vocab:
        vocab[""] = max(vocab.values(), default=-1) + 1
    bm.scores, bm.vocab_dict, bm.nonoccurrence_array = scores, vocab, None
    bm.unique_token_ids_set = set(vocab.values())
    return bm
