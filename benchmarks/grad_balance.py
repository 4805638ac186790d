"""How hard each loss term pulls on each part of a network: gradient norms per term and module, one batch.

A term whose gradient is hundreds of times smaller than another's on the layers they share cannot move
those layers, and under ``train.grad_clip`` (a cap on the total norm) it barely moves its own head either:
this is how the ASFD box loss stayed flat while the cosine classification term trained (issue 13).

    python benchmarks/grad_balance.py asfd_d0
    python benchmarks/grad_balance.py asfd_d0 --model '{"cosine": false}' loss.box_loss=smooth_l1
    python benchmarks/grad_balance.py extd_fpn_32 --size 640

Builds the preset (``--model``: JSON of preset overrides), its family's criterion and training batch
(the first ``--batch`` images, in annotation order, that hold 1 to 40 faces; the family's own augmentation,
seeded), and prints the L2 norm of each loss term's gradient over each top-level module (``backbone``,
``neck``, ``head.cls_pred`` ...) and over the whole network.
"""

from __future__ import annotations

import argparse
import json
import tempfile

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preset")
    ap.add_argument("--data", default="../shared/data/widerface", help="WIDER root with WIDER_train images")
    ap.add_argument("--size", type=int, default=320, help="training crop side")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--model", default="{}", help="JSON of preset overrides, e.g. '{\"cosine\": false}'")
    ap.add_argument("--depth", type=int, default=2, help="module-name components that name a group")
    ap.add_argument("overrides", nargs="*", help="extra section.key=value settings")
    args = ap.parse_intermixed_args()
    torch.set_num_threads(2)

    from prove_overfit import pick  # the same first images with 1 to 40 faces (this folder is on sys.path)

    from facedet import zoo
    from facedet.config import apply_overrides
    from facedet.data import load_dataset
    from facedet.engine.trainer import Trainer, seed_everything
    from facedet.families import default_config, family_of

    records = pick(list(load_dataset(args.data, "train")), args.batch)
    family = family_of(args.preset)
    cfg = apply_overrides(default_config(args.preset), [f"data.input_size={args.size}", "data.num_workers=0",
                                                        f"train.batch_size={args.batch}", *args.overrides])
    seed_everything(0)
    model = zoo.build_model(args.preset, **json.loads(args.model))
    criterion = family.criterion(model, cfg)
    trainer = Trainer(model, criterion, cfg, records, tempfile.mkdtemp(prefix="grad_balance_"), progress=False)
    images, targets = next(iter(trainer.loader))
    model.train()
    losses = criterion(model(images), targets)
    terms = [k for k, v in losses.items() if k != "loss" and isinstance(v, torch.Tensor) and v.requires_grad]
    named = list(model.named_parameters())
    groups: list[str] = []
    table: dict[str, dict[str, float]] = {}
    for term in terms:
        model.zero_grad()
        losses[term].backward(retain_graph=True)
        sq: dict[str, float] = {}
        for name, p in named:
            if p.grad is None:
                continue
            g = ".".join(name.split(".")[: args.depth])
            if g not in groups:
                groups.append(g)
            sq[g] = sq.get(g, 0.0) + float(p.grad.pow(2).sum())
        table[term] = {g: v ** 0.5 for g, v in sq.items()}
    print(f"{args.preset} {args.model} {' '.join(args.overrides)}: {args.batch} images at {args.size} px")
    print("loss values: " + ", ".join(f"{k} {float(losses[k].detach()):.4f}" for k in terms))
    print(f"{'module':<24}" + "".join(f"{t:>16}" for t in terms))
    for g in groups:
        print(f"{g:<24}" + "".join(f"{table[t].get(g, 0.0):>16.3e}" for t in terms))
    totals = {t: sum(v * v for v in table[t].values()) ** 0.5 for t in terms}
    print(f"{'total':<24}" + "".join(f"{totals[t]:>16.3e}" for t in terms))


if __name__ == "__main__":
    main()
