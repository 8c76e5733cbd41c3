"""Our hybrid retriever (dense + BM25, sentence reranking) as a llama-index retriever."""

from __future__ import annotations

import asyncio

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.arguments import DateLike, SourcesLike, make_filter
from assistant.config import Settings
from assistant.engine import AnswerEngine
from assistant.integrations.llama_index.binding import resolve_engine
from assistant.integrations.llama_index.nodes import passage_node
from assistant.validation import validate_top_k


class AssistantRetriever(BaseRetriever):
    """`retriever.retrieve("query")` -> the best `top_k` chunks as NodeWithScore, best first.

    Filters are ours: `sources` (names as `assistant info` lists them, e.g. "upload:notes.txt"),
    `date_from` / `date_to` (inclusive; undated documents match no date range)."""

    def __init__(self, engine: AnswerEngine | None = None, *, settings: Settings | None = None, top_k: int | None = None,
                 sources: SourcesLike = None, date_from: DateLike = None, date_to: DateLike = None,
                 callback_manager: CallbackManager | None = None, verbose: bool = False) -> None:
        # Arguments are checked before the engine is resolved: a bad one never loads a model.
        self.top_k = validate_top_k(top_k) if top_k is not None else None
        self.filters = make_filter(sources, date_from, date_to)
        self.engine = resolve_engine(engine, settings)
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        top_k = self.top_k if self.top_k is not None else self.engine.settings.retrieval.top_k
        passages = self.engine.retrieve(query_bundle.query_str, top_k=top_k, filters=self.filters)
        return [passage_node(p) for p in passages]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        # Retrieval is CPU work (embedding, BM25): run it off the event loop.
        return await asyncio.to_thread(self._retrieve, query_bundle)
