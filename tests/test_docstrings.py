"""Every docstring example of every module runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest
import torch

torch.set_num_threads(1)  # the suite shares two cores
PACKAGES = ("qml", "noise", "qec", "benchmarks")
MODULES = sorted(
    name for package in PACKAGES
    for name in [package] + [m.name for m in pkgutil.walk_packages(importlib.import_module(package).__path__,
                                                                   package + ".")])


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_engine_documents_itself_with_examples():
    for name in ("qml", "qml.gates", "qml.circuit", "qml.interop", "qml.sim.engine", "qml.sim.measurement",
                 "qml.sim.expectation"):
        assert doctest.testmod(importlib.import_module(name)).attempted > 0, name
