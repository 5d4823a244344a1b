"""qml: parameterized quantum circuits on PyTorch.

``import qml`` is cheap: torch and the simulator load on first use of an attribute.

Example:
    >>> import qml
    >>> c = qml.Circuit(2).h(0).cx(0, 1)
    >>> qml.simulate(c).abs().pow(2).round(decimals=3)
    tensor([[0.5000, 0.0000, 0.0000, 0.5000]])
"""

from importlib import import_module

# public name -> module that defines it
_EXPORTS = {
    "Circuit": "qml.circuit", "Op": "qml.circuit", "Param": "qml.circuit", "Input": "qml.circuit",
    "GATES": "qml.gates", "Gate": "qml.gates",
    "simulate": "qml.sim", "expval_z": "qml.sim", "probabilities": "qml.sim",
    "sample": "qml.sim", "counts": "qml.sim", "expval": "qml.sim", "PauliSum": "qml.sim",
    "expectation": "qml.sim", "simulate_density": "qml.sim", "density_expval_z": "qml.sim",
    "sample_pauli_errors": "qml.sim",
    "QNN": "qml.model", "MultiNodeQNN": "qml.model", "Trainer": "qml.train", "TrainConfig": "qml.train",
    "load_task": "qml.data", "build_space": "qml.layers", "get_encoder": "qml.layers",
    "Encoder": "qml.layers", "AmplitudeEncoder": "qml.layers", "ENCODERS": "qml.layers",
    "SPACES": "qml.layers",
}


def lazy_exports(namespace: dict, package: str, exports: dict[str, str]):
    """``(__getattr__, __dir__, __all__)`` of a package whose public name ``n`` is the ``n`` of module
    ``exports[n]``, imported on first use (qml, qml.vqe and qml.nas are built this way)."""
    names = sorted(exports)

    def __getattr__(name):
        if name in exports:
            value = getattr(import_module(exports[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return names

    return __getattr__, __dir__, names


__getattr__, __dir__, __all__ = lazy_exports(globals(), "qml", _EXPORTS)
