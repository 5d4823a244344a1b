import math

import pytest
import torch

from qml import files
from qml.data import load_task
from qml.layers import build_space
from qml.model import QNN
from qml.train import (BEST, LAST, TrainConfig, Trainer, WarmupCosine, atomic_save, evaluate,
                       load_checkpoint, plot_history)

torch.set_num_threads(1)  # the suite shares two cores


@pytest.fixture(scope="module")
def digits():
    return load_task("digits4")


def _model(seed=0):
    return QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1), n_classes=4, seed=seed)


def _config(epochs=3, **kw):
    return TrainConfig(epochs=epochs, batch_size=64, lr=0.05, seed=0, **kw)


def test_defaults_are_the_papers():
    c = TrainConfig()
    assert (c.lr, c.weight_decay, c.batch_size, c.warmup_epochs) == (5e-3, 1e-4, 256, 0)
    with pytest.raises(ValueError, match="warmup_epochs"):
        TrainConfig(epochs=3, warmup_epochs=3)
    with pytest.raises(ValueError, match="must be positive"):
        TrainConfig(epochs=0)


def test_schedule_warms_up_then_follows_a_cosine():
    f = WarmupCosine(epochs=6, warmup=2)
    assert [f(e) for e in range(2)] == [1 / 3, 2 / 3]
    assert f(2) == 1.0
    assert f(4) == pytest.approx(0.5 * (1 + math.cos(math.pi * 2 / 4)))
    # the trainer steps it once per epoch: lr of epoch e is lr * f(e)
    model = _model()
    t = Trainer(model, load_task("digits2"), TrainConfig(epochs=4, warmup_epochs=1, lr=0.1),
                progress=False)
    t.fit()
    assert [h["lr"] for h in t.history] == pytest.approx([0.1 * WarmupCosine(4, 1)(e)
                                                          for e in range(4)])


def test_training_learns_and_is_seeded(digits):
    a = Trainer(_model(), digits, _config(epochs=4), progress=False)
    before = evaluate(a.model, digits.x_valid, digits.y_valid)[0]
    result = a.fit()
    assert result["history"][-1]["valid_loss"] < before
    assert result["history"][-1]["train_loss"] < result["history"][0]["train_loss"]
    assert result["test_acc"] > 0.4  # chance is 0.25
    b = Trainer(_model(), digits, _config(epochs=4), progress=False)
    b.fit()
    assert torch.equal(a.model.weights, b.model.weights)


def test_resume_continues_exactly(tmp_path, digits):
    straight = Trainer(_model(), digits, _config(epochs=4), tmp_path / "a", progress=False)
    straight.fit()
    first = Trainer(_model(), digits, _config(epochs=4), tmp_path / "b", progress=False)
    first.config.epochs = 2  # stop early, as a killed run would
    first.fit()
    assert load_checkpoint(tmp_path / "b" / LAST)["epoch"] == 2
    torch.manual_seed(123)  # the checkpoint restores torch's RNG state too
    second = Trainer(_model(seed=9), digits, _config(epochs=4), tmp_path / "b", progress=False)
    result = second.fit(resume=True)
    assert torch.equal(second.model.weights, straight.model.weights)
    assert [h["train_loss"] for h in result["history"]] == [h["train_loss"]
                                                            for h in straight.history]


def test_checkpoints_hold_everything_and_reject_other_runs(tmp_path, digits):
    t = Trainer(_model(), digits, _config(epochs=2), tmp_path, identity={"space": "u3cu3"},
                progress=False)
    result = t.fit()
    ckpt = load_checkpoint(tmp_path / LAST)
    assert set(ckpt) >= {"model", "optimizer", "scheduler", "epoch", "torch_rng", "shuffle_rng",
                         "history", "identity"}
    assert (tmp_path / BEST).exists() and "best_test_acc" in result
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    other = Trainer(_model(), digits, _config(epochs=2), tmp_path, identity={"space": "zzry"},
                    progress=False)
    with pytest.raises(ValueError, match="different run.*space: 'u3cu3' there, 'zzry' here"):
        other.fit(resume=True)


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "x.pt"
    atomic_save({"a": torch.ones(2)}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    with pytest.raises(RuntimeError):
        atomic_save({"a": Unpicklable()}, path)
    assert torch.equal(files.load_checkpoint(path)["a"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]


def test_feature_mismatch_is_an_error():
    with pytest.raises(ValueError, match="reads 16 features but task 'digits10' has 36"):
        Trainer(_model(), load_task("digits10"), _config())


def test_learning_curve_png(tmp_path):
    history = [{"epoch": e, "train_loss": 1 / e, "valid_loss": 1.1 / e, "train_acc": 0.5,
                "valid_acc": 0.4} for e in (1, 2, 3)]
    plot_history(history, tmp_path / "curve.png", title="t")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_without_a_checkpoint_is_refused(tmp_path, digits):
    with pytest.raises(ValueError, match=f"cannot resume: no checkpoint at {tmp_path / LAST}"):
        Trainer(_model(), digits, _config(), tmp_path, progress=False).fit(resume=True)
    with pytest.raises(ValueError, match="no checkpoint directory"):
        Trainer(_model(), digits, _config(), progress=False).fit(resume=True)


def test_a_finished_run_is_extended_with_more_epochs(tmp_path, digits):
    Trainer(_model(), digits, _config(epochs=2), tmp_path, progress=False).fit()
    more = Trainer(_model(), digits, _config(epochs=4), tmp_path, progress=False)
    result = more.fit(resume=True)
    assert result["epochs"] == 4 and [h["epoch"] for h in result["history"]] == [1, 2, 3, 4]
    # the cosine is stretched to 4 epochs from epoch 2 on: a warm restart, not a zero rate
    assert result["history"][2]["lr"] == pytest.approx(0.05 * WarmupCosine(4, 0)(2))
    assert load_checkpoint(tmp_path / LAST)["epoch"] == 4


@pytest.mark.parametrize("content", ["random", "half", "empty", "qec"])
def test_a_bad_last_checkpoint_is_a_clear_error(tmp_path, digits, content):
    Trainer(_model(), digits, _config(epochs=1), tmp_path, progress=False).fit()
    last = tmp_path / LAST
    data = last.read_bytes()
    if content == "random":
        last.write_bytes(bytes(range(256)) * 16)
    elif content == "half":
        last.write_bytes(data[: len(data) // 2])
    elif content == "empty":
        last.write_bytes(b"")
    else:  # a `qec train` checkpoint copied to last.pt
        torch.save({"format": 3, "model_config": {}, "model": {}, "optimizer": {}, "step": 5,
                    "history": []}, last)
    with pytest.raises(ValueError) as err:
        Trainer(_model(), digits, _config(epochs=2), tmp_path, progress=False).fit(resume=True)
    assert str(last) in str(err.value) and "weights_only" not in str(err.value)


def test_wall_time_counts_the_sessions_before_a_resume(tmp_path, digits):
    first = Trainer(_model(), digits, _config(epochs=2), tmp_path, progress=False)
    first.fit()
    before = load_checkpoint(tmp_path / LAST)["wall_s"]
    assert before >= sum(h["epoch_s"] for h in first.history)
    second = Trainer(_model(), digits, _config(epochs=3), tmp_path, progress=False)
    second.fit(resume=True)
    assert second.wall_s > before and load_checkpoint(tmp_path / LAST)["wall_s"] > before
