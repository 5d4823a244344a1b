"""QuEst (noise.fidelity and qml-bench quest): circuits, labels, graphs, data sets, models, CLI."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")

from benchmarks import cli  # noqa: E402
from noise.devices import Device  # noqa: E402
from noise.fidelity import dataset as ds  # noqa: E402
from noise.fidelity.circuits import FAMILIES, algorithm_circuit, random_circuit  # noqa: E402
from noise.fidelity.graph import (CIRCUIT_FEATURES, NODE_FEATURES, circuit_graph, circuit_graphs,  # noqa: E402
                                  graph_batch)
from noise.fidelity.label import compile_for, mirror, physical_problem, pst, used_qubits  # noqa: E402
from noise.fidelity.model import SHIPPED, build_model, load_model, predict, predict_circuits, save_model  # noqa: E402
from noise.fidelity.train import FidelityTrainer, FitConfig, metrics, split  # noqa: E402
from qml import Circuit  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).with_name("data")
FIVE = ("jakarta", "santiago", "lima", "quito", "manila")


@pytest.fixture(scope="module")
def lima():
    return Device.from_name("lima")


def _qasm(tmp_path, name, body, n=3):
    path = tmp_path / name
    path.write_text(f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{n}];\n{body}\n')
    return str(path)


# ---------------------------------------------------------------------- circuits and labels


def test_random_circuits_are_physical_and_seeded(lima):
    c = random_circuit(lima, 3, 50, seed=7)
    assert physical_problem(c, lima) is None and len(c.gates) == 50
    assert len(used_qubits(c)) <= 3 and c == random_circuit(lima, 3, 50, seed=7)
    assert {op.name for op in random_circuit(lima, 1, 30, seed=1).gates} <= {"rz", "sx", "x"}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_algorithm_families_compile_to_the_basis(family, lima):
    phys = compile_for(algorithm_circuit(family, 4, seed=3), lima, seed=0)
    assert physical_problem(phys, lima) is None and 1 <= len(used_qubits(phys)) <= 5  # a constant DJ oracle simplifies away


def test_a_physical_circuit_is_not_remapped():
    dev = Device.from_name("jakarta")
    c = Circuit(7).sx(5).rz(5, 0.3).cx(5, 3).x(3)
    assert compile_for(c, dev) == c and used_qubits(compile_for(c, dev)) == (3, 5)
    moved = compile_for(Circuit(7).sx(0).cx(0, 6), dev)  # (0, 6) is no edge: routed
    assert physical_problem(moved, dev) is None


def test_pst_is_one_without_noise_and_reproducible(lima):
    circuits = [random_circuit(lima, k, 60, seed=k) for k in (1, 3, 5)]
    assert np.all(pst(circuits, lima.scaled(0), shots=200) == 1.0)  # circuit + inverse = identity
    noisy = pst(circuits, lima, shots=500, seed=3)
    assert np.all(noisy < 1) and np.array_equal(noisy, pst(circuits, lima, shots=500, seed=3))
    m = mirror(Circuit(5).sx(0).rz(0, 0.2).cx(0, 1))
    assert [op.name for op in m.gates] == ["sx", "rz", "cx", "cx", "rz", "rz", "sx", "rz"]


# ---------------------------------------------------------------------- graphs


def test_graph_nodes_edges_and_features(lima):
    c = Circuit(5).sx(0).cx(0, 1).rz(1, 0.5).x(3)
    g = circuit_graph(c, lima, noise_scale=2.0, y=0.8)
    assert g.x.shape == (3 * 2 + 4, len(NODE_FEATURES)) and g.u.shape == (1, len(CIRCUIT_FEATURES))
    assert g.edge_index.shape[1] == 2 * (3 + 3 + 2)  # wires 0, 1, 3: init -> gates -> measure, both ways
    sx = g.x[3]  # nodes: init 0, 1, 3, then the gates
    assert sx[NODE_FEATURES.index("is_sx")] == 1
    assert sx[NODE_FEATURES.index("error*100")] == pytest.approx(100 * lima.gate_error("sx", (0,)))
    assert g.u[0, CIRCUIT_FEATURES.index("log2_noise_scale")] == 1.0 and g.y.item() == pytest.approx(0.8)


def test_graph_of_a_27_qubit_device_is_not_capped():
    dev = Device.from_name("mumbai")
    c = next(c for c in (random_circuit(dev, 3, 30, seed=s) for s in range(50)) if min(used_qubits(c)) > 10)
    g = circuit_graph(c, dev)
    assert torch.isfinite(g.x).all() and g.x[:, NODE_FEATURES.index("qubit_a/n")].max() < 1
    assert g.x[:, NODE_FEATURES.index("qubit_a/n")].min() > 10 / 27  # qubits beyond a 7-qubit device


def _reference_cases():
    """Physical circuits with their graphs and shipped-model predictions as the per-node builder
    of commit bf83c0e computed them (tests/noise/data/quest_graphs.*)."""
    ref = json.loads((DATA / "quest_graphs.json").read_text())
    arrays = np.load(DATA / "quest_graphs.npz")
    cases = []
    for i, r in enumerate(ref["circuits"]):
        dev = Device.from_name(r["device"])
        dev = dev if r["scale"] == 1.0 else dev.scaled(r["scale"])
        cases.append((ds.circuit_from_ops(r["ops"], r["n_wires"]), dev, r["scale"], r["predicted_pst"],
                      arrays[f"x{i}"], arrays[f"u{i}"], arrays[f"edge_index{i}"]))
    return cases


def test_batched_graphs_equal_the_per_node_builder():
    cases = _reference_cases()
    graphs = circuit_graphs([c[0] for c in cases], [c[1] for c in cases], [c[2] for c in cases])
    for (circuit, dev, scale, _, x, u, edge_index), g in zip(cases, graphs):
        np.testing.assert_allclose(g.x.numpy(), x, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(g.u.numpy(), u, rtol=1e-6, atol=1e-7)
        assert np.array_equal(g.edge_index.numpy(), edge_index)
        single = circuit_graph(circuit, dev, scale)  # one at a time: the same graph
        assert torch.equal(single.x, g.x) and torch.equal(single.edge_index, g.edge_index)


def test_shipped_model_predicts_as_before_from_batched_graphs():
    cases = _reference_cases()
    model, _ = load_model()
    before = np.array([c[3] for c in cases])
    circuits, devices, scales = [c[0] for c in cases], [c[1] for c in cases], [c[2] for c in cases]
    np.testing.assert_allclose(predict(model, circuit_graphs(circuits, devices, scales)), before, atol=1e-6)
    np.testing.assert_allclose(predict(model, graph_batch(circuits, devices, scales)), before, atol=1e-6)
    np.testing.assert_allclose(predict_circuits(model, circuits, devices, scales, batch_size=5), before, atol=1e-6)


def test_batched_graphs_skip_directives_and_refuse_what_is_not_physical(lima):
    plain = Circuit(5).sx(0).cx(0, 1).rz(1, 0.5)
    noisy = Circuit(5).sx(0).barrier().id(2).cx(0, 1).measure(1).rz(1, 0.5)
    a, b = circuit_graphs([plain, noisy], lima)
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
    for bad, message in ((Circuit(5).h(0), "'h' is not in the basis"), (Circuit(5).cx(0, 2), "not a coupling-map edge"),
                         (Circuit(5).sx(0).append("sx", 1, adjoint=True), "inverse sx"),
                         (Circuit(7).x(6), "beyond the device"), (Circuit(5).barrier(), "no gates")):
        with pytest.raises(ValueError, match=message):
            graph_batch([plain, bad], lima)


# ---------------------------------------------------------------------- data sets


def test_generate_resumes_after_a_half_written_line(tmp_path):
    path = tmp_path / "d.jsonl"
    kw = dict(devices=["lima", "santiago"], kind="random", seed=1, shots=128, max_gates=20, batch_size=2,
              executor="serial", progress=False)
    first = ds.generate(path, n=4, **kw)
    assert first["labelled"] == 4
    lines = path.read_text().splitlines(keepends=True)
    kept = [json.loads(x)["id"] for x in lines[1:-1]]
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # killed mid-write
    again = ds.generate(path, n=6, **kw)
    assert again["done_before"] == 3 and again["labelled"] == 3
    data = ds.load(path)
    assert sorted(r["id"] for r in data.records) == list(range(6))
    assert [r["id"] for r in data.records[:3]] == kept
    with pytest.raises(ValueError, match="generated with"):
        ds.generate(path, n=6, **{**kw, "shots": 256})


def test_generate_resumes_after_a_kill(tmp_path):
    path = tmp_path / "killed.jsonl"
    script = (f"from noise.fidelity.dataset import generate\n"
              f"generate({str(path)!r}, devices=['lima'], kind='random', n=40, seed=2, shots=64, max_gates=12,"
              f" batch_size=1, executor='serial', progress=False)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and (not path.exists() or path.read_text().count("\n") < 4):
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    before = {r["id"]: r for r in ds.load(path).records}
    assert 3 <= len(before) < 40
    stats = ds.generate(path, devices=["lima"], kind="random", n=40, seed=2, shots=64, max_gates=12, batch_size=1,
                        executor="serial", progress=False)
    assert stats["done_before"] == len(before) and stats["labelled"] == 40 - len(before)
    after = ds.load(path).records
    assert sorted(r["id"] for r in after) == list(range(40))
    assert all(after[k] == before[r["id"]] for k, r in enumerate(after[: len(before)]))


def test_data_set_file_records_calibration_and_versions(tmp_path):
    path = tmp_path / "a.jsonl"
    ds.generate(path, devices=["quito"], kind="algorithm", n=2, shots=64, executor="serial", progress=False)
    data = ds.load(path)
    assert data.header["format"] == "qml-quest-dataset" and "qiskit-aer" in data.header["versions"]
    assert data.header["devices"]["quito"]["properties"]["qubit"]
    r = data.records[0]
    assert r["kind"] == "algorithm" and r["scale"] in ds.ALGORITHM_SCALES and 0 <= r["pst"] <= 1
    assert physical_problem(data.circuit(r), data.device(r["device"], r["scale"])) is None
    path.write_text("not json\n")
    with pytest.raises(ValueError, match="not a QuEst data set"):
        ds.load(path)


def test_splits():
    records = [{"id": i, "kind": "algorithm", "family": "ghz" if i % 3 else "qft", "device": "lima" if i % 2 else "quito"}
               for i in range(200)]
    s = split(records)
    assert sum(map(len, s.values())) == 200 and 5 < len(s["test"]) < 40
    held = split(records, holdout_device="lima")
    assert {r["device"] for r in held["test"]} == {"lima"} and "lima" not in {r["device"] for r in held["train"]}
    fam = split(records, holdout_family="qft")
    assert {r["family"] for r in fam["test"]} == {"qft"}
    with pytest.raises(ValueError, match="no record ran on device"):
        split(records, holdout_device="manila")


# ---------------------------------------------------------------------- models and training


def _graphs(lima, n=12):
    rng = np.random.default_rng(0)
    return [circuit_graph(random_circuit(lima, 2, 15, seed=s), lima, y=float(rng.uniform(0.5, 1))) for s in range(n)]


def test_trainer_resume_equals_one_run(tmp_path, lima):
    gs = _graphs(lima)
    cfg = FitConfig(epochs=4, batch_size=4, patience=10)
    torch.manual_seed(0)
    straight = build_model("gt", hidden=8, layers=1, heads=2)
    FidelityTrainer(straight, gs[:9], gs[9:], cfg, progress=False).fit()
    torch.manual_seed(0)
    part = build_model("gt", hidden=8, layers=1, heads=2)
    FidelityTrainer(part, gs[:9], gs[9:], FitConfig(epochs=2, batch_size=4, patience=10), out_dir=tmp_path,
                    progress=False).fit()
    resumed = build_model("gt", hidden=8, layers=1, heads=2)
    result = FidelityTrainer(resumed, gs[:9], gs[9:], cfg, out_dir=tmp_path, progress=False).fit(resume=True)
    assert result["epochs"] == 4
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="different run"):
        FidelityTrainer(build_model("gt", hidden=8, layers=1, heads=2), gs[:8], gs[8:], cfg, out_dir=tmp_path,
                        progress=False).fit(resume=True)


def test_model_file_roundtrip_and_other_features(tmp_path, lima):
    gs = _graphs(lima, 4)
    model = build_model("gt", hidden=8, layers=1, heads=2)
    model.fit_normalisation(gs)
    save_model(model, tmp_path / "m.pt", {"trained_on": "test"})
    loaded, meta = load_model(tmp_path / "m.pt")
    assert meta["trained_on"] == "test" and np.allclose(predict(loaded, gs), predict(model, gs))
    record = torch.load(tmp_path / "m.pt", weights_only=True)
    record["layout"]["node"] = record["layout"]["node"][:-1]
    torch.save(record, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="made for other features"):
        load_model(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.pt"):
        load_model(tmp_path / "junk.pt")


def test_metrics():
    m = metrics([0.5, 0.7], [0.5, 0.9])
    assert m["rmse"] == pytest.approx(math.sqrt(0.02)) and m["r2"] == pytest.approx(1 - 0.02 / 0.04)


# ---------------------------------------------------------------------- the shipped model and the CLI


def _main(capsys, argv):
    rc = cli.main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped model")
def test_shipped_model_predicts_on_five_devices_and_a_calibration(tmp_path, capsys):
    qasm = _qasm(tmp_path, "ghz.qasm", "h q[0];\ncx q[0],q[1];\ncx q[1],q[2];")
    for name in FIVE:
        rc, out, err = _main(capsys, ["quest", "predict", qasm, "--device", name, "--json", str(tmp_path / "p.json")])
        assert rc == 0, err
        p = json.loads((tmp_path / "p.json").read_text())["rows"][0]["predicted_pst"]
        assert 0.5 < p < 1, (name, p)
    props = Device.from_name("lima").scaled(3).properties()
    (tmp_path / "cal.json").write_text(json.dumps(props))
    rc, out, err = _main(capsys, ["quest", "predict", qasm, "--device", "lima", "--properties",
                                  str(tmp_path / "cal.json"), "--json", str(tmp_path / "q.json")])
    assert rc == 0, err
    worse = json.loads((tmp_path / "q.json").read_text())["rows"][0]["predicted_pst"]
    rc, *_ = _main(capsys, ["quest", "predict", qasm, "--device", "lima", "--json", str(tmp_path / "r.json")])
    assert worse < json.loads((tmp_path / "r.json").read_text())["rows"][0]["predicted_pst"]


def test_label_cli(tmp_path, capsys):
    qasm = _qasm(tmp_path, "bell.qasm", "h q[0];\ncx q[0],q[1];", n=2)
    rc, out, err = _main(capsys, ["quest", "label", qasm, "--device", "santiago", "--shots", "500",
                                  "--json", str(tmp_path / "l.json")])
    assert rc == 0, err
    row = json.loads((tmp_path / "l.json").read_text())["rows"][0]
    assert 0.8 < row["pst"] < 1 and row["shots"] == 500 and row["shot_noise"] > 0 and row["qubits"].count(",") == 1


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    good = _qasm(tmp_path, "good.qasm", "h q[0];")
    cases = [
        (["label", str(tmp_path / "missing.qasm")], "does not exist"),
        (["label", _qasm(tmp_path, "bad.qasm", "foo q[0];")], "is not readable OpenQASM 2"),
        (["label", _qasm(tmp_path, "opaque.qasm", "opaque mygate a;\nmygate q[0];"), "--device", "lima"],
         "'mygate'.*cannot be transpiled"),
        (["predict", good, "--model", str(tmp_path / "nomodel.pt")], "does not exist"),
        (["label", good, "--device", "nowhere"], "unknown device"),
    ]
    wide = _qasm(tmp_path, "wider.qasm", "\n".join(f"h q[{i}];" for i in range(9)), n=9)
    cases.append((["label", wide, "--device", "lima"], "uses 9 qubits but device lima has 5"))
    props = Device.from_name("lima").properties()
    del props["qubit"][next(iter(props["qubit"]))]["T1"]
    (tmp_path / "cal.json").write_text(json.dumps(props))
    cases.append((["label", good, "--device", "lima", "--properties", str(tmp_path / "cal.json")],
                  r"cal.json.*lacks field\(s\) \['T1'\]"))
    for argv, message in cases:
        rc, out, err = _main(capsys, ["quest", *argv])
        assert rc == 2, (argv, out, err)
        assert re.search(message, err), (argv, err)


def test_gen_cli_refuses_to_overwrite_and_resumes(tmp_path, capsys):
    data = str(tmp_path / "g.jsonl")
    argv = ["quest", "gen", "--device", "lima", "--kind", "random", "--n", "3", "--shots", "64", "--max-gates", "15",
            "--executor", "serial", "--no-progress", "--data", data]
    rc, out, err = _main(capsys, argv)
    assert rc == 0, err and "lima" in out
    rc, out, err = _main(capsys, argv)
    assert rc == 2 and "--resume" in err
    rc, out, err = _main(capsys, [*argv[:7], "5", *argv[8:], "--resume"])
    assert rc == 0 and "2 circuits labelled" in out and "3 already in the file" in out


def test_eval_cli_times_quest_end_to_end_against_aer(tmp_path, capsys):
    data = str(tmp_path / "e.jsonl")
    rc, out, err = _main(capsys, ["quest", "gen", "--device", "lima", "--kind", "random", "--n", "12", "--shots", "64",
                                  "--max-gates", "15", "--executor", "serial", "--no-progress", "--data", data])
    assert rc == 0, err
    rc, out, err = _main(capsys, ["quest", "eval", "--data", data, "--speed-n", "3", "--speed-widths", "2,3",
                                  "--speed-repeats", "1", "--shots", "64", "--no-progress",
                                  "--json", str(tmp_path / "e.json")])
    assert rc == 0, err
    rows = json.loads((tmp_path / "e.json").read_text())["rows"]
    assert any(r["split"] == "train" and r["kind"] == "all" for r in rows)
    speed = [r for r in rows if r["split"] == "speed"]
    assert [r["width"] for r in speed] == [2, 3]
    for r in speed:
        assert r["speedup"] == pytest.approx(r["aer_ms"] / r["quest_ms"])
        assert r["speedup_cpu"] == pytest.approx(r["aer_cpu_ms"] / r["quest_cpu_ms"])
        assert 0 < r["graph_ms"] and 0 < r["model_ms"] and r["n"] == 3
    rc, out, err = _main(capsys, ["quest", "eval", "--data", data, "--speed-repeats", "0"])
    assert rc == 2 and "--speed-repeats" in err
