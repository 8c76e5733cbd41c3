"""The llama-index adapters against a real index: our retriever inside real llama-index
pipelines and postprocessors, our assistant as a llama-index chat and query engine, and real
llama-index Documents indexed and answered from. The documents and questions are made up here."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from llama_index.core import Document
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.chat_engine.types import AgentChatResponse, BaseChatEngine
from llama_index.core.llms import MockLLM
from llama_index.core.postprocessor import (
    MetadataReplacementPostProcessor,
    SimilarityPostprocessor,
)
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers.no_text import NoText
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import MetadataMode, NodeWithScore

from assistant import Assistant
from assistant.config import PROJECT_ROOT
from assistant.errors import InvalidArgumentError, InvalidQuestionError
from assistant.integrations.llama_index import (
    AssistantChatEngine,
    AssistantQueryEngine,
    AssistantRetriever,
    add_documents,
    upload_for,
)
from assistant.retrieval.embedding import Embedder
from tests.conftest import make_settings

pytestmark = pytest.mark.slow

CORPUS = {
    "harbour.txt": " date 2024-03-12 The Harrowgate Lighthouse Museum opened on Pellan Point, two kilometres north "
                   "of the old harbour. Visitors can climb the 94 steps of the tower between April and October. "
                   "Entry costs six euros for adults.\n",
    "bakery.txt": " date 2023-11-02 Eleven bakeries in Millbrook formed the Golden Crust Cooperative to buy flour "
                  "together. The cooperative's chairwoman is Odile Varga. Members expect to save about 15 percent "
                  "on flour costs.\n",
    "ferry.txt": " date 2024-06-20 A new electric ferry called the Sea Wren now connects Tarn Island with the mainland "
                 "port of Kessick. The crossing takes 25 minutes. The ferry carries up to 120 passengers and 18 cars.\n",
    "tram.txt": " date 2024-02-14 The Brackenfold hill tram climbs from the market square to the old town in nine minutes. "
                "The tram carries up to 40 passengers per trip. Volunteers restored its two cars in 2021.\n",
}
NODE_KEYS = {"source", "title", "date", "chunk_id"}
CITATION_KEYS = NODE_KEYS | {"n", "quote", "start", "end"}


@pytest.fixture(scope="module")
def li_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    """An extractive Assistant over the four documents above (read-only use)."""
    root = tmp_path_factory.mktemp("llama-index")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in CORPUS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    engine = Assistant(make_settings(root / "store", corpus=corpus), embedder=embedder)
    engine.index()
    return engine


def assert_citation_node(item: NodeWithScore) -> None:
    metadata = item.node.metadata
    assert set(metadata) == CITATION_KEYS
    assert item.node.node_id == metadata["chunk_id"]
    assert item.node.get_content()[metadata["start"]:metadata["end"]] == metadata["quote"]
    assert isinstance(item.score, float)


# -- the retriever ---------------------------------------------------------------------------------
def test_retriever_nodes_carry_source_title_date_and_chunk_id(li_engine: Assistant) -> None:
    retriever = AssistantRetriever(li_engine, top_k=3)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve("How long does the ferry crossing to Tarn Island take?")
    assert len(nodes) == 3
    best = nodes[0]
    assert set(best.node.metadata) == NODE_KEYS
    assert best.node.metadata["source"] == "ferry.txt"
    assert best.node.metadata["date"] == "2024-06-20"
    assert best.node.node_id == best.node.metadata["chunk_id"] and best.node.node_id.startswith("ferry.txt#")
    assert best.node.ref_doc_id == "ferry.txt"
    assert "The crossing takes 25 minutes." in best.node.get_content()
    scores = [n.score for n in nodes]
    assert scores == sorted(scores, reverse=True)
    # What a llama-index LLM would be shown names the document but not our internal ids.
    shown = best.node.get_content(metadata_mode=MetadataMode.LLM)
    assert "source: ferry.txt" in shown and "chunk_id" not in shown


def test_retriever_top_k_and_filters(li_engine: Assistant) -> None:
    query = "How many passengers can it carry?"
    assert len(AssistantRetriever(li_engine, top_k=1).retrieve(query)) == 1
    only_tram = AssistantRetriever(li_engine, top_k=4, sources=["tram.txt"]).retrieve(query)
    assert only_tram and {n.node.metadata["source"] for n in only_tram} == {"tram.txt"}
    recent = AssistantRetriever(li_engine, top_k=4, date_from="2024-01-01").retrieve("flour cooperative bakeries")
    assert recent and "bakery.txt" not in {n.node.metadata["source"] for n in recent}  # dated 2023-11-02
    older = AssistantRetriever(li_engine, top_k=4, date_to=dt.date(2023, 12, 31)).retrieve("flour cooperative bakeries")
    assert {n.node.metadata["source"] for n in older} == {"bakery.txt"}


def test_retriever_inside_a_llama_index_query_engine_with_postprocessors(li_engine: Assistant) -> None:
    retriever = AssistantRetriever(li_engine, top_k=4)
    question = "Who chairs the Golden Crust Cooperative?"
    raw = retriever.retrieve(question)
    cutoff = (raw[0].score + raw[-1].score) / 2  # keeps the best node, drops the weakest
    # NoText synthesis never calls an LLM; one is passed only so llama-index doesn't reach for OpenAI
    # (get_response_synthesizer(response_mode="no_text") drops the llm it is given, in 0.14).
    synthesizer = NoText(llm=MockLLM())
    pipeline = RetrieverQueryEngine(retriever=retriever, response_synthesizer=synthesizer,
                                    node_postprocessors=[SimilarityPostprocessor(similarity_cutoff=cutoff)])
    response = pipeline.query(question)
    kept = response.source_nodes
    assert kept[0].node.metadata["source"] == "bakery.txt"
    assert 1 <= len(kept) < len(raw) and all(n.score >= cutoff for n in kept)
    # A postprocessor that reads our metadata: replace each node's text with its title.
    titled = MetadataReplacementPostProcessor(target_metadata_key="title").postprocess_nodes(raw)
    assert [n.node.get_content() for n in titled] == [n.node.metadata["title"] for n in raw]
    assert titled[0].node.get_content().startswith("Eleven bakeries in Millbrook")


def test_retriever_async(li_engine: Assistant) -> None:
    nodes = asyncio.run(AssistantRetriever(li_engine, top_k=2).aretrieve("electric ferry Sea Wren"))
    assert nodes[0].node.metadata["source"] == "ferry.txt"


# -- the chat engine ---------------------------------------------------------------------------------
def test_chat_engine_answers_a_question_and_its_follow_up(li_engine: Assistant) -> None:
    chat = AssistantChatEngine(li_engine)
    assert isinstance(chat, BaseChatEngine)
    first = chat.chat("How long does the Sea Wren ferry crossing take?")
    assert isinstance(first, AgentChatResponse)
    assert "25 minutes" in first.response and first.metadata["abstained"] is False
    assert first.metadata["short_answer"] and first.metadata["short_answer"] in first.response
    assert 0.0 <= first.metadata["confidence"] <= 1.0
    assert first.source_nodes and first.source_nodes[0].node.metadata["source"] == "ferry.txt"
    for node in first.source_nodes:
        assert_citation_node(node)
        assert node.node.metadata["quote"] in first.response

    follow_up = chat.chat("How many passengers does it carry?")
    assert "120" in follow_up.response and "40" not in follow_up.response
    assert {n.node.metadata["source"] for n in follow_up.source_nodes} == {"ferry.txt"}
    assert follow_up.metadata["standalone_question"] != "How many passengers does it carry?"
    history = chat.chat_history
    assert [m.role for m in history] == [MessageRole.USER, MessageRole.ASSISTANT] * 2
    assert history[2].content == "How many passengers does it carry?" and history[3].content == follow_up.response
    chat.reset()
    assert chat.chat_history == []


def test_chat_history_argument_is_the_conversation(li_engine: Assistant) -> None:
    """A history passed as llama-index ChatMessages replaces the engine's own and carries the
    follow-up: alone, the same words are answered differently (both vehicles carry passengers)."""
    alone = AssistantChatEngine(li_engine).chat("How many passengers does it carry?")
    chat = AssistantChatEngine(li_engine)
    chat.chat("How long does the Brackenfold hill tram take to reach the old town?")
    given = [ChatMessage(role=MessageRole.SYSTEM, content="You answer questions about local transport."),
             ChatMessage(role=MessageRole.USER, content="Which ferry connects Tarn Island with Kessick?"),
             ChatMessage(role=MessageRole.ASSISTANT, content="The Sea Wren.")]
    ferry = chat.chat("How many passengers does it carry?", chat_history=given)
    assert "120" in ferry.response and ferry.response != alone.response
    assert {n.node.metadata["source"] for n in ferry.source_nodes} == {"ferry.txt"}
    assert [m.content for m in chat.chat_history] == [
        "Which ferry connects Tarn Island with Kessick?", "The Sea Wren.", "How many passengers does it carry?", ferry.response]


def test_stream_chat_yields_our_deltas_then_sources(li_engine: Assistant) -> None:
    chat = AssistantChatEngine(li_engine)
    stream = chat.stream_chat("How much does entry cost for adults?")
    assert stream.source_nodes == [] and stream.metadata is None  # nothing known before the stream is read
    pieces = list(stream.response_gen)
    assert pieces and "six euros" in "".join(pieces)
    assert stream.response == stream.metadata["answer"].text and "six euros" in stream.response
    assert stream.source_nodes[0].node.metadata["source"] == "harbour.txt"
    assert_citation_node(stream.source_nodes[0])
    assert len(chat.chat_history) == 2  # the turn is recorded once the stream ended

    async def read_async() -> tuple[list[str], str]:
        follow_up = await chat.astream_chat("When can visitors climb its tower?")
        return [delta async for delta in follow_up.async_response_gen()], str(follow_up)

    deltas, text = asyncio.run(read_async())
    assert deltas and "April and October" in text and len(chat.chat_history) == 4
    assert "Pellan Point" in str(chat.stream_chat("Where did the Harrowgate Lighthouse Museum open?"))  # str() drains the stream


def test_achat_and_abstention(li_engine: Assistant) -> None:
    chat = AssistantChatEngine(li_engine)
    response = asyncio.run(chat.achat("Who is the chairwoman of the bakers' cooperative?"))
    assert "Odile Varga" in response.response
    unknown = chat.chat("What is the boiling point of liquid nitrogen?")
    assert unknown.metadata["abstained"] is True and unknown.source_nodes == []


def test_query_engine_returns_cited_source_nodes(li_engine: Assistant) -> None:
    engine = AssistantQueryEngine(li_engine, top_k=3)
    response = engine.query("How many cars can the Sea Wren ferry carry?")
    assert "18 cars" in str(response) and response.metadata["abstained"] is False
    assert response.source_nodes[0].node.metadata["source"] == "ferry.txt"
    assert_citation_node(response.source_nodes[0])
    restricted = AssistantQueryEngine(li_engine, sources=["bakery.txt"])
    assert {n.node.metadata["source"] for n in restricted.query("How many cars can the Sea Wren ferry carry?").source_nodes} <= {"bakery.txt"}


def test_bad_arguments_are_one_line_typed_errors(li_engine: Assistant) -> None:
    chat = AssistantChatEngine(li_engine)
    with pytest.raises(InvalidQuestionError, match="empty"):
        chat.stream_chat("   ")
    with pytest.raises(InvalidArgumentError, match=r"chat_history\[0\] is a tuple"):
        chat.chat("How long is the crossing?", chat_history=[("q", "a")])
    with pytest.raises(InvalidArgumentError, match="top_k 0 is out of range"):
        AssistantRetriever(li_engine, top_k=0)
    with pytest.raises(InvalidArgumentError, match="date_from"):
        AssistantRetriever(li_engine, date_from="next week")
    with pytest.raises(InvalidArgumentError, match="not both"):
        AssistantQueryEngine(li_engine, settings=li_engine.settings)
    with pytest.raises(InvalidArgumentError, match=r"documents\[0\] is a str"):
        add_documents(["just text"], engine=li_engine)
    same_file = [Document(text="one", metadata={"file_name": "a.txt"}), Document(text="two", metadata={"file_path": "/x/a.txt"})]
    with pytest.raises(InvalidArgumentError, match=r"documents\[0\] and documents\[1\] would both be indexed as 'upload:a.txt'"):
        add_documents(same_file, engine=li_engine)
    assert chat.chat_history == []
    assert li_engine.info()["uploads"] == 0  # refused before anything was written


# -- llama-index Documents in ---------------------------------------------------------------------------
def test_upload_names_titles_and_dates_from_metadata() -> None:
    page = upload_for(Document(text="x", metadata={"file_path": "/docs/report.pdf", "page_label": "3",
                                                    "creation_date": "2024-05-01", "last_modified_date": "2024-06-01"}))
    assert page.source == "upload:report.pdf (page 3).txt"
    assert page.content == "---\ntitle: report.pdf\n---\nx"  # file-system dates are not the document's
    published = upload_for(Document(text="w", metadata={"file_name": "memo.txt", "published": "2024-05-01"}))
    assert published.content == "---\ntitle: memo.txt\ndate: 2024-05-01\n---\nw"
    named = upload_for(Document(text="y", metadata={"source": "notes/intro.md", "title": "Intro\nnotes",
                                                     "date": dt.datetime(2023, 1, 2, 9, 30)}))
    assert named.name == "intro.md" and "title: Intro notes\ndate: 2023-01-02\n" in named.content
    bare = upload_for(Document(text="z", id_="doc-7", metadata={"date": "sometime"}))
    assert (bare.name, bare.content) == ("doc-7.txt", "z")  # an unreadable date is left out
    seed = upload_for(Document(text=" date 2023-05-06 Body.", metadata={"file_name": "seed.txt", "creation_date": "2026-01-01"}))
    assert seed.content == "---\ntitle: seed.txt\ndate: 2023-05-06\n---\nBody."  # the text's own date header wins


def test_add_documents_then_retrieve_and_answer(li_engine: Assistant, tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text(CORPUS["ferry.txt"], encoding="utf-8")
    engine = Assistant(make_settings(tmp_path / "store", corpus=corpus), embedder=embedder,
                       answer_scorer=li_engine.answer_scorer)
    engine.index()
    documents = [
        Document(text="The Orrin Valley Observatory houses a telescope named Halcyon. Halcyon has a mirror 2.4 metres "
                      "across. The Orrin Astronomical Society built the observatory in 2019.",
                 metadata={"file_name": "observatory.md", "title": "Orrin Valley Observatory", "date": "2024-05-01"}),
        Document(text="Quillfeather Library lends seed packets as well as books. Gardeners return seeds from their harvest.",
                 metadata={"file_path": "/shared/library.pdf", "page_label": "1"}),
        Document(text="The library's seed collection holds 340 varieties of beans and squash.",
                 metadata={"file_path": "/shared/library.pdf", "page_label": "2"}),
        Document(text="   ", metadata={"file_name": "blank.txt"}),
    ]
    report = add_documents(documents, engine=engine)
    assert report.added == ["upload:library.pdf (page 1).txt", "upload:library.pdf (page 2).txt", "upload:observatory.md"]
    assert report.skipped == [("upload:blank.txt", "documents[3] has no text; nothing to index")]
    assert report.documents == 4

    nodes = AssistantRetriever(engine, top_k=2).retrieve("What is the Orrin Valley telescope called?")
    best = nodes[0].node.metadata
    assert (best["source"], best["title"], best["date"]) == ("upload:observatory.md", "Orrin Valley Observatory", "2024-05-01")
    answer = AssistantChatEngine(engine).chat("How many varieties does the library's seed collection hold?")
    assert "340" in answer.response
    assert answer.source_nodes[0].node.metadata["source"] == "upload:library.pdf (page 2).txt"

    again = add_documents(documents[:1], engine=engine)  # the same Document again: nothing to embed
    assert again.added == [] and again.changed == [] and again.chunks_embedded == 0
    engine.index()  # a full re-index mirrors the corpus and keeps what came from llama-index
    kept = AssistantRetriever(engine, top_k=1, sources=["upload:observatory.md"]).retrieve("Halcyon mirror")
    assert kept[0].node.metadata["source"] == "upload:observatory.md"
    assert engine.info()["uploads"] == 3


def test_missing_llama_index_is_a_one_line_config_error() -> None:
    code = ("import sys; sys.modules['llama_index'] = None; sys.modules['llama_index.core'] = None\n"
            "from assistant.errors import ConfigError\n"
            "try:\n    import assistant.integrations.llama_index\n"
            "except ConfigError as exc:\n    print('ConfigError:', exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ConfigError: the llama-index integration needs llama-index-core")
    assert "pip install 'llama-index-core" in lines[0]
