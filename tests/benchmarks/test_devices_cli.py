"""qml-bench devices: the calibration table, its JSON record, bad device names."""

import json

import pytest

from benchmarks.cli import main


def test_devices_table_and_record(tmp_path, capsys):
    path = tmp_path / "devices.json"
    assert main(["devices", "--devices", "santiago,FakeYorktownV2", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "qml-bench devices" in out and "santiago" in out and "yorktown" in out
    record = json.loads(path.read_text())
    assert set(record) >= {"config", "versions", "seed", "wall_s", "rows"}
    assert record["config"]["devices"] == ["santiago", "FakeYorktownV2"]
    santiago, yorktown = record["rows"]
    assert santiago["device"] == "santiago" and santiago["qubits"] == 5 and santiago["edges"] == 4
    assert yorktown["device"] == "yorktown" and yorktown["edges"] == 6  # the bow tie
    for row in record["rows"]:
        assert 0 < row["sx_err_med"] < row["cx_err_med"] < 0.1
        assert 0 < row["readout_med"] < 0.5 and 10 < row["T1_us_med"] < 500 and 0 < row["T2_us_med"] < 500


def test_devices_values_come_from_the_device():
    import statistics

    from benchmarks.devices import PAPER_DEVICES
    from noise.devices import Device
    from benchmarks.cli import build_parser
    from benchmarks.devices import run

    assert len(PAPER_DEVICES) == 17
    report = run(build_parser("devices").parse_args(["devices", "--devices", "lima"]))
    row = report.rows[0]
    dev = Device.from_name("lima")
    sx = [e for (name, _), e in dev.gate_errors.items() if name == "sx"]
    assert row["sx_err_mean"] == pytest.approx(statistics.fmean(sx))
    assert row["T1_us_med"] == pytest.approx(statistics.median(dev.t1) * 1e6)


@pytest.mark.parametrize("argv, message", [
    (["--devices", "santiago,nowhere"], "unknown devices ['nowhere']; known devices: "),
    (["--devices", " , "], "needs at least one device name"),
])
def test_devices_bad_input(argv, message, capsys):
    assert main(["devices", *argv]) == 2
    assert message in capsys.readouterr().err
