"""QuantumNAS for VQE: a SuperCircuit trained on the energy, searched with the energy as fitness.

The circuits start from the Hartree-Fock state: :func:`hartree_fock_encoder` is an
:class:`qml.layers.Encoder` that reads no features and puts X on the Hartree-Fock wires, so
that :class:`qml.nas.Evolution` (which puts its encoder before every SubCircuit) sends the
scorer ``HF + SubCircuit``. :func:`searched_vqe` runs the whole pipeline:

1. a :class:`qml.nas.SuperCircuit` of design space ``space`` on the molecule's qubits is
   trained by sampling: every step a SubCircuit (gene from :class:`qml.nas.Sampler`) takes
   one Adam step on the exact noise-free energy of ``HF + SubCircuit`` (angles shared in the
   SuperCircuit's store);
2. :class:`qml.nas.Evolution` searches ``(gene, mapping)`` with a scorer of the contract of
   :mod:`qml.nas.search` whose loss is an energy: :class:`EnergyScorer` (noise-free, here) or
   ``noise.vqe.VQEScorer`` (the noisy energy on a device with the candidate's mapping);
3. the best SubCircuit's angles are fine-tuned noise-free by :func:`qml.vqe.vqe`, starting
   from the inherited ones.

``qml`` knows no devices: the device-aware scorer is passed in by the caller.

Example:
    >>> from qml.vqe import load_hamiltonian
    >>> from qml.vqe.search import EnergyScorer, searched_vqe
    >>> from qml.nas import SearchConfig
    >>> h2 = load_hamiltonian("h2")
    >>> config = SearchConfig(population=4, parents=2, mutants=1, crossovers=1, iterations=2)
    >>> r = searched_vqe(h2, EnergyScorer("h2"), space="u3cu3", n_blocks=2, train_steps=60,
    ...                  search=config, finetune_steps=60, progress=False)
    >>> abs(r["result"].energy - h2.exact_energy) < 1.6e-3
    True
"""

from __future__ import annotations

import random
from typing import Callable

import torch

from qml.circuit import Circuit
from qml.layers import Encoder


def hartree_fock_encoder(hamiltonian) -> Encoder:
    """An encoder of no features: X on the wires that are 1 in the Hartree-Fock bitstring."""
    ops = tuple(("x", (w,), ()) for w, b in enumerate(hamiltonian.hartree_fock_bits()) if b)
    return Encoder(f"hf_{hamiltonian.name}", ops)


def _hf_circuit(encoder: Encoder, n_wires: int) -> Circuit:
    return encoder.circuit(n_wires) if encoder.ops else Circuit(n_wires)


class EnergyScorer:
    """Noise-free fitness: the exact energy of the candidate (the mapping is ignored).

    ``molecule``: a shipped molecule's name or a Hamiltonian JSON path (the scorer pickles small).
    """

    def __init__(self, molecule: str):
        self.molecule = molecule
        self.identity = {"scorer": "vqe-energy", "molecule": molecule, "device": None}

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __call__(self, circuit, params: dict, mapping=None) -> float:
        from qml.vqe import energy, load_hamiltonian

        if not hasattr(self, "_ham"):
            self._ham = load_hamiltonian(self.molecule)
        circuit = Circuit.from_json(circuit) if isinstance(circuit, str) else circuit
        with torch.no_grad():
            return float(energy(circuit.bind(params), self._ham, gradient="autograd"))


def train_supercircuit(supercircuit, hamiltonian, encoder: Encoder, steps: int = 300,
                       lr: float = 0.05, *, k: int = 3, largest_every: int = 4, seed: int = 0,
                       progress: bool = True) -> list[float]:
    """Adam on the store, one sampled SubCircuit per step; the energies of the sampled ones."""
    from tqdm import tqdm

    from qml.nas import Sampler
    from qml.vqe.optimize import energy

    if supercircuit.n_wires != hamiltonian.n_qubits:
        raise ValueError(f"the SuperCircuit has {supercircuit.n_wires} wires, the Hamiltonian "
                         f"{hamiltonian.name!r} {hamiltonian.n_qubits} qubits")
    sampler = Sampler(supercircuit, "restricted", k=min(k, supercircuit.gene_length),
                      largest_every=largest_every, seed=seed)
    optimizer = torch.optim.Adam([supercircuit.weights], lr=lr)
    hf = _hf_circuit(encoder, supercircuit.n_wires)
    energies = []
    for _ in tqdm(range(steps), desc=f"supercircuit {hamiltonian.name}", disable=not progress,
                  leave=False):
        sub = supercircuit.subcircuit(sampler.next())
        optimizer.zero_grad()
        e = energy(hf + sub, hamiltonian, supercircuit.gather(sub).double(), gradient="autograd")
        e.backward()
        optimizer.step()
        energies.append(float(e.detach()))
    return energies


def searched_vqe(hamiltonian, scorer: Callable, *, space: str = "u3cu3", n_blocks: int = 2,
                 train_steps: int = 300, train_lr: float = 0.05, search=None, n_physical=None,
                 finetune_steps: int = 200, finetune_lr: float = 0.05, seed: int = 0,
                 executor=None, out_dir=None, progress: bool = True) -> dict:
    """Train a SuperCircuit on the energy, search it with ``scorer``, fine-tune the winner.

    ``search``: a :class:`qml.nas.SearchConfig` (its ``n_physical`` the device's qubit count;
    ``n_physical`` here overrides it). Returns ``circuit`` (HF + the searched SubCircuit),
    ``gene``, ``mapping``, ``search_loss`` (the scorer's value of the inherited angles),
    ``history`` (per search iteration), ``train_energies``, ``result`` (the fine-tuning's
    :class:`qml.vqe.VQEResult`) and ``evaluations``.
    """
    from dataclasses import replace

    from qml.nas import Evolution, SearchConfig, SuperCircuit
    from qml.vqe.optimize import vqe

    torch.manual_seed(seed)
    random.seed(seed)
    sc = SuperCircuit(space, hamiltonian.n_qubits, n_blocks, seed=seed)   # unknown space: ValueError
    encoder = hartree_fock_encoder(hamiltonian)
    train = train_supercircuit(sc, hamiltonian, encoder, train_steps, train_lr, seed=seed,
                               progress=progress)
    config = search or SearchConfig(population=20, parents=5, mutants=10, crossovers=5,
                                    iterations=10, seed=seed)
    if n_physical is not None:
        config = replace(config, n_physical=n_physical)
    evolution = Evolution(sc, scorer, encoder, config, out_dir, executor=executor,
                          identity={"molecule": hamiltonian.name}, progress=progress)
    found = evolution.run()
    sub = found["circuit"]
    circuit = _hf_circuit(encoder, sc.n_wires) + sub
    init = sc.param_dict(sub)
    result = vqe(circuit, hamiltonian, steps=finetune_steps, lr=finetune_lr, seed=seed,
                 init=init, progress=progress)
    return {"circuit": circuit, "gene": found["gene"], "mapping": found["mapping"],
            "search_loss": found["loss"], "history": found["history"], "train_energies": train,
            "result": result, "inherited": init, "evaluations": found["evaluations"],
            "supercircuit": sc}


__all__ = ["EnergyScorer", "hartree_fock_encoder", "searched_vqe", "train_supercircuit"]
