"""Every ```python block of every page under docs/ runs as written (shell blocks are not run).

The blocks of one page run in order in one namespace, as a reader would paste them.
"""

import re
from pathlib import Path

import pytest
import torch

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def python_blocks(text: str) -> list[str]:
    """The bodies of the fenced blocks marked ``python`` (not ``sh``, ``bash``, ``text`` or unmarked)."""
    return re.findall(r"^```python[ \t]*\n(.*?)^```", text, flags=re.S | re.M)


def test_only_python_blocks_are_picked():
    text = "```sh\nrm -rf /\n```\n```python\nx = 1\n```\n    indented shell\n```\nplain\n```\n"
    assert python_blocks(text) == ["x = 1\n"]


def test_the_parts_have_their_pages():
    assert {"engine.md", "training.md", "qec.md"} <= {p.name for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_python_blocks_run(page, monkeypatch, tmp_path):
    torch.set_num_threads(1)  # the suite shares two cores
    monkeypatch.chdir(tmp_path)  # whatever a block writes stays out of the repository
    namespace = {"__name__": f"docs.{page.stem}"}
    for i, block in enumerate(python_blocks(page.read_text())):
        exec(compile(block, f"{page.name} (python block {i + 1})", "exec"), namespace)
