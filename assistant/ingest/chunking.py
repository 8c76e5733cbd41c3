"""Split documents into chunks with stable, content-derived ids (llama-index SentenceSplitter)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from assistant.config import ChunkingSettings
from assistant.types import Chunk, Document


def make_splitter(settings: ChunkingSettings):  # -> llama_index SentenceSplitter
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)


def chunk_id(source: str, index: int, text: str) -> str:
    """'<source>#<index>:<hash8>': stable across runs, changes when the chunk's text changes."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{source}#{index}:{digest}"


def chunk_document(document: Document, splitter) -> list[Chunk]:
    pieces = [piece.strip() for piece in splitter.split_text(document.text) if piece.strip()]
    return [
        Chunk(
            chunk_id=chunk_id(document.source, i, piece),
            source=document.source,
            title=document.title,
            date=document.date,
            index=i,
            text=piece,
        )
        for i, piece in enumerate(pieces)
    ]


def chunk_documents(documents: Iterable[Document], settings: ChunkingSettings) -> list[Chunk]:
    splitter = make_splitter(settings)
    return [chunk for document in documents for chunk in chunk_document(document, splitter)]
