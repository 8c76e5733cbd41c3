"""The Documents panel's pure parts: rows built from uploads and the manifest, and their HTML. No browser, no gradio."""

from __future__ import annotations

import re

from assistant.index.manifest import DocumentEntry
from assistant.ingest.uploads import UploadedDocument, UploadedFile, describe_uploads
from ui import render_panels

EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


def row(name: str = "notes.md", **kw) -> UploadedDocument:
    return UploadedDocument(name=name, size=kw.pop("size", 2048), modified=kw.pop("modified", "2025-03-04T05:06:07+00:00"),
                       **kw)


def no_raw_markup(html: str) -> None:
    assert "<script" not in html and "<img" not in html and 'onerror="' not in html


def test_rows_join_uploads_with_their_chunks_summing_records_of_a_records_file() -> None:
    files = [UploadedFile("a.md", 10, "2025-01-01T00:00:00+00:00"),
             UploadedFile("people.jsonl", 20, "2025-01-02T00:00:00+00:00"),
             UploadedFile("bad.pdf", 30, "2025-01-03T00:00:00+00:00", quarantined="is not a readable PDF")]
    catalogue = {
        "upload:a.md": DocumentEntry(hash="h1", chunks=3, origin="upload"),
        "upload:people.jsonl#1": DocumentEntry(hash="h2", chunks=2, origin="upload"),
        "upload:people.jsonl#2": DocumentEntry(hash="h3", chunks=4, origin="upload"),
        "a.md": DocumentEntry(hash="h4", chunks=99),  # a corpus file of the same name is not the upload
    }
    rows = describe_uploads(files, catalogue)
    assert [(r.name, r.chunks, r.quarantined) for r in rows] == [
        ("a.md", 3, None), ("people.jsonl", 6, None), ("bad.pdf", 0, "is not a readable PDF")]
    assert rows[1].size == 20 and rows[1].modified == "2025-01-02T00:00:00+00:00"


def test_each_row_shows_name_size_date_and_chunks() -> None:
    html = render_panels.render_documents([row(chunks=1), row("big.pdf", size=3 * 1024 * 1024, chunks=12)], "docs")
    assert html.count('class="doc-row"') == 2
    assert '<span class="doc-name">notes.md</span>' in html
    assert "2 KB" in html and "3.0 MB" in html and "2025-03-04 05:06 UTC" in html
    assert "1 chunk<" in html and "12 chunks" in html
    assert '<span class="docs-collection">docs</span>' in html
    assert "Deleting" not in html and "\n" not in html


def test_names_reasons_and_collection_are_escaped() -> None:
    html = render_panels.render_documents([row(EVIL + ".md", quarantined=EVIL)], "c<b>", deleting=EVIL + ".md",
                                   progress=EVIL)
    no_raw_markup(html)
    assert "&lt;script&gt;" in html and "c&lt;b&gt;" in html
    assert 'data-name="&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;' in html
    assert "quarantined: &lt;script&gt;" in html


def test_quarantined_row_has_a_badge_with_its_reason() -> None:
    html = render_panels.render_documents([row("ok.md"), row("bad.pdf", quarantined="is not a readable PDF")], "docs")
    assert html.count("doc-badge quarantined") == 1
    assert 'title="is not a readable PDF">quarantined: is not a readable PDF</span>' in html


def test_the_row_being_deleted_says_so_with_the_latest_step() -> None:
    html = render_panels.render_documents([row("a.md"), row("b.md")], "docs", deleting="b.md", progress="removing 3 chunks")
    rows = re.findall(r'<li class="([^"]+)" data-name="([^"]+)">', html)
    assert rows == [("doc-row", "a.md"), ("doc-row deleting", "b.md")]
    assert html.count("Deleting…") == 1 and html.index("Deleting…") > html.index('data-name="b.md"')
    assert "removing 3 chunks" in html


def test_progress_is_shown_only_while_deleting() -> None:
    assert "docs-progress" not in render_panels.render_documents([row()], "docs", progress="step")


def test_the_row_awaiting_confirmation_is_marked() -> None:
    html = render_panels.render_documents([row("a.md"), row("b.md")], "docs", confirming="a.md")
    assert 'class="doc-row confirming" data-name="a.md"' in html and "Confirm delete?" in html
    assert "Deleting" not in html


def test_an_empty_collection_says_how_to_add_documents() -> None:
    html = render_panels.render_documents([], "docs")
    assert "No uploaded documents in this collection yet" in html and "doc-row" not in html


def test_sizes_and_times_read_naturally() -> None:
    assert [render_panels.format_size(n) for n in (0, 532, 1024, 12 * 1024 + 1, 5 * 1024 * 1024 // 2)] == [
        "0 B", "532 B", "1 KB", "12 KB", "2.5 MB"]
    assert render_panels.format_modified("2025-03-04T05:06:07+00:00") == "2025-03-04 05:06 UTC"
    assert render_panels.format_modified("2025-03-04T07:06:07+02:00") == "2025-03-04 05:06 UTC"
    assert render_panels.format_modified("yesterday") == "yesterday"


def test_an_upload_to_another_collection_does_not_promise_answers_here() -> None:
    here = render_panels.render_upload_result(["a.md"], [])
    elsewhere = render_panels.render_upload_result(["a.md"], [], askable=False)
    assert "You can ask about them now." in here
    assert "You can ask about them now." not in elsewhere and "another collection" in elsewhere
