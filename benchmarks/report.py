"""Results of a ``qml-bench`` command: a table to print and a JSON record to keep."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

from qml.files import atomic_write_bytes, atomic_write_text  # noqa: F401 (re-exported)

_VERSIONED = ("torch", "numpy", "qiskit", "qiskit-aer", "stim", "pymatching", "pennylane",
              "pennylane-lightning", "qulacs", "torchquantum", "qml-toolkit")


@dataclass
class Report:
    """A titled table (``columns`` and ``rows`` of dicts keyed by column) plus its config."""

    title: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    outputs: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def output(self, path: str | os.PathLike, write: Callable[[], None]) -> None:
        """Schedule ``write()`` (which writes ``path``) for after the table is printed, so that
        a failing write never loses the table (see :meth:`write_outputs`)."""
        self.outputs.append((str(path), write))

    def write_outputs(self) -> list[str]:
        """Write the scheduled files, in order; the paths written."""
        done = []
        for path, write in self.outputs:
            write()
            done.append(path)
        return done

    def add(self, **row: Any) -> None:
        unknown = set(row) - set(self.columns)
        if unknown:
            raise KeyError(f"row has columns {sorted(unknown)} not in the table {self.columns}")
        self.rows.append(row)

    def format_table(self) -> str:
        cells = [[_fmt(row.get(c, "")) for c in self.columns] for row in self.rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(self.columns)]
        line = "  ".join(c.ljust(w) for c, w in zip(self.columns, widths))
        out = [self.title, line, "  ".join("-" * w for w in widths)]
        out += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
        out += self.notes
        return "\n".join(out)


    def format_markdown(self) -> str:
        """The table as markdown (for the README), notes below it."""
        cells = [[_fmt(row.get(c, "")) for c in self.columns] for row in self.rows]
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join([f"**{self.title}**", "", *lines, "", *self.notes])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)


def versions() -> dict[str, str]:
    """Versions of Python and of the installed packages that matter to results."""
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found



def write_json(report: Report, path: str | os.PathLike, seed: int) -> None:
    record = {"title": report.title, "config": report.config, "versions": versions(),
              "seed": seed, "wall_s": report.wall_s, "rows": report.rows}
    atomic_write_text(path, json.dumps(record, indent=2, default=str) + "\n")


def write_csv(report: Report, path: str | os.PathLike) -> None:
    """Write the table's rows as CSV (one column per table column), atomically."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=report.columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(report.rows)
    atomic_write_text(path, buf.getvalue())
