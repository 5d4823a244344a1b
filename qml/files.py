"""Files a user keeps: never half-written, readable as any other file, and loaded safely.

A leaf module: it imports nothing else of ``qml`` (``qec`` uses it too) and loads torch
only when a checkpoint is saved or loaded.

- :func:`atomic_path`: write to a temporary file beside the target, flush it to disk, give it
  the permissions a new file gets (``0o666`` less the umask, not ``mkstemp``'s ``0o600``), then
  rename it over the target.
- :func:`atomic_save` / :func:`atomic_write_bytes` / :func:`atomic_write_text`: the usual writes
  through :func:`atomic_path`.
- :func:`load_checkpoint`: ``torch.load(..., weights_only=True)`` whose every failure (missing,
  empty, truncated, corrupt, foreign, not a dict, missing keys) is a ``ValueError`` that names
  the file and what is wrong with it.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    >>> _ = target.write_bytes(b"")
    >>> load_checkpoint(target)
    Traceback (most recent call last):
    ...
    ValueError: checkpoint .../out.txt is empty
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator


def _umask() -> int:
    """The process umask (read from /proc where possible: setting it is not thread-safe)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    """Flush a rename to disk (best effort: not every platform opens directories)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) that replaces ``path`` when the block succeeds.

    Before the rename the temporary file is fsync'ed and given the mode a newly created file
    gets (``0o666`` less the umask). On any error the temporary file is removed and ``path``
    is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_figure(fig, path: str | os.PathLike, dpi: int = 100) -> None:
    """Write a matplotlib figure to ``path`` atomically (PNG by its suffix), then close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_path`: never half-written."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`: never half-written."""
    atomic_write_bytes(path, text.encode())


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj)`` to ``path`` through :func:`atomic_path`: never half-written."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_checkpoint(path: str | os.PathLike, *, kind: str = "checkpoint",
                    required: Iterable[str] = ()) -> dict:
    """The dict saved at ``path`` by ``torch.save``, loaded with ``weights_only=True`` on the CPU.

    ``kind`` names what the file should be in messages ("qml-bench train checkpoint"), and
    ``required`` lists keys it must have. Every problem is a ``ValueError`` naming the file:
    it does not exist, is a directory, is empty, is truncated or corrupt, holds objects other
    than tensors and plain containers, is not a dict, or lacks a required key.
    """
    import torch

    path = Path(path)
    if not path.exists():
        raise ValueError(f"{kind} {path} does not exist")
    if path.is_dir():
        raise ValueError(f"{kind} {path} is a directory, not a file")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise ValueError(f"cannot read {kind} {path}: {err.strerror or err}") from None
    if size == 0:
        raise ValueError(f"{kind} {path} is empty")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own message here suggests the unsafe full unpickler: never do that with a file you got
        raise ValueError(f"{path} is not a {kind}: it is not a torch.save file of tensors and plain "
                         f"containers (corrupt, or written by something else)") from None
    except (EOFError, RuntimeError, KeyError, IndexError, ValueError, TypeError, AttributeError,
            UnicodeDecodeError, struct.error):
        raise ValueError(f"{path} is not a readable {kind}: truncated or corrupt") from None
    except OSError as err:
        raise ValueError(f"cannot read {kind} {path}: {err.strerror or err}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path} is not a {kind}: it holds a {type(obj).__name__}, not a dict")
    missing = [key for key in required if key not in obj]
    if missing:
        raise ValueError(f"{path} is not a {kind}: it has no {', '.join(map(repr, missing))}")
    return obj
