"""VOC-style AP with ignore regions on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.eval.voc import average_precision


def test_perfect_and_empty() -> None:
    faces = [np.array([[0, 0, 10, 10], [20, 20, 40, 40.0]])]
    dets = [np.array([[0, 0, 10, 10, 0.9], [20, 20, 40, 40, 0.8]])]
    assert average_precision(dets, faces) == pytest.approx(1.0)
    assert average_precision([np.zeros((0, 5))], faces) == 0.0
    assert average_precision([np.zeros((0, 5))], [np.zeros((0, 4))]) == 0.0


def test_false_positive_first_halves_precision_at_that_recall() -> None:
    faces = [np.array([[0, 0, 10, 10.0]]), np.array([[0, 0, 10, 10.0]])]
    dets = [np.array([[50, 50, 60, 60, 0.95], [0, 0, 10, 10, 0.9]]), np.array([[0, 0, 10, 10, 0.5]])]
    # ranks: FP (p 0), TP (recall 0.5, p 1/2), TP (recall 1, p 2/3) -> envelope 2/3 on both halves
    assert average_precision(dets, faces) == pytest.approx(2 / 3)


def test_duplicates_are_false_and_ignore_regions_do_not_count() -> None:
    faces = [np.array([[0, 0, 10, 10.0]])]
    dup = [np.array([[0, 0, 10, 10, 0.9], [0, 0, 10, 10, 0.8], [30, 30, 40, 40, 0.7]])]
    # TP at rank 1 gives recall 1 at precision 1 already; later FPs do not lower the envelope at recall 1
    assert average_precision(dup, faces) == pytest.approx(1.0)
    late = [np.array([[30, 30, 40, 40, 0.95], [0, 0, 10, 10, 0.9]])]
    assert average_precision(late, faces) == pytest.approx(0.5)
    ignored = [np.array([[30, 30, 40, 40.0]])]
    assert average_precision(late, faces, ignored) == pytest.approx(1.0)  # the FP lies on an ignore region
    with pytest.raises(ValueError, match="2 detection arrays for 1 images"):
        average_precision(late * 2, faces)
