"""Split documents into chunks with stable, content-derived ids (llama-index SentenceSplitter).

The splitter is only ever handed bounded text: a document is first cut into blocks of at most
BLOCK_CHARS characters (at a paragraph break, line break, sentence end or space when there is one),
because NLTK's punkt runs each regex under a 5 s wall-clock limit and raises TimeoutError on a long
text without sentence breaks. Inside a block, long runs of characters the splitter cannot break at
(no space, no , . ; 。 ？ ！: base64 images, hashes) are cut into pieces of chunk_size characters
first, because the splitter would otherwise tokenise them one character at a time."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from assistant.config import ChunkingSettings
from assistant.types import Chunk, Document

if TYPE_CHECKING:
    from llama_index.core.node_parser import SentenceSplitter

log = logging.getLogger(__name__)

BLOCK_CHARS = 20_000

# Where a block may end, best first. Each pattern's leading greedy `.*` makes match() find the
# *last* break in the window by backtracking from its end, in time linear in the distance.
_BLOCK_BREAKS = tuple(re.compile(r"(?s:.*)" + pattern) for pattern in (
    r"\n[ \t]*\n",                 # paragraph break
    r"\n",                         # line break
    r"[.!?][\"'\u201d\u2019)\]]*\s",  # sentence end
    r"\s",                         # any space
))

# What the splitter may raise on one document: TimeoutError from NLTK's regex time limit,
# ValueError("Single token exceeded chunk size") from its merge step, RecursionError from its
# recursive split. Any of them means this document cannot be chunked, not that the run must stop.
SPLITTER_FAILURES: tuple[type[Exception], ...] = (TimeoutError, ValueError, RecursionError)

Splitter = Callable[[str], list[str]]


def split_blocks(text: str, max_chars: int = BLOCK_CHARS) -> list[str]:
    """Consecutive pieces of `text`, each at most `max_chars` long, that join back into `text`."""
    blocks: list[str] = []
    start = 0
    while len(text) - start > max_chars:
        end = _block_end(text, start, max_chars)
        blocks.append(text[start:end])
        start = end
    if start < len(text):
        blocks.append(text[start:])
    return blocks


def _block_end(text: str, start: int, max_chars: int) -> int:
    """Where the block starting at `start` ends: after the best break in its second half, else a hard cut."""
    low, high = start + max_chars // 2, start + max_chars
    for pattern in _BLOCK_BREAKS:
        found = pattern.match(text, low, high)
        if found:
            return found.end()
    return high


# Characters SentenceSplitter can split at below the sentence level (its secondary regex and " ").
_UNBREAKABLE = r"[^\s,.;\u3002\uff1f\uff01]"


def cut_long_runs(text: str, max_run: int) -> list[str]:
    """`text` in pieces that join back into it, with every run of more than `max_run` characters the
    splitter cannot break at cut into pieces of `max_run` characters."""
    pieces: list[str] = []
    start = 0
    for run in re.finditer(_UNBREAKABLE + "{%d,}" % (max_run + 1), text):
        if run.start() > start:
            pieces.append(text[start:run.start()])
        pieces.extend(text[i:min(i + max_run, run.end())] for i in range(run.start(), run.end(), max_run))
        start = run.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _sentences_with_bounded_runs(sentences: Splitter, max_run: int) -> Splitter:
    def split(text: str) -> list[str]:
        return [piece for sentence in sentences(text) for piece in cut_long_runs(sentence, max_run)]

    return split


def make_splitter(settings: ChunkingSettings) -> SentenceSplitter:
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer

    # chunk_size characters of ASCII are at most chunk_size tokens, so a cut run fits in a chunk.
    sentences = _sentences_with_bounded_runs(split_by_sentence_tokenizer(), settings.chunk_size)
    return SentenceSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
                            chunking_tokenizer_fn=sentences)


def chunk_id(source: str, edition: str, index: int) -> str:
    """'<source>#<edition>:<index>', the edition being the document's content hash: stable across
    runs, and a new edition of a document never reuses an id of the old one, so the indexer can
    write the new edition beside the old one and switch readers over when it is complete."""
    return f"{source}#{edition[:12]}:{index}"


def chunk_document(document: Document, splitter: SentenceSplitter) -> list[Chunk]:
    """The document's chunks in order; the index runs on across blocks, so ids stay unique."""
    pieces = [piece.strip() for block in split_blocks(document.text) for piece in splitter.split_text(block)]
    return [
        Chunk(
            chunk_id=chunk_id(document.source, document.content_hash, i),
            source=document.source,
            title=document.title,
            date=document.date,
            index=i,
            text=piece,
        )
        for i, piece in enumerate(piece for piece in pieces if piece)
    ]


def chunk_documents(documents: Iterable[Document], settings: ChunkingSettings) -> list[Chunk]:
    """Chunks of every document; a splitter failure propagates (see chunk_documents_safely)."""
    splitter = make_splitter(settings)
    return [chunk for document in documents for chunk in chunk_document(document, splitter)]


def chunk_documents_safely(documents: Iterable[Document], settings: ChunkingSettings
                           ) -> tuple[list[Chunk], list[tuple[str, str]]]:
    """(chunks, skipped): a document the splitter fails on is left out and reported as
    (source, one-line reason); the others are chunked as usual."""
    splitter = make_splitter(settings)
    chunks: list[Chunk] = []
    skipped: list[tuple[str, str]] = []
    for document in documents:
        try:
            chunks.extend(chunk_document(document, splitter))
        except SPLITTER_FAILURES as exc:
            reason = f"could not be split into chunks ({type(exc).__name__}: {' '.join(str(exc).split())[:160]})"
            log.warning("skipped %s: %s", document.source, reason)
            skipped.append((document.source, reason))
    return chunks, skipped
