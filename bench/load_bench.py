"""Load test: N simulated chat users ask questions through the page's API for a bounded time (127.0.0.1 only).

Each user has its own gradio_client and asks the next question as soon as the last answer arrives. Every answer is
checked: it must parse as an Answer, and when the app runs in this process, every quote must equal the document
text at its offsets. Prints throughput, p50/p90/p99 latency and the error count (exit status 1 if any error).

    .venv/bin/python bench/load_bench.py                      # starts the real app (extractive), 20 users, 60 s
    .venv/bin/python bench/load_bench.py --users 20 --duration 180 --model auto
    .venv/bin/python bench/load_bench.py --url http://127.0.0.1:7860/   # an app that is already running

Left out: browsers (the page's JavaScript is not exercised) and any host other than loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUESTIONS = [
    "When was Azerbaijan admitted to the UN membership?",
    "Why did Azerbaijan close the offices of UN agencies and the ICRC?",
    "What are the purposes of the United Nations?",
    "Which UN bodies was Azerbaijan elected to?",
    "What does the Non-Aligned Movement chairmanship mean for Azerbaijan?",
    "What did the Institute for Human Rights say about the closure of UN offices?",
    "When was the United Nations established?",
    "How does Azerbaijan cooperate with UNICEF?",
    "What are the main bodies of the United Nations?",
    "Why is Baku adjusting priorities in cooperation with the UN?",
    "What is the population of Mars?",  # should abstain
]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def start_app(model: str):
    """The real app in this process on a free loopback port; returns (url, docs, demo)."""
    import app
    from qa.pipeline import get_store
    from qa.settings import Settings

    settings = Settings.from_env()
    print(f"loading the index of {settings.corpus_dir} ...", flush=True)
    store = get_store(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = app.create_app(settings=settings, store_fn=lambda: store)
    app.launch(port=port, demo=demo, prevent_thread_lock=True, quiet=True)
    return f"http://127.0.0.1:{port}/", store.docs, demo


def well_formed(data, docs) -> str | None:
    """None when the answer is well-formed, else what is wrong."""
    from qa.types import Answer

    try:
        answer = Answer.model_validate(data)
    except Exception as exc:
        return f"not an Answer: {exc}"[:200]
    if not answer.abstained and not answer.citations:
        return "an answer without citations"
    for c in answer.citations:
        if docs is not None and (c.doc_id not in docs or docs[c.doc_id].text[c.start:c.end] != c.quote):
            return f"quote [{c.n}] does not match {c.doc_id} at {c.start}:{c.end}"
    return None


def user(i: int, url: str, model: str, deadline: float, docs, out: dict, lock: threading.Lock) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    except Exception as exc:
        with lock:
            out["errors"].append(f"user {i}: could not connect: {exc}")
        return
    n = i  # users start at different questions
    while time.monotonic() < deadline:
        q = QUESTIONS[n % len(QUESTIONS)]
        n += 1
        t = time.perf_counter()
        try:
            data = client.predict(q, model, api_name="/ask")
            problem = well_formed(data, docs)
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"[:200]
        took = time.perf_counter() - t
        with lock:
            if problem:
                out["errors"].append(f"user {i} {q!r}: {problem}")
            else:
                out["latencies"].append(took)
                out["abstained"] += int(bool(data.get("abstained")))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds to keep asking (bounded)")
    ap.add_argument("--model", default="extractive", help="auto | local | hosted | extractive")
    ap.add_argument("--url", help="an app already running on this machine (default: start one here)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not 1 <= args.users <= 200 or not 0 < args.duration <= 3600:
        ap.error("--users must be 1..200 and --duration 1..3600 seconds")

    demo = docs = None
    if args.url:
        host = urlparse(args.url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            ap.error("this load test only runs against 127.0.0.1")
        url = args.url
    else:
        url, docs, demo = start_app(args.model)
    print(f"{args.users} users, {args.duration:.0f} s, model={args.model}, {url}", flush=True)

    out = {"latencies": [], "errors": [], "abstained": 0}
    lock = threading.Lock()
    t0 = time.monotonic()
    deadline = t0 + args.duration
    threads = [threading.Thread(target=user, args=(i, url, args.model, deadline, docs, out, lock), daemon=True)
               for i in range(args.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.duration + 300)  # a request in flight at the deadline may finish
    wall = time.monotonic() - t0
    if demo is not None:
        demo.close()

    lat = out["latencies"]
    figures = {
        "users": args.users, "duration_s": round(wall, 1), "model": args.model, "answers": len(lat),
        "abstained": out["abstained"], "errors": len(out["errors"]),
        "throughput_per_s": round(len(lat) / wall, 2) if wall else 0.0,
        "p50_s": round(statistics.median(lat), 3) if lat else None,
        "p90_s": round(percentile(lat, 90), 3) if lat else None,
        "p99_s": round(percentile(lat, 99), 3) if lat else None,
        "max_s": round(max(lat), 3) if lat else None,
    }
    print(f"answers {figures['answers']} ({figures['abstained']} abstained) in {figures['duration_s']} s: "
          f"{figures['throughput_per_s']} answers/s")
    print(f"latency p50 {figures['p50_s']} s, p90 {figures['p90_s']} s, p99 {figures['p99_s']} s, "
          f"max {figures['max_s']} s")
    print(f"errors {figures['errors']}")
    for e in out["errors"][:10]:
        print("  " + e)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if out["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
