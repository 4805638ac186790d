"""ASFD D0–D6 (and the released DSFD) sizes beside the paper's Table 4: parameters and MACs at 640x480.

Usage: ``python benchmarks/asfd_ladder.py`` (counts on the meta device, a few seconds; no weights).
Ours is the test-time graph (second shot only); the first shot adds head MACs, no parameters (shared head).
"""

from __future__ import annotations

from facedet import zoo
from facedet.analysis.flops import count_built
from facedet.families.asfd import LADDER, PUBLISHED


def main() -> None:
    print(f"{'model':<10} {'backbone':<22} {'params M':>9} {'paper':>7} {'diff':>6} | {'GMACs':>8} {'paper':>7} "
          f"{'diff':>6}")
    for name in [*LADDER, "dsfd_r152"]:
        c = count_built(lambda n=name: zoo.build_model(n))
        pub = PUBLISHED[name]
        row = LADDER.get(name, {"depth": 152})
        bb = "MobileNetV1-0.25" if row.get("backbone") == "mobilenet" else f"ResNet-{row.get('depth', 18)}" + (
            "-0.5" if row.get("widths") == (32, 64, 128, 256) else "")
        p, f = c.params / 1e6, c.macs / 1e9
        print(f"{name:<10} {bb:<22} {p:9.3f} {pub['params_m']:7.2f} {100 * (p / pub['params_m'] - 1):+5.1f}% | "
              f"{f:8.3f} {pub['flops_g']:7.2f} {100 * (f / pub['flops_g'] - 1):+5.1f}%")


if __name__ == "__main__":
    main()
