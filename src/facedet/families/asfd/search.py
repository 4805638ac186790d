"""ASFD's AutoFEM search (spec families.md §3.4): ``facedet search autofem --data ... --out genotype.json``.

The supernet is an ASFD preset whose neck is :func:`facedet.search.darts.autofem_supernet` at the preset's
widths (``channels``, ``fpn_repeats``, ``cpm_channels``): every AutoFEM-FPN ``td`` / ``du`` slot a mixed op
over the FPN primitives, every level a six-node CPM cell with mixed-op edges from all earlier nodes (PC-DARTS
partial channels 1/4, edge normalisation, the single-path one-hot). The rest of the detector (backbone,
laterals, dual-shot head, the family's DRMC criterion with the first-shot auxiliary loss, its augmentation)
is the preset's, trained as ``facedet train`` would (same loader, config and overrides). The held-out split
is every ``--held-out-every``-th training image (2: half-half, as DARTS). After ``--warmup`` steps each step
takes one Adam step on α / β (lr 0.01, wd 5e-4) on a held-out batch before the SGD step on the weights.

Written: ``--out`` (the genotype JSON, atomically; refused when it exists, unless ``--overwrite``) and the
run folder (``--run``, default ``<out stem>_search/`` beside it): ``last.pt`` checkpoints (``--resume``
goes on bit-exactly), ``config.yaml``, ``train.csv`` / ``epochs.csv``, ``alpha.jsonl`` (α and β after every
step), ``search.json`` (the settings and every slot's primitives), ``genotype.json`` and the α plots
``alpha_fpn.png`` / ``alpha_cpm.png``. Any ``asfd_*`` preset takes the genotype
(``ASFD(dataclasses.replace(config, genotype=Genotype.from_json(path)))``).

The paper searched 50 epochs (20 of warm-up) with a ResNet-50 supernet at 256 FEM channels; the defaults
here (300 steps, 100 of warm-up, ``asfd_d0``) are a CPU-sized run, whose genotype says little beyond
"the search runs": pass the paper's scale for a real one.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from ..base import SearchCommand

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"steps": 300, "warmup": 100, "held_out_every": 2, "partial": 4, "cpm_nodes": 6,
                            "noise": 1e-3, "arch_lr": 0.01, "arch_weight_decay": 5e-4}
RESUMABLE = ("steps",)  # the settings a resumed search may change
RUN_FILES = ("last.pt", "best.pt", "config.yaml", "train.csv", "epochs.csv", "alpha.jsonl", "search.json",
             "genotype.json", "alpha_fpn.png", "alpha_cpm.png")  # what a search writes into --run


def supernet_from(model: Any, cpm_nodes: int = 6, partial: int = 4, noise: float = 1e-3) -> Any:
    """``model`` (an :class:`~.network.ASFD` with an AutoFEM neck) with its neck replaced by the AutoFEM
    supernet at the same widths (Kaiming-initialised as the preset's neck); returned for chaining."""
    from ...models.layers import kaiming_init_
    from ...search.darts import autofem_supernet
    from .network import ASFD, STRIDES

    if not isinstance(model, ASFD) or model.config.fem != "autofem":
        raise ValueError(f"the AutoFEM search needs an ASFD model with an AutoFEM neck, got {type(model).__name__}"
                         + (f" with fem={model.config.fem!r}" if isinstance(model, ASFD) else ""))
    c = model.config
    for what, width in (("channels", c.channels), ("cpm_channels", c.cpm_channels or c.channels)):
        if width % partial:
            raise ValueError(f"--partial {partial}: the model's {what} ({width}) do not split into 1/{partial}")
    fem = autofem_supernet(c.channels, len(STRIDES), c.fpn_repeats, c.cpm_channels, cpm_nodes, partial, noise=noise)
    kaiming_init_(fem)
    model.fem = fem.to(next(model.parameters()).device)
    return model


def accepts(genotype: Any, preset: str) -> Any:
    """``preset`` built with ``genotype`` (the check that a written genotype fits the family's presets)."""
    from dataclasses import replace

    from ...zoo import build_model
    from .network import ASFD

    model = build_model(preset)
    if not isinstance(model, ASFD):
        raise ValueError(f"{preset} is not an ASFD preset")
    return ASFD(replace(model.config, genotype=genotype))


# ---- the command ---------------------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    p.add_argument("--data", action="append", required=True, help="training set (repeatable), as facedet train")
    p.add_argument("--out", required=True, help="the genotype JSON to write (e.g. runs/autofem/genotype.json)")
    p.add_argument("--run", help="folder for checkpoints, logs and plots (default: <out stem>_search beside --out)")
    p.add_argument("--model", default="asfd_d0", help="the ASFD preset whose widths the supernet takes (asfd_d0)")
    p.add_argument("--steps", type=int, help=f"search steps (train.max_steps; {d['steps']})")
    p.add_argument("--warmup", type=int, help=f"steps of weights only before α trains ({d['warmup']})")
    p.add_argument("--held-out-every", type=int,
                   help=f"every k-th training image is held out for α ({d['held_out_every']}: half)")
    p.add_argument("--partial", type=int, help=f"PC-DARTS partial channels 1/k ({d['partial']})")
    p.add_argument("--cpm-nodes", type=int, help=f"nodes per CPM cell; 0 = search the FPN only ({d['cpm_nodes']})")
    p.add_argument("--noise", type=float, help=f"Gumbel noise scale ({d['noise']})")
    p.add_argument("--arch-lr", type=float, help=f"Adam lr of α and β ({d['arch_lr']})")
    p.add_argument("--arch-weight-decay", type=float, help=f"Adam weight decay of α and β ({d['arch_weight_decay']})")
    p.add_argument("--seed", type=int, default=0, help="train.seed: the init, the batches and the noise (0)")
    p.add_argument("--save-every", type=int, default=50, help="checkpoint every N steps (50)")
    p.add_argument("--resume", action="store_true", help="continue the search in --run from its last.pt")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out and an earlier search in --run")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar (logs only)")
    p.add_argument("--no-plots", action="store_true", help="no α plots (no matplotlib)")
    p.add_argument("overrides", nargs="*", help="section.key=value, e.g. data.input_size=320 train.batch_size=4")


def _settings(args: argparse.Namespace, saved: dict[str, Any] | None) -> dict[str, Any]:
    """The search settings: the command line's over the defaults, or over a resumed run's (which only
    :data:`RESUMABLE` ones may change)."""
    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
    if saved is None:
        out = {**DEFAULTS, **given}
    else:
        changed = [f"--{k.replace('_', '-')}: {saved[k]} -> {v}" for k, v in given.items()
                   if k not in RESUMABLE and k in saved and saved[k] != v]
        if changed:
            raise ValueError(f"--resume cannot change {'; '.join(changed)} (the checkpoint holds that search)")
        out = {**DEFAULTS, **{k: saved[k] for k in DEFAULTS if k in saved}, **given}
    if out["steps"] < 1 or not 0 <= out["warmup"] < out["steps"]:
        raise ValueError(f"need --steps >= 1 and 0 <= --warmup < --steps, got {out['steps']} and {out['warmup']}")
    if out["cpm_nodes"] < 0 or out["partial"] < 1:
        raise ValueError(f"need --cpm-nodes >= 0 and --partial >= 1, got {out['cpm_nodes']} and {out['partial']}")
    return out


def _config(args: argparse.Namespace, run_dir: Path, steps: int) -> Any:
    """``facedet train``'s config for ``--model`` (a resumed run's ``config.yaml``), set up for a search of
    ``steps`` (cosine schedule, warm-up a tenth of it at most, no evaluation), then the overrides."""
    import dataclasses

    from ...config import apply_overrides
    from ...families import default_config, load_config

    if args.resume:
        cfg = load_config(run_dir / "config.yaml", args.model)
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, max_steps=steps, threads=args.threads))
        return apply_overrides(cfg, args.overrides)
    cfg = default_config(args.model)
    t = cfg.train
    cfg = dataclasses.replace(
        cfg, train=dataclasses.replace(t, epochs=1, max_steps=steps, schedule="cosine", seed=args.seed,
                                       warmup_iters=min(t.warmup_iters, max(steps // 10, 1)),
                                       save_interval_steps=args.save_every, threads=args.threads,
                                       log_interval=min(t.log_interval, 10)),
        eval=dataclasses.replace(cfg.eval, interval=0))
    return apply_overrides(cfg, args.overrides)


def _check_outputs(out: Path, run_dir: Path, args: argparse.Namespace) -> None:
    """Refuse, before the search starts: an existing ``--out`` (without ``--overwrite``), an earlier search
    in ``--run`` (without ``--resume`` or ``--overwrite``), a ``--resume`` with nothing to resume."""
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{out} exists: choose another --out or pass --overwrite")
    if out.is_dir():
        raise FileExistsError(f"--out {out} is a folder; name the genotype file, e.g. {out / 'genotype.json'}")
    if args.resume:
        if not (run_dir / "last.pt").is_file():
            raise FileNotFoundError(f"--resume: {run_dir / 'last.pt'} does not exist")
    elif (run_dir / "last.pt").is_file() and args.overwrite and not (run_dir / "search.json").is_file():
        raise FileExistsError(f"{run_dir} holds a last.pt that is not an AutoFEM search's (no search.json): "
                              "--overwrite only clears a search folder; choose another --run")
    elif (run_dir / "last.pt").is_file() and not args.overwrite:
        raise FileExistsError(f"{run_dir} holds an earlier search (last.pt): pass --resume to go on, --overwrite to "
                              "start again, or choose another --run")


def _clear_run(run_dir: Path) -> None:
    """A search started again over an earlier one (``--overwrite``): its files go first, so no log of it
    mixes with the new one."""
    import shutil

    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    if (run_dir / "tb").is_dir():
        shutil.rmtree(run_dir / "tb")


def run(args: argparse.Namespace) -> int:
    import torch

    from ...atomic import write_text_atomic
    from ...data import load_dataset
    from ...engine.trainer import seed_everything
    from ...models.detector import as_detector
    from ...models.necks.autofem import AutoFEM
    from ...search.darts import DartsTrainer, plot_alpha_trajectory, split_groups
    from ...zoo import build_model
    from . import FAMILY
    from .network import ASFD

    torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    run_dir = Path(args.run) if args.run else out.with_name(f"{out.stem}_search")
    _check_outputs(out, run_dir, args)
    saved = json.loads((run_dir / "search.json").read_text()) if args.resume else None
    settings = _settings(args, None if saved is None else saved["settings"])
    if saved is not None and saved.get("model") != args.model:
        raise ValueError(f"--resume: the search in {run_dir} is of {saved.get('model')}, not --model {args.model}")
    cfg = _config(args, run_dir, settings["steps"])

    groups = [list(load_dataset(p, "train")) for p in args.data]
    sources = [{"path": str(Path(p).resolve()), "images": len(g)} for p, g in zip(args.data, groups, strict=True)]
    if saved is not None and saved.get("data") != sources:
        raise ValueError(f"--resume with other --data than the search was started with ({saved.get('data')})")
    train, held = split_groups(groups, settings["held_out_every"], cfg.data.repeats, cfg.data.min_short_side)
    if not held or not train:
        raise ValueError(f"{len(train) + len(held)} trainable images (with faces) in {args.data}: too few to split")

    if not args.resume:
        _clear_run(run_dir)
    seed_everything(cfg.train.seed)
    model = build_model(args.model)
    if not isinstance(model, ASFD):
        raise ValueError(f"--model {args.model}: the AutoFEM search takes an ASFD preset (asfd_d0 ... asfd_d6)")
    supernet_from(model, settings["cpm_nodes"], settings["partial"], settings["noise"])
    trainer = DartsTrainer(model, FAMILY.criterion(model, cfg), cfg, train, held, run_dir,
                           warmup=settings["warmup"], transform=FAMILY.augment(as_detector(model), cfg.data),
                           arch_lr=settings["arch_lr"], arch_weight_decay=settings["arch_weight_decay"],
                           progress=not args.no_progress)
    arch = trainer.supernet.arch
    if saved is None:
        record = {"model": args.model, "data": sources, "settings": settings,
                  "split": {"train": len(train), "held_out": len(held)}, "primitives": arch.primitives}
        write_text_atomic(run_dir / "search.json", json.dumps(record, indent=1) + "\n")
    else:
        saved["settings"] = settings
        write_text_atomic(run_dir / "search.json", json.dumps(saved, indent=1) + "\n")
    print(f"AutoFEM search on {args.model} widths: {len(train)} training + {len(held)} held-out images, "
          f"{settings['steps']} steps ({settings['warmup']} warm-up), {len(arch.alpha)} op slots, "
          f"{sum(p.numel() for p in trainer.supernet.arch_parameters())} architecture parameters -> {run_dir}",
          flush=True)
    trainer.fit(resume=args.resume)

    genotype = trainer.supernet.derive_genotype()
    AutoFEM(8, genotype, 1, 8)  # the fixed neck builds from it (a preset takes any valid 6-level genotype)
    genotype.to_json(run_dir / "genotype.json")
    genotype.to_json(out)
    written = [out]
    if not args.no_plots:
        log_path = run_dir / "alpha.jsonl"
        written.append(plot_alpha_trajectory(log_path, arch.primitives, run_dir / "alpha_fpn.png", "fpn_",
                                             f"AutoFEM-FPN α ({args.model} widths), softmax per slot"))
        if settings["cpm_nodes"]:
            written.append(plot_alpha_trajectory(log_path, arch.primitives, run_dir / "alpha_cpm.png", "cpm",
                                                 f"AutoFEM-CPM α ({args.model} widths), mean softmax per level"))
    print(f"genotype after {trainer.step} steps -> {', '.join(str(p) for p in written)}")
    print(genotype.to_json())
    return 0


AUTOFEM_SEARCH = SearchCommand(
    help="ASFD's differentiable AutoFEM search (PC-DARTS, single path): writes a genotype JSON",
    add_arguments=add_arguments, run=run)
