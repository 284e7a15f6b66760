"""Pure metric functions and per-question scoring, table-driven, with fake Answers (no store, no model)."""

from __future__ import annotations

import pytest

from qa import metrics as M
from qa.eval import Item, aggregate, calibration, latency, score
from qa.types import Answer, Citation, Claim, Disagreement, Hit


@pytest.mark.parametrize("text, expected", [
    pytest.param("The  Red-Cross [2]!", "red cross", id="markers-punct-articles"),
    pytest.param("Azerbaijan\u2019s $ 10 million", "azerbaijan s 10 million", id="curly-apostrophe-dollar"),
    pytest.param("5\u201310 times [1, 2]", "5 10 times", id="en-dash-multi-marker"),
    pytest.param("", "", id="empty"),
])
def test_normalize(text, expected):
    assert M.normalize(text) == expected


@pytest.mark.parametrize("prediction, accepted, expected", [
    pytest.param("It joined on 2 March 1992. [1]", ["2 March 1992"], True, id="contained"),
    pytest.param("It joined on 12 March 1992.", ["2 March 1992"], False, id="whole-words-only"),
    pytest.param("Azerbaijan has provided $ 10 million to WHO", ["10 million"], True, id="money"),
    pytest.param("the UNHCR", ["UNICEF", "unhcr"], True, id="any-accepted"),
    pytest.param("anything", [], False, id="no-accepted"),
    pytest.param("The sources do not answer.", ["1992"], False, id="abstention-text"),
    pytest.param("It is 20% of the land [1].", ["20 percent"], True, id="percent-sign-vs-word"),
    pytest.param("It was adopted on March 23, 2021 [1].", ["23 March 2021"], True, id="date-format"),
    pytest.param("It was adopted in 2021 [1].", ["23 March 2021"], False, id="less-precise-date"),
    pytest.param("The process began in 2016 [1].", ["2008"], False, id="wrong-year"),
    pytest.param("It has worked there since 2 March 1992.", ["1992"], True, id="more-precise-date"),
    # a citation marker is no value: "[2]" does not answer "two"
    pytest.param("A resolution was adopted in December. [1] Another in March. [2]", ["two"], False,
                 id="marker-is-no-count"),
    pytest.param("Two resolutions were adopted [1].", ["two"], True, id="count-word"),
    pytest.param("The sources say “3 times” [1] [2].", ["three"], True, id="times-states-the-count"),
    pytest.param("The sources say “3 times” [1] [2].", ["three games"], False, id="times-is-no-count-of-things"),
])
def test_answer_match(prediction, accepted, expected):
    assert M.answer_match(prediction, accepted) is expected


@pytest.mark.parametrize("prediction, gold, expected", [
    pytest.param("2 March 1992", "2 March 1992", 1.0, id="exact"),
    pytest.param("on 2 March 1992", "2 March 1992", 2 * 1 * 0.75 / 1.75, id="partial"),
    pytest.param("Baku", "2 March 1992", 0.0, id="disjoint"),
    pytest.param("", "", 1.0, id="both-empty"),
    pytest.param("x", "", 0.0, id="gold-empty"),
])
def test_token_f1(prediction, gold, expected):
    assert M.token_f1(prediction, gold) == pytest.approx(expected)


@pytest.mark.parametrize("a, b, expected", [
    pytest.param(("d", 0, 10), ("d", 5, 20), True, id="overlap"),
    pytest.param(("d", 0, 10), ("d", 10, 20), False, id="touching-half-open"),
    pytest.param(("d", 0, 10), ("e", 0, 10), False, id="other-doc"),
    pytest.param(("d", 3, 4), ("d", 0, 10), True, id="inside"),
    pytest.param(("d", -1, -1), ("d", 0, 10), False, id="missing-gold"),
])
def test_overlaps(a, b, expected):
    assert M.overlaps(a, b) is expected and M.overlaps(b, a) is expected


@pytest.mark.parametrize("cited, gold, expected", [
    pytest.param([("d", 0, 10), ("e", 0, 5)], [("d", 5, 8)], (0.5, 1.0), id="half-precise"),
    pytest.param([("d", 0, 10)], [("d", 5, 8), ("e", 0, 3)], (1.0, 0.5), id="half-recall"),
    pytest.param([], [("d", 0, 3)], (None, 0.0), id="nothing-cited"),
    pytest.param([("d", 0, 3)], [], (None, None), id="no-gold"),
])
def test_citation_scores(cited, gold, expected):
    assert M.citation_scores(cited, gold) == expected


@pytest.mark.parametrize("cited, gold, expected", [
    pytest.param({"a", "b"}, {"a"}, (0.5, 1.0), id="extra-source"),
    pytest.param({"a"}, {"a", "b"}, (1.0, 0.5), id="missing-source"),
    pytest.param(set(), {"a"}, (None, 0.0), id="none-cited"),
])
def test_source_scores(cited, gold, expected):
    assert M.source_scores(cited, gold) == expected


@pytest.mark.parametrize("k, expected", [pytest.param(1, 0.0, id="k1"), pytest.param(2, 0.5, id="k2"),
                                         pytest.param(3, 1.0, id="k3")])
def test_recall_at_k(k, expected):
    hits = [("x", 0, 5), ("d", 0, 5), ("e", 10, 20)]
    assert M.recall_at_k(hits, [("d", 2, 3), ("e", 15, 30)], k) == expected
    assert M.recall_at_k(hits, [], k) is None


@pytest.mark.parametrize("pairs, expected", [
    pytest.param([(True, True), (True, False), (False, True), (False, False), (None, True)],
                 {"precision": 0.5, "recall": 0.5, "f1": 0.5, "n": 4}, id="mixed-null-skipped"),
    pytest.param([(True, False), (False, False)], {"precision": None, "recall": 0.0, "f1": None, "n": 2},
                 id="never-flags"),
    pytest.param([(True, False), (False, True)], {"precision": 0.0, "recall": 0.0, "f1": 0.0, "n": 2},
                 id="all-wrong"),
    pytest.param([(False, False)], {"precision": None, "recall": None, "f1": None, "n": 1}, id="no-positives"),
])
def test_prf(pairs, expected):
    got = M.prf(pairs)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize("values, q, expected", [
    pytest.param([3, 1, 2], 50, 2, id="median"),
    pytest.param([1, 2, 3, 4], 50, 2.5, id="interpolated"),
    pytest.param([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1, id="p90"),
    pytest.param([], 50, None, id="empty"),
])
def test_percentile(values, q, expected):
    assert M.percentile(values, q) == (pytest.approx(expected) if expected is not None else None)


def test_mean_skips_none_and_best_threshold():
    assert M.mean([1, None, 0, True]) == pytest.approx(2 / 3)
    assert M.mean([None]) is None
    t, acc = M.best_threshold([(0.9, True), (0.7, True), (0.6, False), (0.4, False)])
    assert t == 0.7 and acc == 1.0
    assert M.best_threshold([(0.9, True)]) == (None, None)


# ---- score() from Answer fields -------------------------------------------------------------------------------

TEXTS = {"a.txt": "Azerbaijan joined the UN on 2 March 1992. It is in the Caucasus.",
         "b.txt": "Some say one thing. Others say 1993."}


def _cit(n, doc, quote, tamper=False):
    start = TEXTS[doc].index(quote)
    return Citation(n=n, doc_id=doc, title=doc, quote=quote + ("!" if tamper else ""), start=start,
                    end=start + len(quote))


def _hit(doc, quote, score):
    start = TEXTS[doc].index(quote)
    return Hit(doc_id=doc, start=start, end=start + len(quote), text=quote, chunk_id=0, score=score)


ITEM = Item(id="q1", question="When did Azerbaijan join the UN?", type="single-fact",
            gold_quotes=(("a.txt", "Azerbaijan joined the UN on 2 March 1992."),), gold_docs=("a.txt",),
            answers=("2 March 1992",), disagreement=False)
UNANSWERABLE = Item(id="q2", question="Population?", type="unanswerable")


def test_score_good_answer():
    c1, c2 = _cit(1, "a.txt", "Azerbaijan joined the UN on 2 March 1992."), _cit(2, "b.txt", "Others say 1993.")
    answer = Answer(question=ITEM.question, text="Azerbaijan joined the UN on 2 March 1992. [1] Others say 1993. [2]",
                    citations=(c1, c2), timings={"retrieve": 0.1, "total": 0.3})
    hits = [_hit("b.txt", "Others say 1993.", 0.7), _hit("a.txt", "It is in the Caucasus.", 0.6),
            _hit("a.txt", "Azerbaijan joined the UN on 2 March 1992.", 0.5)]
    s = score(ITEM, answer, hits, TEXTS, k=6)
    assert s["quote_validity"] == 1.0 and s["citation_precision"] == 0.5 and s["citation_recall"] == 1.0
    assert (s["source_precision"], s["source_recall"]) == (0.5, 1.0)
    assert s["answer_match"] is True and 0 < s["answer_f1"] < 1
    assert (s["recall@1"], s["recall@3"], s["recall@k"]) == (0.0, 1.0, 1.0)
    assert s["top_score"] == 0.7 and s["relevance"] == 0.7 and s["disagreement_predicted"] is False
    assert score(ITEM, answer, hits, TEXTS, k=6, relevance=0.3)["relevance"] == 0.3


def test_score_counts_tampered_quotes_and_false_disagreement():
    bad = _cit(1, "a.txt", "It is in the Caucasus.", tamper=True)
    claims = (Claim(citation=_cit(1, "a.txt", "It is in the Caucasus.")),
              Claim(citation=_cit(2, "b.txt", "Others say 1993.")))
    answer = Answer(question="q", text="x [1]", citations=(bad,),
                    disagreements=(Disagreement(summary="s", claims=claims),))
    s = score(ITEM, answer, [], TEXTS, k=6)
    assert s["quote_validity"] == 0.0 and s["citation_precision"] == 0.0 and s["answer_match"] is False
    assert s["disagreement_predicted"] is True and s["recall@k"] == 0.0


def test_score_abstention():
    abstain = Answer(question="q", text="The sources do not answer this question.", abstained=True)
    s = score(UNANSWERABLE, abstain, [], TEXTS, k=6)
    assert s["abstain_unanswerable"] is True and "citation_precision" not in s
    s = score(ITEM, abstain, [], TEXTS, k=6)
    assert s["answer_rate_answerable"] is False and s["answer_match"] is False and s["answer_f1"] == 0.0
    assert s["citation_recall"] == 0.0 and s["citation_precision"] is None


def test_gold_quote_missing_from_corpus_is_a_miss():
    item = Item(id="q3", question="?", type="single-fact", gold_quotes=(("a.txt", "not in the text"),),
                answers=("x",))
    answer = Answer(question="?", text="x [1]", citations=(_cit(1, "a.txt", "It is in the Caucasus."),))
    s = score(item, answer, [], TEXTS, k=6)
    assert s["gold_missing"] == 1 and s["citation_recall"] == 0.0


def test_aggregate_latency_calibration():
    rows = [
        {"split": "dev", "answerable": True, "timings": {"total": 1.0},
         "scores": {"citations": 2, "citations_valid": 2, "answer_match": True, "answer_rate_answerable": True,
                    "disagreement_expected": True, "disagreement_predicted": True, "top_score": 0.8}},
        {"split": "dev", "answerable": False, "timings": {"total": 3.0},
         "scores": {"citations": 1, "citations_valid": 0, "abstain_unanswerable": False,
                    "disagreement_expected": None, "disagreement_predicted": True, "top_score": 0.5}},
        {"split": "test", "answerable": True, "error": "boom", "timings": {}},
    ]
    agg = aggregate(rows)
    assert agg["questions"] == 3 and agg["errors"] == 1
    assert agg["quote_validity"] == pytest.approx(2 / 3)
    assert agg["answer_match"] == 1.0 and agg["abstain_unanswerable"] == 0.0
    assert agg["disagreement_precision"] == 1.0 and agg["disagreement_n"] == 1
    assert latency(rows)["total"] == {"p50": 2.0, "p90": pytest.approx(2.8), "n": 2}
    rows[0]["timings"]["llm_prompt_tokens"] = 333
    assert "llm_prompt_tokens" not in latency(rows)
    cal = calibration(rows, 0.42)
    assert cal["split"] == "dev" and cal["answerable"]["p50"] == 0.8 and cal["unanswerable"]["max"] == 0.5
    assert cal["best_threshold"] == 0.8


def _c(n, doc_id, source):
    from qa.types import Citation

    return Citation(n=n, doc_id=doc_id, title=doc_id, source=source, date="", quote="q", start=0, end=1)


def _dis(*doc_ids):
    from qa.types import Claim, Disagreement

    return [Disagreement(summary="s", kind="opinion", claims=tuple(Claim(citation=_c(i + 1, d, ""), stance="")
                                                                    for i, d in enumerate(doc_ids)))]


@pytest.mark.parametrize("text, expected", [
    pytest.param("According to Rights Watch, the closure is an attack. [1]", True, id="named"),
    pytest.param("The closure is an attack [1].", False, id="model-style-unnamed"),
    pytest.param("The offices opened in 1993. [2] The closure is an attack. [1]", False, id="second-sentence-unnamed"),
    pytest.param("The offices opened in 1993. [2]", None, id="no-disputed-citation"),
    pytest.param("The sources disagree: Rights Watch says “an attack” [1], while Ministry says “no” [3].", None,
                 id="who-says-what-line"),
])
def test_attributed(text, expected):
    cits = [_c(1, "ngo.txt", "Rights Watch"), _c(2, "other.txt", "Paper"), _c(3, "gov.txt", "Ministry")]
    assert M.attributed(text, cits, _dis("ngo.txt", "gov.txt")) is expected
