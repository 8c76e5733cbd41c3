"""Not reading unchanged inputs again. An input's digest (its bytes, its name and what else its
reader depends on) determines the document read from it, so a caller that indexed the edition
read from an input passes the digests it knows; the loader then answers with that edition instead
of extracting and cleaning the input again (cleaning every record was most of a one-document
update of a large JSONL corpus, evals/bench_scale.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

# Part of every digest: bump it when extraction or cleaning changes what an unchanged input reads
# as, so that inputs indexed before are read again instead of keeping their old editions.
READER_VERSION = "1"


@dataclass(frozen=True)
class KnownEdition:
    """The document an input was read into before, as far as the index needs it."""

    source: str
    content_hash: str


KnownEditions = Mapping[str, KnownEdition]  # input digest -> the edition read from that input


def input_digest(kind: str, name: str, data: bytes) -> str:
    """Digest of one input: `kind` says how it is read, `name` holds the name and whatever else
    the reader depends on besides the bytes."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (READER_VERSION, kind, name):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\x00")
    digest.update(data)
    return digest.hexdigest()
