"""The docstring examples of the qec modules run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["qec.codes", "qec.graph", "qec.evaluate", "qec.decoders", "qec.decoders.base", "qec.decoders.mwpm",
           "qec.decoders.uf", "qec.decoders.dgr"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
