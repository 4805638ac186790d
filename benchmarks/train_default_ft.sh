#!/usr/bin/env bash
# Stage 2 of the packaged default model (src/facedet/weights/MODEL_CARD.md): start from the stage-1 weights
# (benchmarks/train_default.sh, 65 epochs from scratch), add the Caltech WebFaces images (boxes from their
# facial points, unlabelled faces found by the teacher as ignore regions) and train 15 more epochs with the
# same teacher and recipe at half the learning rate.
#
# usage: benchmarks/train_default_ft.sh SHARED_DIR WEBFACES_DIR STAGE1_WEIGHTS [OUT_DIR] [overrides]
#   WEBFACES_DIR: the folder `facedet data ignore-unlabelled` wrote (label.txt), e.g.
#     facedet data ignore-unlabelled /data/webfaces --out /data/webfaces_ign --weights SHARED/weights/scrfd/scrfd_500m.onnx
#   STAGE1_WEIGHTS: stage 1's exported weights (the previous packaged file, or runs/default_kd/best.pt).
# WIDER's 1,000 images are repeated 3 times per epoch so they stay about a third of what the model sees.
set -euo pipefail
SHARED=${1:?usage: benchmarks/train_default_ft.sh SHARED_DIR WEBFACES_DIR STAGE1_WEIGHTS [OUT_DIR] [overrides]}
WEBFACES=${2:?WEBFACES_DIR}
INIT=${3:?STAGE1_WEIGHTS}
OUT=${4:-runs/default_kd_ft}
shift $(( $# >= 4 ? 4 : 3 ))
exec "$(dirname "$0")/train_default.sh" "$SHARED" "$OUT" --data "$WEBFACES" "data.repeats=[3,1,1]" \
  "model.init=$INIT" train.epochs=15 train.lr=0.01 train.warmup_iters=300 eval.interval=3 "$@"
