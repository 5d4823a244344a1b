"""Device-aware QuantumNAS scorers (noise.scorers): exact density mode, Aer cross-check, options."""

import pytest
import torch

from qml.data import load_task
from qml.layers import get_encoder
from qml.nas import SuperCircuit
from qml.nas.search import Evolution, SearchConfig, make_executor, score_candidate

from noise.program import density_expectations
from noise.scorers import aer_scorer, density_scorer

ENCODER = "4x4_ryzxy"


@pytest.fixture(scope="module")
def data():
    return load_task("digits4")


@pytest.fixture(scope="module")
def candidate():
    sc = SuperCircuit("u3cu3", 4, 2, seed=0)
    sub = sc.subcircuit(sc.largest)
    return get_encoder(ENCODER, 4).circuit(4) + sub, sc.param_dict(sub)


def test_density_scorer_is_the_noisy_nll_with_the_mapping(data, candidate):
    circuit, params = candidate
    scorer = density_scorer(data, encoder=ENCODER, n_valid=30, device="santiago", n_physical=5)
    # the angles are bound before transpiling, as a device runs them
    z = density_expectations(circuit.bind(params), scorer.device, None, scorer.features, mapping=(4, 3, 2, 1))
    expected = torch.nn.functional.nll_loss(torch.log_softmax(z.float(), 1), scorer.labels).item()
    assert scorer(circuit.to_json(), params, (4, 3, 2, 1)) == pytest.approx(expected, abs=1e-5)
    # on santiago's line, the u3cu3 ring needs SWAPs on a scattered mapping: more noise
    assert scorer(circuit, params, (0, 1, 2, 3)) < scorer(circuit, params, (0, 2, 4, 1))
    loss, acc = scorer.evaluate(circuit, params, (0, 1, 2, 3))
    assert loss == scorer(circuit, params, (0, 1, 2, 3)) and 0 <= acc <= 1
    with make_executor("process", 1) as pool:      # sent to a worker, the device as its JSON
        remote = pool.submit(score_candidate, scorer, circuit.to_json(), params, (0, 1, 2, 3)).result()
    assert remote == pytest.approx(loss, abs=1e-6)
    assert scorer.identity["device"] == "santiago" and scorer.identity["scorer"] == "density"


def test_aer_scorer_agrees_with_the_exact_one_within_shot_noise(data, candidate):
    circuit, params = candidate
    exact = density_scorer(data, encoder=ENCODER, n_valid=8, device="santiago")
    shots = aer_scorer(data, encoder=ENCODER, n_valid=8, device="santiago", shots="4000")
    assert shots.identity["shots"] == 4000
    for mapping in [(0, 1, 2, 3), (1, 2, 3, 4)]:
        # <Z> from 4000 shots: standard error <= 0.016 per wire; the NLL moves by less than that
        assert shots(circuit, params, mapping) == pytest.approx(exact(circuit, params, mapping), abs=0.02)


def test_a_search_under_noise_runs_and_stays_on_the_device(data):
    sc = SuperCircuit("u3cu3", 4, 2, seed=0)
    scorer = density_scorer(data, encoder=ENCODER, n_valid=10, device="santiago", noise_scale="2")
    assert scorer.device.name == "santiago*2"
    config = SearchConfig(population=4, parents=2, mutants=1, crossovers=1, iterations=2, n_physical=5, seed=0)
    result = Evolution(sc, scorer, ENCODER, config, progress=False).run()
    assert len(set(result["mapping"])) == 4 and max(result["mapping"]) < 5


@pytest.mark.parametrize("options, match", [
    ({}, "a device scorer needs the device"),
    ({"device": "nowhere"}, "unknown device 'nowhere'"),
    ({"device": "santiago", "shots": "many"}, "shots must be a number"),
    ({"device": "santiago", "shots": "0"}, "shots must be positive"),
    ({"device": "santiago", "noise_scale": "-1"}, "noise_scale must be >= 0"),
    ({"device": "santiago", "colour": "red"}, r"does not know the option\(s\) \['colour'\]"),
    ({"device": "santiago", "n_physical": 7}, "maps onto 7 physical qubits but santiago has 5"),
])
def test_bad_options_are_named(data, options, match):
    with pytest.raises(ValueError, match=match):
        aer_scorer(data, encoder=ENCODER, n_valid=4, **options)


def test_density_scorer_takes_no_shots(data):
    with pytest.raises(ValueError, match=r"density scorer does not know the option\(s\) \['shots'\]"):
        density_scorer(data, encoder=ENCODER, n_valid=4, device="santiago", shots="100")
