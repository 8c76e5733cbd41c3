"""Odd corpus files: links out of the folder, link loops, broken links, pipes and sockets, huge
single-line files, files a reader chokes on. Each is skipped with a reason (or read, when it is
fine) and never stops, hangs or slows down the rest of the corpus. Real files in tmp_path."""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import ChunkingSettings, CorpusSettings
from assistant.ingest import chunk_documents, load_corpus
from assistant.ingest.chunking import (
    BLOCK_CHARS,
    chunk_documents_safely,
    chunk_id,
    cut_long_runs,
    split_blocks,
)
from assistant.ingest.formats import FileUnreadable, read_text
from assistant.ingest.loaders import load_files, make_document
from assistant.types import Chunk, Document

SETTINGS = CorpusSettings()
CHUNKING = ChunkingSettings()
_VOCAB = ("harbour", "lantern", "copper", "meadow", "orbit", "velvet", "granite", "signal", "willow", "ember")


def words(count: int, seed: int = 0) -> str:
    """Space-separated words: no punctuation, no newlines (the shape that defeats sentence splitting)."""
    rng = random.Random(seed)
    return " ".join(rng.choice(_VOCAB) for _ in range(count))


def sentences(count: int, seed: int = 0) -> str:
    """Short sentences on one line: full stops but no line breaks (what made punkt hit NLTK's regex time limit)."""
    rng = random.Random(seed)
    return " ".join(" ".join(rng.choice(_VOCAB) for _ in range(rng.randint(4, 12))).capitalize() + "."
                    for _ in range(count))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "notes").mkdir(parents=True)
    (root / "good.txt").write_text("The lighthouse keeper logged every passing ship in a leather book.")
    (root / "notes" / "tides.md").write_text("# Tides\n\nSpring tides come twice a month, at new and full moon.")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "private.txt").write_text("Private diary entry that must not be indexed by accident.")
    return folder


def sources(root: Path, settings: CorpusSettings = SETTINGS) -> tuple[list[str], dict[str, str]]:
    report = load_corpus(root, settings)
    return [d.source for d in report.documents], dict(report.skipped)


# -- symbolic links ---------------------------------------------------------------------------

def test_link_to_a_file_outside_the_corpus_is_skipped_naming_link_and_target(
        corpus: Path, outside: Path, caplog: pytest.LogCaptureFixture) -> None:
    (corpus / "diary.txt").symlink_to(outside / "private.txt")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    with caplog.at_level(logging.WARNING):
        found, skipped = sources(corpus)
    assert found == ["good.txt", "notes/tides.md"]
    assert set(skipped) == {"diary.txt", "passwd.txt"}
    target = str((outside / "private.txt").resolve())
    assert target in skipped["diary.txt"] and "outside the corpus folder" in skipped["diary.txt"]
    assert "FOLLOW_EXTERNAL_SYMLINKS" in skipped["diary.txt"]
    assert "/etc/passwd" in skipped["passwd.txt"]
    assert "diary.txt" in caplog.text and target in caplog.text


def test_link_to_a_folder_outside_is_skipped_unless_following_is_allowed(corpus: Path, outside: Path) -> None:
    (corpus / "shared").symlink_to(outside, target_is_directory=True)
    found, skipped = sources(corpus)
    assert "shared/private.txt" not in found and str(outside.resolve()) in skipped["shared"]

    found, skipped = sources(corpus, CorpusSettings(follow_external_symlinks=True))
    assert found == ["good.txt", "notes/tides.md", "shared/private.txt"] and skipped == {}


@pytest.mark.timeout(60)
def test_link_loops_are_reported_and_the_walk_ends(corpus: Path) -> None:
    (corpus / "notes" / "up").symlink_to("..", target_is_directory=True)    # folder link to an ancestor
    (corpus / "notes" / "here").symlink_to(".", target_is_directory=True)   # folder link to itself
    (corpus / "self.txt").symlink_to("self.txt")                          # a link to itself
    (corpus / "ping").symlink_to("pong")                                  # two links pointing at each other
    (corpus / "pong").symlink_to("ping")
    found, skipped = sources(corpus)
    assert found == ["good.txt", "notes/tides.md"]  # each document once, no notes/up/notes/up/...
    assert set(skipped) == {"notes/up", "notes/here", "self.txt", "ping", "pong"}
    assert all("loop" in reason for reason in skipped.values())


def test_broken_links_are_reported(corpus: Path) -> None:
    (corpus / "moved.txt").symlink_to(corpus / "gone.txt")
    (corpus / "old-folder").symlink_to(corpus / "nowhere", target_is_directory=True)
    (corpus / "tool.py").symlink_to(corpus / "missing.py")  # not a document type: ignored like any .py
    found, skipped = sources(corpus)
    assert found == ["good.txt", "notes/tides.md"]
    assert set(skipped) == {"moved.txt", "old-folder"}
    assert "broken symbolic link" in skipped["moved.txt"] and "gone.txt" in skipped["moved.txt"]


def test_links_inside_the_corpus_read_each_file_once(corpus: Path) -> None:
    (corpus / "latest.txt").symlink_to("good.txt")
    (corpus / "notes-again").symlink_to("notes", target_is_directory=True)
    (corpus / ".archive").mkdir()
    (corpus / ".archive" / "1999.txt").write_text("The old harbour wall was rebuilt in 1999.")
    (corpus / "history.txt").symlink_to(".archive/1999.txt")  # hidden target: read under the link's name
    found, skipped = sources(corpus)
    assert found == ["good.txt", "history.txt", "notes/tides.md"]
    assert "'good.txt'" in skipped["latest.txt"] and "same folder as 'notes'" in skipped["notes-again"]


# -- pipes, sockets, folders named like documents ---------------------------------------------

@pytest.mark.timeout(60)
def test_fifo_is_skipped_without_being_opened(corpus: Path) -> None:
    os.mkfifo(corpus / "feed.txt")
    (corpus / "feed-link.md").symlink_to("feed.txt")
    found, skipped = sources(corpus)
    assert found == ["good.txt", "notes/tides.md"]
    assert "FIFO" in skipped["feed.txt"] and "FIFO" in skipped["feed-link.md"]
    # Uploads and direct reads go through the same guard (opening a FIFO for reading would block).
    report = load_files([corpus / "feed.txt", corpus / "good.txt"], SETTINGS, prefix="uploads/")
    assert [d.source for d in report.documents] == ["uploads/good.txt"]
    assert "FIFO" in dict(report.skipped)["uploads/feed.txt"]
    with pytest.raises(FileUnreadable, match="FIFO"):
        read_text(corpus / "feed.txt")


def test_socket_and_document_named_folder_are_skipped(corpus: Path) -> None:
    (corpus / "chapter.md").mkdir()  # a folder with a document's name is walked, not read
    (corpus / "chapter.md" / "one.txt").write_text("Chapter one begins at the quay.")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(corpus / "live.txt"))
        found, skipped = sources(corpus)
    assert found == ["chapter.md/one.txt", "good.txt", "notes/tides.md"]
    assert "socket" in skipped["live.txt"]


# -- ordinary things that must stay ordinary --------------------------------------------------

def test_uploads_subfolder_is_an_ordinary_folder(corpus: Path) -> None:
    (corpus / "uploads").mkdir()
    (corpus / "uploads" / "minutes.txt").write_text("Minutes of the harbour board meeting.")
    found, skipped = sources(corpus)
    assert found == ["good.txt", "notes/tides.md", "uploads/minutes.txt"] and skipped == {}


def test_tilde_in_corpus_path_is_expanded(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(corpus.parent))
    found, _ = sources(Path("~") / corpus.name)
    assert found == ["good.txt", "notes/tides.md"]
    report = load_files([Path("~/corpus/good.txt")], SETTINGS)
    assert [d.source for d in report.documents] == ["good.txt"]


def test_file_a_reader_rejects_is_skipped_and_the_rest_load(corpus: Path) -> None:
    (corpus / "broken.html").write_text("<html><body><![bogus]>Text</body></html>")  # html.parser refuses it
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 9 0 R >>\n%%EOF")
    found, skipped = sources(corpus)
    assert found == ["good.txt", "notes/tides.md"]
    assert "not parseable HTML" in skipped["broken.html"]
    assert "PDF" in skipped["scan.pdf"]
    assert all("\n" not in reason for reason in skipped.values())


# -- chunking bounded text --------------------------------------------------------------------

def test_blocks_are_bounded_lossless_and_cut_at_the_best_break() -> None:
    paragraphs = "\n\n".join(words(900, seed=i) + "." for i in range(12))   # ~6-7k chars each
    for text in (paragraphs, words(20_000), "x" * 50_001, ""):
        blocks = split_blocks(text, 10_000)
        assert "".join(blocks) == text
        assert all(0 < len(block) <= 10_000 for block in blocks)
    assert all(block.endswith("\n\n") for block in split_blocks(paragraphs, 10_000)[:-1])  # paragraph breaks first
    assert all(block.endswith(" ") for block in split_blocks(words(20_000), 10_000)[:-1])  # else a space
    assert [len(block) for block in split_blocks("x" * 25_000, 10_000)] == [10_000, 10_000, 5_000]  # else a hard cut


def test_unbreakable_runs_are_cut_into_pieces_that_join_back() -> None:
    text = "See " + "Qm9hdA" * 100 + " for the picture, then 港口。"
    pieces = cut_long_runs(text, 200)
    assert "".join(pieces) == text
    assert pieces == ["See ", "Qm9hdA" * 33 + "Qm", "9hdA" + "Qm9hdA" * 32 + "Qm9h", "dA" + "Qm9hdA" * 33,
                      " for the picture, then 港口。"]
    assert cut_long_runs("Short sentence, nothing to cut.", 200) == ["Short sentence, nothing to cut."]


def assert_well_formed(chunks: list[Chunk], document: Document) -> None:
    assert [c.index for c in chunks] == list(range(len(chunks)))  # indices run on across blocks
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert [c.chunk_id for c in chunks] == [chunk_id(document.source, document.content_hash, c.index) for c in chunks]


@pytest.mark.parametrize("text", [words(120_000), sentences(15_000)], ids=["words", "sentences"])
def test_single_line_text_far_over_one_block_chunks_with_stable_ids(text: str) -> None:
    document = make_document("line.txt", text)  # ~0.8 MB on one line
    chunks = chunk_documents([document], CHUNKING)
    assert len(document.text) > 30 * BLOCK_CHARS and len(chunks) > 100
    assert_well_formed(chunks, document)
    assert all(c.text in document.text for c in chunks)
    assert [c.chunk_id for c in chunk_documents([document], CHUNKING)] == [c.chunk_id for c in chunks]


def test_base64_blob_chunks_into_bounded_pieces() -> None:
    rng = random.Random(7)
    blob = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(200_000))
    document = make_document("image.md", "An embedded picture: " + blob)
    chunks = chunk_documents([document], CHUNKING)
    assert_well_formed(chunks, document)
    assert max(len(c.text) for c in chunks) <= CHUNKING.chunk_size + len("An embedded picture: ")
    assert "".join(c.text for c in chunks[1:]) in blob


@pytest.fixture
def nltk_time_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """NLTK's own regex time limit set so low that punkt gives up on anything it is handed."""
    import nltk.redos
    from llama_index.core.utils import globals_helper

    assert globals_helper.punkt_tokenizer is not None  # loaded first: the limit must hit splitting, not loading
    monkeypatch.setattr(nltk.redos, "DEFAULT_TIMEOUT", 1e-9)
    yield


def test_a_document_the_splitter_fails_on_is_skipped_and_the_rest_chunked(nltk_time_limit: None) -> None:
    short = make_document("short.txt", "The ferry leaves at noon.")  # fits one chunk: never reaches punkt
    long = make_document("long.txt", " ".join(["The ferry leaves at noon. It returns at dusk."] * 60))
    with pytest.raises(TimeoutError):
        chunk_documents([short, long], CHUNKING)
    chunks, skipped = chunk_documents_safely([short, long], CHUNKING)
    assert [c.source for c in chunks] == ["short.txt"]
    assert [source for source, _ in skipped] == ["long.txt"]
    assert "TimeoutError" in skipped[0][1] and "\n" not in skipped[0][1]


@pytest.mark.slow
def test_file_at_the_size_limit_loads_and_chunks(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    limit = int(SETTINGS.max_file_mb * 1024 * 1024)
    line = sentences(30_000) + " "
    (root / "huge.txt").write_text((line * (limit // len(line) + 1))[:limit])  # one 50 MB line of sentences
    assert (root / "huge.txt").stat().st_size == limit
    started = time.perf_counter()
    report = load_corpus(root, SETTINGS)
    loaded = time.perf_counter()
    chunks, skipped = chunk_documents_safely(report.documents, CHUNKING)
    done = time.perf_counter()
    print(f"\n{SETTINGS.max_file_mb:g} MB single-line file: load {loaded - started:.1f} s, "
          f"chunk {done - loaded:.1f} s, {len(chunks)} chunks")
    assert report.skipped == [] and skipped == []  # before blocks, punkt raised TimeoutError here
    assert_well_formed(chunks, report.documents[0])
    assert len(chunks) > 10_000
