"""TorchQuantum's U3CU3 classifier, for side-by-side training runs (``qml-bench train --compare``).

TorchQuantum 0.1.8 imports, at import time, modules that no longer exist in qiskit 2.x
(``qiskit.providers.aer``, ``qiskit.test.mock``, ``qiskit.Aer``, ...), qiskit-ibm-runtime,
torchpack, qiskit-nature, pathos, torchvision and torchdiffeq, all for its qiskit plugin, IBMQ
access, pulse, data set and noise-model modules. None of them is on the simulation path that
this comparison times (``QuantumDevice``, ``GeneralEncoder``, ``U3CU3Layer0``, ``MeasureAll``).
:func:`import_torchquantum` therefore lets only *missing* modules of those names resolve to inert
placeholders (a finder appended at the end of ``sys.meta_path``, so every installed module still
loads for real) and adds placeholders for names that qiskit 2.x dropped. It is used only here.

Example (needs torchquantum installed; ``make bench-peers`` installs it):
    >>> tq = import_torchquantum()                     # doctest: +SKIP
    >>> TQClassifier(tq, 4, "4x4_ryzxy", 2, 4)(torch.zeros(3, 16)).shape  # doctest: +SKIP
    torch.Size([3, 4])
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import types

import torch
import torch.nn.functional as F
from torch import nn

# modules TorchQuantum imports at import time that qiskit 2.x or this environment lacks
MISSING_OK = ("qiskit_ibm_runtime", "qiskit.providers.aer", "qiskit_aer.noise.device",
              "qiskit.pulse", "qiskit.test", "qiskit.tools", "qiskit.opflow", "qiskit.algorithms",
              "qiskit.quantum_info.synthesis", "qiskit.extensions", "qiskit_nature", "torchpack",
              "pathos", "torchvision", "torchdiffeq", "qutip")


class _PlaceholderMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return cls


class _Placeholder(metaclass=_PlaceholderMeta):
    """Stands for any missing class, function or constant: calling it does nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return self


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder


class _MissingFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves the modules of ``MISSING_OK`` that no other finder found to placeholders."""

    def find_spec(self, name, path, target=None):
        if any(name == p or name.startswith(p + ".") for p in MISSING_OK):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _PlaceholderModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def import_torchquantum():
    """Import TorchQuantum under qiskit 2.x (see the module docstring); raises ImportError when
    it is not installed."""
    if "torchquantum" in sys.modules:
        return sys.modules["torchquantum"]
    import qiskit  # noqa: F401  (load the real qiskit before the finder exists)

    if importlib.util.find_spec("torchquantum") is None:
        raise ImportError("torchquantum is not installed; `make bench-peers` installs it")
    if not any(isinstance(f, _MissingFinder) for f in sys.meta_path):
        sys.meta_path.append(_MissingFinder())
    for _ in range(50):  # names qiskit 2.x dropped: add placeholders one by one
        try:
            return importlib.import_module("torchquantum")
        except ImportError as err:
            match = re.search(r"cannot import name '(\w+)' from '([\w.]+)'", str(err))
            if not match or not match.group(2).startswith("qiskit"):
                raise
            setattr(importlib.import_module(match.group(2)), match.group(1), _Placeholder)
            for name in [m for m in sys.modules if m.startswith("torchquantum")]:
                del sys.modules[name]
    raise ImportError("torchquantum did not import after 50 placeholder fixes")


class TQClassifier(nn.Module):
    """TorchQuantum's QuantumNAS baseline: GeneralEncoder, U3CU3Layer0, MeasureAll(PauliZ), and
    the same readout as :class:`qml.model.Readout` (wire groups summed when there are fewer
    classes than wires), then log-softmax."""

    def __init__(self, tq, n_wires: int, encoder: str, n_blocks: int, n_classes: int):
        super().__init__()
        self.tq, self.n_wires, self.n_classes = tq, n_wires, n_classes
        self.encoder = tq.GeneralEncoder(tq.encoder_op_list_name_dict[encoder])
        self.n_features = len(tq.encoder_op_list_name_dict[encoder])
        self.layers = tq.layer.U3CU3Layer0({"n_wires": n_wires, "n_blocks": n_blocks})
        self.measure = tq.MeasureAll(tq.PauliZ)

    # TorchQuantum layers keep the last QuantumDevice (its batch-sized state) as a submodule:
    # checkpoints hold only the trainable angles.
    def state_dict(self, *args, **kwargs):
        full = super().state_dict(*args, **kwargs)
        for key in [k for k in full if "q_device" in k]:
            del full[key]
        return full

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        result = super().load_state_dict(state_dict, strict=False, assign=assign)
        missing = [k for k in result.missing_keys if "q_device" not in k]
        if strict and (missing or result.unexpected_keys):
            raise RuntimeError(f"TQClassifier state dict: missing {missing}, unexpected "
                               f"{result.unexpected_keys}")
        return result

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        device = self.tq.QuantumDevice(n_wires=self.n_wires, bsz=x.shape[0], device=x.device)
        self.encoder(device, x)
        self.layers(device)
        z = self.measure(device)
        scores = z.reshape(x.shape[0], self.n_classes, -1).sum(-1)
        return F.log_softmax(scores, dim=1)
