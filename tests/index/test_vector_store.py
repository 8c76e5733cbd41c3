"""The store seam's contract (`assistant.index.vector_store.VectorStore` / `VectorCollection`), run by
every implementation `make_store` gives: Chroma in a local folder, and a real `chroma run` server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from assistant.config import StoreSettings
from assistant.errors import IndexMismatchError
from assistant.index.names import new_physical_name
from assistant.index.records import StoredChunk
from assistant.index.store import CollectionGoneError, SearchFilter
from assistant.index.vector_store import VectorStore, make_store
from assistant.types import Chunk
from tests.conftest import unique_collection

FINGERPRINT = {"embedding_model": "contract", "chunk_size": 100}


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, np.float32)
    return vector / np.linalg.norm(vector)


def _record(source: str, index: int, vectors: list[np.ndarray], date: dt.date | None) -> StoredChunk:
    text = " ".join(f"Sentence {i} of {source}." for i in range(len(vectors)))
    spans = np.asarray([[i * 10, i * 10 + 9] for i in range(len(vectors))], np.int32)
    chunk = Chunk(chunk_id=f"{source}#e:{index}", source=source, title=source.upper(), date=date, index=index, text=text)
    return StoredChunk(chunk=chunk, doc_hash=f"hash-{source}", doc_chunks=2 if source == "a.txt" else 1,
                       origin="corpus", spans=spans, vectors=np.stack(vectors).astype(np.float16))


RECORDS = [_record("a.txt", 0, [_unit(1, 0, 0, 0), _unit(1, 1, 0, 0)], dt.date(2024, 3, 1)),
           _record("a.txt", 1, [_unit(0, 1, 0, 0)], dt.date(2024, 3, 1)),
           _record("b.txt", 0, [_unit(0, 0, 1, 0), _unit(0, 0, 1, 1)], None)]


@pytest.fixture(params=["local", pytest.param("server", marks=[pytest.mark.server, pytest.mark.slow])])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSettings:
    url = request.getfixturevalue("chroma_server") if request.param == "server" else None
    return StoreSettings(path=tmp_path / "store", collection=unique_collection("contract"), chroma_url=url)


@pytest.fixture
def store(settings: StoreSettings) -> VectorStore:
    return make_store(settings, FINGERPRINT)


def _written(store: VectorStore, physical: str):
    collection = store.open(physical, create=True, corpus="/corpus")
    collection.upsert(RECORDS, np.stack([r.passage_vector() for r in RECORDS]))
    return collection


def test_records_go_in_and_come_back_whole(store: VectorStore) -> None:
    physical = new_physical_name(store.name)
    collection = _written(store, physical)
    ids = {r.chunk.chunk_id for r in RECORDS}
    assert collection.name == physical and collection.count() == 3 and collection.ids() == ids
    assert collection.existing(["a.txt#e:0", "nothing#e:0"]) == {"a.txt#e:0"}
    by_id = {r.chunk.chunk_id: r for r in collection.records()}
    for record in RECORDS:
        got = by_id[record.chunk.chunk_id]
        assert got.chunk == record.chunk and (got.doc_hash, got.doc_chunks, got.origin) == (record.doc_hash, record.doc_chunks, "corpus")
        np.testing.assert_array_equal(got.spans, record.spans)
        np.testing.assert_array_equal(got.vectors, record.vectors)
    assert {r.chunk.chunk_id for r in collection.records(["b.txt#e:0"])} == {"b.txt#e:0"}
    assert {r.chunk.chunk_id for r in collection.records(sources=["a.txt"])} == {"a.txt#e:0", "a.txt#e:1"}
    vectors = collection.embeddings(["a.txt#e:1"])
    np.testing.assert_allclose(vectors["a.txt#e:1"], RECORDS[1].passage_vector(), atol=1e-3)
    collection.delete_ids(["a.txt#e:1"])
    assert collection.count() == 2 and collection.ids() == ids - {"a.txt#e:1"}


def test_queries_rank_by_cosine_and_honour_filters(store: VectorStore) -> None:
    collection = _written(store, new_physical_name(store.name))
    best = collection.query(RECORDS[2].passage_vector(), 3)
    assert [p.chunk_id for p in best][0] == "b.txt#e:0" and len(best) == 3
    assert best[0].score == pytest.approx(1.0, abs=1e-3) and best[0].scores == {"dense": best[0].score}
    assert best[0].title == "B.TXT" and best[0].text == RECORDS[2].chunk.text
    only_a = collection.query(RECORDS[2].passage_vector(), 3, SearchFilter(sources=("a.txt",)))
    assert {p.source for p in only_a} == {"a.txt"}
    dated = collection.query(RECORDS[2].passage_vector(), 3, SearchFilter(date_to=dt.date(2025, 1, 1)))
    assert {p.source for p in dated} == {"a.txt"}  # undated documents match no date range


def test_physical_collections_are_listed_dropped_and_fingerprinted(settings: StoreSettings, store: VectorStore) -> None:
    physical = new_physical_name(store.name)
    _written(store, physical)
    other = make_store(settings.model_copy(update={"collection": unique_collection("other")}), FINGERPRINT)
    other.open(new_physical_name(other.name), create=True)
    listed = store.physical_collections()
    assert [name for name, _ in listed] == [physical] and listed[0][1]["logical"] == store.name
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        make_store(settings, {**FINGERPRINT, "chunk_size": 200}).open(physical, create=False)
    store.refresh()
    assert store.open(physical, create=False).count() == 3  # what was committed is seen again
    store.drop(physical)
    store.drop(physical)  # already gone: nothing happens
    assert store.physical_collections() == []
    with pytest.raises(CollectionGoneError):
        store.open(physical, create=False)
