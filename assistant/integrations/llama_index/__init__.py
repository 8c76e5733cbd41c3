"""The assistant inside llama-index pipelines.

- `AssistantRetriever`: our hybrid retriever as a llama-index `BaseRetriever` (nodes carry
  source, title, date and chunk id);
- `AssistantChatEngine` / `AssistantQueryEngine`: our cited answers as a llama-index chat engine
  and query engine (source nodes are the cited passages, with the quoted span);
- `add_documents`: index llama-index `Document`s next to what is already there (stored as uploads).

llama-index-core is a dependency of the package, but an environment without it gets one line
naming the fix instead of a traceback from deep inside an import."""

from __future__ import annotations

from assistant.errors import ConfigError

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # only reachable in an environment that dropped the dependency
    raise ConfigError(
        f"the llama-index integration needs llama-index-core: install it with  "
        f"pip install 'llama-index-core>=0.14,<0.15'  ({exc})") from exc

from assistant.integrations.llama_index.documents import add_documents, upload_for
from assistant.integrations.llama_index.engines import (
    AssistantChatEngine,
    AssistantQueryEngine,
    AssistantStreamingChatResponse,
)
from assistant.integrations.llama_index.nodes import citation_node, passage_node
from assistant.integrations.llama_index.retriever import AssistantRetriever

__all__ = [
    "AssistantChatEngine", "AssistantQueryEngine", "AssistantRetriever", "AssistantStreamingChatResponse",
    "add_documents", "citation_node", "passage_node", "upload_for",
]
