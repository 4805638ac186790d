"""Training engine: ``trainer.Trainer`` (loop, AMP, DDP, EMA, checkpoints, evaluation), ``schedule``
(warm-up + step / cosine), ``checkpoint`` (atomic, resumable), ``distributed`` (torchrun helpers),
``logging`` (CSV / TensorBoard), ``ema`` and ``wider_eval`` (periodic official WIDER evaluation).

Submodules are imported on use so that ``facedet.criteria`` can use ``distributed`` without pulling
in the trainer.
"""
