"""The saved index: incremental re-embedding, atomic generations, corrupt and mismatched indexes."""

from __future__ import annotations

import json
import shutil

import pytest

from qa.errors import CorpusError, StoreError
from qa.settings import INDEX_FORMAT
from qa.store import _current, load, open_store

from .conftest import write


class CountingEmbedder:
    """Wraps the fake embedder and counts the texts it embeds."""

    def __init__(self):
        from qa.embed import FakeEmbedder

        self.inner = FakeEmbedder()
        self.dim = self.inner.dim
        self.name = "fake"
        self.count = 0

    def embed(self, texts, progress=None):
        self.count += len(texts)
        return self.inner.embed(texts, progress)


def _segment(gen):
    return next((gen / "segments").iterdir())


def test_build_then_load_round_trip(fake_settings):
    built = open_store(fake_settings)
    loaded = load(fake_settings, built.embedder)
    assert set(loaded.docs) == set(built.docs) and len(loaded.chunks) == len(built.chunks)
    ids = range(len(built.chunks))
    assert (loaded.chunk_vectors(ids) == built.chunk_vectors(ids)).all()
    assert [c.text for c in loaded.chunks] == [c.text for c in built.chunks]
    manifest = json.loads((loaded.gen_dir / "manifest.json").read_text())
    assert manifest["format"] == INDEX_FORMAT and manifest["embedder"] == "fake"
    assert all(len(v["sha256"]) == 64 for v in manifest["documents"].values())


def test_sentence_vectors_are_stored_half_size_and_read_as_float32(fake_settings):
    """Sentence vectors (4x the chunk vectors) are kept as float16 on disk; the store hands out float32 unit vectors,
    the same whether read as a batch or one by one."""
    import numpy as np

    store = open_store(fake_settings)
    assert np.load(_segment(store.gen_dir) / "sent_vecs.npy", mmap_mode="r").dtype == np.float16
    assert np.load(_segment(store.gen_dir) / "chunk_vecs.npy", mmap_mode="r").dtype == np.float32
    rows = store.sentence_rows(0)
    got = store.sentence_vectors(rows)
    assert got.dtype == np.float32 and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=2e-3)
    one = store.sentence(rows[0])
    single = store.sentence_vector(one.doc_id, one.start, one.end)
    assert single.dtype == np.float32 and np.array_equal(single, got[0])


def test_only_changed_documents_are_re_embedded(fake_settings):
    emb = CountingEmbedder()
    open_store(fake_settings, embedder=emb)
    first = emb.count
    emb.count = 0
    open_store(fake_settings, embedder=emb)
    assert emb.count == 0  # nothing changed: nothing embedded
    write(fake_settings.corpus_dir / "new.txt", "A brand new document about lighthouse keepers in Norway.\n")
    store = open_store(fake_settings, embedder=emb)
    assert 0 < emb.count <= 4 and "new.txt" in store.docs
    doc = store.docs["mfa-relations-azerbaijan-un.txt"]
    (fake_settings.corpus_dir / doc.doc_id).write_text(doc.text + "\nAn added closing sentence on the matter.\n")
    emb.count = 0
    store = open_store(fake_settings, embedder=emb)
    assert 0 < emb.count < first / 2
    for c in store.chunks:  # offsets still valid after the incremental update
        assert store.docs[c.doc_id].text[c.start:c.end] == c.text


def test_tampered_index_is_detected_and_rebuilt(fake_settings):
    store = open_store(fake_settings)
    gen = store.gen_dir
    with open(_segment(gen) / "chunk_vecs.npy", "r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff\xff\xff\xff")
    with pytest.raises(StoreError, match="checksum"):
        load(fake_settings, store.embedder)
    rebuilt = open_store(fake_settings, embedder=store.embedder)
    assert rebuilt.gen_dir != gen and len(rebuilt.chunks) == len(store.chunks)
    load(fake_settings, store.embedder)  # the new one verifies


def test_truncated_and_missing_files_are_detected(fake_settings):
    store = open_store(fake_settings)
    (_segment(store.gen_dir) / "documents.jsonl").write_text("")
    with pytest.raises(StoreError):
        load(fake_settings, store.embedder)
    (store.gen_dir / "manifest.json").write_text("{not json")
    with pytest.raises(StoreError, match="damaged"):
        load(fake_settings, store.embedder)


def test_index_built_with_other_settings_is_refused(fake_settings):
    store = open_store(fake_settings)
    other = fake_settings.with_(chunk_chars=300)
    with pytest.raises(StoreError, match="other settings"):
        load(other, store.embedder)
    assert len(open_store(other, embedder=store.embedder).chunks) > len(store.chunks)


def test_a_killed_build_leaves_the_previous_index(fake_settings):
    store = open_store(fake_settings)
    # debris of a build killed after writing its temp folder, before the switch
    debris = fake_settings.index_dir / ".gen-killed.tmp"
    shutil.copytree(store.gen_dir, debris)
    assert _current(fake_settings.index_dir) == store.gen_dir
    assert load(fake_settings, store.embedder).gen_dir == store.gen_dir


def test_add_and_remove_documents(fake_settings, tmp_path):
    store = open_store(fake_settings)
    outside = write(tmp_path / "elsewhere" / "harbour.txt", "The harbour master of Gdansk retired in 2019.\n")
    added = store.add_files([outside])
    assert added == ["uploads/harbour.txt"] and "uploads/harbour.txt" in store.docs
    store.remove("uploads/harbour.txt")
    assert "uploads/harbour.txt" not in store.docs
    assert list((fake_settings.corpus_dir / ".removed").iterdir())  # moved aside, not deleted
    with pytest.raises(CorpusError, match="no document"):
        store.remove("nope.txt")
    bad = write(tmp_path / "elsewhere" / "empty.txt", "")
    with pytest.raises(CorpusError, match="no readable text"):
        store.add_files([bad])
    assert len(store.docs) == 5  # nothing lost


def _bm25_from_text(store):
    """BM25 and document frequencies as they were built before terms were kept: from every live chunk's text."""
    from collections import Counter

    import bm25s

    from qa.text import content_terms

    live = [c for c in store.chunks if store._live[c.chunk_id]]
    terms = [content_terms(" ".join(store.docs[c.doc_id].text[s.start:s.end] for s in c.sentences)) for c in live]
    bm25 = bm25s.BM25()
    bm25.index([t or ["∅"] for t in terms], show_progress=False)
    df = Counter(w for t in terms for w in set(t))
    return bm25, dict(df), [c.chunk_id for c in live]


def test_lexical_index_from_kept_terms_equals_one_built_from_text(fake_settings, tmp_path):
    import numpy as np

    store = open_store(fake_settings)
    store.add_files([write(tmp_path / "x" / "harbour.txt", "The harbour master of Gdansk retired in 2019.\n\n"
                           "Gdansk harbour handles grain.\n")])
    store.remove_documents(["ngo-statement-un-offices.txt"])  # a tombstone: its chunks are not live
    for s in (store, load(fake_settings, store.embedder)):
        bm25, df, ids = _bm25_from_text(s)
        assert s._df == df and s._bm25_ids.tolist() == ids
        for q in (["harbour", "gdansk"], ["azerbaijan", "un"], ["offic"], ["red", "cross", "humanitarian"]):
            q = [w for w in q if w in df]
            if q:
                assert np.allclose(s.bm25.get_scores(q), bm25.get_scores(q), atol=1e-5)


def test_a_change_reads_no_old_chunk_text(fake_settings, tmp_path, monkeypatch):
    """Adding a document tokenises its chunks only: old segments' terms are linked from the last generation."""
    import qa.segments

    store = open_store(fake_settings)
    old = _segment(store.gen_dir)
    inode = (old / "terms.npy").stat().st_ino
    calls = []
    real = qa.segments.content_terms
    monkeypatch.setattr(qa.segments, "content_terms", lambda text: calls.append(text) or real(text))
    fresh = load(fake_settings, store.embedder)
    fresh.add_files([write(tmp_path / "x" / "harbour.txt", "The harbour master of Gdansk retired in 2019.\n")])
    assert len(calls) == 1 and "Gdansk" in calls[0]
    assert (fresh.gen_dir / "segments" / old.name / "terms.npy").stat().st_ino == inode  # a hard link, not rewritten
    assert "gdansk" in fresh._df and fresh.search_lexical("Gdansk harbour", 3)


def test_an_index_written_before_terms_were_kept_still_loads_and_gains_them(fake_settings, tmp_path):
    store = open_store(fake_settings)
    seg_dir = _segment(store.gen_dir)
    manifest = json.loads((store.gen_dir / "manifest.json").read_text())
    for f in ("terms.npy", "terms_ptr.npy", "terms_vocab.json"):  # as an older version wrote it
        (seg_dir / f).unlink()
        manifest["files"].pop(f"segments/{seg_dir.name}/{f}")
    (store.gen_dir / "manifest.json").write_text(json.dumps(manifest))
    old = load(fake_settings, store.embedder)
    assert old.search_lexical("Red Cross", 3)
    old.add_files([write(tmp_path / "x" / "harbour.txt", "The harbour master of Gdansk retired in 2019.\n")])
    assert (old.gen_dir / "segments" / seg_dir.name / "terms.npy").is_file()
    bm25, df, ids = _bm25_from_text(load(fake_settings, store.embedder))
    assert old._df == df


def test_inconsistent_terms_are_a_damaged_index(fake_settings):
    import numpy as np

    store = open_store(fake_settings)
    seg_dir = _segment(store.gen_dir)
    np.save(seg_dir / "terms_ptr.npy", np.zeros(3, "int64"))
    with pytest.raises(StoreError):
        load(fake_settings, store.embedder)


def _settings_with(fake_settings, **kw):
    from dataclasses import replace

    return replace(fake_settings, **kw)


HARBOUR = "The harbour master of Gdansk retired in 2019.\n\nGdansk harbour handles grain and timber.\n"


@pytest.mark.parametrize("ann_threshold", [10**9, 0], ids=["flat", "hnsw"])
def test_a_change_extends_the_live_index_in_place(fake_settings, tmp_path, ann_threshold):
    """Adding documents grows the FAISS index this process built, where it is (no second copy of every vector);
    the new chunks are found, and the saved generation loads with the same vectors."""
    settings = _settings_with(fake_settings, ann_threshold=ann_threshold)
    store = open_store(settings)
    index, n = store.faiss, store.faiss.ntotal
    store.add_files([write(tmp_path / "x" / "harbour.txt", HARBOUR)])
    assert store.faiss is index and index.ntotal == len(store.chunks) > n
    for cid in range(n, len(store.chunks)):
        assert store.search_dense(store.chunk_vector(cid), 1)[0][0] == cid
    assert load(settings, store.embedder).faiss.ntotal == len(store.chunks)


@pytest.mark.parametrize("ann_threshold", [10**9, 0], ids=["flat", "hnsw"])
def test_a_search_during_a_change_sees_only_live_chunks_and_a_failed_change_is_undone(
        fake_settings, tmp_path, monkeypatch, ann_threshold):
    import qa.store as qs

    settings = _settings_with(fake_settings, ann_threshold=ann_threshold)
    store = open_store(settings)
    n = store.faiss.ntotal
    probe = store.chunk_vector(0)
    before = store.search_dense(probe, 5)
    seen = []

    def fail_after_adding(new, tmp, s):  # the new vectors are in the live index; the change is not committed
        assert store.faiss.ntotal > n
        seen.append(store.search_dense(probe, 5))
        seen.append(store.search_dense(new.chunk_vector(new.faiss.ntotal - 1), 5))
        raise OSError("disk full")

    monkeypatch.setattr(qs, "_save_shared", fail_after_adding)
    with pytest.raises(OSError, match="disk full"):
        store.add_files([write(tmp_path / "x" / "harbour.txt", HARBOUR)])
    assert all(0 <= cid < n for hits in seen for cid, _ in hits)  # chunks not yet live are never returned
    assert seen[0] == before
    assert store.faiss.ntotal == n and store.search_dense(probe, 5) == before  # the live index as it was
    monkeypatch.undo()
    store.refresh()  # and the change goes through when it can
    assert store.faiss.ntotal == len(store.chunks) > n
