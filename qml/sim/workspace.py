"""A spare state buffer kept between runs that record no gradient.

A new state of tens of MB costs more in page faults (the OS handing out zeroed pages)
than the pass that fills it. A run that records no autograd history therefore writes
each step into the buffer the step before it read, and keeps the spare for the next
call of the same shape. One spare is kept, of at most ``KEEP_BYTES``.

Example:
    >>> import torch
    >>> state = torch.zeros(1, 4)
    >>> give(torch.empty(1, 4)); take(state).shape
    torch.Size([1, 4])
"""

from __future__ import annotations

import torch

KEEP_BYTES = 2 ** 28

_spare: dict = {}


def take(like: torch.Tensor) -> torch.Tensor:
    """The kept spare shaped like ``like`` (its owner now), or a new contiguous buffer."""
    spare = _spare.pop((like.shape, like.dtype, like.device), None)
    return spare if spare is not None else torch.empty(like.shape, dtype=like.dtype, device=like.device)


def give(buffer: torch.Tensor) -> None:
    """Keep ``buffer`` (no one else may hold it) as the spare, in place of the one kept before."""
    if buffer.numel() * buffer.element_size() <= KEEP_BYTES:
        _spare.clear()
        _spare[buffer.shape, buffer.dtype, buffer.device] = buffer
