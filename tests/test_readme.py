"""The README's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python example"
    exec(compile(blocks[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "torch.Size([8, 2])" in out and "RX(theta)" in out


def test_readme_is_short_and_keeps_its_tables_in_docs():
    text = README.read_text()
    assert len(text.splitlines()) < 120
    assert not re.search(r"^\|.*\|\s*$", text, flags=re.M), "measured tables belong in docs/"
    for page in ("docs/engine.md", "docs/training.md", "docs/qec.md"):
        assert page in text and (README.parent / page).exists(), page
