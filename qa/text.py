"""Small pure text helpers shared by retrieval, verification and disagreement: tokens, stopwords, light stemming.

Left out: real lemmatisation and non-English stopword lists; a suffix rule is enough for overlap scoring.
"""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being below
between both but by can cannot could did do does doing don't down during each few for from further had has have
having he her here hers herself him himself his how i if in into is isn't it it's its itself just let's me more most
my myself no nor not of off on once only or other ought our ours ourselves out over own same shall she should so
some such than that that's the their theirs them themselves then there there's these they this those through to too
under until up very was we were what when where which while who whom why will with would you your yours yourself
yourselves according said says say tell told does did what's who's which's whose many much one ones thing things
according way ways well within without yet via per being s t
""".split())

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def squash(text: str) -> str:
    """Runs of whitespace as one space, the ends stripped."""
    return re.sub(r"\s+", " ", text).strip()


def normalize(text: str) -> str:
    """NFKC, curly quotes straightened, lower case."""
    text = unicodedata.normalize("NFKC", text)
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').lower()


def stem(word: str) -> str:
    """A light suffix stripper: organisations -> organis, closing -> clos, offices -> offic."""
    for suf in ("ational", "isation", "ization", "ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied",
                "es", "ed", "s"):
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
    return word


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, possessive 's removed."""
    out = []
    for w in _WORD.findall(normalize(text)):
        w = re.sub(r"'s$", "", w)
        if w:
            out.append(w)
    return out


def content_terms(text: str) -> list[str]:
    """Stemmed tokens without stopwords: what BM25 and overlap scores compare."""
    return [stem(w) for w in tokens(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


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


def is_question(sentence: str) -> bool:
    """True when a sentence asks rather than states (it ends with "?", before any closing quotes)."""
    return sentence.rstrip(" \"'”’").endswith("?")


def looks_like_instruction(sentence: str) -> bool:
    """True for a sentence that addresses the model ("ignore previous instructions", "reply only X") rather than
    stating something about the world. Such sentences can be quoted but are never shown to a model as evidence."""
    return bool(_INSTRUCTION.search(visible(sentence)))
