"""Pure logic of the web UI: HTML rendering, upload checks, filters, bind safety. No browser, no gradio."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from assistant.arguments import make_filter
from assistant.errors import InvalidArgumentError, UploadError
from assistant.index.registry import publish_staged
from assistant.ingest.uploads import stage_upload
from assistant.types import Answer, Citation
from ui import render, render_panels
from ui.errors import UIConfigError
from ui.server import check_bind, is_loopback
from ui.uploads import accept_uploads, check_upload, safe_name, upload_dir

EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
PASSAGE = "NATO agreed on a plan. The mission will be based in Wiesbaden, Germany. It starts in 2024."


def cite(n: int = 1, quote: str = "The mission will be based in Wiesbaden, Germany.", passage: str = PASSAGE,
         *, start: int | None = None, end: int | None = None, chunk: str = "a.txt#0", **kw) -> Citation:
    if start is None:
        found = passage.find(quote)
        start, end = (found, found + len(quote)) if found >= 0 else (-1, -1)
    return Citation(n=n, source=kw.pop("source", "a.txt"), title=kw.pop("title", "Plan"), date=kw.pop("date", dt.date(2024, 6, 26)),
                    quote=quote, passage=passage, chunk_id=chunk, start=start, end=end, **kw)


def answer(text: str, citations: tuple[Citation, ...] = (), **kw) -> Answer:
    return Answer(question=kw.pop("question", "Where?"), standalone_question=kw.pop("standalone", "Where?"),
                  text=text, citations=citations, **kw)


def no_raw_markup(html: str) -> None:
    assert "<script" not in html and "<img" not in html and "onerror=\"" not in html


# -- escaping -------------------------------------------------------------------------------------
def test_esc_escapes_markup_and_never_emits_newlines() -> None:
    out = render.esc(EVIL + "\n\nnext\r\nline")
    no_raw_markup(out)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in out
    assert "\n" not in out and out.count("<br>") == 3


def test_question_is_shown_literally() -> None:
    out = render.render_question(EVIL)
    no_raw_markup(out)
    assert out.startswith('<div class="q">') and "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in out


def test_streaming_text_is_escaped_and_badged() -> None:
    out = render.render_streaming("Partial <b>bold</b> [1]")
    assert "&lt;b&gt;bold&lt;/b&gt;" in out and '<sup class="cite cite-1"' in out
    assert "Searching the documents" in render.render_streaming("")


# -- answers --------------------------------------------------------------------------------------
def test_answer_marks_citations_and_highlights_the_cited_span() -> None:
    out = render.render_answer(answer("The mission will be based in Wiesbaden, Germany. [1]", (cite(),)))
    assert 'class="ans answered"' in out
    assert '<sup class="cite cite-1" title="Source 1">[1]</sup>' in out
    assert '<details class="src src-1">' in out
    assert '<mark class="span">The mission will be based in Wiesbaden, Germany.</mark>' in out
    assert "2024-06-26" in out and "a.txt" in out and "Plan" in out
    assert "\n" not in out


def test_marker_without_a_citation_is_left_as_text() -> None:
    out = render.render_answer(answer("Claim [1] and [7].", (cite(),)))
    assert "cite-1" in out and "cite-7" not in out and "[7]" in out


def test_citations_sharing_a_number_form_one_source_with_all_spans_marked() -> None:
    first = cite(1, "NATO agreed on a plan.")
    second = cite(1, "It starts in 2024.")
    other = cite(2, "Other words.", "Other words. More.", chunk="b.txt#0", source="b.txt", title="B")
    out = render.render_answer(answer("NATO agreed on a plan. [1] It starts in 2024. [1] Other words. [2]", (first, second, other)))
    assert out.count("<details") == 2 and "Sources (2)" in out
    assert out.count('<mark class="span">') == 3


def test_untrusted_document_fields_are_escaped_everywhere() -> None:
    bad = cite(1, EVIL, "Before. " + EVIL + " After.", source=f"uploads/{EVIL}.md", title=EVIL)
    out = render.render_answer(answer(EVIL + " [1]", (bad,), notes=(EVIL,), unsupported=(EVIL,)))
    no_raw_markup(out)
    assert out.count("&lt;script&gt;window.__pwned=1&lt;/script&gt;") >= 4


def test_abstention_looks_different_and_lists_no_sources() -> None:
    out = render.render_answer(answer("The documents don't answer this question.", abstained=True))
    assert 'class="ans abstain"' in out and "Not found in the documents" in out
    assert "<details" not in out and "answered" not in out
    noted = render.render_answer(answer("No answer.", abstained=True, notes=("The model failed; <fallback>.",)))
    assert '<ul class="notes"><li>The model failed; &lt;fallback&gt;.</li></ul>' in noted


def test_unsupported_sentences_are_flagged_inline_or_listed() -> None:
    text = "Wiesbaden hosts it. [1] The moon is cheese. [1]"
    out = render.render_answer(answer(text, (cite(),), unsupported=("The moon is cheese.", "Not in the text."), answerer="openai"))
    assert re.search(r'<span class="unsupported"[^>]*>The moon is cheese\.<span class="flag">unsupported</span></span>', out)
    assert "2 generated sentences are not supported" in out and "<li>Not in the text.</li>" in out
    assert "openai" in out


def test_notes_and_rewritten_query_are_shown() -> None:
    out = render.render_answer(answer("x [1]", (cite(),), notes=("Sources differ: 30 vs 32 members.",),
                                      question="Where is it?", standalone="Where is it? (NSATU)"))
    assert "Sources differ: 30 vs 32 members." in out
    # the standalone question is search input, not prose: folded away behind a toggle, never in the answer text
    assert ('<details class="rewritten"><summary>How it was searched</summary>' in out
            and "“Where is it? (NSATU)”" in out and "NSATU" not in out.split("<details")[0])


# -- highlighting -----------------------------------------------------------------------------------
def test_highlight_uses_offsets_then_falls_back_to_the_quote() -> None:
    html, lost = render.highlight_passage("abc def ghi", [(4, 7, "def")])
    assert html == 'abc <mark class="span">def</mark> ghi' and lost == []
    html, lost = render.highlight_passage("abc def ghi", [(-1, -1, "ghi")])
    assert html == 'abc def <mark class="span">ghi</mark>' and lost == []
    html, lost = render.highlight_passage("abc <def>", [(-1, -1, "not there")])
    assert html == "abc &lt;def&gt;" and lost == ["not there"]


def test_overlapping_spans_merge_into_one_mark() -> None:
    html, _ = render.highlight_passage("0123456789", [(1, 5, ""), (3, 8, ""), (9, 10, "")])
    assert html == '0<mark class="span">1234567</mark>8<mark class="span">9</mark>'


def test_non_verbatim_quote_is_reported_with_the_source() -> None:
    out = render.render_sources((cite(1, "Paraphrased claim", start=-1, end=-1),))
    assert "not found verbatim" in out and "<mark" not in out


def test_generative_support_score_is_shown() -> None:
    assert "support 75%" in render.render_sources((cite(1, support=0.75),))


# -- panels ------------------------------------------------------------------------------------------
def test_corpus_panel_lists_facts_and_escaped_documents() -> None:
    info = {"documents": 2, "chunks": 9, "embedding_model": "all-MiniLM-L6-v2", "store": "local folder /x/chroma", "collection": "c1"}
    out = render_panels.render_corpus(info, [("uploads/" + EVIL + ".md", EVIL, None), ("a.txt", "Plan", dt.date(2024, 1, 2))])
    no_raw_markup(out)
    for fact in ("Documents", ">2<", ">9<", "all-MiniLM-L6-v2", "local folder /x/chroma", "c1", "2024-01-02", "undated"):
        assert fact in out


def test_upload_result_names_refused_files_and_says_nothing_was_lost() -> None:
    out = render_panels.render_upload_result([], [(EVIL + ".exe", ".exe files are not supported")])
    no_raw_markup(out)
    assert "notice-error" in out and "already indexed are unchanged" in out
    ok = render_panels.render_upload_result(["a.md"], [], "Now 6 documents")
    assert "Indexed 1 file(s): a.md" in ok and "Now 6 documents" in ok


def test_notice_and_progress() -> None:
    assert render.render_notice("") == ""
    assert 'role="alert"' in render.render_notice("bad <x>") and "bad &lt;x&gt;" in render.render_notice("bad <x>")
    assert "notice-info" in render.render_notice("hi", "info")
    assert 'aria-valuenow="50"' in render_panels.render_progress("Indexing a.md (2 of 4)…", 2, 4)


# -- uploads -------------------------------------------------------------------------------------------
def test_upload_checks_type_size_emptiness_and_readability(tmp_path: Path) -> None:
    good = tmp_path / "ok.md"
    good.write_text("hello")
    check_upload(good, max_mb=1)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(UploadError, match=r"\.exe files are not supported; upload \.txt, \.md, \.html, \.pdf"):
        check_upload(exe, max_mb=1)
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 300_000)
    with pytest.raises(UploadError, match=r"over the 0.1 MB upload limit"):
        check_upload(big, max_mb=0.1)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(UploadError, match="empty"):
        check_upload(empty, max_mb=1)
    with pytest.raises(UploadError, match="could not be read"):
        check_upload(tmp_path / "missing.txt", max_mb=1)


def test_safe_name_keeps_files_inside_the_uploads_folder() -> None:
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\win.md") == "win.md"
    assert safe_name(".hidden.md") == "hidden.md"
    assert safe_name("a\x00b.md") == "ab.md"  # control characters go
    assert safe_name("<b>x</b>.md") == "b>.md"  # the last path component, markup kept (escaped on display)
    assert safe_name("") == "upload"


def test_accepted_uploads_are_checked_then_stored_privately(tmp_path: Path) -> None:
    from conftest import make_settings

    settings = make_settings(tmp_path / "store")
    good, bad = tmp_path / "note.md", tmp_path / "x.xlsx"
    good.write_text("The zebra code is 42.")
    bad.write_text("nope")
    batch = accept_uploads([good, bad], settings)
    assert batch.accepted == [(good, "note.md")] and batch.refused[0][0] == "x.xlsx"
    final = publish_staged(settings, stage_upload(settings, good, "../../note.md"))
    assert final == upload_dir(settings) / "note.md" and final.read_text() == "The zebra code is 42."
    assert upload_dir(settings) == tmp_path / "store" / "uploads" / settings.store.collection
    assert final.stat().st_mode & 0o777 == 0o600  # uploads may be private: only the owner reads them
    assert [p.name for p in upload_dir(settings).iterdir() if p.is_file()] == ["note.md"]
    assert not any((upload_dir(settings) / ".incoming").iterdir())  # no staging leftovers


# -- filters -------------------------------------------------------------------------------------------
def test_the_page_filters_through_the_library_builder_with_its_field_names() -> None:
    labels = ("the 'From' date", "the 'To' date")
    assert make_filter([], "", " ", labels=labels) is None
    found = make_filter(["a.txt"], "2024-01-01", "2024-12-31", labels=labels)
    assert found is not None and found.sources == ("a.txt",) and found.date_to == dt.date(2024, 12, 31)
    with pytest.raises(InvalidArgumentError, match="the 'From' date '2024-13-01' is not a date; pass YYYY-MM-DD"):
        make_filter([], "2024-13-01", "", labels=labels)
    with pytest.raises(InvalidArgumentError, match="the 'From' date 2024-06-01 is after the 'To' date 2024-01-01; make"):
        make_filter([], "2024-06-01", "2024-01-01", labels=labels)


# -- bind safety ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    assert check_bind(host, 7860, None, None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.5", "example.org"])
def test_beyond_loopback_without_credentials_is_refused(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(UIConfigError, match="refusing to serve .* without credentials: ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD are not set"):
        check_bind(host, 7860, None, None)
    with pytest.raises(UIConfigError, match="ASSISTANT_UI_PASSWORD is not set"):
        check_bind(host, 7860, "alice", None)


def test_credentials_allow_any_host_and_half_credentials_are_refused_on_loopback() -> None:
    assert check_bind("0.0.0.0", 7860, "alice", "s3cret") == ("alice", "s3cret")
    assert check_bind("127.0.0.1", 7860, "alice", "s3cret") == ("alice", "s3cret")
    with pytest.raises(UIConfigError, match="ASSISTANT_UI_USER is not set"):
        check_bind("127.0.0.1", 7860, None, "s3cret")


def test_short_answer_is_shown_first_in_bold_and_escaped() -> None:
    out = render.render_answer(answer("The mission will be based in Wiesbaden, Germany. [1]", (cite(),), short_answer="Wiesbaden <b>"))
    assert out.index('<div class="short-answer"><strong>Wiesbaden &lt;b&gt;</strong></div>') < out.index('class="ans-text"')
    assert "short-answer" not in render.render_answer(answer("Because the bolts corroded. [1]", (cite(),)))
