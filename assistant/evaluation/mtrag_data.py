"""MTRAG's data: its domains, their conversations and labelled turns, the seeded fit/report split
by conversation, and the sub-pool a suite indexes (see `mtrag.py` for the suite itself)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import BENCHMARKS_DIR, PROJECT_ROOT, Settings
from assistant.evaluation.errors import EvalError
from assistant.jsonl import read_json_lines


@dataclass(frozen=True)
class Domain:
    """One MTRAG domain: its full benchmark (beside the checkout), its vendored gate data (in a plain
    clone), the folder its sub-pools are written to and the collection they are indexed into."""

    name: str
    title: str
    full_data: Path
    vendored_data: Path
    work: Path
    collection: str

    @property
    def suite(self) -> str:
        """The suite name its runs are gated under (evals/thresholds.json); cloud's predates domains."""
        return "mtrag" if self.name == "cloud" else f"mtrag-{self.name}"

    @property
    def data(self) -> Path:
        return self.full_data if (self.full_data / "passages.jsonl").is_file() else self.vendored_data


def _domain(name: str, title: str) -> Domain:
    cloud = name == "cloud"  # cloud's work folder and collection predate domains: kept, so its index is reused
    return Domain(name, title, BENCHMARKS_DIR / f"mtrag-{name}", PROJECT_ROOT / "evals" / "data" / f"mtrag-{name}",
                  PROJECT_ROOT / "evals" / "reports" / ("mtrag-subpool" if cloud else f"mtrag-{name}-subpool"),
                  "eval-mtrag-subpool" if cloud else f"eval-mtrag-{name}-subpool")


DOMAINS = {"cloud": _domain("cloud", "MTRAG Cloud"), "fiqa": _domain("fiqa", "MTRAG FiQA")}
DEFAULT_DOMAIN = DOMAINS["cloud"]
DATA = DEFAULT_DOMAIN.data
WORK = DEFAULT_DOMAIN.work
SEED = 20261129
DEFAULT_POOL = 3000
GATED_POOL = 1000  # what CI indexes (about 2,700 chunks) and `--gate` has thresholds for
ANSWERABLE = frozenset({"ANSWERABLE", "PARTIAL"})
LABELS = ANSWERABLE | {"UNANSWERABLE", "UNDERSPECIFIED"}


def part_of(conversation_id: str, seed: int = SEED) -> str:
    """A stable, seeded half of the conversations: the same id always lands on the same side."""
    digest = hashlib.sha256(f"{seed}:{conversation_id}".encode()).digest()
    return "report" if digest[0] % 2 else "fit"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """A benchmark file, or an EvalError saying where the benchmark was expected."""
    try:
        return read_json_lines(path)
    except FileNotFoundError:
        raise EvalError(f"MTRAG data not found: {path} (expected the benchmark under {path.parent})") from None
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path}: not JSON lines ({exc})") from None


@dataclass(frozen=True)
class MtragTurn:
    """One labelled turn with the benchmark's history (earlier questions and reference answers)."""

    dataset: str                      # "mtrag" or "mtrag-un"
    conversation_id: str
    index: int                        # position in its conversation (0 = first turn)
    question: str
    label: str                        # ANSWERABLE / PARTIAL / UNANSWERABLE / UNDERSPECIFIED
    gold: tuple[str, ...]
    rewrite: str | None
    history: tuple[tuple[str, str], ...]

    @property
    def answerable(self) -> bool:
        return self.label in ANSWERABLE

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.conversation_id}/t{self.index}"


def labelled_turns(conversations: Iterable[dict[str, Any]], dataset: str, *, last_only: bool,
                   labels: Collection[str] = LABELS) -> list[MtragTurn]:
    """The labelled turns (CONVERSATIONAL ones skipped), each with the history before it."""
    found = []
    for conversation in conversations:
        turns = conversation["turns"]
        for i, turn in enumerate(turns):
            if (last_only and i != len(turns) - 1) or turn.get("answerability") not in labels:
                continue
            history = tuple((t["question"], t.get("reference_answer") or "") for t in turns[:i])
            found.append(MtragTurn(dataset, conversation["id"], i, turn["question"], turn["answerability"],
                                   tuple(turn.get("gold_passage_ids") or ()), turn.get("rewrite"), history))
    return found


def load_turns(data: Path = DATA, labels: Collection[str] = LABELS) -> tuple[list[dict[str, Any]], list[MtragTurn]]:
    """(all conversations of both files, their labelled turns: every turn of MTRAG, the last of MTRAG-UN)."""
    conversations = read_jsonl(data / "conversations.jsonl")
    underspecified = read_jsonl(data / "conversations_un.jsonl")
    turns = labelled_turns(conversations, "mtrag", last_only=False, labels=labels)
    turns += labelled_turns(underspecified, "mtrag-un", last_only=True, labels=labels)
    return conversations + underspecified, turns


def subpool_lines(size: int, conversations: Sequence[dict[str, Any]], data: Path = DATA, seed: int = SEED) -> str:
    """The sub-pool as JSON Lines: every passage the conversations name, then seeded others up to `size`.
    A folder without the full pool (the vendored sample) holds the gated sub-pool as written here."""
    vendored = data / f"passages-{size}.jsonl"
    if not (data / "passages.jsonl").is_file() and vendored.is_file():
        return vendored.read_text(encoding="utf-8")
    if not (data / "passages.jsonl").is_file():
        raise EvalError(f"{data} holds no {size}-passage sub-pool: pass --pool {GATED_POOL}, or put the MTRAG "
                        f"benchmark at {BENCHMARKS_DIR / data.name}")
    named = {pid for c in conversations for t in c["turns"]
             for key in ("gold_passage_ids", "nonrelevant_passage_ids") for pid in (t.get(key) or [])}
    passages = read_jsonl(data / "passages.jsonl")
    others = [p for p in passages if p["id"] not in named]
    random.Random(seed).shuffle(others)
    chosen = [p for p in passages if p["id"] in named] + others[:max(0, size - len(named))]
    return "".join(json.dumps({"id": p["id"], "title": p.get("title") or "", "text": p["text"]}) + "\n" for p in chosen)


def write_subpool(size: int, conversations: Sequence[dict[str, Any]], data: Path = DATA, work: Path = WORK,
                  seed: int = SEED) -> tuple[Path, int, int]:
    """Write the sub-pool JSONL; returns (path, passages, of which named by the conversations)."""
    named = {pid for c in conversations for t in c["turns"]
             for key in ("gold_passage_ids", "nonrelevant_passage_ids") for pid in (t.get(key) or [])}
    body = subpool_lines(size, conversations, data, seed)
    chosen = [json.loads(line) for line in body.splitlines()]
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"passages-{size}.jsonl"
    if not path.is_file() or path.read_text(encoding="utf-8") != body:  # unchanged file: the index stays incremental
        path.write_text(body, encoding="utf-8")
    return path, len(chosen), len(named & {p["id"] for p in chosen})


def subpool_settings(settings: Settings, corpus: Path, pool: int, domain: Domain = DEFAULT_DOMAIN) -> Settings:
    return settings.with_(corpus={"path": corpus}, store={"collection": f"{domain.collection}-{pool}"})


def select_turns(turns: Sequence[MtragTurn], part: str, sample: int | None, seed: int = SEED) -> list[MtragTurn]:
    """The turns of one part. `sample` keeps every turn of the rare labels (unanswerable,
    underspecified) and a seeded sample of the answerable ones up to `sample` turns in all (every
    figure is per label, so its rate stays an estimate over that label; smaller samples nest)."""
    if sample is not None and sample < 1:
        raise EvalError(f"--sample must be at least 1, got {sample}")
    chosen = sorted((t for t in turns if part_of(t.conversation_id, seed) == part), key=lambda t: t.key)
    if sample is not None and sample < len(chosen):
        rare = [t for t in chosen if not t.answerable]
        answerable = [t for t in chosen if t.answerable]
        random.Random(seed).shuffle(answerable)
        chosen = sorted(rare + answerable[:max(0, sample - len(rare))], key=lambda t: t.key)
    return chosen
