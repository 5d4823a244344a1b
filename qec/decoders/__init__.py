"""QEC decoders, one module each, all following :class:`qec.decoders.base.Decoder`.

``DECODERS`` maps a decoder name (as written in ``qml-bench qec ler --decoders``) to
``"module:Class"``; :func:`get_decoder_class` imports it lazily, so adding a decoder is one
line here and heavy dependencies load only when that decoder is used.

>>> from qec.decoders import get_decoder_class
>>> get_decoder_class("mwpm").__name__
'MWPMDecoder'
"""

from __future__ import annotations

import importlib

from qec.decoders.base import Decoder, SinterAdapter

DECODERS = {
    "mwpm": "qec.decoders.mwpm:MWPMDecoder",
    "mwpm-corr": "qec.decoders.mwpm:CorrelatedMWPMDecoder",
    "uf": "qec.decoders.uf:UnionFindDecoder",
    "dgr": "qec.decoders.dgr:DGRDecoder",
    "transformer": "qec.decoders.transformer:TransformerDecoder",
}


def get_decoder_class(name: str) -> type[Decoder]:
    """The decoder class registered under ``name``; a ValueError lists the known names."""
    if name not in DECODERS:
        raise ValueError(f"unknown decoder {name!r}; known decoders: {', '.join(DECODERS)}")
    module_name, _, class_name = DECODERS[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


__all__ = ["DECODERS", "Decoder", "SinterAdapter", "get_decoder_class"]
