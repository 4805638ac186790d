"""Every user mistake on the command line: one line on stderr and an exit code that names its kind."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from facedet.cli import EXIT_CODES, main


@pytest.fixture()
def image(tmp_path):
    path = tmp_path / "p.jpg"
    cv2.imwrite(str(path), np.zeros((32, 32, 3), np.uint8))
    return path


@pytest.mark.parametrize("make, args, code, msg", [
    (lambda d: (d / "w.pt").write_text("junk"), ["--weights", "{d}/w.pt"], 2, "PyTorch checkpoint"),
    (lambda d: (d / "m.onnx").write_text("junk"), ["--model", "{d}/m.onnx", "--backend", "onnx"], 5,
     "INVALID_PROTOBUF"),
    (lambda d: None, ["--weights", "{d}/absent.pt"], 3, "not found"),
    (lambda d: None, ["--threshold", "2"], 2, "--threshold must be in"),
])
def test_detect_mistakes(tmp_path, image, capsys, make, args, code, msg) -> None:
    make(tmp_path)
    assert main(["detect", str(image), *[a.format(d=tmp_path) for a in args]]) == code
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1 and err.startswith("facedet detect: error: ")
    assert code in EXIT_CODES


def test_a_closed_pipe_is_not_an_error() -> None:
    proc = subprocess.run(f"{sys.executable} -m facedet zoo | head -n 1", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() and "Traceback" not in proc.stderr


def test_readme_lists_every_exit_code() -> None:
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "README.md"
    section = readme.read_text().split("Exit codes of the `facedet` command", 1)[1].split("\n\n## ", 1)[0]
    rows = [ln.split("|")[1].strip() for ln in section.splitlines() if ln.startswith("| ") and
            ln.split("|")[1].strip().isdigit()]
    assert sorted(int(r) for r in rows) == sorted(EXIT_CODES)


def test_version(capsys) -> None:
    from facedet import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"facedet {__version__}"
