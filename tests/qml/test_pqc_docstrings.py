"""The docstring examples of the PQC-training modules run and print what they say."""

import doctest
import importlib

import pytest
import torch

torch.set_num_threads(1)  # the suite shares two cores
MODULES = ["qml.data", "qml.layers", "qml.model", "qml.train"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
