"""Hits -> an extractive answer: the best evidence sentences, verbatim, each followed by its [n] marker.

No model writes anything here, so every sentence of the answer is itself a quote (or, for a disagreement answer,
names each source and quotes its words). Left out: LLM answers
(qa/generate.py) and abstention decisions (the pipeline decides before calling this).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from functools import lru_cache

from qa.text import CLAIM_STOPWORDS, MONTH_NAMES, SUPPORT_STOPWORDS, is_heading, is_question, looks_like_instruction
from qa.types import Citation, Disagreement, Document, Hit
from qa.verify import citation_at

MAX_SENTENCES = 3
KEEP_RATIO = 0.85  # a sentence joins the answer if it scores within 15% of the best one


def pick(hits: list[Hit], max_sentences: int = MAX_SENTENCES, ratio: float = KEEP_RATIO,
         titles: dict[str, str] | None = None) -> list[Hit]:
    """The hits the answer is made of: the best, then others close to it (pure). ``titles``: doc_id -> title."""
    # a sentence that asks a question restates it rather than answering it
    # and a sentence that addresses the model ("ignore previous instructions") is no answer at all
    statements = [h for h in hits if not is_question(h.text)
                  and not looks_like_instruction(h.text)] or hits
    if not statements:
        return []
    top = statements[0].score
    # a page's title line ("Relations between Azerbaijan and the United Nations (UN)") names its subject and says
    # nothing of it: it answers only when no sentence close to it does ("azerbaijan un relations history"); a line
    # that merely looks like a heading may be a cut sentence holding the answer ("Atkinson was elected as a Democrat
    # to the Twenty-eighth, Twenty-ninth, and Thirtieth") and stays where it ranks
    said = [h for h in statements if " ".join(h.text.split()) != " ".join((titles or {}).get(h.doc_id, "").split())]
    if said and said[0] is not statements[0] and said[0].score >= ratio * top:
        statements = said
    statements = statements[:1] + [h for h in statements[1:] if not is_heading(h.text)]
    return [h for h in statements[:max_sentences] if h.score >= ratio * top]


def beside(a: Hit, b: Hit, docs: dict[str, Document]) -> bool:
    """True when two sentences of one document stand right next to each other, nothing but white space between
    them (pure)."""
    if a.doc_id != b.doc_id or a.doc_id not in docs or (a.start < b.end and b.start < a.end):
        return False
    text = docs[a.doc_id].text
    return not (text[a.end:b.start] if b.start >= a.end else text[b.end:a.start]).strip()


def with_list_neighbours(chosen: list[Hit], hits: Sequence[Hit], docs: dict[str, Document],
                         max_sentences: int = MAX_SENTENCES + 1) -> list[Hit]:
    """On a question asking for a list: each sentence that lists items ("including A, B, C and D", or "in Kosovo
    (KFOR), in Afghanistan (ISAF) and in Iraq": ``list_items(loose=True)``) and stands right before or after a
    chosen one, retrieved or not, joins it, whatever its own score, since it carries the chosen sentence's items
    ("the offices of major UN organizations" / "This action ... affects UNDP, UNHCR, UNICEF and ICMPD"). Up to
    ``max_sentences`` in all, in the order chosen (pure but for a per-document sentence cache)."""
    from qa.retrieve import list_items

    out = list(chosen)
    for h in chosen:
        for o in [*hits, *_beside_in_document(h, docs)]:
            if len(out) >= max_sentences:
                return out
            taken = any((o.doc_id, o.start) == (x.doc_id, x.start) for x in out)  # a hit or its document twin
            if not taken and beside(h, o, docs) and list_items(o.text, loose=True):
                out.insert(out.index(h) + (o.start >= h.end), o)
    return out


def _beside_in_document(h: Hit, docs: dict[str, Document]) -> list[Hit]:
    """The document's sentences right before and after ``h``, as hits scored like it (retrieval may have left out
    the neighbour that holds a list's items: "Since 1999 Azerbaijan has contributed to ... peacekeeping operations" /
    "Azerbaijan participated ... in the Kosovo region (KFOR), in Afghanistan (ISAF), in Iraq ...")."""
    doc = docs.get(h.doc_id)
    if doc is None:
        return []
    sents = _doc_sentences(doc)
    i = bisect.bisect_left([s for s, _ in sents], h.start)
    if i >= len(sents) or sents[i][0] != h.start:
        return []  # not one of the document's sentences (a run of several): no neighbours read
    near = [sents[j] for j in (i - 1, i + 1) if 0 <= j < len(sents)]
    return [Hit(doc_id=h.doc_id, start=s, end=e, text=doc.text[s:e], chunk_id=h.chunk_id, score=h.score)
            for s, e in near]


_ITEM_KEY = re.compile(r"[A-Z][\w'’-]*|\d[\d.,/-]*\d|\d")


def items_missing(answer: str, sentence: str) -> tuple[int, int]:
    """(items the answer leaves out, items listed) of a sentence that lists items. An item's keys are its names and
    numbers of three characters or more (the sentence's first word is no key: it is capitalised as a first word);
    it is given when the answer has its acronym ("UNDP") or half of its keys ("Development Program") (pure)."""
    from qa.retrieve import item_texts

    said = set(re.findall(r"[\w'’-]+", answer))
    first = sentence.lstrip()
    missing = listed = 0
    for item in item_texts(sentence):
        keys = [k for k in _ITEM_KEY.findall(item) if len(k) >= 3]
        if keys and first.startswith(item) and first.startswith(keys[0]):
            keys = keys[1:]  # the sentence's first word
        if keys:
            listed += 1
            given = any(k.isupper() and k in said for k in keys) or 2 * sum(k in said for k in keys) >= len(keys)
            missing += not given
    return missing, listed


#: a document about another thing of the question's name joins the answer with its best answering sentence when
#: that scores at least this share of the best one
OTHER_THING_RATIO = 0.7


#: how far after a document's first mention of the question's name its qualifier may stand ("Peter Bergman Peter
#: Michael Bergman (born June 11, 1953)"; "X is a 1931 ... film")
LEAD_CHARS = 300


def lead_qualifier(a, doc: Document) -> str:
    """How a document qualifies the question's name (``a``: ``qa.candidates.Asked``) where it first mentions it, or
    in its title: what the page is about ("(comedian)", "(born June 11, 1953)"), read on the line of that first
    mention; "" when it does not. A qualified mention further down ("Free Your Mind (Remixes) - Single by ...", a
    reference list) says what else the page mentions, not what it is about (pure)."""
    from qa.candidates import MIDDLE_NAMES, descriptor, name_pattern

    firsts = [m.start() for n in a.names if len(n) >= 3
              for m in [name_pattern(n, MIDDLE_NAMES).search(doc.text)] if m is not None]
    lead = doc.text[min(firsts):min(firsts) + LEAD_CHARS].split("\n")[0] if firsts else ""  # its own line
    found = descriptor(a, lead, doc.title).strip(" ,;:")  # "(, CTP)" is "CTP"
    # an abbreviation in brackets is another name for the same thing, not what sets it apart: "International
    # Committee of the Red Cross (ICRC)"
    # ... and so is a code of two letters or fewer ("(en)" in a data dump)
    return "" if re.fullmatch(r"[A-Z][A-Z0-9&.-]+", found) or sum(ch.isalnum() for ch in found) < 3 else found


def _asks_fact_of_name(a) -> bool:
    """True when the question (``qa.candidates.Asked``) asks a fact (a value, a name, what something is) of
    something it names: the questions that two things of one name answer differently (pure)."""
    from qa.candidates import TYPED

    return bool(a.names) and (a.kind in TYPED or a.kind == "name" and bool(a.focus))


def another_of_name(a, doc: Document, other: Document) -> bool:
    """True when ``doc`` is about another thing of the question's name than ``other``: it qualifies the name
    (``lead_qualifier``) and otherwise than ``other`` does, and the two give their subject no day-exact date in
    common (a planted copy keeps its page's birth date) (pure but for the cached NER)."""
    from qa.candidates import one_subject

    mine = lead_qualifier(a, doc)
    return bool(mine) and mine.lower() != lead_qualifier(a, other).lower() and not one_subject(doc.text, other.text)


def with_other_things(chosen: list[Hit], hits: Sequence[Hit], docs: dict[str, Document], question: str,
                      ratio: float = OTHER_THING_RATIO, max_sentences: int = MAX_SENTENCES + 1) -> list[Hit]:
    """On a question asking a fact of something it names, each retrieved document about another thing of that name
    joins the answer with its best sentence that answers (a value or name of the kind asked, or what the sentence
    calls the name), if that scores within ``ratio`` of the best: "Peter Bergman (comedian) ... was an American
    writer and comedian" and "Peter Michael Bergman (born June 11, 1953) is an American actor" each get their
    sentence. Another thing: the document qualifies the name ("(comedian)", "(born June 11, 1953)",
    ``lead_qualifier``) otherwise than every chosen sentence's document, and no two of them give their
    subject the same day-exact date (a planted copy keeps its page's birth date). Up to ``max_sentences`` in all
    (cached NER and parse)."""
    from qa.candidates import asked, descriptors, sentence_candidates
    from qa.disagree import MIN_CANDIDATE

    a = asked(question)
    if not chosen or not _asks_fact_of_name(a):
        return chosen
    top = max(h.score for h in chosen)

    def answers(h: Hit) -> bool:
        found = sentence_candidates(a, h.text)
        return bool(found and found[0][0] >= MIN_CANDIDATE or a.kind == "name" and descriptors(h.text, a.names))

    out = list(chosen)
    done = {h.doc_id for h in chosen}
    for h in hits:
        if len(out) >= max_sentences or h.score < ratio * top:
            break
        if h.doc_id in done or h.doc_id not in docs or is_question(h.text) or looks_like_instruction(h.text):
            continue
        if is_heading(h.text) or not answers(h):
            continue
        done.add(h.doc_id)
        if all(another_of_name(a, docs[h.doc_id], docs[c.doc_id]) for c in out if c.doc_id in docs):
            out.append(h)
    return out


def other_things_line(answer: str, citations: Sequence[Citation], hits: Sequence[Hit], docs: dict[str, Document],
                      question: str) -> tuple[str, list[Citation]]:
    """A model's answer about one thing of the question's name, followed by each other thing of that name that the
    retrieved documents are about (``with_other_things``, relative to the documents the answer cites), quoted in its
    own words: "... [1] Another “Peter Bergman” (born June 11, 1953): “Peter Michael Bergman ... is an American
    actor” [2]". The answer unchanged when there is none."""
    best: dict[str, Hit] = {}  # each cited document's best hit
    for h in hits:
        if any(c.doc_id == h.doc_id for c in citations):
            best.setdefault(h.doc_id, h)
    chosen = list(best.values())
    added = with_other_things(chosen, hits, docs, question)[len(chosen):]
    if not added:
        return answer, list(citations)
    out, cits = [answer], list(citations)
    n = max((c.n for c in citations), default=0)
    for h in added:
        n += 1
        c = citation_at(docs[h.doc_id], h.start, h.end, n=n, score=h.score)
        out.append(_another(question, docs[h.doc_id], " ".join(c.quote.split()), n, docs.get(chosen[0].doc_id)))
        cits.append(c)
    return " ".join(out), cits


def extractive_answer(hits: list[Hit], docs: dict[str, Document], listing: bool = False, who: bool = False,
                      question: str = "") -> tuple[str, list[Citation]]:
    """(text with [n] markers, citations) built from the chosen evidence sentences; on a question asking for a
    list, with the item-listing sentences beside them (``with_list_neighbours``); on one asking who, with the
    sentence that names whom a chosen sentence's pronoun stands for (``with_antecedents``); a sentence about another
    thing of the question's name (``with_other_things``) says so: "Another “X” (qualifier): “...” [n]"."""
    chosen = pick(hits, titles={h.doc_id: docs[h.doc_id].title for h in hits if h.doc_id in docs})
    other: set[tuple[str, int, int]] = set()  # sentences about another thing of the name than the first one's
    first = None
    if question:
        from qa.candidates import asked

        chosen = with_other_things(chosen, hits, docs, question)
        a = asked(question)
        first = docs.get(chosen[0].doc_id) if chosen else None
        if first is not None and _asks_fact_of_name(a):
            other = {(h.doc_id, h.start, h.end) for h in chosen[1:]
                     if h.doc_id != first.doc_id and h.doc_id in docs and another_of_name(a, docs[h.doc_id], first)}
    if listing:
        chosen = with_list_neighbours(chosen, hits, docs)
    if who:
        chosen = with_antecedents(chosen, docs)
    citations = [citation_at(docs[h.doc_id], h.start, h.end, n=i + 1, score=h.score) for i, h in enumerate(chosen)]
    parts = []
    for h, c in zip(chosen, citations):
        quote = " ".join(c.quote.split())
        parts.append(_another(question, docs[h.doc_id], quote, c.n, first)
                     if (h.doc_id, h.start, h.end) in other else f"{quote} [{c.n}]")
    return " ".join(parts), citations


def _another(question: str, doc: Document, quote: str, n: int, first: Document | None = None) -> str:
    """"Another “X” (qualifier): “quote” [n]": a sentence about another thing of the question's name than the one
    the answer opens with; "About “X” (qualifier): ..." where the answer's first document does not qualify the name
    itself, so that it may be about the same thing (pure but for the cached NER)."""
    from qa.candidates import asked

    a = asked(question)
    lead = "Another" if first is not None and lead_qualifier(a, first) else "About"
    return f"{lead} “{a.names[0]}” ({lead_qualifier(a, doc)}): “{quote}” [{n}]"


#: a sentence whose subject is a pronoun ("He reminded that ...", "It also countered ...") names who did it only in
#: the sentence before; "It is crucial that ..." points at nothing
_ANAPHOR = re.compile(r"^\W*(?:it(?!\s+(?:is|was|should|would|will|has|had|must|seems|appears|remains|may|might|"
                     r"could|can)\b)|he|she|they)\b", re.I)
#: a sentence shorter than this is no antecedent worth quoting (a heading, a byline)
ANTECEDENT_MIN_CHARS = 40


@lru_cache(maxsize=64)
def _doc_sentences(doc: Document) -> tuple[tuple[int, int], ...]:
    from qa.chunk import document_sentences

    return tuple((sp.start, sp.end) for sp in document_sentences(doc))


def previous_sentence(doc: Document, start: int) -> tuple[int, int] | None:
    """The content sentence that ends last before ``start``, (start, end) in the document; None if there is none."""
    sents = _doc_sentences(doc)
    i = bisect.bisect_right([e for _, e in sents], start) - 1
    return sents[i] if i >= 0 else None


def with_antecedents(chosen: list[Hit], docs: dict[str, Document]) -> list[Hit]:
    """On a question asking who: each chosen sentence whose subject is a pronoun ("It also countered 'vaccine
    nationalism'") comes after the sentence before it, which names who ("NAM was the first to take the global
    lead ..."), unless that one is chosen already, is a heading or a question, or is too short (pure but for a
    per-document sentence cache). Citations stay whole sentences. Measured on every question (any pronoun, any
    question): seed extractive citation precision 0.515 -> 0.493 at the same recall and answer match, so only where
    the pronoun stands for the answer."""
    out = list(chosen)
    for h in chosen:
        doc = docs.get(h.doc_id)
        if doc is None or not _ANAPHOR.match(h.text):
            continue
        prev = previous_sentence(doc, h.start)
        if prev is None or any(o.doc_id == h.doc_id and o.start < prev[1] and prev[0] < o.end for o in out):
            continue
        text = doc.text[prev[0]:prev[1]]
        if len(text) < ANTECEDENT_MIN_CHARS or is_heading(text) or is_question(text):
            continue
        out.insert(out.index(h), h.model_copy(update={"start": prev[0], "end": prev[1], "text": text}))
    return out


def disagreement_answer(disagreements: Sequence[Disagreement]) -> tuple[str, list[Citation]]:
    """(text, citations) when no single answer stands but the sources take sides: who says what, in their words."""
    if not disagreements:
        return "", []
    parts, citations = [], []
    for i, claim in enumerate(disagreements[0].claims, 1):
        c = claim.citation.model_copy(update={"n": i})
        who = publisher(c)
        words = " ".join((claim.stance or c.quote).split())
        parts.append(f"{who} says “{words}” [{i}]")
        citations.append(c)
    return "The sources disagree: " + ", while ".join(parts) + ".", citations


def _who(citations: Sequence[Citation]) -> str:
    """"2 documents" or, when every one names its publisher, the publishers ("a.com and b.org")."""
    names = list(dict.fromkeys(c.source for c in citations))
    if len(citations) <= 2 and all(c.source for c in citations):
        return " and ".join(names)
    return f"{len(citations)} document{'s' if len(citations) != 1 else ''}"


def factual_line(disagreement: Disagreement, first_n: int = 1, per_side: int = 5) -> tuple[str, list[Citation]]:
    """"The sources disagree: 3 documents say “X” [1][2][3]; 2 say “Y” [4][5]." for a factual disagreement with
    sides, numbering its citations from ``first_n`` (pure)."""
    by_doc = {c.citation.doc_id: c.citation for c in disagreement.claims}
    parts, cits, n = [], [], first_n
    for side in disagreement.sides:
        side_cits = [by_doc[d] for d in side.doc_ids if d in by_doc][:per_side]
        if not side_cits:
            continue
        marks = []
        for c in side_cits:
            cits.append(c.model_copy(update={"n": n}))
            marks.append(f"[{n}]")
            n += 1
        about = f" (about {side.about})" if side.about else ""
        verb = "says" if len(side_cits) == 1 else "say"
        parts.append(f"{_who(side_cits)} {verb} “{side.value}”{about} {''.join(marks)}")
    return "The sources disagree: " + "; ".join(parts) + ".", cits


def distinct_line(groups, docs: dict[str, Document], first_n: int = 1) -> tuple[str, list[Citation]]:
    """"Different things share this name: for “1987 album”, 1987 [1]; for “1988 album”, 1988 [2]." (pure)."""
    parts, cits, n = [], [], first_n
    for g in groups:
        c = g.candidates[0]
        doc = docs.get(c.doc_id)
        if doc is None:
            continue
        cits.append(citation_at(doc, c.sent_start, c.sent_end, n=n, score=c.score))
        about = next((x.about for x in g.candidates if x.about), "")
        parts.append(f"for “{about}”, {g.label} [{n}]" if about else f"{g.label} [{n}]")
        n += 1
    return "Different things share this name: " + "; ".join(parts) + ".", cits


#: one sentence of an answer with the [n] markers that end it, in either style: "... quoted. [1]" (quotes) or
#: "... stated [1][2]." (models put the full stop after the markers); a run of markers "[1] [2]" ends one sentence
_SENT = re.compile(r"(.+?(?:\s*\[\d+\])+[.!?;:…]*[\"”’)]*)(?=\s|$)", re.S)


def answer_sentences(text: str) -> list[tuple[str, str, list[int]]]:
    """(sentence as written, its body without markers, its [n] numbers) for each cited sentence of an answer, in
    order; text after the last marker is not a cited sentence and is left out (pure)."""
    return [_read(m) for m in _SENT.finditer(text)]


def _read(m: re.Match) -> tuple[str, str, list[int]]:
    sentence = m.group(1).strip()
    return sentence, re.sub(r"\s*\[\d+\]", "", sentence).strip(), [int(x) for x in re.findall(r"\[(\d+)\]", sentence)]


def without_values(text: str, states) -> str:
    """The sentences of an answer (each ending in its [n] markers) that do not state a contested value (pure):
    ``states(sentence)`` says whether a sentence states one."""
    kept = [sentence for sentence, body, _ in answer_sentences(text) if not states(body)]
    return " ".join(kept)


_LOWER_FIRST = frozenset("the this that these those it its a an in on at for to by with from there their they its "
                         "some many most all such our we yes today now here".split()) | SUPPORT_STOPWORDS | (
    CLAIM_STOPWORDS)
# function words only ("Although", "However", "Moreover"): a name is never a stopword, so it keeps its capital


def _function_word(word: str, common=None, sentence: str = "") -> bool:
    """A sentence's first word that reads lower-case after "According to X,": a word written with one capital that
    is a function word ("Although", "The") or, by ``common(word, sentence)``, an ordinary one ("Along", "Guided");
    never an acronym ("US"), a month ("May") or a name."""
    word = word.rstrip(",;:")  # "Moreover," reads as "moreover,"
    if not (word[:1].isupper() and word[1:] == word[1:].lower()) or word.lower() in MONTH_NAMES:
        return False
    return word.lower() in _LOWER_FIRST or bool(common and common(word.lower(), sentence))


def publisher(c: Citation) -> str:
    """The name a claim is attributed to: the publisher, else the title, else the file; with the person it quotes
    when the quote is a quotation of someone the document names ("Rasim Musabayov (Caliber.az)")."""
    base = " ".join((c.source or c.title or c.doc_id).split())
    return f"{c.speaker} ({base})" if c.speaker and c.speaker.lower() not in base.lower() else base


#: a sentence that opens by naming whom it reports ("According to Farid Shafiyev, ...", "As noted by X, ...")
_OWN_SOURCE = re.compile(r"(?:according to|as (?:\w+ed|said|told|written) by)\s", re.I)


def _named_in(name: str, body: str) -> bool:
    """True when the sentence names who says it: the whole label, or the label without its bracketed part
    ("Dr. Vasif Huseynov" of "Dr. Vasif Huseynov (op-ed)")."""
    low = body.lower()
    bare = re.sub(r"\s*\([^)]*\)", "", name).strip().lower()
    return name.lower() in low or (bool(bare) and bare in low)


def speaker_named(c: Citation, body: str) -> bool:
    """True when the sentence names the person its quote quotes, by the last word of the name (pure)."""
    return bool(c.speaker) and bool(re.search(rf"\b{re.escape(c.speaker.split()[-1])}\b", body, re.I))


def attribute(text: str, citations: Sequence[Citation], disputed: set[str], judges, common=None) -> str:
    """Every sentence that cites a disputed document (one another retrieved source contradicts), or that
    characterises or judges (``judges(sentence)``), names who says it: "According to X, ..." (pure).

    A sentence that already names its publisher is left as it is; so is a "The sources disagree" line."""
    by_n = {c.n: c for c in citations}
    out = []
    last = 0
    for m in _SENT.finditer(text):
        last = m.end()
        sentence, body, marks = _read(m)
        cited = [by_n[n] for n in marks if n in by_n]
        # a sentence that names its own source ("According to the 2016 census, ...") still names the document's
        if not cited or body.startswith(("The sources disagree", "Different things share")):
            out.append(sentence)
            continue
        # a sentence naming the person it quotes ("... ," emphasized Musabayov.") gets the publisher alone
        names = list(dict.fromkeys(publisher(c.model_copy(update={"speaker": ""}) if speaker_named(c, body) else c)
                                   for c in cited))
        needs = any(c.doc_id in disputed for c in cited) or judges(body)
        if not needs or all(_named_in(n, body) for n in names):
            out.append(sentence)
            continue
        first, _, rest = body.partition(" ")
        lead = first.lower() if _function_word(first, common, body) else first
        tail = " ".join(f"[{n}]" for n in marks)
        if _OWN_SOURCE.match(body):  # "According to Farid Shafiyev, ...": the publisher reports whom it quotes
            verb = "reports" if len(names) == 1 else "report"
            out.append(f"{' and '.join(names)} {verb} that, {first.lower()}{(' ' + rest) if rest else ''} {tail}")
            continue
        out.append(f"According to {' and '.join(names)}, {lead}{(' ' + rest) if rest else ''} {tail}")
    if text[last:].strip():  # words after the last marker are kept as written
        out.append(text[last:].strip())
    return " ".join(out) if out else text
