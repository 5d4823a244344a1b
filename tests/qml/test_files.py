"""qml.files: atomic writes that others can read, and a checkpoint loader that names the problem."""

import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from qml import files
from qml.files import atomic_path, atomic_save, atomic_write_text, load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_get_the_usual_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "r.json", "{}")
        atomic_save({"a": torch.ones(2)}, tmp_path / "c.pt")
        with atomic_path(tmp_path / "x.png") as tmp:
            tmp.write_bytes(b"png")
    finally:
        os.umask(old)
    for name in ("r.json", "c.pt", "x.png"):
        assert _mode(tmp_path / name) == 0o666 & ~umask, name


def test_the_file_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(files.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(files.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    atomic_write_text(tmp_path / "f.txt", "data")
    assert events[:2] == ["fsync", "replace"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    atomic_write_text(tmp_path / "f.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "f.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert (tmp_path / "f.txt").read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]


def _bad_files(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"model": torch.ones(3)}, good)
    data = good.read_bytes()
    (tmp_path / "half.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "random.pt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "text.pt").write_text("hello\n")
    (tmp_path / "pickle.pt").write_bytes(pickle.dumps(Path("x")))
    torch.save([torch.ones(1)], tmp_path / "list.pt")
    (tmp_path / "dir.pt").mkdir()
    (tmp_path / "legacy.pt").write_bytes(b"\x80\x02J\x00")      # a legacy header cut short: struct.error
    return {"half.pt": "truncated or corrupt", "empty.pt": "is empty", "legacy.pt": "truncated or corrupt",
            "random.pt": "not a", "text.pt": "not a", "pickle.pt": "tensors and plain containers",
            "list.pt": "holds a list", "dir.pt": "is a directory", "missing.pt": "does not exist"}


def test_every_bad_checkpoint_is_one_value_error_naming_the_file(tmp_path):
    for name, problem in _bad_files(tmp_path).items():
        with pytest.raises(ValueError) as err:
            load_checkpoint(tmp_path / name, kind="test checkpoint")
        text = str(err.value)
        assert str(tmp_path / name) in text and problem in text, (name, text)
        assert "weights_only" not in text, text  # never suggest the unsafe load


def test_required_keys(tmp_path):
    torch.save({"model": torch.ones(1)}, tmp_path / "c.pt")
    assert load_checkpoint(tmp_path / "c.pt", required=["model"])["model"].shape == (1,)
    with pytest.raises(ValueError, match=r"c.pt is not a qml-bench train checkpoint: it has no 'epoch'"):
        load_checkpoint(tmp_path / "c.pt", kind="qml-bench train checkpoint", required=["model", "epoch"])


def test_files_is_a_leaf_that_loads_nothing_else_of_qml():
    code = ("import sys, qml.files; "
            "print(sorted(m for m in sys.modules if m.startswith('qml') or m == 'torch'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['qml', 'qml.files']"
