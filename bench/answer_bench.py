"""Answer-latency benchmark for the local model: today's configuration vs the new one, and each speed lever alone.

Every configuration answers every dev question through ``qa.pipeline.ask_stream`` (the page's path), interleaved
question by question in a rotating order, in one process: the machine's speed swings about 2x from minute to minute
(it is shared), so only figures measured side by side compare. Per configuration it prints p50/p90 whole-answer
time, p50 first answer token and p50 "evidence shown" (the Evidence event), all from the moment the question is
asked, prompt tokens and how many came from the KV cache, and the share of answers that match today's text. Then the
speed-up of each lever on its own (today's p50 / the lever's p50, and the median of the per-question ratios), and the
first question after a cold start (a fresh process that warms up like `qa serve`) against the p50 of the questions
after it and against itself asked again at the end, warm: the second ratio compares one question with itself, so
only coldness differs (the first ratio also counts that question's answer being longer or shorter than the median). The dev questions are written here, about the seed corpus, and differ from the test questions in
eval/seed.jsonl.

    .venv/bin/python bench/answer_bench.py                       # all configurations, then the cold start
    .venv/bin/python bench/answer_bench.py --configs today,new --repeat 2
    .venv/bin/python bench/answer_bench.py --cold-only           # only the first question after a cold start

Configurations (``today`` is the setup before issue 13: Q4_K_M weights, no prompt lookup, the old thread rule that
counted this process's own threads as competition; ``new`` is LocalLlamaChat's defaults now; each lever is today plus
that one change; the system prompt's KV cache is reused in all but ``no-cache``):

    today, new (all kept levers), q4_0, lookup, threads, short-prompt, no-cache, flash-attn

Left out: quality scoring against gold answers (``qa eval`` does that); the text match here only flags changes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.settings import Settings  # noqa: E402

DEV_QUESTIONS = [
    "When was Azerbaijan admitted to the United Nations?",
    "What are the main bodies of the United Nations?",
    "Why is Baku changing the format of its cooperation with the UN?",
    "What does the Institute for Human Rights call on UN member states to do?",
    "Since when has Azerbaijan been a member of the International Labour Organisation?",
    "Where was the Non-Aligned Movement summit on COVID-19 held?",
    "Who heads the Western Studies Department of the AIR Center?",
    "What is the capital of Australia?",
]

#: the shorter-prompt lever: fewer passage characters in the user turn (Settings fields read by qa.generate)
SHORT_PROMPT = {"total_chars": 900, "max_passages": 4}

#: name -> (LocalLlamaChat fields, old thread rule?, Settings fields to change)
CONFIGS: dict[str, tuple[dict, bool, dict]] = {
    "today": ({"weights": "shipped", "lookup": 0, "flash_attn": False}, True, {}),
    "new": ({}, False, {}),  # LocalLlamaChat's defaults: the levers that paid are the defaults
    "q4_0": ({"weights": "fast", "lookup": 0, "flash_attn": False}, True, {}),  # the copy is made first if missing (about 10 s)
    "lookup": ({"weights": "shipped", "lookup": 6, "flash_attn": False}, True, {}),
    "threads": ({"weights": "shipped", "lookup": 0, "flash_attn": False}, False, {}),
    "short-prompt": ({"weights": "shipped", "lookup": 0, "flash_attn": False}, True, SHORT_PROMPT),
    "no-cache": ({"weights": "shipped", "lookup": 0, "cache_prompt": False, "flash_attn": False}, True, {}),
    "flash-attn": ({"weights": "shipped", "lookup": 0, "flash_attn": True}, True, {}),
}
LEVERS = {"q4_0": "Q4_0 weights, repacked at load", "lookup": "prompt-lookup decoding (6 draft tokens)",
          "threads": "thread rule: this process's own threads and threads runnable for an instant are no competition",
          "short-prompt": f"shorter prompt {SHORT_PROMPT}", "no-cache": "system-prompt KV cache OFF (today has it on)",
          "flash-attn": "llama.cpp flash-attention kernels"}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    idx = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[idx]


def with_changes(base: Settings, changes: dict) -> Settings:
    """The configuration's Settings: its changes are Settings fields (the evidence budget: total_chars, max_passages);
    a name that is not one is an error, never silently ignored."""
    return base.with_(**changes)


def make_model(name: str, settings: Settings):
    """The chat model of one configuration (the old thread rule is today's ``pick_threads`` minus own threads)."""
    from qa.llm import LocalLlamaChat, pick_threads

    fields, old_threads, _ = CONFIGS[name]

    class Today(LocalLlamaChat):
        def _set_threads(self, llama):
            with open("/proc/loadavg") as fh:  # before issue 13: one reading, every running thread another process
                threads = pick_threads(loadavg=fh.read(), own_running=1, background=0)
            llama._ctx.set_n_threads(threads, threads)
            return threads

    cls = Today if old_threads else LocalLlamaChat
    return cls(model_name="local", max_tokens=settings.max_new_tokens, timeout=settings.llm_timeout, **fields)


def forget_last_question(model, system_prompt: str) -> None:
    """Keep only the system prompt in the model's KV cache, as after any other question (configurations that share
    a loaded model must not find this question's prompt already cached by the one before)."""
    from qa.llm import common_prefix

    llama, lock = model._llama()
    prefix = f"<|im_start|>system\n{system_prompt}<|im_end|>\n<|im_start|>user\n"
    with lock:
        tokens = llama.tokenize(prefix.encode(), add_bos=False, special=True)
        shared = common_prefix(llama.input_ids[: llama.n_tokens], tokens)
        if shared < len(tokens):  # a configuration without the cache ran last: evaluate the system prompt again
            llama.reset()
            llama.eval(tokens)
        else:
            llama.n_tokens = shared


def ask_once(question: str, store, model, settings: Settings) -> dict:
    """One question through ask_stream: seconds to the Evidence event, the first answer token and the Answer."""
    from qa.pipeline import ask_stream
    from qa.types import Answer, Evidence

    t0 = time.perf_counter()
    row: dict = {"question": question}
    for event in ask_stream(question, settings, store=store, llm=model):
        now = time.perf_counter() - t0
        if isinstance(event, Evidence):
            row["evidence"] = now
        elif isinstance(event, str):
            row.setdefault("first_token", now)
        elif isinstance(event, Answer):
            row.update(total=now, text=event.text, abstained=event.abstained, mode=event.mode,
                       prompt_tokens=event.usage.get("llm_prompt_tokens"), timings=event.timings)
    stats = getattr(model, "last_stats", {}) or {}
    row["asked_model"] = "llm_generate" in row.get("timings", {})
    row.update(cached_tokens=stats.get("cached_tokens"), n_threads=stats.get("n_threads"))
    return row


def run_configs(names: list[str], repeat: int, limit: int, verbose: bool) -> dict[str, list[dict]]:
    from qa.prompts import SYSTEM_PROMPT
    from qa.store import open_store

    base = Settings.from_env(llm="local")
    store = open_store(base)
    if any(CONFIGS[n][0].get("weights") == "fast" for n in names):
        from qa.models import make_fast_copy

        if make_fast_copy("local", progress=print) is None:
            print("no Q4_0 copy could be made: the q4_0 configuration runs the shipped weights")
    settings = {n: with_changes(base, CONFIGS[n][2]) for n in names}
    models = {}
    for n in names:
        t = time.perf_counter()
        models[n] = make_model(n, settings[n])
        models[n].warm(SYSTEM_PROMPT)
        print(f"{n:13s} loaded + warmed in {time.perf_counter() - t:5.1f}s  ({Path(models[n].path()).name})")
    ask_once("warm-up: when was the UN founded?", store, models[names[0]], settings[names[0]])  # embedder, imports
    rows: dict[str, list[dict]] = {n: [] for n in names}
    questions = DEV_QUESTIONS[:limit]
    for r in range(repeat):
        for i, q in enumerate(questions):
            shift = (i + r) % len(names)
            for n in names[shift:] + names[:shift]:  # rotate who goes first: no configuration always runs warm
                forget_last_question(models[n], SYSTEM_PROMPT)
                row = ask_once(q, store, models[n], settings[n])
                rows[n].append(row)
                print(f"  {n:13s} {row['total']:6.2f}s evidence={row.get('evidence', float('nan')):4.2f}s "
                      f"first={row.get('first_token', float('nan')):5.2f}s prompt={row.get('prompt_tokens') or 0:3.0f}t "
                      f"cached={row.get('cached_tokens') or 0:3.0f}t threads={row.get('n_threads') or 0} "
                      f"load={os.getloadavg()[0]:.1f} {q[:50]}")
                if verbose:
                    print(f"      {row.get('text', '')!r}")
    return rows


def summarise(rows: dict[str, list[dict]]) -> None:
    names = list(rows)
    print(f"\n{'config':13s} {'p50 total':>9s} {'p90 total':>9s} {'p50 first token':>15s} {'p50 evidence':>12s} "
          f"{'prompt t':>8s} {'cached t':>8s} {'1-thread':>8s} {'same text as today':>18s}")
    today = {(r["question"], k): r for k, r in enumerate(rows.get("today", []))}
    for n in names:
        model_rows = [r for r in rows[n] if r.get("asked_model")]
        totals = [r["total"] for r in model_rows]
        first = [r["first_token"] for r in model_rows if r.get("first_token") is not None]
        evidence = [r["evidence"] for r in rows[n] if r.get("evidence") is not None]
        ptok = [r["prompt_tokens"] for r in model_rows if r.get("prompt_tokens")]
        cached = [r["cached_tokens"] for r in model_rows if r.get("cached_tokens") is not None]
        one = sum(1 for r in model_rows if r.get("n_threads") == 1)
        same = "" if not today else (
            f"{sum(1 for k, r in enumerate(rows[n]) if today.get((r['question'], k), {}).get('text') == r.get('text'))}"
            f"/{len(rows[n])}")
        print(f"{n:13s} {pct(totals, .5):8.2f}s {pct(totals, .9):8.2f}s {pct(first, .5):14.2f}s "
              f"{pct(evidence, .5):11.2f}s {statistics.median(ptok) if ptok else 0:8.0f} "
              f"{statistics.median(cached) if cached else 0:8.0f} {one:4d}/{len(model_rows):<3d} {same:>18s}")
    if "today" not in rows:
        return
    print("\nspeed-up over today (today's p50 / this p50; in brackets the median of per-question ratios), "
          "whole answer and first token:")
    for n in names:
        if n == "today":
            continue
        pairs = [(a, b) for a, b in zip(rows["today"], rows[n]) if a.get("asked_model") and b.get("asked_model")]
        if not pairs:
            continue
        ratio_total = pct([a["total"] for a, _ in pairs], .5) / pct([b["total"] for _, b in pairs], .5)
        ratio_first = (pct([a["first_token"] for a, _ in pairs], .5) / pct([b["first_token"] for _, b in pairs], .5))
        per_q = statistics.median(a["total"] / b["total"] for a, b in pairs)
        per_q_first = statistics.median(a["first_token"] / b["first_token"] for a, b in pairs)
        print(f"  {n:13s} total x{ratio_total:4.2f} (x{per_q:4.2f})  first token x{ratio_first:4.2f} "
              f"(x{per_q_first:4.2f})  {LEVERS.get(n, 'all kept levers together')}")


COLD = r"""
import json, os, sys, time
sys.path.insert(0, os.getcwd())
t0 = time.perf_counter()
import app
from qa.pipeline import get_store
from qa.settings import Settings
settings = Settings.from_env(llm="local")
class Demo:  # what app.launch hands to app._warm: the page's lazy store
    qa_warm = staticmethod(lambda: get_store(settings))
app._warm(Demo(), True)  # exactly what `qa serve` runs at start
warm = time.perf_counter() - t0
from bench.answer_bench import ask_once
from qa.pipeline import resolve_llm
store, model = get_store(settings), resolve_llm(None, settings)
rows = [ask_once(q, store, model, settings) for q in __QUESTIONS__]
print(json.dumps({"warm": warm, "rows": [{k: r.get(k) for k in ("question", "total", "first_token", "evidence",
                                                                 "asked_model", "timings")} for r in rows]}))
"""


def cold_start(name: str, n_after: int) -> dict:
    """A fresh process warms up like `qa serve`, then answers the questions; returns its rows."""
    fields, _, _ = CONFIGS[name]
    env = dict(os.environ, QA_LLM="local")
    if "weights" in fields:
        env["QA_LOCAL_WEIGHTS"] = fields["weights"]
    if "lookup" in fields:
        env["QA_LOOKUP"] = str(fields["lookup"])
    questions = [q for q in DEV_QUESTIONS if "Australia" not in q][: n_after + 1]
    questions.append(questions[0])  # asked again last, warm: the same question, so only coldness differs
    code = COLD.replace("__QUESTIONS__", json.dumps(questions))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=1200)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, from {', '.join(CONFIGS)}")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the dev questions")
    parser.add_argument("--limit", type=int, default=len(DEV_QUESTIONS))
    parser.add_argument("--cold", default="new", help="configuration for the cold-start run ('' = skip)")
    parser.add_argument("--cold-only", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the answers")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configurations {unknown}; valid: {', '.join(CONFIGS)}")
    print(f"cores={os.cpu_count()} load_avg={os.getloadavg()[0]:.1f} configs={names}")
    rows: dict = {}
    if not args.cold_only:
        rows = run_configs(names, args.repeat, args.limit, args.verbose)
        summarise(rows)
    if args.cold:
        cold = cold_start(args.cold, n_after=6)
        again = cold["rows"][-1]
        answered = [r for r in cold["rows"][:-1] if r.get("asked_model")]
        first, rest = cold["rows"][0], [r["total"] for r in answered[1:]]
        p50 = pct(rest, .5)
        print(f"\ncold start ({args.cold}): `qa serve`'s warm-up took {cold['warm']:.1f}s; first question "
              f"{first['total']:.2f}s (first token {first.get('first_token') or float('nan'):.2f}s), p50 of the "
              f"{len(rest)} after it {p50:.2f}s: first / p50 = {first['total'] / p50:.2f} (goal <= 1.2)")
        print(f"  the first question asked again after them: {again['total']:.2f}s (first token "
              f"{again.get('first_token') or float('nan'):.2f}s): first / same question warm = "
              f"{first['total'] / again['total']:.2f}, first token {(first.get('first_token') or 0) / (again.get('first_token') or 1):.2f}")
        print("  first question's stages: " + ", ".join(f"{k} {v:.2f}s" for k, v in first["timings"].items()
                                                        if k in ("load", "retrieve", "generate", "llm_first_token",
                                                                 "disagree", "total")))
        rows["cold"] = cold
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
