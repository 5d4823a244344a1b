"""The decoder contract every QEC decoder of this package follows.

A decoder is built from a stim detector error model and decodes a batch of shots:
``decode_batch(dets)`` takes detection events of shape ``(shots, num_detectors)``
(bool or uint8) and returns the predicted observable flips, a bool array of shape
``(shots, num_observables)``.  Every decoder is also usable as a ``sinter.Decoder``
through :class:`SinterAdapter` (``MyDecoder.sinter(**kwargs)``), which builds the decoder
for each task's detector error model and converts sinter's bit-packed arrays.

>>> import stim, sinter
>>> from qec.decoders.mwpm import MWPMDecoder
>>> circuit = stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=3,
...                                  after_clifford_depolarization=0.01)
>>> dets, obs = circuit.compile_detector_sampler(seed=1).sample(1000, separate_observables=True)
>>> decoder = MWPMDecoder.from_circuit(circuit)
>>> decoder.decode_batch(dets).shape
(1000, 1)
>>> stats = sinter.collect(num_workers=1, tasks=[sinter.Task(circuit=circuit)], decoders=["ours"],
...                        custom_decoders={"ours": MWPMDecoder.sinter()}, max_shots=1000)
>>> stats[0].shots
1000
"""

from __future__ import annotations

import abc

import numpy as np
import sinter
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

    @classmethod
    def sinter(cls, **kwargs) -> "SinterAdapter":
        """A ``sinter.Decoder`` that builds ``cls(dem, **kwargs)`` for each task."""
        return SinterAdapter(cls, **kwargs)

    @abc.abstractmethod
    def _decode(self, dets: np.ndarray) -> np.ndarray:
        """Decode validated uint8 detection events (shots, num_detectors)."""


class SinterAdapter(sinter.Decoder):
    """Any of our decoders as a ``sinter.Decoder``, for ``sinter.collect(custom_decoders=...)``.

    ``factory(dem, **kwargs)`` builds the decoder (a Decoder subclass or any callable that
    returns one); it and ``kwargs`` must be picklable, since sinter's workers are processes.
    """

    def __init__(self, factory, **kwargs):
        self.factory = factory
        self.kwargs = kwargs

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> "CompiledSinterDecoder":
        return CompiledSinterDecoder(self.factory(dem, **self.kwargs))


class CompiledSinterDecoder(sinter.CompiledDecoder):
    """Unpacks sinter's bit-packed detection events, decodes, packs the observable flips."""

    def __init__(self, decoder: Decoder):
        self.decoder = decoder

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        dets = np.unpackbits(bit_packed_detection_event_data, axis=1, count=self.decoder.num_detectors,
                             bitorder="little")
        flips = self.decoder.decode_batch(dets)
        return np.packbits(flips, axis=1, bitorder="little")
