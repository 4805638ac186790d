"""Training engine: ``trainer.Trainer`` (loop, AMP, DDP, EMA, checkpoints, evaluation), ``optim``
(optimiser factories), ``schedule`` (warm-up + step / cosine), ``checkpoint`` (atomic, resumable),
``logging`` (CSV / TensorBoard), ``ema`` and ``wider_eval`` (periodic official WIDER evaluation).
The process-group helpers are ``facedet.distributed`` (criteria use them; they must not import the
engine). Submodules are imported on use.
"""
