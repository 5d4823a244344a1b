"""``qml-bench devices``: the calibration of IBM devices (fake backends) at a glance.

Example:
    qml-bench devices
    qml-bench devices --devices santiago,yorktown --json devices.json

One row per device: qubits, coupling edges (undirected pairs), median and mean error of
``sx``, of the two-qubit gate (``cx`` on these devices; ``ecr``/``cz`` where a device has
those), of readout (the mean of P(1|0) and P(0|1) per qubit), and median T1 and T2 in
microseconds, all read from ``noise.devices.Device.from_name``.
"""

from __future__ import annotations

import argparse

from benchmarks.report import Report

# the devices of the QuantumNAS / QuantumNAT / QOC papers
PAPER_DEVICES = ("yorktown", "santiago", "belem", "athens", "quito", "lima", "manila", "jakarta", "lagos",
                 "casablanca", "rome", "bogota", "melbourne", "guadalupe", "toronto", "montreal", "mumbai")
COLUMNS = ["device", "qubits", "edges", "sx_err_med", "sx_err_mean", "cx_err_med", "cx_err_mean",
           "readout_med", "readout_mean", "T1_us_med", "T2_us_med"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", default=",".join(PAPER_DEVICES),
                        help="comma-separated device names as qiskit-ibm-runtime's fake backends "
                             "(santiago or FakeSantiagoV2; default: the papers' 17 devices)")


def parse_devices(text: str) -> list[str]:
    """The device names of ``--devices``; a ValueError names unknown ones and lists the known."""
    from noise.devices import Device, _short_name

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ValueError("--devices needs at least one device name")
    known = set(Device.known_names())
    unknown = [n for n in names if _short_name(n) not in known]
    if unknown:
        raise ValueError(f"unknown devices {unknown}; known devices: {', '.join(sorted(known))}")
    return names


def run(args: argparse.Namespace) -> Report:
    from noise.devices import Device

    names = parse_devices(args.devices)
    report = Report(title="qml-bench devices: calibration of the fake backends (errors are 1 - fidelity)",
                    columns=COLUMNS, config={"devices": names})
    for name in names:
        dev = Device.from_name(name)
        s = dev.summary()
        report.add(device=dev.name, qubits=dev.n_qubits, edges=len({tuple(sorted(e)) for e in dev.coupling_map}),
                   sx_err_med=s["median_sx_error"], sx_err_mean=s["mean_sx_error"],
                   cx_err_med=s["median_2q_error"], cx_err_mean=s["mean_2q_error"],
                   readout_med=s["median_readout_error"], readout_mean=s["mean_readout_error"],
                   T1_us_med=s["median_t1_us"], T2_us_med=s["median_t2_us"])
    report.notes.append("edges: undirected coupled pairs; cx_err: the two-qubit basis gate; "
                        "readout: mean of P(1|0) and P(0|1); T2 clipped to 2*T1 as aer does")
    return report
