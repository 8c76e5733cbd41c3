#!/bin/bash
# Compare answer scorers on the same candidate rows (issue 28 item 2): each scorer re-reads the rows
# evals/answer_rows.py + evals/probe_rows.py collected (evals/rescore_rows.py), then gets the product's
# calibration (selector + confidence on SQuAD 2.0's calibration articles, then the per-collection rule on
# three fit domains) and, as a variant, a three-domain confidence fit; every report part is printed.
# MTRAG fit conversations a scorer trained on are left out of every scorer's fit rows, so all compare alike.
#
#   evals/compare_scorers.sh assistant/models/answer_scorer evals/reports/scorer-candidate ...
#
# Figures: evals/results/scorer_sources/<scorer>-{squad,three-domain}-{trust,collection}.json
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ROWS=${ROWS:-evals/reports/answer-rows}
OUT=evals/results/scorer_sources
mkdir -p "$OUT"
for scorer in "$@"; do
  name=$(basename "$scorer")
  work=evals/reports/compare/$name
  mkdir -p "$work/model"
  cp assistant/models/answer_scorer/calibration.json "$work/model/"  # the 'shipped' line's models
  $PY evals/rescore_rows.py --scorer "$scorer" --rows "$ROWS" --out "$work/rows" --drop-trained-conversations
  echo "=== $name: product calibration (SQuAD calibration articles), per-collection rule on three fit domains"
  $PY evals/fit_answer_trust.py --rows "$work/rows" --fit-domains squad2 --model-dir "$work/model" \
      --results "$OUT/$name-squad-trust.json" --write
  $PY evals/fit_collection_threshold.py --rows "$work/rows" --model-dir "$work/model" --results "$OUT/$name-squad-collection.json"
  echo "=== $name: confidence fitted on three fit domains, per-collection rule on top"
  $PY evals/fit_answer_trust.py --rows "$work/rows" --model-dir "$work/model" --results "$OUT/$name-three-domain-trust.json" --write
  $PY evals/fit_collection_threshold.py --rows "$work/rows" --model-dir "$work/model" --results "$OUT/$name-three-domain-collection.json"
done
