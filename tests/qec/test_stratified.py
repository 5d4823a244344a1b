"""Stratified logical error rates against direct sampling of the same circuits (stim's own sampler)."""

import math

import numpy as np
import pytest

from qec.codes import hot_qubits, surface_code
from qec.decoders.mwpm import MWPMDecoder
from qec.decoders.uf import UnionFindDecoder
from qec.evaluate import logical_error_rates, wilson_interval
from qec.stratified import binomial_pmf, fault_effects, stratified_logical_error_rates


def both(circuit):
    return {"mwpm": MWPMDecoder.from_circuit(circuit), "uf": UnionFindDecoder.from_circuit(circuit)}


def test_enumerated_rate_is_inside_direct_sampling_interval():
    """d=3 code capacity at p=0.1: all 4^9 fault patterns are enumerated, so the rate is exact;
    2e5 sampled shots must agree within their 95% interval."""
    circuit = surface_code(3, 0.1, noise="code-capacity")
    exact = stratified_logical_error_rates(circuit, both(circuit))
    sampled = logical_error_rates(circuit, both(circuit), shots=200_000, seed=5)
    for name, r in exact.items():
        assert r.exhaustive and r.ci_high - r.ci_low < 1e-9
        lo, hi = wilson_interval(sampled[name].errors, sampled[name].shots)
        assert lo <= r.ler <= hi, (name, r.ler, lo, hi)


@pytest.mark.parametrize("noise, distance, p, basis", [("code-capacity", 5, 0.05, "zx"),
                                                       ("phenomenological", 3, 0.02, "z")])
def test_sampled_strata_agree_with_direct_sampling(noise, distance, p, basis):
    """Sampled strata (d=5 code capacity, both observables; phenomenological: data depolarizing and
    measurement flips at one rate): the intervals of the two estimates overlap."""
    circuit = surface_code(distance, p, noise=noise, basis=basis)
    strat = stratified_logical_error_rates(circuit, both(circuit), samples=20_000, seed=1)
    sampled = logical_error_rates(circuit, both(circuit), shots=200_000, seed=2)
    for name, r in strat.items():
        assert not r.exhaustive and r.ci_low < r.ler < r.ci_high
        lo, hi = wilson_interval(sampled[name].errors, sampled[name].shots)
        assert r.ci_low <= hi and lo <= r.ci_high, (name, r, lo, hi)


def test_fault_effects_are_single_pauli_syndromes():
    p, effects, kinds = fault_effects(surface_code(3, 0.05, noise="code-capacity-bitflip"))
    assert p == 0.05 and effects.shape[:2] == (9, 3) and (kinds == 1).all()
    dets = effects[:, 0, :-1]
    assert (dets.sum(axis=1) >= 1).all() and not effects[:, 1:].any()  # every X flip is seen; no other Pauli


def test_rates_reach_far_below_one_over_shots():
    """d=7, p=0.001: about 1e-9 per shot, out of direct sampling's reach; UF within 1.3x of MWPM."""
    circuit = surface_code(7, 0.001, noise="code-capacity", basis="zx")
    r = stratified_logical_error_rates(circuit, both(circuit), samples=20_000)
    assert 1e-10 < r["mwpm"].ler < 1e-8
    assert r["mwpm"].ler <= r["uf"].ler <= 1.3 * r["mwpm"].ler


def test_bad_circuits_are_named():
    with pytest.raises(ValueError, match="DEPOLARIZE2"):
        fault_effects(surface_code(3, 0.001))
    with pytest.raises(ValueError, match="one rate"):
        fault_effects(hot_qubits(3, 0.01, noise="code-capacity", seed=0))
    with pytest.raises(ValueError, match="samples"):
        stratified_logical_error_rates(surface_code(3, 0.01, noise="code-capacity"), {}, samples=0)
    with pytest.raises(ValueError, match="no noise locations"):
        fault_effects(surface_code(3, 0.0, noise="code-capacity"))


def test_binomial_weights_hold_for_many_locations():
    """Phenomenological d=9 has 1530 noise locations; math.comb(1530, 765) overflows a float."""
    exact = [math.comb(30, w) * 0.1 ** w * 0.9 ** (30 - w) for w in range(31)]
    assert np.allclose(binomial_pmf(30, 0.1), exact, rtol=1e-9, atol=0)
    big = binomial_pmf(1530, 0.3)
    assert abs(big.sum() - 1) < 1e-9 and big.argmax() == 459
