"""Answer-latency benchmark for LLM answers: retrieve -> prompt -> generate (streamed) -> verify, per dev question.

Prints p50/p90 full-answer latency, time to first token (model only, and from the question), prompt tokens,
the share of time per stage, and the share of answer sentences that survive verification. The dev questions are
written here, about the seed corpus, and differ from the test questions in eval/seed.jsonl.

    .venv/bin/python bench/answer_bench.py                 # local 1.5B model
    .venv/bin/python bench/answer_bench.py --llm local-small
    .venv/bin/python bench/answer_bench.py --pipeline      # through qa.pipeline.ask (adds disagreement checks)

Left out: quality scoring against gold answers (that is eval/'s job); this measures speed and verification only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    idx = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[idx]


def run_direct(question: str, store, model, settings: Settings) -> dict:
    from qa.generate import llm_answer
    from qa.retrieve import relevance, retrieve

    t0 = time.perf_counter()
    hits = retrieve(question, store, settings)
    t_retrieve = time.perf_counter() - t0
    row = {"question": question, "retrieve": t_retrieve}
    if relevance(hits) < settings.min_relevance:  # the pipeline abstains here without calling the model
        row.update(total=time.perf_counter() - t0, abstained=True, skipped_llm=True, kept=0, dropped=0, text="")
        return row
    first: list[float] = []
    result = llm_answer(question, hits, store, model, settings,
                        on_token=lambda _p: first or first.append(time.perf_counter() - t0))
    tm = result.timings
    row.update(total=time.perf_counter() - t0, ttft_e2e=first[0] if first else None,
               ttft_model=tm.get("first_token"), prompt_build=tm.get("prompt_build", 0.0),
               generate=tm.get("generate", 0.0), verify=tm.get("verify", 0.0),
               prompt_tokens=tm.get("prompt_tokens"), output_tokens=tm.get("output_tokens"),
               n_threads=tm.get("n_threads"), kept=result.kept, dropped=len(result.dropped), abstained=result.abstained, failed=result.failed,
               text=result.text, raw=result.raw, notes=list(result.notes),
               dropped_reasons=[r for _, r in result.dropped])
    return row


def run_pipeline(question: str, store, model, settings: Settings) -> dict:
    from qa.pipeline import ask

    t0 = time.perf_counter()
    first: list[float] = []
    answer = ask(question, settings, store=store, llm=model,
                 on_token=lambda _p: first or first.append(time.perf_counter() - t0))
    tm = answer.timings
    return {"question": question, "total": time.perf_counter() - t0, "ttft_e2e": first[0] if first else None,
            "ttft_model": tm.get("llm_first_token"), "retrieve": tm.get("retrieve", 0.0),
            "generate": tm.get("llm_generate", 0.0), "verify": tm.get("llm_verify", 0.0),
            "prompt_build": tm.get("llm_prompt_build", 0.0), "disagree": tm.get("disagree", 0.0),
            "prompt_tokens": answer.usage.get("llm_prompt_tokens"),
            "output_tokens": answer.usage.get("llm_output_tokens"),
            "abstained": answer.abstained, "mode": answer.mode, "text": answer.text, "notes": list(answer.notes),
            "kept": None, "dropped": None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", default="local", help="local | local-small | openai:<model> | llamacpp:<gguf>")
    parser.add_argument("--pipeline", action="store_true", help="measure qa.pipeline.ask instead of the answer path")
    parser.add_argument("--limit", type=int, default=len(DEV_QUESTIONS))
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print answers and raw model replies")
    args = parser.parse_args(argv)

    from qa.llm import make_llm
    from qa.prompts import SYSTEM_PROMPT
    from qa.store import open_store

    settings = Settings.from_env(llm=args.llm)
    t = time.perf_counter()
    store = open_store(settings)
    t_store = time.perf_counter() - t
    model = make_llm(args.llm, settings)
    t = time.perf_counter()
    if hasattr(model, "warm"):
        model.warm(SYSTEM_PROMPT)
    t_load = time.perf_counter() - t
    print(f"llm={args.llm} cores={os.cpu_count()} store_open={t_store:.1f}s model_load+warm={t_load:.1f}s "
          f"load_avg={os.getloadavg()[0]:.1f}")

    run = run_pipeline if args.pipeline else run_direct
    rows = []
    for q in DEV_QUESTIONS[: args.limit]:
        row = run(q, store, model, settings)
        rows.append(row)
        flag = "ABSTAIN" if row.get("abstained") else ("FAILED" if row.get("failed") else "ok")
        print(f"{row['total']:6.2f}s ttft={row.get('ttft_e2e') or float('nan'):5.2f}s "
              f"prompt={row.get('prompt_tokens') or 0:4.0f}t out={row.get('output_tokens') or 0:3.0f}t "
              f"threads={row.get('n_threads') or 0:.0f} kept={row.get('kept')} dropped={row.get('dropped')} "
              f"{flag:7s} {q}")
        if args.verbose:
            print(f"         raw: {row.get('raw', '')!r}\n         ans: {row.get('text', '')!r}")
            for reason in row.get("dropped_reasons") or []:
                print(f"         dropped: {reason}")

    answered = [r for r in rows if not r.get("skipped_llm")]
    totals = [r["total"] for r in answered]
    ttft = [r["ttft_e2e"] for r in answered if r.get("ttft_e2e") is not None]
    ttft_model = [r["ttft_model"] for r in answered if r.get("ttft_model") is not None]
    ptok = [r["prompt_tokens"] for r in answered if r.get("prompt_tokens")]
    print(f"\nquestions sent to the model: {len(answered)}/{len(rows)}")
    print(f"full answer latency  p50={pct(totals, .5):.2f}s p90={pct(totals, .9):.2f}s")
    print(f"first token (from question) p50={pct(ttft, .5):.2f}s p90={pct(ttft, .9):.2f}s; "
          f"model only p50={pct(ttft_model, .5):.2f}s")
    if ptok:
        print(f"prompt tokens        p50={statistics.median(ptok):.0f} max={max(ptok):.0f}")
    stages = {"retrieve": 0.0, "prompt_build": 0.0, "prefill (to first token)": 0.0, "decode": 0.0, "verify": 0.0,
              "disagree": 0.0}
    for r in answered:
        stages["retrieve"] += r.get("retrieve") or 0.0
        stages["prompt_build"] += r.get("prompt_build") or 0.0
        first = r.get("ttft_model") or 0.0
        stages["prefill (to first token)"] += first
        stages["decode"] += max((r.get("generate") or 0.0) - first, 0.0)
        stages["verify"] += r.get("verify") or 0.0
        stages["disagree"] += r.get("disagree") or 0.0
    whole = sum(totals) or 1.0
    shares = ", ".join(f"{k} {v / whole:.0%}" for k, v in stages.items() if v or k != "disagree")
    print("share of time:       " + shares)
    kept = sum(r.get("kept") or 0 for r in answered)
    dropped = sum(r.get("dropped") or 0 for r in answered)
    if kept + dropped:
        print(f"answer sentences surviving verification: {kept}/{kept + dropped} = {kept / (kept + dropped):.0%}; "
              f"abstained {sum(bool(r.get('abstained')) for r in rows)}, "
              f"failed {sum(bool(r.get('failed')) for r in rows)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
