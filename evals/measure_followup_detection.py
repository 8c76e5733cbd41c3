"""Which follow-ups lean on the conversation? The short-turn rule of the deterministic rewrite, measured.

    python evals/measure_followup_detection.py [--pool 1000] [--most 5]

The rewrite (assistant/conversation/rewrite.py) carries earlier turns' terms into a follow-up only when
it refers back: a pronoun, a demonstrative, an ellipsis opener, or at most `SHORT_CONTENT_WORDS`
content words. With 0 (a turn of stopwords only), "Within what time frame?" stands alone and retrieves
nothing of the pledge it asks about; on MTRAG the benchmark's own rewrite adds words to well over half
the later turns, and the pronoun rule finds only a third of them.

For K = 0..`--most`, this prints R@5 of every answerable later turn (it has history and gold passages)
on each domain's gated sub-pool, with the query our rewrite makes under K, next to the last turn alone
and the benchmark's rewrite, per domain and part. The rule fixed beforehand: K is the one with the best
mean R@5 over the two domains' fit parts, provided neither fit part is below K = 0 (ties: the smaller
K); the report parts only confirm. Figures go to evals/results/followup_detection.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import load_settings  # noqa: E402
from assistant.config import PROJECT_ROOT  # noqa: E402
from assistant.conversation.rewrite import refers_back, rewrite_followup  # noqa: E402
from assistant.evaluation import mtrag  # noqa: E402
from assistant.evaluation.metrics import document_ranking  # noqa: E402
from assistant.evaluation.mtrag_data import DOMAINS, GATED_POOL, part_of  # noqa: E402
from assistant.types import Turn  # noqa: E402

RESULT = PROJECT_ROOT / "evals" / "results" / "followup_detection.json"
PARTS = ("fit", "report")


def measure(domain_name: str, pool: int, most: int) -> dict[str, dict]:
    engine, turns, _, _, _ = mtrag.open_subpool(load_settings(), domain=DOMAINS[domain_name], pool=pool, progress=False)
    found: dict[str, dict] = {}
    for part in PARTS:
        chosen = [t for t in turns if t.dataset == "mtrag" and t.answerable and t.gold and t.index > 0
                  and part_of(t.conversation_id) == part]
        recalls: dict[str, list[float]] = {}
        changed = {k: 0 for k in range(most + 1)}
        cache: dict[str, list[str]] = {}

        def recall(query: str, gold: tuple[str, ...]) -> float:
            if query not in cache:
                cache[query] = document_ranking(p.source for p in engine.retrieve(query, top_k=30))
            return mtrag.recall_at_k(cache[query], gold) or 0.0

        for turn in chosen:
            history = tuple(Turn(question=q, answer=a) for q, a in turn.history)
            recalls.setdefault("last turn", []).append(recall(turn.question, turn.gold))
            recalls.setdefault("benchmark rewrite", []).append(recall(turn.rewrite or turn.question, turn.gold))
            for k in range(most + 1):
                recalls.setdefault(f"K={k}", []).append(recall(rewrite_followup(turn.question, history, k), turn.gold))
                changed[k] += refers_back(turn.question, k)
        found[part] = {"turns": len(chosen), "r_at_5": {name: round(statistics.mean(v), 3) for name, v in recalls.items()},
                       "turns_rewritten": changed}
        print(f"{DOMAINS[domain_name].title} {part} ({len(chosen)} answerable later turns): "
              + "  ".join(f"{name} {statistics.mean(v):.3f}" for name, v in recalls.items()), flush=True)
    return found


def choose(results: dict[str, dict[str, dict]], most: int) -> int:
    def fit(k: int, domain: str) -> float:
        return results[domain]["fit"]["r_at_5"][f"K={k}"]

    allowed = [k for k in range(most + 1) if all(fit(k, d) >= fit(0, d) for d in results)]
    return max(allowed, key=lambda k: (round(statistics.mean(fit(k, d) for d in results), 6), -k))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=GATED_POOL)
    parser.add_argument("--most", type=int, default=5, help="the largest K tried")
    args = parser.parse_args()
    results = {name: measure(name, args.pool, args.most) for name in DOMAINS}
    chosen = choose(results, args.most)
    RESULT.write_text(json.dumps({"command": "python evals/measure_followup_detection.py", "pool": args.pool,
                                  "results": results, "chosen_on_fit": chosen}, indent=1) + "\n")
    print(f"chosen on the fit parts: SHORT_CONTENT_WORDS = {chosen}")


if __name__ == "__main__":
    main()
