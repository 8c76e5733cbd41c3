"""Zip bomb benchmark: what a tiny .docx that inflates to 1 GB costs the loader.

In a temporary folder: bomb.docx (a real python-docx document whose word/document.xml is rewritten as
1 GB of empty paragraphs, streamed, so this script never holds it) and two good .md files. Then
`load_folder` with the default CorpusSettings, twice: once as built (the central directory declares
the 1 GB), once with the declared size forged down to 1 KB (the inflate-and-count check must catch
it). Prints the file size, the load time, the process's peak RSS (ru_maxrss) before and after each
load, and the skip reason.

    python evals/bench_zipbomb.py            # about 10 s, most of it compressing the bomb
    python evals/bench_zipbomb.py --gb 2
"""

from __future__ import annotations

import argparse
import logging
import resource
import struct
import tempfile
import time
import zipfile
from pathlib import Path

from assistant.config import CorpusSettings
from assistant.ingest.loaders import load_folder

_MB = 1024 * 1024
_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_TAIL = b"</w:body></w:document>"
_PART = "word/document.xml"


def _template(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("A harmless paragraph.")
    document.save(str(path))


def build_bomb(folder: Path, inflated: int) -> Path:
    """A real .docx whose document.xml inflates to `inflated` bytes (compress level 1: fast to build)."""
    template, bomb = folder / "template.docx", folder / "bomb.docx"
    _template(template)
    chunk = b"<w:p/>" * (_MB // 6)
    with zipfile.ZipFile(template) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new:
        for info in old.infolist():
            if info.filename != _PART:
                new.writestr(info, old.read(info.filename))
                continue
            with new.open(_PART, "w", force_zip64=True) as out:
                out.write(_HEAD)
                left = inflated - len(_HEAD) - len(_TAIL)
                while left > 0:
                    left -= out.write(chunk[:left])
                out.write(_TAIL)
    template.unlink()
    return bomb


def forge_declared_size(path: Path, declared: int) -> None:
    """Make the central directory claim `declared` inflated bytes for document.xml (what zipfile believes)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        at = archive.start_dir
        for info in archive.infolist():
            if info.filename == _PART:
                break
            at += 46 + sum(struct.unpack_from("<3H", data, at + 28))
    size_at = at + 24
    if struct.unpack_from("<L", data, size_at)[0] == 0xFFFFFFFF:  # zip64: the size is in the extra field
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        size_at = at + 46 + name_len + 4  # zip64 extra: tag, length, then the inflated size first
        struct.pack_into("<Q", data, size_at, declared)
    else:
        struct.pack_into("<L", data, size_at, declared)
    path.write_bytes(bytes(data))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def measure(folder: Path, label: str) -> None:
    before = peak_rss_mb()
    started = time.perf_counter()
    report = load_folder(folder, CorpusSettings())
    seconds = time.perf_counter() - started
    print(f"{label}: loaded {sorted(d.source for d in report.documents)} in {seconds:.2f} s; "
          f"peak RSS {before:.0f} MB before, {peak_rss_mb():.0f} MB after")
    for source, reason in report.skipped:
        print(f"  skipped {source}: {reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="inflated size of document.xml, in GiB")
    args = parser.parse_args()
    logging.getLogger("assistant.ingest").setLevel(logging.ERROR)  # skips are printed below, once
    with tempfile.TemporaryDirectory(prefix="bench-zipbomb-") as name:
        folder = Path(name)
        started = time.perf_counter()
        bomb = build_bomb(folder, int(args.gb * 1024 * _MB))
        print(f"built bomb.docx: {bomb.stat().st_size / _MB:.2f} MB on disk, {args.gb:g} GiB inflated "
              f"({time.perf_counter() - started:.1f} s)")
        for n, topic in enumerate(("tides", "ferries"), start=1):
            (folder / f"note{n}.md").write_text(f"# {topic.title()}\n\nA short note about {topic}.\n", encoding="utf-8")
        measure(folder, "as built")
        forge_declared_size(bomb, 1024)
        measure(folder, "declared size forged to 1 KB")


if __name__ == "__main__":
    main()
