"""QuantumNAS: SuperCircuit training, evolutionary co-search of circuit and qubit mapping, pruning.

``import qml.nas`` is cheap: each name loads its module on first use.

- :mod:`qml.nas.supercircuit`: :class:`SuperCircuit` (the shared parameter store, genes,
  SubCircuits) and :class:`SubCircuitQNN`.
- :mod:`qml.nas.train`: SuperCircuit training by sampling (front or restricted sampling,
  warm-up then cosine, optional progressive shrinking) with the Trainer's checkpoints.
- :mod:`qml.nas.search`: evolutionary co-search over (gene, qubit mapping) with a scorer
  function, executors (process pool, Dask), checkpoints and resume; the noise-free scorer.
- :mod:`qml.nas.prune`: global magnitude pruning of rotation angles on a cubic schedule.
- :mod:`qml.nas.baselines`: human and random baselines.
- :mod:`qml.nas.sparse`: QuantumSEA, sparse training at a fixed gate budget (prune and grow).
"""

from qml import lazy_exports

_EXPORTS = {
    "SuperCircuit": "qml.nas.supercircuit", "SubCircuitQNN": "qml.nas.supercircuit",
    "Sampler": "qml.nas.train", "SuperConfig": "qml.nas.train", "SuperTrainer": "qml.nas.train",
    "SearchConfig": "qml.nas.search", "Evolution": "qml.nas.search", "noise_free_scorer": "qml.nas.search",
    "NoiseFreeScorer": "qml.nas.search", "get_scorer_factory": "qml.nas.search",
    "make_executor": "qml.nas.search", "SCORERS": "qml.nas.search",
    "PruneSchedule": "qml.nas.prune", "PrunedQNN": "qml.nas.prune", "PruneTrainer": "qml.nas.prune",
    "export_pruned": "qml.nas.prune",
    "human_baseline": "qml.nas.baselines", "random_baseline": "qml.nas.baselines",
    "SparseQNN": "qml.nas.sparse", "SparseVQE": "qml.nas.sparse", "sparse_vqe": "qml.nas.sparse",
}

__getattr__, __dir__, __all__ = lazy_exports(globals(), "qml.nas", _EXPORTS)
