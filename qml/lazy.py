"""Lazy package attributes: a package names where each public name lives, and the module is
imported on first use (so ``import qml`` stays cheap).

Example:
    >>> import types
    >>> pkg = types.ModuleType("pkg")
    >>> pkg.__getattr__, pkg.__dir__, names = lazy_exports(vars(pkg), "pkg", {"sqrt": "math"})
    >>> pkg.sqrt(4.0), names
    (2.0, ['sqrt'])
"""

from __future__ import annotations

from importlib import import_module


def lazy_exports(namespace: dict, package: str, exports: dict[str, str]):
    """``(__getattr__, __dir__, __all__)`` for a package whose name ``n`` is ``exports[n]``'s ``n``."""
    names = sorted(exports)

    def __getattr__(name):
        if name in exports:
            value = getattr(import_module(exports[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return names

    return __getattr__, __dir__, names
