# One venv, one way in: `make demo` and `make test` set it up when needed.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
JOBS    ?= 2

.PHONY: setup test demo bench bench-peers clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -n $(JOBS) -q

demo: setup
	$(BIN)/qml-bench demo

bench: setup
	$(BIN)/qml-bench sim --json results/sim.json --out results

# Peer simulators for the side-by-side benchmark. TorchQuantum goes in without its
# declared dependencies (they would replace the CPU torch with a CUDA build); the few
# it needs at import time are named here (benchmarks/peers/torchquantum.py loads it).
bench-peers: setup
	$(BIN)/python -m pip install -q pennylane pennylane-lightning qulacs qiskit-aer qiskit-ibm-runtime pyyaml opt_einsum
	$(BIN)/python -m pip install -q --no-deps torchquantum torchpack multimethod toml loguru pathos ppft torchdiffeq

clean:
	rm -rf $(VENV) build *.egg-info
