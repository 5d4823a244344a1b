"""Load TorchQuantum 0.1.8 beside qiskit 2.x.

TorchQuantum imports qiskit < 1.0 modules (``qiskit.providers.aer``, ...) and
torchvision at import time, for its qiskit plugin and data sets only. Its simulator
never touches them, so modules that do not exist are replaced by inert placeholders
before importing it; real modules are never shadowed. The benchmarks that use it run
its simulator only.
"""

from __future__ import annotations

import sys
import types
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder

_STUBBED = ("qiskit", "torchvision")


class _Placeholder(type):
    """A class whose attributes are placeholder classes too."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {"__init__": lambda self, *a, **k: None})


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {"__init__": lambda self, *a, **k: None})

    def __call__(self, *args, **kwargs):
        return _PlaceholderModule("placeholder")


class _MissingLegacyModules(MetaPathFinder, Loader):
    def find_spec(self, name, path, target=None):
        if not name.startswith(_STUBBED) or PathFinder.find_spec(name, path) is not None:
            return None
        return ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        return _PlaceholderModule(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def load():
    """The ``torchquantum`` module, or None when it is not installed."""
    try:
        import torchquantum  # noqa: F401  (already importable: nothing to do)
        return torchquantum
    except ModuleNotFoundError as err:
        if err.name == "torchquantum":
            return None
    except Exception:  # noqa: BLE001  legacy imports failed: retry with placeholders
        pass
    for name in [m for m in sys.modules if m.startswith("torchquantum")]:
        del sys.modules[name]
    finder = _MissingLegacyModules()
    sys.meta_path.append(finder)
    try:
        import torchquantum
        return torchquantum
    except ModuleNotFoundError:
        return None
