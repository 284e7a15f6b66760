"""The one home of text normalisation: tokens, stopwords, stems, months, number words and abbreviations.

Every module that compares words takes its rules from here, so a fix reaches every caller. Where two callers really
need different rules (a long stopword list for relevance, a short one that ends a value's unit; a suffix stem for
BM25, a Snowball stem for matching words across sentences), both are named here and each says why it differs.

Left out: real lemmatisation and non-English word lists. Sentence splitting lives in qa.chunk (with ABBREVIATIONS from
here) and date parsing in qa.values (with MONTHS from here); see there why no library does them.
"""

from __future__ import annotations

import re
import unicodedata

import Stemmer  # PyStemmer: the Snowball stemmers in C

# ---- stopwords -------------------------------------------------------------------------------------------------

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can cannot could did do does doing don't down during each few for from further had has have
having he her here hers herself him himself his how i if in into is isn't it it's its itself just let's me more most
my myself no nor not of off on once only or other ought our ours ourselves out over own same shall she should so
some such than that that's the their theirs them themselves then there there's these they this those through to too
under until up very was we were what when where which while who whom why will with would you your yours yourself
yourselves according said says say tell told does did what's who's which's whose many much one ones thing things
according way ways well within without yet via per being s t
""".split())
"""Relevance: words that say nothing about a passage's topic (BM25 terms, question/passage overlap)."""

SUPPORT_STOPWORDS = frozenset("""a about above according after again against all also am an and any are as at be
because been before being below between both but by can could did do does doing done down during each either few for
from further had has have having he her here hers him his how i if in into is it its itself just least less many may me
might more most much must my no nor not now of off on once one only or other our ours out over own per same she should
since so some such than that the their theirs them then there these they this those through thus to too under until
up upon us very via was we were what when where whether which while who whom whose why will with within without would
yet you your passage passages source sources text document documents said says stated states mentioned mentions
according however therefore moreover furthermore""".split())
"""Support checking (does a quote back a drafted sentence): STOPWORDS' role plus the words a draft uses to talk about
its sources ("the passage states", "however") and modal verbs, which a quote need not repeat to support it."""

CLAIM_STOPWORDS = frozenset("""a about above after again against all also although am an and any are as at be because
been before being below between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
once only or other our out over own same she should so some such than that the their them then there these they this
those through to too under until up very was we were what when where which while who whom why will with would you
your yours said says according also well one two new""".split())
"""Claim overlap between sources (qa.disagree): STOPWORDS' role, but "one", "two", "new" and "well" also go, since two
reports of one event differ on them freely; kept apart from STOPWORDS because the disagreement thresholds were
calibrated with this list."""

QUESTION_STOPWORDS = frozenset("""a an the of in on at to for by from with and or as is are was were be been being do
does did has have had it its this that these those what which who whom whose when where why how whether there their his
her he she they them him about into over under than then so such not no nor can could should would will shall may might
must also ever first last""".split())
"""A question's subject words (qa.candidates): function words only. Short on purpose: "many", "one", "own" and the like
can be what an answer must state, so the relevance list would drop subject words."""

UNIT_STOPWORDS = frozenset("""of the and or to in on at for a an by from with is was were are per than s that which
who""".split())
"""Words that end the counted thing after a number ("360 political prisoners *in* ..."): the few function words that
can follow a unit. Any longer list would cut units such as "more people" or "own staff" short."""

# ---- tokens ----------------------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def squash(text: str) -> str:
    """Runs of whitespace as one space, the ends stripped."""
    return re.sub(r"\s+", " ", text).strip()


def normalize(text: str) -> str:
    """NFKC, curly quotes straightened, lower case."""
    text = unicodedata.normalize("NFKC", text)
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').lower()


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, possessive 's removed."""
    out = []
    for w in _WORD.findall(normalize(text)):
        w = re.sub(r"'s$", "", w)
        if w:
            out.append(w)
    return out


#: a line this short with no closing punctuation is a heading, not a sentence
HEADING_WORDS = 12


def is_heading(text: str) -> bool:
    """A title or heading line ("Relations between Azerbaijan and the United Nations (UN)"): at most HEADING_WORDS
    words and no full stop, question or exclamation mark, colon or closing quote at its end (pure)."""
    t = text.strip()
    return bool(t) and len(t.split()) <= HEADING_WORDS and not re.search(r"[.!?…:;\"”’']\s*$", t)


def content_terms(text: str) -> list[str]:
    """Stemmed tokens without stopwords: what BM25 and overlap scores compare. An acronym written in capitals is no
    stopword ("How long has WHO operated ...?", "the US"), unless it stands in a run of capitals ("ABOUT US")."""
    raw = [re.sub(r"'s$", "", w, flags=re.I) for w in _WORD.findall(
        unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'"))]
    caps = [len(w) >= 2 and w.isupper() for w in raw]
    out = []
    for i, w in enumerate(raw):
        low = w.lower()
        if not low or not (len(low) > 1 or low.isdigit()):
            continue
        if low in STOPWORDS and not (caps[i] and not (i > 0 and caps[i - 1])
                                     and not (i + 1 < len(raw) and caps[i + 1])):
            continue
        out.append(stem(low))
    return out


# ---- stems -----------------------------------------------------------------------------------------------------


def stem(word: str) -> str:
    """The BM25 stem: a suffix stripper that keeps at least 3 letters (organisations -> organis, offices and office ->
    offic), one spelling for -ise/-ize (organizations -> organis)."""
    # Hand-written on purpose: Snowball (PyStemmer) in its place, indexes rebuilt, lost on the extractive evals
    # (2026-11-26): ClapNQ-100 abstain_unanswerable 0.580 -> 0.540, seed answer_f1 0.080 -> 0.073 and recall@3
    # 0.664 -> 0.658 (recall@1 0.508 -> 0.514 and recall@k 0.755 -> 0.764 were its gains).
    word = _IZE.sub("s", word)  # one spelling for -ise/-ize: "organizations" and "organisations" -> organis
    for suf in ("ational", "ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied",
                "es", "ed", "s"):
        if suf == "s" and word.endswith("ss"):
            break  # "reassess" is no plural: it stems as "reassessing" and "reassessed" do, to reassess
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
    # a silent final e goes, as it does before -es, -ed and -ing: office/offices, close/closed, state/states
    return word[:-1] if word.endswith("e") and len(word) >= 4 else word


#: the z of American -ize/-yze spellings (after three letters, before a suffix), written s: organize -> organise
_IZE = re.compile(r"(?<=[a-z]{3}[iy])z(?=(?:e|es|ed|er|ers|ing|ings|ation|ations|ational|ement|ements)$)")


_SNOWBALL = Stemmer.Stemmer("english")


def snowball_stem(word: str) -> str:
    """The Snowball (Porter2) stem of a lower-case word, from PyStemmer: for matching a quote, an answer or another
    source's claim against a sentence ("directing" -> "direct", "governments" -> "govern").

    It replaced three hand-written matchers (an -ing/-ed/-es/-s stripper keeping 4 letters, in qa.generate and
    qa.candidates, and a 6-letter prefix in qa.disagree). On the extractive evals (2026-11-26) seed, counterfactual
    and ClapNQ-100 were identical; RAMDocs all_gold_given 0.484 -> 0.488 and exact 0.416 -> 0.420; ConflictQA-each-150
    disagreement F1 0.286 -> 0.289, answer F1 0.099 -> 0.098."""
    return _SNOWBALL.stemWord(word)


def word_stem(token: str) -> str:
    """``snowball_stem`` of a token as written: lower case, curly apostrophe and possessive 's removed."""
    return snowball_stem(re.sub(r"['’]s?$", "", token.lower().replace("’", "'")))


# English irregular forms that regular suffix stripping cannot join ("born" / "birth", "won" / "win"); general
# morphology, not vocabulary of any corpus
_IRREGULAR = {w: base for base, forms in {
    "bear": "born birth births bore borne", "win": "won win wins winner winners winning", "write": "wrote written "
    "writes writing writer", "build": "built build builds building", "sing": "sang sung sings singing singer",
    "begin": "began begun begins beginning", "lead": "led leads leader leading", "die": "died dies death dead",
    "found": "founded founder founders founding foundation", "buy": "bought buys buyer", "make": "made makes",
    "take": "took taken takes", "give": "gave given gives", "sell": "sold sells", "hold": "held holds",
    "leave": "left leaves", "run": "ran runs", "find": "finds discovered discovery discover", "marry": "married "
    "marries marriage wife husband spouse", "direct": "directed director directs directing", "produce": "produced "
    "producer produces", "play": "played plays player", "live": "lived lives resident residents population",
}.items() for w in forms.split()}


def match_stem(word: str) -> str:
    """``snowball_stem`` with irregular forms joined ("born" and "birth" -> "bear"): for matching a question's words in
    candidate answer sentences ("who directed" / "director")."""
    return _IRREGULAR.get(word) or snowball_stem(word)


def claim_stems(text: str) -> set[str]:
    """The ``snowball_stem`` of every content word (CLAIM_STOPWORDS out, words of three letters or more): what claim
    overlap between sources compares."""
    return {snowball_stem(w) for w in re.findall(r"[a-z][a-z0-9-]+", text.lower()) if w not in CLAIM_STOPWORDS
            and len(w) > 2}


def singular(word: str) -> str:
    """A plural -s dropped from a lower-case word of four letters or more, except -ss ("prisoners" -> "prisoner")."""
    return word[:-1] if word.endswith("s") and len(word) > 3 and not word.endswith("ss") else word


# ---- months ----------------------------------------------------------------------------------------------------

MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december")
MONTHS = {m: i for i, m in enumerate(MONTH_NAMES, 1)} | {m[:3]: i for i, m in enumerate(MONTH_NAMES, 1)} | {"sept": 9}
"""Month names and their 3-letter (and "sept") abbreviations -> 1..12."""
MONTH_PATTERN = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
                 r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
"""A regex for any form in MONTHS, with an optional full stop (use with re.I)."""


def month_number(name: str) -> int:
    """1..12 for a month name or abbreviation as written ("Sept.", "March", "dec")."""
    low = name.lower().rstrip(".")
    return MONTHS[low[:4] if low.startswith("sept") else low[:3]]


# ---- number words ----------------------------------------------------------------------------------------------

SMALL_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
"""Number words below twenty -> their value."""
TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
"""Multiples of ten from twenty -> their value."""
COUNT_WORDS = {w: str(n) for w, n in (SMALL_NUMBERS | {"twenty": 20, "twice": 2, "thrice": 3}).items() if n >= 2}
"""Number words two..twenty (and "twice", "thrice") as digits, for comparing counts in a quote and a sentence. "zero"
and "one" are left out: "one" is far more often a pronoun ("one of the ...") than a count; "once" too ("once a
prison")."""

# ---- abbreviations ---------------------------------------------------------------------------------------------

ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "gen", "col", "lt", "gov", "sen",
    "rep", "mt", "no", "nos", "vs", "etc", "e.g", "i.e", "cf", "al", "fig", "approx", "dept", "est", "h.e", "u.s",
    "u.n", "u.k", "e.u", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "a.m",
    "p.m", "art", "para", "vol", "pp", "op", "ed", "eds", "rev", "hon", "amb", "min",
})
"""Words that a full stop follows without ending the sentence, lower case and without the final dot (source prose)."""

REPLY_ABBREVIATIONS = ("Dr", "Mr", "Mrs", "Ms", "Prof", "St", "No", "vs", "etc", "e.g", "i.e", "approx", "Jan", "Feb",
                       "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec")
"""The ABBREVIATIONS a model's reply uses, as written (case matters): a reply often ends "... the answer is no."
or "... in the U.S. today.", which must stay sentence ends, so a short case-sensitive list is used there."""

# ---- instructions and questions --------------------------------------------------------------------------------
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules?|prompts?|passages?|above|previous|"
    r"guidelines|everything)\b"
    r"|\byou (must|should|will|are to) (now |always |only )?(answer|reply|respond|say|output|print|write)\b"
    r"|\b(reply|respond|answer|say|output)\b.{0,30}\b(only|exactly|nothing else|with the (single )?word)\b"
    r"|^\s*(system|assistant|developer)\s*(override|message|prompt)?\s*:"
    r"|\bsystem (prompt|override|message|instruction)s?\b",
    re.IGNORECASE,
)


def visible(text: str) -> str:
    """Text without format characters (zero-width spaces, bidi controls) that hide words from people."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


#: the auxiliaries a yes/no question opens with ("Is ...", "Did ..."); each caller adds its own few more
POLAR_AUX = "is|are|was|were|do|does|did|will|would|can|could|should|has|have|had|may|might|must"


def is_question(sentence: str) -> bool:
    """True when a sentence asks rather than states (it ends with "?", before any closing quotes)."""
    return sentence.rstrip(" \"'”’").endswith("?")


def looks_like_instruction(sentence: str) -> bool:
    """True for a sentence that addresses the model ("ignore previous instructions", "reply only X") rather than
    stating something about the world. Such sentences can be quoted but are never shown to a model as evidence."""
    return bool(_INSTRUCTION.search(visible(sentence)))


# ---- negation ----------------------------------------------------------------------------------------------------

_NEG_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*|[^\w\s]")
_NEG_CUES = frozenset("not no never cannot nor neither none nothing nobody without".split())
# a negation's reach ends at a clause break: punctuation, or a word that turns the sentence ("..., rather, ...")
_NEG_ENDS = frozenset("but rather however although though yet while whereas instead except because".split())
_NOT_NEGATION = frozenset({("not", "only"), ("not", "just"), ("not", "merely"), ("not", "least"), ("no", "doubt")})
_QUOTE_MARKS = frozenset("\"'“”‘’«»")


def negated_stems(text: str) -> set[str]:
    """Stems (word_stem) of the words a negation governs: from "not", "no", "never", "-n't" ... to the end of its
    clause (NegEx-style scope). "I don't think it should be perceived as a political message, rather ..." ->
    {think, perceiv, polit, messag, ...}; "not only" and "no doubt" negate nothing (pure)."""
    toks = _NEG_TOKEN.findall(text)
    out: set[str] = set()
    on = False
    for i, tok in enumerate(toks):
        if not tok[0].isalnum():
            if tok not in _QUOTE_MARKS:
                on = False
            continue
        low = tok.lower().replace("’", "'")
        if low in _NEG_ENDS:
            on = False
            continue
        nxt = toks[i + 1].lower() if i + 1 < len(toks) else ""
        if (low in _NEG_CUES or low.endswith("n't")) and (low, nxt) not in _NOT_NEGATION:
            on = True
            continue
        if on:
            out.add(word_stem(tok))
    return out
