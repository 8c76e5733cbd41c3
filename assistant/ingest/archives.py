"""Zip packages (.docx, .pptx, .epub) are measured here before any parser opens them.

A few megabytes of zip can inflate to gigabytes (a "zip bomb"), and the format libraries inflate a
whole part into memory at once. So, on the very bytes the parser will get, this module checks the
entry count, each entry's inflated size, their total and each large entry's compression ratio
against CorpusSettings' archive_* caps, and refuses the file with FileUnreadable naming the cap.

Declared sizes alone are not enough. CPython's zipfile (3.11, verified in ZipExtFile._read1) does cut
each entry at its declared file_size (`data[:self._left]`), but only after inflating a whole chunk,
and `ZipFile.read` - what python-docx, python-pptx and ebooklib call - asks zlib for up to MAX_N
(1 GiB) per chunk: an entry declaring 1 KB that really inflates to 500 MB briefly takes ~1 GB of
memory (measured). Hence every deflated entry is also inflated here, streamed in small chunks
without keeping the output, and refused as soon as it exceeds its declared size. Declared sizes
are checked first, so the inflating never passes the caps: a bomb costs at most one chunk of memory
and the time to inflate the caps' worth of bytes."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from assistant.config import CorpusSettings
from assistant.ingest.extract import FileUnreadable

_MB = 1024 * 1024
# The ratio cap applies above this inflated size: small parts (styles, settings) compress far better
# than text and are harmless at any ratio.
RATIO_FLOOR_BYTES = _MB
_CHUNK = 64 * 1024  # compressed bytes fed to zlib at a time
_OUT_CHUNK = _MB    # most inflated bytes held at a time
# Every central-directory record zipfile accepts starts with this signature (it checks each one), so
# counting it bounds the entries before ZipFile builds an object per entry (~0.5 KB each: a 50 MB
# file could otherwise hold a million of them).
_CENTRAL_SIGNATURE = b"PK\x01\x02"
# The local file header that precedes each entry's data (APPNOTE 4.3.7): its name and extra-field
# lengths say where the data starts.
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_ENCRYPTED = 0x1


@dataclass(frozen=True)
class ArchiveLimits:
    """The archive_* caps of CorpusSettings: all that read_file needs of the settings."""

    max_entries: int
    max_inflated_mb: float
    max_entry_mb: float
    max_ratio: float

    @classmethod
    def from_settings(cls, settings: CorpusSettings) -> ArchiveLimits:
        return cls(max_entries=settings.archive_max_entries, max_inflated_mb=settings.archive_max_inflated_mb,
                   max_entry_mb=settings.archive_max_entry_mb, max_ratio=settings.archive_max_ratio)


def _entry_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    return repr(name if len(name) <= 80 else name[:77] + "...")


def _refuse_entry(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    """Refuse an entry by what the central directory declares, before anything is inflated."""
    if info.flag_bits & _ENCRYPTED:
        raise FileUnreadable(f"has an encrypted entry {_entry_name(info)}; save a copy without a password to index it")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2 and LZMA entries are inflated by zipfile with no output bound at all; Office and EPUB
        # writers only ever use deflate.
        raise FileUnreadable(f"has an entry {_entry_name(info)} compressed with method {info.compress_type}, "
                             "not deflate; re-save the file with its usual application")
    if info.file_size > limits.max_entry_mb * _MB:
        raise FileUnreadable(f"has an entry {_entry_name(info)} of {info.file_size / _MB:.1f} MB inflated, over the "
                             f"{limits.max_entry_mb:g} MB limit (ASSISTANT_CORPUS__ARCHIVE_MAX_ENTRY_MB)")
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        raise FileUnreadable(f"has an entry {_entry_name(info)} compressed {ratio:.0f}:1, over the "
                             f"{limits.max_ratio:g}:1 limit (ASSISTANT_CORPUS__ARCHIVE_MAX_RATIO); "
                             "it looks like a zip bomb")


def _entry_data(data: bytes, info: zipfile.ZipInfo) -> memoryview | None:
    """The compressed bytes of one entry, found as zipfile finds them (header offset, then the local
    header); None when there is no local header, which zipfile refuses too, so nothing inflates."""
    start = info.header_offset
    header = data[start:start + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        return None
    fields = _LOCAL_HEADER.unpack(header)
    start += _LOCAL_HEADER.size + fields[10] + fields[11]  # file name and extra field lengths
    return memoryview(data)[start:start + info.compress_size]


def _inflates_within(raw: memoryview, limit: int) -> bool:
    """Whether raw deflate data inflates to at most `limit` bytes. Output is counted, not kept, and
    never asked for past limit + 1 bytes, so a forged entry costs at most its declared size in work."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    try:
        for offset in range(0, len(raw), _CHUNK):
            pending: bytes | memoryview = raw[offset:offset + _CHUNK]
            while True:
                wanted = min(_OUT_CHUNK, limit - produced + 1)
                produced += len(out := inflater.decompress(pending, wanted))
                if produced > limit:
                    return False
                pending = inflater.unconsumed_tail
                # A full chunk may leave output buffered in zlib even with no input left.
                if inflater.eof or (not pending and len(out) < wanted):
                    break
            if inflater.eof:
                break
    except zlib.error:
        # Damaged data, not a bomb: zipfile inflates the same stream with the same zlib, so the reader
        # stops at the same byte (no more output than counted here) and reports the damage by format.
        return True
    return True


def check_archive(data: bytes, limits: ArchiveLimits) -> None:
    """Refuse (FileUnreadable) a zip package that would inflate past the caps; return when it is safe to parse."""
    entries_bound = data.count(_CENTRAL_SIGNATURE)
    if entries_bound > limits.max_entries:
        raise FileUnreadable(f"holds {entries_bound} zip entries, over the {limits.max_entries} limit "
                             "(ASSISTANT_CORPUS__ARCHIVE_MAX_ENTRIES)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        # Not a zip: nothing inflates. The format's reader opens it with the same zipfile, fails
        # the same way and names the format in its reason ("is not a Word .docx file ...").
        return
    with archive:
        entries = archive.infolist()
        for info in entries:
            _refuse_entry(info, limits)
        declared = sum(info.file_size for info in entries)
        if declared > limits.max_inflated_mb * _MB:
            raise FileUnreadable(f"inflates to {declared / _MB:.1f} MB in all, over the {limits.max_inflated_mb:g} MB "
                                 "limit (ASSISTANT_CORPUS__ARCHIVE_MAX_INFLATED_MB)")
        for info in entries:
            raw = _entry_data(data, info) if info.compress_type == zipfile.ZIP_DEFLATED else None
            if raw is not None and not _inflates_within(raw, info.file_size):
                raise FileUnreadable(f"has an entry {_entry_name(info)} that inflates past the {info.file_size} bytes "
                                     "it declares; the archive is forged or damaged")
