"""Classification data sets of the QuantumNAS/QuantumNAT papers, preprocessed as they did.

Image tasks (MNIST, Fashion-MNIST): pixels scaled to [0, 1], normalized with MNIST's mean and
std (0.1307, 0.3081), center-cropped from 28x28 to 24x24, then average-pooled by 6 to 4x4 = 16
features (2- and 4-class tasks, 4 qubits) or by 4 to 6x6 = 36 features (10-class tasks, 10
qubits). Images are read from IDX files (gzip-compressed or raw) under a data directory:
``<data dir>/mnist/`` and ``<data dir>/fashion/``.

Splits: with only the 10,000-image test file (as in ``shared/data/mnist``), that file is split
70/10/20 into train/validation/test, stratified, with the fixed seed ``SPLIT_SEED``; with the
60,000-image training file too, it is split 90/10 into train/validation and the official test
file is the test set. ``TaskData.split`` says which split was used.

``digits2/4/10``: scikit-learn's bundled 8x8 digits, scaled to [0, 1] and normalized like MNIST,
pooled by 2 to 4x4 (the 10-class task center-crops 6x6 = 36 features instead, for the 10-qubit
encoder), split 70/10/20. They are the default when no MNIST files are found. ``vowel4``: the UCI
vowel-context set, classes hid/had/hId/hOd, PCA to 10 features, then robust and min-max scaling
fitted on the training rows; the file's own train/test flag gives the test set.

Example:
    >>> from qml.data import load_task
    >>> d = load_task("digits4")
    >>> tuple(d.x_train.shape[1:]), d.n_classes, d.encoder
    ((16,), 4, '4x4_ryzxy')
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
SPLIT_SEED = 0  # the train/validation/test split is the same for every training seed
ENV_VAR = "QML_DATA_DIR"
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
VOWEL_FILE = "vowel-context.data"
# UCI vowel class index -> name, in the order of the Vowel-4 labels 0..3
VOWEL4_CLASSES = {0: "hid", 5: "had", 1: "hId", 6: "hOd"}
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot")


@dataclass(frozen=True)
class TaskSpec:
    """What a task is: its source, the classes it keeps, and its feature layout."""

    source: str  # "mnist", "fashion", "digits" or "vowel"
    classes: tuple[int, ...]  # source labels kept, in the order of the task's labels
    pool: int  # image tasks: 6 -> 4x4 features, 4 -> 6x6 features
    encoder: str  # the papers' encoder for this feature layout (see qml.layers.ENCODERS)
    n_wires: int


def _image_tasks(source: str, prefix: str, two: tuple[int, int]) -> dict[str, TaskSpec]:
    return {f"{prefix}2": TaskSpec(source, two, 6, "4x4_ryzxy", 4),
            f"{prefix}4": TaskSpec(source, (0, 1, 2, 3), 6, "4x4_ryzxy", 4),
            f"{prefix}10": TaskSpec(source, tuple(range(10)), 4, "6x6_ryzxy", 10)}


TASKS: dict[str, TaskSpec] = {
    **_image_tasks("mnist", "mnist", (3, 6)),
    **_image_tasks("fashion", "fashion", (3, 6)),
    **_image_tasks("digits", "digits", (3, 6)),
    "vowel4": TaskSpec("vowel", tuple(VOWEL4_CLASSES), 0, "10_ryzx", 4),
}
# sub-directories of the data directory searched for each source, first match wins
SOURCE_DIRS = {"mnist": ("mnist", "MNIST/raw"),
               "fashion": ("fashion", "fashion-mnist", "FashionMNIST/raw"),
               "vowel": ("vowel", ".")}


class MissingDataError(FileNotFoundError, ValueError):
    """A requested data set's files (or the data directory itself) are missing.

    A ``ValueError`` too, so that the command line reports it as bad input in one line.
    """


@dataclass
class TaskData:
    """One task's tensors (float32 features, int64 labels) and where they came from."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    class_names: tuple[str, ...]
    split: str  # which files and which split, for every output that reports accuracy
    encoder: str
    n_wires: int

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "valid": len(self.y_valid), "test": len(self.y_test)}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed when its name ends in ``.gz``) into a numpy array.

    Example:
        >>> import gzip, tempfile, numpy as np, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x-idx1-ubyte.gz"
        >>> p.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])))
        31
        >>> read_idx(p)
        array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX element type 0x{raw[2]:02x}")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but holds {data.size} elements")
    return data.reshape(shape).astype(dtypes[raw[2]][1:])


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: ``data_dir``, else ``$QML_DATA_DIR``, else ``../shared/data`` beside
    the repository, else ``./data``."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_VAR)
    if data_dir is not None:
        return Path(data_dir)
    beside_repo = Path(__file__).resolve().parents[2] / "shared" / "data"
    return beside_repo if beside_repo.is_dir() else Path("data")


def _find(data_dir: Path, source: str, names: tuple[str, ...]) -> list[Path] | None:
    """Paths of ``names`` (raw or ``.gz``) in the first sub-directory of ``data_dir`` holding all."""
    for sub in SOURCE_DIRS[source]:
        found = []
        for name in names:
            hits = [data_dir / sub / n for n in (name, name + ".gz") if (data_dir / sub / n).is_file()]
            if not hits:
                break
            found.append(hits[0])
        else:
            return found
    return None


def _missing(data_dir: Path, source: str, names: tuple[str, ...]) -> MissingDataError:
    where = " or ".join(str(data_dir / s) for s in SOURCE_DIRS[source])
    return MissingDataError(
        f"{source} data not found: expected {', '.join(names)} (raw or .gz) in {where}; "
        f"pass --data-dir or set {ENV_VAR}, or use a digits task (digits2, digits4, digits10), "
        "which needs no files")


def has_source(source: str, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether the files of ``source`` ("mnist", "fashion", "vowel") are in the data directory."""
    names = (VOWEL_FILE,) if source == "vowel" else IDX_FILES["test"]
    return _find(resolve_data_dir(data_dir), source, names) is not None


def default_task(data_dir: str | os.PathLike | None = None) -> str:
    """``mnist4`` when the MNIST files are found, else the embedded ``digits4``."""
    return "mnist4" if has_source("mnist", data_dir) else "digits4"


def preprocess_images(images: np.ndarray, pool: int, peak: float = 255.0) -> torch.Tensor:
    """Normalize with MNIST's mean/std, center-crop 28x28 to 24x24, average-pool by ``pool``.

    Example:
        >>> preprocess_images(np.zeros((2, 28, 28), np.uint8), pool=6).shape
        torch.Size([2, 16])
    """
    x = (torch.as_tensor(images, dtype=torch.float32) / peak - MNIST_MEAN) / MNIST_STD
    x = x[:, 2:26, 2:26]
    x = torch.nn.functional.avg_pool2d(x.unsqueeze(1), pool)
    return x.flatten(1)


def _stratified(y: np.ndarray, fractions: tuple[float, ...]) -> list[np.ndarray]:
    """Index arrays splitting ``y`` into parts of the given fractions, per class, fixed seed."""
    rng = np.random.default_rng(SPLIT_SEED)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    bounds = np.cumsum(fractions)[:-1]
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        for k, chunk in enumerate(np.split(idx, np.round(bounds * len(idx)).astype(int))):
            parts[k].append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]


def _keep(x: np.ndarray, y: np.ndarray, classes: tuple[int, ...]):
    mask = np.isin(y, classes)
    remap = {c: i for i, c in enumerate(classes)}
    return x[mask], np.array([remap[int(v)] for v in y[mask]], dtype=np.int64)


def _three_way(x, y, names, split, spec, name) -> TaskData:
    """70/10/20 stratified split of one pool of examples."""
    tr, va, te = _stratified(y, (0.7, 0.1, 0.2))
    return _pack(name, spec, names, split, (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te]))


def _pack(name, spec, names, split, train, valid, test) -> TaskData:
    t = [torch.as_tensor(np.asarray(a)) for pair in (train, valid, test) for a in pair]
    return TaskData(name, t[0].float(), t[1].long(), t[2].float(), t[3].long(), t[4].float(),
                    t[5].long(), tuple(names), split, spec.encoder, spec.n_wires)


def _images(name: str, spec: TaskSpec, data_dir: Path) -> TaskData:
    test_files = _find(data_dir, spec.source, IDX_FILES["test"])
    if test_files is None:
        raise _missing(data_dir, spec.source, IDX_FILES["test"])
    label_names = [str(c) for c in range(10)] if spec.source == "mnist" else FASHION_NAMES
    names = [label_names[c] for c in spec.classes]
    x, y = _keep(read_idx(test_files[0]), read_idx(test_files[1]).astype(np.int64), spec.classes)
    x = preprocess_images(x, spec.pool).numpy()
    train_files = _find(data_dir, spec.source, IDX_FILES["train"])
    where = test_files[0].parent
    if train_files is None:
        split = (f"{spec.source} test split only ({where}): 70/10/20 stratified "
                 f"train/valid/test, split seed {SPLIT_SEED}")
        return _three_way(x, y, names, split, spec, name)
    xt, yt = _keep(read_idx(train_files[0]), read_idx(train_files[1]).astype(np.int64),
                   spec.classes)
    xt = preprocess_images(xt, spec.pool).numpy()
    tr, va = _stratified(yt, (0.9, 0.1))
    split = (f"{spec.source} official train split 90/10 train/valid (split seed {SPLIT_SEED}), "
             f"official test split as test ({where})")
    return _pack(name, spec, names, split, (xt[tr], yt[tr]), (xt[va], yt[va]), (x, y))


def _digits(name: str, spec: TaskSpec) -> TaskData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = _keep(digits.images, digits.target.astype(np.int64), spec.classes)
    x = (torch.as_tensor(x, dtype=torch.float32) / 16.0 - MNIST_MEAN) / MNIST_STD
    if spec.n_wires == 4:
        x = torch.nn.functional.avg_pool2d(x.unsqueeze(1), 2).flatten(1)
    else:
        x = x[:, 1:7, 1:7].flatten(1)
    split = f"sklearn digits (8x8): 70/10/20 stratified train/valid/test, split seed {SPLIT_SEED}"
    return _three_way(x.numpy(), y, [str(c) for c in spec.classes], split, spec, name)


def load_vowel_file(path: str | os.PathLike, spec: TaskSpec = TASKS["vowel4"],
                    name: str = "vowel4") -> TaskData:
    """Vowel-4 from a UCI vowel-context file: PCA to 10 features, robust then min-max scaling.

    The file's train rows (flag 0) are split 90/10 into train/validation; its test rows (flag
    1) are the test set. The PCA and both scalers are fitted on the training part only.
    """
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import MinMaxScaler, RobustScaler

    table = np.loadtxt(path, delimiter=",", ndmin=2)
    if table.shape[1] != 14:
        raise ValueError(f"{path}: expected 14 comma-separated columns (flag, speaker, sex, "
                         f"10 features, class), got {table.shape[1]}")
    flag = table[:, 0].astype(int)
    x, y = _keep(table[:, 3:13], table[:, 13].astype(np.int64), spec.classes)
    flag = flag[np.isin(table[:, 13].astype(np.int64), spec.classes)]
    train_idx, test_idx = np.flatnonzero(flag == 0), np.flatnonzero(flag == 1)
    tr, va = (train_idx[p] for p in _stratified(y[train_idx], (0.9, 0.1)))
    pipeline = [PCA(n_components=10, random_state=SPLIT_SEED), RobustScaler(), MinMaxScaler()]
    fitted = x[tr]
    for step in pipeline:
        fitted = step.fit_transform(fitted)

    def transform(rows):
        for step in pipeline:
            rows = step.transform(rows)
        return rows

    split = (f"UCI vowel-context ({path}): file's train rows 90/10 train/valid "
             f"(split seed {SPLIT_SEED}), file's test rows as test")
    return _pack(name, spec, [VOWEL4_CLASSES[c] for c in spec.classes], split,
                 (fitted, y[tr]), (transform(x[va]), y[va]), (transform(x[test_idx]), y[test_idx]))


def load_task(name: str, data_dir: str | os.PathLike | None = None) -> TaskData:
    """Load task ``name`` (one of ``TASKS``) from the data directory (see ``resolve_data_dir``).

    Raises ``ValueError`` for an unknown name and ``MissingDataError`` (naming the directory and
    the expected files) when the task's files are absent.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; valid tasks: {', '.join(TASKS)}")
    spec = TASKS[name]
    if spec.source == "digits":
        return _digits(name, spec)
    root = resolve_data_dir(data_dir)
    if not root.is_dir():
        raise MissingDataError(f"data directory {root} does not exist (from "
                               f"{'--data-dir' if data_dir else ENV_VAR + ' or the default'}); "
                               f"it should hold {', '.join(SOURCE_DIRS[spec.source])}/ with the "
                               f"{spec.source} files")
    if spec.source == "vowel":
        files = _find(root, "vowel", (VOWEL_FILE,))
        if files is None:
            raise _missing(root, "vowel", (VOWEL_FILE,))
        return load_vowel_file(files[0], spec, name)
    return _images(name, spec, root)
