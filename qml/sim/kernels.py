"""Kernels: how one compiled step acts on a batched statevector.

A state has shape ``(batch, 2**n)``; wire 0 is the most significant bit. A step's
operand is shared (no batch axis) or per sample (leading batch axis). Each kernel
offers ``apply`` (the step, or with ``inverse=True`` its inverse; with ``out`` it writes
into that buffer, the state's shape, instead of a new tensor) and ``grad`` (the
gradient of a real loss with respect to the operand, given the gradient ``lam`` after
the step and the state ``psi`` before it: the adjoint method's one contraction).
The kernels act on the last axis of any ``(batch, 2**n)`` tensor, so a density
matrix's rows or columns go through the same code.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch


def _split(n: int, wires: tuple[int, ...]) -> tuple[int, int, int] | None:
    """(left, middle, right) sizes when ``wires`` are contiguous and ascending, else None."""
    lo = wires[0]
    if wires != tuple(range(lo, lo + len(wires))):
        return None
    return 2 ** lo, 2 ** len(wires), 2 ** (n - lo - len(wires))


#: A gate on contiguous wires with at most this many amplitudes from its first wire to the
#: last wire is applied as one GEMM with its matrix widened by an identity on the wires after
#: it: many tiny batched products (the alternative) run several times slower.
KRON_WIDTH = 64


def _with_identity(m: torch.Tensor, size: int) -> torch.Tensor:
    """m (..., D, D) Kronecker I_size: (..., D * size, D * size)."""
    if size == 1:
        return m
    *lead, d, _ = m.shape
    return (m.reshape(*lead, d, 1, d, 1) * _eye(size, m.dtype, m.device)).reshape(*lead, d * size, d * size)


@lru_cache(maxsize=None)
def _eye(size: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.eye(size, dtype=dtype, device=device).view(size, 1, size)


class Dense:
    """A k-wire matrix: the state is viewed so that the gate's wires form one axis."""

    has_operand = True

    def __init__(self, n: int, wires: tuple[int, ...]):
        self.n, self.wires = n, wires
        self.dim = 2 ** len(wires)
        self.split = _split(n, wires)
        if self.split is not None:
            left, mid, right = self.split
            self.widened = right == 1 or mid * right <= KRON_WIDTH
            self.shape = (left, mid * right) if self.widened else (left, mid, right)
        else:                   # move the gate's wires last, in gate order
            others = [a for a in range(n) if a not in wires]
            self.perm = [0] + [1 + a for a in others] + [1 + w for w in wires]
            self.unperm = [self.perm.index(a) for a in range(n + 1)]

    def _to_rows(self, state: torch.Tensor) -> torch.Tensor:
        """(batch, rest, dim): the gate's wires as the last axis."""
        b = state.shape[0]
        return state.view(b, *[2] * self.n).permute(self.perm).reshape(b, -1, self.dim)

    def _from_rows(self, rows: torch.Tensor) -> torch.Tensor:
        b = rows.shape[0]
        shape = [b] + [2] * self.n
        permuted = [shape[p] for p in self.perm]
        return rows.reshape(permuted).permute(self.unperm).reshape(b, -1)

    def apply(self, state: torch.Tensor, m: torch.Tensor, inverse: bool = False, out=None) -> torch.Tensor:
        if inverse:
            m = m.conj().transpose(-1, -2)
        b = state.shape[0]
        if self.split is not None:
            shape = (b, *self.shape)
            if self.widened:    # (b, left, mid * right) @ (m x I_right)^T: one wide GEMM
                x, y = state.view(shape), _with_identity(m, self.split[2]).transpose(-1, -2)
            else:               # m @ (b, left, mid, right): a GEMM per left index
                x, y = (m if m.dim() == 2 else m.unsqueeze(1)), state.view(shape)
            if out is None:
                return (x @ y).reshape(b, -1)
            torch.matmul(x, y, out=out.view(shape))
            return out
        result = self._from_rows(self._to_rows(state) @ m.transpose(-1, -2))
        return result if out is None else out.copy_(result)

    def grad(self, lam: torch.Tensor, psi: torch.Tensor, shared: bool) -> torch.Tensor:
        """dL/dm[o, i] = sum over the other wires of lam[.., o, ..] * conj(psi[.., i, ..])."""
        b = lam.shape[0]
        if self.split is not None:
            left, mid, right = self.split
            lam_r = lam.view(b, left, mid, right).transpose(1, 2).reshape(b, mid, -1)
            psi_r = psi.view(b, left, mid, right).transpose(1, 2).reshape(b, mid, -1)
            g = lam_r @ psi_r.conj().transpose(1, 2)
        else:
            g = self._to_rows(lam).transpose(1, 2) @ self._to_rows(psi).conj()
        return g.sum(0) if shared else g


class Diagonal:
    """A diagonal gate: an elementwise product with its broadcast diagonal."""

    has_operand = True

    def __init__(self, n: int, wires: tuple[int, ...]):
        self.n, self.wires = n, wires
        self.order = sorted(range(len(wires)), key=lambda i: wires[i])  # gate axes by wire
        self.shape = [1] * n
        for w in wires:
            self.shape[w] = 2

    def _broadcast(self, d: torch.Tensor) -> torch.Tensor:
        lead = d.shape[:-1]
        k = len(self.wires)
        d = d.reshape(*lead, *[2] * k).permute(*range(len(lead)), *[len(lead) + i for i in self.order])
        return d.reshape(*(lead or (1,)), *self.shape)

    def apply(self, state: torch.Tensor, d: torch.Tensor, inverse: bool = False, out=None) -> torch.Tensor:
        if inverse:
            d = d.conj()
        b = state.shape[0]
        if out is None:
            return (state.view(b, *[2] * self.n) * self._broadcast(d)).reshape(b, -1)
        torch.mul(state.view(b, *[2] * self.n), self._broadcast(d), out=out.view(b, *[2] * self.n))
        return out

    def grad(self, lam: torch.Tensor, psi: torch.Tensor, shared: bool) -> torch.Tensor:
        b = lam.shape[0]
        prod = (lam * psi.conj()).view(b, *[2] * self.n)
        keep = [1 + w for w in self.wires]
        other = [a for a in range(1, self.n + 1) if a not in keep]
        g = prod.sum(other) if other else prod
        g = g.permute(0, *[1 + sorted(self.wires).index(w) for w in self.wires]).reshape(b, -1)
        return g.sum(0) if shared else g


class Permutation:
    """A basis permutation gate applied as one index gather: out[i] = in[index[i]].

    ``perm`` is the gate's own permutation of its 2**k local basis states (the record's
    ``perm``); the full index replaces the gate's bits of each state i by ``perm`` of them.
    """

    has_operand = False

    def __init__(self, n: int, wires: tuple[int, ...], perm: tuple[int, ...]):
        self.n, self.wires = n, wires
        states = torch.arange(2 ** n, dtype=torch.int64)
        shifts = [n - 1 - w for w in wires]
        local = torch.zeros_like(states)
        mask = 0
        for s in shifts:
            local = (local << 1) | ((states >> s) & 1)
            mask |= 1 << s
        moved = torch.tensor(perm, dtype=torch.int64)[local]
        index = states & ~mask
        for j, s in enumerate(shifts):
            index |= ((moved >> (len(wires) - 1 - j)) & 1) << s
        self.index = index
        self.inverse_index = torch.argsort(index)
        self._on: dict = {}

    def _indices(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device not in self._on:
            self._on[device] = (self.index.to(device), self.inverse_index.to(device))
        return self._on[device]

    def apply(self, state: torch.Tensor, _m=None, inverse: bool = False, out=None) -> torch.Tensor:
        index, inverse_index = self._indices(state.device)
        return torch.index_select(state, 1, inverse_index if inverse else index, out=out)


class PauliFlip:
    """A Pauli on ``wires`` chosen per sample: ``apply(state, p)`` with ``p`` (batch,) Pauli indices.

    Index ``p`` has one base-4 digit per wire (I, X, Y, Z = 0..3, the first wire's digit the
    most significant). The Pauli ``X^x Z^z`` (Y up to its phase, which no measurement sees)
    is an index permutation and a sign: ``out[i] = (-1)^{|z & (i ^ x)|} in[i ^ x]``.
    """

    has_operand = True

    def __init__(self, n: int, wires: tuple[int, ...]):
        self.n, self.wires = n, wires
        k = len(wires)
        digits = torch.arange(4 ** k).unsqueeze(1) // 4 ** torch.arange(k - 1, -1, -1) % 4   # (4**k, k)
        bits = torch.tensor([1 << (n - 1 - w) for w in wires])
        self.x = ((digits == 1) | (digits == 2)).long() @ bits
        self.z = ((digits == 2) | (digits == 3)).long() @ bits
        self._on: dict = {}

    def _tables(self, dtype: torch.dtype, device: torch.device):
        """(signs (4**k, 2**n) of Z^z, signs of the inverse's reordering, x masks, basis states)."""
        key = (dtype, device)
        if key not in self._on:
            states = torch.arange(2 ** self.n, device=device)
            z = self.z.to(device)
            parity = torch.zeros(len(z), 2 ** self.n, dtype=torch.int64, device=device)
            v = states.unsqueeze(0) & z.unsqueeze(1)
            while bool(v.any()):
                parity ^= v & 1
                v = v >> 1
            both = self.x.to(device) & z
            swap = torch.zeros_like(both)
            while bool(both.any()):
                swap ^= both & 1
                both = both >> 1
            self._on[key] = ((1 - 2 * parity).to(dtype), (1 - 2 * swap).to(dtype), self.x.to(device), states)
        return self._on[key]

    def apply(self, state: torch.Tensor, p: torch.Tensor | None, inverse: bool = False, out=None) -> torch.Tensor:
        if p is None:                                # no sample drew an error here
            return state if out is None else out.copy_(state)
        signs, swap, x, states = self._tables(state.real.dtype if state.is_complex() else state.dtype,
                                              state.device)
        signs = signs[p]
        if inverse:                                  # (X^x Z^z)^-1 = Z^z X^x = (-1)^{|x & z|} X^x Z^z
            signs = signs * swap[p].unsqueeze(1)
        return torch.gather(state * signs, 1, states.unsqueeze(0) ^ x[p].unsqueeze(1), out=out)

    def grad(self, lam, psi, shared):
        raise RuntimeError("Pauli errors have no parameters to differentiate")


#: Kernel kind (a gate record's ``kernel``, or a fused block's) -> kernel class.
KERNELS = {"dense": Dense, "diagonal": Diagonal, "permutation": Permutation, "pauli": PauliFlip}


def max_qubits_for(batch: int, itemsize: int, device: torch.device) -> int:
    """The largest n whose state of ``batch`` samples fits in a third of the free memory."""
    if device.type == "cuda":
        free = torch.cuda.mem_get_info(device)[0]
    else:
        import os
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return int(math.log2(max(free / 3 / (batch * itemsize), 1)))
