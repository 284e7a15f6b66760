"""Index durability: SIGKILL the indexer at random points; the previous index must still load and answer, and
the next run must complete the build."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from qa.pipeline import ask
from qa.store import load, open_store

from .conftest import write

BUILD = textwrap.dedent("""
    import sys, time
    from qa.embed import FakeEmbedder
    from qa.settings import Settings
    from qa.store import open_store

    class Slow(FakeEmbedder):
        batch_size = 4
        def embed_batch(self, texts):
            time.sleep(0.02)  # slow enough that a kill lands mid-build
            return super().embed_batch(texts)

    s = Settings.from_env(corpus_dir=sys.argv[1], index_dir=sys.argv[2], embedder="fake", llm="none")
    open_store(s, embedder=Slow())
    print("done")
""")


def _spawn(settings):
    return subprocess.Popen([sys.executable, "-c", BUILD, str(settings.corpus_dir), str(settings.index_dir)],
                            cwd=os.getcwd(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_build_never_breaks_the_index(fake_settings):
    store = open_store(fake_settings)
    before = set(store.docs)
    rng = random.Random(7)
    for i in range(30):  # a bigger change so the rebuild takes a while
        write(fake_settings.corpus_dir / f"extra/notes-{i}.txt",
              " ".join(f"Sentence {j} of note {i} talks about harbour number {i * 100 + j}." for j in range(30)) + "\n")
    kills = 0
    for _ in range(5):
        proc = _spawn(fake_settings)
        time.sleep(rng.uniform(0.3, 2.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        survivor = load(fake_settings, store.embedder)  # previous (or completed) index loads and verifies
        assert before <= set(survivor.docs)
        a = ask("When was Azerbaijan admitted to the UN?", fake_settings, store=survivor, llm="none")
        assert a.citations and all(survivor.docs[c.doc_id].text[c.start:c.end] == c.quote for c in a.citations)
    assert kills >= 1, "the build finished before any kill: make it slower"
    proc = _spawn(fake_settings)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-2000:]
    final = load(fake_settings, store.embedder)
    assert len(final.docs) == len(before) + 30
    leftovers = [p.name for p in fake_settings.index_dir.iterdir() if p.name.startswith(".gen-")]
    assert leftovers == []  # debris of killed builds is cleaned by the next successful one
