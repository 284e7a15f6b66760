"""qa.values: each value's kind, interval and offsets, the qualifiers that widen an interval, and comparison rules.

(Sentence-pair verdicts over many written forms live in tests/test_disagree_units.py, next to their main user.)"""

from __future__ import annotations

from datetime import date

import pytest

from qa.values import APPROX_HIGH, APPROX_LOW, Value, comparable, compare, compare_sets, extract_values, restates

INF = float("inf")


def day(y: int, m: int, d: int) -> float:
    return float(date(y, m, d).toordinal())


@pytest.mark.parametrize("text, kind, lo, hi", [
    pytest.param("admitted on 2 March 1992", "time", day(1992, 3, 2), day(1992, 3, 2), id="day"),
    pytest.param("admitted on 1992-03-02", "time", day(1992, 3, 2), day(1992, 3, 2), id="iso-day"),
    pytest.param("in March 1992", "time", day(1992, 3, 1), day(1992, 3, 31), id="month"),
    pytest.param("in February 2024", "time", day(2024, 2, 1), day(2024, 2, 29), id="leap-month"),
    pytest.param("in December 1991", "time", day(1991, 12, 1), day(1991, 12, 31), id="december"),
    pytest.param("in 1995", "time", day(1995, 1, 1), day(1995, 12, 31), id="year"),
    pytest.param("during 1992-1995", "time", day(1992, 1, 1), day(1995, 12, 31), id="year-range"),
    pytest.param("released on 08/28/2018", "time", day(2018, 8, 28), day(2018, 8, 28), id="numeric-month-first"),
    pytest.param("released on 28.08.2018", "time", day(2018, 8, 28), day(2018, 8, 28), id="numeric-day-first"),
    pytest.param("released on 28-08-2018", "time", day(2018, 8, 28), day(2018, 8, 28), id="numeric-dashes"),
    pytest.param("released on 03/04/2018", "time", day(2018, 3, 4), day(2018, 4, 3), id="numeric-either-order"),
    pytest.param("popular in the late 1980s", "time", day(1980, 1, 1), day(1989, 12, 31), id="decade"),
    pytest.param("in the 19th century", "time", day(1801, 1, 1), day(1900, 12, 31), id="century"),
    pytest.param("by the end of the first century", "time", day(1, 1, 1), day(100, 12, 31), id="century-in-words"),
    pytest.param("invaded in AD 1097", "time", day(1097, 1, 1), day(1097, 12, 31), id="era-year-before"),
    pytest.param("invaded in 1097 CE", "time", day(1097, 1, 1), day(1097, 12, 31), id="era-year-after"),
    pytest.param("overthrown in C.E 476", "time", day(476, 1, 1), day(476, 12, 31), id="era-before-the-year"),
    pytest.param("a budget of Rs 500 crore", "money:inr", 5e9, 5e9, id="crore-rupees"),
    pytest.param("5 lakh people", "count", 5e5, 5e5, id="lakh"),
    pytest.param("on 2 March the vote", "monthday", 302, 302, id="month-day-without-year"),
    pytest.param("more than 360 prisoners", "count", 360, INF, id="lower-bound"),
    pytest.param("less than $5 million", "money:usd", 0, 5e6, id="upper-bound"),
    pytest.param("up to 40%", "percent", 0, 40, id="up-to"),
    pytest.param("2.5 billion euros", "money:eur", 2.5e9, 2.5e9, id="scale-word-and-currency"),
    pytest.param("two thirds of members", "percent", 200 / 3, 200 / 3, id="fraction-as-percent"),
])
def test_kind_and_interval(text, kind, lo, hi):
    [v] = extract_values(text)
    assert (v.kind, v.lo, v.hi) == (kind, pytest.approx(lo), pytest.approx(hi))


@pytest.mark.parametrize("text, n", [
    pytest.param("about 100 people", 100, id="about"),
    pytest.param("some 3,000 refugees", 3000, id="some-with-separator"),
    pytest.param("nearly 20 percent", 20, id="nearly"),
])
def test_approximate_values_widen_by_the_named_margin(text, n):
    [v] = extract_values(text)
    assert v.approx and (v.lo, v.hi) == (pytest.approx(n * APPROX_LOW), pytest.approx(n * APPROX_HIGH))


@pytest.mark.parametrize("text, spans", [
    pytest.param("It joined on 2 March 1992 and left in 1995.", ["2 March 1992", "1995"], id="two-dates"),
    pytest.param("UNDP gave $754,570 to 12 local NGOs in 2023.", ["$754,570", "12", "2023"], id="money-count-year"),
    pytest.param("No numbers here at all.", [], id="none"),
])
def test_values_in_order_with_their_offsets(text, spans):
    values = extract_values(text)
    assert [v.text for v in values] == spans
    assert all(text[v.start:v.end] == v.text for v in values)
    assert [v.start for v in values] == sorted(v.start for v in values)


def _v(kind: str, lo: float, hi: float, unit: tuple[str, ...] = ()) -> Value:
    return Value(kind, lo, hi, "", 0, 0, unit=unit)


@pytest.mark.parametrize("a, b, verdict", [
    pytest.param(_v("count", 5, 10), _v("count", 10, 12), "agree", id="touching-intervals-agree"),
    pytest.param(_v("count", 5, 10), _v("count", 10.5, 12), "conflict", id="disjoint-intervals-conflict"),
    pytest.param(_v("count", 38, 38, ("game",)), _v("count", 38, 38, ("country",)), "unrelated", id="other-things"),
    pytest.param(_v("count", 38, 38, ("game",)), _v("count", 173, 173), "conflict", id="bare-count-compares"),
    pytest.param(_v("time", 1, 1), _v("monthday", 1, 1), "unrelated", id="date-vs-monthday"),
    pytest.param(_v("money:usd", 1e6, 1e6), _v("money:usd", 1e6 * (1 + 1e-12), 2e6), "agree",
                 id="float-noise-tolerated"),
])
def test_compare(a, b, verdict):
    assert compare(a, b) == verdict == compare(b, a)
    assert comparable(a, b) == (verdict != "unrelated")


@pytest.mark.parametrize("a, b, verdict", [
    pytest.param("in 1992 and 55%", "on 2 March 1992", "agree", id="one-agreeing-pair-is-enough"),
    pytest.param("in 1971", "in 1972 or 38 games", "conflict", id="comparable-pairs-all-disagree"),
    pytest.param("in 1992", "55%", "unrelated", id="nothing-comparable"),
    pytest.param("no values", "in 1992", "unrelated", id="one-side-empty"),
    # a date written in numbers is one date, not two counts and a year; an order no number gives away agrees with
    # either reading
    pytest.param("Release Date:08/28/2018", "on August 28, 2018", "agree", id="same-day-in-numbers"),
    pytest.param("Release Date:08/28/2018", "premiered on October 10, 2017", "conflict", id="other-day"),
    pytest.param("on 03/04/2018", "on 4 March 2018", "agree", id="either-reading-agrees-march"),
    pytest.param("on 03/04/2018", "on 3 April 2018", "agree", id="either-reading-agrees-april"),
    pytest.param("on 03/04/2018", "on 9 May 2018", "conflict", id="outside-both-readings"),
    # "the 1990s" is ten years, not the count 1990; "AD 1097" and "45 BC" are years the bare-year pattern (1500 to
    # 2099) leaves out
    pytest.param("gone extinct in the early 1990s", "last seen in 1993", "agree", id="year-in-decade"),
    pytest.param("gone extinct in the early 1990s", "declared extinct in 2012", "conflict", id="year-outside-decade"),
    pytest.param("built in 45 BC", "built in 44 BC", "conflict", id="years-before-the-era"),
    pytest.param("built in 45 BC", "built in AD 45", "conflict", id="either-side-of-the-era"),
    pytest.param("founded in the 12th century", "founded in AD 1150", "agree", id="year-in-century"),
    pytest.param("by the end of the first century", "as late as the 3rd century", "conflict", id="two-centuries"),
])
def test_compare_sets(a, b, verdict):
    assert compare_sets(extract_values(a), extract_values(b)) == verdict


@pytest.mark.parametrize("text", ["on 13/13/2018", "version 555/12/2018", "see 1.2.2.2018"])
def test_numbers_that_cannot_be_a_day_and_month_are_no_date(text):
    assert [v.text for v in extract_values(text) if v.kind == "time" and not v.text.isdigit()] == []


@pytest.mark.parametrize("text, values", [
    pytest.param("FIPS code 22-62105 Website portvincent.org", [], id="code"),
    pytest.param("from 1,000-5,000 people", [(1000.0, 5000.0)], id="range"),
    pytest.param("aged 5-6", [(5.0, 6.0)], id="small-range"),
    pytest.param("between 2-300 million people", [(2e6, 3e8)], id="scaled-range-kept"),
    # a number alone in square brackets is a page's reference mark, in either spacing of a flattened capture
    pytest.param("India census , [ 1 ] Wadi had a population of 40,147 .", [(40147.0, 40147.0)], id="spaced-mark"),
    pytest.param("census,[12] it had 3 people", [(3.0, 3.0)], id="mark"),
    pytest.param("a list [3 people] of names", [(3.0, 3.0)], id="bracketed-count-kept"),
    pytest.param("Total 17,289 • Density 100/km 2 ( 270/sq mi )", [(17289.0, 17289.0), (100.0, 100.0), (270.0, 270.0)],
                 id="a-flattened-square-is-no-count"),
    pytest.param("an area of 7 km 2 and 2 lakes", [(7.0, 7.0), (2.0, 2.0)], id="a-count-after-it-is-kept"),
])
def test_digits_that_form_an_identifier_are_no_values(text, values):
    """A hyphenated pair of numbers whose ends differ more than 100-fold is a code, not a range of amounts: neither
    the pair nor its parts are read as counts ("22-62105" made the FIPS code a town's population)."""
    assert [(v.lo, v.hi) for v in extract_values(text) if v.kind == "count"] == values


@pytest.mark.parametrize("value, named, verdict", [
    pytest.param("since 1994", "in the 1990s", False, id="a-year-of-the-decade-is-news"),
    pytest.param("on 15 July 2018", "the 2018 final", False, id="a-day-of-the-year-is-news"),
    pytest.param("in the 1990s", "in the 1990s", True, id="the-same-value"),
    pytest.param("between 1990 and 1999", "in the 1990s", True, id="the-same-interval-otherwise-written"),
    pytest.param("in 2005", "in the 1990s", False, id="another-value"),
])
def test_a_value_restates_the_questions_own_only_when_no_narrower(value, named, verdict):
    """"Which agencies helped in the 1990s, and when did they arrive?": "since 1994" answers, though it lies in the
    decade the question names; "the 1990s" itself only repeats the question."""
    [v] = extract_values(value)
    assert restates(v, extract_values(named)) is verdict
