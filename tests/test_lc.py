"""qa.lc: the LangChain retriever returns exact document spans (the real embedder over the fake corpus)."""

from __future__ import annotations


def test_qa_retriever_returns_exact_spans(fake_settings):
    from qa.lc import QARetriever
    from qa.store import open_store

    store = open_store(fake_settings)
    docs = QARetriever(store=store, settings=fake_settings).invoke("When did Azerbaijan join the UN?")
    assert docs
    for d in docs:
        m = d.metadata
        assert store.docs[m["doc_id"]].text[m["start"]:m["end"]] == d.page_content
        assert m["title"] == store.docs[m["doc_id"]].title
