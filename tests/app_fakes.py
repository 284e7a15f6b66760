"""Fakes for the page tests: a store over a copy of the corpus and an ask() that cites real sentences.

The fake answer is built from the documents by word overlap, so every citation is ``doc.text[start:end]`` of a
real file and the page's highlighting can be checked exactly. Left out: any relevance quality.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from qa.errors import BadQuestion, CorpusError
from qa.ingest import load_corpus, read_document
from qa.types import Answer, Citation, Claim, Disagreement

ROOT = Path(__file__).resolve().parent.parent
_SENT = re.compile(r"[^.!?\n]+[.!?]")
_WORD = re.compile(r"[a-z0-9]{3,}")
_STOP = set("the and for with that this what when where which who why how does did are was were has have from "
            "about into they them their its not but all any can will would should could you your there".split())


def copy_corpus(dest: Path) -> Path:
    """A private copy of corpus/ (tests upload and remove files)."""
    shutil.copytree(ROOT / "corpus", dest, ignore=shutil.ignore_patterns("uploads", ".removed"))
    return dest


class FakeStore:
    """The Store surface the page uses: docs, add_files, remove."""

    def __init__(self, corpus_dir: Path):
        self.corpus_dir = Path(corpus_dir)
        self.docs = {d.doc_id: d for d in load_corpus(self.corpus_dir).documents}
        self.chunks = []

    def add_files(self, paths, progress=None):
        added = []
        for p in map(Path, paths):
            doc = read_document(p, self.corpus_dir)
            self.docs[doc.doc_id] = doc
            added.append(doc.doc_id)
        return added

    def remove(self, doc_id):
        if doc_id not in self.docs:
            raise CorpusError(f"no document {doc_id!r} in the corpus")
        del self.docs[doc_id]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def fake_ask(question, settings=None, *, store, llm=None, history=None, k=None):
    if not isinstance(question, str) or not question.strip():
        raise BadQuestion("the question is empty: type a question about the documents")
    if "explode" in question.lower():  # lets tests check that internal errors never reach the user
        raise RuntimeError("internal failure at /secret/path/model.bin")
    q = _words(question)
    notes = (f"llm={llm}", f"k_evidence={getattr(settings, 'k_evidence', None)}") + (("history used",) if history else ())
    scored = []
    for doc in store.docs.values():
        for m in _SENT.finditer(doc.text):
            start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
            overlap = len(q & _words(m.group(0)))
            if overlap:
                scored.append((overlap, -start, doc, start, m.end()))
    scored.sort(key=lambda t: (-t[0], t[2].doc_id, -t[1]))
    best, seen = [], set()
    for overlap, _, doc, start, end in scored:
        if overlap < 2 or (doc.doc_id, start) in seen:
            continue
        seen.add((doc.doc_id, start))
        best.append(Citation(n=len(best) + 1, doc_id=doc.doc_id, title=doc.title, source=doc.source, date=doc.date,
                             quote=doc.text[start:end], start=start, end=end, score=overlap / max(1, len(q))))
        if len(best) == 3:
            break
    if not best:
        return Answer(question=question, text="The sources do not answer this question.", abstained=True,
                      mode="fake", notes=notes + ("no sentence shares two words with the question",))
    text = " ".join(f"{c.quote} [{c.n}]" for c in best)
    disagreements = ()
    by_doc = {}
    for c in best:
        by_doc.setdefault(c.doc_id, c)
    if "disagree" in question.lower() and len(by_doc) >= 2:
        a, b = list(by_doc.values())[:2]
        disagreements = (Disagreement(summary=f"{a.source or a.title} and {b.source or b.title} differ", kind="opinion",
                                      claims=(Claim(citation=a, stance="one view"), Claim(citation=b, stance="another"))),)
    return Answer(question=question, text=text, citations=tuple(best), disagreements=disagreements, mode="fake",
                  notes=notes, timings={"total": 0.01})


def fake_stream(question, settings=None, **kwargs):
    answer = fake_ask(question, settings, **kwargs)
    for word in answer.text.split(" "):
        yield word + " "
    yield answer
