"""noise.devices: names, backends and calibration dicts -> Device; its noise model equals aer's."""

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from noise.devices import DEFAULT_1Q_DURATION, DEFAULT_2Q_DURATION, Device

PAPER_DEVICES = ["yorktown", "santiago", "belem", "athens", "quito", "lima", "manila", "jakarta", "lagos",
                 "casablanca", "rome", "bogota", "melbourne", "guadalupe", "toronto", "montreal", "mumbai"]


def small_props(n=3, **overrides):
    qubit = {q: {"T1": 100.0 + q, "T2": 80.0, "prob_meas0_prep1": 0.02, "prob_meas1_prep0": 0.01}
             for q in range(n)}
    gate = {q: {"sx": 3e-4, "x": 3e-4, "id": 3e-4} for q in range(n)}
    for a in range(n - 1):
        gate[(a, a + 1)] = {"cx": 1e-2}
        gate[f"{a + 1},{a}"] = {"cx": 1.1e-2}
    props = {"qubit": qubit, "gate": gate}
    props.update(overrides)
    return props


def line(n=3):
    return [(a, a + 1) for a in range(n - 1)] + [(a + 1, a) for a in range(n - 1)]


def test_import_is_cheap():
    code = "import sys, noise, noise.devices, noise.channels; print(any(m.startswith('qiskit') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("spelling", ["santiago", "Santiago", "FakeSantiago", "fakesantiagov2", "FakeSantiagoV2",
                                      "fake_santiago"])
def test_name_spellings(spelling):
    assert Device.from_name(spelling).name == "santiago"


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match=r"unknown device 'nowhere'; known devices: .*santiago.*yorktown"):
        Device.from_name("nowhere")


@pytest.mark.parametrize("name", PAPER_DEVICES)
def test_paper_devices_load(name):
    from qiskit_ibm_runtime import fake_provider

    dev = Device.from_name(name)
    backend = next(c for n, c in vars(fake_provider).items() if n.lower() in (f"fake{name}v2", f"fake{name}"))()
    assert dev.n_qubits == backend.num_qubits
    assert set(dev.coupling_map) == {tuple(e) for e in backend.coupling_map.get_edges()}
    assert set(dev.basis_gates) <= set(backend.operation_names) and "cx" in dev.basis_gates
    assert all(0 < t < 1e-2 for t in dev.t1) and all(0 < t <= 2 * a for t, a in zip(dev.t2, dev.t1))
    assert all(0 <= p <= 1 for pair in dev.readout for p in pair)
    q = backend.target.qubit_properties[0]
    assert dev.t1[0] == q.t1 and dev.t2[0] == min(q.t2, 2 * q.t1)
    a, b = dev.coupling_map[0]
    assert dev.gate_error("cx", (a, b)) == backend.target["cx"][(a, b)].error
    assert dev.gate_duration("cx", [a, b]) == backend.target["cx"][(a, b)].duration
    assert dev.readout[0] == (backend.target["measure"][(0,)].error,) * 2


def _assert_same_noise(ours, ref):
    from qiskit.quantum_info import SuperOp

    mine, theirs = ours._local_quantum_errors, ref._local_quantum_errors
    assert set(mine) == set(theirs)
    count = 0
    for name in theirs:
        assert set(mine[name]) == set(theirs[name]), name
        for qubits, error in theirs[name].items():
            np.testing.assert_allclose(SuperOp(mine[name][qubits]).data, SuperOp(error).data, atol=1e-10, rtol=0,
                                       err_msg=f"{name} on {qubits}")
            count += 1
    assert count > 0
    assert set(ours._local_readout_errors) == set(ref._local_readout_errors)
    for qubits, error in ref._local_readout_errors.items():
        np.testing.assert_allclose(ours._local_readout_errors[qubits].probabilities, error.probabilities,
                                   atol=1e-12, rtol=0)
    assert not ours._default_quantum_errors and not ref._default_quantum_errors


@pytest.mark.parametrize("name", ["santiago", "yorktown", "lagos"])
def test_noise_model_equals_aer_from_backend(name):
    from qiskit_aer.noise import NoiseModel

    dev = Device.from_name(name)
    ref = NoiseModel.from_backend(type(_backend_of(name))())
    _assert_same_noise(dev.noise_model, ref)
    # control-flow instructions (lagos has if_else, ...) are the only basis difference
    control_flow = {"if_else", "for_loop", "switch_case", "while_loop"}
    assert set(ref.basis_gates) - control_flow == set(dev.noise_model.basis_gates)
    assert dev.noise_model is dev.noise_model  # cached


def _backend_of(name):
    from noise.devices import _fake_backend_classes

    return _fake_backend_classes()[name]()


def test_generic_backend_without_fake_provider():
    from qiskit.providers.fake_provider import GenericBackendV2
    from qiskit_aer.noise import NoiseModel

    backend = GenericBackendV2(num_qubits=5, seed=0)
    dev = Device.from_backend(backend)
    assert dev.n_qubits == 5 and dev.basis_gates == ("cx", "id", "rz", "sx", "x")
    _assert_same_noise(dev.noise_model, NoiseModel.from_backend(backend))


def test_from_backend_rejects_other_objects():
    with pytest.raises(ValueError, match="expected a qiskit BackendV2"):
        Device.from_backend(object())


def test_from_properties_reads_units_and_defaults():
    dev = Device.from_properties(small_props(), line())
    assert dev.n_qubits == 3 and dev.name == "custom"
    assert dev.t1 == pytest.approx((100e-6, 101e-6, 102e-6)) and dev.t2[0] == pytest.approx(80e-6)
    assert dev.readout[1] == (0.01, 0.02)  # (p1_given_0, p0_given_1)
    assert dev.gate_error("cx", (1, 0)) == 1.1e-2 and dev.gate_error("rz", 2) == 0.0  # rz defaults to 0
    assert dev.gate_duration("sx", 0) == DEFAULT_1Q_DURATION == 35.5e-9
    assert dev.gate_duration("cx", (0, 1)) == DEFAULT_2Q_DURATION and dev.gate_duration("rz", 1) == 0
    assert ("reset", (0,)) not in dev.gate_durations
    custom = Device.from_properties(small_props(), line(), durations={"cx": 300e-9, ("sx", (1,)): 20e-9, "reset": 1e-6})
    assert custom.gate_duration("cx", (1, 2)) == 300e-9 and custom.gate_duration("sx", 1) == 20e-9
    assert custom.gate_duration("sx", 0) == DEFAULT_1Q_DURATION and custom.gate_duration("reset", 2) == 1e-6
    assert set(custom.noise_model.noise_instructions) == {"cx", "id", "measure", "reset", "sx", "x"}


def test_from_properties_noise_model_has_asymmetric_readout():
    dev = Device.from_properties(small_props(), line())
    probs = dev.noise_model._local_readout_errors[(2,)].probabilities
    np.testing.assert_allclose(probs, [[0.99, 0.01], [0.02, 0.98]])


def test_noise_model_from_properties_matches_aer_on_the_same_target():
    """A hand-built Target with the same numbers gives aer's own model; ours equals it."""
    from qiskit.circuit.library import CXGate, SXGate
    from qiskit.transpiler import InstructionProperties, QubitProperties, Target
    from qiskit_aer.noise.device import basic_device_gate_errors

    props = small_props(2)
    for q in range(2):
        del props["gate"][q]["x"], props["gate"][q]["id"]
    dev = Device.from_properties(props, line(2), basis_gates=("cx", "sx"))
    target = Target(num_qubits=2, qubit_properties=[QubitProperties(t1=dev.t1[q], t2=dev.t2[q]) for q in range(2)])
    target.add_instruction(SXGate(), {(q,): InstructionProperties(35.5e-9, 3e-4) for q in range(2)})
    target.add_instruction(CXGate(), {(0, 1): InstructionProperties(400e-9, 1e-2),
                                      (1, 0): InstructionProperties(400e-9, 1.1e-2)})
    from qiskit.quantum_info import SuperOp

    for name, qubits, error in basic_device_gate_errors(target=target):
        ours = dev.noise_model._local_quantum_errors[name][tuple(qubits)]
        np.testing.assert_allclose(SuperOp(ours).data, SuperOp(error).data, atol=1e-12)


def test_properties_round_trip_and_json(tmp_path):
    dev = Device.from_name("santiago")
    props = dev.properties()
    text = json.dumps(props)  # JSON-ready
    again = Device.from_properties(json.loads(text), dev.coupling_map, dev.basis_gates)
    assert again.gate_errors == dev.gate_errors and again.readout == dev.readout
    assert again.t1 == pytest.approx(dev.t1, rel=1e-14) and again.t2 == pytest.approx(dev.t2, rel=1e-14)
    path = tmp_path / "cal.json"
    path.write_text(text)
    assert Device.from_properties(str(path), dev.coupling_map).gate_errors == dev.gate_errors
    copy = Device.from_json(dev.to_json())
    assert copy.gate_durations == dev.gate_durations and copy.dt == dev.dt and copy.name == "santiago"
    _assert_same_noise(copy.noise_model, dev.noise_model)
    (tmp_path / "dev.json").write_text(dev.to_json())
    assert Device.from_json(tmp_path / "dev.json").coupling_map == dev.coupling_map


def test_from_name_with_properties_keeps_the_device_takes_the_calibration(tmp_path):
    dev = Device.from_name("santiago")
    props = dev.properties()
    props["qubit"]["3"]["T1"] = 50.0
    props["qubit"]["3"]["prob_meas1_prep0"] = 0.125
    props["gate"]["3,4"]["cx"] = 0.05
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(props))
    new = Device.from_name("FakeSantiagoV2", properties=str(path))
    assert new.coupling_map == dev.coupling_map and new.gate_durations == dev.gate_durations
    assert new.t1[3] == pytest.approx(50e-6) and new.readout[3][0] == 0.125 and new.gate_error("cx", (3, 4)) == 0.05
    assert new.gate_error("cx", (4, 3)) == dev.gate_error("cx", (4, 3))
    del props["gate"]["0,1"]
    with pytest.raises(ValueError, match=r"lacks 1 gate error\(s\) of santiago, e.g. cx\(0, 1\)"):
        Device.from_name("santiago", properties=props)
    props["gate"]["0,1"] = {"cx": 0.01}
    props["gate"]["0,2"] = {"cx": 0.01}
    with pytest.raises(ValueError, match=r"does not have: cx\(0, 2\)"):
        Device.from_name("santiago", properties=props)


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p["qubit"].pop(1), r"lacks qubit\(s\) \[1\]"),
    (lambda p: p["qubit"][0].pop("T2"), r"props\['qubit'\]\[0\] lacks field\(s\) \['T2'\]"),
    (lambda p: p["qubit"][2].update(prob_meas0_prep1=1.5), r"prob_meas0_prep1'\] must lie in \[0, 1\], got 1.5"),
    (lambda p: p["qubit"][2].update(T1=0), r"\['T1'\] must be positive"),
    (lambda p: p["qubit"][2].update(T1=-3.0), r"\['T1'\] must be positive"),
    (lambda p: p["gate"].update({5: {"sx": 1e-3}}), r"is on qubit\(s\) \[5\], but the device has qubits 0..2"),
    (lambda p: p["gate"].update({"0,2": {"cx": 1e-3}}), r"\(0, 2\): that pair is not in the coupling map"),
    (lambda p: p["gate"][0].update(h=1e-3), r"gate 'h', which is not a basis gate"),
    (lambda p: p["gate"][0].update(sx=-1e-3), r"must lie in \[0, 1\]"),
    (lambda p: p["gate"][1].pop("x"), r"missing error of gate 'x' on qubit 1"),
    (lambda p: p["gate"].pop("2,1"), r"edges without a two-qubit gate error .*\[\(2, 1\)\]"),
    (lambda p: p["gate"].update({0: {"cx": 1e-3}}), r"'cx' acts on 2 qubit\(s\), but its entry is on \(0,\)"),
    (lambda p: p.pop("gate"), r"needs a 'gate' dict"),
    (lambda p: p["gate"].update({"a,b": {"cx": 1e-3}}), r"key 'a,b' is not a qubit"),
])
def test_from_properties_validation(mutate, message):
    props = small_props()
    mutate(props)
    with pytest.raises(ValueError, match=message):
        Device.from_properties(props, line())


def test_t2_above_twice_t1_is_clipped():
    props = small_props()
    props["qubit"][0]["T2"] = 500.0
    dev = Device.from_properties(props, line())
    assert dev.t2[0] == pytest.approx(2 * dev.t1[0])


def test_unknown_gate_or_qubits_lookup():
    dev = Device.from_name("santiago")
    with pytest.raises(ValueError, match="santiago has no gate error for 'cz'; it has: cx, id, rz, sx, x"):
        dev.gate_error("cz", (0, 1))
    with pytest.raises(ValueError, match=r"santiago has no 'cx' on qubits \(0, 2\)"):
        dev.gate_duration("cx", (0, 2))


def test_scaled():
    dev = Device.from_name("santiago")
    half, big, none = dev.scaled(0.5), dev.scaled(1e4), dev.scaled(0)
    key = ("cx", (0, 1))
    assert half.gate_errors[key] == 0.5 * dev.gate_errors[key] and half.t1[2] == 2 * dev.t1[2]
    assert half.readout[1] == (0.5 * dev.readout[1][0], 0.5 * dev.readout[1][1])
    assert big.gate_errors[key] == pytest.approx(4 / 5) and big.gate_error("sx", 0) == pytest.approx(2 / 3)
    assert big.readout[0] == (1.0, 1.0)
    assert all(e == 0 for e in none.gate_errors.values()) and all(math.isinf(t) for t in none.t1)
    assert none.noise_model.is_ideal() or _is_identity_model(none.noise_model)
    assert half.coupling_map == dev.coupling_map and half.name == "santiago*0.5"
    with pytest.raises(ValueError, match="finite number >= 0"):
        dev.scaled(-1)


def _is_identity_model(model):
    from qiskit.quantum_info import SuperOp

    for errors in model._local_quantum_errors.values():
        for error in errors.values():
            data = SuperOp(error).data
            if not np.allclose(data, np.eye(len(data)), atol=1e-12):
                return False
    return all(np.allclose(e.probabilities, np.eye(2)) for e in model._local_readout_errors.values())


def test_noise_model_builds_without_warnings():
    dev = Device.from_properties(small_props(), line())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dev.noise_model  # noqa: B018
