import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmarks.cli import main
from qml.train import BEST, LAST, load_checkpoint

torch.set_num_threads(1)  # the suite shares two cores
ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--task", "digits4", "--blocks", "1", "--batch-size", "32", "--no-progress"]


def test_train_prints_the_table_and_writes_the_record(tmp_path, capsys):
    out, record = tmp_path / "run", tmp_path / "r.json"
    assert main(["train", *SMALL, "--epochs", "2", "--out", str(out), "--json", str(record)]) == 0
    text = capsys.readouterr().out
    assert "train_acc" in text and "test_acc" in text and "s_per_epoch" in text
    assert "sklearn digits (8x8): 70/10/20" in text  # the split is named in the output
    rows = json.loads(record.read_text())["rows"]
    assert rows[0]["model"] == "qml" and rows[0]["epochs"] == 2 and rows[0]["params"] == 24
    run = json.loads((out / "run.json").read_text())
    assert len(run["history"]) == 2 and run["seed"] == 0 and "torch" in run["versions"]
    assert run["config"]["split"].startswith("sklearn digits") and run["wall_s"] > 0
    assert set(run["history"][0]) >= {"train_loss", "train_acc", "valid_acc", "epoch_s", "lr"}
    assert (out / "curve.png").exists() and (out / LAST).exists() and (out / BEST).exists()


@pytest.mark.parametrize("argv,message", [
    (["--task", "mnist5"], "unknown task 'mnist5'; valid tasks: mnist2, mnist4"),
    (["--task", "digits4", "--space", "u3cx"], "unknown design space 'u3cx'; valid spaces: u3cu3"),
    (["--task", "digits10", "--encoder", "4x4_ryzxy"],
     "encoder '4x4_ryzxy' takes 16 features but task 'digits10' has 36; encoders: 4x4_ryzxy"),
    (["--task", "mnist4", "--data-dir", "/nonexistent/qml-data"],
     "data directory /nonexistent/qml-data does not exist"),
    (["--task", "fashion2", "--data-dir", "."],
     "expected t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"),
])
def test_bad_inputs_name_the_problem_and_the_choices(argv, message, capsys, tmp_path):
    assert main(["train", *argv, "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_sigkill_mid_epoch_then_resume_ends_with_the_same_parameters(tmp_path):
    args = [*SMALL, "--epochs", "8", "--batch-size", "16", "--seed", "3"]
    assert main(["train", *args, "--out", str(tmp_path / "straight")]) == 0
    reference = load_checkpoint(tmp_path / "straight" / LAST)["model"]["weights"]

    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "benchmarks.cli", "train", *args, "--out", str(killed)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if (killed / LAST).exists() and load_checkpoint(killed / LAST)["epoch"] >= 2:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    stopped_at = load_checkpoint(killed / LAST)["epoch"]
    assert 2 <= stopped_at < 8  # killed part-way through the run
    assert main(["train", *args, "--out", str(killed), "--resume"]) == 0
    resumed = load_checkpoint(killed / LAST)
    assert resumed["epoch"] == 8
    assert torch.equal(resumed["model"]["weights"], reference)


def test_resume_of_a_different_run_is_refused(tmp_path, capsys):
    assert main(["train", *SMALL, "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert main(["train", *SMALL, "--epochs", "1", "--space", "zzry", "--out", str(tmp_path),
                 "--resume"]) == 2
    assert "cannot resume" in capsys.readouterr().err


def test_demo_trains_digits4_and_prints_the_table(tmp_path, capsys):
    assert main(["demo", "--epochs", "1", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("engine check:") and "equals qiskit's Statevector" in text
    assert "demo: QNN training: digits4" in text and "  qml  digits4" in text


def test_compare_with_torchquantum_trains_the_same_model(tmp_path, capsys):
    from benchmarks.torchquantum_peer import import_torchquantum

    try:
        import_torchquantum()
    except ImportError as err:  # `make bench-peers` installs it; `make test` does not
        pytest.skip(str(err))
    assert main(["train", "--task", "digits4", "--epochs", "2", "--batch-size", "64",
                 "--compare", "torchquantum", "--no-progress", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    rows = [line.split() for line in text.splitlines() if "digits4  u3cu3" in line]
    assert [r[0] for r in rows] == ["qml", "torchquantum"]
    # same initial angles (same seed, same order), same data order: the same accuracies
    assert rows[0][6:9] == rows[1][6:9]
    assert "time per epoch, qml / torchquantum: wall" in text and "(least)" in text
