"""QuEst: predict a circuit's fidelity on a device, under a given calibration, without running it.

- :mod:`noise.fidelity.label`: compile a circuit to a device (``compile_for``) and its label, the
  probability of a successful trial of circuit + inverse on the device's Aer noise model (``pst``);
- :mod:`noise.fidelity.circuits`: random physical circuits and algorithm circuits (GHZ, QFT, BV, DJ,
  Grover, QAOA, hardware-efficient ansatz, ripple-carry adder);
- :mod:`noise.fidelity.graph`: a physical circuit on a device as a ``torch_geometric`` graph
  (``circuit_graph``; many at once ``circuit_graphs``, or ``graph_batch`` to predict; the feature
  layout ``LAYOUT``);
- :mod:`noise.fidelity.dataset`: parallel, resumable data-set generation into JSON lines;
- :mod:`noise.fidelity.model`: the graph transformer, the MLP baseline, model files and the shipped
  model (``load_model()``), ``predict_circuits`` (circuits to predictions, the fast path);
- :mod:`noise.fidelity.train`: splits, metrics and the trainer.

The command line is ``qml-bench quest gen|label|train|eval|predict``; the measured accuracy and speed
are in ``docs/quest.md``. Nothing heavy is imported by ``import noise.fidelity``.
"""
