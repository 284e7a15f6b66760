"""The Ray indexing path on a local Ray cluster: the same chunk ids, offsets and vectors as the local path."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_indexing_equals_the_local_path(ray_cluster, real_store, real_settings, tmp_path):
    from qa.index_ray import index_with_ray

    settings = real_settings.with_(index_dir=tmp_path / "index-ray")
    st = index_with_ray(settings, "auto", workers=1)
    assert set(st.docs) == set(real_store.docs)
    local = [(c.chunk_id, c.doc_id, c.start, c.end, c.sentences) for c in real_store.chunks]
    assert [(c.chunk_id, c.doc_id, c.start, c.end, c.sentences) for c in st.chunks] == local
    ids = [c[0] for c in local]
    assert np.allclose(st.chunk_vectors(ids), real_store.chunk_vectors(ids), atol=1e-5)
    assert [st.sentence(r) for r in range(len(st.sentences))] == [real_store.sentence(r) for r in range(len(real_store.sentences))]
    rows = list(range(len(real_store.sentences)))
    assert np.allclose(st.sentence_vectors(rows), real_store.sentence_vectors(rows), atol=1e-5)
    assert st.doc_freq(["azerbaijan", "unit"]) == real_store.doc_freq(["azerbaijan", "unit"])
    # the index it wrote is a normal one: it loads, verifies and answers
    from qa.store import load

    again = load(settings, real_store.embedder)
    assert len(again.chunks) == len(real_store.chunks) and again.search_lexical("Azerbaijan United Nations", 3)


def test_ray_indexing_writes_into_milvus(ray_cluster, real_store, real_settings, tmp_path):
    from qa.index_ray import index_with_ray
    from qa.store_milvus import start_local

    uri, proc = start_local(tmp_path / "milvus")
    try:
        settings = real_settings.with_(store=f"{uri}/ray")
        st = index_with_ray(settings, "auto", workers=1)
        assert set(st.docs) == set(real_store.docs) and len(st.chunks) == len(real_store.chunks)
        c = real_store.chunks[3]
        assert st.chunks[3].text == c.text and np.allclose(st.chunk_vector(3), real_store.chunk_vector(3), atol=1e-5)
        st.close()
    finally:
        proc.terminate()
        proc.wait(10)
