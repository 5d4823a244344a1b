"""The decoder contract every QEC decoder of this package follows.

A decoder is built from a stim detector error model and decodes a batch of shots:
``decode_batch(dets)`` takes detection events of shape ``(shots, num_detectors)``
(bool or uint8, or bit-packed uint8 via ``decode_batch_packed``) and returns the
predicted observable flips, a bool array of shape ``(shots, num_observables)``.
Every decoder is also usable as a ``sinter.Decoder`` through :class:`SinterAdapter`.
"""

from __future__ import annotations

import abc

import numpy as np
import stim


class Decoder(abc.ABC):
    """Base class: validation of inputs and outputs lives here, decoding in subclasses."""

    def __init__(self, dem: stim.DetectorErrorModel):
        if not isinstance(dem, stim.DetectorErrorModel):
            raise TypeError(f"expected a stim.DetectorErrorModel, got {type(dem).__name__}")
        self.dem = dem
        self.num_detectors = dem.num_detectors
        self.num_observables = dem.num_observables

    @classmethod
    def from_circuit(cls, circuit: stim.Circuit, **kwargs):
        """Build from a stim circuit with detectors and observables."""
        dem = circuit.detector_error_model(decompose_errors=True, approximate_disjoint_errors=True)
        return cls(dem, **kwargs)

    def decode_batch(self, dets: np.ndarray) -> np.ndarray:
        """Observable flips (shots, num_observables) bool for detection events (shots, num_detectors)."""
        dets = self.check_detection_events(dets)
        flips = np.asarray(self._decode(dets))
        expected = (dets.shape[0], self.num_observables)
        if flips.shape != expected:
            raise RuntimeError(f"{type(self).__name__} returned shape {flips.shape}, expected {expected}")
        return flips.astype(bool, copy=False)

    def check_detection_events(self, dets: np.ndarray) -> np.ndarray:
        dets = np.asarray(dets)
        if dets.dtype not in (np.bool_, np.uint8):
            raise ValueError(f"detection events must be bool or uint8, got dtype {dets.dtype}")
        if dets.ndim != 2 or dets.shape[1] != self.num_detectors:
            raise ValueError(f"detection events must have shape (shots, {self.num_detectors}), "
                             f"got {dets.shape}")
        return dets.astype(np.uint8, copy=False)

    @abc.abstractmethod
    def _decode(self, dets: np.ndarray) -> np.ndarray:
        """Decode validated uint8 detection events (shots, num_detectors)."""
