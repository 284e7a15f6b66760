"""Question -> evidence Hits: dense (FAISS) and lexical (BM25) chunk search fused by reciprocal rank, then the
sentences of the best chunks scored one by one, each read in its window of neighbours, and picked so that every
side of the question is covered.

Sentence score = cosine(sentence, question) blended with the fused rank of its chunk and the share of the
question's content terms the sentence contains; both the cosine and the term share of a sentence are lifted by its
best neighbour's ("The resolution was co-sponsored by 137 states" sits next to the sentence naming the resolution).
A sentence stating a value of the kind the question asks for (a year for "since when", a number for "how many")
scores more; so does, on a judgement question, a sentence that takes a stance, and on a list question, a sentence
that lists several names. A question in several parts ("which offices ... and what will ...") is split and each part
retrieved; the hits are taken in turn from each part. On judgement, list and multi-source questions the best
sentence of every publisher whose best is relevant gets a slot before any publisher's second sentence. An
abbreviation the corpus defines ("the International Committee of the Red Cross (ICRC)") is matched in either form
(qa.aliases). Hits stay single sentences, so citations stay sentence-exact; the answer step shows the window
(qa.generate).

`relevance()` turns the hits into the single number the pipeline abstains on. Left out: cross-encoder reranking
(no offline reranker is available as a package) and named-entity typing here (too slow per question on 2 cores:
only values are typed at this step).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from qa.aliases import Alias, expand_terms, expanded_query, names_in, question_aliases, spelled_out
from qa.settings import Settings
from qa.sources import Scope, scope_of
from qa.speakers import speaker_at
from qa.text import STOPWORDS, content_terms, is_question
from qa.types import Hit

RRF_K = 60
# weights and bonuses below were set on the dev split of eval/seed.jsonl only (test split never used for tuning)
W_SIM, W_CHUNK_SIM, W_CHUNK_RANK, W_COV = 0.45, 0.2, 0.1, 0.25
NEIGHBOUR = 0.5  # term coverage read in the window: max(own, (1 - share) * own + share * best neighbour)
# the same for the cosine; 0.0 scores ClapNQ's single-passage answers better (recall@6 0.674 vs 0.625) but loses
# list sentences whose own cosine is low ("... including the UNDP, the UNHCR, ..." next to "closure of offices")
NEIGHBOUR_SIM = 0.5
TITLE_SHARE = 0.5  # term coverage read with the document's title: max(own, (1 - share) * own + share * title's)
TYPE_BONUS = 0.06  # the sentence states a value of the asked kind that the question does not name
STANCE_BONUS = 0.1  # judgement question: the sentence condemns, defends or denies
LIST_BONUS = 0.05  # list question: the sentence lists three or more names
QUESTION_PENALTY = 0.85  # a question in the text restates the topic; it rarely answers it
SIDE_RATIO = 0.8  # a publisher's best sentence is relevant when it scores this share of the best hit
LIST_EXTRA = 2  # list questions get this many more evidence slots than k, filled first by sentences that list
LIST_RATIO = 0.65  # ... scoring at least this share of the best hit
LIST_MIN_ITEMS = 3  # a sentence "lists" when it names at least this many items
# The values below are the original hand-set values of the first retrieval (commit 0141324, "Core pipeline"; the
# relevance penalty from 6de9b1b); every later change to retrieval was checked with them on the seed set's dev split.
# chunk candidates: each of dense and BM25 search returns max(POOL_MIN, k_chunks * POOL_PER_K) chunks, and the
# best max(FUSED_MIN, k_chunks * FUSED_PER_K) after fusion have their sentences scored
POOL_MIN, POOL_PER_K = 30, 3
FUSED_MIN, FUSED_PER_K = 12, 2
# ... and each search's own best few always: fusion ranks a chunk one search puts first below every chunk both
# searches hold ("the UN High Commissioner for Human Rights called for ...": BM25's first, outside the dense 30)
EACH_TOP = 2
SCOPED_POOL = 4  # a question naming its source searches this many times as many chunks, then keeps that source's
NEAR_DUPLICATE = 0.8  # two sentences whose content terms overlap more than this (Jaccard) count as one
# relevance(): each name of the question that the corpus never uses takes this share of the question's terms off the
# best score (one missing name of two terms halves it)
MISSING_NAME_PENALTY = 0.5
# ... and a missing word of a name whose other words the corpus does use takes this share of that: a page calls
# "Justice Dunn" "Charles J. Dunn", "Daniel Hogan" "Hogan", "Nicholas Hill" "Nick Hill"
PARTIAL_NAME_SHARE = 0.5


def rrf(*rankings: list[tuple[int, float]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion of several best-first rankings of ids (pure)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (item, _score) in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank + 1)
    return fused


def term_coverage(question_terms: list[str], text: str, idf: dict[str, float] | None = None,
                  aliases: list[Alias] | None = None, loose: frozenset[str] = frozenset()) -> float:
    """IDF-weighted share of the question's content terms present in text, in [0, 1]; a term the text states in
    another form the corpus defines ("ICRC" for "Red Cross") is present, and so is a term of ``loose`` that a word
    of the text shares all but its last two letters with ("Armenia" in "pro-Armenian", ``derived``) (pure)."""
    if not question_terms:
        return 0.0
    present = set(content_terms(text))
    if aliases:
        present = expand_terms(present, aliases)
    weights = {t: (idf or {}).get(t, 1.0) for t in set(question_terms)}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present or (t in loose and derived(t, present))) / total \
        if total else 0.0


#: a request's opening verb ("List ...", "Name ...", "Tell me ..."): it says what to do, not what the text is about
_IMPERATIVE = re.compile(r"^\W*(?:please\s+)?(?:list|name|give|show|tell\s+me|describe|explain|summari[sz]e)\b"
                         r"(?:\s+(?:me|us))?\s*", re.I)

#: the shortest stem two forms of a word must share: "Armeni-a" / "Armeni-an", "priorit-y" / "priorit-ise"
DERIVED_MIN = 5


def derived(term: str, present: set[str]) -> bool:
    """True when a word of ``present`` starts with ``term`` less its last two letters (at least DERIVED_MIN) or
    ``term`` starts with the word less its last two: another form of the same word, a demonym, an adjective (pure)."""
    head = term[:len(term) - 2]
    return len(head) >= DERIVED_MIN and any(
        w.startswith(head) or (len(w) - 2 >= DERIVED_MIN and term.startswith(w[:len(w) - 2])) for w in present)


#: a question's word of this many letters or more is matched in its derived forms too
LOOSE_MIN_CHARS = 8


def loose_terms(question: str, terms: list[str]) -> frozenset[str]:
    """The question's terms matched in their derived forms too (``derived``): its names ("Armenia", read in
    "Armenian"), and its long words (eight letters or more: "priority" in "prioritise"); a short common word shares
    its first letters with too many others ("general" / "generous")."""
    named = named_terms(question)
    return frozenset(t for t in terms if t in named or len(t) >= LOOSE_MIN_CHARS)


def _idf(store, terms: list[str]) -> dict[str, float]:
    n = max(1, len(store.chunks))
    dfs = store.doc_freq(set(terms))  # precomputed with the index: no scan per question
    out = {}
    for t in set(terms):
        df = dfs.get(t, 0)
        out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))  # BM25's idf (Robertson-Sparck Jones, 0.5 smoothing)
    return out


# ---- what the question asks (pure) ---------------------------------------------------------------------------------

_AUX = r"(?:do|does|did|is|are|was|were|has|have|had|will|would|can|could|should|may|might|must)"
_WH = r"(?:what|which|who|whom|whose|when|where|why|how)"
# "..., and when did they arrive?", "... and what will Azerbaijan focus on ...", "...? How much ...?"
_PART_BREAK = re.compile(rf"(?:,\s*|;\s*|\s+)(?:and|but)\s+(?={_WH}\b|{_AUX}\s+(?:the|they|it|he|she|this|these)\b)"
                         rf"|\?\s+(?:and\s+|but\s+)?(?=\w)", re.I)
_META = frozenset(content_terms("sources source documents agree agreement disagree differ different same views say "
                                "think consistent contradict"))
_PRONOUN = re.compile(r"\b(?:they|them|their|he|him|his|she|her|it|its|this|these|those|there|then)\b", re.I)
_SIDES_Q = re.compile(r"\b(?:sources?|documents?|agree|disagree|differ\w*|compare|both|each side|sides|views|"
                      r"perspectives?)\b", re.I)
_TWO_NAMES = re.compile(r"\b[A-Z][\w'’-]*\s+(?:and|or)\s+(?:the\s+)?[A-Z]")
_PLURAL = r"[a-z-]{3,}(?:ies|s)"
_LIST_Q = re.compile(rf"^\W*(?:(?:which|what)\s+(?!{_AUX}\b)(?:[\w'’-]+\s+){{0,2}}?(?P<a>{_PLURAL})\b"
                     rf"|(?:what|which)\s+(?:are|were)\s+(?:the\s+)?(?:[\w'’-]+\s+){{0,2}}?(?P<b>{_PLURAL})\b"
                     rf"|(?:list|name)\s+(?:the|all|every)\b)", re.I)
_HOW_LONG = re.compile(r"\bhow long\b|\bsince (?:when|what)\b", re.I)
_NOT_PLURAL = frozenset({"does", "was", "has", "is", "this", "its", "his", "thus", "status", "us", "news"})


@dataclass(frozen=True)
class Shape:
    """How a question is answered: its parts, and whether it wants every side, every item, several sources."""

    parts: tuple[str, ...]
    judgement: bool = False  # sources can take sides (yes/no, why, what role...)
    listing: bool = False  # wants every item the sources give ("which organisations...")
    multi_source: bool = False  # names several subjects or asks about the sources themselves
    kind: str = ""  # the kind of value asked for: "date", "count", "amount", "percent" or ""
    how_long: bool = False  # "how long", "since when": a start year answers as well as a duration

    @property
    def sides(self) -> bool:
        """Bring every relevant publisher's best sentence to the answer step."""
        return self.judgement or self.listing or self.multi_source


def split_parts(question: str) -> list[str]:
    """The question's parts ("Which X ... and when did they ...?" -> two), each standalone; parts that only ask
    about the sources ("do the sources agree?") are dropped, and a part that leans on a pronoun gets the first
    part's words (pure)."""
    q = " ".join(question.split())
    raw = [p.strip(" ,;") for p in _PART_BREAK.split(q) if p and p.strip(" ,;?")]
    parts = [p for p in raw if set(content_terms(p)) - _META] or [q]
    if len(parts) == 1:
        return parts if len(raw) > 1 else [q]
    first_words = [w for w in re.findall(r"[\w'’-]+", parts[0]) if w.lower() not in STOPWORDS]
    out = [parts[0]]
    for p in parts[1:]:
        if _PRONOUN.search(p) or len(content_terms(p)) < 2:
            have = {w.lower() for w in re.findall(r"[\w'’-]+", p)}
            p = p.rstrip("?") + " (" + " ".join(w for w in first_words if w.lower() not in have) + ")?"
        out.append(p)
    return out


_JOIN = re.compile(r"\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+")


def name_variants(question: str) -> list[str]:
    """The question once for each name it joins with "and" / "or" ("How long had UNHCR and UNICEF been working?" ->
    "How long had UNHCR been working?", "How long had UNICEF been working?"); [] when it joins none. Only names of
    one word are split: a quoted title ("Pride and Prejudice") or a run of longer names ("the Federation of Red Cross
    and Red Crescent Societies") is one name (pure)."""
    try:
        from qa.candidates import question_names
    except ImportError:
        return []
    quoted = {m.group(1) for m in re.finditer(r"[\"“]([^\"”]{2,80})[\"”]", question)}
    out = []
    for name in question_names(question):
        if name in quoted or name not in question:
            continue
        items = [i for i in _JOIN.split(name) if i]
        # single words only: "the International Federation of Red Cross and Red Crescent Societies" is one name
        if len(items) >= 2 and all(i[:1].isupper() and " " not in i for i in items):
            out += [question.replace(name, i, 1) for i in items]
    return out


def _asked_kind(question: str) -> str:
    try:
        from qa.candidates import asked
    except ImportError:  # answer typing is a refinement; retrieval works without it
        return ""
    kind = asked(question).kind
    return kind if kind in ("date", "count", "amount", "percent") else ""


def question_shape(question: str) -> Shape:
    """The parts of a question and what kind of evidence it needs (pure but for cached lookups)."""
    from qa.disagree import asks_judgement

    parts = tuple(split_parts(question))
    low = question.lower()
    m = _LIST_Q.search(question)
    listing = bool(m) and (m.group("a") or m.group("b") or "").lower() not in _NOT_PLURAL
    multi = len(parts) > 1 or bool(_SIDES_Q.search(question)) or bool(_TWO_NAMES.search(question))
    kind = _asked_kind(parts[0]) if len(parts) == 1 else ""
    how_long = bool(_HOW_LONG.search(low))
    return Shape(parts=parts, judgement=asks_judgement(question), listing=listing, multi_source=multi,
                 kind=kind, how_long=how_long)


_VALUE_FAMILIES = {"date": ("time", "monthday"), "count": ("count", "times"), "amount": ("money",),
                   "percent": ("percent",)}


def states_asked_value(shape: Shape, text: str, question: str) -> bool:
    """True when the sentence states a value of the asked kind that the question itself does not name (pure)."""
    if not shape.kind:
        return False
    from qa.values import extract_values, restates

    families = _VALUE_FAMILIES[shape.kind] + (("time", "count") if shape.how_long else ())
    named = extract_values(question)
    for v in extract_values(text):
        if v.kind.split(":")[0] in families and not restates(v, named):
            return True
    return False


_ITEM_SPLIT = re.compile(r",\s*(?:and\s+|or\s+)?|;\s*|\s+and\s+")
# an item starts with a name or is a number ("resolutions 822, 853, 874 and 884": the items of a "which resolutions"
# question are numbers)
_ITEM_START = re.compile(r"^(?:the\s+|a\s+)?(?:[A-Z][\w'’.-]*|[A-Z]{2,}|\d[\d.,/-]*\W*$)")
# ... or, read loosely, after a preposition the items share ("in Kosovo (KFOR), in Afghanistan (ISAF) and in Iraq")
_SHARED_PREPOSITION = re.compile(r"^(?:in|at|on|to|from|with|for|by|of)\s+")


def item_texts(text: str, loose: bool = False) -> list[str]:
    """The stretches of a sentence between commas and "and"s that start with a name or are a number; ``loose``: after
    a preposition too (pure)."""
    segs = [seg.strip() for seg in _ITEM_SPLIT.split(text)]
    return [seg for seg in segs if _ITEM_START.match(_SHARED_PREPOSITION.sub("", seg) if loose else seg)]


def list_items(text: str, loose: bool = False) -> int:
    """How many names or numbers a sentence lists ("A, B and the C" -> 3); 0 when fewer than LIST_MIN_ITEMS (pure).
    ``loose``: items after a shared preposition count too ("in Kosovo, in Afghanistan and in Iraq"): where a list's
    neighbour is looked for, not where lists are ranked (there it cost the seed set a gold sentence)."""
    n = len(item_texts(text, loose))
    return n if n >= LIST_MIN_ITEMS else 0


def takes_stance(text: str) -> bool:
    """A sentence that condemns, defends or denies (qa.disagree's cues)."""
    from qa.disagree import tone

    t = tone(text)
    return bool(t.critical or t.denial)


def window(values: list[float], i: int, share: float | None = None) -> float:
    """values[i] lifted by its best neighbour: max(own, (1 - share) * own + share * neighbour) (pure)."""
    share = NEIGHBOUR if share is None else share
    near = max((values[j] for j in (i - 1, i + 1) if 0 <= j < len(values)), default=values[i])
    return max(values[i], (1 - share) * values[i] + share * near)


# ---- retrieval -----------------------------------------------------------------------------------------------------

def retrieve(question: str, store, settings: Settings | None = None, k: int | None = None,
             scope: Scope | None = None) -> list[Hit]:
    """Best evidence sentences for the question (k, default settings.k_evidence, plus LIST_EXTRA on list
    questions), at most settings.max_per_doc per document: best first, or, on judgement/list/multi-source
    questions, each relevant publisher's best first. ``scope``: the documents to search and the query, when the
    caller knows them better than the question does (a follow-up that names its own source)."""
    settings = settings or store.settings
    return retrieve_sizes(question, store, settings, [settings.k_evidence], k, scope=scope)[0]


def retrieve_sizes(question: str, store, settings: Settings, sizes: Sequence[int], k: int | None = None,
                   scope: Scope | None = None) -> list[list[Hit]]:
    """``retrieve`` for each evidence size of ``sizes`` (a k_evidence, plus LIST_EXTRA on list questions; ``k``
    overrides it), from one scoring of the sentences: a wider pool costs no second search."""
    if not store.chunks:
        return [[] for _ in sizes]
    # "according to the op-ed", "what does the IHR say": the evidence comes from the documents the question names,
    # searched for without that naming
    sc = scope or scope_of(question, store.docs)
    question, scope = sc.query, sc.docs
    shape = question_shape(question)
    if scope and _reported_elsewhere(question, sc, store, settings, shape):
        scope = frozenset()
    ranked = [score_sentences(part, store, settings, shape if len(shape.parts) == 1 else replace(
        shape, kind=_asked_kind(part), how_long=bool(_HOW_LONG.search(part))), scope=scope) for part in shape.parts]
    if len(shape.parts) == 1:
        # "How long had UNHCR and UNICEF been working ...?": each name's best sentences, taken in turn with the
        # whole question's, so one name's strong matches cannot crowd out the other's answer
        ranked += [score_sentences(v, store, settings, shape, scope=scope) for v in name_variants(question)]
    merged = ranked[0] if len(ranked) == 1 else interleave(ranked)
    publisher = None
    # "What do the MFA and the interview say about ...?": each source the question names gets its best sentence,
    # however much better another's match
    named = len(scope) > 1 and len(named_publishers(scope, store.docs)) > 1
    if shape.sides or named:
        docs = store.docs
        publisher = {h.doc_id: (getattr(docs.get(h.doc_id), "source", "") or h.doc_id) for h in merged}
    # a list question gets more slots, unless the caller asked for a number of hits
    return [select(merged, k or size + (LIST_EXTRA if shape.listing else 0), settings.max_per_doc, publisher,
                   side_ratio=0.0 if named else SIDE_RATIO, lists=shape.listing) for size in sizes]


def named_publishers(doc_ids: Iterable[str], docs) -> dict[str, set[str]]:
    """Publisher (the manifest's source, else the document id) -> the ids among ``doc_ids`` it published."""
    out: dict[str, set[str]] = {}
    for d in doc_ids:
        out.setdefault(getattr(docs.get(d), "source", "") or d, set()).add(d)
    return out


def _reported_elsewhere(question: str, sc: Scope, store, settings: Settings, shape: Shape) -> bool:
    """True when another document reports what the named source does better than the source's own pages answer:
    "Why did the Azerbaijani government criticise the UNDP?" is answered by the NGO's "The Azerbaijani government
    has particularly criticized the UNDP, citing ...", not by a ministry page about UNDP programmes: a sentence outside
    the scope that names the source as the question did outscores every sentence of the scope. "Does the op-ed
    mention the ICRC?" stays with the op-ed: the better sentences elsewhere never name it."""
    own = max((h.score for h in score_sentences(question, store, settings, shape, scope=sc.docs)), default=0.0)
    return any(h.doc_id not in sc.docs and sc.named_in(h.text)
               for h in score_sentences(question, store, settings, shape) if h.score > own)


ALIAS_CHUNKS = 10  # chunks read for abbreviation definitions: the question's best BM25 chunks, and as many per
# abbreviation it names


def corpus_aliases(question: str, store, lexical: list[tuple[int, float]] | None = None) -> list[Alias]:
    """The abbreviations the corpus defines that the question uses in either form (qa.aliases), read from the
    chunks the question reaches by its words (``lexical``, its BM25 ranking, when the caller has it) and by each
    abbreviation it names."""
    abbrevs, runs = names_in(question)
    if not abbrevs and not runs:
        return []
    ranked = lexical if lexical is not None else store.search_lexical(question, ALIAS_CHUNKS)
    ids: list[int] = [cid for cid, _ in ranked[:ALIAS_CHUNKS]]
    for ab in abbrevs:
        ids += [cid for cid, _ in store.search_lexical(ab, ALIAS_CHUNKS)]
    seen: set[int] = set()
    texts = []
    for cid in ids:
        if cid not in seen:
            seen.add(cid)
            texts.append(store.chunks[cid].text)
    return question_aliases(question, texts)


def score_sentences(question: str, store, settings: Settings, shape: Shape | None = None,
                    scope: frozenset[str] = frozenset()) -> list[Hit]:
    """Every sentence of the best chunks scored for the question, each read in its window, best first; with
    ``scope`` (document ids), only the chunks of those documents, from a search SCOPED_POOL times as wide."""
    shape = shape or Shape(parts=(question,))
    pool = max(POOL_MIN, settings.k_chunks * POOL_PER_K) * (SCOPED_POOL if scope else 1)
    lexical = store.search_lexical(question, pool)
    aliases = corpus_aliases(question, store, lexical)
    qvec = store.embedder.embed([spelled_out(question, aliases)])[0]
    dense = store.search_dense(qvec, pool)
    expanded = expanded_query(question, aliases)
    if expanded != question:
        lexical = store.search_lexical(expanded, pool)
    if scope:
        dense, lexical = ([(cid, s) for cid, s in ranking if store.chunks[cid].doc_id in scope]
                          for ranking in (dense, lexical))
    fused = rrf(dense, lexical)
    best = sorted(fused, key=fused.get, reverse=True)[: max(settings.k_chunks * FUSED_PER_K, FUSED_MIN)]
    best += [cid for cid in dict.fromkeys(c for ranking in (lexical, dense) for c, _ in ranking[:EACH_TOP])
             if cid not in best]
    if not best:
        return []
    top_fused = fused[best[0]]
    lex_max = max((s for _, s in lexical), default=0.0) or 1.0
    lex_of = dict(lexical)
    qterms = content_terms(_IMPERATIVE.sub("", question))  # "List the UN bodies ...": "list" is no topic
    idf = _idf(store, qterms)
    loose = loose_terms(question, qterms)
    candidates: dict[int, Hit] = {}
    for cid in best:
        chunk_rank = fused[cid] / top_fused
        chunk_sim = float(store.chunk_vector(cid) @ qvec)
        rows = store.sentence_rows(cid)
        if not rows:
            continue
        sims = [float(x) for x in store.sentence_vectors(rows) @ qvec]
        srows = [store.sentence(r) for r in rows]
        texts = [store.text(r.doc_id, r.start, r.end) for r in srows]
        # the document's title is every sentence's context: a passage that never names its subject ("she ...")
        # under the title "Safe Haven (2013 film)" is still about Safe Haven; a quoted sentence's speaker is its
        # context too ("What did Musabayov say about ...?", qa.speakers)
        doc = store.docs.get(srows[0].doc_id) if srows else None
        spoken = [speaker_at(doc.text, r.start, r.end) if doc is not None else "" for r in srows]
        covs = [term_coverage(qterms, f"{t} {who}" if who else t, idf, aliases, loose)
                for t, who in zip(texts, spoken)]
        title_cov = term_coverage(qterms, doc.title, idf, aliases, loose) if doc is not None and doc.title else 0.0
        covs = [max(c, (1 - TITLE_SHARE) * c + TITLE_SHARE * title_cov) for c in covs]
        for i, row in enumerate(rows):
            r, text = srows[i], texts[i]
            # a sentence is read in its window: "The Federation ... since 1993" answers a Red Cross question
            score = (W_SIM * window(sims, i, NEIGHBOUR_SIM) + W_CHUNK_SIM * chunk_sim + W_CHUNK_RANK * chunk_rank
                     + W_COV * window(covs, i))
            if is_question(text):
                score *= QUESTION_PENALTY
            elif states_asked_value(shape, text, question):
                score += TYPE_BONUS
            if shape.judgement and not is_question(text) and takes_stance(text):
                score += STANCE_BONUS
            if shape.listing and list_items(text):
                score += LIST_BONUS
            old = candidates.get(row)
            if old is None or score > old.score:
                candidates[row] = Hit(doc_id=r.doc_id, start=r.start, end=r.end, text=text, chunk_id=cid,
                                      score=round(score, 4), dense=round(sims[i], 4),
                                      lexical=round(lex_of.get(cid, 0.0) / lex_max, 4))
    return sorted(candidates.values(), key=lambda h: -h.score)


def interleave(rankings: list[list[Hit]]) -> list[Hit]:
    """One list from several best-first lists, taking each list's next unseen hit in turn (pure)."""
    out: list[Hit] = []
    seen: set[tuple[str, int, int]] = set()
    iters = [iter(r) for r in rankings]
    while iters:
        for it in list(iters):
            for h in it:
                key = (h.doc_id, h.start, h.end)
                if key not in seen:
                    seen.add(key)
                    out.append(h)
                    break
            else:
                iters.remove(it)
    return out


def select(hits: list[Hit], k: int, max_per_doc: int, publisher: dict[str, str] | None = None,
           side_ratio: float = SIDE_RATIO, lists: bool = False, list_ratio: float = LIST_RATIO) -> list[Hit]:
    """k hits in the given order, at most max_per_doc per document, no near-duplicates; with ``publisher``
    (doc_id -> publisher), first the best hit of every publisher scoring at least side_ratio of the best; with
    ``lists``, then up to LIST_EXTRA sentences that list names, scoring at least list_ratio of the best (pure)."""
    if not publisher and not lists:
        return diversify(hits, k, max_per_doc)
    top = max((h.score for h in hits), default=0.0)
    first: list[Hit] = []
    if publisher:
        firsts: dict[str, Hit] = {}
        for h in hits:
            if not is_question(h.text):
                firsts.setdefault(publisher.get(h.doc_id, h.doc_id), h)
        first = [h for h in firsts.values() if h.score >= side_ratio * top]
    if lists:
        first += [h for h in hits if list_items(h.text) and h.score >= list_ratio * top and h not in first][:LIST_EXTRA]
    chosen = diversify(first, k, max_per_doc)
    keys = {(h.doc_id, h.start, h.end) for h in chosen}
    rest = [h for h in hits if (h.doc_id, h.start, h.end) not in keys]
    return diversify(chosen + rest, k, max_per_doc)


def diversify(hits: list[Hit], k: int, max_per_doc: int) -> list[Hit]:
    """Take hits in order, at most max_per_doc per document, skipping near-duplicate sentences (pure)."""
    out: list[Hit] = []
    per_doc: Counter[str] = Counter()
    seen_texts: list[set[str]] = []
    for h in hits:
        if per_doc[h.doc_id] >= max_per_doc:
            continue
        words = set(content_terms(h.text))
        if any(words and len(words & s) / len(words | s) > NEAR_DUPLICATE for s in seen_texts):
            continue
        out.append(h)
        per_doc[h.doc_id] += 1
        seen_texts.append(words)
        if len(out) >= k:
            break
    return out


def unknown_terms(question: str, store) -> list[str]:
    """Content terms of the question that occur nowhere in the corpus (e.g. 'Mars', 'GDP')."""
    if not store.chunks:
        return []
    return [t for t in dict.fromkeys(content_terms(question)) if not t.isdigit() and not store.has_term(t)]


def _is_name_word(i: int, w: str) -> bool:
    return (i > 0 and w[:1].isupper()) or (len(w) > 1 and w.isupper())


def named_terms(question: str) -> set[str]:
    """Content terms the question writes as names: capitalised after its first word, or all capitals ("GDP")."""
    return {t for run in name_runs(question) for t in run}


def name_runs(question: str) -> list[tuple[str, ...]]:
    """The content terms of each run of name words the question writes next to each other ("Justice Dunn",
    "Fort Kent"), in order (pure)."""
    runs: list[list[str]] = []
    last = -2
    for i, m in enumerate(re.finditer(r"[^\W_][\w'’-]*", question)):
        w = m.group()
        if not _is_name_word(i, w):
            continue
        terms = content_terms(w)
        if not terms:
            continue
        if i == last + 1 and runs:
            runs[-1].extend(terms)
        else:
            runs.append(list(terms))
        last = i
    return [tuple(r) for r in runs]


def missing_name_weight(question: str, unknown: Sequence[str]) -> float:
    """How many of the question's name words the corpus never uses (``unknown``), each counted whole when its name
    has no word the corpus uses, and PARTIAL_NAME_SHARE of one when another word of the name is there (pure)."""
    gone = set(unknown)
    runs = name_runs(question)
    total = 0.0
    for t in dict.fromkeys(t for run in runs for t in run if t in gone):
        partial = any(o not in gone for run in runs if t in run for o in run)
        total += PARTIAL_NAME_SHARE if partial else 1.0
    return total


def relevance(hits: list[Hit], question: str | None = None, store=None) -> float:
    """How well the best evidence answers the question, in [0, 1]: the pipeline abstains below a threshold.

    Each name of the question the corpus never uses lowers it: a corpus that never says 'Mars' cannot tell its
    population. A missing ordinary word ("associated", "profession") does not: the documents may say it otherwise
    ("played", "worked as"). Measured on the seed dev split and RAMDocs: penalising every missing word abstained on
    17% of RAMDocs' answerable questions for words like those."""
    best = max((h.score for h in hits), default=0.0)
    if question is None or store is None:
        return best
    docs = getattr(store, "docs", None)
    if docs is not None:
        question = scope_of(question, docs).query  # a source it names is no term to look for
    terms = list(dict.fromkeys(content_terms(question)))
    missing = missing_name_weight(question, unknown_terms(question, store))
    return best * (1.0 - MISSING_NAME_PENALTY * missing / len(terms)) if terms else best
