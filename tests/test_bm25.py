"""qa.bm25 builds the same BM25 matrix as bm25s.BM25.index, segment by segment, in numpy."""

import numpy as np
import pytest

from qa import bm25


def _corpus(seed: int, n_docs: int, n_vocab: int, max_len: int):
    rng = np.random.default_rng(seed)
    # Zipf-like term draws: a few very common terms, a long tail, repeats within a chunk
    p = 1 / np.arange(1, n_vocab + 1)
    return [rng.choice(n_vocab, size=int(rng.integers(1, max_len)), p=p / p.sum()).tolist() for _ in range(n_docs)]


def _parts(docs, splits):
    """The documents cut into segments at `splits`, as (ids, ptr) parts."""
    out, lo = [], 0
    for hi in list(splits) + [len(docs)]:
        seg = docs[lo:hi]
        out.append((np.asarray([t for d in seg for t in d], "int64"),
                    np.concatenate([[0], np.cumsum([len(d) for d in seg])]).astype("int64")))
        lo = hi
    return out


@pytest.mark.parametrize("seed,n_docs,n_vocab,max_len,splits", [
    (0, 1, 3, 4, []),
    (1, 50, 20, 30, []),
    (2, 300, 500, 120, [1, 100, 101, 250]),  # segments of one chunk, and uneven ones
    (3, 1000, 5000, 200, [400]),
])
def test_build_equals_bm25s(seed, n_docs, n_vocab, max_len, splits):
    import bm25s

    docs = _corpus(seed, n_docs, n_vocab, max_len)
    vocab = {f"w{i}": i for i in range(n_vocab)}
    ref = bm25s.BM25()
    ref.index((docs, dict(vocab)), show_progress=False)
    parts = _parts(docs, splits)
    got = bm25.index(lambda: iter(parts), dict(vocab))
    for key in ("data", "indices", "indptr"):
        a, b = got.scores[key], ref.scores[key]
        assert a.dtype == b.dtype and np.array_equal(a, b), key  # bit for bit, not within a tolerance
    assert got.scores["num_docs"] == ref.scores["num_docs"]
    assert got.vocab_dict == ref.vocab_dict
    rng = np.random.default_rng(seed)
    for _ in range(5):
        q = [f"w{i}" for i in rng.choice(n_vocab, size=3)]
        assert np.array_equal(got.get_scores(q), ref.get_scores(q))


def test_a_saved_index_loads_and_scores_as_bm25s(tmp_path):
    import bm25s

    docs = _corpus(7, 200, 100, 40)
    vocab = {f"w{i}": i for i in range(100)}
    bm25.index(lambda: iter(_parts(docs, [50])), dict(vocab)).save(str(tmp_path / "b"))
    ref = bm25s.BM25()
    ref.index((docs, dict(vocab)), show_progress=False)
    back = bm25s.BM25.load(str(tmp_path / "b"))
    assert np.array_equal(back.get_scores(["w1", "w5", "w50"]), ref.get_scores(["w1", "w5", "w50"]))


def test_live_terms_keep_live_chunks_and_give_an_empty_one_a_placeholder():
    from qa.segments import Terms
    from qa.store import EMPTY_TERM, _live_terms

    # chunks: [a b a], [], [c], [], [b c]; chunk 2 is removed
    t = Terms(["a", "b", "c"], np.asarray([0, 1, 0, 2, 1, 2], "int32"), np.asarray([0, 3, 3, 4, 4, 6], "int64"))
    vocab = {"x": 0, "a": 1, "b": 2, "c": 3, EMPTY_TERM: 4}
    live = np.asarray([True, True, False, True, True])
    [(ids, ptr)] = list(_live_terms([(t, np.asarray([1, 2, 3]), live)], vocab))
    chunks = [ids[ptr[i]:ptr[i + 1]].tolist() for i in range(len(ptr) - 1)]
    assert chunks == [[1, 2, 1], [4], [4], [2, 3]]
