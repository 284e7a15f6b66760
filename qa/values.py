"""Values stated in a sentence (dates, years, amounts, percentages, counts), normalised so they can be compared.

``extract_values(text)`` finds them with their character offsets; ``compare(a, b)`` says whether two values agree,
conflict or are about different kinds of thing; ``compare_sets`` does the same for two sentences' values.
Every value is an interval, so "2 March 1992" agrees with "1992", "5-10 times" with "7 times", "nearly 30" with "29",
and "1 million" with "one million". Dates in numbers ("08/28/2018", "28.08.2018") take their day and month in the
order a number over 12 gives away, and span both readings where none does; decades ("the late 1980s") and centuries
("the 19th century") are spans of years, years with their era ("AD 1097", "45 BC") are years whatever their size,
and the Indian scale words lakh and crore are numbers (with the rupee: "Rs 500 crore").

Deliberately left out: deciding whether two values are about the *same subject* (that needs the sentence context and
lives in ``qa.disagree``), units conversion beyond scale words (no km vs miles), other calendars, other languages,
and ordinals ("49th session" is a name, not a quantity; a century is the one ordinal read).

Why not dateparser (installed with trafilatura): measured 2026-11-26 on 173 eval-corpus sentences, its search_dates
found 135 dates against these patterns' 70 time values: the 65 extra were mostly not dates ("the 43rd", "and 37",
"Now", "an M", "1/10", "three months"), it missed bare years ("1995", "2009") and "June 9, 2017", gives no offsets and
no precision (a year is not a day), and took 30x as long. Month names and numbers come from qa.text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from qa.text import COUNT_WORDS, MONTH_PATTERN, SMALL_NUMBERS, TENS, UNIT_STOPWORDS, month_number, singular

_MONTH = MONTH_PATTERN
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(1[5-9]\d\d|20\d\d)"

_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "mln": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9,
           "trillion": 1e12, "lakh": 1e5, "lakhs": 1e5, "crore": 1e7, "crores": 1e7}  # lakh, crore: Indian English
_FRACTIONS = {"half": 0.5, "a half": 0.5, "one half": 0.5, "a third": 1 / 3, "one third": 1 / 3,
              "two thirds": 2 / 3, "two-thirds": 2 / 3, "a quarter": 0.25, "one quarter": 0.25,
              "three quarters": 0.75, "three-quarters": 0.75}
_CURRENCY = {"$": "usd", "us$": "usd", "usd": "usd", "dollar": "usd", "dollars": "usd", "us dollars": "usd",
             "€": "eur", "eur": "eur", "euro": "eur", "euros": "eur", "£": "gbp", "gbp": "gbp", "pounds": "gbp",
             "manat": "azn", "azn": "azn", "₹": "inr", "rs": "inr", "rs.": "inr", "inr": "inr", "rupee": "inr",
             "rupees": "inr"}
# "about 100" agrees with 85..115: the original hand-set margin, checked on the seed set's value disagreements
APPROX_LOW, APPROX_HIGH = 0.85, 1.15
_APPROX = re.compile(r"(?:nearly|almost|about|approximately|approx\.?|around|roughly|some|an estimated|estimated|~)\s*$", re.I)
_LOWER = re.compile(r"(?:more than|over|at least|above|exceeding|in excess of|upwards of|\+)\s*$", re.I)
_UPPER = re.compile(r"(?:less than|fewer than|under|below|up to|at most|no more than)\s*$", re.I)


@dataclass(frozen=True)
class Value:
    """One normalised value: a closed interval ``[lo, hi]`` of a kind; days since year 1 for time values."""

    kind: str  # "time", "monthday", "percent", "money:<cur>", "times", "count"
    lo: float
    hi: float
    text: str  # the words as written
    start: int  # offset in the sentence
    end: int
    approx: bool = False
    unit: tuple[str, ...] = ()  # for counts: the words after the number ("local", "ngo")


def _numeric_date(first: int, second: int, y: int) -> tuple[str, float, float]:
    """A date written in numbers, day and month in either order: the order is clear when one number is over 12
    ("08/28/2018", "28.08.2018"); otherwise ("03/04/2018": 3 April or 4 March) the value spans both readings, so it
    agrees with either and conflicts only with a date outside both (raises ValueError for no date)."""
    readings = [(m, d) for m, d in ((first, second), (second, first)) if 1 <= m <= 12 and 1 <= d <= 31]
    if not readings:
        raise ValueError("no month")
    days = [_ord(y, m, d) for m, d in readings]
    return "time", min(days), max(days)


def _year_bc(y: int) -> tuple[str, float, float]:
    """A year before the common era on the same day scale (1 BC is the year before AD 1), to a day's precision
    of the average year (``date`` has no year 0 or before)."""
    first = 1 - y * 365.2425
    return "time", first, first + 364


def _ord(y: int, m: int = 1, d: int = 1) -> float:
    try:
        return float(date(y, m, d).toordinal())
    except ValueError:
        return float(date(y, m, 1).toordinal())


def _month_end(y: int, m: int) -> float:
    return _ord(y + (m == 12), m % 12 + 1) - 1


def _time(y: int, m: int | None = None, d: int | None = None, y2: int | None = None) -> tuple[str, float, float]:
    if y2 is not None:
        return "time", _ord(y), _ord(y2, 12, 31)
    if m is None:
        return "time", _ord(y), _ord(y, 12, 31)
    if d is None:
        return "time", _ord(y, m), _month_end(y, m)
    return "time", _ord(y, m, d), _ord(y, m, d)


def words_to_number(words: str) -> float | None:
    """'one million' -> 1e6, 'twenty-five' -> 25, 'a hundred' -> 100, 'two-thirds' -> 0.667; None if not a number."""
    w = words.lower().strip()
    if w in _FRACTIONS:
        return _FRACTIONS[w]
    total, current, seen = 0.0, 0.0, False
    for tok in re.split(r"[\s-]+", w):
        if tok in ("a", "an") and not seen:
            current, seen = 1.0, True
        elif tok in SMALL_NUMBERS:
            current += SMALL_NUMBERS[tok]
            seen = True
        elif tok in TENS:
            current += TENS[tok]
            seen = True
        elif tok == "hundred" and seen:
            current = max(current, 1) * 100
        elif tok in ("thousand", "million", "billion", "trillion") and seen:
            total += max(current, 1) * _SCALES[tok]
            current = 0.0
        elif tok == "and" and seen:
            continue
        else:
            return None
    return total + current if seen else None


_NUMWORD = (rf"(?:(?:a|an|{'|'.join(w for w, n in SMALL_NUMBERS.items() if n)}|{'|'.join(TENS)})"
            rf"(?:[\s-](?:{'|'.join(w for w, n in SMALL_NUMBERS.items() if 1 <= n <= 9)}))?(?![a-z]))")
_SCALE = r"(?:hundred|thousand|million|mln|billion|bn|trillion|lakhs?|crores?)"
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"

#: the ordinal words a century is written with ("the first century", "the twenty-first century")
_ORDINALS = {w: i + 1 for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
                                            "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
                                            "nineteenth twentieth".split())}
_ORDINALS.update({f"twenty{sep}{w}": 20 + _ORDINALS[w] for w in ("first", "second") for sep in ("-", " ")})
_ORDINAL_WORD = "(?:" + "|".join(sorted(map(re.escape, _ORDINALS), key=len, reverse=True)) + ")"

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    # "08/28/2018", "28.08.2018", "28-08-2018": day and month in either order (the order a larger number gives away)
    ("numdate", re.compile(rf"(?<![\d/.-])\b(\d{{1,2}})([/.-])(\d{{1,2}})\2{_YEAR}\b(?![/.-]?\d)")),
    ("dmy", re.compile(rf"\b(?:the\s+)?{_DAY}(?:\s+of)?\s+({_MONTH}),?\s+{_YEAR}\b", re.I)),
    ("mdy", re.compile(rf"\b({_MONTH})\s+{_DAY},?\s+{_YEAR}\b", re.I)),
    ("my", re.compile(rf"\b({_MONTH})(?:\s+of)?,?\s+{_YEAR}\b", re.I)),
    ("dm", re.compile(rf"\b{_DAY}(?:\s+of)?\s+({_MONTH})(?![a-z])", re.I)),
    ("md", re.compile(rf"\b({_MONTH})\s+{_DAY}(?![\d,]*\d)\b", re.I)),
    # "the 1990s", "the late 1980s": a decade (early / mid / late read as the whole decade: "1987" agrees with "the
    # late 1980s" and with "the mid-1980s" alike); "the 19th century": 1801-1900; years written with their era
    # ("1000s" is thousands, not the decade; "20th Century Fox" a name, so the century is read in lower case only)
    ("decade", re.compile(r"\b(?:(?:[Ee]arly|[Mm]id|[Ll]ate)[\s-]+)?(1[1-9]\d0|20\d0)['’]?s\b")),
    ("century", re.compile(rf"\b(\d{{1,2}}(?:st|nd|rd|th)|{_ORDINAL_WORD})[\s-]+century\b(?!\s*(?:BC|BCE|B\.C\.))")),
    ("era", re.compile(r"\b(?:AD|A\.D\.?)\s?(\d{1,4})\b|\b(?:CE|C\.E\.?)\s?(\d{3,4})\b"
                       r"|\b(\d{1,4})\s?(AD|A\.D\.|CE|C\.E\.|BC|B\.C\.|BCE|B\.C\.E\.)(?![A-Za-z])")),
    ("yrange", re.compile(rf"\b{_YEAR}\s?[-–—]\s?{_YEAR}\b|\bbetween\s+{_YEAR}\s+and\s+{_YEAR}\b")),
    ("year", re.compile(rf"(?<![\d,.$])\b{_YEAR}\b(?![.,]?\d|\s?%)")),
    ("money", re.compile(rf"(US\$|\$|€|£|₹|\bUSD|\bEUR|\bGBP|\bAZN|\bINR|\bRs\.?)\s?({_DIGITS})(?:\s?({_SCALE})\b)?",
                         re.I)),
    ("range", re.compile(rf"(?<![A-Za-z]-)\b({_DIGITS})\s?(?:[-–—]|to)\s?({_DIGITS})(?:\s?({_SCALE})\b)?(\s?(?:%|percent\b|per cent\b|times\b))?", re.I)),
    ("num", re.compile(rf"(?<![:\d])(?<![A-Za-z]-)\b({_DIGITS})(?!\d|:\d|,\d|\.\d)(?:\s?({_SCALE})\b)?(\s?(?:%|percent\b|per cent\b|times\b))?", re.I)),
    ("frac", re.compile(r"\b(?:a half|half|a third|one third|two[\s-]thirds|a quarter|one quarter|three[\s-]quarters)\b", re.I)),
    ("word", re.compile(rf"\b({_NUMWORD}(?:[\s-]+(?:and\s+)?(?:{_NUMWORD}|{_SCALE}))*)(?:\s?(%|percent\b|per cent\b|times\b))?", re.I)),
    # "twice" / "thrice" are "2 times" / "3 times" ("once" is left out: "once a prison" is no count)
    ("mult", re.compile(r"\b(twice|thrice)\b", re.I)),
]


def _unit_after(text: str, end: int) -> tuple[tuple[str, ...], int]:
    """The counted thing: up to three words after a number ('360 political prisoners' -> ('political', 'prisoner'))."""
    m = re.match(r"\s*us\s+dollars?\b", text[end:], re.I)
    if m:
        return ("cur:usd",), end + m.end()
    m = re.match(r"\s*\(?\s*([A-Za-z][A-Za-z-]*)", text[end:])
    if m and m.group(1).lower() in _CURRENCY:
        return ("cur:" + _CURRENCY[m.group(1).lower()],), end + m.end()
    words = []
    for w in re.findall(r"[A-Za-z][A-Za-z-]*|[^\sA-Za-z]", text[end:end + 60])[:3]:
        w = w.lower()
        if not w[0].isalpha() or w in UNIT_STOPWORDS:
            break
        words.append(singular(w))
    return tuple(words), end


def _qualify(text: str, start: int) -> str:
    before = text[max(0, start - 25):start]
    if _APPROX.search(before):
        return "approx"
    if _LOWER.search(before):
        return "lower"
    if _UPPER.search(before):
        return "upper"
    return ""


def _num(s: str) -> float:
    return float(s.replace(",", ""))


#: a range's ends differ at most this many times over; "22-62105" is a code, "1,000-5,000" a range
RANGE_MAX_RATIO = 100
#: a number alone in square brackets is a page's reference mark ("[1]", "[ 12 ]" in a flattened web capture)
_FOOTNOTE_OPEN, _FOOTNOTE_CLOSE = re.compile(r"\[\s?$"), re.compile(r"\s?\]")
#: a length unit right before a lone 2 or 3 makes it the unit's power: "Density 100/km 2" is km², "54.0/km 2" too
_UNIT_BEFORE = re.compile(r"(?<![A-Za-z])(?:km|m|mi|ft|cm|mm)\s?$")
#: what _make returns for digits that form an identifier: their stretch is taken, and no value comes of it (typed
#: as a Value so _make keeps one return type; extract_values never lets it out)
IDENTIFIER: Any = object()


def _quantity(text: str, start: int, end: int, lo: float, hi: float, suffix: str, prefix_cur: str = "") -> Value:
    suffix = (suffix or "").strip().lower()
    unit: tuple[str, ...] = ()
    if prefix_cur:
        kind = "money:" + prefix_cur
    elif suffix in ("%", "percent", "per cent"):
        kind = "percent"
    elif suffix == "times":
        kind = "times"
    else:
        unit, uend = _unit_after(text, end)
        if unit and unit[0].startswith("cur:"):
            kind, unit, end = "money:" + unit[0][4:], (), uend
        else:
            kind = "count"
    q = _qualify(text, start)
    if text[end:end + 1] == "+":
        q, end = "lower", end + 1
    approx = q == "approx"
    if q == "approx":
        lo, hi = lo * APPROX_LOW, hi * APPROX_HIGH
    elif q == "lower":
        hi = float("inf")
    elif q == "upper":
        lo = 0.0
    return Value(kind, lo, hi, text[start:end], start, end, approx, unit)


def extract_values(text: str) -> list[Value]:
    """Every date, year, amount, percentage and count in ``text``, in order, without overlaps."""
    taken: list[tuple[int, int]] = []
    out: list[Value] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for name, pat in _PATTERNS:
        for m in pat.finditer(text):
            a, b = m.span()
            if not free(a, b):
                continue
            v = _make(name, m, text)
            if v is None:
                continue
            taken.append((a, b))
            if v is not IDENTIFIER:  # an identifier's digits are no values either, whole or in parts
                out.append(v)
    return sorted(out, key=lambda v: v.start)


def _make(name: str, m: re.Match, text: str) -> Value | None:
    """The value one pattern's match reads as; None when it reads as none (its stretch stays free for other
    patterns); IDENTIFIER when its digits form a code (its stretch is taken, and no value comes of it)."""
    a, b = m.span()
    g = m.groups()
    try:
        if name == "iso":
            k, lo, hi = _time(int(g[0]), int(g[1]), int(g[2]))
        elif name == "numdate":
            k, lo, hi = _numeric_date(int(g[0]), int(g[2]), int(g[3]))
        elif name == "dmy":
            k, lo, hi = _time(int(g[2]), month_number(g[1]), int(g[0]))
        elif name == "mdy":
            k, lo, hi = _time(int(g[2]), month_number(g[0]), int(g[1]))
        elif name == "my":
            if g[0].lower().rstrip(".") in ("may", "mar") and not g[0][0].isupper():
                return None  # "may 2020" as a verb is rare, but lower-case "mar" is not a month
            k, lo, hi = _time(int(g[1]), month_number(g[0]))
        elif name in ("dm", "md"):
            day, mon = (g[0], g[1]) if name == "dm" else (g[1], g[0])
            if not mon[0].isupper() or not 1 <= int(day) <= 31:
                return None
            # month/day without a year: compared only with another month/day
            k, lo, hi = "monthday", month_number(mon) * 100 + int(day), month_number(mon) * 100 + int(day)
        elif name == "decade":
            k, lo, hi = _time(int(g[0]), y2=int(g[0]) + 9)
        elif name == "century":
            n = _ORDINALS.get(g[0].lower()) or int(g[0][:-2])
            if not 1 <= n <= 21:
                return None
            k, lo, hi = _time(100 * (n - 1) + 1, y2=100 * n)
        elif name == "era":
            y = int(g[0] or g[1] or g[2])
            if y < 1:
                return None
            k, lo, hi = _time(y) if not (g[3] or "").upper().startswith("B") else _year_bc(y)
        elif name == "yrange":
            y1, y2 = (g[0], g[1]) if g[0] else (g[2], g[3])
            if int(y2) < int(y1):
                return None
            k, lo, hi = _time(int(y1), y2=int(y2))
        elif name == "year":
            k, lo, hi = _time(int(g[0]))
        elif name == "money":
            cur = _CURRENCY[g[0].lower()]
            scale = _SCALES.get((g[2] or "").lower(), 1.0)
            v = _num(g[1]) * scale
            return _quantity(text, a, b, v, v, "", prefix_cur=cur)
        elif name == "range":
            scale = _SCALES.get((g[2] or "").lower(), 1.0)
            lo, hi = _num(g[0]) * scale, _num(g[1]) * scale
            if hi < lo:
                return None
            if lo > 0 and hi > RANGE_MAX_RATIO * lo and not g[2] and not g[3]:
                return IDENTIFIER  # "FIPS code 22-62105": a code, not a range of amounts
            return _quantity(text, a, b, lo, hi, g[3] or "")
        elif name == "num":
            if re.match(r"(?:st|nd|rd|th)\b", text[b:b + 2]):
                return None  # ordinal
            if _FOOTNOTE_OPEN.search(text[max(0, a - 3):a]) and _FOOTNOTE_CLOSE.match(text[b:b + 3]):
                return IDENTIFIER  # "India census , [ 1 ] Wadi had ...": a reference mark, not a count
            if g[0] in ("2", "3") and _UNIT_BEFORE.search(text[max(0, a - 4):a]):
                return IDENTIFIER  # "100/km 2": a flattened square (or cube), not a count of 2
            scale = _SCALES.get((g[1] or "").lower(), 1.0)
            v = _num(g[0]) * scale
            return _quantity(text, a, b, v, v, g[2] or "")
        elif name == "frac":
            v = 100 * _FRACTIONS[re.sub(r"\s+", " ", m.group(0).lower()).replace("two thirds", "two-thirds").replace(
                "three quarters", "three-quarters")]
            return _quantity(text, a, b, v, v, "%")
        elif name == "mult":
            v = float(COUNT_WORDS[g[0].lower()])
            return _quantity(text, a, b, v, v, "times")
        elif name == "word":
            words = g[0]
            v = words_to_number(words)
            low = words.lower().split()
            if v is None or (low[0] in ("a", "an", "one") and not re.search(_SCALE, words, re.I)):
                return None  # "one of the", "a": not quantities
            return _quantity(text, a, b, v, v, g[1] or "")
        else:
            return None
    except (ValueError, KeyError):
        return None
    return Value(k, lo, hi, text[a:b], a, b)


def comparable(a: Value, b: Value) -> bool:
    """Whether two values measure the same kind of thing (a date and a count never do)."""
    if a.kind != b.kind:
        return False
    if a.kind != "count":
        return True
    # a bare count ("38") compares with a count of things ("38 games"); counted things must share a word
    return not a.unit or not b.unit or bool(set(a.unit) & set(b.unit))


def compare(a: Value, b: Value) -> str:
    """'agree' when the intervals meet, 'conflict' when they do not, 'unrelated' when not comparable."""
    if not comparable(a, b):
        return "unrelated"
    tol = 0.0 if a.kind in ("time", "monthday") else 1e-9 * max(abs(a.hi), abs(b.hi), 1.0)
    return "agree" if a.lo <= b.hi + tol and b.lo <= a.hi + tol else "conflict"


def restates(v: Value, named: list[Value]) -> bool:
    """True when ``v`` says no more than a value of ``named`` (the question's own): it agrees with one and is no
    narrower. "1994" inside a question's "the 1990s" is news (when in that decade); "1990s" or "1990-1999" is not."""
    return any(compare(v, n) == "agree" and not (n.lo <= v.lo and v.hi <= n.hi and v.hi - v.lo < n.hi - n.lo)
               for n in named)


def compare_sets(a: list[Value], b: list[Value]) -> str:
    """'agree' if some comparable pair agrees, 'conflict' if comparable pairs exist and none agree, else 'unrelated'."""
    verdicts = {compare(x, y) for x in a for y in b} - {"unrelated"}
    if not verdicts:
        return "unrelated"
    return "agree" if "agree" in verdicts else "conflict"
