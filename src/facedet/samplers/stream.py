"""The random stream a sampling criterion draws from: seeded, created lazily on the device in use,
and checkpointable (``state`` / ``set_state``) so a resumed run draws the same samples."""

from __future__ import annotations

import torch


class SampleStream:
    """A ``torch.Generator`` seeded with ``seed`` on first use on a device."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._gen: torch.Generator | None = None

    def on(self, device: torch.device) -> torch.Generator:
        """The generator on ``device`` (a fresh one seeded with ``seed`` when the device changes)."""
        if self._gen is None or self._gen.device != device:
            self._gen = torch.Generator(device=device)
            self._gen.manual_seed(self.seed)
        return self._gen

    def state(self) -> torch.Tensor | None:
        """Generator state (None before first use), saved in training checkpoints."""
        return None if self._gen is None else self._gen.get_state()

    def set_state(self, state: torch.Tensor | None) -> None:
        """Continue a saved CPU stream (streams on other devices restart from ``seed``)."""
        if state is not None:
            self._gen = torch.Generator()
            self._gen.set_state(state)


def rng_state_of(obj: object) -> object:
    """The sampling-stream state of a criterion that draws (its ``rng_state()``), None for the others."""
    fn = getattr(obj, "rng_state", None)
    return fn() if callable(fn) else None


def set_rng_state_of(obj: object, state: object) -> None:
    """Continue a saved stream in ``obj`` (``set_rng_state``); objects without one ignore it."""
    fn = getattr(obj, "set_rng_state", None)
    if callable(fn) and state is not None:
        fn(state)
