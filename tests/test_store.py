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
