"""``facedet`` command line.

Every module in this package that defines ``register(subparsers)`` adds its sub-command; the
parser it adds sets ``func`` (a callable taking the parsed namespace and returning an exit code).

A user's mistake ends in one line on stderr, ``facedet COMMAND: error: ...``, and an exit code that
says its kind (:data:`EXIT_CODES`); only a bug in facedet shows a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

EXIT_CODES = {
    0: "success",
    1: "finished, but some inputs were skipped (each one is named on stderr)",
    2: "invalid arguments, settings or input data (a bad number, a malformed file, an output that exists)",
    3: "a file or folder is missing or cannot be read or written",
    4: "a download failed (offline, unreachable or refused)",
    5: "the model or the device failed: a model file that cannot be loaded, no CUDA, out of memory",
    6: "an optional package is missing (the message names the pip extra that brings it)",
    130: "interrupted (Ctrl-C)",
}


def exit_code(exc: BaseException) -> int | None:
    """The exit code of a user-facing failure (see :data:`EXIT_CODES`); None for a bug."""
    import cv2

    from facedet.optional import MissingDependency

    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, MissingDependency):
        return 6
    if isinstance(exc, ConnectionError | TimeoutError) or type(exc).__module__.startswith("urllib"):
        return 4
    if isinstance(exc, MemoryError) or type(exc).__name__ in ("OutOfMemoryError", "InvalidProtobuf", "NoSuchFile",
                                                               "InvalidGraph", "Fail", "DecodeError"):
        return 5
    import yaml

    if isinstance(exc, FileExistsError | ValueError | cv2.error | yaml.YAMLError):
        return 2
    if isinstance(exc, OSError):
        return 3
    if isinstance(exc, RuntimeError) and "CUDA" in str(exc):
        return 5
    return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    if type(exc).__name__ == "error":  # cv2.error: "OpenCV(4.x) file:line: error: (-215:...) message"
        first = " ".join(text.split())[:300]
    return first


class _StderrFormatter(logging.Formatter):
    """``facedet: message`` for notes, ``facedet: warning: message`` for warnings and errors."""

    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        return f"facedet: {level}{record.getMessage()}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (tests and tools swap it)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN202
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


def _setup_logging() -> None:
    """One stderr handler on the ``facedet`` logger (INFO and up), installed once per process."""
    logger = logging.getLogger("facedet")
    if not any(getattr(h, "_facedet_cli", False) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_StderrFormatter())
        handler._facedet_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def build_parser() -> argparse.ArgumentParser:
    from facedet import __version__

    parser = argparse.ArgumentParser(prog="facedet", description="Face detection toolkit.")
    parser.add_argument("--version", action="version", version=f"facedet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    _setup_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except BrokenPipeError:  # ``facedet zoo | head``: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail too
        return 0
    except BaseException as exc:  # noqa: BLE001 - sorted into user mistakes (one line) and bugs (re-raised)
        code = exit_code(exc)
        if code is None:
            raise
        message = "interrupted" if code == 130 else _one_line(exc)
        print(f"facedet {args.command}: error: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
