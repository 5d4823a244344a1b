"""The transformer decoder: layout, positions, masking, training, checkpoints, transfer, contract."""

from __future__ import annotations

import numpy as np
import pytest
import stim
import torch

from qec import codes
from qec.decoders import get_decoder_class
from qec.decoders.transformer import TransformerDecoder
from qec.learned.layout import CodeLayout, observable_representatives, solve_gf2
from qec.learned.model import (LOCAL_REACH, NUM_EDGES, DetectorTransformer, ObservableReadings, bias_buckets,
                               edge_features, far_pairs, fired_detectors, parity_logits, token_geometry)
from qec.learned.sampling import FrameSampler
from qec.learned.train import TrainConfig, load_checkpoint, save_checkpoint, train

TINY = dict(batch_size=64, d_model=16, heads=2, layers=1, progress=False, checkpoint_every=2)
CC = {"distance": 3, "rounds": 1, "basis": "zx", "noise": "code-capacity"}
CIRCUIT = {"distance": 3, "rounds": 3, "basis": "z", "noise": "circuit"}


def cc(distance: int, p: float) -> stim.Circuit:
    """Code capacity with both logical observables (X and Z errors)."""
    return codes.surface_code(distance, p, "code-capacity", basis="zx")


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.mark.parametrize("circuit, dets, data, obs", [
    (cc(3, 0.05), 8, 9, 2), (cc(5, 0.05), 24, 25, 2),
    (codes.surface_code(3, 0.01, "phenomenological"), 24, 9, 1), (codes.surface_code(5, 0.003), 120, 25, 1)])
def test_layout_and_frame_labels(circuit, dets, data, obs):
    layout = CodeLayout.from_circuit(circuit)
    assert (layout.num_detectors, layout.num_data, layout.num_observables) == (dets, data, obs)
    batch = FrameSampler(circuit, layout).sample(512, seed=3)
    assert batch.dets.shape == (512, dets) and batch.errors.shape == (512, 2 * data)
    # the labelled errors explain the observable flips exactly (they are the true frame)
    assert np.array_equal(batch.errors.astype(int) @ layout.err_obs % 2, batch.obs)
    # and the sampler is seeded
    assert np.array_equal(FrameSampler(circuit, layout).sample(512, seed=3).dets, batch.dets)


def test_code_capacity_labels_explain_the_whole_syndrome():
    circuit = cc(5, 0.08)
    layout = CodeLayout.from_circuit(circuit)
    batch = FrameSampler(circuit, layout).sample(256, seed=0)
    assert np.array_equal(batch.errors.astype(int) @ layout.err_dets % 2, batch.dets)
    assert set(layout.det_types.tolist()) == {1, 2}  # Z-type and X-type stabilizers


@pytest.mark.parametrize("distance", [3, 5, 7])
def test_positions_are_relative_to_boundaries(distance):
    layout = CodeLayout.from_circuit(codes.surface_code(distance, 0.01, "phenomenological"))
    positions, edges = token_geometry(layout)
    tokens = layout.num_detectors + layout.num_data
    assert positions.shape == (tokens, 3) and edges.shape == (tokens, 6) and np.isfinite(edges).all()
    assert np.array_equal(positions, np.round(positions))  # half spacings: integers
    # distances to opposite boundaries add up to the code width (in data-qubit spacings)
    data = edges[layout.num_detectors:]
    assert np.allclose(data[:, 0] + data[:, 1], distance - 1)
    assert np.allclose(data[:, 5], 0)  # data-qubit queries sit at the last round
    # every detector has a distinct (position, round)
    assert len(np.unique(positions[:layout.num_detectors], axis=0)) == layout.num_detectors


def test_corner_features_agree_across_distances():
    near = [edge_features(token_geometry(CodeLayout.from_circuit(cc(d, 0.05)))[1]).reshape(-1, NUM_EDGES, 13)
            for d in (3, 5)]  # per edge: 3 closeness features, then 5 sines and 5 cosines
    corners = [a[np.argmax(a[:, 0, 0] + a[:, 2, 0])] for a in near]  # closest to x-min and y-min
    assert np.allclose(corners[0][[0, 2, 4, 5]], corners[1][[0, 2, 4, 5]])
    assert np.all(corners[1][[1, 3], :3] < corners[0][[1, 3], :3])  # the far boundaries are farther at d=5


def test_attention_bias_is_translation_invariant_and_knows_the_logical_support():
    layout = CodeLayout.from_circuit(codes.surface_code(5, 0.01, "phenomenological"))
    positions, _ = token_geometry(layout)
    buckets = bias_buckets(layout, positions)
    d, n = layout.num_detectors, layout.num_data
    pairs = {}
    for i in range(d):
        for j in range(d):
            delta = tuple(positions[j] - positions[i])
            pairs.setdefault(delta, set()).add(buckets[i, j])
    assert all(len(b) == 1 for delta, b in pairs.items() if max(map(abs, delta[:2])) <= 6 and abs(delta[2]) <= 3)
    support = layout.err_obs[:n, 0] | layout.err_obs[n:, 0]
    obs_row = buckets[d + n, d:d + n]
    assert len(set(obs_row[support == 1])) == 1 and len(set(obs_row[support == 0])) == 1
    assert obs_row[support == 1][0] != obs_row[support == 0][0]


def test_parity_logits_match_enumeration():
    """P(odd number of independent errors in a support) against summing over all 2**5 outcomes."""
    import itertools
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 5, generator=gen, dtype=torch.float64) * 3
    support = torch.tensor([[True, False, True, True, False], [False, True, False, False, False]])
    p = torch.sigmoid(logits)
    want = torch.zeros(4, 2, dtype=torch.float64)
    for bits in itertools.product((0, 1), repeat=5):
        b = torch.tensor(bits, dtype=torch.float64)
        prob = torch.prod(torch.where(b.bool(), p, 1 - p), dim=1)
        odd = (support.double() @ b) % 2
        want += prob[:, None] * odd[None, :]
    assert torch.allclose(torch.sigmoid(parity_logits(logits, support)), want, atol=1e-9)


def test_fired_detectors_and_padding_mask():
    idx, pad = fired_detectors(torch.tensor([[0, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 0]]))
    assert idx.shape == (3, 3)
    assert pad.tolist() == [[False, False, True], [True, True, True], [False, False, False]]
    assert idx[0, :2].tolist() == [1, 3] and idx[2].tolist() == [0, 1, 2]


def test_padding_does_not_change_a_shot():
    layout = CodeLayout.from_circuit(codes.surface_code(3, 0.01, "phenomenological"))
    model = DetectorTransformer(d_model=16, heads=2, layers=2).eval()
    model.bind(layout)
    dets = torch.as_tensor(FrameSampler(codes.surface_code(3, 0.03, "phenomenological")).sample(64, 1).dets)
    counts = dets.sum(1)
    few = int(torch.argmin(counts))
    with torch.no_grad():
        alone = model(dets[few:few + 1])
        batched = model(dets)
    assert counts.max() > counts[few]  # the batch really pads this shot
    assert torch.allclose(alone[0][0], batched[0][few], atol=1e-5)
    assert torch.allclose(alone[1][0], batched[1][few], atol=1e-5)
    model.train()  # and training mode computes the same (no inference-only fast path)
    assert torch.allclose(model(dets)[0], batched[0], atol=1e-5)


def test_local_attention_sees_only_the_neighbourhood():
    layout = CodeLayout.from_circuit(cc(7, 0.05))
    positions, _ = token_geometry(layout)
    far = far_pairs(positions, layout.num_observables)
    d, n = layout.num_detectors, layout.num_data
    apart = np.abs(positions[:, None, :2] - positions[None, :, :2]).max(axis=2) > LOCAL_REACH
    assert np.array_equal(far[:d + n, :d + n], apart)
    assert far[:d + n, d + n:].all() and not far[d + n:].any()  # observables read everything, nothing reads them
    # one layer: a data qubit's error logits ignore a detector beyond the reach, unless attention is global
    first, last = int(np.argmin(positions[:d, 0])), int(np.argmax(positions[:d, 0]))
    one = torch.zeros(2, d, dtype=torch.uint8)
    one[:, first] = 1
    one[1, last] = 1
    untouched = torch.as_tensor(apart[d:, last])
    for local in (True, False):
        torch.manual_seed(0)
        model = DetectorTransformer(d_model=16, heads=2, layers=1, local_attention=local).eval()
        model.bind(layout)
        with torch.no_grad():
            err = model(one)[1].view(2, 2, n)
        same = torch.isclose(err[0], err[1], atol=1e-6).all(dim=0)
        assert same[untouched].all() == local and not same[~untouched].all()


def test_solve_gf2_against_brute_force():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, (5, 8))
    b = rng.integers(0, 2, (40, 8))
    b[:10] = rng.integers(0, 2, (10, 5)) @ a % 2  # surely solvable
    ok, x = solve_gf2(a, b)
    combos = np.array(np.meshgrid(*[[0, 1]] * 5)).reshape(5, -1).T @ a % 2
    reachable = (b[:, None, :] == combos[None]).all(axis=2).any(axis=1)
    assert np.array_equal(ok, reachable) and ok[:10].all() and not ok.all()
    assert np.array_equal(x[ok].astype(int) @ a % 2, b[ok])


@pytest.mark.parametrize("circuit, readings", [
    (cc(5, 0.05), [5, 5]), (cc(7, 0.05), [7, 7]), (codes.surface_code(5, 0.003), [5]),
    (codes.surface_code(3, 0.01, "phenomenological", basis="x"), [3])])
def test_observable_readings_agree_with_the_observable(circuit, readings):
    """Every reading of an observable gives its flip for any data-qubit errors, and so does the model's readout."""
    layout = CodeLayout.from_circuit(circuit)
    observable, supports, detectors = observable_representatives(layout)
    assert np.bincount(observable).tolist() == readings
    errors = np.random.default_rng(1).integers(0, 2, (300, 2 * layout.num_data))
    syndrome, flips = errors @ layout.err_dets % 2, errors @ layout.err_obs % 2
    assert np.array_equal((errors @ supports.T + syndrome @ detectors.T) % 2, flips[:, observable])
    # confident error logits: every reading agrees, so their mean has the observable's sign
    logits = torch.as_tensor(np.where(errors, 20.0, -20.0), dtype=torch.float32)
    read = ObservableReadings(layout)(logits, torch.as_tensor(syndrome))
    assert torch.equal(read > 0, torch.as_tensor(flips, dtype=torch.bool)) and (read.abs() > 5).all()


@pytest.mark.parametrize("distance", [3, 5])
def test_model_shapes(distance):
    circuit = codes.surface_code(distance, 0.003)
    model = DetectorTransformer(d_model=16, heads=2, layers=1)
    model.bind(CodeLayout.from_circuit(circuit))
    obs, err = model(torch.zeros(4, circuit.num_detectors, dtype=torch.uint8))
    assert obs.shape == (4, 1) and err.shape == (4, 2 * distance ** 2)


def test_training_learns_and_beats_the_trivial_decoder():
    circuit = cc(3, 0.08)
    cfg = TrainConfig(steps=400, batch_size=128, d_model=32, heads=4, layers=2, lr=2e-3, warmup=20,
                      progress=False, seed=1)
    state = train([circuit], CC, cfg)
    decoder = TransformerDecoder.from_circuit(circuit, checkpoint=state.to_checkpoint())
    dets, obs = circuit.compile_detector_sampler(seed=5).sample(4000, separate_observables=True)
    ler = (decoder.decode_batch(dets) != obs).any(axis=1).mean()
    trivial = obs.any(axis=1).mean()  # "never a logical flip"
    assert ler < 0.6 * trivial, (ler, trivial)
    assert state.history[-1]["loss"] < state.history[0]["loss"]


def test_checkpoint_round_trip_and_exact_resume(tmp_path):
    circuit = cc(3, 0.05)
    path = tmp_path / "ckpt.pt"
    full = train([circuit], CC, TrainConfig(steps=6, **TINY))
    train([circuit], CC, TrainConfig(steps=3, **TINY), checkpoint=str(path))
    assert load_checkpoint(path)["step"] == 3
    resumed = train([circuit], CC, TrainConfig(steps=6, **TINY), checkpoint=str(path), resume=True)
    assert resumed.step == 6
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6)
    ckpt = load_checkpoint(path)  # weights_only load of what resume saved
    assert ckpt["code"] == CC and ckpt["step"] == 6
    dets = np.random.default_rng(0).random((50, 8)) < 0.2
    assert np.array_equal(TransformerDecoder.from_circuit(circuit, checkpoint=path).decode_batch(dets),
                          TransformerDecoder.from_circuit(circuit, checkpoint=ckpt).decode_batch(dets))
    assert not list(tmp_path.glob(".*.tmp*"))  # no temporary left behind


def test_transfer_initialises_a_larger_code(tmp_path):
    path = tmp_path / "d3.pt"
    small = train([cc(3, 0.05)], CC, TrainConfig(steps=2, **TINY), checkpoint=str(path))
    big_code = {**CC, "distance": 5}
    cfg = TrainConfig(steps=0, **{**TINY, "d_model": 64})  # the source's size wins
    big = train([cc(5, 0.05)], big_code, cfg, init_from=str(path))
    assert big.model.config == small.model.config and big.step == 0 and big.init_from == str(path)
    for a, b in zip(small.model.state_dict().values(), big.model.state_dict().values()):
        assert torch.equal(a, b)
    assert big.model.layout.num_detectors == 24
    local = tmp_path / "local.pt"
    train([cc(3, 0.05)], CC, TrainConfig(steps=1, local_attention=True, line_readout=True, **TINY),
          checkpoint=str(local))
    config = train([cc(5, 0.05)], big_code, TrainConfig(steps=0, **TINY), init_from=str(local)).model.config
    assert config["local_attention"] and config["line_readout"]  # the source's architecture wins


def test_bad_inputs_name_the_problem(tmp_path):
    path = tmp_path / "d3.pt"
    train([cc(3, 0.05)], CC, TrainConfig(steps=2, **TINY), checkpoint=str(path))
    decoder = TransformerDecoder.from_circuit(cc(3, 0.05), checkpoint=path)
    with pytest.raises(ValueError, match=r"shape \(shots, 8\)"):
        decoder.decode_batch(np.zeros((2, 9), dtype=bool))
    with pytest.raises(ValueError, match="dtype float64"):
        decoder.decode_batch(np.zeros((2, 8)))
    with pytest.raises(ValueError, match="trained for another code.*24 detectors"):
        TransformerDecoder.from_circuit(cc(5, 0.05), checkpoint=path)
    with pytest.raises(ValueError, match="trained for another code.*distance=5 instead of 3"):
        train([cc(3, 0.05)], {**CC, "distance": 5}, TrainConfig(steps=3, **TINY),
              checkpoint=str(path), resume=True)
    with pytest.raises(ValueError, match="needs checkpoint=PATH"):
        TransformerDecoder.from_circuit(cc(3, 0.05))
    with pytest.raises(ValueError, match="unknown mode"):
        TransformerDecoder.from_circuit(cc(3, 0.05), checkpoint=path, mode="beam")
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt is not a transformer-decoder checkpoint"):
        TransformerDecoder.from_circuit(cc(3, 0.05), checkpoint=tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="no checkpoint"):
        train([cc(3, 0.05)], CC, TrainConfig(steps=3, **TINY),
              checkpoint=str(tmp_path / "none.pt"), resume=True)


def test_hybrid_mode_with_true_errors_is_exact(monkeypatch):
    circuit = cc(5, 0.08)
    layout = CodeLayout.from_circuit(circuit)
    state = train([circuit], {**CC, "distance": 5}, TrainConfig(steps=1, **TINY))
    decoder = TransformerDecoder.from_circuit(circuit, checkpoint=state.to_checkpoint(), mode="hybrid")
    batch = FrameSampler(circuit, layout).sample(300, seed=2)
    monkeypatch.setattr(decoder, "predict", lambda d: (None, batch.errors.astype(np.float32)))
    assert np.array_equal(decoder.decode_batch(batch.dets), batch.obs.astype(bool))
    # with no predicted errors the hybrid decoder is MWPM itself
    monkeypatch.setattr(decoder, "predict", lambda d: (None, np.zeros_like(batch.errors, dtype=np.float32)))
    assert np.array_equal(decoder.decode_batch(batch.dets), decoder.matching.decode_batch(batch.dets).astype(bool))


def test_matching_prior_model_follows_mwpm_when_the_prior_dominates(tmp_path):
    circuit = codes.surface_code(3, 0.005)
    path = tmp_path / "pure.pt"
    pure = train([circuit], CIRCUIT, TrainConfig(steps=2, **TINY), checkpoint=str(path))
    state = train([circuit], CIRCUIT, TrainConfig(steps=2, matching_prior=True, **TINY), init_from=str(path))
    assert state.model.matching_prior and state.to_checkpoint()["model_config"]["matching_prior"]
    trained_pure = pure.model.state_dict()
    assert set(state.model.state_dict()) - set(trained_pure) == {"prior_emb.weight", "prior_weight"}
    with torch.no_grad():
        state.model.prior_weight.fill_(1e3)
    decoder = TransformerDecoder.from_circuit(circuit, checkpoint=state.to_checkpoint())
    dets, _ = circuit.compile_detector_sampler(seed=4).sample(3000, separate_observables=True)
    assert np.array_equal(decoder.decode_batch(dets), decoder.matching.decode_batch(dets).astype(bool))
    dets = torch.zeros(2, circuit.num_detectors, dtype=torch.long)
    with pytest.raises(ValueError, match="needs prior="):
        state.model(dets)
    with pytest.raises(ValueError, match="needs prior="):
        pure.model(dets, torch.zeros(2, 1, dtype=torch.long))


def test_registry_and_sinter_contract(tmp_path):
    path = tmp_path / "d3.pt"
    circuit = cc(3, 0.05)
    train([circuit], CC, TrainConfig(steps=2, **TINY), checkpoint=str(path))
    cls = get_decoder_class("transformer")
    assert cls is TransformerDecoder
    dem = circuit.detector_error_model(decompose_errors=True)
    dets, _ = circuit.compile_detector_sampler(seed=1).sample(100, separate_observables=True)
    direct = cls(dem, checkpoint=str(path)).decode_batch(dets)
    assert direct.dtype == bool and direct.shape == (100, 2)
    compiled = cls.sinter(checkpoint=str(path)).compile_decoder_for_dem(dem=dem)
    packed = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=np.packbits(dets, axis=1,
                                                                                           bitorder="little"))
    assert np.array_equal(np.unpackbits(packed, axis=1, count=2, bitorder="little").astype(bool), direct)


def test_cli_trains_resumes_transfers_and_reports(tmp_path):
    import argparse
    from benchmarks import qec_train

    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--seed", type=int, default=0)
    qec_train.add_arguments(parser)
    common = ["--out", str(tmp_path), "--d-model", "16", "--heads", "2", "--layers", "1", "--batch-size", "32",
              "--eval-shots", "300", "--no-progress"]
    report = qec_train.run(parser.parse_args(common + ["--steps", "2", "--p", "0.05", "0.08"]))
    assert {r["decoder"] for r in report.rows} == {"transformer", "transformer-hybrid", "mwpm", "mwpm-corr"}
    assert len(report.rows) == 8 and all(0 <= r["ci_low"] <= r["ler"] <= r["ci_high"] for r in report.rows)
    report = qec_train.run(parser.parse_args(common + ["--steps", "4", "--p", "0.05", "0.08", "--resume"]))
    assert report.rows[0]["train_steps"] == 4
    d3 = tmp_path / "transformer_code-capacity-zx_d3.pt"
    report = qec_train.run(parser.parse_args(common + ["--steps", "1", "--distance", "5", "--init-from", str(d3)]))
    assert report.config["init_from"] == str(d3)
    report = qec_train.run(parser.parse_args(common + ["--steps", "1", "--matching-prior", "--local-attention",
                                                       "--line-readout", "--checkpoint", str(tmp_path / "mp.pt")]))
    config = load_checkpoint(tmp_path / "mp.pt")["model_config"]
    assert config["local_attention"] and config["line_readout"]
    assert {r["decoder"] for r in report.rows} == {"transformer+mwpm", "transformer+mwpm-hybrid", "mwpm", "mwpm-corr"}
    with pytest.raises(ValueError, match="code-capacity noise only"):
        qec_train.run(parser.parse_args(common + ["--rounds", "3"]))
