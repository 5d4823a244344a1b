"""Training data drawn on the fly from stim: syndromes, observable flips and the true errors.

The circuit runs in stim's Pauli-frame simulator with stabilizer randomization off, so the
frame is exactly the accumulated physical error. The X and Z parts of that frame on the data
qubits, read just before the final measurement block, are the per-data-qubit labels. Given a
``prior`` (a function of the detection events, such as an MWPM decoder's ``decode_batch`` for
this circuit), each batch also carries its observable flips: the input of a matching-prior
model. The sampler imports no decoder.

>>> import stim
>>> c = stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=1,
...                            before_round_data_depolarization=0.05)
>>> batch = FrameSampler(c).sample(256, seed=1)
>>> batch.dets.shape, batch.obs.shape, batch.errors.shape
((256, 8), (256, 1), (256, 18))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import stim

from qec.learned.layout import CodeLayout, split_final_block


@dataclass
class Batch:
    dets: np.ndarray    # (shots, D) uint8 detection events
    obs: np.ndarray     # (shots, O) uint8 observable flips
    errors: np.ndarray  # (shots, 2n) uint8: X then Z frame on each data qubit
    prior: np.ndarray | None = None  # (shots, O) uint8 the prior's observable flips, if given


class FrameSampler:
    """Samples :class:`Batch` es from a noisy circuit; the same seed gives the same batch."""

    def __init__(self, circuit: stim.Circuit, layout: CodeLayout | None = None,
                 prior: Callable[[np.ndarray], np.ndarray] | None = None):
        if prior is not None and not callable(prior):
            raise TypeError("prior must be a function of the detection events (e.g. a decoder's decode_batch)")
        self.layout = layout if layout is not None else CodeLayout.from_circuit(circuit)
        self.body, self.tail = split_final_block(circuit)
        self.num_qubits = circuit.num_qubits
        self.prior = prior

    def sample(self, shots: int, seed: int) -> Batch:
        sim = stim.FlipSimulator(batch_size=shots, disable_stabilizer_randomization=True,
                                 num_qubits=self.num_qubits, seed=seed)
        sim.do(self.body)
        xs, zs, _, _, _ = sim.to_numpy(output_xs=True, output_zs=True)
        q = self.layout.data_qubits
        errors = np.concatenate([xs[q], zs[q]], axis=0).T.astype(np.uint8)
        sim.do(self.tail)
        dets = sim.get_detector_flips().T.astype(np.uint8)
        obs = sim.get_observable_flips().T.astype(np.uint8)
        prior = None if self.prior is None else np.asarray(self.prior(dets)).astype(np.uint8)
        return Batch(dets, obs, errors, prior)
