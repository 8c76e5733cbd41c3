"""Retrieval: the embedder, BM25 (keyword), the sentence index, hybrid candidates and reranking."""
