"""Optional dependencies fail with the pip extra to install, and the CLI gives them their exit code."""

from __future__ import annotations

import pytest

from facedet.cli import exit_code
from facedet.optional import MissingDependency, require


def test_a_missing_package_names_its_extra() -> None:
    assert require("json", "eval", "x").dumps([1]) == "[1]"
    with pytest.raises(MissingDependency, match=r"plotting needs no_such_pkg: pip install 'facedet\[plot\]'") as info:
        require("no_such_pkg.sub", "plot", "plotting")
    assert exit_code(info.value) == 6
