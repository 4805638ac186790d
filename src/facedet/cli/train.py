"""``facedet train MODEL --data PATH [--data PATH2 ...] [--val WIDER_ROOT] [--out DIR] [--resume] [k=v ...]``.

Several ``--data`` folders are mixed (``data.repeats=[2,1]`` repeats them unevenly). Overrides are
``section.key=value`` (``train.epochs=10 train.lr=0.01``); the resolved config is written to
``OUT/config.yaml`` beside the checkpoints. Multi-process: ``torchrun --nproc_per_node N -m facedet train ...``.

Every family trains on the same engine; its criterion, augmentation and paper recipe come from its
``Family`` object (``facedet/families/<family>/recipe.py``). The defaults are SCRFD's schedule: for
EXTD add the paper recipe scaled to your budget (``--recipe paper --iterations N``), for Group
Sampling ``--recipe paper`` (100 epochs) and ``loss.sampling=gs|random|ohem|focal|wrs|gs_wrs|...``.
``--teacher MODEL_OR_FILE`` distils from a frozen teacher (``distill.*``; see facedet.criteria.distill).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from facedet.config import Config, apply_overrides
from facedet.families import default_config, family_named, load_config
from facedet.models.detector import as_detector


def load_training_records(path: str | Path, split: str = "train") -> list:
    """Records of one training source (a WIDER root, a RetinaFace ``label.txt`` or a VOC folder)."""
    from facedet.data import load_dataset

    return list(load_dataset(path, split))


def base_config(args: argparse.Namespace) -> Config:
    """``--config`` YAML (or a resumed run's config.yaml) over the model's family defaults, with the
    model name set; every later step keeps its ``loss`` section typed by the family."""
    out = Path(args.out)
    if args.config:
        cfg = load_config(args.config, args.model)
    elif args.resume and (out / "config.yaml").is_file():
        cfg = load_config(out / "config.yaml", args.model)
    else:
        cfg = default_config(args.model)
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, name=args.model))


def run(args: argparse.Namespace) -> int:
    from facedet import distributed as D
    from facedet import zoo
    from facedet.data.loader import mix_records, trainable
    from facedet.engine.trainer import Trainer, seed_everything
    from facedet.engine.wider_eval import WiderValEvaluator
    from facedet.families import family_of
    from facedet.families.base import Budget

    if args.resume and not (Path(args.out) / "last.pt").is_file():
        raise FileNotFoundError(f"--resume: {Path(args.out) / 'last.pt'} does not exist")
    groups = [load_training_records(p) for p in args.data]
    _check_sources(Path(args.out), args.data, groups, args.resume)
    base = base_config(args)
    if args.teacher:
        base = dataclasses.replace(base, distill=dataclasses.replace(base.distill, teacher=args.teacher))
    cfg = apply_overrides(base, args.overrides)
    records = trainable(mix_records(groups, cfg.data.repeats), cfg.data.min_short_side)
    if not records:
        raise ValueError(f"no trainable image (with faces) in {args.data}")
    if (args.iterations or args.batch) and args.recipe != "paper":
        raise ValueError("--iterations / --batch scale the paper recipe: add --recipe paper "
                         "(or set train.max_steps / train.batch_size)")
    seed_everything(cfg.train.seed)  # recipes leave the seed alone: the model init does not depend on them
    if cfg.model.init:  # weights to start from (our .pt or an official file); --resume restores over them
        model = zoo.load_model(cfg.model.name, cfg.model.init).train()
    else:
        model = zoo.build_model(cfg.model.name)
    family = family_of(model)
    if args.recipe == "paper" and not (args.resume and not args.config and (Path(args.out) / "config.yaml").is_file()):
        if family.paper_config is None:
            raise ValueError(f"--recipe paper: the {family.name} family has no published recipe")
        budget = Budget(len(records), args.iterations, args.batch)
        cfg = apply_overrides(family.paper_config(base, budget), args.overrides)
        records = trainable(mix_records(groups, cfg.data.repeats), cfg.data.min_short_side)
    evaluator = None
    if args.val:
        ev = cfg.eval
        if ev.backend == "onnx":
            from facedet.export.onnx import export_layout

            error = export_layout(model).export_error
            if error is not None:
                raise ValueError(f"eval.backend=onnx: {error}; use eval.backend=torch")
        evaluator = WiderValEvaluator(args.val, ev.max_size, ev.score_thr, ev.nms_thr, ev.max_images, ev.backend)
    augment = family if cfg.data.augment == "auto" else family_named(cfg.data.augment)
    distiller = None
    if cfg.distill.teacher:
        from facedet.criteria.distill import Distiller
        from facedet.engine.teacher import load_teacher

        distiller = Distiller(load_teacher(cfg.distill.teacher, cfg.distill.teacher_model), model, cfg.distill)
    trainer = Trainer(model, family.criterion(model, cfg), cfg, records, args.out, evaluator=evaluator,
                      progress=not args.no_progress, transform=augment.augment(as_detector(model), cfg.data),
                      distiller=distiller)
    if D.is_main():
        sizes = ", ".join(f"{p}: {len(g)}" for p, g in zip(args.data, groups, strict=True))
        taught = f" taught by {cfg.distill.teacher}" if distiller is not None else ""
        print(f"training {cfg.model.name}{taught} on {len(records)} images ({sizes}); "
              f"{trainer.iters_per_epoch} iterations/epoch x {cfg.train.epochs} epochs -> {args.out}", flush=True)
    try:
        history = trainer.fit(resume=args.resume)
    finally:
        D.cleanup()
    if D.is_main() and history:
        print("last epoch:", {k: round(v, 4) if isinstance(v, float) else v for k, v in history[-1].items()})
    return 0


def _check_sources(out: Path, data: list[str], groups: list[list], resume: bool) -> None:
    """Record the training sources (``OUT/data_sources.json``: resolved paths and image counts); a
    ``--resume`` with other ``--data`` is refused, since the sampler would replay another set."""
    import json

    from facedet import distributed as D
    from facedet.atomic import write_text_atomic

    now = [{"path": str(Path(p).resolve()), "images": len(g)} for p, g in zip(data, groups, strict=True)]
    record = out / "data_sources.json"
    if resume and record.is_file():
        before = json.loads(record.read_text())
        if before != now:
            was = ", ".join(f"{d['path']} ({d['images']})" for d in before)
            raise ValueError(f"--resume with other --data than the run was started with ({was}); resume with "
                             "the same --data, or start a new --out with model.init=<its last.pt>")
    elif D.is_main():
        write_text_atomic(record, json.dumps(now, indent=1) + "\n")


class _IntermixedParser(argparse.ArgumentParser):
    """Lets ``key=value`` overrides follow options (``--data X train.lr=0.1``): the dispatcher calls
    ``parse_known_args`` on sub-parsers, which stops collecting positionals after the first option."""

    _inside = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        if self._inside:
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a detector (SCRFD, EXTD or Group Sampling recipe)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="zoo name, e.g. scrfd_500m")
    p.add_argument("--data", action="append", required=True, help="training set (repeatable)")
    p.add_argument("--val", help="WIDER root (WIDER_val/images + ground_truth) for periodic evaluation")
    p.add_argument("--out", default="runs/train", help="output folder (checkpoints, logs, config.yaml)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--config", help="start from this YAML config instead of the defaults")
    p.add_argument("--recipe", choices=("default", "paper"), default="default",
                   help="paper: the family's published schedule before the overrides")
    p.add_argument("--iterations", type=int, default=0, help="with --recipe paper: scale the schedule to N steps")
    p.add_argument("--batch", type=int, default=0,
                   help="with --recipe paper: images per step (EXTD: lr scaled linearly)")
    p.add_argument("--teacher", default="", help="distil from this model: a zoo name or a weights file "
                   "(official .onnx / .pth, our .pt); sets distill.teacher (see distill.* for the weights)")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar (logs only)")
    p.add_argument("overrides", nargs="*", help="section.key=value, e.g. train.lr=0.01")
    p.__class__ = _IntermixedParser
    p.set_defaults(func=run)
