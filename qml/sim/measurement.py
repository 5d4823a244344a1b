"""Measurement of batched states: probabilities, <Z>, Pauli sums and seeded shots.

No dense ``2**n x 2**n`` observable is ever built: a Pauli string ``P = i^{|x&z|} X^x Z^z``
acts as ``(P psi)[i] = i^{|x&z|} (-1)^{popcount(z & (i^x))} psi[i^x]``, a gather and a sign.

Example:
    >>> import qml
    >>> state = qml.simulate(qml.Circuit(2).h(0).cx(0, 1))
    >>> H = qml.PauliSum([(0.5, "ZZ"), (2.0, "XX"), (1.0, "ZI")])
    >>> round(qml.expval(state, H).item(), 5)
    2.5
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

import torch


def _n_wires(state: torch.Tensor) -> int:
    if state.dim() != 2:
        raise ValueError(f"states must have shape (batch, 2**n), got {tuple(state.shape)}")
    n = state.shape[1].bit_length() - 1
    if 2 ** n != state.shape[1]:
        raise ValueError(f"a state's length must be a power of two, got {state.shape[1]}")
    return n


def probabilities(state: torch.Tensor) -> torch.Tensor:
    """|amplitude|^2, shape (batch, 2**n)."""
    _n_wires(state)
    return torch.view_as_real(state).square().sum(-1) if state.is_complex() else state.square()


def expval_z(state: torch.Tensor) -> torch.Tensor:
    """<Z> on every wire, shape (batch, n); wire 0 is the most significant bit."""
    n = _n_wires(state)
    if n <= _SIGN_TABLE_MAX:  # squares of the (re, im) entries times the (2**n, n) table of +/-1, each row twice
        entries = torch.view_as_real(state).reshape(state.shape[0], -1) if state.is_complex() else state
        return entries.square() @ _z_signs(n, entries.dtype, entries.device, 2 if state.is_complex() else 1)
    high = n // 2
    marginals = _split_marginals(state, high)
    return torch.cat([p @ _z_signs(k, p.dtype, p.device) for p, k in zip(marginals, (high, n - high))], dim=1)


_SIGN_TABLE_MAX = 12
_CHUNK = 2 ** 16    # entries squared at a time on a CPU: the squares stay in cache, no state-sized temporary


def _split_marginals(state: torch.Tensor, high: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities of the first ``high`` wires' bits (batch, 2**high) and of the others'
    (batch, 2**(n - high)), in one read of the state, a chunk of rows at a time."""
    b = state.shape[0]
    parts = 2 if state.is_complex() else 1          # a complex amplitude as its (re, im) pair
    entries = (torch.view_as_real(state) if state.is_complex() else state).reshape(b, 2 ** high, -1)
    rows = entries.shape[1] if state.is_cuda else max(1, _CHUNK // (b * entries.shape[2]), entries.shape[1] // 1024)
    high_p, low_p = [], 0
    for chunk in entries.split(rows, dim=1):
        squares = chunk * chunk
        high_p.append(squares.sum(2))
        low_p = low_p + squares.sum(1)
    return torch.cat(high_p, dim=1), low_p.view(b, -1, parts).sum(2)


@lru_cache(maxsize=None)
def _z_signs(n: int, dtype: torch.dtype, device: torch.device, copies: int = 1) -> torch.Tensor:
    """(2**n * copies, n): the sign of Z on each wire for each basis state, each row ``copies`` times."""
    bits = (torch.arange(2 ** n, device=device).unsqueeze(1) >> torch.arange(n - 1, -1, -1, device=device)) & 1
    return (1 - 2 * bits).to(dtype).repeat_interleave(copies, 0)


class PauliSum:
    """A weighted sum of Pauli strings, e.g. ``PauliSum([(0.5, "XZI"), (-1.0, "IIY")])``.

    A string names one Pauli per wire (I, X, Y, Z), wire 0 first; ``{wire: "X"}`` dicts
    are accepted too (with ``n_wires``), and so is the compact form ``"X0 Z2"``.
    """

    def __init__(self, terms, n_wires: int | None = None):
        self.terms: list[tuple[float, str]] = []
        if isinstance(terms, (str, dict)):
            raise ValueError(f"a PauliSum takes a list of (coefficient, Pauli) terms, e.g. "
                             f"PauliSum([(1.0, {terms!r})]); got the single term {terms!r}")
        for term in terms:
            if not isinstance(term, (tuple, list)) or len(term) != 2 or isinstance(term[0], str):
                raise ValueError(f"each PauliSum term is a (coefficient, Pauli) pair such as (0.5, 'XZ'), "
                                 f"got {term!r}")
            coeff, pauli = term
            try:
                coeff = float(coeff)
            except (TypeError, ValueError):
                raise ValueError(f"the coefficient of term {term!r} is not a real number") from None
            self.terms.append((coeff, _pauli_string(pauli, n_wires)))
        if not self.terms:
            raise ValueError("a PauliSum needs at least one term")
        widths = {len(p) for _, p in self.terms}
        if len(widths) != 1:
            raise ValueError(f"all Pauli strings must have the same length, got lengths {sorted(widths)}")
        self.n_wires = widths.pop()
        self._weights: dict = {}             # (dtype, device) -> [(x-mask, weights per index)]

    def __repr__(self) -> str:
        return " + ".join(f"{c:g}*{p}" for c, p in self.terms)

    def masks(self) -> dict[int, list[tuple[int, complex]]]:
        """x-mask -> [(z-mask, coefficient times i^{|x&z|})]: terms sharing a gather."""
        grouped = defaultdict(list)
        n = self.n_wires
        for coeff, p in self.terms:
            x = sum(1 << (n - 1 - w) for w, c in enumerate(p) if c in "XY")
            z = sum(1 << (n - 1 - w) for w, c in enumerate(p) if c in "ZY")
            grouped[x].append((z, coeff * 1j ** bin(x & z).count("1")))
        return grouped


def _pauli_string(pauli, n_wires: int | None) -> str:
    if isinstance(pauli, dict):
        if n_wires is None:
            raise ValueError("a Pauli term given as a dict needs n_wires")
        chars = ["I"] * n_wires
        for w, c in pauli.items():
            if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w < n_wires:
                raise ValueError(f"wire {w!r} of Pauli term {pauli!r} is out of range for {n_wires} wires")
            chars[w] = c
        pauli = "".join(chars)
    pauli = str(pauli).upper().replace(" ", "") if re.fullmatch(r"[IXYZ ]+", str(pauli).upper()) else \
        _compact(str(pauli), n_wires)
    if not re.fullmatch(r"[IXYZ]+", pauli):
        raise ValueError(f"a Pauli string holds only I, X, Y, Z; got {pauli!r}")
    return pauli


def _compact(text: str, n_wires: int | None) -> str:
    found = re.findall(r"([IXYZ])(\d+)", text.upper())
    if not found or n_wires is None:
        raise ValueError(f"cannot read Pauli term {text!r}: use a string like 'XZI', or 'X0 Z2' with n_wires")
    chars = ["I"] * n_wires
    for c, w in found:
        if int(w) >= n_wires:
            raise ValueError(f"wire {w} in {text!r} is out of range for {n_wires} wires")
        chars[int(w)] = c
    return "".join(chars)


def _sign_table(n: int, zs: list[int], device) -> torch.Tensor:
    """(2**n, len(zs)) table of (-1)^popcount(i & z)."""
    idx = torch.arange(2 ** n, device=device)
    cols = []
    for z in zs:
        parity = torch.zeros_like(idx)
        v = idx & z
        while bool(v.any()):
            parity ^= v & 1
            v = v >> 1
        cols.append(1 - 2 * parity)
    return torch.stack(cols, dim=1)


def expval(state: torch.Tensor, observable: PauliSum) -> torch.Tensor:
    """<psi|H|psi> for each state of the batch, shape (batch,)."""
    n = _n_wires(state)
    if not isinstance(observable, PauliSum):
        raise ValueError(f"observable must be a PauliSum, got {type(observable).__name__}")
    if observable.n_wires != n:
        raise ValueError(f"the observable acts on {observable.n_wires} wires, the states on {n}")
    real = state.real.dtype
    total = torch.zeros(state.shape[0], dtype=real, device=state.device)
    idx = torch.arange(2 ** n, device=state.device)
    for x, weights in _weights(observable, state.dtype, state.device):
        flipped = state if x == 0 else state.index_select(1, idx ^ x)
        total = total + ((state.conj() * flipped) @ weights).real   # conj(psi_i) psi_{i^x} w_i
    return total


def _weights(observable: PauliSum, dtype, device) -> list[tuple[int, torch.Tensor]]:
    """Per x-mask, the weight of each index i: the sum over the terms sharing that gather of
    coefficient times (-1)^{z.(i^x)} = (-1)^{z.i} (-1)^{z.x}; built once per observable."""
    key = (dtype, str(device))
    if key not in observable._weights:
        n, out = observable.n_wires, []
        for x, terms in observable.masks().items():
            signs = _sign_table(n, [z for z, _ in terms], device).to(dtype)
            coeffs = torch.tensor([c * (-1) ** bin(z & x).count("1") for z, c in terms],
                                  dtype=dtype, device=device)
            out.append((x, signs @ coeffs))
        observable._weights[key] = out
    return observable._weights[key]


def sample(state: torch.Tensor, shots: int, seed: int | None = None) -> torch.Tensor:
    """Basis-state indices drawn from each state's distribution, shape (batch, shots)."""
    _n_wires(state)
    if not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    gen = torch.Generator(device=state.device)
    gen.manual_seed(0 if seed is None else seed)
    probs = probabilities(state.detach()).to(torch.float64)
    return torch.multinomial(probs / probs.sum(1, keepdim=True), shots, replacement=True, generator=gen)


def counts(state: torch.Tensor, shots: int, seed: int | None = None) -> list[dict[str, int]]:
    """Seeded shot counts per sample, keyed by bitstrings (wire 0 first)."""
    n = _n_wires(state)
    out = []
    for row in sample(state, shots, seed):
        values, freq = torch.unique(row, return_counts=True)
        out.append({format(int(v), f"0{n}b"): int(f) for v, f in zip(values, freq)})
    return out
