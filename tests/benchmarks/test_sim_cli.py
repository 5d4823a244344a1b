"""qml-bench sim end to end on small sizes: table, JSON record, ratios, bad input."""

import json

import pytest

from benchmarks.cli import main


def test_sim_small_run_writes_its_record(tmp_path, capsys):
    path = tmp_path / "sim.json"
    code = main(["sim", "--threads", "1", "--cases", "B1,B2,B3,B4", "--sizes", "4,6", "--grad-sizes", "4",
                 "--memory-qubits", "8", "--no-peers", "--budget", "0.01", "--json", str(path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "qml-bench sim" in out and "ours adjoint" in out
    record = json.loads(path.read_text())
    assert set(record) >= {"config", "versions", "seed", "wall_s", "rows"}
    rows = record["rows"]
    assert {(r["case"], r["qubits"]) for r in rows} >= {("B1", 4), ("B2", 4), ("B2", 6), ("B3", 4), ("B4", 8)}
    for r in rows:
        if r["case"] != "B4":
            assert 0 < r["min_ms"] <= r["median_ms"] <= r["max_ms"]
    memory = [r for r in rows if r["case"] == "B4" and r["simulator"].startswith("ours adjoint")]
    assert len(memory) == 2 and all(r["peak_MiB"] is not None for r in memory)


@pytest.mark.parametrize("argv, message", [
    (["--cases", "B9"], "unknown cases"),
    (["--threads", "0"], "positive integers"),
    (["--sizes", "a"], "comma-separated integers"),
])
def test_sim_bad_input(argv, message, capsys):
    assert main(["sim", *argv]) == 2
    assert message in capsys.readouterr().err


def test_ratios_and_summary():
    from benchmarks.sim import _summary, _with_ratios

    rows = [{"case": "B2", "qubits": 10, "threads": 1, "simulator": "ours", "median_ms": 2.0},
            {"case": "B2", "qubits": 10, "threads": 1, "simulator": "peer", "median_ms": 5.0}]
    rows = _with_ratios(rows)
    assert rows[1]["x ours"] == 2.5
    assert "fastest peer peer 5 ms -> 2.50x" in _summary(rows)[0]


def test_markdown_table(capsys):
    assert main(["sim", "--threads", "1", "--cases", "B2", "--sizes", "3", "--no-peers", "--budget", "0.01",
                 "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| case | qubits | threads | simulator |" in out and "|---|" in out


def test_engine_check_agrees_with_qiskit():
    from benchmarks.sim import engine_check

    lines = engine_check(n_wires=4, n_params=12, seed=3)
    assert "equals qiskit's Statevector" in lines[1] and "simulate" in lines[2]
