"""``qml-bench nas``: QuantumNAS end to end, with a pluggable fitness (scorer).

Example:
    qml-bench nas --task mnist4 --space u3cu3 --device santiago --prune 0.1
    qml-bench nas --task mnist4 --space u3cu3 --device-qubits 5 --prune 0.1      # noise-free
    qml-bench nas --task digits4 --super-epochs 5 --search-iters 3 --epochs 3 --executor serial
    qml-bench nas --task mnist4 --quality 10 --super-epochs 40 --epochs 30

The pipeline, each stage with a progress bar and checkpoints under ``--out``:

1. SuperCircuit training (``super/``): ``--super-blocks`` blocks of ``--space``, one sampled
   SubCircuit per batch (``--sampling restricted`` with ``--k`` positions, or ``front``),
   warm-up then cosine, optional progressive shrinking (``--shrink-epochs``) and sandwich
   steps on the largest SubCircuit (``--largest-every``).
2. Co-search (``search/search.json``): evolution over (gene, qubit mapping), fitness from
   ``--scorer``: with ``--device NAME`` the device's noise (``density``, the default there:
   our exact density-matrix mode; ``aer``: Aer with shots, see :mod:`noise.scorers`) on its
   qubits; without, ``noise-free`` on ``--device-qubits`` qubits; or a ``module:function``
   factory. ``--scorer-option KEY=VALUE`` goes to the factory (e.g. ``shots=4096``,
   ``noise_scale=2``, ``properties=cal.json``). Candidates are scored through ``--executor``
   (``process`` pool of ``--workers``, ``serial``, ``dask-local``, ``dask://host:port``).
   With a device, a second, noise-unaware search (noise-free fitness) runs in ``unaware/``.
3. The searched SubCircuit trained from scratch (``search/``), and the baselines, trained
   the same way: ``human`` (the space with the block count closest in parameters, trivial
   mapping, ``human/``), ``random`` (a random circuit with as many parameters, a random
   mapping, ``random/``) and, with a device, ``noise-unaware`` (its searched SubCircuit on
   the trivial mapping, ``noise-unaware/``).
4. ``--prune R``: global magnitude pruning of the searched model to ratio R on a cubic
   schedule over ``--finetune-epochs`` (``pruned/``).
5. Noise-free test accuracy of each model, and with a device its accuracy there (exact, by
   the density-matrix mode, readout errors included, on the whole test split), with the
   gate count and depth of the whole circuit (encoder included) after transpilation for
   the device on its mapping; without a device, parameters, gates and depth of the ansatz.

``--quality N`` measures the SuperCircuit instead of searching: N random SubCircuits, each
evaluated with the inherited angles and trained from scratch (``--epochs``), and the Spearman
correlation of the two accuracies (on the test set).

``--resume`` continues every stage from its checkpoint (a stage already finished is loaded);
an ``--out`` that holds a run is refused without it. Plots: ``search.png`` (best fitness per
iteration); record: ``run.json`` beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
from pathlib import Path

import torch

from benchmarks.report import Report, atomic_write_text, versions
from qml.data import TASKS, default_task, load_task
from qml.layers import SPACES, get_encoder
from qml.model import QNN
from qml.train import LAST, TrainConfig, Trainer, evaluate

COLUMNS = ["model", "blocks", "params", "gates", "depth", "mapping", "fitness", "valid_acc",
           "test_acc", "device_acc"]
#: Device-aware scorers (``noise`` supplies them; ``qml.nas`` never imports ``noise``).
DEVICE_SCORERS = {"density": "noise.scorers:density_scorer", "aer": "noise.scorers:aer_scorer"}
QUALITY_COLUMNS = ["subcircuit", "gene", "params", "gates", "inherited_acc", "scratch_acc"]
COMPARE_COLUMNS = ["candidate", "gene", "mapping", "density_loss", "aer_loss", "density_s", "aer_s"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from qml.nas.search import EXECUTORS, SCORERS

    parser.add_argument("--task", help=f"data set (default: mnist4 when the MNIST files are found, "
                        f"else digits4); one of {', '.join(TASKS)}")
    parser.add_argument("--space", default="u3cu3", help=f"design space: {', '.join(SPACES)}")
    parser.add_argument("--super-blocks", type=int, default=8, help="SuperCircuit blocks (default 8)")
    parser.add_argument("--device", help="the device whose noise the search scores under "
                        "(a fake backend's name, e.g. santiago); its qubits are the mapping's")
    parser.add_argument("--device-qubits", type=int,
                        help="without --device: physical qubits the mapping chooses from (default: "
                             "the task's wire count)")
    parser.add_argument("--prune", type=float, default=0.1,
                        help="pruning ratio of the searched model (default 0.1; 0: no pruning)")
    parser.add_argument("--scorer", help=f"fitness: {', '.join([*SCORERS, *DEVICE_SCORERS])} or a "
                        f"module:function factory (default: density with --device, else noise-free)")
    parser.add_argument("--scorer-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option for the scorer factory (repeatable)")
    parser.add_argument("--n-valid", type=int, default=500,
                        help="validation samples the scorer uses (default 500)")
    parser.add_argument("--executor", default="process", help=f"one of {', '.join(EXECUTORS)}")
    parser.add_argument("--workers", type=int, default=2, help="executor workers (default 2)")
    parser.add_argument("--super-epochs", type=int, default=80)
    parser.add_argument("--super-lr", type=float, default=2e-2, help="SuperCircuit learning rate")
    parser.add_argument("--sampling", default="restricted", choices=("restricted", "front"))
    parser.add_argument("--k", type=int, default=7, help="positions restricted sampling resamples")
    parser.add_argument("--shrink-epochs", type=int,
                        help="progressive shrinking over this many epochs (default: half the "
                             "SuperCircuit epochs; 0: off)")
    parser.add_argument("--largest-every", type=int, default=2, metavar="N",
                        help="train the largest SubCircuit every N-th step (sandwich rule; default 2; "
                             "0: off)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up epochs of the SuperCircuit")
    parser.add_argument("--init-scale", type=float, default=0.1,
                        help="SuperCircuit angles start uniform in +-scale*pi (default 0.1)")
    parser.add_argument("--search-iters", type=int, default=40)
    parser.add_argument("--population", type=int, default=40)
    parser.add_argument("--parents", type=int, default=10)
    parser.add_argument("--mutants", type=int, default=20)
    parser.add_argument("--crossovers", type=int, default=10)
    parser.add_argument("--mutation-prob", type=float, default=0.4)
    parser.add_argument("--epochs", type=int, default=30, help="from-scratch training epochs")
    parser.add_argument("--finetune-epochs", type=int, default=10, help="pruning fine-tuning epochs")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--quality", type=int, default=0, metavar="N",
                        help="measure the SuperCircuit on N random SubCircuits instead of searching")
    parser.add_argument("--compare-scorers", type=int, default=0, metavar="N",
                        help="with --device: score N random candidates by the density and the Aer "
                             "scorer (rank agreement, time per candidate), then run the search on a "
                             "process pool and on a 2-worker Dask LocalCluster and compare, instead "
                             "of the pipeline")
    parser.add_argument("--data-dir", help="data directory (default $QML_DATA_DIR, then ../shared/data)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoints in --out")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _options(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--scorer-option takes KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def _stage(args, text: str) -> None:
    if not args.no_progress:
        print(f"[nas] {text}", file=sys.stderr, flush=True)


def _out_dir(args, task: str) -> Path:
    out = Path(args.out) if args.out else Path("results") / "nas" / f"{task}-{args.space}-s{args.seed}"
    held = (out / "super" / LAST).exists()
    if args.resume and not held:
        raise ValueError(f"cannot resume: no SuperCircuit checkpoint at {out / 'super' / LAST}")
    if not args.resume and held:
        raise ValueError(f"--out {out} already holds a run: add --resume to continue it, or name "
                         f"another --out")
    return out


def _train(name: str, model, data, config: TrainConfig, out: Path, args, trainer_cls=Trainer,
           **kwargs) -> dict:
    """Train in ``out/name`` (resuming when asked and a checkpoint is there)."""
    trainer = trainer_cls(model, data, config=config, out_dir=out / name,
                          identity={"stage": name, **kwargs.pop("identity", {})},
                          progress=not args.no_progress, **kwargs)
    return trainer.fit(resume=args.resume and (out / name / LAST).exists())


def _check(args) -> None:
    positive = {"--super-blocks": args.super_blocks, "--super-epochs": args.super_epochs,
                "--search-iters": args.search_iters, "--epochs": args.epochs,
                "--finetune-epochs": args.finetune_epochs, "--workers": args.workers,
                "--n-valid": args.n_valid, "--batch-size": args.batch_size}
    for option, value in positive.items():
        if value < 1:
            raise ValueError(f"{option} must be positive, got {value}")
    if not 0 <= args.prune < 1:
        raise ValueError(f"--prune must be in [0, 1), got {args.prune}")
    if args.quality < 0 or args.compare_scorers < 0:
        raise ValueError(f"--quality and --compare-scorers must be >= 0, got {args.quality}, "
                         f"{args.compare_scorers}")
    if args.compare_scorers and not args.device:
        raise ValueError("--compare-scorers compares scorers under a device's noise: add --device NAME")
    if args.space not in SPACES:
        raise ValueError(f"unknown design space {args.space!r}; valid spaces: {', '.join(SPACES)}")


def run(args: argparse.Namespace) -> Report:
    from qml.nas.search import get_scorer_factory, make_executor

    _check(args)
    torch.set_num_threads(args.threads)
    task = args.task or default_task(args.data_dir)
    data = load_task(task, args.data_dir)
    encoder = get_encoder(data.encoder, data.n_wires)
    n_wires = max(encoder.n_wires, data.n_wires)
    device = None
    if args.device:
        from noise.devices import Device

        device = Device.from_name(args.device)
        if args.device_qubits not in (None, device.n_qubits):
            raise ValueError(f"--device-qubits {args.device_qubits}: {device.name} has {device.n_qubits} qubits")
    n_physical = device.n_qubits if device else args.device_qubits or n_wires
    if n_physical < n_wires:
        raise ValueError(f"the task needs {n_wires} qubits; the device has {n_physical}")
    args.scorer = args.scorer or ("density" if device else "noise-free")
    options = _options(args.scorer_option)
    if args.scorer in DEVICE_SCORERS:
        if device is None:
            raise ValueError(f"--scorer {args.scorer} scores under a device's noise: add --device NAME")
        options.setdefault("device", args.device)
    factory = None if args.quality else get_scorer_factory(DEVICE_SCORERS.get(args.scorer, args.scorer))
    if args.shrink_epochs is None:
        args.shrink_epochs = args.super_epochs // 2
    out = _out_dir(args, task)
    settings = {k: v for k, v in vars(args).items() if k not in ("module_name", "json", "markdown")}
    settings.update(task=task, split=data.split, sizes=data.sizes(), out=str(out),
                    n_physical=n_physical)
    record: dict = {"config": settings, "seed": args.seed, "versions": versions()}

    def save_record():
        atomic_write_text(out / "run.json", json.dumps(record, indent=2, default=str) + "\n")

    with contextlib.ExitStack() as stack:
        # the executor first: an unreachable cluster is an error before any training
        executor = None if args.quality else stack.enter_context(make_executor(args.executor,
                                                                               args.workers))
        return _stages(args, data, encoder, n_wires, n_physical, factory, options, out, record,
                       save_record, executor, device)


def _stages(args, data, encoder, n_wires, n_physical, factory, options, out, record, save_record,
            executor, device) -> Report:
    from qml.nas import SubCircuitQNN, SuperCircuit
    from qml.nas.train import Sampler, SuperTrainer

    # 1. SuperCircuit
    _stage(args, f"1. SuperCircuit training: {args.space} x{args.super_blocks}, {args.super_epochs} epochs")
    sc = SuperCircuit(args.space, n_wires, args.super_blocks, init_scale=args.init_scale,
                      seed=args.seed)
    super_model = SubCircuitQNN(sc, encoder, n_classes=data.n_classes)
    sampler = Sampler(sc, args.sampling, k=args.k, shrink_epochs=args.shrink_epochs,
                      largest_every=args.largest_every, seed=args.seed)
    super_config = TrainConfig(epochs=args.super_epochs, batch_size=args.batch_size, lr=args.super_lr,
                               warmup_epochs=min(args.warmup, args.super_epochs - 1), seed=args.seed)
    result = _train("super", super_model, data, super_config, out, args, SuperTrainer,
                    sampler=sampler)
    record["super"] = {k: v for k, v in result.items() if k != "history"}
    save_record()
    if args.quality:
        return _quality(args, sc, super_model, data, encoder, out, record, save_record)
    if args.compare_scorers:
        return _compare_scorers(args, sc, data, encoder, n_physical, options, out, record, save_record)
    return _pipeline(args, sc, super_model, data, encoder, n_physical, factory, options, out,
                     record, save_record, executor, device)


def _qnn(ansatz, encoder, data, seed: int) -> QNN:
    return QNN(ansatz.n_wires, encoder, ansatz, n_classes=data.n_classes, seed=seed)


def _config(args, epochs: int | None = None) -> TrainConfig:
    return TrainConfig(epochs=epochs or args.epochs, batch_size=args.batch_size, lr=args.lr,
                       seed=args.seed)


def _quality(args, sc, super_model, data, encoder, out, record, save_record) -> Report:
    from qml.nas.train import evaluate_genes, spearman

    report = Report(f"SuperCircuit quality: {data.name}, {args.space} x{args.super_blocks}, "
                    f"{args.quality} random SubCircuits, seed {args.seed}", QUALITY_COLUMNS,
                    config=record["config"])
    rng = random.Random(args.seed + 1)
    genes = [sc.sample(rng) for _ in range(args.quality)]
    inherited = evaluate_genes(super_model, genes, data.x_test, data.y_test)
    scratch = []
    for i, gene in enumerate(genes):
        _stage(args, f"2. SubCircuit {i + 1}/{len(genes)} from scratch, {args.epochs} epochs")
        sub = sc.subcircuit(gene)
        model = _qnn(sub, encoder, data, args.seed + i)
        result = _train(f"quality/{i}", model, data, _config(args), out, args,
                        identity={"gene": list(gene)})
        scratch.append(result["test_acc"])
        report.add(subcircuit=i, gene=" ".join(map(str, gene)), params=len(sub.parameters),
                   gates=len(sub.gates), inherited_acc=inherited[i][1], scratch_acc=result["test_acc"])
    rho_acc = spearman([a for _, a in inherited], scratch)
    rho_loss = spearman([-loss for loss, _ in inherited], scratch)
    record["quality"] = {"genes": [list(g) for g in genes], "inherited": inherited,
                         "scratch_acc": scratch, "spearman_acc": rho_acc, "spearman_loss": rho_loss}
    save_record()
    report.notes.append(f"Spearman correlation, inherited vs from-scratch test accuracy: {rho_acc:.3f} "
                        f"(inherited -loss vs from-scratch accuracy: {rho_loss:.3f})")
    report.notes.append(f"SuperCircuit: {args.super_epochs} epochs, {args.sampling} sampling"
                        + (f" (k={args.k})" if args.sampling == "restricted" else "")
                        + f", shrinking {args.shrink_epochs} epochs, largest every {args.largest_every} "
                        f"steps, init scale {args.init_scale:g}, lr {args.super_lr:g}, batch {args.batch_size}"
                        + f"; largest SubCircuit valid acc {record['super']['valid_acc']:.3f}; "
                        f"data {data.split}; checkpoints and run.json in {out}")
    return report


def _search_config(args, n_physical: int):
    from qml.nas.search import SearchConfig

    return SearchConfig(population=args.population, parents=args.parents, mutants=args.mutants,
                        crossovers=args.crossovers, mutation_prob=args.mutation_prob,
                        iterations=args.search_iters, n_physical=n_physical, seed=args.seed)


def _compare_scorers(args, sc, data, encoder, n_physical, options, out, record, save_record) -> Report:
    """Density against Aer on N random candidates; then process pool against Dask."""
    import statistics
    import time

    from noise.scorers import aer_scorer, density_scorer
    from qml.nas.search import Evolution, make_executor
    from qml.nas.train import spearman

    common = dict(encoder=encoder.name, n_classes=data.n_classes, n_valid=args.n_valid, seed=args.seed,
                  n_physical=n_physical)
    device_options = {k: v for k, v in options.items() if k in ("device", "properties", "noise_scale")}
    scorers = {"density": density_scorer(data, **common, **device_options),
               "aer": aer_scorer(data, **common, **{**device_options, **options})}
    report = Report(f"QuantumNAS scorers on {args.device}: exact density-matrix mode against Aer "
                    f"({scorers['aer'].shots} shots), {args.compare_scorers} random candidates, "
                    f"{len(scorers['density'].labels)} validation images each", COMPARE_COLUMNS,
                    config=record["config"])
    rng = random.Random(args.seed + 2)
    rows = []
    for i in range(args.compare_scorers):
        gene = sc.sample(rng)
        mapping = tuple(rng.sample(range(n_physical), sc.n_wires))
        sub = sc.subcircuit(gene)
        circuit, params = (encoder.circuit(sc.n_wires) + sub).to_json(), sc.param_dict(sub)
        row = {"candidate": i, "gene": " ".join(map(str, gene)), "mapping": " ".join(map(str, mapping))}
        for name, scorer in scorers.items():
            _stage(args, f"2. candidate {i + 1}/{args.compare_scorers}: {name}")
            start = time.perf_counter()
            row[f"{name}_loss"] = scorer(circuit, params, mapping)
            row[f"{name}_s"] = time.perf_counter() - start
        rows.append(row)
        report.add(**row)
    rho = spearman([r["density_loss"] for r in rows], [r["aer_loss"] for r in rows])
    times = {name: statistics.median(r[f"{name}_s"] for r in rows) for name in scorers}
    record["compare"] = {"rows": rows, "spearman": rho, "median_s": times}
    report.notes.append(f"Spearman rank correlation, density vs Aer loss: {rho:.3f}; median time per "
                        f"candidate: density {times['density']:.2f} s, Aer {times['aer']:.2f} s "
                        f"({times['aer'] / times['density']:.1f}x), both one thread (Aer "
                        f"max_parallel_threads=1), transpilation included")
    config = _search_config(args, n_physical)
    results = {}
    for spec in ("process", "dask-local"):
        _stage(args, f"3. search on the {spec} executor ({args.workers} workers)")
        with make_executor(spec, args.workers) as executor:
            found = Evolution(sc, scorers["density"], encoder, config, executor=executor,
                              progress=not args.no_progress).run()
        results[spec] = {"gene": list(found["gene"]), "mapping": list(found["mapping"]),
                         "loss": found["loss"], "wall_s": found["wall_s"]}
    record["executors"] = results
    save_record()
    same = all(results["process"][k] == results["dask-local"][k] for k in ("gene", "mapping", "loss"))
    report.notes.append(f"search ({args.search_iters} iterations, population {args.population}, seed "
                        f"{args.seed}, density scorer) on a process pool and on a {args.workers}-worker Dask "
                        f"LocalCluster: {'the same' if same else 'DIFFERENT'} result (gene "
                        f"{' '.join(map(str, results['process']['gene']))}, mapping "
                        f"{tuple(results['process']['mapping'])}, loss {results['process']['loss']:.4f}; "
                        f"{results['process']['wall_s']:.0f} s and {results['dask-local']['wall_s']:.0f} s)")
    return report


def _pipeline(args, sc, super_model, data, encoder, n_physical, factory, options, out, record,
              save_record, executor, device) -> Report:
    from qml.nas.baselines import human_baseline, random_baseline
    from qml.nas.prune import PrunedQNN, PruneTrainer
    from qml.nas.search import Evolution, noise_free_scorer, plot_search
    from qml.nas.train import evaluate_genes

    # 2. co-search (and, on a device, the same search blind to its noise)
    config = _search_config(args, n_physical)

    def search(name, scorer, scorer_name, scorer_options):
        _stage(args, f"2. {name}: {args.search_iters} iterations, population {args.population}, "
                     f"scorer {scorer_name}, executor {args.executor}")
        evolution = Evolution(sc, scorer, encoder, config, out / name, executor=executor,
                              identity={"scorer_name": scorer_name, "scorer_options": scorer_options},
                              progress=not args.no_progress)
        found = evolution.run(resume=args.resume and (out / name / "search.json").exists())
        record[name] = {k: v for k, v in found.items() if k != "circuit"}
        save_record()
        return found

    scorer = factory(data, encoder=encoder.name, n_classes=data.n_classes, readout="auto",
                     n_valid=args.n_valid, seed=args.seed, n_physical=n_physical, **options)
    found = search("search", scorer, args.scorer, options)
    gene, mapping, searched = found["gene"], found["mapping"], found["circuit"]
    inherited_acc = evaluate_genes(super_model, [gene], data.x_valid, data.y_valid)[0][1]
    n_params = len(searched.parameters)
    human, human_blocks, human_map = human_baseline(args.space, sc.n_wires, n_params)
    rand, rand_map = random_baseline(sc.n_wires, n_params, n_physical, seed=args.seed)
    candidates = [("human", human, human_map, human_blocks), ("random", rand, rand_map, "")]
    evaluator = None
    if device is not None:
        from noise.scorers import density_scorer

        unaware = search("unaware", noise_free_scorer(data, encoder=encoder.name, n_classes=data.n_classes,
                                                      n_valid=args.n_valid, seed=args.seed),
                         "noise-free", {})
        candidates.append(("noise-unaware", unaware["circuit"], tuple(range(sc.n_wires)), unaware["gene"][-1]))
        kept = {k: v for k, v in options.items() if k in ("properties", "noise_scale")}
        evaluator = density_scorer(data, encoder=encoder.name, n_classes=data.n_classes, n_valid=1,
                                   seed=args.seed, n_physical=n_physical, device=args.device, **kept)
    candidates.append(("search", searched, mapping, gene[-1]))
    test_features = encoder.features(data.x_test)

    def row(name, model, ansatz, mp, blocks, valid_acc, test_acc) -> dict:
        circuit = (encoder.circuit(sc.n_wires) + ansatz).to_json()
        params = {n: v for n, v in model.param_dict().items() if n in ansatz.parameters}
        out_row = dict(model=name, blocks=blocks, params=len(ansatz.parameters), gates=len(ansatz.gates),
                       depth=ansatz.depth(), mapping=" ".join(map(str, mp)),
                       fitness=scorer(circuit, params, mp), valid_acc=valid_acc, test_acc=test_acc)
        if evaluator is not None:
            out_row["device_acc"] = evaluator.evaluate(circuit, params, mp, test_features, data.y_test)[1]
            program = evaluator.program(circuit, params, mp)
            out_row.update(gates=sum(program.count_ops.values()), depth=program.depth)
        report.add(**out_row)
        return out_row

    # 3. from scratch
    report = Report(f"QuantumNAS: {data.name}, {args.space}, "
                    + (f"device {device.name}" if device else f"{n_physical}-qubit device")
                    + f", scorer {args.scorer}, seed {args.seed}", COLUMNS, config=record["config"])
    models = {}
    for name, ansatz, mp, blocks in candidates:
        _stage(args, f"3. {name} circuit from scratch: {len(ansatz.parameters)} angles, {args.epochs} epochs")
        model = models[name] = _qnn(ansatz, encoder, data, args.seed)
        result = _train(name, model, data, _config(args), out, args)
        record.setdefault("trained", {})[name] = {
            "summary": {k: v for k, v in result.items() if k != "history"}, "circuit": ansatz.to_json(),
            **row(name, model, ansatz, mp, blocks, result["valid_acc"], result["test_acc"])}
        save_record()

    # 4. pruning
    if args.prune > 0:
        _stage(args, f"4. pruning to {args.prune:g} over {args.finetune_epochs} fine-tuning epochs")
        pruned = PrunedQNN(models["search"])
        result = _train("pruned", pruned, data, _config(args, args.finetune_epochs), out, args,
                        PruneTrainer, target=args.prune)
        ansatz = pruned.ansatz()
        record["pruned"] = {"summary": {k: v for k, v in result.items() if k != "history"},
                            "pruned": sorted(pruned.pruned_names()), "circuit": ansatz.to_json(),
                            **row(f"search + pruning {args.prune:g}", pruned, ansatz, mapping, gene[-1],
                                  evaluate(pruned, data.x_valid, data.y_valid)[1],
                                  evaluate(pruned, data.x_test, data.y_test)[1])}
        save_record()

    report.output(out / "search.png", lambda: plot_search(
        found["history"], out / "search.png", title=f"{data.name} {args.space}: co-search"))
    report.notes.append(f"searched gene {' '.join(map(str, gene))}, mapping {mapping}; fitness "
                        f"{found['loss']:.4f} with inherited angles (valid acc {inherited_acc:.3f}); "
                        f"{found['evaluations']} candidates scored in {found['wall_s']:.0f} s")
    report.notes.append(f"fitness: {args.scorer} scorer loss of the trained circuit (lower is better); "
                        f"valid/test acc noise-free"
                        + (f"; device_acc on {device.name} by the exact density-matrix mode (readout "
                           f"errors included) on all {len(data.y_test)} test images; gates and depth of "
                           f"the whole circuit (encoder included) transpiled for {device.name} on its "
                           f"mapping" if device else "; params/gates/depth of the ansatz (encoder excluded)"))
    report.notes.append(f"data {data.split}; checkpoints, run.json and search.png in {out}")
    return report
