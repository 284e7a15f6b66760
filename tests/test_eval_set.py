"""The seed eval set and the external-set loaders: every gold quote is verbatim in its document."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from qa import metrics as M
from qa.errors import QAError
from qa.eval import DATA_DIR, SEED_FILE, TYPES, clapnq_set, conflictqa_set, load_questions, parse_item, planted_set
from qa.ingest import load_manifest, read_document
from qa.settings import ROOT

CORPUS = ROOT / "corpus"
ITEMS = load_questions(SEED_FILE)
DOCS = {p.name: read_document(p, CORPUS, load_manifest(CORPUS)) for p in sorted(CORPUS.glob("*.txt"))}


def test_seed_size_types_and_balance():
    assert len(ITEMS) >= 64
    assert len({i.id for i in ITEMS}) == len(ITEMS)
    types = Counter(i.type for i in ITEMS)
    assert set(types) == set(TYPES), types
    assert 0.10 <= types["unanswerable"] / len(ITEMS) <= 0.20
    flags = Counter(i.disagreement for i in ITEMS)
    assert flags[True] >= 10 and flags[False] >= 10
    for split in ("dev", "test"):
        assert {i.type for i in ITEMS if i.split == split} == set(TYPES), split
    assert {i.split for i in ITEMS} == {"dev", "test"}


def test_seed_rows_have_the_documented_fields():
    for line in SEED_FILE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert set(row) == {"id", "split", "type", "question", "gold_docs", "gold_quotes", "answers",
                            "disagreement", "notes"}, row["id"]


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_gold_quotes_are_verbatim(item):
    for doc_id, quote in item.gold_quotes:
        assert doc_id in DOCS, f"{item.id}: unknown document {doc_id}"
        assert quote in DOCS[doc_id].text, f"{item.id}: quote not verbatim in {doc_id}: {quote[:60]!r}"
    assert set(item.gold_docs) == {d for d, _ in item.gold_quotes}


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_answerable_rows_are_grounded(item):
    if item.type == "unanswerable":
        assert not item.answerable and not item.gold_quotes and not item.answers
        assert item.disagreement is None
        return
    assert item.answerable and item.gold_quotes and item.answers
    quotes = " ".join(q for _, q in item.gold_quotes)
    assert any(M.answer_match(quotes, [a]) for a in item.answers), f"{item.id}: no accepted answer is in the gold"
    if item.type in ("conflicting", "consistent", "multi-source"):
        assert len(item.gold_docs) >= 2, item.id
    if item.type == "conflicting":
        assert item.disagreement is True
    if item.type == "consistent":
        assert item.disagreement is False


@pytest.mark.parametrize("row, message", [
    pytest.param({"question": "q"}, "non-empty 'id'", id="no-id"),
    pytest.param({"id": "x", "question": "q", "disagreement": "yes"}, "disagreement", id="bad-flag"),
    pytest.param({"id": "x", "question": "q", "gold_quotes": [{"doc_id": "a"}]}, "gold_quotes", id="bad-quote"),
    pytest.param({"id": "x", "question": "q", "answers": "one"}, "answers", id="answers-not-list"),
])
def test_parse_item_rejects_malformed_rows(row, message):
    with pytest.raises(QAError, match=message):
        parse_item(row, "f:1")


def test_load_questions_rejects_duplicate_ids(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"id": "a", "question": "x?"}\n\n{"id": "a", "question": "y?"}\n')
    with pytest.raises(QAError, match="duplicate id"):
        load_questions(f)


def test_external_data_ships_with_licenses():
    for name in ("conflictqa/LICENSE", "conflictqa/NOTICE", "clapnq/LICENSE", "README.md"):
        assert (DATA_DIR / name).is_file(), name


def _check_materialised(es):
    corpus = Path(es.corpus_dir)
    for item in es.items:
        for doc_id, quote in item.gold_quotes:
            assert quote in (corpus / doc_id).read_text(encoding="utf-8"), (item.id, doc_id)
    manifest = json.loads((corpus / "manifest.json").read_text())["documents"]
    assert set(manifest) == {p.name for p in corpus.glob("*.txt")}


def test_conflictqa_loader(tmp_path):
    es = conflictqa_set(limit=40, cache=tmp_path)
    assert len(es.items) == 40 and es.name == "conflictqa"
    _check_materialised(es)
    raw = [json.loads(line) for line in (DATA_DIR / "conflictqa" / "conflictqa_dev.jsonl").open()][:40]
    for item, r in zip(es.items, raw):
        assert item.disagreement is (r["secondAnswerExist"] == "A")
        assert item.type == ("conflicting" if item.disagreement else "single-answer")
        assert item.answers == (r["correctAnswer"].strip(),)
        assert item.gold_quotes and item.answerable
    assert any(i.disagreement for i in es.items) and not all(i.disagreement for i in es.items)
    # a second call reuses the files untouched (so the index is not rebuilt)
    before = {p: p.stat().st_mtime_ns for p in Path(es.corpus_dir).iterdir()}
    conflictqa_set(limit=40, cache=tmp_path)
    assert before == {p: p.stat().st_mtime_ns for p in Path(es.corpus_dir).iterdir()}


def test_clapnq_loader_interleaves_answerable_and_unanswerable(tmp_path):
    es = clapnq_set(limit=10, cache=tmp_path)
    assert [i.type for i in es.items] == ["answerable", "unanswerable"] * 5
    _check_materialised(es)
    for item in es.items:
        assert bool(item.gold_quotes) == item.answerable == bool(item.answers)
        assert item.disagreement is None


def _cq_row(i, question, answer, contexts, second=None):
    return {"annotation_task_id": i, "question": question, "correctAnswer": answer, "contexts": contexts,
            "sources": [f"site{k}.example" for k in range(len(contexts))], "secondAnswerExist": second}


def test_plant_snippets_copies_the_answering_snippet_with_another_answer_of_its_type():
    from qa.counterfactual import plant_snippets

    rows = [
        _cq_row(1, "Who founded the Harbour Rowing Club?", "Maria Lindqvist",
                ["The club holds a regatta every spring.", "Maria Lindqvist founded the Harbour Rowing Club in 1921."]),
        _cq_row(2, "Who designed the Old Mill bridge?", "Tomas Berg",
                ["The Old Mill bridge was designed by Tomas Berg and opened in 1950."]),
        # a real second answer: no planted copy
        _cq_row(3, "Who painted the harbour mural?", "Anna Holm", ["Anna Holm painted the harbour mural."], "A"),
        # the answer is no entity of the asked type: nothing to swap
        _cq_row(4, "Who won the cup?", "the home team", ["The cup was won by the home team."]),
    ]
    out = plant_snippets(rows)
    assert [p.id for p in out] == ["0001", "0002"]
    first = out[0]
    assert first.at == 1 and first.answer == "Maria Lindqvist" and first.replacement == "Tomas Berg"
    assert first.planted == "Tomas Berg founded the Harbour Rowing Club in 1921."
    assert first.snippets == tuple(rows[0]["contexts"]) and first.sources[1] == "site1.example"
    assert out[1].replacement == "Maria Lindqvist"


def test_planted_loader_pairs_each_planted_set_with_its_clean_one(tmp_path):
    es = planted_set(limit=6, cache=tmp_path)
    assert es.name == "planted" and [i.type for i in es.items] == ["planted", "clean"] * 6
    for planted, clean in zip(es.items[::2], es.items[1::2]):
        assert planted.question == clean.question and planted.answers == clean.answers
        assert planted.disagreement is True and clean.disagreement is False
        assert planted.wrong_answers and not clean.wrong_answers
        docs = {p.name: p.read_text(encoding="utf-8") for p in es.per_item[planted.id][0].glob("*.txt")}
        kept = {p.name: p.read_text(encoding="utf-8") for p in es.per_item[clean.id][0].glob("*.txt")}
        extra = [t for n, t in docs.items() if n not in kept]
        assert len(docs) == len(kept) + 1 and len(extra) == 1
        # the copy repeats a snippet of the set but for the answer
        assert planted.wrong_answers[0] in extra[0]
        assert extra[0].replace(planted.wrong_answers[0], planted.answers[0]) in kept.values()


@pytest.mark.parametrize("at, expected", [
    pytest.param(2, "0123456789", id="clipped-at-the-start"),
    pytest.param(50, "5678901234", id="centred"),
    pytest.param(98, "0123456789", id="clipped-at-the-end"),
])
def test_cut_window(at, expected):
    from qa.counterfactual import cut_window

    assert cut_window("0123456789" * 10, at, chars=10) == expected


def test_counterfactual_cut_loader_cuts_the_swap_and_its_twin_at_the_same_place(tmp_path):
    from qa.eval import counterfactual_cut_set

    es = counterfactual_cut_set(limit=4, cache=tmp_path)
    assert es.name == "counterfactual-cut" and [i.type for i in es.items] == ["swapped", "twin"] * 4
    for swapped, twin in zip(es.items[::2], es.items[1::2]):
        assert swapped.disagreement is True and twin.disagreement is False
        docs = [p.read_text(encoding="utf-8") for p in sorted(es.per_item[swapped.id][0].glob("*.txt"))]
        same = [p.read_text(encoding="utf-8") for p in sorted(es.per_item[twin.id][0].glob("*.txt"))]
        assert len(docs) == len(same) == 4 and docs[0] == same[0] and docs[2:] == same[2:]
        # the swapped window holds the planted answer; the twin's window is the original's text at that place
        assert swapped.wrong_answers[0] in docs[1] and same[1].strip() in docs[0]
        assert len(docs[1].strip()) <= 300
