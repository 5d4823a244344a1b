"""Transformer decoders that ship with the package, found by the code they were trained for.

Six small models (d_model 32, 3 layers, 72k parameters, 165-185 kB each, 1.0 MB together):
distance 3 and 5 for code-capacity (memory ``zx``: both logicals, one round), phenomenological
and circuit-level noise (memory ``z``, rounds = d), the defaults of ``qml-bench qec train``.
Each ``*.pt`` here is a transformer-decoder checkpoint (:mod:`qec.learned.checkpoint`, loaded
with ``weights_only=True``), its weights in float16 and without its optimizer state; its
``code`` entry (distance, rounds, basis, noise, the training p) is what :func:`find` matches.
Loading one needs only :mod:`qec.learned.checkpoint` and the model, never the training loop.
Measured logical error rates against MWPM: ``docs/qec.md``.

Each was trained on one CPU thread of a shared 2-core machine (``S=runs/qec/ship``; the d=5
models start from the d=3 model of the same noise), then shipped with ``python -m
qec.learned.pretrained $S/*.pt`` (:func:`export`). To fit the session, each run followed by a
``--resume`` line was stopped after a checkpoint (d=3 code capacity and circuit: step 1000;
d=5 phenomenological: step 200; d=5 circuit: step 500) and resumed with fewer total steps,
which compresses the rest of its cosine learning-rate schedule; the d=5 phenomenological and
circuit models, far behind MWPM after 900 and 1400 steps, were then resumed with ``--steps 2000``
and ``--steps 2200`` (a warm restart of the schedule) and both stopped after their step-1600
checkpoint, which is what ships:

    T="qml-bench qec train --d-model 32 --layers 3 --eval-shots 5000 --threads 1"
    $T --distance 3 --noise code-capacity --p 0.05 0.08 --steps 3000 --checkpoint $S/code-capacity-zx_d3.pt
    $T --distance 3 --noise code-capacity --p 0.05 0.08 --steps 2000 --checkpoint $S/code-capacity-zx_d3.pt --resume
    $T --distance 5 --noise code-capacity --p 0.05 0.08 --steps 800 --init-from $S/code-capacity-zx_d3.pt \\
       --checkpoint $S/code-capacity-zx_d5.pt
    $T --distance 3 --noise phenomenological --p 0.01 0.03 --steps 1500 --checkpoint $S/phenomenological-z_d3.pt
    $T --distance 5 --noise phenomenological --p 0.01 0.03 --steps 1500 --init-from $S/phenomenological-z_d3.pt \\
       --checkpoint $S/phenomenological-z_d5.pt
    $T --distance 5 --noise phenomenological --p 0.01 0.03 --steps 900 --checkpoint $S/phenomenological-z_d5.pt --resume
    $T --distance 5 --noise phenomenological --p 0.01 0.03 --steps 2000 --checkpoint $S/phenomenological-z_d5.pt --resume
    $T --distance 3 --noise circuit --p 0.003 0.005 --steps 5000 --checkpoint $S/circuit-z_d3.pt
    $T --distance 3 --noise circuit --p 0.003 0.005 --steps 2500 --checkpoint $S/circuit-z_d3.pt --resume
    $T --distance 5 --noise circuit --p 0.003 0.005 --steps 2000 --init-from $S/circuit-z_d3.pt \\
       --checkpoint $S/circuit-z_d5.pt
    $T --distance 5 --noise circuit --p 0.003 0.005 --steps 1400 --checkpoint $S/circuit-z_d5.pt --resume
    $T --distance 5 --noise circuit --p 0.003 0.005 --steps 2200 --checkpoint $S/circuit-z_d5.pt --resume --eval-shots 2000

>>> sorted((m["noise"], m["distance"]) for m in shipped())[:2]
[('circuit', 3), ('circuit', 5)]
>>> find(3, "circuit").name
'circuit-z_d3_r3.pt'
>>> find(7, "circuit")
Traceback (most recent call last):
...
ValueError: no shipped transformer decoder for distance=7, noise=circuit, basis=z, rounds=7; ...
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from qec.learned.checkpoint import describe_code, load_checkpoint, save_checkpoint

DIRECTORY = Path(__file__).resolve().parent
_KEYS = ("distance", "noise", "basis", "rounds")


def default_code(distance: int, noise: str, basis: str | None = None, rounds: int | None = None) -> dict:
    """The code ``qml-bench qec train`` trains for: basis zx and one round at code capacity, else z and d rounds."""
    capacity = noise.startswith("code-capacity")
    return {"distance": int(distance), "noise": noise, "basis": basis or ("zx" if capacity else "z"),
            "rounds": int(rounds or (1 if capacity else distance))}


@functools.lru_cache(maxsize=None)
def _index() -> tuple[tuple[Path, dict], ...]:
    return tuple((path, dict(load_checkpoint(path)["code"])) for path in sorted(DIRECTORY.glob("*.pt")))


def shipped() -> list[dict]:
    """The code of every shipped model (distance, rounds, basis, noise, training p), plus its ``path``."""
    return [{**code, "path": path} for path, code in _index()]


def describe_shipped() -> str:
    """What ships, e.g. ``circuit (basis z): d=3 (3 rounds), d=5 (5 rounds); ...``."""
    by_kind: dict[tuple, list[str]] = {}
    for code in sorted(shipped(), key=lambda c: (c["noise"], c["basis"], c["distance"], c["rounds"])):
        by_kind.setdefault((code["noise"], code["basis"]), []).append(
            f"d={code['distance']} ({code['rounds']} round{'s' if code['rounds'] > 1 else ''})")
    return "; ".join(f"{noise} (basis {basis}): {', '.join(models)}" for (noise, basis), models in by_kind.items())


def find(distance: int, noise: str = "circuit", basis: str | None = None, rounds: int | None = None) -> Path:
    """The shipped checkpoint trained for this code; a ValueError listing what ships when none fits."""
    want = default_code(distance, noise, basis, rounds)
    for path, code in _index():
        if all(code.get(k) == want[k] for k in _KEYS):
            return path
    raise ValueError(f"no shipped transformer decoder for {describe_code(want)}; shipped: {describe_shipped()} "
                     "(train one with 'qml-bench qec train' and pass its checkpoint)")


def export(source: str | os.PathLike, target: str | os.PathLike | None = None) -> Path:
    """Write ``source``'s model into this directory (or ``target``): weights in float16, no optimizer state.

    Loading casts the weights back to the model's float32 (``load_state_dict`` copies).
    """
    ckpt = load_checkpoint(source)
    code = ckpt["code"]
    target = Path(target or DIRECTORY / f"{code['noise']}-{code['basis']}_d{code['distance']}_r{code['rounds']}.pt")
    keep = ("format", "model_config", "code", "layout", "train_config", "step", "history", "init_from")
    weights = {name: t.half() if t.is_floating_point() else t for name, t in ckpt["model"].items()}
    save_checkpoint({"model": weights, **{k: ckpt[k] for k in keep if k in ckpt}}, target)
    _index.cache_clear()
    return target
