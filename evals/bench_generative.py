"""Follow-up accuracy, citation validity and generation latency on the bundled corpus.

    python evals/bench_generative.py                    # extractive + llamacpp + openai (llama.cpp server)
    python evals/bench_generative.py --backends extractive
    python evals/bench_generative.py --json report.json

Follow-up accuracy: share of conversation turns whose answer contains an expected span and cites
the expected document (multi-turn conversations written from corpus/*.txt; later turns only make
sense with the history). Citation validity: share of answers whose every citation number points at
a retrieved passage and quotes it verbatim (and, for generated answers, share not fallen back).
Latency: median seconds of the generation stage of a generated answer (Gemma-3-270M, this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class TurnCheck:
    question: str
    answers: tuple[str, ...]      # any of these spans (case-insensitive) in the answer text
    sources: tuple[str, ...]      # any of these corpus files among the citations


_D0, _D1, _D2, _D3 = "000_41cde8d9d66dd8ed.txt", "001_8794f3ef5473d852.txt", "002_73f85231b0a38a8c.txt", "003_e49305c45f08ffdc.txt"

CONVERSATIONS: tuple[tuple[TurnCheck, ...], ...] = (
    (TurnCheck("Where will NSATU be based?", ("Wiesbaden",), (_D1, _D2)),
     TurnCheck("Who will head it?", ("three-star general", "3-Star General"), (_D1, _D2)),
     TurnCheck("And who will that general report to?", ("Cavoli", "SACEUR", "Supreme Allied Commander Europe"), (_D1, _D2))),
    (TurnCheck("In which city was the JATEC agreement with NATO reached?", ("Bydgoszcz",), (_D0,)),
     TurnCheck("Who led the Ukrainian delegation there?", ("Klochko",), (_D0,)),
     TurnCheck("When will it be operational?", ("early 2025",), (_D0,))),
    (TurnCheck("Who led the Ukrainian delegation in Bydgoszcz?", ("Klochko",), (_D0,)),
     TurnCheck("What did he say the center would help Ukraine do?", ("integrate into Alliance structures",), (_D0,))),
    (TurnCheck("What is the Ukraine Defense Contact Group?", ("coordinates arms deliveries",), (_D1,)),
     TurnCheck("Who created it?", ("Austin",), (_D1,)),
     TurnCheck("How many countries does it coordinate arms deliveries from?", ("50",), (_D1,))),
    (TurnCheck("Who is NATO's outgoing secretary general?", ("Stoltenberg",), (_D1, _D2)),
     TurnCheck("When did he meet the defense ministers?", ("June 14",), (_D1,))),
    (TurnCheck("Which country objected to calling NSATU a mission?", ("Germany",), (_D1,)),
     TurnCheck("Why did it object?", ("at war with Russia",), (_D1,))),
    (TurnCheck("How many personnel will the NATO effort involve?", ("700",), (_D2,)),
     TurnCheck("Where will its command be located?", ("Wiesbaden",), (_D2,))),
    (TurnCheck("What did France offer to donate to Ukraine?", ("Mirage",), (_D1,)),
     TurnCheck("Why could that be a problem?", ("different training", "struggling to train its pilots"), (_D1,))),
    (TurnCheck("Where will NATO's 75th anniversary summit be held?", ("Washington",), (_D1, _D2)),
     TurnCheck("And where was the one before?", ("Vilnius",), (_D1,))),
)
