"""Precision / recall / F1 of the disagreement notes, with and without the LLM judge.

(a) seed corpus: questions with an expected yes/no disagreement, from eval/seed.jsonl (rows with "question" and
    "disagreement": true|false; null rows are skipped) or, when that file has none, the list below;
(b) ConflictQA dev (eval/data/conflictqa, the file `qa eval --set conflictqa` reads): each question's snippets form
    its own corpus; secondAnswerExist == "A" marks a conflict. The first --limit questions are used, in file order.

Each question is retrieved with the pipeline's own settings (qa.retrieve.retrieve) and judged by
qa.disagree.find_disagreements; a question counts as "flagged" when it returns at least one Disagreement.

    .venv/bin/python bench/disagree_eval.py --part seed --llm none
    .venv/bin/python bench/disagree_eval.py --part conflictqa --limit 100 --llm local
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.disagree import find_disagreements  # noqa: E402
from qa.eval import DATA_DIR  # noqa: E402
from qa.settings import Settings  # noqa: E402

CQA = DATA_DIR / "conflictqa" / "conflictqa_dev.jsonl"  # the same file qa.eval.conflictqa_set reads

# Written from reading the corpus, before running the detector; see the issue for the three named conflicts.
SEED = [
    ("Is the closure of UN offices in Azerbaijan a political message?", True),
    ("What role does the International Committee of the Red Cross play in Azerbaijan?", True),
    ("Why is Azerbaijan closing the offices of UN agencies?", True),
    ("How should Azerbaijan's decision to close UN and ICRC offices be understood?", True),
    ("Is the Red Cross a neutral partner for Azerbaijan?", True),
    ("Does the closure of UN offices reflect distrust of the UN or an attack on civil society?", True),
    ("What will be the consequences of closing UN offices in Azerbaijan?", True),
    ("Does Azerbaijan still need assistance from UN agencies?", True),
    ("When was Azerbaijan admitted to the United Nations?", False),
    ("Since when has UNHCR been operating in Azerbaijan?", False),
    ("What share of the world population does the Non-Aligned Movement represent?", False),
    ("Which resolutions on access to COVID-19 vaccines did Azerbaijan initiate?", False),
    ("How many refugees and internally displaced persons did Azerbaijan have?", False),
    ("What reform of the UN Security Council does Azerbaijan call for?", False),
    ("When was the special session of the UN General Assembly on COVID-19 held?", False),
    ("How much money did Azerbaijan provide to the WHO to fight COVID-19?", False),
    ("When was Azerbaijan a member of the UN Security Council?", False),
    ("How many UN Security Council resolutions demanded the withdrawal of Armenian forces?", False),
]

_SNIPPET_DATE = re.compile(r"^\s*(?:[A-Z][a-z]{2} \d{1,2}, \d{4}|\d+ (?:days?|hours?|weeks?) ago)\s*\.\.\.\s*")


def seed_questions(split: str = "all", limit: int = 0) -> list[tuple[str, bool]]:
    """(question, expected disagreement); with a limit, that many of each label (in file order)."""
    path = ROOT / "eval" / "seed.jsonl"
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if isinstance(r.get("disagreement"), bool) and split in ("all", r.get("split")):
                    rows.append((r["question"], r["disagreement"]))
    rows = rows or SEED
    if limit:
        rows = [r for r in rows if r[1]][:limit] + [r for r in rows if not r[1]][:limit]
    return rows


class YesMan:
    """A worst-case judge for precision: always CONTRADICT, copying both quotes whole; 'YES' to 'can both be true?'.

    The local 1.5B model behaves much like this on our pairs (it answered CONTRADICT and then YES on both pairs tried),
    so its figures bound what the real judge can do where the machine is too slow to run it on every question."""

    calls = 0

    def invoke(self, messages):
        from langchain_core.messages import AIMessage

        self.calls += 1
        human = messages[-1].content
        quotes = re.findall(r'^Quote [AB] \(.*?\): "(.*)"$', human, re.M)
        if len(quotes) == 2:
            return AIMessage(content=f"VERDICT: CONTRADICT\nA: {quotes[0]}\nB: {quotes[1]}")
        return AIMessage(content="YES")


def make_chat(spec: str, settings: Settings):
    if spec == "none":
        return None
    if spec == "yesman":
        return YesMan()
    try:
        from qa.llm import make_llm

        return make_llm(spec, settings)
    except ImportError:
        from langchain_community.chat_models import ChatLlamaCpp

        from qa.models import model_path

        return ChatLlamaCpp(model_path=str(model_path(spec)), n_ctx=2048, max_tokens=settings.max_new_tokens,
                            temperature=0.0, verbose=False, n_threads=os.cpu_count() or 2)


def prf(pairs: list[tuple[bool, bool]]) -> dict:
    tp = sum(p and g for p, g in pairs)
    fp = sum(p and not g for p, g in pairs)
    fn = sum(g and not p for p, g in pairs)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"n": len(pairs), "positives": sum(g for _, g in pairs), "tp": tp, "fp": fp, "fn": fn,
            "precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}


def run_seed(chat, settings: Settings, verbose: bool, split: str = "all", limit: int = 0) -> tuple[list, list]:
    from qa.retrieve import retrieve
    from qa.store import open_store

    store = open_store(settings.with_(index_dir=Path(tempfile.mkdtemp(prefix="qa-dis-idx-"))))
    out, costs = [], []
    for q, gold in seed_questions(split, limit):
        hits = retrieve(q, store, settings)
        found, t = find_disagreements(q, hits, store, chat_model=chat, settings=settings)
        out.append((bool(found), gold))
        costs.append((t.get("disagree_judge_calls", 0.0), t["disagree"]))
        if verbose:
            print(f"[{'OK ' if bool(found) == gold else 'BAD'}] gold={gold} found={len(found)} {q}")
            for d in found:
                print(f"      {d.kind}: {d.summary[:300]}")
    return out, costs


def run_conflictqa(chat, settings: Settings, limit: int, verbose: bool) -> tuple[list, list]:
    from qa.embed import make_embedder
    from qa.retrieve import retrieve
    from qa.store import open_store

    embedder = make_embedder(settings.embedder)
    rows = [json.loads(line) for line in CQA.read_text(encoding="utf-8").splitlines() if line.strip()][:limit]
    out, costs = [], []
    for row in rows:
        with tempfile.TemporaryDirectory() as corpus, tempfile.TemporaryDirectory() as index:
            manifest = {}
            for i, (snippet, source) in enumerate(zip(row["contexts"], row["sources"])):
                m = _SNIPPET_DATE.match(snippet)
                date = ""
                if m and "," in m.group(0):
                    date = time.strftime("%Y-%m-%d", time.strptime(m.group(0).strip(" .").strip(), "%b %d, %Y"))
                name = f"snippet-{chr(65 + i)}.txt"
                (Path(corpus) / name).write_text(snippet[m.end():] if m else snippet, encoding="utf-8")
                manifest[name] = {"title": f"{source} snippet {chr(65 + i)}", "source": source, "date": date}
            (Path(corpus) / "manifest.json").write_text(json.dumps({"documents": manifest}), encoding="utf-8")
            s = settings.with_(corpus_dir=Path(corpus), index_dir=Path(index))
            try:
                store = open_store(s, embedder=embedder)
            except Exception as exc:  # a snippet set with no readable text is a question we cannot judge
                print(f"skip {row['question']!r}: {exc}", file=sys.stderr)
                continue
            hits = retrieve(row["question"], store, s)
            found, t = find_disagreements(row["question"], hits, store, chat_model=chat, settings=s)
        gold = row["secondAnswerExist"] == "A"
        out.append((bool(found), gold))
        costs.append((t.get("disagree_judge_calls", 0.0), t["disagree"]))
        if verbose:
            print(f"[{'OK ' if bool(found) == gold else 'BAD'}] gold={gold} found={len(found)} {row['question']}")
            for d in found:
                print(f"      {d.kind}: {d.summary[:300]}")
    return out, costs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["seed", "conflictqa", "both"], default="both")
    ap.add_argument("--llm", default="none",
                    help="none | local | local-small | yesman (worst-case judge) | both (none, then local)")
    ap.add_argument("--limit", type=int, default=60, help="ConflictQA questions (first N of the dev file)")
    ap.add_argument("--split", default="all", help="seed rows of this split only: dev | test | all")
    ap.add_argument("--seed-limit", type=int, default=0, help="at most N conflict and N no-conflict seed questions")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    specs = ["none", "local"] if args.llm == "both" else [args.llm]
    for spec in specs:
        chat = make_chat(spec, settings)
        parts = ["seed", "conflictqa"] if args.part == "both" else [args.part]
        for part in parts:
            t0 = time.perf_counter()
            if part == "seed":
                res, costs = run_seed(chat, settings, args.verbose, args.split, args.seed_limit)
            else:
                res, costs = run_conflictqa(chat, settings, args.limit, args.verbose)
            n = max(len(costs), 1)
            report = prf(res) | {"judge_calls_per_q": round(sum(c for c, _ in costs) / n, 2),
                                 "seconds_per_q": round(sum(s for _, s in costs) / n, 2),
                                 "wall_s": round(time.perf_counter() - t0, 1)}
            print(json.dumps({"part": part, "llm": spec} | report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
