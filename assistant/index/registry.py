"""What app replicas sharing one Chroma server share besides the chunk collections.

With `ASSISTANT_CHROMA_URL` set, nothing a replica needs lives only in its own folder: each
collection's manifest, its writer lease and its uploaded files are small records in two Chroma
collections of their own, looked up by id and never searched. Each replica derives its local
snapshot (BM25, sentence index) from the server, so replicas need share no folder.

The upload functions at the end bind the ingest stage's uploads to that server copy (`ServerUploads`,
its `UploadMirror`): callers store, remove and load uploads through them."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from assistant.config import Settings, StoreSettings
from assistant.errors import StoreUnavailableError
from assistant.ingest import uploads
from assistant.ingest.loaders import LoadReport

REGISTRY_COLLECTION = "assistant-registry"   # manifests and writer leases
UPLOADS_COLLECTION = "assistant-uploads"     # uploaded files, base64, one record per file
_UNIT_VECTOR = [1.0]                         # Chroma wants a vector per record; these are only read by id
_T = TypeVar("_T")


@dataclass(frozen=True)
class RegistryRecord:
    key: str
    text: str
    metadata: dict[str, Any]


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


@lru_cache(maxsize=8)
def server_client(url: str) -> Any:
    """One HTTP client per server URL for the whole process (it is thread-safe and reconnects by
    itself); StoreUnavailableError when the server can't be reached. Failures are not cached."""
    import chromadb

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StoreUnavailableError(f"ASSISTANT_CHROMA_URL={url!r} is not an http(s)://host:port URL")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    try:
        client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https",
                                     settings=_chroma_settings())
        client.heartbeat()
    except Exception as exc:  # chromadb raises several types for "not there"; all become one typed error
        raise StoreUnavailableError(
            f"cannot reach the Chroma server at {url} ({type(exc).__name__}); "
            "start it with `chroma run --path DIR --port N` or unset ASSISTANT_CHROMA_URL to use the local index"
        ) from exc
    return client


def server_registry(settings: StoreSettings, collection: str = REGISTRY_COLLECTION) -> ServerRegistry:
    """The process's one handle on a registry collection: opening it costs a round trip, and the
    manifest is read on every question."""
    if not settings.chroma_url:
        raise ValueError("a server registry needs store.chroma_url")
    return _registry(settings.chroma_url, collection)


@lru_cache(maxsize=32)
def _registry(url: str, collection: str) -> ServerRegistry:
    return ServerRegistry(url, collection)


class ServerRegistry:
    """Small records by key in one of our own collections on the Chroma server (thread-safe)."""

    def __init__(self, url: str, collection: str) -> None:
        self._url = url
        self._name = collection
        self._collection: Any | None = None
        self._lock = threading.Lock()

    def _call(self, action: str, fn: Callable[[Any], _T]) -> _T:
        try:
            with self._lock:
                if self._collection is None:
                    self._collection = server_client(self._url).get_or_create_collection(
                        self._name, metadata={"assistant": "registry"}, embedding_function=None)
                collection = self._collection
            return fn(collection)
        except StoreUnavailableError:
            raise
        except Exception as exc:  # chromadb has no common base error; all become StoreUnavailableError
            with self._lock:
                self._collection = None  # the server may have restarted: open it again next time
            raise StoreUnavailableError(f"the Chroma server at {self._url} failed to {action}: {exc}") from exc

    def read(self, key: str) -> RegistryRecord | None:
        got = self._call(f"read {key}", lambda c: c.get(ids=[key], include=["documents", "metadatas"]))
        if not got["ids"]:
            return None
        return RegistryRecord(key, (got["documents"] or [""])[0] or "", dict((got["metadatas"] or [{}])[0] or {}))

    def write(self, key: str, text: str, metadata: dict[str, Any]) -> None:
        """Create or replace (one call: the server applies it whole or not at all)."""
        self._call(f"write {key}", lambda c: c.upsert(ids=[key], embeddings=[_UNIT_VECTOR], documents=[text],
                                                      metadatas=[metadata]))

    def add_if_absent(self, key: str, text: str, metadata: dict[str, Any]) -> None:
        """Chroma's add keeps an existing record with the same id: of racing adds, the first wins."""
        self._call(f"write {key}", lambda c: c.add(ids=[key], embeddings=[_UNIT_VECTOR], documents=[text],
                                                   metadatas=[metadata]))

    def update_metadata(self, key: str, metadata: dict[str, Any]) -> None:
        self._call(f"update {key}", lambda c: c.update(ids=[key], metadatas=[metadata]))

    def delete(self, key: str, *, where: dict[str, Any] | None = None) -> None:
        """Delete the record (only while its metadata matches `where`, when given)."""
        self._call(f"delete {key}", lambda c: c.delete(ids=[key], where=where))

    def find(self, where: dict[str, Any], *, with_text: bool = False) -> list[RegistryRecord]:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        got = self._call("list records", lambda c: c.get(where=where, include=include))
        texts = got.get("documents") or [""] * len(got["ids"])
        return [RegistryRecord(key, text or "", dict(meta or {}))
                for key, text, meta in zip(got["ids"], texts, got["metadatas"] or [{}] * len(got["ids"]))]


# -- uploads: the server's copy, and the ingest stage's upload functions bound to it --------------

class ServerUploads:
    """One collection's uploads on the server (base64, one record per file): the ingest stage's `UploadMirror`."""

    def __init__(self, settings: StoreSettings) -> None:
        self._records = server_registry(settings, UPLOADS_COLLECTION)
        self._collection = settings.collection

    def _key(self, name: str) -> str:
        return f"{self._collection}/{name}"

    def put(self, name: str, data: bytes) -> None:
        self._records.write(self._key(name), base64.b64encode(data).decode("ascii"),
                            {"collection": self._collection, "name": name})

    def delete(self, name: str) -> None:
        self._records.delete(self._key(name))

    def files(self) -> list[tuple[str, bytes]]:
        records = self._records.find({"collection": self._collection}, with_text=True)
        return [(str(record.metadata.get("name", "")), base64.b64decode(record.text)) for record in records]


def upload_mirror(settings: StoreSettings) -> ServerUploads | None:
    """The uploads' shared copy: on the Chroma server when there is one, else none (the folder is the copy)."""
    return ServerUploads(settings) if settings.chroma_url else None


def publish_staged(settings: Settings, staged: Path) -> Path:
    """Store a staged upload that loaded (`uploads.publish_staged`), on the server too when there is one."""
    return uploads.publish_staged(settings, staged, mirror=upload_mirror(settings.store))


def remove_upload(settings: Settings, name: str) -> None:
    """Delete an upload's stored copies, the server's included (`uploads.remove_upload`)."""
    uploads.remove_upload(settings, name, mirror=upload_mirror(settings.store))


def load_stored_uploads(settings: Settings) -> LoadReport:
    """The stored uploads' documents, read after following the server's copy (`uploads.load_stored_uploads`)."""
    return uploads.load_stored_uploads(settings, mirror=upload_mirror(settings.store))
