"""``qml-bench qec ler`` and ``qml-bench qec drift`` end to end, on small settings."""

import argparse
import csv
import json

import pytest

from benchmarks import qec
from benchmarks.report import write_json


def parse(argv):
    parser = argparse.ArgumentParser(prog="qml-bench qec")
    parser.add_argument("--json")  # the common options, as benchmarks.cli adds them
    parser.add_argument("--out")
    parser.add_argument("--seed", type=int, default=0)
    qec.add_arguments(parser)
    return parser.parse_args(argv)


def test_ler_table_csv_json_plot(tmp_path):
    args = parse(["ler", "--decoders", "mwpm,uf,dgr", "--distances", "3", "--p", "0.003,0.005", "--shots", "5000",
                  "--calibration-shots", "2000", "--out", str(tmp_path)])
    report = qec.run(args)
    assert not (tmp_path / "qec_ler.csv").exists()  # files are written after the table is printed
    assert report.write_outputs() == [str(tmp_path / "qec_ler.csv"), str(tmp_path / "qec_ler.png")]
    assert [(r["decoder"], r["p"]) for r in report.rows] == [
        (d, p) for p in (0.003, 0.005) for d in ("mwpm", "uf", "dgr")]
    for r in report.rows:
        assert r["shots"] == 5000 and r["ci_low"] <= r["ler"] <= r["ci_high"] and r["shots_per_s"] > 0
    with open(tmp_path / "qec_ler.csv") as f:
        assert len(list(csv.DictReader(f))) == 6
    assert (tmp_path / "qec_ler.png").stat().st_size > 1000
    write_json(report, tmp_path / "ler.json", seed=0)
    assert json.loads((tmp_path / "ler.json").read_text())["rows"][0]["decoder"] == "mwpm"
    again = qec.run(parse(["ler", "--decoders", "mwpm,uf,dgr", "--distances", "3", "--p", "0.003,0.005",
                           "--shots", "5000", "--calibration-shots", "2000"]))
    assert [r["errors"] for r in again.rows] == [r["errors"] for r in report.rows]  # same seed, same numbers


def test_ler_stratified_reaches_below_one_over_shots():
    report = qec.run(parse(["ler", "--noise", "code-capacity", "--basis", "zx", "--distances", "5", "--p", "0.001",
                            "--shots", "2000", "--stratify"]))
    assert "stratified" in report.title
    mwpm, uf = report.rows
    assert 0 < mwpm["ci_low"] <= mwpm["ler"] <= mwpm["ci_high"] < 1e-6 < 1 / mwpm["shots"]
    assert mwpm["errors"] > 0 and mwpm["ler"] <= uf["ler"]


def test_drift_hot_qubits_and_correlated():
    report = qec.run(parse(["drift", "--distances", "3", "--shots", "20000", "--calibration-shots", "2000",
                            "--seed", "1"]))
    names = [(r["decoder"], r["built_from"]) for r in report.rows]
    assert names == [("mwpm", "nominal"), ("mwpm", "true"), ("dgr-align", "nominal"), ("dgr-online", "nominal"),
                     ("dgr-corr", "nominal")]
    assert report.rows[1]["ratio"] == 1.0
    report = qec.run(parse(["drift", "--scenario", "correlated", "--distances", "5", "--p", "0.002",
                            "--shots", "5000", "--calibration-shots", "2000"]))
    assert {r["decoder"] for r in report.rows} >= {"mwpm-corr", "dgr-corr"}


@pytest.mark.parametrize("argv, message", [
    (["ler", "--distances", "4"], "odd"),
    (["ler", "--p", "0.7"], r"\[0, 0.5\]"),
    (["ler", "--decoders", "mwpm,blossom"], "unknown decoder 'blossom'"),
    (["drift", "--distances", "2"], "odd"),
    (["ler", "--decoders", "transformer", "--distances", "7"], r"no shipped transformer decoder .* shipped: circuit"),
    (["ler", "--decoders", "transformer", "--noise", "code-capacity", "--distances", "3"], "basis=z, rounds=1"),
    (["ler", "--distances", "3", "--stratify"], "single-qubit Pauli channel"),
    (["ler", "--noise", "code-capacity", "--stratify", "--max-errors", "10"], "--max-errors"),
])
def test_bad_input(argv, message):
    with pytest.raises(ValueError, match=message):
        qec.run(parse(argv))


def test_ler_with_a_trained_transformer(tmp_path):
    from qec.codes import surface_code
    from qec.learned.train import TrainConfig, train
    circuit = surface_code(3, 0.05, noise="code-capacity", basis="zx")
    code = {"distance": 3, "rounds": 1, "basis": "zx", "noise": "code-capacity"}
    train([circuit], code, TrainConfig(steps=4, batch_size=32, d_model=16, heads=2, layers=1, progress=False),
          checkpoint=str(tmp_path / "cc_d3.pt"))
    argv = ["ler", "--decoders", "transformer,mwpm", "--noise", "code-capacity", "--basis", "zx", "--distances", "3",
            "--p", "0.05", "--shots", "3000", "--checkpoint", str(tmp_path / "cc_d{d}.pt")]
    report = qec.run(parse(argv))
    assert [r["decoder"] for r in report.rows] == ["transformer", "mwpm"]
    assert all(r["shots"] == 3000 and r["shots_per_s"] > 0 for r in report.rows)
    argv[argv.index("--distances") + 1], argv[-1] = "5", str(tmp_path / "cc_d3.pt")
    with pytest.raises(ValueError, match="another code"):  # the d=3 model asked to decode d=5
        qec.run(parse(argv))


def test_ler_with_the_shipped_transformer():
    argv = ["ler", "--decoders", "mwpm,transformer", "--distances", "3,5", "--p", "0.005", "--shots", "400"]
    report = qec.run(parse(argv))  # no --checkpoint: the model shipped for each distance
    assert [(r["decoder"], r["distance"]) for r in report.rows] == [
        (name, d) for d in (3, 5) for name in ("mwpm", "transformer")]
    assert all(r["shots"] == 400 and r["ler"] < 0.1 for r in report.rows)


def test_through_qml_bench_main(tmp_path, capsys):
    from benchmarks.cli import main
    path = tmp_path / "r.json"
    assert main(["qec", "ler", "--distances", "3", "--p", "0.005", "--shots", "2000", "--json", str(path)]) == 0
    assert json.loads(path.read_text())["rows"][1]["decoder"] == "uf"
    assert main(["qec", "ler", "--distances", "4"]) == 2
    assert "distance must be an odd integer" in capsys.readouterr().err
