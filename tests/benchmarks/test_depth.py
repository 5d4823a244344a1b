"""qml-bench depth on tiny circuits through the real CLI: the table, the record, the plot, and
one-line errors (exit status 2) for bad input before any worker starts."""

import json

import pytest
import torch

from benchmarks import depth
from benchmarks.cli import main

torch.set_num_threads(1)  # the suite shares two cores


def test_a_tiny_run_prints_its_table_and_writes_the_plot(tmp_path, capsys):
    record = tmp_path / "depth.json"
    argv = ["depth", "--params", "30,60", "--repeats", "2", "--gradient", "autograd", "--out", str(tmp_path),
            "--json", str(record)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "qml-bench depth" in out and "step_us_per_gate" in out and "peak_KiB_per_gate" in out
    assert "autograd n/a" in out  # no size of 1000 parameters to fit a slope to
    rows = json.loads(record.read_text())["rows"]
    assert [(r["params"], r["gradient"]) for r in rows] == [(30, "autograd"), (60, "autograd")]
    assert [r["gates"] for r in rows] == [len(depth.depth_circuit(4, n).ops) for n in (30, 60)]
    for r in rows:
        assert r["gates"] > 0 and r["build_s"] > 0 and r["first_s"] > 0 and r["step_ms"] > 0
        assert r["peak_MiB"] >= 0 and r["step_us_per_gate"] == pytest.approx(1e3 * r["step_ms"] / r["gates"])
    assert (tmp_path / "depth.png").read_bytes().startswith(b"\x89PNG")


@pytest.fixture
def no_workers(monkeypatch):
    """Fail the test if a worker starts: bad input must be refused before any measurement."""
    def refuse(*args, **kwargs):
        raise AssertionError("a worker started before the options were checked")
    monkeypatch.setattr(depth, "in_subprocess", refuse)


@pytest.mark.parametrize("argv, message", [
    (["--params", "0"], "--params must be positive integers, got '0'"),
    (["--params", "ten"], "--params must be comma-separated integers, got 'ten'"),
    (["--gradient", "foo"], "--gradient must be autograd, adjoint or both, got 'foo'"),
    (["--wires", "0"], "--wires must be at least 4 (the 4x4_ryzxy encoder reads 16 features on wires 0-3), got 0"),
    (["--batch", "0"], "--batch must be a positive integer, got 0"),
    (["--repeats", "0"], "--repeats must be a positive integer, got 0"),
])
def test_bad_input_is_one_line_and_status_2(argv, message, tmp_path, capsys, no_workers):
    assert main(["depth", *argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"qml-bench depth: error: {message}"


def test_the_slope_of_a_power_law_is_its_exponent():
    gates = [1000, 3000, 10000]
    assert depth.loglog_slope(gates, [2e-3 * g ** 1.5 for g in gates]) == pytest.approx(1.5)
    assert depth.loglog_slope([1000], [1.0]) is None
