"""Corpus ingestion: read files or JSONL records into cleaned `Document`s, then chunk them; and the
collection's uploaded files (`uploads`: checked, stored, mirrored, quarantined, listed)."""

from assistant.ingest.chunking import chunk_documents, chunk_documents_safely
from assistant.ingest.loaders import LoadReport, load_corpus

__all__ = ["LoadReport", "chunk_documents", "chunk_documents_safely", "load_corpus"]
