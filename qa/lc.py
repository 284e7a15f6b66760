"""qa's retrieval as a LangChain ``BaseRetriever``, so the index can feed other LangChain apps and chains.

``QARetriever(store=..., settings=...)`` returns one langchain ``Document`` per evidence sentence, its
``page_content`` exactly ``document.text[start:end]`` and its metadata naming the source (doc_id, start, end, title,
source, date, score, chunk_id). Left out: async retrieval beyond LangChain's default thread offload.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from qa.settings import Settings


class QARetriever(BaseRetriever):
    """Evidence sentences for a query, best first, as LangChain documents with exact offsets."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    settings: Settings

    def __init__(self, store: Any = None, settings: Settings | None = None, **kwargs: Any):
        super().__init__(store=store, settings=settings or Settings.from_env(), **kwargs)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun | None = None) -> list[LCDocument]:
        from qa.retrieve import retrieve

        out = []
        for hit in retrieve(query, self.store, self.settings):
            doc = self.store.docs[hit.doc_id]
            out.append(LCDocument(page_content=doc.text[hit.start:hit.end], metadata={
                "doc_id": hit.doc_id, "start": hit.start, "end": hit.end, "title": doc.title,
                "source": doc.source, "date": doc.date, "score": hit.score, "chunk_id": hit.chunk_id}))
        return out
