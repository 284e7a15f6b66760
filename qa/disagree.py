"""Find where the evidence sentences of different documents contradict each other, as Disagreement notes.

Three detectors, all fed with pairs of evidence sentences (Hits) from *different* documents that are relevant to the
question and to each other (embedding similarity from ``store.embedder`` when there is one, word overlap otherwise):

* factual (no model needed): both sentences state a value of the same kind (date, amount, percentage, count) about
  the same thing (the words around the two values overlap) and the values cannot both hold (``qa.values``);
  a sentence that also states the other side's value is taken as agreement.
* opinion, read from wording (no model needed; ``stance_pairs``): on a question sources can take sides on (yes/no,
  why, what role...), a sentence of one publisher condemns (critical cues: "condemn", "politically motivated",
  "blatant disregard") while a sentence of another publisher, relevant to the same point, defends or denies
  ("no issues with", "not a matter of", "key partner", "guided by"). This reads tone, not meaning, so with no judge
  only the clearest such pair is noted, one per question. The local 1.5B model cannot tell these apart any better
  (bench/judge_separation.py: its yes/no scores barely separate the seed set's conflicts from agreement), so it is
  not a judge by default.
* opinion / framing (chat model as judge, hosted by default): the clashing-wording pairs go first, then others. The
  model must answer CONTRADICT *and* copy the clashing words from each quote, which must be found in the quotes;
  and a second signal must agree: the copied phrases hold conflicting values, or the quotes carry opposed stance
  markers, or a second, differently framed call ("can both be true?") says NO. Small models say yes too easily;
  asking twice with opposite polarity cancels that bias. At most ``settings.disagreement_judge_calls`` calls per
  question; any model failure skips that judgment.

Each conflict becomes one Disagreement (pairs sharing a sentence are merged) whose claims are verbatim quotes at
exact offsets from at least two documents. Deliberately left out: reading beyond the hits the caller passes,
NLI models (too unreliable here), and rendering (``qa.render``).
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from itertools import combinations

from qa import candidates as C
from qa.settings import Settings
from qa.text import POLAR_AUX, claim_stems, is_question, snowball_stem
from qa.types import Citation, Claim, Disagreement, Document, Hit, Side
from qa.verify import citation_at
from qa.values import Value, compare, compare_sets, extract_values

_NEG = re.compile(r"\b(?:not|no|never|none|neither|nor|don't|doesn't|didn't|isn't|wasn't|aren't|cannot|can't|"
                  r"won't|rather than|instead of|denied|denies|false|unfounded)\b|n['’]t\b", re.I)
# Condemnation or accusation of wrongdoing. Mere trouble ("the threat of mines", "a failed harvest") is no verdict on
# anyone, so words that only describe problems are left out.
_CRITICAL = re.compile(
    r"\b(?:condemn\w*|attack\w*|repress\w*|suppress\w*|persecut\w*|silenc\w*|crackdown|violat\w*|abus\w*|blatant\w*|"
    r"disregard\w*|undermin\w*|unlawful\w*|illegal\w*|illegitimate|politically motivated|deliberate effort|harmful|"
    r"dubious|problematic|unacceptabl\w*|deeply concerning|alarming|curtail\w*|retaliat\w*|intimidat\w*|censor\w*|"
    r"arbitrar\w*|unjust\w*|discriminat\w*|propaganda|biased|partisan|hostile|endanger\w*|exacerbat\w*|"
    r"deteriorat\w*|pretext\w*|scapegoat\w*)\b", re.I)
# Endorsement or defence: praise, commitment, partnership.
_FAVOURABLE = re.compile(
    r"\b(?:fruitful|constructive|successful\w*|effective\w*|valuable|vital|key|important|committed|commitment|"
    r"matur\w*|optimi[sz]\w*|strengthen\w*|contribut\w*|partners?(?:hip)?|welcom\w*|support\w*|benefit\w*|"
    r"ready to|deeper|active\w*|promot\w*|respect\w*|guided by|adhere\w*|exemplary|best)\b", re.I)
# Denial: a charge is answered with "no", "not", "rather".
_DENIAL = re.compile(
    r"\b(?:no (?:issues?|problems?|reason|evidence|grounds)|not (?:a matter|the case|true|about)|"
    r"(?:don[’']t|do not|does not|doesn[’']t) (?:think|believe|mean)|is not|are not|was not|rather than|but rather|"
    r"nothing to do|unfounded|baseless)\b", re.I)
# A question asks for a judgement when it is a yes/no question or asks why, how (not how many/much/long...), to what
# extent, or what role, reason, impact... Questions for a value or a name (when, how many, which, who) only get value
# conflicts: sources that tell different details are not in conflict.
_POLAR_Q = re.compile(rf"^\W*(?:{POLAR_AUX}|isn['’]t|aren['’]t|wasn['’]t|doesn['’]t|don['’]t|didn['’]t|won['’]t)\b",
                      re.I)
_SPEAKER_Q = re.compile(r"\baccording to\b|\b(?:what|how) (?:did|does|do|has|have|had)\b.{0,80}?\b(?:say|said|state|stated|"
                        r"announce|announced|report|reported|claim|claimed|write|wrote|explain|explained)\b", re.I)
_JUDGE_Q = re.compile(
    r"\b(?:why|how come|to what extent|how (?:should|would|will|could|can|is|are|was|were|does|do|did)\b"
    r"|what (?:\w+ ){0,2}(?:role|impact|effects?|consequences?|reasons?|purpose|motives?|motivation|rationale|meaning|"
    r"significance|views?|position|stance|opinion|message|signal|goals?|aims?|risks?|benefits?|outcomes?|"
    r"implications?|intent|intentions?|agenda|problems?|criticism|concerns?))\b", re.I)
_ASKS = {"time": re.compile(r"\b(?:when|what year|which year|what date|since when|how long ago)\b", re.I),
         "count": re.compile(r"\b(?:how many|how much|number of|how old|how long|how tall|how far)\b", re.I),
         "money": re.compile(r"\b(?:how much|cost\w*|price|budget|amount|fund\w*|worth|pay|paid|spen[dt]|allocat\w*)\b", re.I),
         "percent": re.compile(r"\b(?:percent\w*|share|proportion|rate|what fraction)\b", re.I)}

SYSTEM = (
    "You check whether two quotes from different sources contradict each other on a question. They contradict only "
    "if both cannot be true at once or they take opposite positions on the same point (for example: one says it "
    "is a political message and the other says it is not; different numbers, dates or names for the same thing). "
    "Quotes about different things, different details, or one quote saying more than the other are COMPATIBLE.\n"
    "Reply with exactly three lines and nothing else:\n"
    "VERDICT: CONTRADICT or COMPATIBLE\n"
    "A: the few words (at most 12) of quote A that clash, copied exactly\n"
    "B: the few words (at most 12) of quote B that clash, copied exactly")
CONFIRM = ("Answer with one word, YES or NO. Can both statements be true at the same time about the question?")


# ---- thresholds and weights: what each does and how it was set ----------------------------------------------------
# Unless a comment names a sweep, a value was set by hand when its check was written and then checked on the seed
# set and the dev halves of RAMDocs and ConflictQA (qa eval --set seed | ramdocs | conflictqa-each); moving it by a
# small step changed no figure by more than noise.

#: characters of a value's own clause read before and after it to say what the value is about
ANCHOR_BEFORE, ANCHOR_AFTER = 90, 50
#: two values are about the same thing when the words around them overlap (Jaccard) at least this much
ANCHOR_FIT = 0.25
#: a phrase a model copied counts as found when this share of it matches, in a stretch at most this much longer
LOCATE_MATCH, LOCATE_SPREAD = 0.85, 1.3
#: the shortest phrase (characters) worth locating
LOCATE_MIN_CHARS = 4
#: stance prior when only one side negates or only one side is critical (both clash: 1)
ONE_SIDED = 0.5
#: two clashing phrases that share this much of their words restate each other
RESTATEMENT_OVERLAP = 0.6
#: one value a side, in phrases of at most this many words: the judge's clash is a factual one
SHORT_PHRASE_WORDS = 15
#: a stance pair's score: relevance of both + their similarity + these weights per critical / denial cue (capped)
CRITICAL_WEIGHT, CRITICAL_CAP = 0.15, 3
DENIAL_WEIGHT, DENIAL_CAP = 0.3, 2
#: a judge-pair prior's bonus when one side condemns or negates what the other states
OPPOSED_BONUS = 0.25
#: words of a title shown when a document has no publisher
TITLE_WORDS = 8
#: documents named per side in a summary ("A, B, C and 2 more")
NAMED_PER_SIDE = 3
#: a sentence of another document is a near-copy of an evidence sentence at this word overlap (Jaccard)
PARALLEL_OVERLAP = 0.6
#: evidence sentences whose near-copies are looked for, and chunks searched per sentence; and the retrieved
#: documents compared pairwise as possible copies of one text. 12 each, not 6: on the planted snippet sets
#: (qa eval --set planted) a copy's sentence was often the wider pool's (qa.disagree._more_evidence), not the answer's
#: (conflicts noted 0.64 -> 0.77 with twins below; RAMDocs, ConflictQA-each, counterfactual, seed: one RAMDocs
#: question gained, nothing else changed, the check's p50 0.135 -> 0.137 s)
PARALLEL_TOP, PARALLEL_PER_HIT = 12, 6
COPY_TOP_DOCS = 12
#: a sentence added beside retrieval (a near-copy, a copy's changed sentence) ranks just under what it came from
ADDED_DISCOUNT = 0.98
#: a sentence is about the question when it covers this share of the subject (read with the sentence before), or
#: when its relevance is at least this
ABOUT_COVERAGE, ABOUT_RELEVANCE = 0.3, 0.45
#: a sentence retrieval ranked this high in its context is kept however it reads alone
KEEP_HIT_SCORE = 0.45
#: noun phrases judged per sentence for an untyped question
FOCUS_PHRASES = 12
#: relevance at which a typed candidate's score counts in full; below, it falls linearly to this share at relevance 0
RELEVANCE_FULL, RELEVANCE_FLOOR = 0.6, 0.5
#: focus similarity at which an untyped candidate's score counts in full, and how much subject coverage weighs
FOCUS_FULL, FOCUS_COVERAGE_WEIGHT = 0.6, 0.4


@dataclass
class _Unit:
    index: int  # position in the caller's hits (citation number = index + 1)
    hit: Hit
    doc: Document
    relevance: float
    stems: set[str] = field(default_factory=set)
    values: list[Value] = field(default_factory=list)


@dataclass
class _Edge:
    """Two sentences that disagree: a and b are their _Unit.index (positions in the caller's hits), never positions
    in a filtered list of units."""

    a: int
    b: int
    kind: str  # factual | opinion
    stance_a: str
    stance_b: str


def overlap(a: set[str], b: set[str]) -> float:
    """Cosine overlap of two stem sets, in [0, 1]."""
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def _similarities(question: str, units: list[_Unit], store) -> tuple[list[float], list[list[float]]]:
    """Question relevance and pairwise similarity: embeddings when the store has an embedder, word overlap else."""
    q = claim_stems(question)
    lex_q = [overlap(q, u.stems) for u in units]
    lex = [[overlap(u.stems, v.stems) for v in units] for u in units]
    embedder = getattr(store, "embedder", None)
    if embedder is None:
        return lex_q, lex
    try:
        import numpy as np

        # stored sentence vectors are reused; only the question and unknown spans are embedded
        stored = [getattr(store, "sentence_vector", lambda *a: None)(u.hit.doc_id, u.hit.start, u.hit.end)
                  for u in units]
        todo = [question] + [u.hit.text for u, v in zip(units, stored) if v is None]
        fresh = iter(embedder.embed(todo))
        qv = next(fresh)
        vecs = np.vstack([qv] + [v if v is not None else next(fresh) for v in stored])
        sims = (vecs @ vecs.T).tolist()
    except Exception:  # a broken embedder only costs precision of the pairing, never the answer
        return lex_q, lex
    return [sims[0][i + 1] for i in range(len(units))], [row[1:] for row in sims[1:]]


def two_sources(a: Document, b: Document) -> bool:
    """Different documents, and not two pages of one publisher (a site does not disagree with itself)."""
    return a.doc_id != b.doc_id and not (a.source and a.source == b.source)


def _anchor(text: str, v: Value) -> set[str]:
    """What a value is about: content words of its clause near it, plus the counted thing."""
    before = re.split(r"[;:!?]|\.\s|—|–\s", text[max(0, v.start - ANCHOR_BEFORE):v.start])[-1]
    after = re.split(r"[;:!?]|\.\s|—|–\s", text[v.end:v.end + ANCHOR_AFTER])[0]
    return claim_stems(before + " " + after) | {snowball_stem(w) for w in v.unit}


def _family(v: Value) -> str:
    return "money" if v.kind.startswith("money") else "time" if v.kind in ("time", "monthday") else v.kind


def factual_edges(question: str, units: list[_Unit], sim: list[list[float]], min_sim: float) -> list[_Edge]:
    """Pairs of sentences from different documents giving incompatible values for what the question asks."""
    q = claim_stems(question)
    asked = {k for k, pat in _ASKS.items() if pat.search(question)}
    if not asked:
        return []  # values the question does not ask for are details, and details differ all the time
    need = 2 if len(q) > 2 else 1
    scope = extract_values(question)  # "in 2018": values the question names set its scope, they are not answers
    edges = []
    for a, b in combinations(range(len(units)), 2):
        ua, ub = units[a], units[b]
        if not two_sources(ua.doc, ub.doc) or sim[a][b] < min_sim:
            continue
        va_all = [v for v in ua.values if _family(v) in asked and compare_sets([v], scope) == "unrelated"]
        vb_all = [v for v in ub.values if _family(v) in asked and compare_sets([v], scope) == "unrelated"]
        if not va_all or not vb_all or len(va_all) > 2 or len(vb_all) > 2:
            continue  # a list of figures is not one claim about one thing
        for va in va_all:
            about_a = _anchor(ua.hit.text, va)
            scored = []
            for vb in vb_all:
                about_b = _anchor(ub.hit.text, vb)
                shared = about_a & about_b
                fit = len(shared) / max(len(about_a | about_b), 1)
                # same thing = the words around both values mostly coincide, and include what the question names
                if (compare(va, vb) != "unrelated" and len(shared) >= 2 and len(shared & q) >= need
                        and fit >= ANCHOR_FIT):
                    scored.append((fit, vb))
            same = [vb for _, vb in sorted(scored, key=lambda x: -x[0])]
            if not same or any(compare(va, vb) == "agree" for vb in same):
                continue
            # the other side restating this value anywhere means the sources agree on it
            if compare_sets([va], ub.values) == "agree" or compare_sets(same, ua.values) == "agree":
                continue
            edges.append(_Edge(ua.index, ub.index, "factual", va.text, same[0].text))
            break
    return edges


def _parse_judgment(reply: str) -> tuple[str, str, str] | None:
    verdict = re.search(r"VERDICT\s*:\s*\**\s*(CONTRADICT|COMPATIBLE)", reply, re.I)
    pa = re.search(r"^\s*\**A\**\s*:\s*(.+)$", reply, re.M)
    pb = re.search(r"^\s*\**B\**\s*:\s*(.+)$", reply, re.M)
    if not verdict:
        return None
    clean = lambda m: m.group(1).strip().strip("\"'“”‘’*` ").strip() if m else ""  # noqa: E731
    return verdict.group(1).upper(), clean(pa), clean(pb)


def locate(phrase: str, text: str) -> tuple[int, int] | None:
    """Where a model-copied phrase sits in ``text`` (exact, or 85% of it matching one stretch); None if absent."""
    phrase = " ".join(phrase.split())
    if len(claim_stems(phrase)) < 1 or len(phrase) < LOCATE_MIN_CHARS:
        return None
    i = text.lower().find(phrase.lower())
    if i >= 0:
        return i, i + len(phrase)
    m = SequenceMatcher(None, text.lower(), phrase.lower(), autojunk=False)
    blocks = [b for b in m.get_matching_blocks() if b.size]
    if not blocks or sum(b.size for b in blocks) < LOCATE_MATCH * len(phrase):
        return None
    start, end = blocks[0].a, blocks[-1].a + blocks[-1].size
    return (start, end) if end - start <= LOCATE_SPREAD * len(phrase) else None


def _polarity(text: str) -> int:
    return len(_FAVOURABLE.findall(text)) - 2 * len(_CRITICAL.findall(text))


def stance_opposed(a: str, b: str) -> float:
    """A cheap prior: 1 when one side condemns what the other praises, 0.5 when only one side negates, else 0."""
    pa, pb = _polarity(a), _polarity(b)
    if (pa > 0 > pb) or (pb > 0 > pa) or (min(pa, pb) < 0 <= max(pa, pb) and bool(_NEG.search(a)) != bool(
            _NEG.search(b))):
        return 1.0
    return ONE_SIDED if bool(_NEG.search(a)) != bool(_NEG.search(b)) or (pa < 0) != (pb < 0) else 0.0


def asks_judgement(question: str) -> bool:
    """True for questions sources can take sides on: yes/no, why, how, what role/reason/impact... but not a question
    that names whose words it wants ("according to X", "what did X say about why..."): other sources' views on
    the point do not answer it."""
    if _SPEAKER_Q.search(question):
        return False
    return bool(_POLAR_Q.match(question) or _JUDGE_Q.search(question))


@dataclass(frozen=True)
class Tone:
    critical: int  # condemnation or accusation cues
    favourable: int  # endorsement or defence cues
    denial: int  # "no issues", "not a matter of", "I don't think"
    cue: tuple[int, int] | None  # span of the cue the sentence's stance is read from


def tone(text: str) -> Tone:
    """Counts of critical, favourable and denial cues in one sentence, and the span of its leading cue."""
    crit, fav, deny = (list(p.finditer(text)) for p in (_CRITICAL, _FAVOURABLE, _DENIAL))
    lead = crit or deny or fav
    return Tone(len(crit), len(fav), len(deny), lead[0].span() if lead else None)


# clause boundaries; an en dash between numbers ("5–10 times") is a range, not a boundary
_CLAUSE_CUT = re.compile(r"[,;:—()]|\s–\s|(?<!\d)–(?!\d)|\.\s")


def cue_phrase(text: str, cue: tuple[int, int] | None, max_words: int = 16) -> str:
    """The clause of ``text`` around ``cue``, at most ``max_words`` words: a source's own words for its stance."""
    if cue is None:
        return " ".join(text.split()[:max_words])
    cuts = [m.end() for m in _CLAUSE_CUT.finditer(text[:cue[0]])]
    start = cuts[-1] if cuts else 0
    m = _CLAUSE_CUT.search(text[cue[1]:] + " ")
    end = cue[1] + m.start() if m else len(text)
    before, after = text[start:cue[0]].split(), text[cue[0]:end].split()
    lead = before if len(before) + len(after) <= max_words + 3 else before[-6:]  # a long clause: a window on its cue
    words = lead + after[:max(max_words - len(lead), 4)]
    glue = {"and", "or", "but", "the", "a", "an", "of", "to", "in", "on", "with", "for", "by", "that", "which", "its"}
    while len(words) > 3 and words[-1].lower() in glue:
        words.pop()
    while len(words) > 3 and words[0].lower() in glue - {"the", "a", "an", "its"}:
        words.pop(0)
    return " ".join(words).strip(" ,;:—–\"“”")


def stance_pairs(question: str, units: list[_Unit], sim: list[list[float]], settings: Settings,
                 embedded: bool, embed=None) -> list[tuple[float, _Edge]]:
    """Opinion conflicts read from the sources' wording, most convincing first: on a judgement question, a sentence
    of one publisher condemns (critical cues) while a sentence of another publisher, relevant to the same point,
    defends or denies (favourable or denial cues, no critical one). Both must be relevant to the question and to
    each other, and each must say something of what the question asks beyond its names (``speaks_to``): "Did
    Azerbaijan join the UN in 1992?" is not answered by one page condemning the closures and another denying
    distrust. This reads tone, not meaning: a judge model, when there is one, confirms each pair."""
    if not settings.stance_conflicts or not asks_judgement(question):
        return []
    min_rel = settings.stance_min_relevance if embedded else settings.stance_min_relevance_lexical
    min_sim = settings.stance_pair_sim if embedded else settings.stance_pair_sim_lexical
    tones = [tone(u.hit.text) for u in units]
    speaks = speaks_to(question, [u.hit.text for u in units], embed)
    out = []
    for a, b in combinations(range(len(units)), 2):
        for x, y in ((a, b), (b, a)):
            ux, uy, tx, ty = units[x], units[y], tones[x], tones[y]
            if (not two_sources(ux.doc, uy.doc) or min(ux.relevance, uy.relevance) < min_rel or sim[x][y] < min_sim
                    or tx.critical < 1 or ty.critical > 0 or ty.favourable + ty.denial < 1
                    or not (speaks[x] or speaks[y])):
                continue
            score = (ux.relevance + uy.relevance + sim[x][y] + CRITICAL_WEIGHT * min(tx.critical, CRITICAL_CAP)
                     + DENIAL_WEIGHT * min(ty.denial, DENIAL_CAP))
            out.append((score, _Edge(ux.index, uy.index, "opinion", cue_phrase(ux.hit.text, tx.cue),
                                     cue_phrase(uy.hit.text, ty.cue))))
    return sorted(out, key=lambda p: -p[0])


def speaks_to(question: str, texts: Sequence[str], embed=None) -> list[bool]:
    """For each text, whether it states one of the question's own words beyond its names and numbers ("join",
    "neutral", "message"), by stem or by a word of close meaning (``qa.candidates.with_related``); every text does
    when the question has no such word."""
    a = C.with_related(C.asked(question), question, list(texts), embed)
    if not C.relation_words(a):
        return [True] * len(texts)
    return [C.relation_share(a, t) > 0 for t in texts]


def _ask(chat_model, system: str, human: str) -> str | None:
    from langchain_core.messages import HumanMessage, SystemMessage

    try:
        reply = chat_model.invoke([SystemMessage(content=system), HumanMessage(content=human)])
        text = getattr(reply, "content", reply)
        return text if isinstance(text, str) else None
    except Exception:  # a model failure skips this judgment; the answer goes on without it
        return None


def _name(doc: Document) -> str:
    """Publisher (date), or a short title when the publisher is not known."""
    words = (doc.title or "").split()
    who = doc.source or (" ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")) or doc.doc_id
    return f"{who} ({doc.date})" if doc.date else who


def _said_by(u: _Unit) -> str:
    """Who says a unit's sentence: the person its document quotes there, with the publisher (qa.speakers), else
    the publisher."""
    from qa.speakers import speaker_at

    who = speaker_at(u.doc.text, u.hit.start, u.hit.end)
    return f"{who} ({_name(u.doc)})" if who else _name(u.doc)


def judge_pair(question: str, ua: _Unit, ub: _Unit, chat_model, calls_left: int) -> tuple[_Edge | None, int]:
    """Ask the model about one pair; returns the accepted edge (or None) and the number of calls spent."""
    human = (f"Question: {question}\n\nQuote A ({_said_by(ua)}): \"{ua.hit.text.strip()}\"\n\n"
             f"Quote B ({_said_by(ub)}): \"{ub.hit.text.strip()}\"")
    reply = _ask(chat_model, SYSTEM, human)
    parsed = _parse_judgment(reply) if reply else None
    if not parsed or parsed[0] != "CONTRADICT":
        return None, 1
    ta, tb = ua.hit.text, ub.hit.text
    sa, sb = locate(parsed[1], ta), locate(parsed[2], tb)
    if not sa or not sb:
        return None, 1  # the clash must be in the quotes, not in the model's imagination
    pa, pb = ta[sa[0]:sa[1]], tb[sb[0]:sb[1]]
    if (overlap(claim_stems(pa), claim_stems(pb)) >= RESTATEMENT_OVERLAP
            and bool(_NEG.search(pa)) == bool(_NEG.search(pb))):
        return None, 1  # the same words on both sides: a restatement, not a clash
    edge = _Edge(ua.index, ub.index, "opinion", pa, pb)
    va, vb = extract_values(pa), extract_values(pb)
    if (len(va) == len(vb) == 1 and max(len(pa.split()), len(pb.split())) <= SHORT_PHRASE_WORDS
            and compare(va[0], vb[0]) == "conflict"):
        edge.kind = "factual"
        return edge, 1
    if stance_opposed(ta, tb) >= 1.0:
        return edge, 1  # second signal without a second call: one side condemns what the other praises or denies
    if calls_left < 2:
        return None, 1
    confirm = _ask(chat_model, CONFIRM, f"Question: {question}\nStatement 1: \"{ta.strip()}\"\n"
                                        f"Statement 2: \"{tb.strip()}\"\nCan both be true? YES or NO.")
    if confirm and re.match(r"\W*no\b", confirm.strip(), re.I):
        return edge, 2
    return None, 2


def _clipped(phrase: str, sentence: str) -> str:
    """``phrase`` with an ellipsis where it cuts its sentence short, so a clipped quote reads as one."""
    phrase, flat = " ".join(phrase.split()).strip(), " ".join(sentence.split()).strip(" \"“”'")
    if not phrase or phrase not in flat:
        return phrase
    head = "" if flat.startswith(phrase) else "…"
    tail = "" if flat.rstrip(".!?;:,").endswith(phrase.rstrip(".!?;:,")) else "…"
    return f"{head}{phrase}{tail}"


def _group(edges: list[_Edge], units: dict[int, _Unit]) -> list[Disagreement]:
    """One Disagreement per connected group of conflicting sentences."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for e in edges:
        parent[find(e.a)] = find(e.b)
    groups: dict[int, list[_Edge]] = {}
    for e in edges:
        groups.setdefault(find(e.a), []).append(e)
    out = []
    for group in groups.values():
        stance: dict[int, str] = {}
        for e in group:
            stance.setdefault(e.a, e.stance_a)
            stance.setdefault(e.b, e.stance_b)
        by_doc: dict[str, int] = {}
        for i in sorted(stance, key=lambda i: -units[i].relevance):
            by_doc.setdefault(units[i].doc.doc_id, i)
        if len(by_doc) < 2:
            continue
        claims = []
        for i in sorted(by_doc.values()):
            u = units[i]
            cit = citation_at(u.doc, u.hit.start, u.hit.end, n=i + 1, score=u.hit.score)
            claims.append(Claim(citation=cit, stance=" ".join(stance[i].split())))
        kind = "factual" if any(e.kind == "factual" for e in group) else "opinion"
        dates = {c.citation.date[:4] for c in claims}
        if kind == "factual" and len(dates) == len(claims) and "" not in dates and not any(
                e.stance_a and extract_values(e.stance_a) and extract_values(e.stance_a)[0].kind == "time"
                for e in group):
            kind = "outdated"  # dated sources giving different figures: the older one may be out of date
        sides: dict[str, list[int]] = {}  # documents stating agreeing values speak as one side
        for i in sorted(by_doc.values()):
            vals = extract_values(stance[i])
            key = next((k for k in sides if vals and compare_sets(vals, extract_values(k)) == "agree"), stance[i])
            sides.setdefault(key, []).append(i)
        if len(sides) < 2:
            continue
        summary = "; ".join(
            f"{' and '.join(_said_by(units[i]) for i in idx)} say{'s' if len(idx) == 1 else ''} "
            f"“{_clipped(key, units[idx[0]].hit.text)}”" for key, idx in sides.items())
        out.append(Disagreement(summary=summary + ".", kind=kind, claims=tuple(claims)))
    return out


def _more_evidence(question: str, hits: list[Hit], store, settings: Settings) -> tuple[list[Hit], list[Hit]]:
    """Wider evidence pools than the answer's, from one search: (the other sentences of the best
    settings.disagree_k, the other sentences of the best settings.disagree_copy_k), none of ``hits`` nor of the first
    pool. The other side of a conflict is often not among the top few; the second, wider pool is read for copies
    only."""
    sizes = [k for k in (settings.disagree_k, settings.disagree_copy_k) if k > len(hits)]
    if not sizes or not hasattr(store, "search_dense"):
        return [], []
    try:
        from qa.retrieve import retrieve_sizes

        pools = retrieve_sizes(question, store, settings.with_(max_per_doc=max(settings.max_per_doc, 4)), sizes)
    except Exception:  # the caller's hits are enough to work with
        return [], []
    have = {(h.doc_id, h.start, h.end) for h in hits}
    more = [h for h in pools[0] if (h.doc_id, h.start, h.end) not in have] if settings.disagree_k > len(hits) else []
    have |= {(h.doc_id, h.start, h.end) for h in more}
    wide = [h for h in pools[-1] if (h.doc_id, h.start, h.end) not in have] if settings.disagree_copy_k > len(
        hits) + len(more) else []
    return more, wide


def _parallel_evidence(hits: list[Hit], store, top: int = PARALLEL_TOP, per_hit: int = PARALLEL_PER_HIT,
                       known: Sequence[Hit] = ()) -> list[Hit]:
    """Near-copies, in other documents, of the best evidence sentences (none of ``hits`` or ``known``): retrieval
    keeps one of two near-identical sentences (diversity), but a copy with one fact changed is exactly what a factual
    conflict looks like."""
    if not hasattr(store, "search_dense") or not hasattr(store, "sentence_rows"):
        return []
    have = {(h.doc_id, h.start, h.end) for h in list(hits) + list(known)}
    out: list[Hit] = []
    for h in hits[:top]:
        vec = store.sentence_vector(h.doc_id, h.start, h.end) if hasattr(store, "sentence_vector") else None
        if vec is None:
            continue
        words = set(claim_stems(h.text))
        try:
            chunk_ids = [cid for cid, _ in store.search_dense(vec, per_hit)]
        except Exception:  # a store that cannot search by vector adds nothing here
            return out
        for cid in chunk_ids:
            for row in store.sentence_rows(cid):
                r = store.sentence(row)
                if r.doc_id == h.doc_id or (r.doc_id, r.start, r.end) in have:
                    continue
                text = store.docs[r.doc_id].text[r.start:r.end]
                other = set(claim_stems(text))
                if words and other and len(words & other) / len(words | other) >= PARALLEL_OVERLAP:
                    have.add((r.doc_id, r.start, r.end))
                    out.append(Hit(doc_id=r.doc_id, start=r.start, end=r.end, text=text, chunk_id=cid,
                                   score=round(h.score * ADDED_DISCOUNT, 4), dense=h.dense, lexical=h.lexical))
    return out


@functools.lru_cache(maxsize=256)
def _doc_words(text: str) -> frozenset[str]:
    return frozenset(C.words(text[:C.COPY_CHARS]))


@functools.lru_cache(maxsize=256)
def _doc_sentences(text: str) -> tuple[tuple[int, int], ...]:
    from qa.chunk import split_sentences

    return tuple((sp.start, sp.end) for sp in split_sentences(text[:C.COPY_CHARS]))


def _top_docs(hits: Sequence[Hit], store, top: int) -> tuple[dict[str, float], list[str]]:
    """The documents compared as possible copies of one text: the ``top`` best retrieved documents the store holds,
    best first, then the twins of their best chunks (``_twins``: retrieval keeps one of two near-copies, and a page
    rewritten is ranked low), with each one's score (its best hit's, or just under its twin's)."""
    order: dict[str, float] = {}
    for h in hits:
        order[h.doc_id] = max(order.get(h.doc_id, 0.0), h.score)
    ids = [d for d in sorted(order, key=lambda d: -order[d]) if d in store.docs][:top]
    for d, sc in _twins(list(hits), store, set(ids)):
        order[d] = sc
        ids.append(d)
    return order, ids


def _copy_evidence(hits: list[Hit], store, top_docs: int = COPY_TOP_DOCS, pool: Sequence[Hit] = ()
                   ) -> tuple[list[Hit], set[tuple[str, int]]]:
    """Sentences where two retrieved documents (of ``hits`` and the wider ``pool``) that are copies of one text differ
    (qa.candidates.copy_differences), as hits not among ``hits``, and their (doc_id, start) keys. A copy with one fact
    changed disagrees with its original wherever the change is, even in a sentence that leans on a pronoun and that
    retrieval did not rank."""
    order, ids = _top_docs(list(hits) + list(pool), store, top_docs)
    have = {(h.doc_id, h.start) for h in hits}
    out: list[Hit] = []
    keys: set[tuple[str, int]] = set()
    for x, y in combinations(ids, 2):
        da, db = store.docs[x], store.docs[y]
        if not two_sources(da, db):
            continue
        wa, wb = _doc_words(da.text), _doc_words(db.text)
        if len(wa & wb) < C.COPY_SHARE * min(len(wa), len(wb)):
            continue  # copies share most of their words: a cheap test before sentences are compared
        sents = [_doc_sentences(d.text) for d in (da, db)]
        for side_a, side_b in C.copy_differences(da.text, db.text, sents[0], sents[1]):
            for doc, (s, e, _, _) in ((da, side_a), (db, side_b)):
                keys.add((doc.doc_id, s))
                if (doc.doc_id, s) not in have:
                    have.add((doc.doc_id, s))
                    out.append(Hit(doc_id=doc.doc_id, start=s, end=e, text=doc.text[s:e], chunk_id=-1,
                                   score=round(ADDED_DISCOUNT * min(order[x], order[y]), 4), dense=0.0, lexical=0.0))
    return out, keys


#: a document whose chunk is this close (cosine) to the best chunk of one of the best few retrieved documents is a
#: possible rewrite of that page, read even when retrieval did not rank it (a reworded page keeps its meaning: the
#: one pair inspected, RAMDocs' Cove Fort page and its planted rewrite, scored 0.99; other pages of that question
#: 0.38-0.76)
TWIN_SIM, TWIN_TOP, TWIN_K = 0.85, COPY_TOP_DOCS, 6


def _twins(hits: list[Hit], store, known: set[str]) -> list[tuple[str, float]]:
    """Documents not among ``known`` with a chunk nearly the same in meaning as the best chunk of one of the best few
    retrieved documents, and the score they are ranked at (just under that hit's); [] for a store that cannot search
    by vector."""
    if not hasattr(store, "search_dense") or not hasattr(store, "chunk_vector"):
        return []
    out: dict[str, float] = {}
    best: dict[str, Hit] = {}
    for h in hits:  # each retrieved document's best chunk, best documents first
        if h.chunk_id >= 0 and h.doc_id not in best:
            best[h.doc_id] = h
    for h in list(best.values())[:TWIN_TOP]:
        try:
            found = store.search_dense(store.chunk_vector(h.chunk_id), TWIN_K)
            for cid, sim in found:
                d = store.chunks[cid].doc_id
                if sim >= TWIN_SIM and d not in known and d in store.docs:
                    out[d] = max(out.get(d, 0.0), round(ADDED_DISCOUNT * h.score, 4))
        except Exception:  # no vectors to compare: the retrieved documents only
            return []
    return list(out.items())


#: two documents are compared as one page written twice only when they share this much of their vocabulary (the
#: smaller one's; in 7 RAMDocs questions inspected, planted rewrites shared 0.83-0.99, other pages 0.14-0.37)
REWRITE_WORDS = 0.5


def _rewrite_evidence(question: str, hits: list[Hit], store, top_docs: int = COPY_TOP_DOCS, pool: Sequence[Hit] = ()
                      ) -> tuple[list[Hit], dict[tuple[str, int], tuple[int, int]], set[frozenset[str]]]:
    """Where two retrieved documents of different publishers are one page written twice and differ in a fact of the
    kind asked (qa.candidates.fact_differences): the sentences holding each side's fact, as hits; (doc_id, sentence
    start) -> the fact's offsets in the document; and the pairs of documents found so."""
    a = C.asked(question)
    if a.kind not in C.TYPED or a.plural:
        return [], {}, set()
    order, ids = _top_docs(list(hits) + list(pool), store, top_docs)
    have = {(h.doc_id, h.start) for h in hits}
    skip = C.skip_words(question, ())
    out: list[Hit] = []
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    pairs: set[frozenset[str]] = set()
    for x, y in combinations(ids, 2):
        da, db = store.docs[x], store.docs[y]
        if not two_sources(da, db):
            continue
        wa, wb = _doc_words(da.text), _doc_words(db.text)
        if len(wa & wb) < REWRITE_WORDS * min(len(wa), len(wb)):
            continue  # one page written twice keeps most of its words: a cheap test before names are read
        qa_, qb = C.descriptor(a, da.text, da.title), C.descriptor(a, db.text, db.title)
        if qa_ and qb and C.norm(qa_) != C.norm(qb):
            continue  # "X (Andy Williams album)" and "X (Johnny Mathis album)": two things, however alike the pages
        diff = C.fact_differences(a, da.text, db.text, skip)
        if diff is None:
            continue
        for doc, (fs, fe) in ((da, diff[0]), (db, diff[1])):
            sent = next(((s, e) for s, e in _doc_sentences(doc.text) if s <= fs and fe <= e), None)
            if sent is None:
                break
            s, e = sent
            spans.setdefault((doc.doc_id, s), (fs, fe))
            if (doc.doc_id, s) not in have:
                have.add((doc.doc_id, s))
                out.append(Hit(doc_id=doc.doc_id, start=s, end=e, text=doc.text[s:e], chunk_id=-1,
                               score=round(ADDED_DISCOUNT * min(order[x], order[y]), 4), dense=0.0, lexical=0.0))
        else:
            pairs.add(frozenset((x, y)))
    return out, spans, pairs


def candidate_pairs(units: list[_Unit], sim: list[list[float]], settings: Settings,
                    embedded: bool) -> list[tuple[int, int]]:
    """Pairs worth a judge call, most promising first: related to each other and to the question, from two
    documents, with a bonus when one side negates or condemns what the other states."""
    pair_sim = settings.disagree_pair_sim if embedded else settings.disagree_pair_sim_lexical
    cands = []
    for a, b in combinations(range(len(units)), 2):
        ua, ub = units[a], units[b]
        if not two_sources(ua.doc, ub.doc) or sim[a][b] < pair_sim:
            continue
        prior = sim[a][b] * math.sqrt(max(ua.relevance, 0) * max(ub.relevance, 0)) + OPPOSED_BONUS * stance_opposed(
            ua.hit.text, ub.hit.text)
        cands.append((prior, a, b))
    return [(a, b) for _, a, b in sorted(cands, reverse=True)]


@dataclass(frozen=True)
class Readings:
    """The answers the documents give to a question, grouped: a conflict, distinct things sharing a name, or one."""

    asked: C.Asked
    groups: tuple[C.Group, ...] = ()  # groups strong enough to count, most documents first
    conflict: bool = False  # two or more groups contradict each other
    distinct: bool = False  # the groups answer about different things that share a name
    weaker: tuple[C.Group, ...] = ()  # every group found, strong or not (see cited_conflict)

    @property
    def plural(self) -> bool:
        return len(self.groups) >= 2


#: a candidate counts as a document's answer at this score or above (qa.candidates.sentence_candidates: subject
#: coverage x closeness); set on the dev halves of RAMDocs and ConflictQA (bench/disagree_eval.py --part ramdocs)
MIN_CANDIDATE = 0.45
#: a group whose best candidate scores below this share of the best group's is a passing mention, not an answer
GROUP_RATIO = 0.7
#: a side of a conflict states its answer plainly: its best candidate scores this much (or is a near-copy's
#: changed fact); set on the dev halves of ConflictQA and RAMDocs (sweep of 0.5-0.8: 0.7 gave the best F1 on both)
STRONG_CANDIDATE = 0.7
#: at most this many sides in one factual disagreement (the groups with the most documents, then the best scores)
MAX_SIDES = 3
#: a document's answer scoring from OTHER_THING_CANDIDATE up to MIN_CANDIDATE still counts when the document is about
#: another thing of the same name than the plainly answering ones (told apart by their other facts,
#: qa.candidates.apart). 0.2 and 0.3 gave the same RAMDocs answers, 0.4 none of the four gained: set on that plateau
OTHER_THING_CANDIDATE = 0.3
#: only where the value parser reads the answer reliably: a loose name or count was as often a passing mention
#: ("Op", "73") as the answer on RAMDocs' printouts
OTHER_THING_KINDS = frozenset({"date"})



#: two groups contradict only if some sentence of one and some sentence of the other are about the same thing:
#: embedding similarity at least this (word overlap when the store has no embedder); set on the dev halves
PAIR_SIM = 0.45


_COMPOUND = re.compile(r"\b(?:and|or)\s+(?:since\s+)?(?:when|where|who|why|how|what|which)\b", re.I)

#: a candidate found where two near-parallel sentences of different documents differ scores this much
ALIGNED_SCORE = 0.9


def _aligned(a: C.Asked, units: Sequence["_Unit"], copied: set[tuple[str, int]] = frozenset()
             ) -> tuple[dict[int, tuple[int, int]], set[frozenset[str]]]:
    """Unit index -> the span (sentence offsets) where it differs from a near-parallel sentence of another
    document, for sentences about the question's subject or where two retrieved copies of one text differ; and the
    pairs of documents found differing so."""
    out: dict[int, tuple[int, int]] = {}
    pairs: set[frozenset[str]] = set()
    about = [C.coverage_in_context(a, u.hit.text, C.preceding(u.doc.text, u.hit.start)) >= ABOUT_COVERAGE
             or u.relevance >= ABOUT_RELEVANCE or (u.doc.doc_id, u.hit.start) in copied for u in units]
    for i, j in combinations(range(len(units)), 2):
        ui, uj = units[i], units[j]
        if not two_sources(ui.doc, uj.doc) or not (about[i] and about[j]):
            continue
        d = C.aligned_difference(ui.hit.text, uj.hit.text)
        if d is None:
            continue
        (s1, e1), (s2, e2) = d
        if C.same_answer(ui.hit.text[s1:e1], uj.hit.text[s2:e2]):
            continue
        # for a date question, two copies differing in a name differ on something else; one side of the kind asked
        # is enough, since the changed stretch fills the same slot in both ("September 20" / "The first day")
        if a.kind in C.TYPED and not (C.holds_kind(a, ui.hit.text, s1, e1) or C.holds_kind(a, uj.hit.text, s2, e2)):
            continue
        if C.holds_other_value(a, ui.hit.text, s1, e1) or C.holds_other_value(a, uj.hit.text, s2, e2):
            continue  # a share changed where a count is asked: another quantity, whatever the copy's side reads as
        # "vital" / "valuable": wording, not a different thing; a yes/no question has no answer slot, so there only
        # a changed name or value counts ("attack" / "assault" is wording too)
        thing = C.holds_entity if a.kind == "yesno" else C.holds_thing
        if a.kind not in C.TYPED and not (thing(ui.hit.text, s1, e1) and thing(uj.hit.text, s2, e2)):
            continue
        if a.kind not in C.TYPED and a.kind != "yesno" and (C.only_values(ui.hit.text, s1, e1)
                                                            or C.only_values(uj.hit.text, s2, e2)):
            continue  # "what genre": "(1977 film)" / "(1987 film)" differ in a year, which is no genre
        out.setdefault(i, (s1, e1))
        out.setdefault(j, (s2, e2))
        pairs.add(frozenset((ui.doc.doc_id, uj.doc.doc_id)))
    return out, pairs


#: an untyped answer ("what sport...") is a noun phrase whose meaning is this close to the focus noun (MiniLM
#: cosine; sports score 0.6-0.75 against "sport", other nouns of the same sentences 0.2-0.45); set on RAMDocs dev
FOCUS_SIM = 0.5
#: the NER model's names that count when a sentence gives them with the focus noun (capitalised runs and quoted
#: stretches are left out: in web captures they are mostly menus and infobox rows)
NAMED_FOCUS_LABELS = C.NAMELIKE - {"CAPS", "QUOTED"}


def _focus_candidates(a: C.Asked, units: Sequence["_Unit"], embed) -> dict[int, tuple[float, C.Span]]:
    """Unit index -> its best answer of the kind an untyped question asks for: a name the sentence gives with the
    focus noun itself ("the private railway operator JR East" for "which railway operator"), else a noun phrase
    judged by meaning, its embedding close to the focus noun's ("cricket" to "sport")."""
    if not a.focus:
        return {}
    per: dict[int, list[C.Span]] = {}
    for k, u in enumerate(units):
        if C.subject_coverage(a, u.hit.text) >= ABOUT_COVERAGE and not is_question(u.hit.text):
            per[k] = C.phrase_candidates(a, u.hit.text)[:FOCUS_PHRASES]
    out: dict[int, tuple[float, C.Span]] = {}
    if a.focus not in C.GENERIC_FOCUS:
        for k, u in enumerate(units):  # read with the sentence before: "It was run by the rail operator X"
            text = u.hit.text
            if is_question(text) or C.coverage_in_context(a, text, C.preceding(u.doc.text, u.hit.start)
                                                          ) < ABOUT_COVERAGE:
                continue
            named = [sp for sp in C.typed_spans(text) if sp.label in NAMED_FOCUS_LABELS and sp.value is None
                     and C.names_focus(text, sp.start, sp.end, a.focus) and not C.phrase_in_question(a, sp.text)]
            # or a name written as the noun's modifier ("a Punjabi language film", "a Baroque-style church"), or
            # under it as an infobox label ("Sport: Ice Hockey")
            named = named or [sp for sp in C.focus_modifiers(text, a.focus) + C.labelled_values(text, a.focus)
                              if not C.phrase_in_question(a, sp.text)]
            if named:
                out[k] = (FOCUS_FULL, named[0])
    flat = [(k, sp) for k, sps in per.items() if k not in out for sp in sps]
    if embed is None or not flat:
        return out or _descriptor_candidates(a, units)
    try:
        vecs = embed([a.focus] + [sp.text for _, sp in flat])
    except Exception:  # no meaning, no phrases judged by it; the rest of the check stands
        return out
    for (k, sp), v in zip(flat, vecs[1:]):
        sim = float(vecs[0] @ v)
        if sim >= FOCUS_SIM and (k not in out or sim > out[k][0]):
            out[k] = (sim, sp)
    return out or _descriptor_candidates(a, units)


#: a name's descriptor ("X is a novel") stands for the focus noun's meaning this much (of FOCUS_FULL)
DESCRIPTOR_WEIGHT = 0.8


def _descriptor_candidates(a: C.Asked, units: Sequence["_Unit"]) -> dict[int, tuple[float, C.Span]]:
    """When no sentence gives an answer whose meaning is close to the focus noun ("what is the medium of X": no
    phrase near "medium"), each sentence's answer is what it calls the question's name ("X is a novel", "the film
    X"): for every sentence or none, so a descriptor never stands against an answer of the kind asked."""
    if not a.names or a.focus in C.GENERIC_FOCUS:
        return {}
    out: dict[int, tuple[float, C.Span]] = {}
    for k, u in enumerate(units):
        if is_question(u.hit.text):
            continue
        # "X is a Punjabi language film": the focus noun itself is no answer to "what is the language of X"
        found = [sp for sp in C.descriptors(u.hit.text, a.names)
                 if C.match_stem(a.focus) not in {C.match_stem(w) for w in C.words(sp.text)}]
        if found:
            out[k] = (DESCRIPTOR_WEIGHT * FOCUS_FULL, found[0])
    return out


#: a typed question with its own focus noun ("what political party", "which university"): a span's score is
#: weighed by how close its meaning is to that noun (MiniLM cosine, full at FOCUS_FULL), this much
TYPED_FOCUS_WEIGHT = 0.5
#: the typed spans of a sentence weighed so (the best few by their own score)
TYPED_FOCUS_SPANS = 3


def _typed_focus(a: C.Asked, found: dict[int, list[tuple[float, C.Span]]], embed
                 ) -> dict[int, list[tuple[float, C.Span]]]:
    """Each unit's typed spans (``found``), for a typed question that names a focus noun of its own, with the best
    few weighed by their meaning's closeness to that noun ("Republican" to "party" 0.52, "the Colorado House of
    Representatives" 0.28), best first; ``found`` as it is otherwise."""
    if embed is None or a.kind not in ("org", "place", "title") or not a.focus or a.focus in C.GENERIC_FOCUS:
        return found
    top = {k: spans[:TYPED_FOCUS_SPANS] for k, spans in found.items() if spans}
    texts = [sp.text for spans in top.values() for _, sp in spans]
    if not texts:
        return found
    try:
        vecs = embed([a.focus] + texts)
    except Exception:  # no meaning: spans keep their own scores
        return found
    near = iter(float(vecs[0] @ v) for v in vecs[1:])
    return {k: sorted(((round(sc * (1 - TYPED_FOCUS_WEIGHT + TYPED_FOCUS_WEIGHT * min(1.0, max(next(near), 0.0)
                                                                                       / FOCUS_FULL)), 4), sp)
                       for sc, sp in top[k]), key=lambda x: -x[0]) if k in top else spans
            for k, spans in found.items()}


def _whole_values(text: str, start: int, end: int) -> tuple[int, int]:
    """The stretch text[start:end] where two versions of a sentence differ, widened to every value it cuts into:
    "1900" of "January 1, 1900" is the whole date, so a reader sees what each version states (pure)."""
    for v in extract_values(text):
        if v.start < end and start < v.end:
            start, end = min(start, v.start), max(end, v.end)
    return start, end


#: the named entities a changed stretch is widened to when it cuts into one: the name labels, and nationalities
_WHOLE_NAME_LABELS = C.NAMELIKE | {"NORP"}


def _whole_names(text: str, start: int, end: int) -> tuple[int, int]:
    """The changed stretch text[start:end] widened to every name it cuts into: two copies that read "Southeast Asia"
    and "Western Asia" differ in "Southeast" / "Western", but each states the whole place (pure but for the cached
    NER)."""
    for s, e, label in C.entities(text):
        if label in _WHOLE_NAME_LABELS and s < end and start < e and (s < start or end < e):
            start, end = min(start, s), max(end, e)
    return start, end


#: a near-copy's changed stretch is a sentence's answer when it holds a typed span scoring at least this share of the
#: sentence's best (set by hand: "nearly as good"; the copy agrees on every other span)
CHANGED_RATIO = 0.8


def _unit_answer(a: C.Asked, u: "_Unit", changed: tuple[int, int] | None, found: list[tuple[float, C.Span]],
                 focus: tuple[float, C.Span] | None) -> tuple[float, C.Span] | None:
    """One sentence's best answer to the question and its score: the stretch where it differs from a near-copy, its
    best typed span (``found``, weighed by relevance), or, for an untyped question, its noun phrase closest to the
    focus noun."""
    options: list[tuple[float, C.Span]] = []
    weight = RELEVANCE_FLOOR + (1 - RELEVANCE_FLOOR) * min(max(u.relevance, 0.0) / RELEVANCE_FULL, 1.0)
    if changed is not None:
        s0, e0 = _whole_names(u.hit.text, *_whole_values(u.hit.text, *changed))
        span_text = u.hit.text[s0:e0]
        vals = extract_values(span_text)
        score = ALIGNED_SCORE
        # the copy repeats the rest of the sentence word for word, so a typed span there cannot be where the two
        # differ: "School (Kentucky) ... located in Springfield, Illinois" / "... in Stanford, Kentucky". The changed
        # stretch wins when it holds an answer nearly as good as the sentence's best
        inside = [sc for sc, sp in found if sp.start < e0 and s0 < sp.end]
        if found and inside and max(inside) >= CHANGED_RATIO * found[0][0]:
            score = max(score, round(found[0][0] * weight, 4))
        options.append((score, C.Span(s0, e0, span_text, "ALIGNED",
                                      vals[0] if len(vals) == 1 and vals[0].text == span_text else None)))
    if found:
        sc, span = found[0]
        options.append((round(sc * weight, 4), span))
    elif focus is not None:  # an untyped question (a typed one has no focus phrases)
        fsim, span = focus
        # a descriptor states the relation in its own words ("X is a novel"): the names alone are its subject
        said = C.names_only(a) if span.label == "DESCRIPTOR" else a
        cov = C.coverage_in_context(said, u.hit.text, C.preceding(u.doc.text, u.hit.start))
        options.append((round(min(1.0, fsim / FOCUS_FULL) * (1 - FOCUS_COVERAGE_WEIGHT + FOCUS_COVERAGE_WEIGHT * cov),
                              4), span))
    return max(options, key=lambda o: o[0]) if options else None


def _about(a: C.Asked, u: "_Unit", answer: str) -> str:
    """How a candidate's document qualifies the question's subject: as its own sentence does ("Ardhangini (2017 TV
    series), a ... Finnish-language series" on a page listing several), else as the document's opening does."""
    return C.descriptor(a, u.hit.text, "", answer) or C.descriptor(a, u.doc.text, u.doc.title, answer)


def answer_readings(question: str, units: Sequence["_Unit"], sim: Sequence[Sequence[float]] | None = None,
                    min_candidate: float = MIN_CANDIDATE, group_ratio: float = GROUP_RATIO,
                    pair_sim: float = PAIR_SIM, embed=None, strong_candidate: float | None = None,
                    max_sides: int | None = None, copied: set[tuple[str, int]] = frozenset(),
                    rewritten: tuple[dict[tuple[str, int], tuple[int, int]], set[frozenset[str]]] | None = None
                    ) -> Readings:
    """Each document's answer to the question (its best typed span, or the span where its sentence differs from a
    near-parallel sentence of another document), grouped by meaning (qa.candidates)."""
    strong_candidate = STRONG_CANDIDATE if strong_candidate is None else strong_candidate
    max_sides = MAX_SIDES if max_sides is None else max_sides
    a = C.asked(question)
    if not units:
        return Readings(a)
    a = C.with_related(a, question, [u.hit.text for u in units], embed)  # "established" stated as "founded"
    # a list question expects several answers, a compound question a compound answer, a yes/no question no span:
    # there only two copies of one sentence that differ in one fact make a conflict
    only_aligned = a.kind == "yesno" or a.plural or bool(_COMPOUND.search(question))
    typed = a.kind in C.TYPED and not only_aligned  # untyped answers ("what sport") are compared only where
    C.entities_batch([u.hit.text for u in units])  # sentences run parallel; one spaCy call for every sentence
    aligned, aligned_docs = _aligned(a, units, copied)
    spans, pairs = rewritten or ({}, set())
    facts = [(d, fs, fe) for (d, _), (fs, fe) in spans.items()]
    for k, u in enumerate(units):  # a fact where two versions of one page differ counts like a copy's changed stretch
        inside = [(fs, fe) for d, fs, fe in facts if d == u.doc.doc_id and u.hit.start <= fs and fe <= u.hit.end]
        if inside and k not in aligned:
            fs, fe = inside[0]
            aligned[k] = (fs - u.hit.start, fe - u.hit.start)
    aligned_docs = aligned_docs | pairs
    if only_aligned and not aligned:
        return Readings(a)
    focus = {} if typed or only_aligned else _focus_candidates(a, units, embed)
    found = _typed_focus(a, {k: C.sentence_candidates(a, u.hit.text, C.preceding(u.doc.text, u.hit.start))
                             for k, u in enumerate(units) if not is_question(u.hit.text)}, embed) if typed else {}
    best: dict[str, C.Candidate] = {}
    unit_of: dict[str, int] = {}
    found_in: dict[str, list[tuple[C.Candidate, int]]] = {}  # every answer of each document, at min_candidate or up
    weak: dict[str, C.Candidate] = {}  # documents whose answer is stated loosely (below min_candidate)
    for k, u in enumerate(units):
        option = None if is_question(u.hit.text) else _unit_answer(a, u, aligned.get(k), found.get(k, []),
                                                                   focus.get(k))
        if option is None:
            continue
        sc, span = option
        if a.kind == "date" and span.label != "ALIGNED":  # the sentence's own, more precise date of that year
            span = C.most_specific(span, u.hit.text) or span
        cand = C.Candidate(doc_id=u.doc.doc_id, start=u.hit.start + span.start, end=u.hit.start + span.end,
                           text=span.text, kind=a.kind, score=sc, sent_start=u.hit.start, sent_end=u.hit.end,
                           value=span.value, about=_about(a, u, span.text),
                           aligned=span.label == "ALIGNED", label=span.label)
        if sc >= min_candidate:
            found_in.setdefault(cand.doc_id, []).append((cand, k))
        elif sc >= OTHER_THING_CANDIDATE and (cand.doc_id not in weak or sc > weak[cand.doc_id].score):
            weak[cand.doc_id] = cand
    for doc_id, options in found_in.items():  # each document's best answer (the first of equal scores)
        # where a copy differs from its page in several sentences, the one stating the relation asked is the answer:
        # "formed ... on July 26, 1918", not "In November 1918 it was renamed ..." (both changed in the copy)
        cand, k = max(options, key=lambda o: (o[0].score, o[0].aligned and C.relation_share(a, units[o[1]].hit.text)))
        finer = _finer_date(cand, options)  # a year in one sentence, the day in another of the same document
        best[doc_id], unit_of[doc_id] = (replace(finer[0], score=cand.score), finer[1]) if finer else (cand, k)
    groups = C.person_sides(a, C.group_candidates(list(best.values())))
    if not groups:
        return Readings(a)
    top = groups[0].score
    dropped = [c for g in groups if g.score < group_ratio * top for c in g.candidates]
    groups = [g for g in groups if g.score >= group_ratio * top]
    if len(groups) < 2:
        told = _other_things(question, a, groups, dropped + [c for d, c in weak.items() if d not in best], units)
        return Readings(a, tuple(told), distinct=True) if told else Readings(a, tuple(groups))
    texts = {u.doc.doc_id: u.doc.text for u in units}
    distinct = all(C.distinct_entities(g1, g2) and not _one_subject(g1, g2, texts)
                   for g1, g2 in combinations(groups, 2))
    if distinct:
        return Readings(a, tuple(groups), distinct=True)
    every = tuple(groups)

    def related(g1: C.Group, g2: C.Group) -> bool:
        return sim is None or any(sim[unit_of[c1.doc_id]][unit_of[c2.doc_id]] >= pair_sim
                                  or frozenset((c1.doc_id, c2.doc_id)) in aligned_docs
                                  for c1 in g1.candidates for c2 in g2.candidates)

    def two_publishers(g1: C.Group, g2: C.Group) -> bool:
        return any(two_sources(units[unit_of[c1.doc_id]].doc, units[unit_of[c2.doc_id]].doc)
                   for c1 in g1.candidates for c2 in g2.candidates)

    # a group joins the conflict only when it states its answer plainly (a strong candidate, or a near-copy's
    # changed fact) and one of its sentences is about what a sentence of another group, from another publisher, is
    # about (a site does not disagree with itself); the strongest few groups speak, a long tail is noise
    strong = [g for g in groups if g.score >= strong_candidate or any(c.aligned for c in g.candidates)]
    keep = [g for g in strong if any(related(g, o) and two_publishers(g, o) and not C.states_both(g, o, texts)
                                     for o in strong if o is not g)]
    if len(keep) < 2:
        return Readings(a, tuple(groups[:1]), weaker=every)
    # the strongest few groups speak, a near-copy's changed fact first: two versions of one text that differ in the
    # answer are the plainest conflict there is, however few documents back the copy (shown in the order found)
    chosen = sorted(keep, key=lambda g: not any(c.aligned for c in g.candidates))[:max_sides]
    keep = [g for g in keep if g in chosen]
    told = _told_apart(question, a, keep, units)  # no qualifier tells them apart: what else each page says may
    if told is not None:
        return Readings(a, tuple(told), distinct=True, weaker=every)
    # a side whose life span ends otherwise than every other side's is another person of the name, not a side:
    # "When was Judge Ritter born?" over 1868 and a planted 1900 (both died in 1951) and another judge's 1899 (1978)
    others = [g for g in keep if all(C.partners_differ(g, o, texts) for o in keep if o is not g)]
    if others and len(keep) - len(others) >= 2:
        keep = [g for g in keep if g not in others]
    return Readings(a, tuple(keep), conflict=True, weaker=every)


def _other_things(question: str, a: C.Asked, groups: Sequence[C.Group], loose: Sequence[C.Candidate],
                  units: Sequence["_Unit"]) -> list[C.Group] | None:
    """One answer found plainly (``groups``) and others only loosely, in documents that are about another thing of
    the same name ("Harbor Savings Bank was formed in 1904 in Kenya", against Ohio's bank "founded on January 1,
    1877"): every answer, each named by what sets its documents apart (``_told_apart``); None when a loose answer
    agrees with the plain one or its documents are not told apart from the plain one's (a planted copy shares its
    page's other facts, so a planted value found loosely is never shown this way)."""
    if a.kind not in OTHER_THING_KINDS or len(groups) != 1 or not loose:
        return None
    main = groups[0]
    others = [g for g in C.group_candidates(loose)
              if not any(C.same_answer(c.text, m.text, c.value, m.value) for c in g.candidates for m in main.candidates)]
    if not others:
        return None
    return _told_apart(question, a, [main, *others[:MAX_SIDES - 1]], units)


def _finer_date(cand: C.Candidate, others: Sequence[tuple[C.Candidate, int]]) -> tuple[C.Candidate, int] | None:
    """Another candidate of the same document whose date lies inside ``cand``'s and is narrower (the title's
    "(2009 album)" and "released on June 30, 2009" two sentences on), the narrowest; None when there is none, when
    the narrowest ones differ, or when either is a near-copy's changed stretch (that one is the answer) (pure)."""
    if cand.aligned:
        return None
    pool = [(c, k) for c, k in others if not c.aligned]
    i = C.narrowest_inside(cand.value, [c.value for c, _ in pool])
    return None if i is None else pool[i]


def _one_subject(g1: C.Group, g2: C.Group, texts: dict[str, str]) -> bool:
    """True when a document of each group gives the same day-exact date in its opening (qa.candidates.one_subject):
    one thing, whatever qualifiers tell the groups apart."""
    return any(C.one_subject(texts[d1], texts[d2]) for d1 in g1.docs for d2 in g2.docs if d1 in texts and d2 in texts)


def _told_apart(question: str, a: C.Asked, groups: Sequence[C.Group], units: Sequence["_Unit"] | dict[str, str]
                ) -> list[C.Group] | None:
    """The groups of a would-be conflict, each named by what sets its documents apart, when no document of one
    shares enough of its other facts with any document of another to be about the same thing; None otherwise.
    ``units``: the evidence units, or the documents' texts by id."""
    skip = C.skip_words(question, groups)
    docs = units if isinstance(units, dict) else {u.doc.doc_id: u.doc.text for u in units}
    facts = {d: C.context_entities(docs[d], skip) for g in groups for d in g.docs}
    if not all((C.distinct_entities(g1, g2) or C.apart(g1, g2, facts) or C.partners_differ(g1, g2, docs))
               and not _one_subject(g1, g2, docs) for g1, g2 in combinations(groups, 2)):
        return None
    told = C.told_apart(groups, docs, a.names or a.subject, skip, facts)
    # a group no other fact names is named by its range ("5 January 1884 – 11 November 1959") where that tells it apart
    told = [g if g.abouts or not all(C.partners_differ(g, o, docs) for o in told if o is not g)
            else C.Group(g.label, tuple(replace(c, about=C.range_text(docs[c.doc_id], c.start, c.end))
                                        for c in g.candidates)) for g in told]
    return told if all(g.abouts for g in told) else None


def cited_conflict(readings: Readings, citations: Sequence[Citation], docs: dict[str, Document]) -> Readings | None:
    """Answers of different groups that the answer itself quotes side by side: a conflict however plainly each is
    stated, since showing both without a word is the failure this check exists for (None when there is none)."""
    if readings.conflict or readings.distinct or len(readings.weaker) < 2:
        return None

    def cited(g: C.Group) -> bool:
        return any(c.doc_id == x.doc_id and c.start < x.sent_end and x.sent_start < c.end
                   for c in citations for x in g.candidates)

    shown = [g for g in readings.weaker if cited(g)]
    if len(shown) == 1 and readings.groups and not cited(readings.groups[0]):
        shown = _passed_over(readings.asked, readings.groups[0], shown[0], docs)
    if len(shown) < 2:
        return None
    pubs = {docs[c.doc_id].source or c.doc_id for g in shown for c in g.candidates if c.doc_id in docs}
    if len(pubs) < 2:
        return None
    texts = {d: docs[d].text for g in shown for d in g.docs if d in docs}
    if all(C.states_both(g1, g2, texts) for g1, g2 in combinations(shown, 2)):
        return None  # one text gives both answers: quoting both is no contradiction
    return Readings(readings.asked, tuple(shown[:MAX_SIDES]), conflict=True, weaker=readings.weaker)


def _passed_over(a: C.Asked, top: C.Group, shown: C.Group, docs: dict[str, Document]) -> list[C.Group]:
    """[top, shown] when the answer states only ``shown``'s answer while the documents' plainest answer (``top``,
    uncited) is another, both stated plainly (STRONG_CANDIDATE) and about the same thing (not told apart as another
    thing of the name, ``_told_apart``): "Doak is widely recognized for his exceptional skills in chess" quoted
    alone, where another page says he played football. [] otherwise (pure but for the cached NER)."""
    if top.score < STRONG_CANDIDATE or shown.score < STRONG_CANDIDATE or any(
            C.same_answer(c.text, t.text, c.value, t.value) for c in shown.candidates for t in top.candidates):
        return []
    texts = {d: docs[d].text for g in (top, shown) for d in g.docs if d in docs}
    # the question's names and subject words stand for the question: the words two pages need not share
    if len(texts) < 2 or _told_apart(" ".join(a.names + a.subject), a, [top, shown], texts) is not None:
        return []  # two things of one name, each named by what sets its documents apart
    return [top, shown]


def factual_disagreement(readings: Readings, docs: dict[str, Document]) -> Disagreement | None:
    """A Disagreement with one side per answer group, every document's sentence a claim (None without a conflict)."""
    if not readings.conflict:
        return None
    claims, sides, parts = [], [], []
    n = 0
    for g in readings.groups:
        ids = []
        for c in g.candidates:
            doc = docs.get(c.doc_id)
            if doc is None:
                continue
            n += 1
            cit = citation_at(doc, c.sent_start, c.sent_end, n=n, score=c.score)
            claims.append(Claim(citation=cit, stance=g.label))
            ids.append(c.doc_id)
        about = next((c.about for c in g.candidates if c.about), "")
        sides.append(Side(value=g.label, doc_ids=tuple(ids), about=about))
        who = ", ".join(_name(docs[i]) for i in ids[:NAMED_PER_SIDE]) + (
            f" and {len(ids) - NAMED_PER_SIDE} more" if len(ids) > NAMED_PER_SIDE else "")
        parts.append(f"{who} say{'s' if len(ids) == 1 else ''} “{g.label}”")
    if len({c.citation.doc_id for c in claims}) < 2:
        return None
    return Disagreement(summary="; ".join(parts) + ".", kind="factual", claims=tuple(claims), sides=tuple(sides))


def find_disagreements(question: str, hits: list[Hit], store, chat_model=None,
                       settings: Settings | None = None) -> tuple[list[Disagreement], dict[str, float]]:
    """Disagreement notes for the evidence ``hits`` of ``question`` (empty when the sources agree), and timings."""
    found, _readings, timings = analyse(question, hits, store, chat_model, settings)
    return found, timings


def analyse(question: str, hits: list[Hit], store, chat_model=None, settings: Settings | None = None
            ) -> tuple[list[Disagreement], Readings, dict[str, float]]:
    """Disagreement notes, the answers each document gives (grouped), and timings, for the evidence of a question."""
    t0 = time.perf_counter()
    settings = settings or getattr(store, "settings", None) or Settings()
    # a still wider pool is read for copies only: a snippet and its planted copy that differ in the answer are a
    # conflict wherever retrieval ranked them, while a stray answer that far down is mostly noise
    more, wide = _more_evidence(question, hits, store, settings)
    hits = list(hits) + more
    hits += _parallel_evidence(hits, store)
    for h in wide:
        near = _parallel_evidence([h], store, known=hits)
        if near:
            hits += [h] + near
    copies, copied = _copy_evidence(hits, store, pool=wide)
    hits += copies
    rewrites, rewritten, rewrite_pairs = _rewrite_evidence(question, hits, store, pool=wide)
    hits += rewrites
    copied = copied | set(rewritten)
    units: list[_Unit] = []
    seen = set()
    for i, h in enumerate(hits):
        doc = store.docs.get(h.doc_id)
        if doc is None or (h.doc_id, h.start, h.end) in seen or doc.text[h.start:h.end] != h.text:
            continue  # a quote must be the document's own text at its offsets
        seen.add((h.doc_id, h.start, h.end))
        units.append(_Unit(i, h, doc, h.score, claim_stems(h.text), extract_values(h.text)))
    timings = {"disagree": 0.0, "disagree_judge_calls": 0.0}
    if len({u.doc.doc_id for u in units}) < 2:
        timings["disagree"] = time.perf_counter() - t0
        return [], Readings(C.asked(question)), timings
    rel, sim = _similarities(question, units, store)
    for u, r in zip(units, rel):
        u.relevance = max(r, u.hit.dense)
    embedded = getattr(store, "embedder", None) is not None
    min_rel = settings.disagree_min_relevance if embedded else settings.disagree_min_relevance_lexical
    # a sentence retrieval scored high in its context ("The role was originated by ...") counts, even if alone it
    # reads as unrelated to the question
    keep = [k for k, u in enumerate(units)
            if u.relevance >= min_rel or u.hit.score >= KEEP_HIT_SCORE or (u.doc.doc_id, u.hit.start) in copied]
    units = [units[k] for k in keep]
    sim = [[sim[a][b] for b in keep] for a in keep]
    fact_sim = settings.disagree_fact_sim if embedded else settings.disagree_fact_sim_lexical
    edges = factual_edges(question, units, sim, fact_sim)

    embedder = getattr(store, "embedder", None)
    stance = [e for _, e in stance_pairs(question, units, sim, settings, embedded,
                                         embed=embedder.embed if embedder is not None else None)]
    budget = int(settings.disagreement_judge_calls)
    if chat_model is not None and budget > 0:
        # the judge sees the pairs whose wording clashes first; without its CONTRADICT no opinion note is made
        flagged = {(e.a, e.b) for e in edges}
        pos = {u.index: k for k, u in enumerate(units)}  # judge pairs are positions in units
        first = [(min(pos[e.a], pos[e.b]), max(pos[e.a], pos[e.b])) for e in stance[:2]]
        rest = [p for p in candidate_pairs(units, sim, settings, embedded) if p not in first and p[::-1] not in first]
        cands = [(a, b) for a, b in first + rest if (units[a].index, units[b].index) not in flagged]
        used, t1 = 0, time.perf_counter()
        deadline = settings.disagree_judge_seconds or max(settings.llm_timeout, 1.0)
        for a, b in cands:
            if budget - used < 1 or time.perf_counter() - t1 > deadline:
                break
            edge, spent = judge_pair(question, units[a], units[b], chat_model, budget - used)
            used += spent
            if edge:
                edges.append(edge)
        timings["disagree_judge"] = time.perf_counter() - t1
        timings["disagree_judge_calls"] = float(used)
    elif stance:  # no judge: the clearest clash of wording stands alone, one note per question
        edges.append(stance[0])
    result = _group(edges, {u.index: u for u in units})
    t1 = time.perf_counter()
    embedder = getattr(store, "embedder", None)
    readings = (answer_readings(question, units, sim, pair_sim=PAIR_SIM if embedded else 0.25,
                                embed=embedder.embed if embedder is not None else None, copied=copied,
                                rewritten=(rewritten, rewrite_pairs))
                if getattr(settings, "factual_candidates", True) else Readings(C.asked(question)))
    timings["disagree_candidates"] = time.perf_counter() - t1
    if readings.plural or any(len(g.docs) >= 2 for g in readings.groups):
        # the documents' own answers, grouped, supersede value pairs found sentence by sentence; so does one
        # answer that two documents agree on (their other dates are about other things)
        result = [d for d in result if d.kind not in ("factual", "outdated")]
        fd = factual_disagreement(readings, store.docs)
        if fd is not None:
            result.insert(0, fd)
    timings["disagree"] = time.perf_counter() - t0
    return result, readings, timings
