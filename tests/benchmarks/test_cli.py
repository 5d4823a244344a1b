"""What every qml-bench command shares: --out/--json/--threads/--device checked before any work,
the table printed before files are written, and one-line errors (exit status 2) for bad input."""

import json
import os

import pytest
import torch

from benchmarks import qec_ler
from benchmarks.cli import main
from qml.train import LAST

torch.set_num_threads(1)  # the suite shares two cores
LER = ["qec", "ler", "--distances", "3", "--p", "0.005", "--shots", "2000"]
TRAIN = ["train", "--task", "digits4", "--blocks", "1", "--batch-size", "64", "--no-progress"]


@pytest.fixture
def no_sampling(monkeypatch):
    """Fail the test if the command starts sampling: the check must come before any work."""
    def refuse(*args, **kwargs):
        raise AssertionError("sampled before the options were checked")
    monkeypatch.setattr(qec_ler, "measure_point", refuse)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_out_under_a_file_fails_before_sampling(tmp_path, capsys, no_sampling):
    (tmp_path / "notadir").write_text("")
    assert main([*LER, "--out", str(tmp_path / "notadir" / "sub")]) == 2
    assert f"--out {tmp_path / 'notadir' / 'sub'}: {tmp_path / 'notadir'} is a file" in _error(capsys)


@pytest.mark.parametrize("case", ["file", "unwritable"])
def test_bad_out_directories(tmp_path, capsys, no_sampling, case):
    if case == "file":
        (tmp_path / "f").write_text("")
        out, message = tmp_path / "f", "is a file, not a directory"
    else:
        out, message = "/proc/qml-bench-out", "cannot create the directory"
    assert main([*LER, "--out", str(out)]) == 2
    assert message in _error(capsys)


def test_json_naming_a_directory(tmp_path, capsys, no_sampling):
    assert main([*LER, "--json", str(tmp_path)]) == 2
    assert f"--json {tmp_path} is a directory" in _error(capsys)
    assert main([*LER, "--json", "/proc/qml-bench/r.json"]) == 2
    assert "cannot create the directory" in _error(capsys)


def test_out_and_json_directories_are_created_before_the_run(tmp_path, capsys, monkeypatch):
    out, record = tmp_path / "a" / "b", tmp_path / "c" / "r.json"
    printed_before_writing = []
    write_csv = qec_ler.write_csv

    def watched(report, path):
        printed_before_writing.append(capsys.readouterr().out)
        write_csv(report, path)
    monkeypatch.setattr(qec_ler, "write_csv", watched)
    assert main([*LER, "--out", str(out), "--json", str(record)]) == 0
    assert "QEC logical error rate" in printed_before_writing[0]
    text = printed_before_writing[0] + capsys.readouterr().out
    assert (out / "qec_ler.csv").exists() and json.loads(record.read_text())["rows"]
    # the table comes first, then the files
    assert text.index("QEC logical error rate") < text.index(f"wrote {out / 'qec_ler.csv'}") < text.index(
        f"wrote {record}")


def test_a_failing_write_does_not_lose_the_table(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "qec_ler.csv"))
    monkeypatch.setattr(qec_ler, "write_csv", full)
    assert main([*LER, "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "QEC logical error rate" in captured.out and "mwpm" in captured.out
    assert "No space left on device" in captured.err


@pytest.mark.parametrize("command", [TRAIN, ["qec", "train", "--steps", "1"]])
@pytest.mark.parametrize("threads", ["0", "-2"])
def test_threads_must_be_positive(command, threads, capsys):
    assert main([*command, "--threads", threads]) == 2
    assert f"--threads must be a positive integer, got {threads}" in _error(capsys)


def test_qec_train_checks_its_checkpoint_path_before_training(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(["qec", "train", "--steps", "1", "--checkpoint", str(tmp_path / "f" / "c.pt")]) == 2
    assert f"{tmp_path / 'f'} is a file, not a directory" in _error(capsys)
    assert main(["qec", "train", "--steps", "1", "--checkpoint", str(tmp_path)]) == 2
    assert f"--checkpoint {tmp_path} is a directory" in _error(capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this torch sees a CUDA device")
def test_cuda_without_cuda(capsys):
    assert main(["qec", "train", "--steps", "1", "--device", "cuda"]) == 2
    assert "--device cuda asked for, but this torch sees no CUDA device" in _error(capsys)


def test_sim_too_many_qubits_is_the_workers_clean_message(capsys):
    assert main(["sim", "--sizes", "40", "--cases", "B2", "--no-peers", "--threads", "1"]) == 2
    err = _error(capsys)
    assert err.startswith("qml-bench sim: error: 40 qubits need") and "RuntimeError" not in err


def test_sim_names_the_missing_peers_and_how_to_install_them():
    from benchmarks.sim import _missing_peers
    config = {"cases": ["B2"], "sizes": [10], "grad_sizes": [], "peers": True,
              "precisions": ["complex64", "complex128"]}
    rows = [{"simulator": "ours", "precision": "complex64"}, {"simulator": "qulacs", "precision": "complex128"},
            {"simulator": "qiskit-aer", "precision": "complex64"}]
    (note,) = _missing_peers(config, rows)
    assert "not installed" in note and "qulacs" not in note and "`make bench-peers` installs" in note
    assert "qiskit-aer (complex128)" in note and "qiskit-aer (complex64)" not in note


def test_train_gets_a_new_run_directory_per_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "results" / "train" / "digits4-u3cu3-b1-s0"
    assert main([*TRAIN, "--epochs", "1"]) == 0
    assert main([*TRAIN, "--epochs", "1"]) == 0  # the first run (the demo's, say) is kept
    assert (base / LAST).exists() and (base.with_name(base.name + "-2") / LAST).exists()
    assert main([*TRAIN, "--epochs", "2", "--resume"]) == 0  # the latest run, extended
    run = json.loads((base.with_name(base.name + "-2") / "run.json").read_text())
    assert len(run["history"]) == 2
    assert len(json.loads((base / "run.json").read_text())["history"]) == 1


def test_train_refuses_to_overwrite_a_named_run(tmp_path, capsys):
    assert main([*TRAIN, "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert main([*TRAIN, "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert f"--out {tmp_path} already holds a run" in _error(capsys)


def test_resume_without_a_checkpoint_is_refused_by_both_trainers(tmp_path, capsys):
    assert main([*TRAIN, "--epochs", "1", "--resume", "--out", str(tmp_path / "q")]) == 2
    assert f"cannot resume: no checkpoint at {tmp_path / 'q' / LAST}" in _error(capsys)
    assert main(["qec", "train", "--steps", "1", "--resume", "--checkpoint", str(tmp_path / "c.pt")]) == 2
    assert f"cannot resume: no checkpoint at {tmp_path / 'c.pt'}" in _error(capsys)


def test_a_finished_run_is_extended_and_its_wall_time_counts_both_sessions(tmp_path, capsys):
    assert main([*TRAIN, "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert main([*TRAIN, "--epochs", "3", "--resume", "--out", str(tmp_path)]) == 0
    run = json.loads((tmp_path / "run.json").read_text())
    assert [h["epoch"] for h in run["history"]] == [1, 2, 3]
    # the first session's epoch counts too (run.json's first wall_s also holds its final evaluation,
    # which the checkpoint, saved before it, does not: compare with the epochs themselves)
    assert run["wall_s"] > sum(h["epoch_s"] for h in run["history"])


@pytest.mark.parametrize("content", ["random", "half", "empty", "qec"])
def test_a_bad_checkpoint_given_to_resume(tmp_path, capsys, content):
    assert main([*TRAIN, "--epochs", "1", "--out", str(tmp_path)]) == 0
    last = tmp_path / LAST
    data = last.read_bytes()
    if content == "random":
        last.write_bytes(os.urandom(4096))
    elif content == "half":
        last.write_bytes(data[: len(data) // 2])
    elif content == "empty":
        last.write_bytes(b"")
    else:  # a `qec train` checkpoint copied to last.pt
        from qec import codes
        from qec.learned.train import TrainConfig, train
        circuit = codes.surface_code(3, 0.05, "code-capacity", basis="zx")
        train([circuit], {"distance": 3, "rounds": 1, "basis": "zx", "noise": "code-capacity"},
              TrainConfig(steps=1, batch_size=8, d_model=16, heads=2, layers=1, progress=False),
              checkpoint=str(last))
    capsys.readouterr()
    assert main([*TRAIN, "--epochs", "2", "--resume", "--out", str(tmp_path)]) == 2
    err = _error(capsys)
    assert str(last) in err and "weights_only" not in err


def test_written_files_are_readable_by_others(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        assert main([*TRAIN, "--epochs", "1", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")]) == 0
    finally:
        os.umask(old)
    for name in (LAST, "best.pt", "run.json", "curve.png", "r.json"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o644, name
