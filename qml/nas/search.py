"""Evolutionary co-search of a SubCircuit and its qubit mapping (QuantumNAS), with a scorer function.

A candidate is a pair ``(gene, mapping)``: a gene of a :class:`qml.nas.SuperCircuit` (which
front gates of which layers of which front blocks) and a qubit mapping, ``mapping[w]`` the
physical qubit of logical wire ``w``, distinct qubits in ``range(n_physical)``.

**The scorer contract.** Fitness comes from a function passed in, so that ``qml`` needs to know
nothing about devices or noise (``noise`` supplies device-aware scorers, the CLI wires them)::

    scorer(circuit, params, mapping) -> float   # a loss: lower is better

- ``circuit``: the whole classifier circuit on ``n`` logical wires, as ``Circuit.to_json()``
  text (the search always sends text; a :class:`qml.Circuit` must be accepted too): the task's
  encoder, its angles ``Input(i)`` = feature ``i`` of a sample's ``encoder.features`` row
  (for the angle encoders of :data:`qml.layers.ENCODERS` the features themselves), followed
  by the SubCircuit, its angles ``Param(name)`` with the SuperCircuit's names
  ``b<block>.<layer>.<index>``. No measurements: the readout is ``<Z>`` of every logical wire.
- ``params``: ``dict[str, float]``, the angle in radians of every ``Param`` of ``circuit``
  (inherited from the SuperCircuit's store).
- ``mapping``: ``tuple[int, ...]`` of length ``n``, ``mapping[w]`` the physical qubit of
  logical wire ``w`` (distinct, in ``range(n_physical)``); a noise-free scorer ignores it.
- returns: the mean NLL loss of ``log_softmax(readout(<Z>))`` over the scorer's own
  validation samples (readout as :class:`qml.model.Readout`); any finite float where lower is
  better is accepted (e.g. ``1 - accuracy``).

The scorer and its three arguments must be picklable (they are sent to worker processes or a
Dask cluster), and the scorer must be deterministic (its own fixed samples, seeded shots):
fitness is cached per ``(active gene, mapping)``, and a resumed search must end as an
uninterrupted one. A scorer may carry an ``identity`` attribute (a JSON-able dict) that is
stored in the search checkpoint, so a checkpoint is never resumed with another scorer.

**Scorer factories.** ``SCORERS`` maps a name (``--scorer`` of ``qml-bench nas``) to
``"module:function"``, imported lazily by :func:`get_scorer_factory`, which also accepts any
``"module:function"`` path. A factory is called as::

    factory(data, *, encoder, n_classes, readout, n_valid, seed, n_physical, **options) -> scorer

with ``data`` a :class:`qml.data.TaskData`, ``encoder`` the encoder's name, ``n_valid`` how many
validation samples to score on (500 by default; fewer when the set is smaller), ``n_physical``
the device's qubit count and ``options`` the ``--scorer-option KEY=VALUE`` strings (a factory
rejects options it does not know with a ``ValueError``). ``"noise-free"`` is the one entry here.

**Evolution** (:class:`Evolution`, defaults of the paper): a population of 40 random candidates;
each iteration scores the population, keeps the 10 best as parents, and adds 20 mutants (a
random parent, each gene position and each mapping entry resampled with probability 0.4; a
mapping entry moved onto a qubit used by another wire swaps the two) and 10 crossovers (two
random parents, each position from either one, duplicate physical qubits repaired); 40
iterations. Illegal genes are repaired with :meth:`SuperCircuit.repair`. Ties in loss are
broken by the candidate itself, so a run is a function of its seed. The result is the best
candidate of the last population (the parents survive, so it is the best ever scored).

Candidates are scored through a ``concurrent.futures.Executor`` (:func:`make_executor`: a local
process pool, ``serial`` in-process, ``dask-local`` for a ``distributed.LocalCluster``, or
``dask://host:port``); new candidates of an iteration are scored in one batch. After every
iteration the population, the cache, the history and the RNG state are written atomically to
``<out_dir>/search.json`` (plain JSON, no pickle); ``run(resume=True)`` continues from it and
ends with the same result as an uninterrupted run; a checkpoint of another run (space, sizes,
settings, seed, scorer or SuperCircuit angles) is refused. More iterations than the checkpoint's
run extend it.

Example:
    >>> from qml.data import load_task
    >>> from qml.nas import SuperCircuit, Evolution, SearchConfig, noise_free_scorer
    >>> data = load_task("digits4")
    >>> sc = SuperCircuit("u3cu3", 4, 2, seed=0)
    >>> scorer = noise_free_scorer(data, encoder="4x4_ryzxy", n_classes=4, n_valid=50)
    >>> config = SearchConfig(population=6, parents=2, mutants=2, crossovers=2, iterations=3,
    ...                       n_physical=5, seed=0)
    >>> result = Evolution(sc, scorer, "4x4_ryzxy", config, progress=False).run()
    >>> len(result["history"]), len(result["mapping"]), result["loss"] <= result["history"][0]["best_loss"]
    (3, 4, True)
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import importlib
import json
import math
import multiprocessing
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch

from qml.circuit import Circuit
from qml.files import atomic_write_text, save_figure
from qml.layers import Encoder, get_encoder
from qml.nas.supercircuit import Gene, SuperCircuit

Mapping = tuple[int, ...]
CHECKPOINT = "search.json"
KIND = "qml.nas search checkpoint"
SCORERS = {
    "noise-free": "qml.nas.search:noise_free_scorer",
}
EXECUTORS = ("process", "serial", "dask-local", "dask://HOST:PORT")


# --- scorers ---------------------------------------------------------------------------------

def score_candidate(scorer: Callable, circuit: str, params: dict, mapping: Mapping) -> float:
    """Run ``scorer`` on one candidate (the task a worker runs); the loss as a float."""
    loss = float(scorer(circuit, params, mapping))
    if not math.isfinite(loss):
        raise ValueError(f"the scorer returned a non-finite loss {loss} for mapping {mapping}")
    return loss


class NoiseFreeScorer:
    """Noise-free fitness: the NLL loss of the circuit on fixed samples (mapping ignored).

    ``features`` are the circuit's input rows (``encoder.features(x)``), ``labels`` the classes.
    Device-aware scorers (``noise.scorers``) subclass it and replace :meth:`expectations`.
    """

    def __init__(self, features: torch.Tensor, labels: torch.Tensor, n_wires: int, n_classes: int,
                 readout: str = "auto", identity: dict | None = None):
        from qml.model import Readout

        self.features, self.labels = features.detach().float(), labels.detach().long()
        self.readout = Readout(n_wires, n_classes, readout)
        self.identity = identity or {"scorer": "noise-free", "samples": len(labels)}

    def expectations(self, circuit: Circuit, params: dict, mapping: Sequence[int],
                     features: torch.Tensor) -> torch.Tensor:
        """``<Z>`` of every logical wire, ``(len(features), n_wires)``."""
        from qml import expval_z, simulate

        return expval_z(simulate(circuit, params, features))

    def evaluate(self, circuit: str | Circuit, params: dict, mapping: Sequence[int],
                 features: torch.Tensor | None = None, labels: torch.Tensor | None = None
                 ) -> tuple[float, float]:
        """(NLL loss, accuracy) on ``features``/``labels`` (default: the scorer's own samples)."""
        if isinstance(circuit, str):
            circuit = Circuit.from_json(circuit)
        features = self.features if features is None else features.detach().float()
        labels = self.labels if labels is None else labels.detach().long()
        with torch.no_grad():
            z = self.expectations(circuit, params, tuple(mapping), features).float()
            log_probs = torch.log_softmax(self.readout(z), dim=1)
            loss = float(torch.nn.functional.nll_loss(log_probs, labels))
            return loss, float((log_probs.argmax(1) == labels).float().mean())

    def __call__(self, circuit: str | Circuit, params: dict, mapping: Sequence[int]) -> float:
        return self.evaluate(circuit, params, mapping)[0]


def validation_subset(data, encoder: str, n_valid: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, int, dict]:
    """A seeded subset of ``n_valid`` validation samples of ``data``: (features, labels,
    circuit wires, identity fields), the samples every scorer factory scores on."""
    if isinstance(n_valid, bool) or not isinstance(n_valid, int) or n_valid < 1:
        raise ValueError(f"n_valid must be a positive integer, got {n_valid!r}")
    enc = get_encoder(encoder, data.n_wires)
    n = len(data.y_valid)
    idx = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:n_valid].sort().values
    identity = {"task": data.name, "encoder": enc.name, "samples": len(idx), "subset_seed": seed}
    return enc.features(data.x_valid[idx]), data.y_valid[idx], max(enc.n_wires, data.n_wires), identity


def noise_free_scorer(data, *, encoder: str, n_classes: int | None = None, readout: str = "auto",
                      n_valid: int = 500, seed: int = 0, n_physical: int | None = None,
                      **options) -> NoiseFreeScorer:
    """The ``"noise-free"`` factory: a seeded subset of ``n_valid`` validation samples."""
    if options:
        raise ValueError(f"the noise-free scorer takes no options, got {sorted(options)}")
    features, labels, n_wires, identity = validation_subset(data, encoder, n_valid, seed)
    return NoiseFreeScorer(features, labels, n_wires, n_classes or data.n_classes, readout,
                           {"scorer": "noise-free", **identity, "readout": readout})


def get_scorer_factory(name: str) -> Callable:
    """The scorer factory registered as ``name``, or the ``"module:function"`` path ``name``."""
    path = SCORERS.get(name, name)
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"unknown scorer {name!r}; known scorers: {', '.join(SCORERS)} "
                         f"(or give a 'module:function' factory)")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot load scorer factory {path!r}: {err}") from None


# --- executors -------------------------------------------------------------------------------

class SerialExecutor(cf.Executor):
    """An executor that runs each task at once in this process (tests, notebooks, debugging)."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 (handed to the caller through the future)
            future.set_exception(err)
        return future


def _worker_init() -> None:
    torch.set_num_threads(1)


@contextlib.contextmanager
def make_executor(spec: str | None = "process", max_workers: int | None = None, *,
                  processes: bool = True, timeout: float = 10.0) -> Iterator[cf.Executor]:
    """An executor for scoring candidates, closed (with its cluster) when the block ends.

    ``spec``: ``"process"`` (the default: a local pool of ``max_workers`` spawned processes,
    one torch thread each), ``"serial"``, ``"dask-local"`` (a ``distributed.LocalCluster`` of
    ``max_workers`` workers, 2 by default, one thread each; ``processes=False`` keeps them in
    this process) or ``"dask://host:port"`` (a running scheduler; ``tcp://`` is used). Dask
    needs the ``distributed`` package. An unknown spec or an unreachable scheduler is a
    ``ValueError``.
    """
    spec = spec or "process"
    if spec == "process":
        # spawned, not forked: a child forked after Aer's or torch's OpenMP threads ran in this
        # process can hang on a lock one of them held
        with cf.ProcessPoolExecutor(max_workers, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_worker_init) as pool:
            yield pool
    elif spec == "serial":
        yield SerialExecutor()
    elif spec == "dask-local" or spec.startswith("dask://"):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError(f"--executor {spec} needs the 'distributed' package "
                             f"(pip install distributed)") from None
        if spec == "dask-local":
            with LocalCluster(n_workers=max_workers or 2, threads_per_worker=1, processes=processes,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                yield client.get_executor()
        else:
            address = "tcp://" + spec[len("dask://"):]
            try:
                client = Client(address, timeout=timeout)
            except (OSError, TimeoutError) as err:
                raise ValueError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                                 f"({type(err).__name__}: {err})") from None
            with client:
                yield client.get_executor()
    else:
        raise ValueError(f"unknown executor {spec!r}; valid: {', '.join(EXECUTORS)}")


# --- mappings --------------------------------------------------------------------------------

def check_mapping(mapping: Sequence[int], n_wires: int, n_physical: int) -> Mapping:
    """``mapping`` as a tuple; a ``ValueError`` unless it gives ``n_wires`` distinct qubits."""
    mapping = tuple(mapping)
    if len(mapping) != n_wires:
        raise ValueError(f"a mapping gives a physical qubit for each of the {n_wires} wires, "
                         f"got {len(mapping)}")
    bad = [q for q in mapping if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q < n_physical]
    if bad:
        raise ValueError(f"mapping {mapping}: qubit(s) {bad} are not in range({n_physical})")
    if len(set(mapping)) != n_wires:
        raise ValueError(f"mapping {mapping} puts two wires on one physical qubit")
    return mapping


def repair_mapping(mapping: Sequence[int], n_physical: int, rng: random.Random | None = None
                   ) -> Mapping:
    """Replace out-of-range and repeated qubits (later occurrences) by unused ones.

    The replacements are the smallest unused qubits, or random unused ones with ``rng``.

    Example:
        >>> repair_mapping((3, 3, 7, 0), n_physical=5)
        (3, 1, 2, 0)
    """
    if len(mapping) > n_physical:
        raise ValueError(f"{len(mapping)} wires do not fit on {n_physical} physical qubits")
    seen: set[int] = set()
    keep = []
    for q in mapping:
        ok = isinstance(q, int) and 0 <= q < n_physical and q not in seen
        keep.append(q if ok else None)
        if ok:
            seen.add(q)
    free = [q for q in range(n_physical) if q not in seen]
    out = []
    for q in keep:
        if q is None:
            q = free.pop(rng.randrange(len(free)) if rng else 0)
        out.append(q)
    return tuple(out)


# --- the search ------------------------------------------------------------------------------

@dataclass
class SearchConfig:
    """Evolution settings (the QuantumNAS defaults); ``n_physical`` defaults to the wire count."""

    population: int = 40
    parents: int = 10
    mutants: int = 20
    crossovers: int = 10
    mutation_prob: float = 0.4
    iterations: int = 40
    n_physical: int | None = None
    seed: int = 0

    def __post_init__(self):
        if min(self.population, self.parents, self.iterations) < 1 or min(self.mutants,
                                                                          self.crossovers) < 0:
            raise ValueError("population, parents and iterations must be positive; mutants and "
                             "crossovers non-negative")
        if self.parents > self.population:
            raise ValueError(f"parents ({self.parents}) cannot exceed the population ({self.population})")
        if self.parents + self.mutants + self.crossovers != self.population:
            raise ValueError(f"parents + mutants + crossovers ({self.parents} + {self.mutants} + "
                             f"{self.crossovers}) must equal the population ({self.population})")
        if not 0 <= self.mutation_prob <= 1:
            raise ValueError(f"mutation_prob must be in [0, 1], got {self.mutation_prob}")


def weights_fingerprint(supercircuit: SuperCircuit) -> str:
    """A short hash of the SuperCircuit's angles: the fitness cache is only valid for them."""
    data = supercircuit.weights.detach().cpu().to(torch.float64).numpy().tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


class Evolution:
    """Evolutionary co-search over ``(gene, mapping)`` of ``supercircuit`` (see the module doc).

    Args:
        supercircuit: the trained SuperCircuit; candidates inherit its angles.
        scorer: ``scorer(circuit_json, params, mapping) -> loss`` (the contract above).
        encoder: the task's encoder (name or :class:`qml.layers.Encoder`), put before the
            SubCircuit in the circuit the scorer gets.
        config: :class:`SearchConfig`.
        out_dir: where ``search.json`` is written every iteration (``None``: nowhere).
        executor: a ``concurrent.futures.Executor`` (``None``: score in this process).
        on_iteration: called with the iteration's history entry after its checkpoint.
    """

    def __init__(self, supercircuit: SuperCircuit, scorer: Callable, encoder: Encoder | str,
                 config: SearchConfig = SearchConfig(), out_dir: str | os.PathLike | None = None, *,
                 executor: cf.Executor | None = None, identity: dict | None = None,
                 progress: bool = True, on_iteration: Callable[[dict], None] | None = None):
        self.sc, self.scorer, self.config = supercircuit, scorer, config
        n = supercircuit.n_wires
        self.encoder = get_encoder(encoder, n) if isinstance(encoder, str) else encoder
        self.n_physical = config.n_physical or n
        if self.n_physical < n:
            raise ValueError(f"{n} wires do not fit on a device of {self.n_physical} qubits")
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.executor = executor or SerialExecutor()
        self.progress, self.on_iteration = progress, on_iteration
        settings = {k: v for k, v in asdict(config).items() if k != "iterations"}
        self.identity = {**(identity or {}), **settings, "n_physical": self.n_physical,
                         "space": supercircuit.space, "n_wires": n, "n_blocks": supercircuit.n_blocks,
                         "gene_space": [list(r) for r in supercircuit.gene_space],
                         "encoder": self.encoder.name, "weights": weights_fingerprint(supercircuit),
                         "scorer": getattr(scorer, "identity", type(scorer).__name__)}
        self.identity = json.loads(json.dumps(self.identity))  # as the checkpoint holds it
        self.rng = random.Random(config.seed)
        self.iteration = 0
        self.population: list[tuple[Gene, Mapping]] = []
        self.cache: dict[tuple[Gene, Mapping], float] = {}
        self.history: list[dict] = []
        self._wall_before = 0.0

    # --- candidates ------------------------------------------------------------------------

    def random_candidate(self) -> tuple[Gene, Mapping]:
        gene = self.sc.sample(self.rng)
        mapping = tuple(self.rng.sample(range(self.n_physical), self.sc.n_wires))
        return gene, mapping

    def mutate(self, gene: Gene, mapping: Mapping) -> tuple[Gene, Mapping]:
        p = self.config.mutation_prob
        new = [self.rng.randint(lo, hi) if self.rng.random() < p else g
               for g, (lo, hi) in zip(gene, self.sc.gene_space)]
        m = list(mapping)
        for w in range(len(m)):
            if self.rng.random() < p:
                q = self.rng.randrange(self.n_physical)
                if q in m:  # another wire holds q: the two swap
                    m[m.index(q)] = m[w]
                m[w] = q
        return self.sc.repair(new), check_mapping(m, self.sc.n_wires, self.n_physical)

    def crossover(self, a: tuple[Gene, Mapping], b: tuple[Gene, Mapping]) -> tuple[Gene, Mapping]:
        gene = [x if self.rng.random() < 0.5 else y for x, y in zip(a[0], b[0])]
        mapping = [x if self.rng.random() < 0.5 else y for x, y in zip(a[1], b[1])]
        return self.sc.repair(gene), repair_mapping(mapping, self.n_physical, self.rng)

    def key(self, gene: Gene, mapping: Mapping) -> tuple[Gene, Mapping]:
        """The cache key: only the active part of the gene matters."""
        return self.sc.active(gene), tuple(mapping)

    def circuit(self, gene: Sequence[int]) -> Circuit:
        """The circuit the scorer gets: the encoder, then the SubCircuit of ``gene``."""
        return self.encoder.circuit(self.sc.n_wires) + self.sc.subcircuit(gene)

    # --- scoring ---------------------------------------------------------------------------

    def score(self, candidates: Sequence[tuple[Gene, Mapping]]) -> list[float]:
        """Losses of ``candidates``: cached ones looked up, new ones scored in one batch."""
        todo: dict[tuple, tuple[Gene, Mapping]] = {}
        for gene, mapping in candidates:
            k = self.key(gene, mapping)
            if k not in self.cache and k not in todo:
                todo[k] = (gene, mapping)
        futures = {}
        for k, (gene, mapping) in todo.items():
            sub = self.sc.subcircuit(gene)
            futures[k] = self.executor.submit(score_candidate, self.scorer, self.circuit(gene).to_json(),
                                              self.sc.param_dict(sub), tuple(mapping))
        for k, future in futures.items():
            self.cache[k] = future.result()
        self._new = len(futures)
        return [self.cache[self.key(g, m)] for g, m in candidates]

    # --- checkpoints -------------------------------------------------------------------------

    def state(self) -> dict:
        version, internal, gauss = self.rng.getstate()
        return {"kind": KIND, "identity": self.identity, "iteration": self.iteration,
                "iterations": self.config.iterations,
                "population": [[list(g), list(m)] for g, m in self.population],
                "cache": [[list(g), list(m), loss] for (g, m), loss in self.cache.items()],
                "history": self.history, "rng": [version, list(internal), gauss],
                "wall_s": self.wall_s}

    def save(self) -> None:
        if self.out_dir is not None:
            atomic_write_text(self.out_dir / CHECKPOINT, json.dumps(self.state()) + "\n")

    def restore(self, path: Path) -> None:
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"cannot resume: no search checkpoint at {path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path} is not a readable {KIND}: {err}") from None
        if not isinstance(state, dict) or state.get("kind") != KIND:
            raise ValueError(f"{path} is not a {KIND}")
        saved = state["identity"]
        mismatch = sorted(k for k in set(saved) | set(self.identity) if saved.get(k) != self.identity.get(k))
        if mismatch:
            raise ValueError(f"cannot resume: the checkpoint {path} is of a different search ("
                             + ", ".join(f"{k}: {saved.get(k)!r} there, {self.identity.get(k)!r} here"
                                         for k in mismatch) + ")")
        self.iteration, self.history = state["iteration"], state["history"]
        self.population = [(tuple(g), tuple(m)) for g, m in state["population"]]
        self.cache = {(tuple(g), tuple(m)): loss for g, m, loss in state["cache"]}
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self._wall_before = float(state.get("wall_s", 0.0))

    @property
    def wall_s(self) -> float:
        start = getattr(self, "_start", None)
        return self._wall_before + (0.0 if start is None else time.perf_counter() - start)

    # --- the loop --------------------------------------------------------------------------

    def run(self, resume: bool = False) -> dict:
        """Search for the configured iterations; with ``resume``, continue the checkpoint.

        Returns the best candidate (``gene``, ``mapping``, ``loss``, ``circuit``: the
        SubCircuit), the ``history`` (one entry per iteration: best and mean loss, best
        candidate, number of new evaluations) and the number of ``evaluations``.
        """
        if resume:
            if self.out_dir is None:
                raise ValueError("cannot resume: the search has no checkpoint directory")
            self.restore(self.out_dir / CHECKPOINT)
        else:
            self.population = [self.random_candidate() for _ in range(self.config.population)]
        self._start = time.perf_counter()
        from tqdm import tqdm

        bar = tqdm(total=self.config.iterations, initial=self.iteration, unit="iter",
                   desc=f"search {self.sc.space}", disable=not self.progress, leave=False)
        while self.iteration < self.config.iterations:
            losses = self.score(self.population)
            ranked = sorted(zip(losses, [self.key(g, m) for g, m in self.population], self.population))
            best_loss, _, (gene, mapping) = ranked[0]
            self.iteration += 1
            entry = {"iteration": self.iteration, "best_loss": best_loss,
                     "mean_loss": sum(losses) / len(losses), "best_gene": list(gene),
                     "best_mapping": list(mapping), "new_evaluations": self._new}
            self.history.append(entry)
            parents = [c for _, _, c in ranked[:self.config.parents]]
            mutants = [self.mutate(*self.rng.choice(parents)) for _ in range(self.config.mutants)]
            crosses = [self.crossover(*self.rng.sample(parents, 2)) if len(parents) > 1
                       else parents[0] for _ in range(self.config.crossovers)]
            self.population = parents + mutants + crosses
            self.save()
            bar.update(1)
            bar.set_postfix(best=f"{best_loss:.4f}", cached=len(self.cache))
            if self.on_iteration:
                self.on_iteration(entry)
        bar.close()
        if not self.history:
            raise ValueError("the search ran no iteration")
        last = self.history[-1]
        gene = tuple(last["best_gene"])
        return {"gene": gene, "mapping": tuple(last["best_mapping"]), "loss": last["best_loss"],
                "circuit": self.sc.subcircuit(gene), "history": self.history,
                "evaluations": len(self.cache), "wall_s": self.wall_s}


def plot_search(history: list[dict], path: str | os.PathLike, title: str = "") -> None:
    """Best (and mean) fitness per iteration to a PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    its = [h["iteration"] for h in history]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(its, [h["best_loss"] for h in history], marker="o", ms=3, label="best")
    ax.plot(its, [h["mean_loss"] for h in history], alpha=0.6, label="population mean")
    ax.set(xlabel="iteration", ylabel="fitness (loss, lower is better)", title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


__all__ = ["Evolution", "NoiseFreeScorer", "SCORERS", "SearchConfig", "check_mapping",
           "get_scorer_factory", "make_executor", "noise_free_scorer", "plot_search",
           "repair_mapping", "score_candidate", "validation_subset"]
