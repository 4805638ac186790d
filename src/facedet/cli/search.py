"""``facedet search FAMILY ...`` writes architecture candidates; ``facedet search collect DIR`` ranks them.

SCRFD's computation redistribution (spec scrfd.md §5.2), in two stages::

    facedet search scrfd --gflops 2.5 --stage 1 --num 64 --seed 0 --out runs/cr1
    # train every candidate (in parallel: one per process, GPU or machine; each an ordinary run)
    facedet train runs/cr1/cand_000.yaml --data WIDER --val WIDER --out runs/cr1/cand_000 \
        train.epochs=80 "train.milestones=[55,68]"   # the released search recipe
    facedet search collect runs/cr1                  # ranking.md, ap_vs_share.png, ap_cdf.png
    facedet search scrfd --gflops 2.5 --stage 2 --template runs/cr1/cand_017.yaml --num 64 --out runs/cr2

Candidates are architecture files (``facedet flops CAND --json`` counts one; ``facedet train CAND``
trains one, ``torchrun ... -m facedet train CAND`` on several GPUs).

A family may bring searches of its own (``Family.searches``), each a sub-command here, e.g. ASFD's
differentiable AutoFEM search, which writes a genotype file the family's presets take::

    facedet search autofem --data WIDER --out runs/autofem/genotype.json --steps 300 data.input_size=320
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from facedet.families import FAMILIES, Family


def _template(spec: str | None, fam: Family) -> dict[str, Any] | None:
    """The template's ``arch`` dict: an architecture file's, or a zoo preset's own config; refused when
    it is of another family than ``fam`` (family objects compared, as everywhere outside families/)."""
    if not spec:
        return None
    from facedet.archfile import is_arch_file, read_arch_file
    from facedet.families import family_of

    other = family_of(spec)  # an architecture file or a zoo preset
    if other is not fam:
        raise ValueError(f"--template {spec} belongs to the {other.name} family, not {fam.name}")
    if is_arch_file(spec):
        return read_arch_file(spec).arch
    from facedet.analysis.flops import skip_init
    from facedet.zoo import build_model

    with skip_init():
        model = build_model(spec)
    arch: dict[str, Any] = getattr(model, "config_dict", lambda: {})()
    if not arch:
        raise ValueError(f"--template {spec}: the preset has no architecture dict to scale")
    return dict(arch)


def _run_family(args: argparse.Namespace) -> int:
    import torch

    from facedet.families import family_named
    from facedet.search import check_out, random_search, write_candidates

    torch.set_num_threads(max(1, args.threads))
    fam = family_named(args.family)
    assert fam.search_space is not None and fam.from_arch is not None  # only such families get a sub-command
    check_out(args.out, args.overwrite)  # before the search, which can take hours
    template = _template(args.template, fam)
    space = fam.search_space(args.stage, args.space, template, args.gflops, eps=args.eps, ratio_eps=args.ratio_eps)
    cands = random_search(space, fam.from_arch, args.gflops, args.num, args.seed, args.eps,
                          max_draws=args.max_draws, breakdown=fam.flops_breakdown, progress=not args.no_progress)
    settings = {"gflops": args.gflops, "eps": args.eps, "seed": args.seed, "size": [640, 480],
                "template": args.template or ""}
    paths = write_candidates(args.out, fam.name, cands, settings, space.describe(), overwrite=args.overwrite)
    draws = cands[-1].draw
    print(f"{len(paths)} candidates within {args.eps:.0%} of {args.gflops} GMACs ({draws} draws) -> {args.out}")
    for p, c in zip(paths, cands, strict=True):
        print(f"  {p.name}  {c.macs / 1e9:.3f} GMACs  {c.params / 1e6:.3f} M params")
    return 0


def _run_collect(args: argparse.Namespace) -> int:
    from facedet.search.collect import collect, format_table, plot, write_report

    results = collect(args.folder, args.metric)
    print(format_table(results))
    written = write_report(args.folder, results) + ([] if args.no_plots else plot(results, args.folder, args.metric))
    trained = sum(bool(r.ap) for r in results)
    print(f"{trained} of {len(results)} candidates evaluated; wrote {', '.join(str(p) for p in written)}")
    return 0


def _register_own(sub: argparse._SubParsersAction) -> None:
    """One sub-command per family search (``Family.searches``); its options come from the family, and
    ``key=value`` overrides may follow them as in ``facedet train``."""
    from facedet.cli.train import _IntermixedParser

    taken = {n for n, fam in FAMILIES.items() if fam.search_space is not None and fam.from_arch is not None}
    taken.add("collect")
    for fam in FAMILIES.values():
        for name, cmd in fam.searches.items():
            if name in taken:
                raise ValueError(f"the {fam.name} family's search {name!r} clashes with another search sub-command")
            taken.add(name)
            s = sub.add_parser(name, help=cmd.help, description=cmd.help)
            cmd.add_arguments(s)
            s.__class__ = _IntermixedParser
            s.set_defaults(func=cmd.run)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("search", help="architecture search: write candidates, rank trained ones",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    own = {n: cmd for fam in FAMILIES.values() for n, cmd in fam.searches.items()}
    metavar = "{" + ",".join(["FAMILY", *sorted(own), "collect"]) + "}"
    sub = p.add_subparsers(dest="search_command", required=True, metavar=metavar)
    for name, fam in FAMILIES.items():
        if fam.search_space is None or fam.from_arch is None:
            continue
        f = sub.add_parser(name, help=f"random search of {name} architectures under a MACs budget")
        f.add_argument("--gflops", type=float, required=True, help="target GMACs at 640x480 (our counter)")
        f.add_argument("--stage", type=int, choices=(1, 2), default=1,
                       help="1: backbone only; 2: scale a chosen backbone, re-sample neck and head")
        f.add_argument("--template", help="architecture file or zoo preset to start from (stage 2: required)")
        f.add_argument("--space", default="auto", help="the family's space (scrfd: resnet, mobilenet; auto by budget)")
        f.add_argument("--num", type=int, default=64, help="accepted candidates to write (64)")
        f.add_argument("--seed", type=int, default=0, help="the same seed writes the same files")
        f.add_argument("--eps", type=float, default=0.02, help="relative MACs tolerance (0.02 = +-2%%)")
        f.add_argument("--ratio-eps", type=float, default=None,
                       help="stage 2: tolerance of each stage's MACs / stem against the template "
                       "(5 x --eps, as released)")
        f.add_argument("--max-draws", type=int, default=200_000, help="give up after this many draws")
        f.add_argument("--out", required=True, help="folder for cand_NNN.yaml and search.yaml")
        f.add_argument("--overwrite", action="store_true", help="replace candidates already in --out")
        f.add_argument("--threads", type=int, default=1)
        f.add_argument("--no-progress", action="store_true")
        f.set_defaults(func=_run_family, family=name)
    _register_own(sub)
    c = sub.add_parser("collect", help="rank trained candidates by Hard AP; table and analysis plots")
    c.add_argument("folder", type=Path, help="a search folder: cand_NNN.yaml, each trained into cand_NNN/")
    c.add_argument("--metric", default="ap_hard", help="ap_easy, ap_medium or ap_hard (ap_hard)")
    c.add_argument("--no-plots", action="store_true", help="table only (no matplotlib)")
    c.set_defaults(func=_run_collect)
