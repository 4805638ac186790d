"""PASCAL-VOC xml reader: every object a face, flags kept, errors with file and line, real face-mask set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedet.data.voc import load_voc, parse_voc_xml
from tests.conftest import shared_path

XML = b"""<annotation>
    <folder>images</folder>
    <filename>mask1.png</filename>
    <size><width>400</width><height>300</height><depth>3</depth></size>
    <object>
        <name>con_mascarilla</name>
        <truncated>1</truncated>
        <difficult>0</difficult>
        <bndbox><xmin>79</xmin><ymin>105</ymin><xmax>109</xmax><ymax>142.5</ymax></bndbox>
    </object>
    <object>
        <name>sin_mascarilla</name>
        <difficult>1</difficult>
        <occluded>1</occluded>
        <part><name>hand</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>
        <bndbox><xmin>185</xmin><ymin>100</ymin><xmax>226</xmax><ymax>144</ymax></bndbox>
    </object>
    <object>
        <name>sin_mascarilla</name>
        <bndbox><xmin>20</xmin><ymin>30</ymin><xmax>20</xmax><ymax>40</ymax></bndbox>
    </object>
</annotation>
"""


def test_objects_become_faces_with_flags() -> None:
    r = parse_voc_xml(XML, "a.xml", "/imgs")
    assert r.path == "/imgs/mask1.png" and r.size == (400, 300)
    np.testing.assert_array_equal(r.boxes, [[79, 105, 109, 142.5], [185, 100, 226, 144]])  # part box not read
    np.testing.assert_array_equal(r.ignore, [[20, 30, 20, 40]])  # zero-width box
    assert r.attributes["truncated"].tolist() == [1, 0]
    assert r.attributes["difficult"].tolist() == [0, 1]
    assert r.attributes["occluded"].tolist() == [0, 1]


def test_difficult_as_ignore_and_class_filter() -> None:
    r = parse_voc_xml(XML, "a.xml", difficult_as_ignore=True)
    np.testing.assert_array_equal(r.boxes, [[79, 105, 109, 142.5]])
    assert len(r.ignore) == 2
    r = parse_voc_xml(XML, "a.xml", classes=("con_mascarilla",))
    np.testing.assert_array_equal(r.boxes, [[79, 105, 109, 142.5]])


@pytest.mark.parametrize("data, message", [
    (b"", r"b\.xml:1: empty annotation file"),
    (b"<annotation>\n<object>\n</annotation>\n", r"b\.xml:3: bad xml: mismatched tag"),
    (b"<annotation><object>", r"b\.xml:1: bad xml"),
    (b"<voc>\n</voc>", r"b\.xml:1: root element must be <annotation>"),
    (b"<annotation>\n<object>\n<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax></bndbox>\n</object>\n</annotation>",
     r"b\.xml:2: <object> lacks bndbox fields \['ymax'\]"),
    (b"<annotation>\n<object><bndbox>\n<xmin>1</xmin><ymin>2</ymin>\n<xmax>three</xmax><ymax>4</ymax></bndbox>\n"
     b"</object></annotation>", r"b\.xml:4: <xmax> must be a number, got 'three'"),
    (b"<annotation>\n<object><difficult>yes</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax>"
     b"<ymax>4</ymax></bndbox></object></annotation>", r"b\.xml:2: <difficult> must be a non-negative integer"),
])
def test_malformed_xml_names_file_and_line(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_voc_xml(data, "b.xml")


def test_load_folder_natural_order_and_skip(tmp_path: Path) -> None:
    (tmp_path / "annotations").mkdir()
    (tmp_path / "images").mkdir()
    for i in (10, 2, 1):
        (tmp_path / "annotations" / f"m{i}.xml").write_bytes(XML.replace(b"mask1.png", f"m{i}.png".encode()))
    (tmp_path / "images" / "m2.png").write_bytes(b"x")
    (tmp_path / "images" / "m10.png").write_bytes(b"x")
    recs = load_voc(tmp_path)
    assert [r.name for r in recs] == ["m2", "m10"] and (recs.listed, recs.skipped) == (3, 1)


def test_real_facemask_counts() -> None:
    root = shared_path("data", "facemask")
    recs = load_voc(root)
    assert (len(recs), recs.skipped) == (853, 0)
    assert sum(len(r.boxes) for r in recs) == 4072 and sum(len(r.ignore) for r in recs) == 0
    assert all(Path(r.path).is_file() for r in recs[:5])
