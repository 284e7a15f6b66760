"""A question that names the source it asks about: which documents it means (pure).

"According to the op-ed, ...", "What does the IHR demand?", "How does the NGO describe ...?", "Who wrote the op-ed?":
the question asks what one source says, so its evidence comes from that source's documents alone. A source is named
by its publisher, the manifest's ``source``: "Institute for Human Rights (IHR)" by its name, by "IHR", by "the
institute"; "Ministry of Foreign Affairs of the Republic of Azerbaijan" by "the Ministry of Foreign Affairs", "MFA",
"the ministry"; "Dr. Vasif Huseynov (op-ed)" by "Huseynov"; a site by its whole name ("Caliber.az"), never by a word
of it ("mlb" of "www.mlb.com" is what questions about baseball say). Or by its kind: "the NGO", "the op-ed", and the
words readers use for a press piece ("the interview", "the article") or an op-ed ("the opinion piece").

A name is read as the source only where the question frames it as one: after "according to", or after "in" / "by" /
"from" where the name ends the phrase ("in the op-ed, ...", not "in mlb history"), before a verb of saying ("does
the NGO describe", "the IHR say"), or after "wrote" / "author of". "Why did the government close the offices?" asks
about an actor, not about what the government's pages say, and is not scoped; nor is a question whose framed source
is every document, or none. What is searched for leaves out the naming ("the op-ed", "the op-ed author") and the verbs
that only frame what a source says ("think", "describe"); a scope that another page's report of the source's act
outscores ("Why did the government criticise the UNDP?") is dropped by the search (qa.retrieve._reported_elsewhere).

Left out: titles ("the statement"), which name a document too loosely to scope a search by; a server-backed store
(Milvus), whose documents are fetched on demand and would all be read to group them by publisher.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from qa.text import content_terms, stem

# verbs of saying, judging and writing (general English), by stem; the irregular past forms as written
SAYING_WORDS = tuple("""say state claim argue describe call characterise characterize demand explain
    mention note report stress emphasise emphasize warn write think believe view see suggest assert insist allege
    condemn criticise criticize accuse praise propose recommend urge announce acknowledge admit deny reject blame
    portray present tell cite highlight conclude predict consider feel frame position statement opinion account
    argument stance assessment perspective""".split())
SAYING = frozenset(stem(w) for w in SAYING_WORDS) | {"said", "told", "wrote", "written", "thought", "saw", "seen",
                                                     "felt", "says"}
# ... of which these only frame what a source says, and are left out of what is searched for ("What does the op-ed
# author think about the UN?" looks for the op-ed's sentences about the UN, none of which says "think"); "demand",
# "condemn", "propose" say what is asked and stay
_FRAMING = frozenset(stem(w) for w in """say state think believe feel view consider write mention note claim argue
    suggest assert explain describe report tell""".split()) | {"said", "told", "wrote", "written", "thought", "felt",
                                                               "says"}
_BEFORE = (r"(?:according\s+to|\bin|\bby|\bfrom|\bwrote|\bwrites|\bwritten|\bauthor\s+of|\bauthors\s+of"
           r"|^\W*(?:and\s+)?(?:what|how)\s+about)")  # "What about the op-ed?": a follow-up turning to a source
# ... and where the name ends a phrase: "in the op-ed, ...", "by the IHR?", "in the IHR's view", but not "in mlb history"
_AFTER = r"(?=\s*(?:[,;:?.!)]|$|['’]s\b|\s(?:about|on|regarding|concerning)\b))"
_KINDS_SKIPPED = frozenset({"", "other"})
# the words a reader uses for the manifest's kinds of document (qa.types.Document.kind), beside the kind itself
_KIND_WORDS = {"press": ("interview", "article", "news article", "news report"),
               "op-ed": ("opinion piece", "column", "commentary")}
_TITLES = re.compile(r"^(?:dr|mr|mrs|ms|prof|sir|professor)\.?\s+", re.I)
_MIN_FORM = 3  # shorter forms ("UN") name too much to scope by
COORDINATED = 6  # words a second source's name may take after "and" before the verb of saying they share


def _head(source: str) -> str:
    """The publisher's name without a bracketed aside or what follows a comma ("Institute for Human Rights (IHR)"
    -> "Institute for Human Rights")."""
    return re.split(r"\s*[(,]", source, maxsplit=1)[0].strip()


@lru_cache(maxsize=4096)
def source_forms(source: str, kind: str = "") -> frozenset[str]:
    """The ways a question can name this publisher and kind of document (lower-case)."""
    forms: set[str] = set()
    if kind.strip().lower() not in _KINDS_SKIPPED:
        k = kind.strip().lower()
        forms |= {k, k.replace("-", " "), k.replace("-", ""), *_KIND_WORDS.get(k, ())}
    source = source.strip()
    if not source:
        return frozenset(f for f in forms if len(f) >= _MIN_FORM)
    head = _head(source)
    short = re.split(r"\s+of\s+the\s+", head, maxsplit=1)[0]  # "Ministry of Foreign Affairs (of the Republic ...)"
    forms |= {head.lower(), short.lower(), _TITLES.sub("", head).lower()}
    for aside in re.findall(r"\(([^)]{2,40})\)", source):  # "(IHR)", "(op-ed)"
        forms.add(aside.strip().lower())
    if _TITLES.match(head):  # a person: "Dr. Vasif Huseynov" is also "Huseynov"
        forms.add(head.split()[-1].lower())
    else:
        caps = [w for w in short.split() if w[:1].isupper()]
        if len(caps) >= 2:
            forms.add("".join(w[0] for w in caps).lower())  # "MFA", "IHR"
            forms.add("the " + caps[0].lower())  # "the ministry", "the institute"
    return frozenset(f for f in forms if len(f.replace("the ", "")) >= _MIN_FORM)


def _name(form: str) -> str:
    """The pattern of a form as a question writes it: its words apart by spaces or hyphens ("op ed", "op-ed")."""
    return r"[\s-]+".join(map(re.escape, form.split()))


def _form_in(form: str, low: str) -> bool:
    """True when the lower-case text holds a form of a source's name as whole words ("the ministry" as "ministry")."""
    return bool(re.search(r"(?<![\w-])" + _name(form.replace("the ", "", 1)) + r"(?![\w-])", low))


def _framed(question: str, form: str) -> int:
    """1 when the question names ``form`` as a source: after "according to"/"in"/"by"/"wrote", or before a verb of
    saying (one word, an adverb or an auxiliary, may stand between); 2 when only joined by "and" to what stands
    before the verb ("the MFA and the interview say": a source only if what it is joined to is one too); else 0."""
    name = r"(?<![\w-])" + _name(form) + r"(?![\w-])"
    low = question.lower()
    if re.search(_BEFORE + r"\s+(?:the\s+|this\s+|that\s+)?" + name + _AFTER, low):
        return 1
    joined = False
    for m in re.finditer(name + r"(?:['’]s)?", low):
        after = re.findall(r"[a-z]+", low[m.end():])
        if any(w in SAYING or stem(w) in SAYING for w in after[:2]):
            return 1
        if after[:1] and after[0] in ("and", "or"):
            joined |= any(w in SAYING or stem(w) in SAYING for w in after[1:2 + COORDINATED])
    return 2 if joined else 0


@dataclass(frozen=True)
class Scope:
    """The documents a question names as its source, and the question with that naming taken out (what is searched
    for: no sentence of the op-ed says "op-ed"). No documents: the question names no source, or names every one."""

    docs: frozenset[str] = frozenset()
    query: str = ""
    forms: frozenset[str] = frozenset()  # the words that named the source ("the government", "ihr"), lower-case

    def named_in(self, text: str) -> bool:
        """True when ``text`` names the source by a form the question used ("The Azerbaijani government has
        criticized the UNDP" for "Why did the government criticise the UNDP?") (pure)."""
        low = text.lower()
        return any(_form_in(f, low) for f in self.forms)


def _without(question: str, form: str) -> str:
    """The question without the phrase that names the source ("According to the op-ed, why ...?" -> "why ...?")."""
    # "the op-ed author", "the op-ed's writer": the person who wrote the document names it as well
    name = r"(?:(?:the|this|that)\s+)?" + _name(form) + r"(?![\w-])(?:['’]s)?(?:\s+(?:author|writer)s?\b)?"
    out = re.sub(r"(?i)\b(?:according\s+to|in|by|from)\s+" + name + r"\s*,?\s*", "", question)
    out = re.sub(r"(?i)(?<![\w-])" + name + r"\s*", "", out)
    out = re.sub(r"\s+([,?.!])", r"\1", re.sub(r"\s{2,}", " ", out)).strip(" ,")
    return out[:1].upper() + out[1:] if out else out


def _asks_author(question: str, form: str) -> bool:
    """True when the question asks who wrote the document it names ("Who wrote the op-ed?", "Who is the author of
    the statement?")."""
    name = r"(?:(?:the|this|that)\s+)?" + _name(form) + r"(?![\w-])"
    return bool(re.search(r"(?i)^\W*who\b.*\b(?:wrote|writes|authored|penned|author\s+of|authors\s+of)\s+"
                          + name, question))


#: "When was the interview published?", "What is the date of the IHR statement?": a question about a document's date
_WHEN_PUBLISHED = re.compile(r"(?i)^\W*(?:when|on\s+what\s+(?:day|date)|what\s+(?:day|date|year)"
                             r"|which\s+(?:day|date|year)|in\s+what\s+year)\b.*\b(?:published|posted|written|"
                             r"released|dated|issued|printed|put\s+out|came\s+out|appeared)\W*$")
_DATE_OF = re.compile(r"(?i)^\W*what\s+(?:is|was)\s+the\s+(?:publication\s+)?date\s+of\s+(?P<rest>.+?)\W*$")


def asks_date_of(question: str, docs: Iterable) -> frozenset[str]:
    """The documents whose own date the question asks ("When was the Caliber.az interview published?", "What is
    the date of the op-ed?"), named by publisher or kind anywhere in it; empty when it asks about something else or
    names no source (pure)."""
    m = _DATE_OF.match(question)
    if not (m or _WHEN_PUBLISHED.match(question)):
        return frozenset()
    text = (m.group("rest") if m else question).lower()
    out: set[str] = set()
    for (source, kind), ids in _publishers(docs).items():
        if any(_form_in(f, text) for f in source_forms(source, kind)):
            out.update(ids)
    return frozenset(out)


_last: list = []  # [the mapping last grouped, its size then, its groups]: held, so its id is never another's


def _publishers(docs: Iterable) -> dict[tuple[str, str], tuple[str, ...]]:
    """(source, kind) -> the ids of its documents; kept for the last mapping of documents seen (a store's ``docs``)
    while its size stays the same, so a corpus of many documents is grouped once, not once per question."""
    mapping = isinstance(docs, Mapping)
    if mapping and not isinstance(docs, dict):
        # a server-backed store's documents (qa.store_milvus) are read on demand: grouping them would fetch every
        # one, per question, so such a store names no sources
        return {}
    if mapping and _last and _last[0] is docs and _last[1] == len(docs):
        return _last[2]
    grouped: dict[tuple[str, str], list[str]] = {}
    for d in (docs.values() if mapping else docs):
        grouped.setdefault((getattr(d, "source", "") or "", getattr(d, "kind", "") or ""), []).append(d.doc_id)
    out = {k: tuple(v) for k, v in grouped.items()}
    if mapping:
        _last[:] = [docs, len(docs), out]
    return out


def scope_of(question: str, docs: Iterable) -> Scope:
    """The documents the question names as its source (by publisher or kind), and the question to search with.
    ``docs``: the documents, or a mapping of id -> document (grouped once while it stays the same)."""
    groups = _publishers(docs)
    total = sum(len(ids) for ids in groups.values())
    if total < 2:
        return Scope(query=question)
    low = question.lower()
    out: set[str] = set()
    forms_used: set[str] = set()
    heads: set[str] = set()
    joined: list[tuple[tuple[str, ...], set[str], str]] = []  # sources framed only through "and" another one
    for (source, kind), ids in groups.items():
        # a form the question does not hold as text cannot frame it: the regexes run for the few that it does
        how = {f: _framed(question, f) for f in source_forms(source, kind) if f.replace("the ", "", 1) in low}
        framed = {f for f, h in how.items() if h == 1}
        if framed:
            out.update(ids)
            forms_used |= framed
            heads.add(_head(source))
        elif any(h == 2 for h in how.values()):
            joined.append((ids, {f for f, h in how.items() if h == 2}, _head(source)))
    if out:  # "the MFA and the interview say": the interview frames the MFA too; "the IHR and the experts say" not
        for ids, framed, head in joined:
            out.update(ids)
            forms_used |= framed
            heads.add(head)
    if not out or len(out) == total:
        return Scope(query=question)
    query = question
    authored = any(_asks_author(question, f) for f in forms_used)
    for f in sorted(forms_used, key=len, reverse=True):  # the longest first: "the Institute for Human Rights"
        query = _without(query, f)
    # "What do the MFA and the interview say ...": the "and" that joined the two names goes with them
    query = re.sub(r"(?i)\b(do|does|did|has|have|had)\s+(?:and|or)\s+", r"\1 ", query)
    heads = sorted(heads - {""})
    if authored and len(heads) == 1:
        # "Who wrote the op-ed?" is answered by the sentences that name its author: search for them by name
        query = re.sub(r"(?i)^\W*who\b", heads[0], query, count=1)
    elif not authored:
        kept = re.sub(r"[A-Za-z]+", lambda m: "" if m.group().lower() in _FRAMING or stem(m.group().lower()) in _FRAMING
                      else m.group(), query)
        kept = re.sub(r"\s+([,?.!])", r"\1", re.sub(r"\s{2,}", " ", kept)).strip()
        query = kept if content_terms(kept) else query
    return Scope(docs=frozenset(out), query=query if content_terms(query) else question,
                 forms=frozenset(forms_used))


def scoped_docs(question: str, docs: Iterable) -> frozenset[str]:
    """The ids of the documents the question names as its source; empty when it names none, or every one."""
    return scope_of(question, docs).docs
