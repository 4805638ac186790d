"""Image decoding limits: a header that declares too many pixels is refused before decoding."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facedet import io


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width x height`` but whose data is a few bytes (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_declared_30000_square_png_is_refused_before_decoding(tmp_path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(30000, 30000))
    with pytest.raises(ValueError, match=r"bomb.png: 30000x30000 = 900,000,000 pixels is over the limit"):
        io.read_image(path)
    with pytest.raises(ValueError, match="over the limit"):
        io.read_image(path.read_bytes())


@settings(max_examples=25, deadline=None)
@given(w=st.integers(1, 64), h=st.integers(1, 64), fmt=st.sampled_from([".png", ".jpg", ".bmp", ".webp"]))
def test_encoded_size_reads_the_header(w: int, h: int, fmt: str) -> None:
    data = cv2.imencode(fmt, np.zeros((h, w, 3), np.uint8))[1]
    assert io.encoded_size(data) == (w, h)
    assert io.read_image(data.tobytes()).shape == (h, w, 3)


def test_the_limit_is_a_setting(monkeypatch) -> None:
    data = cv2.imencode(".png", np.zeros((20, 30, 3), np.uint8))[1].tobytes()
    monkeypatch.setattr(io, "MAX_IMAGE_PIXELS", 599)
    with pytest.raises(ValueError, match="30x20 = 600 pixels is over the limit of 599"):
        io.read_image(data)
    monkeypatch.setattr(io, "MAX_IMAGE_PIXELS", 600)
    assert io.read_image(data).shape == (20, 30, 3)


@settings(max_examples=200, deadline=None)
@given(v=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3)))
def test_fraction_accepts_exactly_the_unit_interval(v) -> None:
    from facedet.checks import fraction

    inside = v == v and 0 <= v <= 1  # NaN fails v == v
    if inside:
        assert fraction("x", v) == float(v)
    else:
        with pytest.raises(ValueError, match="x must be"):
            fraction("x", v)
