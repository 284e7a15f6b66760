"""Grounded generation: evidence Hits -> numbered passages -> chat model -> verified sentences with exact quotes.

Steps: ``build_passages`` turns each hit into a short numbered passage (the hit sentence plus a neighbour or two
from its chunk, whole sentences only); ``build_messages`` puts them under the fixed system prompt; the model's reply
is split into sentences and ``[n]`` markers (``parse_answer``); each sentence gets the verbatim evidence sentence(s)
that best support it, located by code at document offsets (``select_quote``), and is kept only when the quote
supports it (``check_support``: content-word overlap, and every number and name in the sentence present in the
quote). Markers that point to no passage are dropped. A sentence whose cited passage does not support it may be
re-attributed to another passage that does; a sentence nothing supports is left out with a note. ``llm_answer``
never raises for model faults: timeouts, HTTP errors, garbage and missing models give ``failed=True`` and a note, so
the caller shows the extractive answer instead.

Left out: an NLI or LLM-as-judge support check (too slow on 2 CPU cores; the lexical check is strict instead),
and retrieval (the caller passes the hits).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Sequence

from qa import prompts
from qa.text import (COUNT_WORDS, POLAR_AUX, SUPPORT_STOPWORDS, is_question, looks_like_instruction, negated_stems,
                     squash, stem, visible, word_stem)
from qa.prompts import DraftSentence, is_sentinel, parse_answer, parse_markers
from qa.sources import SAYING  # verbs of saying, judging and writing (general English), by stem
from qa.settings import Settings
from qa.speakers import speaker_at
from qa.types import Citation, Hit, Note, NoteKind
from qa.verify import citation_at

__all__ = ["Passage", "GeneratedAnswer", "Budget", "evidence_budget", "is_hosted", "build_passages", "build_messages",
           "verify_answer", "llm_answer",
           "rewrite_question", "DraftSentence", "Support", "check_support", "parse_answer", "parse_markers",
           "select_quote", "is_sentinel"]

# defaults for callers without Settings: the local model's evidence budget and the weak-hit cut, where they are set and
# their provenance is given (Settings.passage_chars/total_chars/max_passages, hosted_*, min_score_ratio)
PASSAGE_CHARS = Settings.passage_chars
TOTAL_CHARS = Settings.total_chars
MAX_PASSAGES = Settings.max_passages
MIN_SCORE_RATIO = Settings.min_score_ratio
#: a secondary hit longer than the room left is shown clipped to that room if at least this much (characters) is left
#: ("Launched in 2008 at the initiative of ... [a 440-character sentence]" was left out whole before, and the model
#: answered from the sentence beside it); set by hand (about one short sentence), not swept
MIN_CLIP_CHARS = 160
MIN_OVERLAP = 0.6  # share of the sentence's content words that the quote must contain
# The values below are the original hand-set values of the first grounded answers (commit ce137e2), checked with the
# local model on bench/answer_bench.py's dev questions and the seed set; none was tuned further.
FUZZY_MIN_CHARS, FUZZY_MAX_EXTRA = 5, 3  # "agreement" matches "agreements": both >= 5 letters, one a prefix, <= 3 more
PAIR_PARTNERS = 2  # no single passage supports a sentence: the next this many passages are tried as its second quote
LABEL_CHARS = 40  # a passage's source label is cut to this many characters
MAX_REPLY_CHARS = 4000  # a reply longer than this is runaway output: generation stops, verification judges the rest
VERDICT_COVERAGE = 0.5  # a bare "yes [1]": the cited passage's sentence must cover this share of the question's terms
# follow-up rewriting: a question of more than STANDALONE_WORDS words with no pronoun is asked as it stands; the model
# sees the last HISTORY_TURNS turns (answers cut to HISTORY_CHARS), and a rewrite longer than REWRITE_MAX_CHARS is
# refused; without a model, up to REWRITE_TERMS key terms of the last question are prepended
STANDALONE_WORDS, HISTORY_TURNS, HISTORY_CHARS, REWRITE_MAX_CHARS, REWRITE_TERMS = 8, 3, 300, 300, 6

# ---- support checking (pure) -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_][^\W_]*(?:['’][^\W\d_]+)?")


def _num(token: str) -> str:
    return token.replace(",", "").rstrip(".")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _same(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= FUZZY_MIN_CHARS and abs(len(a) - len(b)) <= FUZZY_MAX_EXTRA
                      and (a.startswith(b) or b.startswith(a)))


def _initials(words: Sequence[str]) -> set[str]:
    """Acronyms of every run of capitalised words ("United Nations Development Programme" -> "undp", "un", ...)."""
    out: set[str] = set()
    runs: list[list[str]] = [[]]
    for w in words:
        if w[:1].isupper():
            runs[-1].append(w)
        elif w.lower() not in {"of", "the", "and", "for", "on"}:
            runs.append([])
    for run in runs:
        for i in range(len(run)):
            for j in range(i + 2, len(run) + 1):
                out.add("".join(w[0] for w in run[i:j]).lower())
    return out


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning (stopwords out; numbers and number words as digits)."""
    out = set()
    for tok in _tokens(text):
        low = tok.lower()
        if tok[0].isdigit():
            out.add(_num(tok))
        elif low in COUNT_WORDS:
            out.add(COUNT_WORDS[low])
        elif low not in SUPPORT_STOPWORDS and len(low) > 1 or tok.isupper() and len(tok) > 1:
            out.add(word_stem(tok))
    return out


def numbers_in(text: str) -> set[str]:
    return {_num(t) if t[0].isdigit() else COUNT_WORDS[t.lower()] for t in _tokens(text)
            if t[0].isdigit() or t.lower() in COUNT_WORDS}


def names_in(text: str) -> set[str]:
    """Capitalised words that are not stopwords; the first word only when it is an acronym; never an initial ("H.E.":
    its letters are no words of their own, and the quote's word list has none either)."""
    toks = [t for t in _tokens(text) if not t[0].isdigit()]
    return {word_stem(t) for i, t in enumerate(toks)
            if t[0].isupper() and len(t) > 1 and t.lower() not in SUPPORT_STOPWORDS and (i > 0 or t.isupper())}


@dataclass(frozen=True)
class Support:
    """Whether a quote supports a sentence, and why not."""

    ok: bool
    overlap: float
    missing_numbers: tuple[str, ...]
    missing_names: tuple[str, ...]
    reason: str = ""

    @property
    def rank(self) -> tuple:
        return (self.ok, -(len(self.missing_numbers) + len(self.missing_names)), round(self.overlap, 4))


@dataclass(frozen=True)
class Frame:
    """What a question lends its answer. ``words``: the ordinary words of a wh-question ("since what year has the UN
    refugee agency been working"), which an answer may restate in its own words, since they frame the answer rather
    than claim anything (empty for a yes/no question, whose words are the claim itself; never a name or a number,
    which a quote must always state). ``names``: the names the question uses, which stay names even where an
    answer sentence starts with one ("Armenia joined ...")."""

    words: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()


def question_frame(question: str) -> Frame:
    if not question.strip():
        return Frame()
    names = frozenset(names_in(" " + question))
    if _POLAR_QUESTION.match(question):
        return Frame(names=names)
    return Frame(frozenset(content_words(question) - names - numbers_in(question)), names)


_POLAR_OPENERS = rf"{POLAR_AUX}|am|shall"  # the words a yes/no question opens with
_POLAR_QUESTION = re.compile(rf"^\W*(?:{_POLAR_OPENERS})\b", re.I)


def _acronym_prefixes(tokens: Sequence[str]) -> set[str]:
    """Short acronyms that begin a longer one of the quote: "UN" in "UNHCR", "EU" in "EUFOR"."""
    caps = [t for t in tokens if t.isupper() and len(t) >= 3 and t.isalpha()]
    return {word_stem(t[:k]) for t in caps for k in range(2, len(t))}


def dates_unsupported(sentence: str, quote: str) -> tuple[str, ...]:
    """The dates of ``sentence`` that no date of ``quote`` states at least as precisely and within: "8 July 1829"
    over a quote saying "(2 July 1829 – ...) ... 8th Baronet" has every number token of its own in the quote, yet the
    quote's date is another day (pure). "July 1829" is stated by "2 July 1829"; "1829" alone does not state a day."""
    from qa.values import extract_values

    dates = [v for v in extract_values(sentence) if v.kind in ("time", "monthday") and not v.approx]
    if not dates:
        return ()
    given = [v for v in extract_values(quote) if v.kind in ("time", "monthday")]
    # a day of a month ("8 July") is stated by that day of any year too ("8 July 1829")
    days = {q.lo for q in given if q.kind == "monthday"} | {
        _month_day(q.lo) for q in given if q.kind == "time" and q.lo == q.hi and q.lo >= 1}
    return tuple(v.text.strip(" .,;:") for v in dates
                 if not (v.kind == "monthday" and v.lo in days)
                 and not any(q.kind == v.kind and v.lo <= q.lo and q.hi <= v.hi for q in given))


def _month_day(ordinal: float) -> int:
    from datetime import date

    d = date.fromordinal(int(ordinal))
    return d.month * 100 + d.day


def check_support(sentence: str, quote: str, *, extra_names: Iterable[str] = (), speakers: Iterable[str] = (),
                  min_overlap: float = MIN_OVERLAP, frame: Frame = Frame()) -> Support:
    """Content-word overlap >= min_overlap, and every number and name of the sentence found in the quote.

    ``extra_names`` (the passage's title, shown to the model) count as known words too; so do ``speakers`` (its source
    label), where the sentence names them as who says it ("According to the IHR, ...", "The IHR calls on ..."), not
    as what it is about ("The IHR and the ICRC are being closed" rests on no quote). ``frame``
    (question_frame: the question's ordinary words) is left out of the overlap when the sentence has other words:
    "The UN refugee agency has been working ... since 1992" is judged on what it adds to the question.
    """
    words = content_words(sentence)
    if not words:
        return Support(False, 0.0, (), (), "nothing to check")
    extra = " ".join(extra_names)
    known = content_words(quote)
    quote_tokens = _tokens(quote)
    known_acronyms = _initials(quote_tokens) | _acronym_prefixes(quote_tokens)
    quote_numbers = numbers_in(quote)
    matched = {w for w in words if any(_same(w, k) for k in known) or w in known_acronyms}
    # the source label and title vouch for names only ("According to the Ministry of Foreign Affairs, ..."): their
    # ordinary words ("International Cooperation: ... in the humanitarian and social spheres") would lift a sentence
    # the quote does not say to the overlap bar
    known_extra = content_words(extra)
    capitalised = {word_stem(t) for t in _tokens(sentence) if t[:1].isupper()}  # the first word too: "Frank wrote"
    matched |= {w for w in capitalised & words
                if any(_same(w, k) for k in known_extra) or w in _initials(_tokens(extra))}
    speakers = " ".join(speakers)
    if speakers and _speaks(sentence, speakers):
        known_speakers = content_words(speakers)
        matched |= {w for w in capitalised & words
                    if any(_same(w, k) for k in known_speakers) or w in _initials(_tokens(speakers))}
    # a name written out ("United Nations") whose acronym the quote uses ("UN") counts as present
    quote_lower = {t.lower() for t in quote_tokens}
    sentence_tokens = [t for t in _tokens(sentence) if not t[0].isdigit()]
    spelled = {word_stem(w) for run in _capital_runs(sentence_tokens)
               if "".join(x[0] for x in run).lower() in quote_lower for w in run}
    matched |= spelled & words
    names = names_in(sentence) | (frame.names & {word_stem(t) for t in sentence_tokens[:1]})
    judged = words - frame.words if words - frame.words - names else words
    overlap = len(matched & judged) / len(judged)
    missing_numbers = tuple(sorted(n for n in numbers_in(sentence) if n not in quote_numbers)) or dates_unsupported(
        sentence, quote)
    missing_names = tuple(sorted(n for n in names if n not in matched and n not in spelled))
    reasons = []
    if missing_numbers:
        reasons.append("numbers not in the quote: " + ", ".join(missing_numbers))
    if missing_names:
        reasons.append("names not in the quote: " + ", ".join(missing_names))
    if overlap < min_overlap:
        reasons.append(f"word overlap {overlap:.2f} < {min_overlap:.2f}")
    elif _polarity_differs(sentence, quote, matched & judged):
        reasons.append("the quote negates what the sentence states (or the reverse)")
    else:
        moved = _tense_differs(sentence, quote)
        if moved:
            reasons.append(f"the quote states '{moved}' in another tense")
    return Support(not reasons, overlap, missing_numbers, missing_names, "; ".join(reasons))


def _speaks(sentence: str, speakers: str) -> bool:
    """True when the sentence names a source as who says something: "according to" it, or its name (or initials)
    with a verb of saying within the next three words ("The IHR calls on ...", "the ministry's statement")."""
    if re.search(r"\baccording to\b", sentence, re.I):
        return True
    toks = _tokens(sentence)
    names = {t.lower() for t in _tokens(speakers)} | {i.lower() for i in _initials(_tokens(speakers))}
    for i, t in enumerate(toks):
        if t[:1].isupper() and t.lower().removesuffix("'s").removesuffix("’s") in names:
            after = [x.lower() for x in toks[i + 1:i + 4]]
            if any(x in SAYING or stem(x) in SAYING for x in after):
                return True
    return False


def _polarity_differs(sentence: str, quote: str, claim: set[str]) -> bool:
    """True when most of the claim's words sit under a negation in one text and not in the other: "Yes, it is a
    political message" against "I don't think it should be perceived as a political message" (pure)."""
    if not claim:
        return False
    negated = negated_stems(quote)
    in_quote = {w for w in claim if any(_same(w, k) for k in negated)}
    in_sentence = claim & negated_stems(sentence)
    return (2 * len(in_quote) > len(claim)) != (2 * len(in_sentence) > len(claim))


_PRESENT, _PAST = frozenset({"VBZ", "VBP"}), frozenset({"VBD"})


def _tense_differs(sentence: str, quote: str) -> str:
    """The lemma of a verb the sentence states in the present and the quote only in the past, or the reverse
    ("Azerbaijan participates in KFOR" against "Azerbaijan participated in KFOR"), by spaCy's tags; "" when
    none does (or without spaCy)."""
    from qa.candidates import AUX_LEMMAS, tokens

    said = tokens(quote)
    for t in tokens(sentence):
        if t.tag not in _PRESENT | _PAST or t.lemma in AUX_LEMMAS:
            continue
        same = [u for u in said if u.lemma == t.lemma and u.tag.startswith("VB")]
        if same and all(u.tag in (_PAST if t.tag in _PRESENT else _PRESENT) for u in same):
            return t.lemma
    return ""


_RUN_JOINERS = frozenset({"of", "the", "and", "for"})


def _capital_runs(tokens: Sequence[str]) -> list[list[str]]:
    runs: list[list[str]] = [[]]
    for t in tokens:
        if t[:1].isupper():
            runs[-1].append(t)
        elif t.lower() not in _RUN_JOINERS:
            runs.append([])
    return [r for r in runs if len(r) >= 2]


def select_quote(sentence: str, spans: Sequence[tuple[int, int]], doc_text: str, *,
                 extra_names: Iterable[str] = (), speakers: Iterable[str] = (), max_run: int = 2,
                 frame: Frame = Frame()) -> tuple[tuple[int, int], Support]:
    """The run of 1..max_run adjacent whole sentences (document offsets) that best supports the sentence.

    A supporting run beats a non-supporting one; among supporting runs the shorter, then the higher overlap.
    """
    extra_names, speakers = tuple(extra_names), tuple(speakers)
    best = None
    for i in range(len(spans)):
        for length in range(1, max_run + 1):
            j = i + length - 1
            if j >= len(spans):
                break
            start, end = spans[i][0], spans[j][1]
            sup = check_support(sentence, doc_text[start:end], extra_names=extra_names, speakers=speakers,
                                frame=frame)
            stated = [doc_text[a:b] for a, b in spans[i:j + 1] if not is_question(doc_text[a:b])]
            if sup.ok and not stated:
                # "Does this signify a political message?" asks; it supports neither yes nor no
                sup = Support(False, sup.overlap, sup.missing_numbers, sup.missing_names, "the quote is a question")
            elif sup.ok and len(stated) < length:  # a question in the run: what it states must support it alone
                alone = check_support(sentence, " ".join(stated), extra_names=extra_names, speakers=speakers,
                                      frame=frame)
                if not alone.ok:
                    sup = Support(False, alone.overlap, alone.missing_numbers, alone.missing_names,
                                  "only a question in the quote supports it")
            key = (sup.ok, -length if sup.ok else 0, sup.rank[1], sup.overlap, -length)
            if best is None or key > best[0]:
                best = (key, (start, end), sup)
    if best is None:
        return (0, 0), Support(False, 0.0, (), (), "no sentences to quote")
    return best[1], best[2]


def key_terms(text: str) -> list[str]:
    """Names first, then other content words, as written (for the no-model follow-up rewrite)."""
    toks = [t for t in _tokens(text) if t.lower() not in SUPPORT_STOPWORDS and len(t) > 1 and t.lower() not in
            {"what", "when", "why", "how", "did", "does"}]
    names = [t for t in toks if t[0].isupper() or t[0].isdigit()]
    rest = [t for t in toks if t not in names and len(t) > 3]
    seen, out = set(), []
    for t in names + rest:
        if t.lower() not in seen:
            seen.add(t.lower())
            out.append(t)
    return out


@dataclass(frozen=True)
class Passage:
    """One numbered piece of evidence as shown to the model, with the sentence spans quotes may come from."""

    n: int
    doc_id: str
    label: str
    text: str
    sentences: tuple[tuple[int, int], ...]  # document offsets of the whole sentences shown
    score: float = 0.0


@dataclass
class GeneratedAnswer:
    """What llm_answer returns; the caller (qa.pipeline) builds the Answer from it, or falls back when failed."""

    text: str = ""
    citations: tuple[Citation, ...] = ()
    notes: tuple[Note, ...] = ()
    abstained: bool = False
    failed: bool = False  # the model failed or nothing it wrote could be verified: use the extractive answer
    raw: str = ""  # the model's reply, unverified (for debugging and the bench)
    kept: int = 0  # answer sentences that survived verification
    dropped: tuple[tuple[str, str], ...] = ()  # (sentence, reason) left out
    timings: dict[str, float] = field(default_factory=dict)


def _label(doc: Any) -> str:
    label = squash(getattr(doc, "source", "") or getattr(doc, "title", "") or doc.doc_id)
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 3].rstrip() + "..."


def _chunk(store: Any, chunk_id: int):
    try:
        return store.chunks[chunk_id] if chunk_id >= 0 else None
    except (IndexError, KeyError, TypeError, AttributeError):
        return None


def _hit_sentences(hit: Hit, store: Any) -> list[tuple[int, int]]:
    """The sentence spans (document offsets) around the hit: its chunk's and its neighbouring chunks' of the same
    document, so a hit at a chunk's edge still has both neighbours; just the hit's span when the chunk is unknown."""
    chunk = _chunk(store, hit.chunk_id)
    if chunk is None or chunk.doc_id != hit.doc_id or not chunk.sentences:
        return [(hit.start, hit.end)]
    spans = {(s.start, s.end) for s in chunk.sentences}
    if not any(s < hit.end and e > hit.start for s, e in spans):
        return [(hit.start, hit.end)]
    for cid in (hit.chunk_id - 1, hit.chunk_id + 1):
        near = _chunk(store, cid)
        if near is not None and near.doc_id == hit.doc_id:
            spans |= {(s.start, s.end) for s in near.sentences}
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if not out or s >= out[-1][1]:
            out.append((s, e))  # chunks from an older generation may split differently: never overlap spans
    return out


@dataclass(frozen=True)
class Budget:
    """How much evidence the model is shown: per passage, in all, and how many passages."""

    passage_chars: int = PASSAGE_CHARS
    total_chars: int = TOTAL_CHARS
    max_passages: int = MAX_PASSAGES


def is_hosted(chat_model: Any) -> bool:
    """A model behind an OpenAI-compatible server (ChatOpenAI and kin), as opposed to the local llama.cpp one."""
    return any("OpenAI" in cls.__name__ for cls in type(chat_model).__mro__)


def evidence_budget(settings: Any, chat_model: Any = None) -> Budget:
    """The evidence budget for this model: Settings.hosted_* for a hosted model, the tight local one otherwise."""
    if chat_model is not None and is_hosted(chat_model):
        return Budget(int(getattr(settings, "hosted_passage_chars", 1000)),
                      int(getattr(settings, "hosted_total_chars", 8000)),
                      int(getattr(settings, "hosted_max_passages", 10)))
    return Budget(int(getattr(settings, "passage_chars", PASSAGE_CHARS)),
                  int(getattr(settings, "total_chars", TOTAL_CHARS)),
                  int(getattr(settings, "max_passages", MAX_PASSAGES)))


def build_passages(hits: Sequence[Hit], store: Any, *, max_passages: int = MAX_PASSAGES,
                   passage_chars: int = PASSAGE_CHARS, total_chars: int = TOTAL_CHARS,
                   min_score_ratio: float = MIN_SCORE_RATIO, listing: bool = False) -> list[Passage]:
    """Number the hits [1]..[k]: each is the hit sentence plus neighbouring whole sentences within a budget.

    Weak hits (below ``min_score_ratio`` of the best score) are left out once two passages exist: every passage
    costs prompt tokens, which cost time on a CPU, and distract a small model. On a question asking for a list
    (``listing``), a neighbouring sentence that lists items joins its passage while the whole budget has room,
    even past ``passage_chars``: "the offices of major UN organisations" is answered by the next sentence's
    "UNDP, UNHCR, UNICEF and ICMPD".
    """
    from qa.retrieve import list_items

    passages: list[Passage] = []
    used = 0
    top = max((h.score for h in hits), default=0.0)
    for hit in hits:
        if len(passages) >= max_passages or used >= total_chars:
            break
        if len(passages) >= 2 and hit.score < min_score_ratio * top:
            continue
        doc = store.docs[hit.doc_id]
        if any(p.doc_id == hit.doc_id and p.sentences[0][0] <= hit.start and hit.end <= p.sentences[-1][1]
               for p in passages):
            continue  # already shown inside an earlier passage
        spans = _hit_sentences(hit, store)
        inside = [i for i, (s, e) in enumerate(spans) if s < hit.end and e > hit.start]
        lo, hi = inside[0], inside[-1]
        budget = min(passage_chars, max(total_chars - used, 0))
        clip = 0
        if passages and spans[hi][1] - spans[lo][0] > budget:
            if budget < MIN_CLIP_CHARS:
                continue  # no room left worth a passage
            clip = budget  # a long sentence is shown up to the budget: its opening clause usually holds its point
        grew = True
        # the sentence window, across chunk edges: the next sentence first (it usually finishes the thought: "The
        # resolution was co-sponsored by 137 states"), then the previous one (it names what "it" is), while it fits
        while grew:
            grew = False
            for j in (hi + 1, lo - 1):
                if 0 <= j < len(spans):
                    new = max(spans[hi][1], spans[j][1]) - min(spans[lo][0], spans[j][0])
                    if new <= budget or (listing and new <= total_chars - used
                                         and list_items(doc.text[spans[j][0]:spans[j][1]])):
                        lo, hi, grew = min(lo, j), max(hi, j), True
        # sentences that address the model are data, never instructions: they are not shown to it at all
        window = tuple(sp for sp in spans[lo:hi + 1] if not looks_like_instruction(doc.text[sp[0]:sp[1]]))
        if not any(s < hit.end and e > hit.start for s, e in window):
            continue
        text = squash(visible(" ".join(doc.text[s:e] for s, e in window)))
        if clip and len(text) > clip:
            text = text[:text.rfind(" ", 0, clip) if " " in text[:clip] else clip].rstrip(" ,;:") + " …"
        used += len(text)
        # a quoted sentence is labelled with whom the document quotes: the model can say who said it
        speaker = speaker_at(doc.text, hit.start, hit.end)
        label = f"{_label(doc)}, quoting {speaker}" if speaker else _label(doc)
        passages.append(Passage(len(passages) + 1, hit.doc_id, label, text, window, hit.score))
    return passages


_ASKS = re.compile(rf"^(?:who|whom|whose|what|when|where|which|why|how|{_POLAR_OPENERS})\b", re.I)


def as_written_question(question: str) -> str:
    """The question as a sentence: its first letter a capital and, when it opens like a question and ends with no
    stop, a question mark ("how long will it take ... and what will it cost" -> "How long ... cost?"). The small
    local model reads a lower-case run-on line as no question and replies that the sources do not say (pure)."""
    q = squash(question)
    if not q:
        return q
    q = q[0].upper() + q[1:]
    if _ASKS.match(q) and q[-1] not in ".?!":
        q += "?"
    return q


def build_messages(question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    """System prompt (constant, first: the cached prefix) and the user turn with passages and question."""
    body = "\n".join(prompts.PASSAGE_TEMPLATE.format(n=p.n, label=p.label, text=p.text) for p in passages)
    user = prompts.USER_TEMPLATE.format(passages=body, question=as_written_question(question))
    return [{"role": "system", "content": prompts.SYSTEM_PROMPT}, {"role": "user", "content": user}]


def verify_answer(raw: str, passages: Sequence[Passage], docs: dict, *, reattribute: bool = True,
                  question: str = "", more: Sequence[Passage] = ()) -> GeneratedAnswer:
    """Parse the reply, pin every sentence to a quote by code, keep only supported sentences (pure). The question's
    ordinary words (question_frame) may be restated without a quote for them. ``more``: retrieved sentences the
    model was not shown, read only for other documents' quotes of what a kept sentence says (``corroborating``)."""
    frame = question_frame(question)
    by_n = {p.n: p for p in passages}
    sentences = parse_answer(raw)
    claims = [s for s in sentences if not is_sentinel(s.text)]
    if not claims:
        abstained = bool(sentences)
        return GeneratedAnswer(raw=raw, abstained=abstained, failed=not abstained,
                               notes=(Note(kind=NoteKind.MODEL_ABSTAINED, text=prompts.ABSTAIN_TEXT),) if abstained
                               else (Note(kind=NoteKind.MODEL_FAILED, text="The language model gave no answer text."),))
    notes: list[Note] = []
    bad_markers = sorted({m for s in claims for m in s.markers if m not in by_n})
    if bad_markers:
        notes.append(Note(kind=NoteKind.BAD_MARKERS, text="Dropped reference(s) " + ", ".join(
            f"[{m}]" for m in bad_markers) + " that point to no passage."))
    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    out_sentences: list[str] = []
    dropped: list[tuple[str, str]] = []
    claims = [replace(s, text=_ACCORDING.sub("", s.text, count=1).strip()) for s in claims]
    claims = [replace(s, text=s.text[:1].upper() + s.text[1:]) for s in claims if s.text]
    for sent in claims:
        if _META.search(sent.text):
            dropped.append((sent.text, "talks about the passages, not the question"))
            continue
        if sent.stand_in:  # "... on human rights: [3] and [4]." says nothing once its markers are taken out
            dropped.append((sent.text, "its references stand in for the words of the answer"))
            continue
        cited = [by_n[m] for m in sent.markers if m in by_n]
        pool = cited or list(passages)
        choice = _best_quotes(sent.text, pool, docs, frame)
        if not choice.ok and reattribute and cited:
            others = [p for p in passages if p not in cited]
            alt = _best_quotes(sent.text, others, docs, frame) if others else choice
            choice = alt if alt.ok else choice
        if not choice.ok:
            dropped.append((sent.text, choice.support.reason))
            continue
        quotes = list(choice.quotes)
        if len(quotes) == 1:  # one document's quote: another document that says the same is cited too
            quotes += corroborating(sent.text, quotes[0][0], [*passages, *more], docs, frame)
        marks = []
        for passage, (start, end) in quotes:
            key = (passage.doc_id, start, end)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(citation_at(docs[passage.doc_id], start, end, n=numbers[key], score=passage.score))
            if numbers[key] not in marks:
                marks.append(numbers[key])
        body, punct = re.match(r"^(.*?)([.!?]*)$", sent.text, re.S).groups()
        out_sentences.append(f"{body.rstrip()} " + "".join(f"[{m}]" for m in marks) + (punct or "."))
    if dropped:
        notes.append(Note(kind=NoteKind.DROPPED_SENTENCES, text=f"Left out {len(dropped)} sentence(s) of the model's "
                                                                 "answer that the sources do not support."))
    if not out_sentences:
        notes.append(Note(kind=NoteKind.UNVERIFIED,
                          text="No sentence of the model's answer could be verified against the sources."))
    return GeneratedAnswer(text=" ".join(out_sentences), citations=tuple(citations), notes=tuple(notes), raw=raw,
                           failed=not out_sentences, kept=len(out_sentences), dropped=tuple(dropped))


# "According to passage 2, ..." is trimmed; a sentence still about "the passage" is commentary, not an answer
_ACCORDING = re.compile(r"^(?:(?:according to|as stated in|as per|based on)\s+(?:the\s+)?(?:passages?|sources?)"
                        r"(?:\s*\d+(?:\s*(?:,|and)\s*\d+)*)?\s*,\s*"
                        # "The sources explain that ...": the question asked how the sources explain it
                        r"|(?:the\s+|these\s+|both\s+|all\s+|some\s+)*(?:passages?|sources?|documents?)\s+"
                        r"(?:explain|say|state|indicate|suggest|show|note|report|mention|argue|claim)s?\s+that\s+)",
                        re.I)
_META = re.compile(r"\b(?:passages?|the sources?)\b", re.I)


@dataclass(frozen=True)
class _Choice:
    ok: bool
    support: Support
    quotes: tuple[tuple[Passage, tuple[int, int]], ...]


def _best_quotes(sentence: str, pool: Sequence[Passage], docs: dict, frame: Frame = Frame()) -> _Choice:
    """The best quote from one passage; if none suffices alone, the best pair from two passages."""
    scored = []
    for p in pool:
        doc = docs[p.doc_id]
        span, sup = select_quote(sentence, p.sentences, doc.text, extra_names=(doc.title,), speakers=(p.label,),
                                 frame=frame)
        scored.append((sup.rank, p, span, sup))
    if not scored:
        return _Choice(False, Support(False, 0.0, (), (), "no passage"), ())
    scored.sort(key=lambda t: t[0], reverse=True)
    _, p, span, sup = scored[0]
    best = _Choice(sup.ok, sup, ((p, span),))
    # a pair is two statements: a quote that only asks ("Does this signify a political message?") joins none
    stating = [t for t in scored if not is_question(docs[t[1].doc_id].text[t[2][0]:t[2][1]])]
    if best.ok or len(stating) < 2:
        return best
    _, p, span, _ = stating[0]
    for _, p2, span2, _ in stating[1:1 + PAIR_PARTNERS]:
        d1, d2 = docs[p.doc_id], docs[p2.doc_id]
        joint = d1.text[span[0]:span[1]] + " " + d2.text[span2[0]:span2[1]]
        sup2 = check_support(sentence, joint, extra_names=(d1.title, d2.title), speakers=(p.label, p2.label),
                             frame=frame)
        if sup2.ok and not _name_stitched(sentence, d1.text[span[0]:span[1]], d2.text[span2[0]:span2[1]]):
            return _Choice(True, sup2, ((p, span), (p2, span2)))
    return best


#: an answer sentence one document's quote supports also cites the supporting sentence of up to this many other
#: documents among the retrieved sentences: "The Human Rights Council adopted the resolution on 23 March 2021
#: [1][2]" where two pages say so, so a claim several sources make is seen to be made by several
CORROBORATING = 1


def corroborating(sentence: str, first: Passage, passages: Sequence[Passage], docs: dict, frame: Frame = Frame(),
                  limit: int = CORROBORATING) -> list[tuple[Passage, tuple[int, int]]]:
    """Quotes from documents other than ``first``'s that support ``sentence`` on their own (the check its first
    quote passed, qa.generate.check_support), one per document: another publisher's first, then the best supported
    (pure)."""
    def publisher(doc_id: str) -> str:
        return getattr(docs[doc_id], "source", "") or doc_id

    found: dict[str, tuple[tuple, Passage, tuple[int, int]]] = {}
    for p in passages:
        if p.doc_id == first.doc_id:
            continue
        doc = docs[p.doc_id]
        span, sup = select_quote(sentence, p.sentences, doc.text, extra_names=(doc.title,), speakers=(p.label,),
                                 frame=frame)
        key = (publisher(p.doc_id) != publisher(first.doc_id), sup.rank)
        if sup.ok and not is_question(doc.text[span[0]:span[1]]) and (p.doc_id not in found
                                                                       or key > found[p.doc_id][0]):
            found[p.doc_id] = (key, p, span)
    best = sorted(found.values(), key=lambda t: t[0], reverse=True)[:max(limit, 0)]
    return [(p, span) for _, p, span in best]


def _name_stitched(sentence: str, quote1: str, quote2: str) -> bool:
    """True when a name of several words in the sentence is found in neither quote whole, only across both: "the
    International Committee of the Red Cross and Red Crescent Societies" from one page's "International Federation
    of the Red Cross and Red Crescent Societies" and another's "International Committee of the Red Cross" is a name
    neither source gives (pure)."""
    have = [{word_stem(t) for t in _tokens(q)} for q in (quote1, quote2)]
    for run in _capital_runs([t for t in _tokens(sentence) if not t[0].isdigit()]):
        stems = {word_stem(t) for t in run if t.lower() not in _RUN_JOINERS}
        if not any(stems <= h for h in have) and stems <= have[0] | have[1]:
            return True
    return False


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    name = type(exc).__name__
    if status:
        return f"HTTP {status} from the model server"
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return "the model timed out"
    if "Connection" in name or "RemoteProtocol" in name:
        return "could not reach the model server (connection failed or closed)"
    if isinstance(exc, ValueError) and ("JSON" in name or "Expecting" in str(exc) or "json" in str(exc).lower()):
        return "the model server sent a malformed response"
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    return msg[:300]


def _stream(chat_model: Any, messages: list[dict[str, str]], timeout: float,
            on_token: Callable[[str], None] | None, timings: dict[str, float]) -> str:
    from langchain_core.messages import HumanMessage, SystemMessage

    lc = [SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"]) for m in messages]
    start = time.perf_counter()
    parts: list[str] = []
    for chunk in chat_model.stream(lc):
        piece = chunk.content if isinstance(chunk.content, str) else "".join(
            c.get("text", "") if isinstance(c, dict) else str(c) for c in chunk.content)
        usage = getattr(chunk, "usage_metadata", None)
        threads = (getattr(chunk, "response_metadata", None) or {}).get("n_threads")
        if threads:
            timings["n_threads"] = float(threads)
        if usage and usage.get("input_tokens"):
            timings["prompt_tokens"] = float(usage["input_tokens"])
            timings["output_tokens"] = float(usage.get("output_tokens") or 0)
        if piece:
            timings.setdefault("first_token", time.perf_counter() - start)
            parts.append(piece)
            if on_token:
                on_token(piece)
        if time.perf_counter() - start > timeout:
            raise TimeoutError("deadline")
        if sum(map(len, parts)) > MAX_REPLY_CHARS:
            break  # runaway output: verification will judge what there is
    return "".join(parts)


def unshown(hits: Sequence[Hit], passages: Sequence[Passage], store: Any) -> list[Passage]:
    """The retrieved sentences no passage shows, each as a one-sentence passage numbered 0 (no marker reaches it)."""
    shown = {(p.doc_id, s, e) for p in passages for s, e in p.sentences}
    out = []
    for h in hits:
        doc = store.docs.get(h.doc_id)
        if doc is not None and (h.doc_id, h.start, h.end) not in shown and doc.text[h.start:h.end] == h.text:
            shown.add((h.doc_id, h.start, h.end))
            out.append(Passage(0, h.doc_id, _label(doc), h.text, ((h.start, h.end),), h.score))
    return out


def llm_answer(question: str, hits: Sequence[Hit], store: Any, chat_model: Any, settings: Any,
               on_token: Callable[[str], None] | None = None) -> GeneratedAnswer:
    """Answer from the hits with the chat model, every sentence verified; never raises for model faults."""
    from qa.retrieve import question_shape

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    budget = evidence_budget(settings, chat_model)
    passages = build_passages(hits, store, max_passages=budget.max_passages, passage_chars=budget.passage_chars,
                              total_chars=budget.total_chars,
                              min_score_ratio=float(getattr(settings, "min_score_ratio", MIN_SCORE_RATIO)),
                              listing=question_shape(question).listing)
    if not passages:
        return GeneratedAnswer(abstained=True, notes=(Note(kind=NoteKind.NO_EVIDENCE,
                                                           text="No evidence was found for this question."),),
                               timings={"generate": 0.0})
    messages = build_messages(question, passages)
    timings["prompt_build"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        raw = _stream(chat_model, messages, float(getattr(settings, "llm_timeout", 60.0)), on_token, timings)
    except Exception as exc:  # any model fault: the caller falls back to the extractive answer
        timings["generate"] = time.perf_counter() - t1
        return GeneratedAnswer(failed=True, timings=timings,
                               notes=(Note(kind=NoteKind.MODEL_FAILED, text=f"The language model failed "
                                           f"({_describe(exc)}); showing the extractive answer instead."),))
    timings["generate"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    result = verify_answer(raw, passages, store.docs, reattribute=bool(getattr(settings, "reattribute", True)),
                           question=question, more=unshown(hits, passages, store))
    if result.failed:
        result = _verdict_evidence(question, raw, passages, store.docs) or result
    timings["verify"] = time.perf_counter() - t2
    result.timings = timings
    if result.failed and raw.strip():
        result.notes = result.notes + (Note(kind=NoteKind.SHOWING_EXTRACTIVE,
                                            text="Showing the extractive answer instead."),)
    return result


_VERDICT = re.compile(r"^(?:yes|no)\b[\s,.!]*$", re.I)


def _verdict_evidence(question: str, raw: str, passages: Sequence[Passage], docs: dict) -> GeneratedAnswer | None:
    """A bare "Yes [1] [2]" cannot be verified, so it is never shown; what the cited passages say about the
    question is: the sentence of each cited passage that covers most of the question's terms, verbatim (pure)."""
    from qa.retrieve import term_coverage
    from qa.text import content_terms, is_heading

    drafts = [d for d in parse_answer(raw) if not is_sentinel(d.text)]
    if not drafts or not all(_VERDICT.match(d.text) for d in drafts):
        return None
    by_n = {p.n: p for p in passages}
    cited = [by_n[m] for d in drafts for m in d.markers if m in by_n]
    qterms = content_terms(question)
    citations: list[Citation] = []
    shown: set[tuple[str, int, int]] = set()
    for p in dict.fromkeys(cited):
        doc = docs[p.doc_id]
        # a heading ("Relations between Azerbaijan and the United Nations (UN)") says what a page is about, not
        # what it says; a sentence two passages share is shown once
        spans = [sp for sp in p.sentences if not is_heading(doc.text[sp[0]:sp[1]])
                 and (p.doc_id, *sp) not in shown]
        if not spans:
            continue
        start, end = max(spans, key=lambda sp: term_coverage(qterms, doc.text[sp[0]:sp[1]]))
        if term_coverage(qterms, doc.text[start:end]) < VERDICT_COVERAGE:
            continue  # the cited passage does not speak to the question: nothing to show from it
        shown.add((p.doc_id, start, end))
        citations.append(citation_at(doc, start, end, n=len(citations) + 1, score=p.score))
    if not citations:
        return None
    text = " ".join(f"{squash(c.quote)} [{c.n}]" for c in citations)
    return GeneratedAnswer(text=text, citations=tuple(citations), raw=raw, kept=0,
                           dropped=tuple((d.text, "a bare yes/no cannot be checked against a quote") for d in drafts),
                           notes=(Note(kind=NoteKind.VERDICT_ONLY, text=(
                               "The model answered only yes or no, which cannot be checked against the sources; "
                               "here is what the sources it cited say.")),))


def _history_pairs(history: Iterable[Any] | None) -> list[tuple[str, str]]:
    """(user, assistant) pairs from pairs or from role/content dicts."""
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for item in history or ():
        if isinstance(item, dict):
            role, content = item.get("role"), str(item.get("content") or "")
            if role == "user":
                if pending is not None:
                    pairs.append((pending, ""))
                pending = content
            elif role == "assistant":
                pairs.append((pending or "", content))
                pending = None
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append((str(item[0] or ""), str(item[1] or "")))
    if pending is not None:
        pairs.append((pending, ""))
    return pairs


_PRONOUNS = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her|there|then|the same)\b",
                       re.I)


_ELLIPSIS = re.compile(r"^\W*(?:and|(?:what|how)\s+about|and\s+what\s+about)\s+(?:the\s+)?(.+?)\W*$", re.I)
_NAME_RUN = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|for|and)\s+)*[A-Z][\w'’.-]*)*")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9&-]{1,9}")


def _elliptical(question: str, last: str) -> str:
    """"And UNICEF?" / "What about the ICRC?" after "When did UNHCR start working in Azerbaijan?": the last question
    asked again about the new acronym, put in place of the last question's one acronym; "" when the follow-up is no
    such ellipsis, or the last question holds no acronym or several (which one it replaces is then a guess: neither
    the word's shape nor the small NER model, which calls "Azerbaijan" a person, tells names apart reliably) (pure)."""
    m = _ELLIPSIS.match(question)
    if not m or not _ACRONYM.fullmatch(m.group(1)):
        return ""
    acronyms = [n for n in _NAME_RUN.finditer(last) if n.start() > 0 and _ACRONYM.fullmatch(n.group())]
    if len(acronyms) != 1:
        return ""
    old = acronyms[0]
    return last[:old.start()] + m.group(1) + last[old.end():]


def rewrite_question(question: str, history: Iterable[Any] | None, chat_model: Any = None) -> str:
    """A standalone version of a follow-up question; with no model, prepend the last question's key terms."""
    pairs = [p for p in _history_pairs(history) if p[0].strip()]
    standalone = len(question.split()) > STANDALONE_WORDS and not _PRONOUNS.search(question)
    if not pairs or standalone:
        return question  # no model call: it would cost seconds on a CPU and evict the cached system prompt
    if chat_model is not None:
        try:
            from langchain_core.messages import HumanMessage, SystemMessage

            convo = "\n".join(f"User: {u}\nAssistant: {prompts.strip_markers(a)[:HISTORY_CHARS]}"
                              for u, a in pairs[-HISTORY_TURNS:])
            reply = chat_model.invoke([SystemMessage(prompts.REWRITE_SYSTEM), HumanMessage(
                prompts.REWRITE_TEMPLATE.format(history=convo, question=question))])
            text = squash(str(reply.content)).strip('"')
            if 3 <= len(text) <= REWRITE_MAX_CHARS and "\n" not in text and not is_sentinel(text):
                return text
        except Exception:  # a failed rewrite is not worth failing the question for
            pass
    swapped = _elliptical(question, pairs[-1][0])
    if swapped:
        return swapped
    have = {t.lower() for t in re.findall(r"\w+", question)}
    # the last question's terms; when it names nothing itself ("When was it established?" after "What is AIDA?"),
    # the name it refers to comes from the question before, back to the one that names something
    terms: list[str] = []
    for user, _ in reversed(pairs[-HISTORY_TURNS:]):
        found = key_terms(user)
        terms += [t for t in found if t.lower() not in have and t not in terms]
        if any(t[:1].isupper() for t in found):
            break
    terms = sorted(terms, key=lambda t: not t[:1].isupper())[:REWRITE_TERMS]  # names first
    return f"{' '.join(terms)}: {question}" if terms else question
