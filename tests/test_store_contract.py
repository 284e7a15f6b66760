"""The store contract, run on every implementation: embedded exact (FAISS flat), embedded approximate (HNSW forced)
and Milvus on a real milvus-lite server (its C++ engine) started on 127.0.0.1 for this session."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from qa.embed import FakeEmbedder
from qa.retrieve import retrieve
from qa.store_api import StoreAPI, make_store
from qa.text import content_terms
from qa.types import Document, Span

KINDS = ["flat", "hnsw", "milvus"]
Q = "When was Azerbaijan admitted to the United Nations?"


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory):
    from qa.store_milvus import start_local

    uri, proc = start_local(tmp_path_factory.mktemp("milvus"))
    yield uri
    proc.terminate()
    try:
        proc.wait(10)
    except Exception:
        proc.kill()


def _settings(kind, fake_settings, request):
    if kind == "flat":
        return fake_settings
    if kind == "hnsw":
        return fake_settings.with_(ann_threshold=0)
    uri = request.getfixturevalue("milvus_uri")
    return fake_settings.with_(store=f"{uri}/t{uuid.uuid4().hex[:10]}")


@pytest.fixture(params=KINDS)
def store(request, fake_settings):
    st = make_store(_settings(request.param, fake_settings, request), embedder=FakeEmbedder())
    yield st
    if request.param == "milvus":
        st.drop()
        st.close()


def _doc(doc_id: str, text: str) -> Document:
    import hashlib

    return Document(doc_id=doc_id, path="", title=doc_id, text=text, sha256=hashlib.sha256(text.encode()).hexdigest(),
                    content=(Span(start=0, end=len(text)),))


def test_the_store_implements_the_interface(store):
    assert isinstance(store, StoreAPI)
    assert len(store.docs) == 5 and len(store.chunks) > 10


def test_chunks_and_sentences_point_into_their_documents(store):
    for c in store.chunks:
        doc = store.docs[c.doc_id]
        assert doc.text[c.start:c.end] == c.text
        rows = store.sentence_rows(c.chunk_id)
        assert rows and store.sentence_vectors(rows).shape == (len(rows), store.embedder.dim)
        for r in rows:
            s = store.sentence(r)
            assert s.doc_id == c.doc_id and c.start <= s.start < s.end <= c.end
            assert store.text(s.doc_id, s.start, s.end) == doc.text[s.start:s.end]
        assert abs(float(np.linalg.norm(store.chunk_vector(c.chunk_id))) - 1.0) < 1e-4
        s = store.sentence(rows[0])
        assert np.allclose(store.sentence_vector(s.doc_id, s.start, s.end), store.sentence_vectors(rows[:1])[0])


def test_dense_search_finds_a_chunk_by_its_own_vector(store):
    ids = [c.chunk_id for c in store.chunks][::7]
    for cid in ids:
        top = store.search_dense(store.chunk_vector(cid), 5)
        assert top[0][1] == pytest.approx(1.0, abs=1e-4) and cid in [i for i, _ in top]
        assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)


def test_sentence_search_finds_a_sentence_by_its_own_vector(store):
    vec = store.sentence_vectors([3])[0]
    top = store.search_sentences(vec, 3)
    assert 3 in [r for r, _ in top] and top[0][1] == pytest.approx(1.0, abs=1e-4)


def test_lexical_search_ranks_chunks_holding_the_terms(store):
    top = store.search_lexical(Q, 5)
    assert top and [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert "admit" in " ".join(content_terms(store.chunks[top[0][0]].text))
    assert store.search_lexical("zzqxv", 5) == []


def test_term_statistics_count_chunks(store):
    texts = [" ".join(store.docs[c.doc_id].text[s.start:s.end] for s in c.sentences) for c in store.chunks]
    terms = ["azerbaijan", "unit", "zzqxv"] + content_terms(Q)
    df = store.doc_freq(terms)
    for t in terms:
        assert df[t] == sum(t in set(content_terms(x)) for x in texts), t
    assert store.has_term("azerbaijan") and not store.has_term("zzqxv")


def test_add_and_remove_documents(store):
    n_docs = len(store.docs)
    lh = content_terms("lighthouse")[0]  # the stored term is the stem
    before = store.doc_freq([lh])[lh]
    doc = _doc("extra/o'hara lighthouse.txt", "The lighthouse keepers of Norway kept the lamps burning and didn't sleep. "
                                       "Their logbooks survive in Tromsø.\n")
    store.add_documents([doc])
    assert len(store.docs) == n_docs + 1 and store.docs["extra/o'hara lighthouse.txt"].text == doc.text
    assert store.doc_freq([lh])[lh] == before + 1
    store.add_documents([doc])  # again: replaced, not doubled (and a non-ASCII term is counted once)
    assert len(store.docs) == n_docs + 1
    assert store.doc_freq(["tromsø", lh, "didn't"]) == {"tromsø": 1, lh: before + 1, "didn't": 1}
    top = store.search_lexical("lighthouse keepers Norway", 3)
    assert store.chunks[top[0][0]].doc_id == "extra/o'hara lighthouse.txt"
    store.remove_documents(["extra/o'hara lighthouse.txt"])
    assert "extra/o'hara lighthouse.txt" not in store.docs and len(store.docs) == n_docs
    assert store.doc_freq([lh, "tromsø"]) == {lh: before, "tromsø": 0}
    near = store.search_dense(np.asarray(store.embedder.embed([doc.text])[0]), 50)
    assert near and all(store.chunks[i].doc_id != "extra/o'hara lighthouse.txt" for i, _ in near)
    assert all(store.chunks[i].doc_id != "extra/o'hara lighthouse.txt" for i, _ in store.search_lexical("lighthouse", 5))


def test_retrieve_gives_verbatim_evidence(store):
    hits = retrieve(Q, store)
    assert hits
    for h in hits:
        assert store.docs[h.doc_id].text[h.start:h.end] == h.text


def test_every_store_retrieves_what_the_exact_store_retrieves(fake_settings, request):
    """Same documents, same question: the same evidence from each store (fake vectors, tiny corpus)."""
    got = {}
    for kind in KINDS:
        settings = _settings(kind, fake_settings, request)
        st = make_store(settings, embedder=FakeEmbedder())
        got[kind] = [(h.doc_id, h.start, h.end) for h in retrieve(Q, st)]
        if kind == "milvus":
            st.drop()
    assert got["flat"] and got["hnsw"] == got["flat"]
    assert len(set(got["milvus"][:3]) & set(got["flat"][:3])) >= 2, got


def test_milvus_hybrid_search_ranks_in_the_engine(fake_settings, request):
    st = make_store(_settings("milvus", fake_settings, request), embedder=FakeEmbedder())
    try:
        qvec = st.embedder.embed([Q])[0]
        fused = st.search_hybrid(qvec, Q, 5)
        dense, lexical = {i for i, _ in st.search_dense(qvec, 5)}, {i for i, _ in st.search_lexical(Q, 5)}
        assert fused and {i for i, _ in fused} <= dense | lexical
        assert fused[0][0] in dense & lexical or fused[0][0] in dense | lexical
    finally:
        st.drop()


def test_embedded_removal_is_a_tombstone_and_survives_a_reload(fake_settings):
    """A large index (HNSW forced) is not rewritten to remove one document: its chunks are skipped, on disk too."""
    from qa.store import load

    settings = fake_settings.with_(ann_threshold=0)
    st = make_store(settings, embedder=FakeEmbedder())
    n = st.faiss.ntotal
    doc = _doc("extra/ferry.txt", "The night ferry to Bergen left at nine. It carried four hundred passengers.\n")
    st.add_documents([doc])
    assert st.faiss.ntotal > n  # grown by add(), not rebuilt
    grown = st.faiss.ntotal
    vec = st.embedder.embed([doc.text])[0]
    ids = {c.chunk_id for c in st.chunks if c.doc_id == "extra/ferry.txt"}
    st.remove_documents(["extra/ferry.txt"])
    assert st.faiss.ntotal == grown and not ids & {i for i, _ in st.search_dense(vec, 50)}
    again = load(settings, st.embedder)
    assert "extra/ferry.txt" not in again.docs and not ids & {i for i, _ in again.search_dense(vec, 50)}
    assert not ids & {i for i, _ in again.search_lexical("night ferry Bergen", 10)}


def test_milvus_lite_searches_exactly(fake_settings, request, monkeypatch):
    """milvus-lite's AUTOINDEX lost recall at 100k chunks (bench/scale_bench.py): on lite the dense index is FLAT."""
    monkeypatch.delenv("QA_MILVUS_INDEX", raising=False)
    st = make_store(_settings("milvus", fake_settings, request), embedder=FakeEmbedder())
    try:
        assert st._default_index() == "FLAT"
        for kind in ("chunks", "sentences"):
            info = st.client.describe_index(st._name(kind), "vec")
            assert info["index_type"] == "FLAT", info
    finally:
        st.drop()
