"""`qa eval` end to end: the seed set through the real pipeline (extractive) with regression floors, and the
custom / external sets through the fast fake embedder."""

from __future__ import annotations

import json

import pytest

from qa.errors import QAError
from qa.eval import cli_run, load_sets, run

# Measured on the seed set, extractive, 2025-11-25 (see the closing report of issue 6): quote validity 1.0,
# citation precision 0.48, citation recall 0.63, source precision 0.89, source recall 0.88, answer match 0.74,
# answer rate 1.0, recall@k 0.69. The floors sit well below, so they catch regressions rather than noise.
FLOORS = {"citation_precision": 0.30, "citation_recall": 0.40, "source_precision": 0.65, "source_recall": 0.65,
          "answer_match": 0.50, "answer_rate_answerable": 0.70, "recall@k": 0.50}


@pytest.mark.slow  # 30-170 s on the shared 2-core box (model load, 77 questions); still part of `make test`
def test_seed_set_extractive_meets_floors(real_store, real_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("QA_INDEX_DIR", str(real_settings.index_dir))  # the session index of corpus/
    report = run("seed", llm="none", out_dir=tmp_path, progress=False)
    m = report.sets["seed"].metrics
    assert m["errors"] == 0 and m["questions"] >= 64
    assert m["citations"] > 0 and m["quote_validity"] == 1.0
    low = {k: m[k] for k, floor in FLOORS.items() if m[k] is None or m[k] < floor}
    assert not low, f"below the regression floors {FLOORS}: {low}"
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").open()]
    assert len(rows) == m["questions"] and all("scores" in r and "citations" in r for r in rows)
    assert {"report.md", "summary.json", "seed_metrics_by_type.png", "seed_latency.png"} <= {
        p.name for p in tmp_path.iterdir()}
    assert report.sets["seed"].latency["total"]["p50"] > 0
    assert set(report.sets["seed"].by_split) == {"dev", "test"}


CORPUS = {
    "a.txt": "Lake Qala is the deepest lake in the valley of Oru. "
             "It reaches a depth of 112 metres near its north shore.\n",
    "b.txt": "The Oru valley council says Lake Qala is 112 metres deep. Fishing on the lake is allowed from May to "
             "September.\n",
}
QUESTIONS = [
    {"id": "q1", "type": "single-fact", "question": "How deep is Lake Qala?", "split": "dev",
     "gold_quotes": [{"doc_id": "a.txt", "quote": "It reaches a depth of 112 metres near its north shore."}],
     "answers": ["112 metres"], "disagreement": False},
    {"id": "q2", "type": "single-fact", "question": "When is fishing allowed on the lake?", "split": "test",
     "gold_quotes": [{"doc_id": "b.txt", "quote": "Fishing on the lake is allowed from May to September."}],
     "answers": ["May to September"], "disagreement": None},
    {"id": "q3", "type": "unanswerable", "question": "Who is the mayor of Paris?", "answers": [], "gold_quotes": []},
]


@pytest.fixture
def own_set(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_EMBEDDER", "fake")
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for name, text in CORPUS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    questions = tmp_path / "mine.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    return corpus, questions


def test_own_corpus_and_questions(own_set, tmp_path):
    corpus, questions = own_set
    report = run(questions=questions, corpus=corpus, out_dir=tmp_path / "out", progress=False, cache=tmp_path / "c")
    sr = report.sets["mine"]
    assert sr.metrics["questions"] == 3 and sr.metrics["errors"] == 0
    assert sr.metrics["quote_validity"] in (None, 1.0)
    assert set(sr.by_type) == {"single-fact", "unanswerable"}
    text = (tmp_path / "out" / "report.md").read_text()
    assert "## mine" in text and "Abstention calibration (dev questions)" in text
    assert (tmp_path / "out" / "mine_latency.png").stat().st_size > 1000


def test_cli_run_prints_a_table(own_set, tmp_path, capsys):
    corpus, questions = own_set
    code = cli_run("seed", "none", 2, corpus, questions, out_dir=tmp_path / "out")
    out = capsys.readouterr().out
    assert code == 0 and "quote_validity" in out and "citation_precision" in out and "report:" in out


@pytest.mark.parametrize("name", ["conflictqa", "clapnq"])
def test_external_sets_run(name, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_EMBEDDER", "fake")
    report = run(name, limit=6, out_dir=tmp_path / "out", progress=False, cache=tmp_path / "cache")
    m = report.sets[name].metrics
    assert m["questions"] == 6 and m["errors"] == 0
    assert m["quote_validity"] in (None, 1.0)
    assert (tmp_path / "cache" / f"{name}-6" / "index").is_dir()


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"set": "nope"}, "unknown eval set", id="unknown-set"),
    pytest.param({"set": "seed", "corpus": "somewhere"}, "needs --questions", id="corpus-without-questions"),
    pytest.param({"set": "seed", "questions": "/no/such.jsonl"}, "does not exist", id="missing-questions"),
])
def test_bad_arguments_are_qa_errors(kwargs, message):
    with pytest.raises(QAError, match=message):
        load_sets(**kwargs)
