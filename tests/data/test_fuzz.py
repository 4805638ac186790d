"""Fuzzing the annotation parsers: any mutation of a valid file gives records or a ValueError naming the file."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facedet.data.errors import decode_text
from facedet.data.retinaface import parse_label_txt
from facedet.data.voc import parse_voc_xml
from facedet.data.wider import parse_wider_txt

WIDER = ("0--Parade/0_Parade_a.jpg\n2\n10 20 30 40 1 0 1 0 2 0\n5 5 10 10 0 1 0 1 0 1\n"
         "0--Parade/0_Parade_b.jpg\n0\n0 0 0 0 0 0 0 0 0 0\n1--H/1_c.jpg\n1\n0 0 8 9 0 0 0 0 0 0\n")
LABEL = ("# 0--Parade/a.jpg 640 480\n10 20 50 70 20.5 40.0 1.0 40.5 40.0 1.0 30.0 50.0 1.0 22.0 60.0 0.0 "
         "38.0 60.0 1.0\n100 100 120 130 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n5 5 9 9 1\n# b.jpg\n1 1 4 4\n")
VOC = ("<annotation><filename>a.jpg</filename><size><width>40</width><height>30</height></size>\n"
       "<object><name>face</name><difficult>0</difficult>\n<bndbox><xmin>1</xmin><ymin>2</ymin>"
       "<xmax>11</xmax><ymax>22</ymax></bndbox></object></annotation>\n")

ALPHABET = st.sampled_from(list("0123456789 -+.\n\t#e/xj<>") + ["nan", "\x00", "\r\n", "é", "٣", "99999999999"])
EDIT = st.tuples(st.sampled_from(["insert", "delete", "replace", "dup_line", "drop_line"]),
                 st.floats(0, 1, allow_nan=False, exclude_max=True), ALPHABET)
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mutate(text: str, edits: list[tuple[str, float, str]]) -> str:
    for op, where, s in edits:
        if op in ("dup_line", "drop_line"):
            lines = text.split("\n")
            i = int(where * len(lines))
            lines[i:i + 1] = [lines[i]] * 2 if op == "dup_line" else []
            text = "\n".join(lines)
            continue
        i = int(where * (len(text) + 1))
        if op == "insert":
            text = text[:i] + s + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1:]
        else:
            text = text[:i] + s + text[i + 1:]
    return text


def _check(parse, data) -> None:
    try:
        parse(data)
    except ValueError as exc:
        assert str(exc).startswith("fz"), str(exc)  # names the file (and line where there is one)


@FUZZ
@given(st.lists(EDIT, min_size=1, max_size=6))
def test_wider_txt_mutations(edits) -> None:
    _check(lambda t: parse_wider_txt(t, "fz.txt"), _mutate(WIDER, edits))


@FUZZ
@given(st.lists(EDIT, min_size=1, max_size=6))
def test_label_txt_mutations(edits) -> None:
    _check(lambda t: parse_label_txt(t, "fz.txt"), _mutate(LABEL, edits))
    _check(lambda t: parse_label_txt(t, "fz.txt", box_format="xywh"), _mutate(LABEL, edits))


@FUZZ
@given(st.lists(EDIT, min_size=1, max_size=6))
def test_voc_xml_mutations(edits) -> None:
    _check(lambda t: parse_voc_xml(t.encode("utf-8"), "fz.xml"), _mutate(VOC, edits))


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _check(lambda d: parse_wider_txt(decode_text(d, "fz"), "fz"), data)
    _check(lambda d: parse_label_txt(decode_text(d, "fz"), "fz"), data)
    _check(lambda d: parse_voc_xml(d, "fz"), data)
