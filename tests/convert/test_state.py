"""read_state_dict: checkpoint wrappers, DataParallel prefix, clear errors."""

import pytest
import torch

from facedet.convert.state import read_state_dict


@pytest.mark.parametrize("wrap", [lambda s: s, lambda s: {"model": s, "epoch": 3},
                                  lambda s: {"state_dict": s}, lambda s: {"epoch": 1, "weight": s}])
def test_unwraps_and_strips_module_prefix(tmp_path, wrap):
    state = {"module.conv.weight": torch.ones(2, 1), "bias": torch.zeros(2)}
    torch.save(wrap(state), tmp_path / "c.pt")
    got = read_state_dict(tmp_path / "c.pt")
    assert list(got) == ["conv.weight", "bias"] and torch.equal(got["conv.weight"], torch.ones(2, 1))


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        read_state_dict(tmp_path / "absent.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="list.pt: expected a state dict"):
        read_state_dict(tmp_path / "list.pt")
