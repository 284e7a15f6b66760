"""The seed eval on every store: Milvus (a real milvus-lite server) and the embedded store with approximate search
forced on must stay within 0.02 of the embedded exact store on every headline metric."""

from __future__ import annotations

import json

import pytest

from qa.eval import run

pytestmark = pytest.mark.slow
METRICS = ("citation_precision", "citation_recall", "source_precision", "source_recall", "answer_match",
           "answer_rate_answerable", "abstain_unanswerable", "recall@k")


def _seed(monkeypatch, tmp_path, name, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    report = run("seed", llm="none", out_dir=tmp_path / name, progress=False)
    m = report.sets["seed"].metrics
    assert m["errors"] == 0 and m["quote_validity"] == 1.0
    return m


def _close(a, b):
    off = {k: (a.get(k), b.get(k)) for k in METRICS if a.get(k) is not None and abs(a[k] - (b.get(k) or 0)) > 0.02}
    print(json.dumps({k: (a.get(k), b.get(k)) for k in METRICS}))
    return off


def test_seed_eval_on_milvus_and_hnsw_matches_the_exact_store(real_store, real_settings, monkeypatch, tmp_path):
    from qa.store_milvus import start_local

    monkeypatch.setenv("QA_INDEX_DIR", str(real_settings.index_dir))
    exact = _seed(monkeypatch, tmp_path, "exact")
    hnsw = _seed(monkeypatch, tmp_path, "hnsw", QA_ANN_THRESHOLD="0")
    monkeypatch.delenv("QA_ANN_THRESHOLD")
    uri, proc = start_local(tmp_path / "milvus")
    try:
        milvus = _seed(monkeypatch, tmp_path, "milvus", QA_STORE=f"{uri}/seed")
    finally:
        proc.terminate()
        proc.wait(10)
    assert not _close(hnsw, exact), "approximate search moved the seed metrics by more than 0.02"
    assert not _close(milvus, exact), "the Milvus store moved the seed metrics by more than 0.02"
