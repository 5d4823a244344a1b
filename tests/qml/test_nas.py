"""QuantumNAS: SuperCircuit genes and sharing, sampling, SuperCircuit training and resume, the
co-search (executors, cache, kill and resume), pruning and the ``qml-bench nas`` command."""

import json
import math
import random

import pytest
import torch

from qml.data import load_task
from qml.layers import SPACES, build_space
from qml.model import QNN
from qml.nas import SubCircuitQNN, SuperCircuit
from qml.nas.prune import PrunedQNN, PruneSchedule, PruneTrainer, export_pruned, magnitude_mask, wrap
from qml.nas.search import (Evolution, SearchConfig, check_mapping, get_scorer_factory, make_executor,
                            noise_free_scorer, repair_mapping)
from qml.nas.train import Sampler, SuperTrainer, spearman
from qml.train import TrainConfig

torch.set_num_threads(1)
TINY = dict(population=6, parents=2, mutants=2, crossovers=2, iterations=4, n_physical=5)


@pytest.fixture(scope="module")
def data():
    return load_task("digits4")


@pytest.fixture(scope="module")
def scorer(data):
    return noise_free_scorer(data, encoder="4x4_ryzxy", n_classes=4, n_valid=40)


# --- SuperCircuit ----------------------------------------------------------------------------

@pytest.mark.parametrize("space", sorted(SPACES))
def test_every_space_gives_front_subcircuits_of_its_own_gates(space):
    sc = SuperCircuit(space, 4, 3, seed=0)
    assert sc.subcircuit(sc.largest) == build_space(space, 4, 3)
    assert len(sc.full.parameters) == len(sc.weights)
    rng = random.Random(0)
    for _ in range(5):
        gene = sc.sample(rng)
        sub = sc.subcircuit(gene)
        used = [layer for layer in sc.layers if layer.block < gene[-1]]
        expected = list(sc.prologue) + [op for layer, g in zip(sc.layers, gene) if layer.block < gene[-1]
                                        for op in layer.ops[:g]]
        assert list(sub.ops) == expected and len(used) == len(sc.active(gene)) - 1
        assert set(sub.parameters) <= set(sc.names)


def test_gene_errors_name_the_problem_and_repair_fixes_them():
    sc = SuperCircuit("rxyz", 4, 2)
    assert sc.gene_space[3] == (1, 2)  # the CZ layer of block 0 has two gates
    with pytest.raises(ValueError, match="has 9 positions"):
        sc.check((1, 1))
    with pytest.raises(ValueError, match=r"position 3 \(block 0, layer cz\) is 3, outside \[1, 2\]"):
        sc.check((1, 1, 1, 3, 1, 1, 1, 1, 2))
    with pytest.raises(ValueError, match=r"position 8 \(the number of blocks\) must be an int"):
        sc.check((1, 1, 1, 1, 1, 1, 1, 1, 1.5))
    assert sc.repair((9, -3, 2.6, 3, 1, 1, 1, 1, 0, 7, 7)) == (4, 1, 3, 2, 1, 1, 1, 1, 1)
    assert sc.repair((2,)) == (2,) + sc.largest[1:]
    assert sc.active((4, 4, 4, 2, 1, 1, 1, 1, 1)) == (4, 4, 4, 2, 1)


def test_subcircuits_share_the_store_and_gradients_flow_into_it():
    sc = SuperCircuit("u3cu3", 4, 3, init_scale=1.0, seed=1)  # generic angles: no zero gradient
    model = SubCircuitQNN(sc, "4x4_ryzxy", n_classes=4)
    gene = (2, 3, 4, 1, 1, 1, 2)
    model.set_gene(gene)
    x = torch.rand(5, 16)
    model(x).sum().backward()
    sub = sc.subcircuit(gene)
    touched = {sc.names[i] for i in torch.nonzero(sc.weights.grad).flatten().tolist()}
    assert touched == set(sub.parameters)
    qnn = sc.inherit(QNN(4, "4x4_ryzxy", sub, n_classes=4, seed=5))  # an ordinary QNN, same angles
    assert torch.allclose(qnn(x), model(x), atol=1e-6)
    with torch.no_grad():
        sc.weights[sc.index[sub.parameters[0]]] += 0.5  # one store: every SubCircuit sees it
    assert not torch.allclose(qnn(x), model(x), atol=1e-4)


def test_sampling_front_restricted_and_progressive_shrinking():
    sc = SuperCircuit("u3cu3", 4, 8)
    restricted = Sampler(sc, "restricted", k=3, seed=0)
    prev = restricted.next()
    for _ in range(20):
        gene = restricted.next()
        assert sum(a != b for a, b in zip(prev, gene)) <= 3
        prev = sc.check(gene)
    front = Sampler(sc, "front", seed=0)
    genes = {front.next() for _ in range(20)}
    assert len(genes) == 20 and all(sc.check(g) for g in genes)
    shrink = Sampler(sc, "front", shrink_epochs=4, seed=0)
    assert shrink.next() == sc.largest  # epoch 0: the largest only
    shrink.set_epoch(2)
    assert all(g >= hi - math.ceil((hi - lo) / 2) for g, (lo, hi) in zip(shrink.next(), sc.gene_space))
    sandwich = Sampler(sc, "restricted", k=2, largest_every=2, seed=0)
    genes = [sandwich.next() for _ in range(6)]
    assert genes[1::2] == [sc.largest] * 3 and sc.largest not in genes[0::2]
    assert sum(a != b for a, b in zip(genes[0], genes[2])) <= 2  # restricted across the sandwich
    with pytest.raises(ValueError, match="unknown sampling strategy"):
        Sampler(sc, "back")


def test_super_training_resumes_exactly_and_refuses_another_run(data, tmp_path):
    def trainer(out, k=2, on_epoch=None):
        sc = SuperCircuit("zzry", 4, 3, seed=0)
        model = SubCircuitQNN(sc, "4x4_ryzxy", n_classes=4)
        return SuperTrainer(model, data, TrainConfig(epochs=3, batch_size=256, warmup_epochs=1, seed=0),
                            out, sampler=Sampler(sc, k=k, largest_every=3, seed=0), progress=False,
                            on_epoch=on_epoch)

    whole = trainer(tmp_path / "a")
    whole.fit()

    def kill(history):
        if len(history) == 1:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        trainer(tmp_path / "b", on_epoch=kill).fit()
    resumed = trainer(tmp_path / "b")
    resumed.fit(resume=True)
    assert torch.equal(resumed.model.supercircuit.weights, whole.model.supercircuit.weights)
    assert (resumed.sampler.previous, resumed.sampler.step) == (whole.sampler.previous, whole.sampler.step)
    with pytest.raises(ValueError, match="different run.*k: 2 there, 3 here"):
        trainer(tmp_path / "b", k=3).fit(resume=True)


# --- co-search -------------------------------------------------------------------------------

def _evolution(out=None, executor=None, on_iteration=None, seed=0, **overrides):
    sc = SuperCircuit("u3cu3", 4, 2, seed=0)
    config = SearchConfig(**{**TINY, **overrides, "seed": seed})
    return Evolution(sc, _SCORER[0], "4x4_ryzxy", config, out, executor=executor, progress=False,
                     on_iteration=on_iteration)


_SCORER = []


@pytest.fixture(autouse=True)
def _share_scorer(scorer):
    _SCORER[:] = [scorer]


def test_mappings_are_checked_and_repaired():
    assert check_mapping((4, 0, 2), 3, 5) == (4, 0, 2)
    with pytest.raises(ValueError, match="two wires on one physical qubit"):
        check_mapping((1, 1, 2), 3, 5)
    with pytest.raises(ValueError, match=r"not in range\(5\)"):
        check_mapping((1, 5, 2), 3, 5)
    assert repair_mapping((2, 2, 9), 4) == (2, 0, 1)
    fixed = repair_mapping((2, 2, 9), 4, random.Random(0))
    assert len(set(fixed)) == 3 and fixed[0] == 2
    with pytest.raises(ValueError, match="do not fit"):
        repair_mapping((0, 1, 2), 2)


def test_search_finds_cached_legal_candidates():
    evo = _evolution()
    result = evo.run()
    sc = evo.sc
    assert sc.check(result["gene"]) and check_mapping(result["mapping"], 4, 5)
    best = [h["best_loss"] for h in result["history"]]
    assert best == sorted(best, reverse=True)  # the parents survive: the best never worsens
    assert result["loss"] == evo.cache[evo.key(result["gene"], result["mapping"])]
    assert sum(h["new_evaluations"] for h in result["history"]) == result["evaluations"]
    # the cache is keyed by the active part: inactive positions do not matter
    gene = list(result["gene"])
    gene[-1] = 1
    other = list(gene)
    other[2] = 1 if gene[2] != 1 else 2  # a position of block 1, inactive with one block
    assert evo.key(tuple(gene), (0, 1, 2, 3)) == evo.key(tuple(other), (0, 1, 2, 3))


def test_killed_search_resumes_to_the_same_result(tmp_path):
    whole = _evolution(tmp_path / "a").run()

    def kill(entry):
        if entry["iteration"] == 2:
            raise RuntimeError("killed")
    with pytest.raises(RuntimeError, match="killed"):
        _evolution(tmp_path / "b", on_iteration=kill).run()
    saved = json.loads((tmp_path / "b" / "search.json").read_text())
    assert saved["iteration"] == 2 and len(saved["population"]) == TINY["population"]
    resumed = _evolution(tmp_path / "b").run(resume=True)
    for key in ("gene", "mapping", "loss", "evaluations"):
        assert resumed[key] == whole[key], key
    assert resumed["history"] == whole["history"]
    with pytest.raises(ValueError, match="different search.*seed: 0 there, 1 here"):
        _evolution(tmp_path / "b", seed=1).run(resume=True)
    with pytest.raises(ValueError, match="no search checkpoint"):
        _evolution(tmp_path / "c").run(resume=True)


def test_dask_cluster_and_process_pool_give_the_same_search():
    pytest.importorskip("distributed")
    with make_executor("process", 2) as pool:
        local = _evolution(executor=pool, iterations=2).run()
    with make_executor("dask-local", 2, processes=False) as client:
        dask = _evolution(executor=client, iterations=2).run()
    assert (dask["gene"], dask["mapping"], dask["loss"]) == (local["gene"], local["mapping"], local["loss"])
    assert dask["history"] == local["history"]


def test_executor_errors_are_clear():
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with make_executor("dask://127.0.0.1:9", timeout=1):
            pass
    with pytest.raises(ValueError, match="unknown executor 'mpi'"):
        with make_executor("mpi"):
            pass


def test_scorer_registry_and_contract(data, scorer):
    assert get_scorer_factory("noise-free") is noise_free_scorer
    assert get_scorer_factory("qml.nas.search:noise_free_scorer") is noise_free_scorer
    with pytest.raises(ValueError, match="unknown scorer 'aer'; known scorers: noise-free"):
        get_scorer_factory("aer")
    with pytest.raises(ValueError, match="cannot load scorer factory"):
        get_scorer_factory("qml.nas.search:nothing")
    with pytest.raises(ValueError, match="takes no options"):
        noise_free_scorer(data, encoder="4x4_ryzxy", shots="100")
    sc = SuperCircuit("u3cu3", 4, 2, seed=0)
    evo = Evolution(sc, scorer, "4x4_ryzxy", SearchConfig(**TINY), progress=False)
    gene = sc.largest
    circuit, params = evo.circuit(gene), sc.param_dict(sc.subcircuit(gene))
    model = SubCircuitQNN(sc, "4x4_ryzxy", n_classes=4)
    expected = torch.nn.functional.nll_loss(model(scorer.features), scorer.labels).item()
    assert scorer(circuit.to_json(), params, (0, 1, 2, 3)) == pytest.approx(expected, abs=1e-5)
    assert scorer(circuit, params, (4, 3, 2, 1)) == scorer(circuit.to_json(), params, (0, 1, 2, 3))


# --- pruning ---------------------------------------------------------------------------------

def test_prune_schedule_mask_and_export():
    s = PruneSchedule(0.5, 10)
    ratios = [s(e) for e in range(1, 11)]
    assert ratios == sorted(ratios) and ratios[-1] == 0.5 and ratios[0] == pytest.approx(0.5 * (1 - 0.9 ** 3))
    theta = torch.tensor([6.2, 0.3, -3.1, 1.0, 3.2])  # wrapped: -0.08, 0.3, -3.1, 1.0, -3.08
    assert magnitude_mask(theta, 0.4).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert torch.allclose(wrap(theta), torch.tensor([6.2 - 2 * math.pi, 0.3, -3.1, 1.0, 3.2 - 2 * math.pi]))
    from qml import Circuit
    c = Circuit(2).u3(0, "a", "b", "c").cu3(0, 1, "d", "e", "f").ry(1, "g").cx(1, 0)
    out = export_pruned(c, {n: 0.7 for n in c.parameters}, {"a", "b", "c", "d", "g"})
    assert [op.name for op in out.ops] == ["cu3", "cx"] and out.ops[0].params == (0.0, 0.7, 0.7)


def test_pruning_reaches_the_target_and_the_export_computes_the_same(data, tmp_path):
    from qml import expval_z, simulate
    qnn = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1), n_classes=4, seed=0)
    model = PrunedQNN(qnn)
    result = PruneTrainer(model, data, 0.5, TrainConfig(epochs=3, batch_size=128, seed=0), tmp_path,
                          progress=False).fit()
    assert [h["pruned"] for h in result["history"]] == [8, 12, 12]  # 24 angles: 0.35, 0.48, 0.5
    assert model.n_pruned == 12 and torch.all(model.effective()[model.mask == 0] == 0)
    ansatz = model.ansatz()
    assert len(ansatz.parameters) == 12 and len(ansatz.gates) <= 8
    x = data.x_test[:8]
    bound = export_pruned(qnn.ansatz, model.param_dict(), model.pruned_names())
    z = expval_z(simulate(qnn.encoder.circuit(4) + bound, None, x))
    assert torch.allclose(torch.log_softmax(qnn.readout(z), 1), model(x), atol=1e-5)


def test_spearman():
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


# --- the command -----------------------------------------------------------------------------

def test_nas_command_runs_the_pipeline_and_resumes(tmp_path):
    from benchmarks.cli import main
    out, record = tmp_path / "run", tmp_path / "nas.json"
    argv = ["nas", "--task", "digits4", "--space", "zzry", "--super-blocks", "2", "--super-epochs", "2",
            "--search-iters", "2", "--population", "4", "--parents", "2", "--mutants", "1",
            "--crossovers", "1", "--epochs", "2", "--finetune-epochs", "2", "--prune", "0.25",
            "--n-valid", "30", "--device-qubits", "5", "--executor", "serial", "--no-progress",
            "--out", str(out), "--json", str(record)]
    assert main(argv) == 0
    rows = json.loads(record.read_text())["rows"]
    assert [r["model"] for r in rows] == ["human", "random", "search", "search + pruning 0.25"]
    assert rows[3]["params"] < rows[2]["params"] and (out / "search.png").exists()
    saved = json.loads((out / "run.json").read_text())
    assert len(saved["search"]["history"]) == 2 and set(saved["trained"]) == {"human", "random", "search"}
    assert main(argv) == 2  # the run is there: refused without --resume
    assert main(argv + ["--resume"]) == 0
    assert json.loads(record.read_text())["rows"] == rows


def test_nas_command_on_a_device_adds_the_noise_unaware_search_and_device_accuracy(tmp_path):
    from benchmarks.cli import main
    record = tmp_path / "nas.json"
    argv = ["nas", "--task", "digits4", "--space", "zzry", "--super-blocks", "2", "--super-epochs", "1",
            "--search-iters", "1", "--population", "3", "--parents", "2", "--mutants", "1",
            "--crossovers", "0", "--epochs", "1", "--finetune-epochs", "1", "--n-valid", "10",
            "--device", "santiago", "--executor", "serial", "--no-progress",
            "--out", str(tmp_path / "run"), "--json", str(record)]
    assert main(argv) == 0
    rows = json.loads(record.read_text())["rows"]
    assert [r["model"] for r in rows] == ["human", "random", "noise-unaware", "search", "search + pruning 0.1"]
    assert all(0 <= r["device_acc"] <= 1 for r in rows)
    assert rows[2]["mapping"] == "0 1 2 3"          # noise-unaware: the trivial mapping
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    assert saved["config"]["scorer"] == "density" and "unaware" in saved


@pytest.mark.parametrize("extra, match", [
    (["--scorer", "density"], "--scorer density scores under a device's noise: add --device NAME"),
    (["--compare-scorers", "3"], "--compare-scorers compares scorers under a device's noise"),
    (["--device", "santiago", "--device-qubits", "7"], "--device-qubits 7: santiago has 5 qubits"),
    (["--device", "atlantis"], "unknown device 'atlantis'"),
])
def test_nas_command_names_bad_device_options(tmp_path, capsys, extra, match):
    from benchmarks.cli import main
    assert main(["nas", "--task", "digits4", "--out", str(tmp_path / "run"), "--no-progress", *extra]) == 2
    assert match in capsys.readouterr().err
