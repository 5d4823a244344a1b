"""The transformer decoder: a trained :class:`~qec.learned.model.DetectorTransformer` behind the decoder contract.

Built from a detector error model and a checkpoint written by
:func:`qec.learned.train.train` (or ``qml-bench qec train``). Two inference modes:

- ``"global"``: the observable-flip head decides;
- ``"hybrid"``: the per-data-qubit error head proposes errors, and MWPM (pymatching, built
  from the same DEM) decodes the syndrome those errors leave unexplained; the prediction is
  the observable flip of the proposed errors plus MWPM's.

A model trained with a matching prior (``qml-bench qec train --matching-prior``) is given
MWPM's prediction for each shot too; the decoder runs pymatching on the same DEM for it, and
its throughput includes that.

Shots are decoded in batches sorted by their number of detection events (little padding).

Small trained models ship with the package (:mod:`qec.learned.pretrained`: d=3 and 5 for
code-capacity, phenomenological and circuit-level noise); :meth:`TransformerDecoder.pretrained`
builds a decoder from the one that fits a code, no training needed.

>>> import numpy as np
>>> from qec.codes import surface_code
>>> from qec.learned.train import TrainConfig, train
>>> c = surface_code(3, 0.05, noise="code-capacity", basis="zx")
>>> state = train([c], {"distance": 3, "noise": "code-capacity", "basis": "zx"},
...               TrainConfig(steps=2, batch_size=32, d_model=16, layers=1, progress=False))
>>> decoder = TransformerDecoder.from_circuit(c, checkpoint=state.to_checkpoint())
>>> decoder.decode_batch(np.zeros((3, 8), dtype=bool)).shape
(3, 2)
"""

from __future__ import annotations

import os

import numpy as np
import pymatching
import stim
import torch

from qec.codes import surface_code
from qec.decoders.base import Decoder
from qec.learned import pretrained
from qec.learned.checkpoint import load_checkpoint, model_from_checkpoint

MODES = ("global", "hybrid")


class TransformerDecoder(Decoder):
    """Decode with a trained detector transformer (``checkpoint``: a path or a loaded checkpoint dict)."""

    def __init__(self, dem: stim.DetectorErrorModel, checkpoint: str | os.PathLike | dict | None = None,
                 mode: str = "global", batch_size: int = 2048, device: str | None = None):
        super().__init__(dem)
        if checkpoint is None:
            raise ValueError("the transformer decoder needs checkpoint=PATH, a model trained for this code "
                             "(train one with 'qml-bench qec train'), or use TransformerDecoder.pretrained(...)")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        ckpt = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)
        self.code = dict(ckpt["code"])
        self.model = model_from_checkpoint(ckpt, device).eval()
        self._check_dem(dem)
        self.mode, self.batch_size = mode, int(batch_size)
        lay = self.model.layout
        self._err_dets, self._err_obs = lay.err_dets.astype(np.uint8), lay.err_obs.astype(np.uint8)
        needs_matching = mode == "hybrid" or self.model.matching_prior
        self.matching = pymatching.Matching.from_detector_error_model(dem) if needs_matching else None

    @classmethod
    def pretrained(cls, distance: int, noise: str = "circuit", p: float | None = None, *, basis: str | None = None,
                   rounds: int | None = None, circuit: stim.Circuit | None = None, **kwargs) -> "TransformerDecoder":
        """The decoder of the shipped model for a surface-code memory (:mod:`qec.learned.pretrained`).

        The code is ``qec.codes.surface_code(distance, p, noise, basis, rounds)`` with the
        defaults of ``qml-bench qec train`` (code capacity: basis zx, one round; else basis z,
        ``distance`` rounds); ``p`` (default: the first p the model was trained on) only sets
        the DEM's weights, which the transformer does not read (hybrid mode's MWPM does).
        Give ``circuit`` to build the DEM from that circuit instead (it must have the same
        detectors). A ValueError lists the shipped models when none fits. ``kwargs`` go to the
        constructor (``mode``, ``batch_size``, ``device``).

        >>> decoder = TransformerDecoder.pretrained(3, "circuit")
        >>> decoder.code["distance"], decoder.code["rounds"], decoder.code["p"]
        (3, 3, [0.003, 0.005])
        """
        ckpt = load_checkpoint(pretrained.find(distance, noise, basis, rounds))
        if circuit is None:
            code = ckpt["code"]
            circuit = surface_code(code["distance"], code["p"][0] if p is None else p, noise=code["noise"],
                                   basis=code["basis"], rounds=code["rounds"])
        return cls.from_circuit(circuit, checkpoint=ckpt, **kwargs)

    def _check_dem(self, dem: stim.DetectorErrorModel) -> None:
        lay = self.model.layout
        trained = ", ".join(f"{k}={v}" for k, v in self.code.items())
        if dem.num_detectors != lay.num_detectors or dem.num_observables != lay.num_observables:
            raise ValueError(f"the checkpoint was trained for another code ({trained}: {lay.num_detectors} detectors, "
                             f"{lay.num_observables} observables); this detector error model has "
                             f"{dem.num_detectors} detectors and {dem.num_observables} observables")
        coords = dem.get_detector_coordinates()  # detectors without coordinates are checked by count only
        given = [(list(coords[k])[:3], lay.det_coords[k]) for k in range(dem.num_detectors) if coords.get(k)]
        if any(len(g) < 3 or not np.allclose(g, c) for g, c in given):
            raise ValueError(f"the checkpoint was trained for another code ({trained}): "
                             "the detector coordinates differ")

    @torch.no_grad()
    def predict(self, dets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Observable-flip probabilities (shots, O) and data-qubit error probabilities (shots, 2n)."""
        dets = self.check_detection_events(dets)
        device = self.model.type_emb.weight.device
        order = np.argsort(dets.sum(axis=1), kind="stable")
        lay = self.model.layout
        prior = self.matching.decode_batch(dets).astype(np.uint8) if self.model.matching_prior else None
        obs_p = np.empty((len(dets), lay.num_observables), dtype=np.float32)
        err_p = np.empty((len(dets), 2 * lay.num_data), dtype=np.float32)
        for start in range(0, len(dets), self.batch_size):
            idx = order[start:start + self.batch_size]
            shot_prior = None if prior is None else torch.as_tensor(prior[idx], device=device)
            obs_logits, err_logits = self.model(torch.as_tensor(dets[idx], device=device), shot_prior)
            obs_p[idx] = torch.sigmoid(obs_logits).cpu().numpy()
            err_p[idx] = torch.sigmoid(err_logits).cpu().numpy()
        return obs_p, err_p

    def _decode(self, dets: np.ndarray) -> np.ndarray:
        obs_p, err_p = self.predict(dets)
        if self.mode == "global":
            return obs_p > 0.5
        errors = (err_p > 0.5).astype(np.uint8)
        residual = dets ^ ((errors @ self._err_dets) % 2).astype(np.uint8)
        flips = self.matching.decode_batch(residual)
        return (flips ^ (errors @ self._err_obs) % 2).astype(bool)
