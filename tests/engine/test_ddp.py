"""DDP on CPU (gloo): two spawned processes train a few steps and end with identical weights."""

from __future__ import annotations

import socket

import torch
import torch.multiprocessing as mp

from tests.engine.ddp_worker import run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_gloo_training_stays_in_sync(tmp_path) -> None:
    mp.spawn(run, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt")
    r1 = torch.load(tmp_path / "rank1.pt")
    assert r0["step"] == r1["step"] == 2  # 8 images / 2 ranks / batch 2
    assert r0["params"].keys() == r1["params"].keys()
    assert all(torch.equal(r0["params"][k], r1["params"][k]) for k in r0["params"])
    assert (tmp_path / "out" / "last.pt").is_file()  # written by rank 0 only
