"""Quantum error correction: surface-code circuits and noise scenarios (``qec.codes``), decoding
graphs (``qec.graph``), decoders behind one interface (``qec.decoders``), and logical error
rates with intervals (``qec.evaluate``).  Depends on stim, pymatching, sinter, numpy, numba
(and torch for the transformer decoder); never on ``qml`` or ``noise``."""
