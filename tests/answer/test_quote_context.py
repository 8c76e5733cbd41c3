"""A quote that opens by referring back ("This will be the first...") carries the sentence before it,
also when a chunk boundary falls between the two: chunks overlap, so the chunk before repeats the
sentence with its antecedent, and the answer quotes that chunk (real index, real models)."""

from __future__ import annotations

from pathlib import Path

from assistant.answer.base import AnswerRequest
from assistant.types import Passage

# Invented text: the antecedent of "This" is only in the sentence before.
MUSEUM = (
    "The Harbour Museum of Porto Verde reopened in March after two years of repairs to its roof and quay. "
    "Visitors can again walk the old customs house, where ledgers from the salt trade are kept behind glass. "
    "The museum's board spent most of the winter deciding where its ship-log collection should go. "
    "Several rooms were considered, among them the former sail loft and the basement vault. "
    "In the end the curators chose the Lantern Hall as the new home of the collection. "
    "This will be the first maritime archive in the region that stays open at night. "
    "Evening openings start on Thursdays and run until ten o'clock. "
    "Tickets cost the same as daytime entry, and children under twelve enter free. "
    "The city council has promised to light the quay path for late visitors."
)
REFERRING = "This will be the first maritime archive in the region that stays open at night."


def test_a_quote_cut_from_its_antecedent_by_a_chunk_boundary_gets_it_back(tmp_path: Path, engine_factory) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "museum.txt").write_text(MUSEUM)
    # Small overlapping chunks, so one chunk opens with the referring sentence that ends the one before.
    engine = engine_factory(corpus=corpus, chunking={"chunk_size": 50, "chunk_overlap": 20})
    engine.index()
    view = engine.view()
    opening = [c for c in view.chunks.values() if c.text.startswith(REFERRING)]
    assert len(opening) == 1 and opening[0].index > 0, "the text no longer puts a chunk boundary before the sentence"
    before = view.chunk_before(opening[0].chunk_id)
    assert before is not None and before.text.endswith(REFERRING)

    # Only the chunk that opens with "This" is given: the antecedent must come from the chunk before.
    question = "Which will be the first maritime archive in the region open at night?"
    chunk = opening[0]
    passage = Passage(chunk_id=chunk.chunk_id, source=chunk.source, title=chunk.title, date=chunk.date,
                      text=chunk.text, score=1.0)
    request = AnswerRequest(question=question, query_vector=engine.embedder.embed_query(question), passages=(passage,))
    draft = engine.answerer().answer(request)

    assert not draft.abstained
    assert "Lantern Hall" in draft.text and REFERRING in draft.text
    assert [p.chunk_id for p in draft.context_passages] == [before.chunk_id]
    for citation in draft.citations:
        assert citation.passage[citation.start:citation.end] == citation.quote

    # Through ask(): the chunk the quote came from is among the answer's passages, so its [n] opens it.
    answer = engine.ask(question)
    cited = {c.chunk_id for c in answer.citations}
    assert cited <= {p.chunk_id for p in answer.passages}
    assert "Lantern Hall" in answer.text


def test_a_first_chunk_has_no_chunk_before(tmp_path: Path, engine_factory) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "museum.txt").write_text(MUSEUM)
    engine = engine_factory(corpus=corpus)
    engine.index()
    view = engine.view()
    first = next(c for c in view.chunks.values() if c.index == 0)
    assert view.chunk_before(first.chunk_id) is None
    assert view.chunk_before("museum.txt#unknown:3") is None
    assert view.chunk_before("no-index-here") is None
