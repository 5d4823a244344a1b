"""Surface-code circuits and noise scenarios."""

import numpy as np
import pytest
import stim

from qec.codes import (check_circuit, correlated, drifted, hot_qubits, noisy_surface_code, qubits, spread,
                       surface_code)
from qec.graph import DecodingGraph


def rates(circuit, name):
    """(qubit(s), rate) of every ``name`` instruction's targets."""
    out = []
    for inst in circuit.flattened():
        if inst.name == name:
            qs = [t.value for t in inst.targets_copy()]
            width = 2 if name == "DEPOLARIZE2" else 1
            out += [(tuple(qs[i:i + width]), inst.gate_args_copy()[0]) for i in range(0, len(qs), width)]
    return out


@pytest.mark.parametrize("basis", ["z", "x"])
@pytest.mark.parametrize("distance", [3, 5])
def test_circuit_noise_is_stims_own(distance, basis):
    p = 0.003
    ours = surface_code(distance, p, basis=basis)
    stims = stim.Circuit.generated(f"surface_code:rotated_memory_{basis}", distance=distance, rounds=distance,
                                   after_clifford_depolarization=p, after_reset_flip_probability=p,
                                   before_measure_flip_probability=p, before_round_data_depolarization=p)
    assert ours == stims.flattened()


def test_noise_models_switch_the_right_channels():
    cc = surface_code(5, 0.05, noise="code-capacity")
    assert {i.name for i in cc.flattened() if i.name in ("DEPOLARIZE1", "DEPOLARIZE2", "X_ERROR")} == {"DEPOLARIZE1"}
    bf = surface_code(5, 0.05, noise="code-capacity-bitflip")
    assert rates(bf, "DEPOLARIZE1") == [] and len(rates(bf, "X_ERROR")) == 25
    ph = surface_code(3, 0.01, noise="phenomenological")
    assert rates(ph, "DEPOLARIZE2") == [] and rates(ph, "X_ERROR") and rates(ph, "DEPOLARIZE1")
    assert surface_code(3, 0.01, noise="phenomenological").num_detectors == 24
    assert surface_code(7, 0.05, noise="code-capacity").num_detectors == 48  # one round, two detector layers


def test_noiseless_circuits_never_fire():
    for noise, basis in [("circuit", "z"), ("circuit", "x"), ("code-capacity", "zx")]:
        dets, obs = surface_code(5, 0.0, noise=noise, basis=basis).compile_detector_sampler(seed=0).sample(
            200, separate_observables=True)
        assert not dets.any() and not obs.any()


def test_zx_code_capacity_has_both_observables_and_flips_them():
    c = surface_code(3, 0.1, noise="code-capacity", basis="zx")
    assert c.num_observables == 2
    dem = c.detector_error_model(decompose_errors=True)
    g = DecodingGraph.from_dem(dem)
    assert set(g.obs.tolist()) == {0, 1, 2}  # edges flipping L0 (X errors) and L1 (Z errors)
    # detectors sit where stim's generated circuit puts the measure qubits, in round 0
    coords = c.get_detector_coordinates()
    stim_xy = {tuple(v[:2]) for v in surface_code(3, 0.1, noise="code-capacity").get_detector_coordinates().values()}
    assert all(len(v) == 3 and v[2] == 0 for v in coords.values()) and len(coords) == c.num_detectors
    assert stim_xy <= {tuple(v[:2]) for v in coords.values()}


def test_hot_qubits_are_seeded_and_only_they_are_noisier():
    a, b, c = hot_qubits(5, 0.001, seed=3), hot_qubits(5, 0.001, seed=3), hot_qubits(5, 0.001, seed=4)
    assert a == b and a != c
    hot = {q for qs, r in rates(a, "X_ERROR") for q in qs if np.isclose(r, 0.02)}  # resets: every qubit
    assert len(hot) == round(0.1 * len(qubits(5)))
    for qs, r in rates(a, "DEPOLARIZE2"):
        assert np.isclose(r, 0.02 if set(qs) & hot else 0.001)


def test_spread_drift_correlated():
    s = spread(5, 0.001, sigma=0.5, seed=1)
    per_qubit = {qs[0]: r for qs, r in rates(s, "DEPOLARIZE1")}
    assert len(set(np.round(list(per_qubit.values()), 12))) > 10
    assert 0.5e-3 < np.mean(list(per_qubit.values())) < 2e-3
    d = drifted(3, 0.001, {"measure": 4.0})
    assert {r for _, r in rates(d, "X_ERROR")} == {0.001, 0.004}
    c = correlated(3, 0.002, pair_p=0.005)
    pairs = [qs for qs, r in rates(c, "DEPOLARIZE2") if r == 0.005]
    assert len(pairs) == 3 * 12  # 12 neighbouring data pairs at d=3, every round
    data = {q for q, xy in c.get_final_qubit_coordinates().items() if xy[0] % 2 == 1 and xy[1] % 2 == 1}
    assert all(set(qs) <= data for qs in pairs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(distance=4, p=0.001), "odd"),
    (dict(distance=1, p=0.001), "odd integer >= 3"),
    (dict(distance=3.0, p=0.001), "odd integer"),
    (dict(distance=3, p=-0.1), r"\[0, 0.5\]"),
    (dict(distance=3, p=0.7), r"\[0, 0.5\]"),
    (dict(distance=3, p=0.001, noise="thermal"), "circuit"),
    (dict(distance=3, p=0.001, basis="y"), "choose one of z, x, zx"),
    (dict(distance=3, p=0.001, basis="zx"), "code-capacity"),
    (dict(distance=3, p=0.001, rounds=0), "rounds"),
])
def test_bad_input_names_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        surface_code(**kwargs)


def test_scenario_bad_input():
    with pytest.raises(ValueError, match="fraction"):
        hot_qubits(3, 0.001, fraction=0)
    with pytest.raises(ValueError, match="pair_p"):
        correlated(3, 0.001, pair_p=0.9)
    with pytest.raises(ValueError, match="noise kinds"):
        noisy_surface_code(3, 0.001, kind_scale={"idle": 2.0})


def test_any_circuit_with_detectors_and_observables():
    rep = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=3, before_round_data_depolarization=0.1)
    assert check_circuit(rep) is rep
    with pytest.raises(ValueError, match="detectors and observables"):
        check_circuit(stim.Circuit("H 0\nM 0"))
    from qec.decoders.uf import UnionFindDecoder
    dets, obs = rep.compile_detector_sampler(seed=0).sample(2000, separate_observables=True)
    assert (UnionFindDecoder.from_circuit(rep).decode_batch(dets) != obs).mean() < 0.1
