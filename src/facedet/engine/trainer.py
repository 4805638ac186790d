"""The training loop: an optimiser factory (SGD by default) + warm-up schedule, AMP / channels-last on
CUDA, clipping, EMA, DDP, atomic resumable checkpoints, CSV / TensorBoard logs, periodic evaluation
and best-model tracking.

Checkpoints (``last.pt`` each epoch and every ``save_interval_steps``; ``best.pt`` on a new best
evaluation) store the loader position, so ``fit(resume=True)`` replays exactly the batches an
uninterrupted run would have seen and reaches bit-identical weights on the same hardware.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from facedet import distributed as D
from facedet.atomic import atomic_open
from facedet.config import Config, dump_yaml, to_dict
from facedet.data.loader import FaceDataset, ResumableBatchSampler, make_loader
from facedet.data.records import ImageRecord
from facedet.data.transforms import Compose
from facedet.engine.checkpoint import (
    check_resume_config,
    load_checkpoint,
    rng_state,
    save_atomic,
    set_rng_state,
    unwrap,
)
from facedet.engine.ema import ModelEMA
from facedet.engine.logging import RunLogger
from facedet.engine.optim import OptimizerFactory, by_name
from facedet.engine.schedule import WarmupSchedule
from facedet.models.detector import as_detector
from facedet.samplers.stream import rng_state_of, set_rng_state_of

if TYPE_CHECKING:
    from facedet.criteria.distill import Distiller

Evaluator = Callable[[nn.Module], dict[str, float]]


log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (call before building the model for a reproducible init)."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global that third-party code may draw from
    torch.manual_seed(seed)


class Trainer:
    """Trains ``model`` with ``criterion`` on ``records`` according to ``cfg``; writes into ``out_dir``.

    ``evaluator(model) -> {metric: value}`` runs on rank 0 every ``cfg.eval.interval`` epochs; the
    value of ``best_metric`` (higher is better) decides ``best.pt``. ``transform``: the augmentation
    pipeline (default: the model family's, ``Family.augment``). ``optimizer``: a factory
    ``(model, cfg.train) -> Optimizer | [Optimizer, ...]`` (default: ``train.optimizer``, see
    :mod:`facedet.engine.optim`); the first optimiser is the scheduled one, :meth:`train_step` steps
    them all and is the override point of trainers that alternate them (architecture search).
    ``distiller``: a :class:`facedet.criteria.distill.Distiller` whose frozen teacher adds its terms
    to every step's losses (``--teacher``).
    """

    def __init__(
        self,
        model: nn.Module,
        criterion: nn.Module,
        cfg: Config,
        records: Sequence[ImageRecord],
        out_dir: str | Path,
        evaluator: Evaluator | None = None,
        best_metric: str = "ap_hard",
        progress: bool = True,
        transform: Compose | None = None,
        optimizer: OptimizerFactory | None = None,
        distiller: Distiller | None = None,
    ) -> None:
        self.cfg = cfg
        tc = cfg.train
        if tc.threads > 0:
            torch.set_num_threads(tc.threads)
        self.device = D.init_from_env(tc.device)
        self.cuda = self.device.type == "cuda"
        self.out = Path(out_dir)
        self.evaluator, self.best_metric = evaluator, best_metric
        self.progress = progress and D.is_main()

        model = model.to(self.device)
        self.channels_last = tc.channels_last if self.cuda else tc.cpu_channels_last
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # stub lacks it
        self.model = model
        self.distiller = distiller.to(self.device) if distiller is not None else None
        if self.distiller is not None and self.channels_last:
            self.distiller.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        # mixed precision: fp16 + loss scaling on CUDA (train.amp), bf16 on CPU (train.cpu_bf16)
        self.autocast_dtype = torch.float16 if self.cuda else torch.bfloat16
        self.autocast = tc.amp if self.cuda else tc.cpu_bf16
        self.criterion = criterion
        self.ddp = nn.parallel.DistributedDataParallel(model, device_ids=[self.device] if self.cuda else None) \
            if D.is_dist() else None
        made = (optimizer or by_name(tc.optimizer))(model, tc)
        self.optimizers: list[torch.optim.Optimizer] = [made] if isinstance(made, torch.optim.Optimizer) else list(made)
        self.optimizer = self.optimizers[0]
        extra = [p for p in self.distiller.parameters() if p.requires_grad] if self.distiller is not None else []
        if extra:  # feature-distillation adapters train with the model (never exported with it)
            self.optimizer.add_param_group({"params": extra})
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.cuda and tc.amp)
        self.ema = ModelEMA(model, tc.ema_decay) if tc.ema else None

        det = as_detector(model)
        if transform is None:
            from facedet.families import family_of

            transform = family_of(model).augment(det, cfg.data)
        dataset = FaceDataset(records, transform, det.input_mean, det.input_std, det.input_rgb, tc.seed)
        self.sampler = ResumableBatchSampler(len(dataset), tc.batch_size, tc.seed, True, D.rank(), D.world_size())
        self.loader = make_loader(dataset, self.sampler, cfg.data.num_workers)
        self.iters_per_epoch = self.sampler.batches_per_epoch()
        # a step budget beyond epochs x iterations extends the run, and the schedule with it (a cosine over
        # the shorter run would sit at its floor for the extra steps)
        self.epochs = max(tc.epochs, -(-tc.max_steps // self.iters_per_epoch)) if tc.max_steps else tc.epochs
        self.schedule = WarmupSchedule(self.optimizer, self.iters_per_epoch, self.epochs, tc.schedule, tc.milestones,
                                       tc.gamma, tc.warmup_iters, tc.warmup_ratio, tc.min_lr_ratio,
                                       tc.milestone_iters)
        self.logger = RunLogger(self.out, enabled=D.is_main())
        self.epoch = 0  # epoch to run next
        self.batch = 0  # next batch index inside that epoch
        self.step = 0  # optimiser steps done
        self.sums: dict[str, float] = {}  # running loss sums of the current epoch
        self.best: float = -math.inf
        self.history: list[dict[str, Any]] = []

    # ---- checkpoints ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "model": unwrap(self.model).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "optimizers": [o.state_dict() for o in self.optimizers[1:]],
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "ema": self.ema.state_dict() if self.ema else None,
            "ema_updates": self.ema.updates if self.ema else 0,
            "epoch": self.epoch,
            "batch": self.batch,
            "step": self.step,
            "sums": dict(self.sums),
            "best": self.best,
            "sampler": self.sampler.state_dict(),
            "rng": rng_state(),
            "criterion_rng": rng_state_of(self.criterion),
            "distiller": self.distiller.adapters.state_dict() if self.distiller is not None else None,
            "config": to_dict(self.cfg),
            "model_name": self.cfg.model.name,
        }

    def save(self, name: str = "last.pt") -> Path | None:
        """Write a checkpoint (rank 0 only) and the resolved config beside it."""
        path = None
        if D.is_main():
            path = save_atomic(self.state(), self.out / name)
            dump_yaml(self.cfg, self.out / "config.yaml")
        D.barrier()
        return path

    def load(self, path: str | Path) -> None:
        """Restore everything saved by :meth:`state`."""
        ck = load_checkpoint(path, map_location=self.device)
        for change in check_resume_config(ck.get("config") or {}, to_dict(self.cfg), path):
            if D.is_main():
                log.info("resume: %s", change)
        unwrap(self.model).load_state_dict(ck["model"])
        if self.distiller is not None and ck.get("distiller") is not None:
            self.distiller.adapters.load_state_dict(ck["distiller"])
        self.optimizer.load_state_dict(ck["optimizer"])
        for opt, state in zip(self.optimizers[1:], ck.get("optimizers", []), strict=True):
            opt.load_state_dict(state)
        self.schedule.load_state_dict(ck["schedule"])
        self.scaler.load_state_dict(ck["scaler"])
        if self.ema is not None and ck.get("ema") is not None:
            self.ema.load_state_dict(ck["ema"], ck["ema_updates"])
        self.epoch, self.batch, self.step = ck["epoch"], ck["batch"], ck["step"]
        self.sums, self.best = dict(ck["sums"]), ck["best"]
        set_rng_state(ck["rng"])
        if ck.get("criterion_rng") is not None:
            set_rng_state_of(self.criterion, ck["criterion_rng"])  # samplers that draw (Group Sampling) go on exactly

    # ---- loop -----------------------------------------------------------------------------------

    def train_step(self, images: torch.Tensor, targets: list[dict[str, torch.Tensor]]) -> dict[str, float]:
        """One optimiser step; returns the float losses."""
        tc = self.cfg.train
        images = images.to(self.device, non_blocking=True)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        net = self.ddp or self.model
        with torch.autocast(self.device.type, dtype=self.autocast_dtype, enabled=self.autocast):
            outputs = net(images)
            taught = self.distiller.teacher_outputs(images) if self.distiller is not None else None
        if self.distiller is not None and taught is not None:
            losses = self.distiller.losses(outputs, taught, targets, self.criterion)
        else:
            losses = self.criterion(outputs, targets)
        loss = losses["loss"]
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss {loss.item()} at step {self.step}: {losses}")
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.distiller is not None and D.is_dist():  # hint adapters live outside DDP: average them by hand
            for p in self.distiller.parameters():
                if p.grad is not None:
                    p.grad.copy_(D.reduce_mean(p.grad))
        if tc.grad_clip > 0:
            for opt in self.optimizers:
                self.scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(self.model.parameters(), tc.grad_clip)
        for opt in self.optimizers:
            self.scaler.step(opt)
        self.scaler.update()
        self.schedule.step()
        if self.ema is not None:
            self.ema.update(unwrap(self.model))
        self.step += 1
        return {k: float(v.detach()) for k, v in losses.items()}

    def evaluate(self) -> dict[str, float]:
        """Run the evaluator on rank 0 (EMA weights when enabled); other ranks wait."""
        metrics: dict[str, float] = {}
        if self.evaluator is not None and D.is_main():
            net = self.ema.module if self.ema is not None else unwrap(self.model)
            was_training = net.training
            metrics = self.evaluator(net)
            net.train(was_training)
        D.barrier()
        return metrics

    def fit(self, resume: bool | str | Path = False) -> list[dict[str, Any]]:
        """Train to ``cfg.train.epochs`` (or ``max_steps``); returns the per-epoch log rows.

        With ``train.flush_denormal`` subnormal floats are flushed to zero while this runs (a process-wide
        CPU flag, cleared again on return; torch offers no way to read its previous state)."""
        if not self.cfg.train.flush_denormal:
            return self._fit(resume)
        torch.set_flush_denormal(True)  # a no-op where the CPU lacks the flag
        try:
            return self._fit(resume)
        finally:
            torch.set_flush_denormal(False)

    def _fit(self, resume: bool | str | Path) -> list[dict[str, Any]]:
        tc = self.cfg.train
        if resume:
            path = self.out / "last.pt" if resume is True else Path(resume)
            self.load(path)
            if D.is_main():
                self.logger.rewind(self.step)
                if self.epoch >= self.epochs:
                    log.info("resume: the checkpoint has finished %d of %d epochs: nothing left to train "
                             "(raise train.epochs to go on)", self.epoch, self.epochs)
        epochs = self.epochs
        while self.epoch < epochs:
            self.sampler.set_epoch(self.epoch, self.batch)
            self.model.train()
            t0 = time.time()
            bar = tqdm(self.loader, total=len(self.sampler), disable=not self.progress, mininterval=10,
                       desc=f"epoch {self.epoch + 1}/{epochs}", dynamic_ncols=True)
            for images, targets in bar:
                losses = self.train_step(images, targets)
                self.batch += 1
                for k, v in losses.items():
                    self.sums[k] = self.sums.get(k, 0.0) + v
                self.sums["n"] = self.sums.get("n", 0.0) + 1
                if self.step % tc.log_interval == 0:
                    row = {"step": self.step, "epoch": self.epoch + self.batch / self.iters_per_epoch,
                           "lr": self.optimizer.param_groups[0]["lr"], **losses}
                    self.logger.log_step(row)
                    bar.set_postfix(loss=f"{losses['loss']:.3f}", lr=f"{row['lr']:.2e}")
                if tc.save_interval_steps and self.step % tc.save_interval_steps == 0:
                    self.save()
                if tc.max_steps and self.step >= tc.max_steps:
                    self._stop_early(time.time() - t0)
                    return self.history
            self._end_epoch(time.time() - t0)
        self.logger.close()
        return self.history

    def _stop_early(self, seconds: float) -> None:
        """``max_steps`` reached inside an epoch: checkpoint, evaluate and log a row for the partial epoch
        (the epoch counter does not advance, so a resumed run with a larger budget goes on from here)."""
        evaluate = self.evaluator is not None and self.cfg.eval.interval > 0
        self._close_period(round(self.epoch + self.batch / self.iters_per_epoch, 3), seconds, evaluate, advance=False)
        self.logger.close()

    def _end_epoch(self, seconds: float) -> None:
        ev = self.cfg.eval
        evaluate = bool(self.evaluator) and ev.interval > 0 and (self.epoch + 1) % ev.interval == 0
        self._close_period(self.epoch + 1, seconds, evaluate, advance=True)

    def _close_period(self, epoch: float, seconds: float, evaluate: bool, advance: bool) -> None:
        """Log the row of an epoch (or partial epoch), evaluate when asked, checkpoint, track the best."""
        n = max(self.sums.get("n", 1.0), 1.0)
        row: dict[str, Any] = {"epoch": epoch, "step": self.step, "seconds": round(seconds, 1),
                               "lr": self.optimizer.param_groups[0]["lr"]}
        row.update({k: v / n for k, v in self.sums.items() if k != "n"})
        if advance:
            self.epoch, self.batch, self.sums = self.epoch + 1, 0, {}
        if evaluate:
            self.save()  # the progress is safe before a (possibly long) evaluation starts
        metrics = self.evaluate() if evaluate else {}
        row.update(metrics)
        improved = self.best_metric in metrics and metrics[self.best_metric] > self.best
        if improved:
            self.best = metrics[self.best_metric]
        # rank 0 alone has metrics: share the decision (save() waits at a barrier on every rank)
        improved = bool(D.broadcast_object(improved)) if D.is_dist() else improved
        row["best"] = self.best if self.best > -math.inf else ""
        self.save()
        if D.is_main():
            if improved:
                with open(self.out / "last.pt", "rb") as src, atomic_open(self.out / "best.pt") as dst:
                    shutil.copyfileobj(src, dst)
            self.logger.log_epoch(row)
        self.history.append(row)
