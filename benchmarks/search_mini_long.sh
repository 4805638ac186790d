#!/usr/bin/env bash
# The miniature search's second protocol (issue 15): the candidates of a search folder trained with the
# default model's recipe (benchmarks/train_default.sh: crops 0.15-1.0, lr 0.02, 65-epoch cosine, EMA 0.999,
# dense distillation + neck hints from the official SCRFD-0.5GF) but stopped at STEPS steps, evaluated then.
# A cand_ref.yaml holding the released SCRFD-0.5GF architecture runs beside them as the reference.
#
# usage: benchmarks/search_mini_long.sh SHARED_DIR SEARCH_DIR [STEPS] [PARALLEL]
set -euo pipefail
SHARED=${1:?usage: benchmarks/search_mini_long.sh SHARED_DIR SEARCH_DIR [STEPS] [PARALLEL]}
OUT=${2:?SEARCH_DIR}
STEPS=${3:-1500}
PARALLEL=${4:-2}
PY=${PYTHON:-.venv/bin/python}
train_one() {  # $1 = candidate file
  local cand=$1 run=${1%.yaml} resume=()
  [ -f "$run/last.pt" ] && resume=(--resume)
  nice -n 10 "$PY" -m facedet train "$cand" --data "$SHARED/data/widerface" --val "$SHARED/data/widerface" \
    --out "$run" "${resume[@]}" --no-progress --teacher "$SHARED/weights/scrfd/scrfd_500m.onnx" \
    distill.feat_weight=2.0 train.threads=1 data.num_workers=1 data.input_size=320 \
    "data.crop_choice=[0.15,0.225,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]" train.batch_size=16 train.epochs=65 \
    train.schedule=cosine train.warmup_iters=300 train.lr=0.02 train.grad_clip=35 train.cpu_channels_last=true \
    train.ema=true train.ema_decay=0.999 train.max_steps="$STEPS" eval.interval=100 eval.max_size=640 \
    train.save_interval_steps=100 train.log_interval=20 > "$run.log" 2>&1
}
export -f train_one
export SHARED STEPS PY
ls "$OUT"/cand_*.yaml | xargs -P "$PARALLEL" -I{} bash -c 'train_one {}'
"$PY" -m facedet search collect "$OUT"
