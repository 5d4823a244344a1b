"""Minimum-weight perfect matching through pymatching, plain and in its correlated mode.

>>> import stim
>>> from qec.codes import surface_code
>>> circuit = surface_code(3, 0.003)
>>> dets, obs = circuit.compile_detector_sampler(seed=0).sample(2000, separate_observables=True)
>>> flips = MWPMDecoder.from_circuit(circuit).decode_batch(dets)
>>> float((flips != obs).any(axis=1).mean()) < 0.02
True
"""

from __future__ import annotations

import numpy as np
import pymatching
import stim

from qec.decoders.base import Decoder


class MWPMDecoder(Decoder):
    """pymatching's sparse blossom on the decoding graph of ``dem`` (``correlations=True``:
    its two-pass correlated matching, which uses the DEM's decomposed hyperedges)."""

    def __init__(self, dem: stim.DetectorErrorModel, correlations: bool = False):
        super().__init__(dem)
        self.correlations = bool(correlations)
        self.matching = pymatching.Matching.from_detector_error_model(dem, enable_correlations=self.correlations)

    def _decode(self, dets: np.ndarray) -> np.ndarray:
        return self.matching.decode_batch(dets, enable_correlations=self.correlations)


class CorrelatedMWPMDecoder(MWPMDecoder):
    """:class:`MWPMDecoder` with ``correlations=True`` (pymatching's correlated matching).

    >>> from qec.codes import correlated
    >>> decoder = CorrelatedMWPMDecoder.from_circuit(correlated(3, 0.002))
    >>> decoder.decode_batch(np.zeros((2, decoder.num_detectors), bool)).tolist()
    [[False], [False]]
    """

    def __init__(self, dem: stim.DetectorErrorModel):
        super().__init__(dem, correlations=True)
