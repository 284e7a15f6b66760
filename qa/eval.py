"""`qa eval`: run questions with gold evidence through ask() and score the Answers it returns.

Three built-in sets: `seed` (eval/seed.jsonl, hand-written over corpus/), `conflictqa` and `clapnq` (external data
in eval/data/, materialised as pooled corpora under eval/.cache/ and indexed with the normal store). A user can run
their own question file (same JSONL format as eval/seed.jsonl) over their own corpus. Every score is computed from
Answer fields (citations with offsets, abstained, disagreements, timings) and retrieve() hits, never from rendered
text; the pure formulas live in qa/metrics.py. Output: a Report, and eval/reports/<timestamp>/ with report.md,
results.jsonl and PNG plots. Left out: LLM-as-judge scoring and tuning anything to individual examples.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from qa import metrics as M
from qa.errors import QAError
from qa.settings import ROOT, Settings

log = logging.getLogger(__name__)

EVAL_DIR = ROOT / "eval"
DATA_DIR = EVAL_DIR / "data"
SEED_FILE = EVAL_DIR / "seed.jsonl"
CACHE_DIR = EVAL_DIR / ".cache"
REPORTS_DIR = EVAL_DIR / "reports"
SETS = ("seed", "conflictqa", "clapnq")  # what --set all runs
TYPES = ("single-fact", "multi-source", "conflicting", "consistent", "unanswerable")
#: the headline metrics, in table order
HEADLINE = ("quote_validity", "citation_precision", "citation_recall", "source_precision", "source_recall",
            "answer_match", "answer_f1", "answer_rate_answerable", "abstain_unanswerable", "disagreement_precision",
            "disagreement_recall", "disagreement_f1", "recall@1", "recall@3", "recall@k", "all_gold_given",
            "misinfo_noted", "fooled", "false_alarm_ambiguity", "exact", "attributed")


@dataclass(frozen=True)
class Item:
    """One eval question with its gold evidence (a row of eval/seed.jsonl)."""

    id: str
    question: str
    type: str
    gold_quotes: tuple[tuple[str, str], ...] = ()  # (doc_id, verbatim quote)
    gold_docs: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    disagreement: bool | None = None
    split: str = ""
    notes: str = ""
    wrong_answers: tuple[str, ...] = ()  # values planted in some documents (RAMDocs misinformation)
    tags: tuple[str, ...] = ()  # "ambiguous" (several gold answers about different things), "misinfo"

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable" and bool(self.answers or self.gold_quotes)


@dataclass
class EvalSet:
    """Questions plus the corpus (and index folder) they are asked over."""

    name: str
    items: list[Item]
    corpus_dir: Path
    index_dir: Path
    per_item: dict[str, tuple[Path, Path]] | None = None  # id -> (corpus, index) when each question has its own


@dataclass
class SetReport:
    name: str
    metrics: dict
    by_type: dict
    by_split: dict
    latency: dict
    calibration: dict
    rows: list[dict]
    k: int
    corpus_dir: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """What run() returns: per-set reports and where they were written."""

    sets: dict[str, SetReport]
    llm: str
    started: str
    seconds: float
    out_dir: Path | None = None

    def metric(self, set_name: str, name: str):
        return self.sets[set_name].metrics.get(name)


# ---------------------------------------------------------------- loading questions

def parse_item(row: dict, where: str = "") -> Item:
    """An Item from one JSON row; QAError naming the row when a field is missing or malformed."""
    if not isinstance(row, dict) or not str(row.get("id", "")).strip() or not str(row.get("question", "")).strip():
        raise QAError(f"{where}: each row needs a non-empty 'id' and 'question'")
    quotes = []
    for g in row.get("gold_quotes") or []:
        if not isinstance(g, dict) or not g.get("doc_id") or not g.get("quote"):
            raise QAError(f"{where}: gold_quotes entries must be {{\"doc_id\": ..., \"quote\": ...}}")
        quotes.append((str(g["doc_id"]), str(g["quote"])))
    dis = row.get("disagreement")
    if dis not in (True, False, None):
        raise QAError(f"{where}: 'disagreement' must be true, false or null")
    answers = row.get("answers") or []
    if isinstance(answers, str) or not all(isinstance(a, str) for a in answers):
        raise QAError(f"{where}: 'answers' must be a list of strings")
    docs = row.get("gold_docs") or sorted({d for d, _ in quotes})
    return Item(id=str(row["id"]), question=str(row["question"]), type=str(row.get("type") or "single-fact"),
                gold_quotes=tuple(quotes), gold_docs=tuple(docs), answers=tuple(a for a in answers if a.strip()),
                disagreement=dis, split=str(row.get("split") or ""), notes=str(row.get("notes") or ""))


def load_questions(path: Path) -> list[Item]:
    """Items from a JSONL question file; ids must be unique."""
    path = Path(path)
    if not path.is_file():
        raise QAError(f"question file {path} does not exist: pass a JSONL file in the eval/seed.jsonl format")
    items, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise QAError(f"{path}:{n}: not JSON ({exc})") from exc
        item = parse_item(row, f"{path}:{n}")
        if item.id in seen:
            raise QAError(f"{path}:{n}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise QAError(f"{path} holds no questions")
    return items


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_corpus(folder: Path, files: dict[str, str], manifest: dict[str, dict]) -> Path:
    """Write files (only those that changed) plus manifest.json into folder/corpus; remove stale .txt files."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    wanted = dict(files)
    wanted["manifest.json"] = json.dumps({"_about": "generated by qa.eval", "documents": manifest}, indent=1,
                                         ensure_ascii=False, sort_keys=True)
    for name, text in wanted.items():
        p, data = corpus / name, text.encode("utf-8")
        if not p.is_file() or p.read_bytes() != data:
            p.write_bytes(data)
    for stale in corpus.glob("*.txt"):
        if stale.name not in wanted:
            stale.unlink()
    return corpus


def _letters(raw) -> list[str]:
    if not raw:
        return []
    if isinstance(raw, str):
        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            raw = re.findall(r"\b[A-J]\b", raw)
    return [str(x).strip() for x in (raw if isinstance(raw, (list, tuple)) else [raw])]


def conflictqa_set(limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """ConflictQA dev: all questions' snippets pooled into one corpus, one .txt per distinct snippet."""
    rows = _jsonl(DATA_DIR / "conflictqa" / "conflictqa_dev.jsonl")[:limit]
    files, manifest, by_text, items = {}, {}, {}, []
    for r in rows:
        sources = r.get("sources") or []
        names = []
        for i, ctx in enumerate(r["contexts"]):
            text = ctx.strip()
            if text not in by_text:
                name = f"cq{int(r['annotation_task_id']):04d}-{'ABCDEFGHIJ'[i]}.txt"
                src = sources[i] if i < len(sources) and sources[i] else ""
                by_text[text], files[name] = name, text + "\n"
                manifest[name] = {"title": src or name, "source": src, "kind": "other"}
            names.append(by_text[text])
        gold = []
        for key in ("firstContext", "secondContext", "thirdContext"):
            for letter in _letters(r.get(key)):
                idx = ord(letter) - ord("A") if len(letter) == 1 else -1
                if 0 <= idx < len(names) and (names[idx], r["contexts"][idx].strip()) not in gold:
                    gold.append((names[idx], r["contexts"][idx].strip()))
        conflict = r.get("secondAnswerExist") == "A"
        items.append(Item(id=f"cq-{r['annotation_task_id']}", question=r["question"],
                          type="conflicting" if conflict else "single-answer", gold_quotes=tuple(gold),
                          gold_docs=tuple(sorted({d for d, _ in gold})),
                          answers=tuple(a for a in [str(r.get("correctAnswer") or "").strip()] if a),
                          disagreement=conflict))
    folder = cache / f"conflictqa-{len(rows)}"
    return EvalSet("conflictqa", items, _write_corpus(folder, files, manifest), folder / "index")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "passage"


def clapnq_set(limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """ClapNQ dev (150 answerable + 150 unanswerable, interleaved): passages pooled into one corpus."""
    answerable = _jsonl(DATA_DIR / "clapnq" / "clapnq_dev_answerable_part1.jsonl")
    unanswerable = _jsonl(DATA_DIR / "clapnq" / "clapnq_dev_unanswerable_part1.jsonl")
    rows = [r for pair in zip(answerable, unanswerable) for r in pair]
    rows += answerable[len(unanswerable):] + unanswerable[len(answerable):]
    rows = rows[:limit]
    files, manifest, by_text, items = {}, {}, {}, []
    for r in rows:
        p = r["passages"][0]
        text = p["text"]
        if text not in by_text:
            name = f"{_slug(p['title'])}-{hashlib.sha1(text.encode()).hexdigest()[:6]}.txt"
            by_text[text], files[name] = name, text
            manifest[name] = {"title": p["title"], "source": "Wikipedia", "kind": "other"}
        name = by_text[text]
        answers = [o["answer"].strip() for o in r["output"] if (o.get("answer") or "").strip()]
        gold = []
        for o in r["output"] if answers else []:
            for s in o.get("selected_sentences") or []:
                if s in text and (name, s) not in gold:
                    gold.append((name, s))
        items.append(Item(id=f"clapnq-{r['id']}", question=r["input"],
                          type="answerable" if answers else "unanswerable", gold_quotes=tuple(gold),
                          gold_docs=(name,) if answers else (), answers=tuple(answers), disagreement=None))
    folder = cache / f"clapnq-{len(rows)}"
    return EvalSet("clapnq", items, _write_corpus(folder, files, manifest), folder / "index")


def _own_corpus(cache: Path, key: str, docs: list[tuple[str, dict]]) -> tuple[Path, Path]:
    """One question's documents as a corpus folder of .txt files (name -> (text, manifest entry))."""
    folder = cache / key
    files = {f"doc-{i + 1:02d}.txt": text for i, (text, _) in enumerate(docs)}
    manifest = {f"doc-{i + 1:02d}.txt": meta for i, (_, meta) in enumerate(docs)}
    return _write_corpus(folder, files, manifest), folder / "index"


def ramdocs_set(limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """RAMDocs (first 250 test questions): each question asked over its own 1-12 documents, some planted with a
    wrong answer (misinformation), some about a different thing that shares the name (ambiguity), some noise.
    Alternate questions are split dev / test so thresholds can be set on dev only."""
    rows = _jsonl(DATA_DIR / "ramdocs" / "ramdocs_test_part1.jsonl")[:limit]
    items, per = [], {}
    for i, r in enumerate(rows):
        docs = [(d["text"].strip() + "\n", {"title": f"Document {j + 1}", "source": f"source {j + 1}", "kind": "other"})
                for j, d in enumerate(r["documents"]) if d["text"].strip()]
        iid = f"ramdocs-{i:03d}"
        per[iid] = _own_corpus(cache / "ramdocs", f"q{i:03d}", docs)
        gold = tuple(dict.fromkeys(a for a in r["gold_answers"] if a.strip()))
        wrong = tuple(dict.fromkeys(a for a in r.get("wrong_answers") or [] if a.strip() and a not in gold))
        misinfo = any(d["type"] == "misinfo" for d in r["documents"])
        tags = ("ramdocs",) + tuple(t for t, on in (("ambiguous", len(gold) > 1), ("misinfo", misinfo)) if on)
        kind = "misinfo" if misinfo else "ambiguous" if len(gold) > 1 else "single"
        items.append(Item(id=iid, question=r["question"], type=kind, answers=gold, wrong_answers=wrong, tags=tags,
                          disagreement=misinfo, split="dev" if i % 2 == 0 else "test"))
    first = next(iter(per.values()))
    return EvalSet("ramdocs", items, first[0], first[1], per_item=per)


def conflictqa_each_set(limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """ConflictQA dev with each question asked over its own snippets (as a user with those pages would)."""
    rows = _jsonl(DATA_DIR / "conflictqa" / "conflictqa_dev.jsonl")[:limit]
    items, per = [], {}
    for r in rows:
        sources = r.get("sources") or []
        docs = [(ctx.strip() + "\n", {"title": (sources[i] if i < len(sources) and sources[i] else f"snippet {i + 1}"),
                                      "source": (sources[i] if i < len(sources) and sources[i] else f"site {i + 1}"),
                                      "kind": "other"})
                for i, ctx in enumerate(r["contexts"]) if ctx.strip()]
        iid = f"cqe-{int(r['annotation_task_id']):04d}"
        per[iid] = _own_corpus(cache / "conflictqa-each", iid, docs)
        conflict = r.get("secondAnswerExist") == "A"
        items.append(Item(id=iid, question=r["question"], type="conflicting" if conflict else "single-answer",
                          answers=tuple(a for a in [str(r.get("correctAnswer") or "").strip()] if a),
                          disagreement=conflict, split="dev" if len(items) % 2 == 0 else "test"))
    first = next(iter(per.values()))
    return EvalSet("conflictqa-each", items, first[0], first[1], per_item=per)


def counterfactual_set(limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """ClapNQ dev passages with the answer swapped (qa.counterfactual): each swapped passage is asked together with
    its original (a conflict), each unswapped twin with a copy from another source (no conflict)."""
    from qa.counterfactual import make_pairs

    answerable = _jsonl(DATA_DIR / "clapnq" / "clapnq_dev_answerable_part1.jsonl")
    items, per = [], {}
    for pair in make_pairs(answerable)[: (limit or 10**9)]:
        for twin, docs, conflict in (("swap", [pair.original, pair.swapped], True),
                                     ("same", [pair.original, pair.original], False)):
            iid = f"cf-{pair.id}-{twin}"
            meta = [{"title": pair.title, "source": f"site {k + 1}", "kind": "other"} for k in range(len(docs))]
            per[iid] = _own_corpus(cache / "counterfactual", iid, list(zip(docs, meta)))
            items.append(_twin_item(iid, pair.question, "swapped" if conflict else "twin", pair.answer,
                                    pair.replacement, conflict, pair.index))
    first = next(iter(per.values()))
    return EvalSet("counterfactual", items, first[0], first[1], per_item=per)


def counterfactual_cut_set(limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """The counterfactual pairs as snippets (qa.counterfactual.cut_window): each question over its original passage,
    a window of the swapped copy cut mid-word around the swap (a conflict) or the same window of the original (none),
    and two other pairs' passages. A cut word at a window's edge is no fact, and one page's two windows agree."""
    from qa.counterfactual import cut_window, make_pairs

    answerable = _jsonl(DATA_DIR / "clapnq" / "clapnq_dev_answerable_part1.jsonl")
    pairs = make_pairs(answerable)
    items, per = [], {}
    for n, pair in enumerate(pairs[: (limit or 10**9)]):
        at = pair.swapped.find(pair.replacement)
        others = [pairs[(n + k) % len(pairs)].original for k in (1, 2)]
        for twin, window, conflict in (("swap", cut_window(pair.swapped, at), True),
                                       ("same", cut_window(pair.original, at), False)):
            iid = f"cfc-{pair.id}-{twin}"
            docs = [pair.original, window] + others
            meta = [{"title": pair.title if k < 2 else f"passage {k + 1}", "source": f"site {k + 1}", "kind": "other"}
                    for k in range(len(docs))]
            per[iid] = _own_corpus(cache / "counterfactual-cut", iid, [(d + "\n", m) for d, m in zip(docs, meta)])
            items.append(_twin_item(iid, pair.question, "swapped" if conflict else "twin", pair.answer,
                                    pair.replacement, conflict, pair.index))
    first = next(iter(per.values()))
    return EvalSet("counterfactual-cut", items, first[0], first[1], per_item=per)


def _twin_item(iid: str, question: str, kind: str, answer: str, replacement: str, conflict: bool, index: int
               ) -> Item:
    """One question of a counterfactual pair: over the swapped documents (a conflict, the replacement a planted wrong
    value) or over their clean twin (none); the pairs alternate between the dev and test splits."""
    return Item(id=iid, question=question, type=kind, answers=(answer,),
                wrong_answers=(replacement,) if conflict else (), disagreement=conflict,
                tags=("misinfo",) if conflict else (), split="dev" if index % 2 == 0 else "test")


def planted_set(limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """ConflictQA dev snippet sets with a planted copy of the snippet that answers, its answer swapped
    (qa.counterfactual.plant_snippets): a conflict each; the same snippets without the copy, none (a question one
    answer settles)."""
    from qa.counterfactual import plant_snippets

    rows = _jsonl(DATA_DIR / "conflictqa" / "conflictqa_dev.jsonl")
    items, per = [], {}
    for p in plant_snippets(rows)[: (limit or 10**9)]:
        docs = [(text + "\n", {"title": src or f"snippet {k + 1}", "source": src or f"site {k + 1}", "kind": "other"})
                for k, (text, src) in enumerate(zip(p.snippets, p.sources)) if text]
        copy = (p.planted + "\n", {"title": "mirror.example", "source": "mirror.example", "kind": "other"})
        for twin, ds, conflict in (("planted", docs + [copy], True), ("clean", docs, False)):
            iid = f"pl-{p.id}-{twin}"
            per[iid] = _own_corpus(cache / "planted", iid, ds)
            items.append(_twin_item(iid, p.question, "planted" if conflict else "clean", p.answer, p.replacement,
                                    conflict, p.index))
    first = next(iter(per.values()))
    return EvalSet("planted", items, first[0], first[1], per_item=per)


def seed_set(limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """The hand-written seed set over the default corpus (corpus/)."""
    settings = Settings.from_env()
    corpus = ROOT / "corpus"
    same = Path(settings.corpus_dir).resolve() == corpus.resolve()
    return EvalSet("seed", load_questions(SEED_FILE)[:limit], corpus,
                   Path(settings.index_dir) if same else cache / "seed" / "index")


def custom_set(questions: Path, corpus: Path | None, limit: int | None = None, cache: Path = CACHE_DIR) -> EvalSet:
    """A user's own question file over a user's own corpus (default: the configured corpus and index)."""
    settings = Settings.from_env()
    if corpus is None or Path(corpus).resolve() == Path(settings.corpus_dir).resolve():
        corpus_dir, index_dir = Path(settings.corpus_dir), Path(settings.index_dir)
    else:
        corpus_dir = Path(corpus)
        if not corpus_dir.is_dir():
            raise QAError(f"corpus folder {corpus_dir} does not exist: pass --corpus DIR with your documents")
        key = hashlib.sha1(str(corpus_dir.resolve()).encode()).hexdigest()[:10]
        index_dir = cache / f"custom-{key}" / "index"
    return EvalSet(Path(questions).stem, load_questions(questions)[:limit], corpus_dir, index_dir)


# ---------------------------------------------------------------- scoring

def gold_spans(item: Item, texts: dict[str, str]) -> tuple[list[M.Ev], int]:
    """The gold quotes as (doc_id, start, end) spans, and how many could not be found in the corpus."""
    spans, missing = [], 0
    for doc_id, quote in item.gold_quotes:
        pos = texts.get(doc_id, "").find(quote)
        if pos < 0:
            missing += 1
            spans.append((doc_id, -1, -1))  # stays in the recall denominator: unfindable gold is a miss
        else:
            spans.append((doc_id, pos, pos + len(quote)))
    return spans, missing


def score(item: Item, answer, hits, texts: dict[str, str], k: int, relevance: float | None = None) -> dict:
    """Per-question scores from the Answer's fields and the retrieval hits (None = not applicable).

    `relevance` is the number the pipeline compares with min_relevance (qa.retrieve.relevance); it defaults to
    the top hit score."""
    gold, missing = gold_spans(item, texts)
    cits = list(answer.citations)
    valid = [texts.get(c.doc_id) is not None and texts[c.doc_id][c.start:c.end] == c.quote for c in cits]
    cited = [(c.doc_id, c.start, c.end) for c in cits]
    hit_spans = [(h.doc_id, h.start, h.end) for h in hits]
    s = {"citations": len(cits), "citations_valid": sum(valid), "quote_validity": M.mean(valid),
         "abstained": answer.abstained, "disagreement_expected": item.disagreement,
         "disagreement_predicted": bool(answer.disagreements), "gold_missing": missing,
         "top_score": max((h.score for h in hits), default=0.0)}
    s["relevance"] = s["top_score"] if relevance is None else relevance
    s["attributed"] = None if answer.abstained else M.attributed(answer.text, cits, answer.disagreements)
    if item.answerable:
        cp, cr = M.citation_scores(cited, gold)
        sp, sr = M.source_scores({c[0] for c in cited}, item.gold_docs)
        text = "" if answer.abstained else answer.text
        s.update(citation_precision=cp, citation_recall=cr, source_precision=sp, source_recall=sr,
                 answer_match=M.answer_match(text, item.answers) if item.answers else None,
                 answer_f1=M.best_f1(text, item.answers) if item.answers else None,
                 answer_rate_answerable=not answer.abstained,
                 **{"recall@1": M.recall_at_k(hit_spans, gold, 1), "recall@3": M.recall_at_k(hit_spans, gold, 3),
                    "recall@k": M.recall_at_k(hit_spans, gold, k)})
    else:
        s["abstain_unanswerable"] = answer.abstained
    if item.wrong_answers or item.tags:
        s.update(M.conflict_scores(item.answers, item.wrong_answers, item.tags, answer))
    return s


def aggregate(rows: list[dict]) -> dict:
    """Set-level metrics from scored rows (rows with an error count as neither right nor wrong)."""
    ok = [r["scores"] for r in rows if r.get("scores")]
    quotes = sum(s["citations"] for s in ok)
    out = {"questions": len(rows), "errors": sum(1 for r in rows if r.get("error")),
           "quote_validity": sum(s["citations_valid"] for s in ok) / quotes if quotes else None, "citations": quotes}
    for name in HEADLINE:
        if name != "quote_validity" and not name.startswith("disagreement_"):
            out[name] = M.mean(s.get(name) for s in ok)
    for name in M.CONFLICT_METRICS:
        vals = [s[name] for s in ok if s.get(name) is not None]
        if vals:
            out[name] = M.mean(vals)
    dis = M.prf((s["disagreement_expected"], s["disagreement_predicted"]) for s in ok)
    out.update({f"disagreement_{k}": dis[k] for k in ("precision", "recall", "f1")})
    out["disagreement_n"] = dis["n"]
    return out


_NOT_SECONDS = re.compile(r"(tokens|threads|calls)$")


def latency(rows: list[dict]) -> dict[str, dict[str, float | None]]:
    """p50/p90 seconds per pipeline stage (from Answer.timings; counts such as llm_prompt_tokens are left out)."""
    stages: dict[str, list[float]] = {}
    for r in rows:
        for stage, sec in (r.get("timings") or {}).items():
            if not _NOT_SECONDS.search(stage):
                stages.setdefault(stage, []).append(float(sec))
    return {st: {"p50": M.percentile(v, 50), "p90": M.percentile(v, 90), "n": len(v)} for st, v in stages.items()}


def calibration(rows: list[dict], min_relevance: float) -> dict:
    """Relevance (what min_relevance is compared with) for answerable vs unanswerable questions (dev split)."""
    dev = [r for r in rows if r.get("split") == "dev"] or rows
    pairs = [(r["scores"].get("relevance", r["scores"]["top_score"]), r["answerable"])
             for r in dev if r.get("scores")]

    def dist(xs):
        return {q: M.percentile(xs, p) for q, p in (("min", 0), ("p10", 10), ("p50", 50), ("p90", 90), ("max", 100))}

    t, acc = M.best_threshold(pairs)
    return {"split": "dev" if dev is not rows else "all", "min_relevance": min_relevance,
            "answerable": dist([s for s, a in pairs if a]), "unanswerable": dist([s for s, a in pairs if not a]),
            "best_threshold": t, "best_balanced_accuracy": acc,
            "n_answerable": sum(a for _, a in pairs), "n_unanswerable": sum(not a for _, a in pairs)}


# ---------------------------------------------------------------- running

def _row(es: EvalSet, item: Item, answer, hits, texts, k, error: str = "", wall: float = 0.0,
         relevance: float | None = None) -> dict:
    row = {"set": es.name, "id": item.id, "split": item.split, "type": item.type, "question": item.question,
           "answerable": item.answerable, "gold_answers": list(item.answers),
           "expected_disagreement": item.disagreement, "error": error, "wall": round(wall, 4)}
    if answer is not None:
        row.update(answer=answer.text, abstained=answer.abstained, mode=answer.mode, notes=list(answer.notes),
                   citations=[{"n": c.n, "doc_id": c.doc_id, "start": c.start, "end": c.end, "quote": c.quote}
                              for c in answer.citations],
                   disagreements=[{"summary": d.summary, "kind": d.kind,
                                   "docs": sorted({c.citation.doc_id for c in d.claims})}
                                  for d in answer.disagreements],
                   hits=[{"doc_id": h.doc_id, "start": h.start, "end": h.end, "score": h.score} for h in hits],
                   timings=dict(answer.timings), scores=score(item, answer, hits, texts, k, relevance))
    return row


def evaluate(es: EvalSet, llm="none", progress: bool = True) -> SetReport:
    """Ask every question of the set and score the answers."""
    from qa.pipeline import ask, resolve_llm
    from qa.retrieve import retrieve
    from qa.store import open_store

    from qa.embed import make_embedder

    spec = llm if isinstance(llm, str) else "none"
    settings = Settings.from_env(corpus_dir=es.corpus_dir, index_dir=es.index_dir, llm=spec)
    embedder = _LastQuestion(make_embedder(settings.embedder, settings.embed_bf16))
    if es.per_item:
        store = None
    else:
        with _bar(progress, f"indexing {es.name}") as tick:
            store = open_store(settings, progress=(lambda n, total: tick(n, total)) if progress else None,
                               embedder=embedder)
    chat = resolve_llm(llm, settings)
    llm_arg = chat if chat is not None else "none"
    rows, skipped = [], 0
    with _bar(progress, f"{es.name} ({len(es.items)} questions)") as tick:
        for item in es.items:
            t0 = time.perf_counter()
            s_item, st = settings, store
            texts: dict[str, str] = {}
            try:
                if es.per_item:  # this question's own documents, indexed on first use and kept in eval/.cache
                    corpus_dir, index_dir = es.per_item[item.id]
                    s_item = settings.with_(corpus_dir=corpus_dir, index_dir=index_dir)
                    st = open_store(s_item, embedder=embedder)
                    skipped += len(st.skipped)
                texts = {d: doc.text for d, doc in st.docs.items()}
                answer = ask(item.question, s_item, store=st, llm=llm_arg)
                hits = retrieve(answer.question, st, s_item)  # after ask(): reuses its question vector
                rows.append(_row(es, item, answer, hits, texts, settings.k_evidence, wall=time.perf_counter() - t0,
                                 relevance=_relevance(hits, answer.question, st)))
            except Exception as exc:  # one failing question must not end a long run; it is reported
                log.warning("%s: %s", item.id, exc)
                rows.append(_row(es, item, None, [], texts, settings.k_evidence, f"{type(exc).__name__}: {exc}"))
            tick(1, len(es.items))
    if store is not None:
        skipped = len(store.skipped)
    notes = [f"{skipped} file(s) of the corpus were skipped by ingest"] if skipped else []
    missing = sum(r["scores"]["gold_missing"] for r in rows if r.get("scores"))
    if missing:
        notes.append(f"{missing} gold quote(s) were not found in the indexed corpus (counted as misses)")
    types = sorted({r["type"] for r in rows}, key=lambda t: (TYPES.index(t) if t in TYPES else 99, t))
    splits = sorted({r["split"] for r in rows if r["split"]})
    return SetReport(name=es.name, metrics=aggregate(rows),
                     by_type={t: aggregate([r for r in rows if r["type"] == t]) for t in types},
                     by_split={s: aggregate([r for r in rows if r["split"] == s]) for s in splits},
                     latency=latency(rows), calibration=calibration(rows, settings.min_relevance), rows=rows,
                     k=settings.k_evidence, corpus_dir=str(es.corpus_dir), notes=notes)


def _relevance(hits, question: str, store) -> float:
    """The pipeline's own abstention score for these hits (older qa.retrieve.relevance takes hits only)."""
    from qa.retrieve import relevance

    try:
        return float(relevance(hits, question, store))
    except TypeError:
        return float(relevance(hits))


class _LastQuestion:
    """Wraps an Embedder so the eval's own retrieve() reuses the question vector ask() just computed.

    Only single-text calls (questions) are remembered, and only the last few, so every pipeline stage still pays
    its real embedding cost and Answer.timings stay honest.
    """

    def __init__(self, inner, size: int = 4):
        self.inner, self.size, self.memo = inner, size, {}
        self.name, self.dim, self.batch_size = inner.name, inner.dim, inner.batch_size

    def embed(self, texts, progress=None):
        if len(texts) != 1:
            return self.inner.embed(texts, progress)
        if texts[0] not in self.memo:
            if len(self.memo) >= self.size:
                self.memo.pop(next(iter(self.memo)))
            self.memo[texts[0]] = self.inner.embed(texts, progress)
        return self.memo[texts[0]].copy()

    def embed_bulk(self, texts, progress=None):
        return self.inner.embed_bulk(texts, progress)

    def embed_batch(self, texts):
        return self.inner.embed_batch(texts)


class _bar:
    """A rich progress bar on stderr, or nothing; yields tick(advance, total)."""

    def __init__(self, enabled: bool, label: str):
        self.enabled, self.label, self.bar = enabled, label, None

    def __enter__(self):
        if not self.enabled:
            return lambda n, total: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), transient=True,
                            console=Console(stderr=True))
        self.bar.start()
        task = self.bar.add_task(self.label, total=None)
        return lambda n, total: self.bar.update(task, total=total, advance=n)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


def load_sets(set: str = "seed", limit: int | None = None, corpus=None, questions=None,
              cache: Path = CACHE_DIR) -> list[EvalSet]:
    """The EvalSets named by `set` ("seed" | "conflictqa" | "clapnq" | "all"), or the user's own questions."""
    if questions is not None:
        return [custom_set(Path(questions), Path(corpus) if corpus else None, limit, cache)]
    if corpus is not None:
        raise QAError("--corpus needs --questions: the built-in sets come with their own corpora")
    names = SETS if set == "all" else (set,)
    loaders = {"seed": seed_set, "conflictqa": conflictqa_set, "clapnq": clapnq_set, "ramdocs": ramdocs_set,
               "conflictqa-each": conflictqa_each_set, "counterfactual": counterfactual_set,
               "counterfactual-cut": counterfactual_cut_set, "planted": planted_set}
    unknown = [n for n in names if n not in loaders]
    if unknown:
        raise QAError(f"unknown eval set {unknown[0]!r}: choose {', '.join(loaders)} or all")
    return [loaders[n](limit, cache) for n in names]


def run(set: str = "seed", llm="none", limit: int | None = None, corpus=None, questions=None, out_dir=None,
        progress: bool = True, cache: Path = CACHE_DIR) -> Report:
    """Run the named set(s) and write report.md, results.jsonl and plots to out_dir (default eval/reports/<now>)."""
    t0 = time.perf_counter()
    started = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    sets = {es.name: evaluate(es, llm, progress) for es in load_sets(set, limit, corpus, questions, cache)}
    llm_name = llm if isinstance(llm, str) else type(llm).__name__
    report = Report(sets=sets, llm=llm_name, started=started, seconds=time.perf_counter() - t0)
    out = Path(out_dir) if out_dir else REPORTS_DIR / started
    report.out_dir = write_report(report, out)
    return report


# ---------------------------------------------------------------- writing

PLOTTED = ("citation_precision", "citation_recall", "source_precision", "source_recall", "answer_match", "answer_f1",
           "answer_rate_answerable", "abstain_unanswerable", "recall@k")


def write_report(report: Report, out: Path) -> Path:
    """report.md, results.jsonl, summary.json and PNG plots in out/."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for sr in report.sets.values():
            for row in sr.rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = {name: {"metrics": sr.metrics, "by_type": sr.by_type, "by_split": sr.by_split, "latency": sr.latency,
                      "calibration": sr.calibration, "k": sr.k} for name, sr in report.sets.items()}
    (out / "summary.json").write_text(json.dumps({"llm": report.llm, "started": report.started, "sets": summary},
                                                 indent=1), encoding="utf-8")
    plots = _plots(report, out)
    (out / "report.md").write_text(_markdown(report, plots), encoding="utf-8")
    return out


def _md_table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_fmt(c) for c in r) + " |" for r in rows]


def _markdown(report: Report, plots: dict[str, list[str]]) -> str:
    settings = Settings.from_env()
    names = list(report.sets)
    lines = [f"# qa eval, {report.started}", "",
             f"`qa eval --set {'all' if len(names) > 1 else names[0]} --llm {report.llm}`: {report.seconds:.1f} s; "
             f"embedder `{settings.embedder}`, k_evidence {settings.k_evidence}, min_relevance "
             f"{settings.min_relevance}.", "",
             "Scores come from Answer fields (citation offsets, abstained, disagreements, timings). Citation "
             "precision: share of citations overlapping a gold quote; recall: share of gold quotes cited. "
             "Answer match: an accepted answer appears (normalised) in the answer text. recall@k: gold quotes "
             "overlapped by the first k retrieval hits. `-` = not applicable.", "", "## Summary", ""]
    lines += _md_table(["metric"] + names, [[m] + [report.sets[n].metrics.get(m) for n in names]
                                            for m in ("questions", "errors", "citations") + HEADLINE])
    for name, sr in report.sets.items():
        lines += ["", f"## {name}", "", f"Corpus: `{sr.corpus_dir}`; k = {sr.k}.", ""]
        lines += [f"- {note}" for note in sr.notes] + ([""] if sr.notes else [])
        cols = ["questions"] + [m for m in HEADLINE if m != "quote_validity"]
        lines += ["### By question type", ""]
        lines += _md_table(["type"] + cols, [[t] + [agg.get(c) for c in cols] for t, agg in sr.by_type.items()])
        if sr.by_split:
            lines += ["", "### By split", ""]
            lines += _md_table(["split"] + cols, [[s] + [agg.get(c) for c in cols] for s, agg in sr.by_split.items()])
        lines += ["", "### Latency (seconds, from Answer.timings)", ""]
        lines += _md_table(["stage", "p50", "p90", "n"],
                           [[st, v["p50"], v["p90"], v["n"]] for st, v in sorted(sr.latency.items())])
        c = sr.calibration
        lines += ["", f"### Abstention calibration ({c['split']} questions)", "",
                  f"Relevance (`qa.retrieve.relevance`, what `min_relevance` = {c['min_relevance']} is compared with), "
                  f"{c['n_answerable']} answerable vs {c['n_unanswerable']} unanswerable:", ""]
        lines += _md_table(["", "min", "p10", "p50", "p90", "max"],
                           [[k] + [c[k][q] for q in ("min", "p10", "p50", "p90", "max")]
                            for k in ("answerable", "unanswerable")])
        lines += ["", f"Best threshold on these questions: {_fmt(c['best_threshold'])} "
                  f"(balanced accuracy {_fmt(c['best_balanced_accuracy'])}).", ""]
        misses = [r for r in sr.rows if r.get("error") or (r.get("scores") and (
            r["answerable"] == r["scores"]["abstained"] or r["scores"].get("answer_match") is False))]
        if misses:
            lines += ["### Misses (first 15)", ""]
            lines += _md_table(["id", "type", "question", "why"], [
                [r["id"], r["type"], r["question"].replace("|", "/"),
                 r["error"] or ("abstained" if r["answerable"] and r["scores"]["abstained"] else
                                "answered an unanswerable question" if not r["answerable"] else "no accepted answer")]
                for r in misses[:15]])
        lines += [""] + [f"![{p}]({p})" for p in plots.get(name, [])]
    return "\n".join(lines) + "\n"


def _plots(report: Report, out: Path) -> dict[str, list[str]]:
    """Per-metric bars by question type and a latency histogram for each set; {} when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plots")
        return {}
    made: dict[str, list[str]] = {}
    for name, sr in report.sets.items():
        files = []
        types = list(sr.by_type)
        fig, ax = plt.subplots(figsize=(11, 4.2))
        width = 0.8 / max(1, len(types))
        for i, t in enumerate(types):
            vals = [sr.by_type[t].get(m) for m in PLOTTED]
            ax.bar([x + i * width for x in range(len(PLOTTED))], [v if v is not None else 0 for v in vals], width,
                   label=f"{t} ({sr.by_type[t]['questions']})")
        ax.set_xticks([x + width * (len(types) - 1) / 2 for x in range(len(PLOTTED))])
        ax.set_xticklabels(PLOTTED, rotation=25, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{name}: metrics by question type (--llm {report.llm})")
        ax.legend(fontsize=7, ncol=min(5, len(types)))
        fig.tight_layout()
        files.append(f"{name}_metrics_by_type.png")
        fig.savefig(out / files[-1], dpi=110)
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(7, 3.6))
        per_stage = {st: [float(r["timings"][st]) for r in sr.rows if st in (r.get("timings") or {})]
                     for st in ("total", "retrieve", "generate", "disagree")}
        top = max((max(v) for v in per_stage.values() if v), default=1.0) or 1.0
        bins = [top * i / 40 for i in range(41)]  # shared bins so the stages compare bar for bar
        for stage, vals in per_stage.items():
            if vals:
                ax.hist(vals, bins=bins, alpha=0.55, label=f"{stage} (p50 {M.percentile(vals, 50):.3f} s)")
        ax.set_xlabel("seconds per question")
        ax.set_ylabel("questions")
        ax.set_title(f"{name}: latency per stage (--llm {report.llm})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        files.append(f"{name}_latency.png")
        fig.savefig(out / files[-1], dpi=110)
        plt.close(fig)
        made[name] = files
    return made


def cli_run(set: str = "seed", llm: str = "none", limit: int | None = None, corpus=None, questions=None,
            out_dir=None) -> int:
    """`qa eval`: run, print a table, return 0 (1 when any quote failed the verbatim check)."""
    from rich.console import Console
    from rich.table import Table

    report = run(set, llm, limit, corpus, questions, out_dir=out_dir)
    table = Table(title=f"qa eval --llm {report.llm} ({report.seconds:.0f} s)")
    table.add_column("metric")
    for name in report.sets:
        table.add_column(name, justify="right")
    for metric in ("questions", "errors", "citations") + HEADLINE:
        table.add_row(metric, *[_fmt(sr.metrics.get(metric)) for sr in report.sets.values()])
    for stage in ("retrieve", "generate", "disagree", "total"):
        if any(stage in sr.latency for sr in report.sets.values()):
            table.add_row(f"latency {stage} p50/p90 s",
                          *[_fmt_lat(sr.latency.get(stage)) for sr in report.sets.values()])
    console = Console()
    console.print(table)
    for sr in report.sets.values():
        for note in sr.notes:
            console.print(f"[yellow]{sr.name}: {note}[/]")
    console.print(f"report: {report.out_dir / 'report.md'}")
    bad = [n for n, sr in report.sets.items() if sr.metrics.get("quote_validity") not in (None, 1.0)]
    if bad:
        console.print(f"[bold red]quote validity below 1.0 on {', '.join(bad)}[/]")
    return 1 if bad else 0


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _fmt_lat(d) -> str:
    return "-" if not d else f"{d['p50']:.3f} / {d['p90']:.3f}"
