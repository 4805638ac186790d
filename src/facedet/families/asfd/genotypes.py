"""The AutoFEM genotypes ASFD presets ship (data; ``facedet search autofem`` writes files of the same form).

``LIGHTDSFD_FPN``: the AutoFEM-FPN cell of lijiannuist/lightDSFD ``DSFDv2_r18`` (its ``Inter_Layer``, spec
families.md §3.2): separable 3x3 on every top-down and bottom-up path, 1x1 on the same level.

``HAND_CPM`` [ours, spec §3.3 option (b)]: the CPM genotypes were never published, so each level gets a
fixed six-node cell from the CPM op set. The paper says low-level CPMs have larger receptive fields, so
levels 0–2 (strides 4–16) use the dilation-3 and 1x5/5x1 ops, levels 3–5 the 3x3 separable and 1x3/3x1.
Wiring, the same at every level (node 0 = input; leaves 5 and 6 are the output)::

    n1 = A(n0) + B(n0);  n2 = A(n1) + skip(n0);  n3 = B(n0) + sep3(n1)
    n4 = A(n2) + skip(n1);  n5 = B(n3) + skip(n2);  n6 = sep3(n4) + skip(n3)
"""

from __future__ import annotations

from ...models.necks.autofem import Edge, FPNLevel, Genotype

LIGHTDSFD_FPN: tuple[FPNLevel, ...] = (
    FPNLevel(td="sep_conv_3x3", du=None),
    *(FPNLevel(td="sep_conv_3x3", du="sep_conv_3x3") for _ in range(4)),
    FPNLevel(td=None, du="sep_conv_3x3"),
)


def _cell(a: str, b: str) -> tuple[tuple[Edge, ...], ...]:
    return (
        ((a, 0), (b, 0)),
        ((a, 1), ("skip_connect", 0)),
        ((b, 0), ("sep_conv_3x3", 1)),
        ((a, 2), ("skip_connect", 1)),
        ((b, 3), ("skip_connect", 2)),
        (("sep_conv_3x3", 4), ("skip_connect", 3)),
    )


HAND_CPM = tuple(_cell("dil_conv_3x3_3", "conv_1x5_5x1") if i < 3 else _cell("sep_conv_3x3", "conv_1x3_3x1")
                 for i in range(6))

ASFD_GENOTYPE = Genotype(LIGHTDSFD_FPN, HAND_CPM)
FPN_ONLY_GENOTYPE = Genotype(LIGHTDSFD_FPN, None)  # DSFDv2_r18's neck: AutoFEM-FPN, no CPM
