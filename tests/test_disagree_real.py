"""find_disagreements on the real corpus with the real embedder and retriever (no language model by default).

No false alarms on the seed questions whose sources agree; a planted factual conflict (another page giving a
different UN admission date) is found, names both sources and quotes them verbatim. The real local model is tried
on one opinion conflict behind ``-m slow``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.disagree import find_disagreements  # noqa: E402
from qa.settings import ROOT, Settings  # noqa: E402

SEED = ROOT / "eval" / "seed.jsonl"
PLANTED = ("Azerbaijan and the United Nations\n\nAzerbaijan joined the United Nations after independence: the Republic "
           "of Azerbaijan was admitted to the UN membership on 9 May 1993, after a long campaign.\n")


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    from qa.store import open_store

    settings = Settings.from_env(index_dir=tmp_path_factory.mktemp("index"))
    return settings, open_store(settings)


@pytest.fixture(scope="module")
def planted_store(tmp_path_factory):
    from qa.store import open_store

    corpus = tmp_path_factory.mktemp("corpus")
    for f in (ROOT / "corpus").iterdir():
        shutil.copy(f, corpus / f.name)
    (corpus / "planted-un-history.txt").write_text(PLANTED, encoding="utf-8")
    settings = Settings.from_env(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index2"))
    return settings, open_store(settings)


def _conflict_questions() -> list[str]:
    rows = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("disagreement") is True]


def _agreeing_questions() -> list[str]:
    if not SEED.exists():
        return ["When was Azerbaijan admitted to the United Nations?",
                "How many refugees and internally displaced persons did Azerbaijan have?"]
    rows = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("disagreement") is False]


def _check_contract(found, store):
    for d in found:
        assert d.summary and len({c.citation.doc_id for c in d.claims}) >= 2
        for c in d.claims:
            assert store.docs[c.citation.doc_id].text[c.citation.start:c.citation.end] == c.citation.quote


def test_no_false_alarms_without_model(corpus_store):
    from qa.retrieve import retrieve

    settings, store = corpus_store
    alarms = []
    for q in _agreeing_questions():
        found, timings = find_disagreements(q, retrieve(q, store, settings), store, settings=settings)
        _check_contract(found, store)
        assert timings["disagree"] < 30
        alarms += [(q, d.summary) for d in found]
    # a false alarm is as bad as a miss; allow at most one in twenty agreeing questions
    assert len(alarms) <= max(1, len(_agreeing_questions()) // 20), alarms


@pytest.mark.skipif(not SEED.exists(), reason="needs eval/seed.jsonl")
def test_opinion_conflicts_found_without_model(corpus_store):
    """The seed set's conflicts of opinion (all of them, dev and test) are noted from the sources' wording alone,
    each note quoting a critical and a defending source verbatim."""
    from qa.retrieve import retrieve

    settings, store = corpus_store
    questions = _conflict_questions()
    noted = []
    for q in questions:
        found, timings = find_disagreements(q, retrieve(q, store, settings), store, settings=settings)
        _check_contract(found, store)
        assert timings.get("disagree_judge_calls", 0) == 0
        for d in found:
            assert d.kind == "opinion"
            assert all(c.stance and c.stance in " ".join(c.citation.quote.split()) for c in d.claims)
        noted += [q] if found else []
    assert len(questions) >= 8
    assert len(noted) >= 0.8 * len(questions), sorted(set(questions) - set(noted))


def test_planted_factual_conflict_is_found(planted_store):
    from qa.retrieve import retrieve

    settings, store = planted_store
    q = "When was Azerbaijan admitted to the United Nations?"
    found, _ = find_disagreements(q, retrieve(q, store, settings), store, settings=settings)
    _check_contract(found, store)
    assert len(found) == 1, [d.summary for d in found]
    d = found[0]
    assert d.kind == "factual"
    assert {c.citation.doc_id for c in d.claims} >= {"planted-un-history.txt", "mfa-relations-azerbaijan-un.txt"}
    assert "9 May 1993" in d.summary and "2 March 1992" in d.summary


def test_planted_document_does_not_disturb_other_questions(planted_store):
    from qa.retrieve import retrieve

    settings, store = planted_store
    q = "How many refugees and internally displaced persons did Azerbaijan have?"
    found, _ = find_disagreements(q, retrieve(q, store, settings), store, settings=settings)
    assert found == []


@pytest.mark.slow
def test_local_model_flags_political_message_conflict(corpus_store):
    from qa.llm import make_llm
    from qa.retrieve import retrieve

    settings, store = corpus_store
    settings = settings.with_(llm_timeout=600.0)
    try:
        model = make_llm("local", settings)
    except Exception as exc:  # the model is installed by `python -m qa.models install`
        pytest.skip(f"local model unavailable: {exc}")
    q = "Is shutting down the UN offices a political message from Baku?"
    found, timings = find_disagreements(q, retrieve(q, store, settings), store, chat_model=model, settings=settings)
    _check_contract(found, store)
    assert timings["disagree_judge_calls"] <= settings.disagreement_judge_calls
    # the 1.5B judge is too weak to pin the exact pair (see bench/disagree_eval.py); what must hold is the contract
    assert all(len({c.citation.doc_id for c in d.claims}) >= 2 and d.kind in ("opinion", "factual") for d in found)


def test_a_rewrite_retrieval_left_out_is_read_beside_its_page(tmp_path):
    """One page and its planted rewrite mean nearly the same (MiniLM), so the rewrite is found from the page's best
    chunk even when no hit comes from it; a page about another hall of the name is not (real embedder and store)."""
    from qa import disagree as D
    from qa.store import open_store
    from qa.types import Hit
    from tests.test_candidates import HALL, HALL_PLANTED, OTHER_HALL

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in (("hall.txt", HALL), ("rewrite.txt", HALL_PLANTED), ("other.txt", OTHER_HALL)):
        (corpus / name).write_text(text, encoding="utf-8")
    store = open_store(Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", llm="none"))
    page = next(c for c in store.chunks if c.doc_id == "hall.txt")
    s, e = page.sentences[0].start, page.sentences[0].end
    hits = [Hit(doc_id="hall.txt", start=s, end=e, text=HALL[s:e], chunk_id=page.chunk_id, score=0.8, dense=0.7)]
    twins = dict(D._twins(hits, store, {"hall.txt"}))
    assert set(twins) == {"rewrite.txt"}
    # and the fact where the two versions differ makes the conflict
    found, readings, _ = D.analyse("Who is the architect of the Harbour Club Building?", hits, store)
    assert readings.conflict and {g.label for g in readings.groups} == {"Ruth Calloway", "Oscar Lindqvist"}


def test_a_copy_retrieval_left_out_is_compared_with_its_page(tmp_path):
    """A snippet and a planted copy of it (one name changed, in its second sentence) from another site: with only the
    page's first sentence retrieved, the copy is still found (qa.disagree._twins) and the changed sentences come
    back as evidence, each with its own name (real embedder and store)."""
    from qa import disagree as D
    from qa.store import open_store
    from qa.types import Hit

    page = ("The Harbour Rowing Club held its spring regatta on the river last weekend. Club president Maria "
            "Lindqvist said the club would build a new boathouse next year.\n")
    copy = page.replace("Maria Lindqvist", "Tomas Berg")
    other = "The city council approved a new cycle lane along the harbour road on Tuesday.\n"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    manifest = {"documents": {"page.txt": {"source": "rowingnews.example"}, "copy.txt": {"source": "mirror.example"},
                              "other.txt": {"source": "citynews.example"}}}
    for name, text in (("page.txt", page), ("copy.txt", copy), ("other.txt", other)):
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    store = open_store(Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", llm="none"))
    chunk = next(c for c in store.chunks if c.doc_id == "page.txt")
    s, e = chunk.sentences[0].start, chunk.sentences[0].end
    hits = [Hit(doc_id="page.txt", start=s, end=e, text=page[s:e], chunk_id=chunk.chunk_id, score=0.8, dense=0.7)]
    added, keys = D._copy_evidence(hits, store)
    said = {(h.doc_id, h.text) for h in added}
    assert ("page.txt", page.split(". ", 1)[1].strip()) in said
    assert ("copy.txt", copy.split(". ", 1)[1].strip()) in said
    assert all(store.docs[h.doc_id].text[h.start:h.end] == h.text for h in added)


def test_a_planted_copy_below_the_evidence_pool_is_still_compared(tmp_path):
    """A snippet and its planted copy that retrieval ranks below the disagreement check's evidence: the wider pool
    (Settings.disagree_copy_k) is read for copies only, so the two are found and make the conflict; without it,
    nothing is noted (real embedder and store)."""
    from qa import disagree as D
    from qa.retrieve import retrieve
    from qa.store import open_store

    page = "Club history: Maria Lindqvist founded the Harbour Rowing Club, the town museum says.\n"
    texts = {"page.txt": ("museum.example", page),
             "copy.txt": ("mirror.example", page.replace("Maria Lindqvist", "Tomas Berg")),
             "regatta.txt": ("rowingnews.example", "The Harbour Rowing Club won the spring regatta on the river.\n"),
             "boathouse.txt": ("citynews.example", "The Harbour Rowing Club opened a new boathouse on Tuesday.\n")}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, (_, text) in texts.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps({"documents": {n: {"source": s} for n, (s, _) in texts.items()}}),
                                          encoding="utf-8")
    settings = Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", llm="none", disagree_k=1)
    store = open_store(settings)
    q = "Who founded the Harbour Rowing Club?"
    hits = [h for h in retrieve(q, store, settings.with_(k_evidence=4)) if h.doc_id == "regatta.txt"][:1]
    assert hits  # the evidence the check starts from names no founder
    _, readings, _ = D.analyse(q, hits, store, settings=settings)
    assert readings.conflict and {g.label for g in readings.groups} == {"Maria Lindqvist", "Tomas Berg"}
    _, readings, _ = D.analyse(q, hits, store, settings=settings.with_(disagree_copy_k=1))
    assert not readings.conflict
