"""The packaged transformers on ONNX Runtime: the export is cached, kept fresh and agrees with torch,
and answering a question never imports torch.

Questions and sentences are written for this test (fictional people and places)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.scorer import DEFAULT_MODEL_DIR, make_answer_scorer
from assistant.answer.span_reader import DEFAULT_READER_DIR, make_span_reader
from assistant.config import PROJECT_ROOT, EmbeddingSettings, InferenceSettings
from assistant.errors import ConfigError
from assistant.inference.onnx_cache import cache_key, onnx_model_file, source_prefix
from assistant.retrieval.embedding import (
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)

TORCH = InferenceSettings(runtime="torch")
QUESTION = "Who repaired the lighthouse on Skarn island?"
SENTENCES = ["The lighthouse on Skarn island was repaired by the mason Ilse Varga in 1907.",
             "Skarn island lies two hours by boat from the harbour of Tromvik.",
             "Its lamp, " + "a very bright lamp, " * 60 + "was replaced later.",  # longer than the 128-piece limit
             "Yes."]


@pytest.fixture(scope="module")
def onnx_settings() -> InferenceSettings:
    return InferenceSettings()  # the default runtime and cache: what a user's first question uses


def test_answer_scorer_gives_torchs_logits(onnx_settings: InferenceSettings) -> None:
    onnx = make_answer_scorer(inference=onnx_settings).score(QUESTION, SENTENCES)
    torch = make_answer_scorer(inference=TORCH).score(QUESTION, SENTENCES)
    assert onnx.dtype == np.float32 and onnx.shape == (len(SENTENCES),)
    np.testing.assert_allclose(onnx, torch, atol=1e-4)
    assert int(np.argmax(onnx)) == 0


def test_reader_gives_torchs_spans(onnx_settings: InferenceSettings) -> None:
    onnx, torch = make_span_reader(inference=onnx_settings), make_span_reader(inference=TORCH)
    for question, sentence in [(QUESTION, SENTENCES[0]), ("When did the café open?", "The café – naïve, £5 a cup – opened in 1931."),
                               ("What was replaced?", SENTENCES[2])]:
        got, expected = onnx.read(question, sentence, limit=3), torch.read(question, sentence, limit=3)
        assert [(s.text, s.start, s.end) for s in got] == [(s.text, s.start, s.end) for s in expected]
        np.testing.assert_allclose([s.score for s in got], [s.score for s in expected], atol=1e-4)
    assert "Ilse Varga" in onnx.read(QUESTION, SENTENCES[0])[0].text


def test_embedder_gives_sentence_transformers_vectors(embedder, onnx_settings: InferenceSettings) -> None:
    assert isinstance(embedder, OnnxEmbedder), "the default embedder runs on ONNX Runtime"
    reference = make_embedder(EmbeddingSettings(), TORCH)
    assert isinstance(reference, SentenceTransformerEmbedder)
    np.testing.assert_allclose(embedder.embed_texts(SENTENCES), reference.embed_texts(SENTENCES), atol=1e-5)
    np.testing.assert_allclose(embedder.embed_query(QUESTION), reference.embed_query(QUESTION), atol=1e-5)


def test_export_is_made_once_and_redone_when_the_weights_change(tmp_path: Path) -> None:
    model = tmp_path / "scorer"
    model.mkdir()
    for item in DEFAULT_MODEL_DIR.iterdir():
        if item.is_file():
            (model / item.name).write_bytes(item.read_bytes())
    cache = tmp_path / "cache"
    first = onnx_model_file(model, "sequence-classification", cache)
    made = first.stat().st_mtime_ns
    assert onnx_model_file(model, "sequence-classification", cache) == first
    assert first.stat().st_mtime_ns == made, "a cached export is reused, not redone"
    assert not list(first.parent.glob(".*tmp")), "no temporary file is left beside the export"

    weights = model / "model.safetensors"
    os.utime(weights, ns=(made + 10**9, made + 10**9))  # retrained into the same folder
    second = onnx_model_file(model, "sequence-classification", cache)
    assert second != first and second.is_file()
    assert not first.exists(), "the stale export of the same folder is pruned"
    entries = [p.name for p in cache.iterdir() if p.is_dir()]
    assert entries == [cache_key(model, "sequence-classification")]
    assert entries[0].startswith(source_prefix(model, "sequence-classification"))


def test_a_folder_without_weights_or_tokenizer_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="train_answer_scorer.py"):
        make_answer_scorer(tmp_path, inference=InferenceSettings(cache_dir=tmp_path / "cache"))
    with pytest.raises(ConfigError, match="no model.safetensors"):
        onnx_model_file(tmp_path, "question-answering", tmp_path / "cache")


def test_an_unwritable_cache_folder_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="ASSISTANT_INFERENCE__CACHE_DIR"):
        onnx_model_file(DEFAULT_READER_DIR, "question-answering", blocker / "cache")


def test_answering_imports_neither_torch_nor_transformers(tmp_path: Path) -> None:
    """A built index answers (scorer, reader and embedder all learned) without loading torch."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "skarn.md").write_text("# Skarn island\n\n" + " ".join(SENTENCES[:2]) + "\n", encoding="utf-8")
    script = textwrap.dedent(f"""
        import sys
        from assistant import Assistant, load_settings
        settings = load_settings(corpus={{"path": {str(corpus)!r}}}, store={{"path": {str(tmp_path / 'index')!r}}})
        Assistant(settings).index()
        from assistant.answer.scorer import make_answer_scorer
        from assistant.answer.span_reader import make_span_reader
        make_answer_scorer(), make_span_reader()  # exported here if no earlier test did: exporting needs torch
        """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=PROJECT_ROOT, timeout=600)
    script = textwrap.dedent(f"""
        import sys
        from assistant import Assistant, load_settings
        settings = load_settings(corpus={{"path": {str(corpus)!r}}}, store={{"path": {str(tmp_path / 'index')!r}}})
        answer = Assistant(settings).ask({QUESTION!r})
        print(answer.short_answer)
        print([m for m in ("torch", "transformers", "sentence_transformers", "gradio", "fastapi") if m in sys.modules])
        """)
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                         cwd=PROJECT_ROOT, timeout=600).stdout.splitlines()
    assert "Ilse Varga" in out[-2]
    assert out[-1] == "[]", f"answering loaded {out[-1]}"


def test_int8_is_opt_in_and_ranks_like_fp32(tmp_path: Path) -> None:
    settings = InferenceSettings(cache_dir=tmp_path / "cache", int8=("answer_scorer",))
    quantised = make_answer_scorer(inference=settings).score(QUESTION, SENTENCES)
    exact = make_answer_scorer(inference=InferenceSettings(cache_dir=tmp_path / "cache")).score(QUESTION, SENTENCES)
    assert int(np.argmax(quantised)) == int(np.argmax(exact)) == 0
    assert not np.array_equal(quantised, exact), "the int8 graph is a different model, not the fp32 file again"
    entries = sorted(p.name for p in (tmp_path / "cache").iterdir() if p.is_dir())
    assert len(entries) == 2 and entries[1] == entries[0] + "-int8"
