import gzip

import numpy as np
import pytest
import torch

from qml import data
from qml.data import MissingDataError, load_task, preprocess_images, read_idx


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist(folder, n_per_class=20, prefix="t10k", compress=True, seed=0):
    """A small fake MNIST split: class k images are constant k*20 (so the features show it)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), n_per_class)
    rng.shuffle(labels)
    images = (labels[:, None, None] * 20 + np.zeros((1, 28, 28))).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
        name = f"{prefix}-{kind}-ubyte"
        raw = _idx_bytes(arr)
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return images, labels


def test_read_idx_gzip_and_raw_agree(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a-idx3-ubyte").write_bytes(_idx_bytes(arr))
    (tmp_path / "a-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte.gz"), arr)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="shape"):
        read_idx(tmp_path / "short")


def test_preprocess_crops_pools_and_normalizes():
    img = np.zeros((1, 28, 28), np.uint8)
    img[0, 2:8, 2:8] = 255  # exactly the top-left 6x6 pooling window after the crop
    img[0, 0, :] = 255  # the border row is cropped away
    x = preprocess_images(img, pool=6)
    hi, lo = (1 - data.MNIST_MEAN) / data.MNIST_STD, -data.MNIST_MEAN / data.MNIST_STD
    expected = torch.full((16,), lo)
    expected[0] = hi
    torch.testing.assert_close(x[0], expected)
    assert preprocess_images(img, pool=4).shape == (1, 36)


def test_test_split_only_is_stratified_disjoint_and_fixed(tmp_path):
    _write_mnist(tmp_path / "mnist", compress=False)
    d = load_task("mnist4", tmp_path)
    assert d.sizes() == {"train": 56, "valid": 8, "test": 16}  # 70/10/20 of 4 x 20
    assert "test split only" in d.split and "70/10/20" in d.split
    for y in (d.y_train, d.y_valid, d.y_test):
        assert torch.bincount(y, minlength=4).tolist() == [len(y) // 4] * 4
    # class k images are constant k*20, so each row's features identify its label
    level = lambda k: ((k * 20 / 255) - data.MNIST_MEAN) / data.MNIST_STD  # noqa: E731
    for x, y in ((d.x_train, d.y_train), (d.x_test, d.y_test)):
        torch.testing.assert_close(x[:, 0], torch.tensor([level(int(k)) for k in y]))
    again = load_task("mnist4", tmp_path)
    assert torch.equal(again.x_test, d.x_test) and torch.equal(again.y_train, d.y_train)
    all_rows = torch.cat([d.x_train, d.x_valid, d.x_test])
    assert len(all_rows) == 80


def test_two_class_task_relabels_three_and_six(tmp_path):
    _write_mnist(tmp_path / "mnist")
    d = load_task("mnist2", tmp_path)
    assert d.class_names == ("3", "6") and d.n_classes == 2
    level3 = ((60 / 255) - data.MNIST_MEAN) / data.MNIST_STD
    assert torch.allclose(d.x_train[d.y_train == 0], torch.tensor(level3))


def test_official_train_file_is_used_when_present(tmp_path):
    _write_mnist(tmp_path / "mnist", n_per_class=10)
    _write_mnist(tmp_path / "mnist", n_per_class=30, prefix="train", seed=1)
    d = load_task("mnist10", tmp_path)
    assert d.sizes() == {"train": 270, "valid": 30, "test": 100}
    assert "official test split" in d.split
    assert d.n_features == 36 and d.encoder == "6x6_ryzxy" and d.n_wires == 10


def test_data_dir_from_environment(tmp_path, monkeypatch):
    _write_mnist(tmp_path / "mnist")
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert load_task("mnist4").sizes()["test"] == 16
    assert data.default_task() == "mnist4"
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "nothing-here"))
    assert data.default_task() == "digits4"


def test_missing_files_name_directory_and_expected_files(tmp_path):
    with pytest.raises(MissingDataError) as err:
        load_task("fashion4", tmp_path)
    message = str(err.value)
    assert str(tmp_path / "fashion") in message and "t10k-images-idx3-ubyte" in message
    assert "digits4" in message
    with pytest.raises(MissingDataError, match="does not exist"):
        load_task("mnist2", tmp_path / "absent")
    assert isinstance(err.value, ValueError)  # the CLI reports it in one line


def test_unknown_task_lists_valid_choices():
    with pytest.raises(ValueError, match="valid tasks: mnist2, mnist4.*digits4.*vowel4"):
        load_task("mnist5")


@pytest.mark.parametrize("name,features,classes", [("digits2", 16, 2), ("digits4", 16, 4),
                                                   ("digits10", 36, 10)])
def test_digits_tasks(name, features, classes):
    d = load_task(name)
    assert d.n_features == features and d.n_classes == classes
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    total = sum(d.sizes().values())
    assert abs(d.sizes()["test"] - 0.2 * total) <= classes
    assert set(d.y_test.tolist()) == set(range(classes))


def test_vowel4_from_a_small_file(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for flag in (0, 1):
        for cls in range(11):
            for _ in range(12):
                feats = rng.normal(cls, 1.0, size=10)
                rows.append([flag, rng.integers(15), rng.integers(2), *feats, cls])
    (tmp_path / "vowel").mkdir()
    np.savetxt(tmp_path / "vowel" / "vowel-context.data", np.array(rows), delimiter=",",
               fmt="%.4f")
    d = load_task("vowel4", tmp_path)
    assert d.class_names == ("hid", "had", "hId", "hOd")
    assert d.sizes() == {"train": 44, "valid": 4, "test": 48}
    assert d.n_features == 10 and d.encoder == "10_ryzx"
    # min-max scaling fitted on the training part maps it onto [0, 1] exactly
    assert d.x_train.min().item() == pytest.approx(0, abs=1e-6)
    assert d.x_train.max().item() == pytest.approx(1, abs=1e-6)
    # class means stay apart after PCA and scaling: labels carry through the pipeline
    means = torch.stack([d.x_test[d.y_test == k].mean(0) for k in range(4)])
    assert torch.cdist(means, means).fill_diagonal_(1.0).min() > 0.05


def test_vowel_file_with_wrong_columns(tmp_path):
    (tmp_path / "vowel-context.data").write_text("0,1,2\n1,2,3\n")
    with pytest.raises(ValueError, match="14 comma-separated columns"):
        data.load_vowel_file(tmp_path / "vowel-context.data")
