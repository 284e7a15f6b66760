"""Load test of the OpenAI-compatible API: N users of the official ``openai`` client for a bounded time (127.0.0.1).

Each user has its own client and asks the next question (bench/load_bench.py's list) as soon as the last reply
arrives; even-numbered users stream, odd ones do not (``--stream on|off`` for all). Every reply is checked: each
citation in the ``qa`` field must equal the document text at its offsets and appear in the content's Sources list.
Prints the request count, errors and p50/p90/p99 latency (exit status 1 if any error).

    .venv/bin/python bench/openai_load_bench.py                    # starts the real app, 20 users, 60 s, extractive
    .venv/bin/python bench/openai_load_bench.py --users 20 --duration 60 --model qa-local

Left out: other hosts than loopback, and an app already running elsewhere (the check needs the documents).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_bench import QUESTIONS, percentile, start_app  # noqa: E402  (same questions and app as the page bench)


def check(content: str, qa: dict | None, docs) -> str | None:
    """None when the reply is well-formed, else what is wrong."""
    if not isinstance(qa, dict):
        return "no qa field"
    if not qa.get("abstained") and not qa.get("citations"):
        return "an answer without citations"
    for c in qa.get("citations", []):
        if c["doc_id"] not in docs or docs[c["doc_id"]].text[c["start"]:c["end"]] != c["quote"]:
            return f"quote [{c['n']}] does not match {c['doc_id']} at {c['start']}:{c['end']}"
        if f"\n[{c['n']}] " not in content:
            return f"[{c['n']}] is missing from the Sources list"
    return None


def ask_once(client, model: str, question: str, stream: bool) -> tuple[str, dict | None]:
    messages = [{"role": "user", "content": question}]
    if not stream:
        r = client.chat.completions.create(model=model, messages=messages)
        return r.choices[0].message.content, getattr(r, "qa", None)
    text, qa = [], None
    for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
        if chunk.choices:
            text.append(chunk.choices[0].delta.content or "")
            qa = getattr(chunk, "qa", None) or qa
    return "".join(text), qa


def user(i: int, url: str, model: str, stream: bool, deadline: float, docs, out: dict, lock: threading.Lock) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=url + "v1", api_key="unused", max_retries=0, timeout=120)
    n = i
    while time.monotonic() < deadline:
        q = QUESTIONS[n % len(QUESTIONS)]
        n += 1
        t = time.perf_counter()
        try:
            content, qa = ask_once(client, model, q, stream)
            problem = check(content, qa, docs)
        except Exception as exc:
            problem, qa = f"{type(exc).__name__}: {exc}"[:200], None
        took = time.perf_counter() - t
        with lock:
            if problem:
                out["errors"].append(f"user {i} {q!r}: {problem}")
            else:
                out["latencies"].append(took)
                out["abstained"] += int(bool(qa.get("abstained")))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds to keep asking (bounded)")
    ap.add_argument("--model", default="qa-extractive", help="qa-extractive | qa-local | qa-hosted")
    ap.add_argument("--stream", choices=["mixed", "on", "off"], default="mixed")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not 1 <= args.users <= 200 or not 0 < args.duration <= 3600:
        ap.error("--users must be 1..200 and --duration 1..3600 seconds")

    url, docs, demo = start_app(args.model)
    print(f"{args.users} OpenAI-client users, {args.duration:.0f} s, model={args.model}, stream={args.stream}, "
          f"{url}v1", flush=True)
    out = {"latencies": [], "errors": [], "abstained": 0}
    lock = threading.Lock()
    t0 = time.monotonic()
    deadline = t0 + args.duration
    threads = [threading.Thread(target=user, daemon=True, args=(
        i, url, args.model, args.stream == "on" or (args.stream == "mixed" and i % 2 == 0), deadline, docs, out,
        lock)) for i in range(args.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.duration + 300)  # a request in flight at the deadline may finish
    wall = time.monotonic() - t0
    demo.close()

    lat = out["latencies"]
    figures = {
        "users": args.users, "duration_s": round(wall, 1), "model": args.model, "stream": args.stream,
        "requests": len(lat) + len(out["errors"]), "answers": len(lat), "abstained": out["abstained"],
        "errors": len(out["errors"]), "throughput_per_s": round(len(lat) / wall, 2) if wall else 0.0,
        "p50_s": round(statistics.median(lat), 3) if lat else None,
        "p90_s": round(percentile(lat, 90), 3) if lat else None,
        "p99_s": round(percentile(lat, 99), 3) if lat else None,
    }
    print(f"requests {figures['requests']}: {figures['answers']} answers ({figures['abstained']} abstained), "
          f"{figures['errors']} errors, in {figures['duration_s']} s: {figures['throughput_per_s']} answers/s")
    print(f"latency p50 {figures['p50_s']} s, p90 {figures['p90_s']} s, p99 {figures['p99_s']} s")
    for e in out["errors"][:10]:
        print("  " + e)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if out["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
