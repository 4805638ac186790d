#!/usr/bin/env bash
# A miniature SCRFD computation-redistribution search on the data at hand (issue 15): N candidates at
# GFLOPS GMACs (MobileNet space, stage 1), each trained from scratch for EPOCHS epochs at 320 px with one
# thread, evaluated once at the end on WIDER val (the images present), then ranked by Hard AP.
# At this budget the ranking says little: see "A miniature search" in the README's "Architecture search".
#
# usage: benchmarks/search_mini.sh SHARED_DIR [OUT_DIR] [N] [GFLOPS] [EPOCHS] [PARALLEL] [TRAIN_FIRST]
#   TRAIN_FIRST: train only the first K of the N candidates (all by default)
# Re-running resumes unfinished candidates (each is an ordinary `facedet train` run with --resume).
set -euo pipefail
SHARED=${1:?usage: benchmarks/search_mini.sh SHARED_DIR [OUT_DIR] [N] [GFLOPS] [EPOCHS] [PARALLEL]}
OUT=${2:-runs/cr_mini}
N=${3:-8}
GFLOPS=${4:-0.5}
EPOCHS=${5:-3}
PARALLEL=${6:-2}
TRAIN_FIRST=${7:-$N}
PY=${PYTHON:-.venv/bin/python}
# TEACHER=FILE distils from that model (dense SCRFD distillation, as the default model's recipe): from-scratch
# runs of a few hundred steps reach no measurable AP without it (0.0003-0.0008 Hard after 8 epochs, 2 candidates),
# nor with it at that length (<= 0.001; the default model's own curve had Easy 0.10 only after 1,150 steps)
TEACHER=${TEACHER:-}
# search.yaml is written last: without it the candidate set is incomplete and is drawn again
[ -f "$OUT/search.yaml" ] || "$PY" -m facedet search scrfd --gflops "$GFLOPS" --stage 1 --num "$N" --seed 0 \
  --out "$OUT" --no-progress --overwrite
train_one() {  # $1 = candidate file
  local cand=$1 run=${1%.yaml} resume=()
  [ -f "$run/epochs.csv" ] && grep -q "ap_hard" "$run/epochs.csv" && [ "$(tail -1 "$run/epochs.csv" | cut -d, -f1)" = "$EPOCHS" ] && return 0
  [ -f "$run/last.pt" ] && resume=(--resume)
  nice -n 10 "$PY" -m facedet train "$cand" --data "$SHARED/data/widerface" --val "$SHARED/data/widerface" \
    --out "$run" "${resume[@]}" --no-progress ${TEACHER:+--teacher "$TEACHER" distill.feat_weight=2.0} train.threads=1 data.num_workers=1 data.input_size=320 \
    train.batch_size=16 train.epochs="$EPOCHS" train.schedule=cosine train.lr=0.02 train.warmup_iters=100 \
    train.grad_clip=35 train.cpu_channels_last=true eval.interval="$EPOCHS" eval.max_size=640 \
    train.save_interval_steps=50 train.log_interval=20 > "$run.log" 2>&1
}
export -f train_one
export SHARED EPOCHS PY TEACHER
ls "$OUT"/cand_*.yaml | head -n "$TRAIN_FIRST" | xargs -P "$PARALLEL" -I{} bash -c 'train_one {}'
"$PY" -m facedet search collect "$OUT"
