"""qml-bench sim end to end on small sizes: table, JSON record, ratios, bad input."""

import json

import numpy as np
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
    (["--dtype", "complex32"], "--dtype must be complex64, complex128 or both, got 'complex32'"),
    (["--dtype", "float32"], "--dtype must be complex64, complex128 or both"),
])
def test_sim_bad_input(argv, message, capsys):
    assert main(["sim", *argv]) == 2
    assert message in capsys.readouterr().err


def _row(simulator, median_ms, precision="complex64", case="B2", qubits=10, threads=1):
    return {"case": case, "qubits": qubits, "threads": threads, "precision": precision, "simulator": simulator,
            "median_ms": median_ms}


def test_ratios_and_summary():
    from benchmarks.sim import _summary, _with_ratios

    rows = _with_ratios([_row("ours", 2.0), _row("peer", 5.0)])
    assert rows[1]["x ours"] == 2.5
    assert "fastest peer peer 5 ms -> 2.50x" in _summary(rows)[0]


def test_variants_are_compared_with_our_plain_row_never_counted_as_ours():
    """B2 imported from qiskit and in grad mode: their ratio to our plain row in the summary; a
    faster variant never becomes our time, and peers compare with the plain row."""
    from benchmarks.sim import _summary, _with_ratios

    rows = _with_ratios([_row("ours", 2.0), _row("ours (from qiskit)", 2.1), _row("ours (grad mode)", 1.0),
                         _row("peer", 3.0)])
    assert rows[1]["x ours"] == pytest.approx(1.05) and rows[3]["x ours"] == 1.5
    assert _summary(rows) == ["B2 n=10 threads=1 complex64: ours 2 ms vs fastest peer peer 3 ms -> 1.50x; "
                              "from qiskit 1.050x; grad mode 0.500x"]


def test_rounds_pool_every_repeat(monkeypatch):
    """Each row is measured once per round, in turn with the others; its median is over all repeats."""
    from benchmarks import sim

    calls = []

    def fake(task):
        calls.append(task["only"][3])
        times = [1.0, 2.0] if len(calls) <= 2 else [3.0]
        return [{"case": "B2", "qubits": 10, "threads": 1, "precision": "complex64", "simulator": task["only"][3],
                 "times": times}]

    monkeypatch.setattr(sim, "_in_subprocess", fake)
    monkeypatch.setattr(sim, "_jobs", lambda config: [["B2", 10, "complex64", "ours"], ["B2", 10, "complex64", "peer"]])
    rows = sim._measure_in_rounds({"rounds": 2}, 1)
    assert calls == ["ours", "peer", "ours", "peer"]
    assert [(r["simulator"], r["median_ms"], r["min_ms"], r["max_ms"]) for r in rows] == \
        [("ours", 2.0, 1.0, 3.0), ("peer", 2.0, 1.0, 3.0)]
    assert all("times" not in r for r in rows)


def test_dtype_option():
    from benchmarks.sim import _precisions

    assert _precisions("both") == ["complex64", "complex128"]
    assert _precisions("complex128") == ["complex128"]


def test_ratios_and_summary_never_cross_precisions():
    from benchmarks.sim import _summary, _with_ratios

    rows = _with_ratios([_row("ours", 2.0), _row("ours", 4.0, "complex128"), _row("fast64", 3.0),
                         _row("fast128", 1.0, "complex128"), _row("slow128", 8.0, "complex128")])
    assert [r.get("x ours") for r in rows] == [None, None, 1.5, 0.25, 2.0]
    lines = _summary(rows)
    assert lines == ["B2 n=10 threads=1 complex64: ours 2 ms vs fastest peer fast64 3 ms -> 1.50x",
                     "B2 n=10 threads=1 complex128: ours 4 ms vs fastest peer fast128 1 ms -> 0.25x"]


def test_floor_of_a_synthetic_case():
    from benchmarks.sim import _summary, _with_floors

    rows = [_row("ours", 0.1), _row("peer", 0.2), _row("ours", 0.1, "complex128"),
            _row("ours adjoint", 1.0, case="B3"), _row("ours", 0.1, threads=2)]
    rows = _with_floors(rows, {1: 1e10}, passes=lambda n: 5)
    floor64 = 5 * 2 * 2 ** 10 * 8 / 1e10 * 1e3  # passes x (read + write) x state bytes / bandwidth, in ms
    assert rows[0]["floor_ms"] == rows[1]["floor_ms"] == pytest.approx(floor64)
    assert rows[0]["x floor"] == pytest.approx(0.1 / floor64) and "x floor" not in rows[1]
    assert rows[2]["floor_ms"] == pytest.approx(2 * floor64)
    assert "floor_ms" not in rows[3] and "floor_ms" not in rows[4]  # B3, and threads with no bandwidth
    assert f"{0.1 / floor64:.2f}x the floor {floor64:.3g} ms" in _summary(rows)[0]


def test_passes_come_from_the_plan():
    import qml
    from benchmarks.sim import _b2_passes, _passes
    from benchmarks.sim_peers import wide_circuit
    from qml.sim.plan import plan_for

    product = qml.Circuit(3).ry(0, 0.1).rx(1, 0.2).ry(2, 0.3)
    assert _passes(product) == 1  # the product state written and the expectation read: one pass
    assert _passes(product.cx(0, 1)) == 2
    assert _b2_passes(12) == len(plan_for(wide_circuit(12, trainable=False)).compiled(False, True)[1]) + 1


def test_each_row_names_the_precision_it_ran_at(tmp_path):
    from benchmarks.sim_peers import PEERS

    path = tmp_path / "sim.json"
    assert main(["sim", "--cases", "B2", "--sizes", "4", "--threads", "1", "--budget", "0.05", "--dtype", "both",
                 "--rounds", "2", "--json", str(path)]) == 0
    record = json.loads(path.read_text())
    rows = record["rows"]
    assert {r["precision"] for r in rows if r["simulator"] == "ours"} == {"complex64", "complex128"}
    variants = {r["simulator"] for r in rows if r["simulator"].startswith("ours (")}
    assert variants == {"ours (from qiskit)", "ours (grad mode)"}
    for r in rows:
        if r["simulator"] != "ours":
            if r["simulator"] not in variants:
                assert r["precision"] in PEERS["B2"][r["simulator"]].precisions
            ours = next(o for o in rows if o["simulator"] == "ours" and o["precision"] == r["precision"])
            assert r["x ours"] == pytest.approx(r["median_ms"] / ours["median_ms"])
            assert r["floor_ms"] == ours["floor_ms"]
    floors = {r["precision"]: r["floor_ms"] for r in rows}
    assert floors["complex128"] == pytest.approx(2 * floors["complex64"])
    assert record["config"]["bandwidth_GB_s"]["1"] > 0


def test_a_step_claiming_another_precision_is_refused():
    pytest.importorskip("qulacs")
    from benchmarks.sim import _timings

    with pytest.raises(RuntimeError, match="qulacs runs at complex128, but its row is complex64"):
        _timings({"only": ["B2", 3, "complex64", "qulacs"], "threads": 1, "device": "cpu", "budget": 0.01})


@pytest.mark.parametrize("precision", ["complex64", "complex128"])
def test_lightning_and_aer_really_run_at_the_precision(precision):
    pytest.importorskip("pennylane_lightning")
    pytest.importorskip("qiskit_aer")
    from qiskit import QuantumCircuit

    from benchmarks.sim_peers import aer_b2, aer_simulator, lightning_b2, lightning_wide

    assert lightning_b2(3, precision).precision == aer_b2(3, 1, precision).precision == precision
    qp, circuit = lightning_wide(3, None, precision)
    assert qp.QNode(lambda: qp.state(), circuit.device)().dtype == np.dtype(precision)
    qc = QuantumCircuit(1)
    qc.h(0)
    qc.save_statevector()
    amplitude = aer_simulator(1, precision).run(qc).result().get_statevector().data[0].real
    assert amplitude == {"complex64": float(np.float32(0.5 ** 0.5)), "complex128": 0.5 ** 0.5}[precision]


def test_single_precision_peers_report_what_they_run_in():
    from benchmarks.sim_peers import default_qubit_b1, qulacs_b2, torchquantum_b2

    for build, expected in ((lambda: qulacs_b2(3), "complex128"), (lambda: torchquantum_b2(3), "complex64"),
                            (default_qubit_b1, "complex128")):
        try:
            assert build().precision == expected
        except ImportError:
            pass


def test_markdown_table(capsys):
    assert main(["sim", "--threads", "1", "--cases", "B2", "--sizes", "3", "--no-peers", "--budget", "0.01",
                 "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| case | qubits | threads | precision | simulator |" in out and "|---|" in out


def test_engine_check_agrees_with_qiskit():
    from benchmarks.sim import engine_check

    lines = engine_check(n_wires=4, n_params=12, seed=3)
    assert "equals qiskit's Statevector" in lines[1] and "simulate" in lines[2]
