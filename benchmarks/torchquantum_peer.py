"""TorchQuantum's U3CU3 classifier, for side-by-side training runs (``qml-bench train --compare``).

TorchQuantum is loaded by :func:`benchmarks.peers.torchquantum.load`, which lets it import
beside qiskit 2.x (placeholders for the legacy modules its qiskit plugin imports; its simulator
never uses them).

Example (needs torchquantum installed; ``make bench-peers`` installs it):
    >>> tq = import_torchquantum()                     # doctest: +SKIP
    >>> TQClassifier(tq, 4, "4x4_ryzxy", 2, 4)(torch.zeros(3, 16)).shape  # doctest: +SKIP
    torch.Size([3, 4])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def import_torchquantum():
    """The ``torchquantum`` module; ImportError when it is not installed."""
    from benchmarks.peers.torchquantum import load

    tq = load()
    if tq is None:
        raise ImportError("torchquantum is not installed; `make bench-peers` installs it")
    return tq


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
