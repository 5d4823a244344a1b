"""Quantum error correction: surface-code circuits and noise scenarios (``qec.codes``), decoding
graphs (``qec.graph``), decoders behind one interface (``qec.decoders``), and logical error
rates with intervals (``qec.evaluate``; far below 1/shots, stratified on the number of faults:
``qec.stratified``).  Depends on stim, pymatching, sinter, numpy, numba
(and torch for the transformer decoder); never on ``qml`` or ``noise``."""
