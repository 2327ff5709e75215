"""Dotted module paths (``encoder.layers.0.self_attn``): matching, nesting and ownership.

Every recorded op knows the path of the module whose forward recorded it. The root module, which
has no attribute name, records its class name instead (``Transformer``); such a *root scope* is
the top level of the model, so it never becomes a cluster or a collapsed group.
"""

from __future__ import annotations

from fnmatch import fnmatchcase


def components(path: str | None) -> tuple[str, ...]:
    """The parts of a dotted path; () for None and for a root scope."""
    if path is None or is_root_scope(path):
        return ()
    return tuple(path.split("."))


def is_root_scope(path: str | None) -> bool:
    """Whether ``path`` is a root module's scope: one component that is a class name."""
    return path is not None and "." not in path and path[:1].isupper()


def prefixes(path: str | None):
    """Yield the paths enclosing ``path``, outermost first, ending with ``path`` itself."""
    parts = components(path)
    for i in range(1, len(parts) + 1):
        yield ".".join(parts[:i])


def parent(path: str) -> str | None:
    """The enclosing module path, or None at the top."""
    return path.rsplit(".", 1)[0] if "." in path else None


def within(path: str | None, scope: str | None) -> bool:
    """Whether ``path`` lies strictly inside ``scope`` (None and root scopes contain everything)."""
    if not components(path):
        return False
    if not components(scope):
        return True
    return path.startswith(scope + ".")


def matches(pattern: str, path: str) -> bool:
    """Glob match component by component: ``encoder.layers.*.self_attn`` (``*`` = one part)."""
    want, have = pattern.split("."), path.split(".")
    return len(want) == len(have) and all(
        fnmatchcase(h, w) for w, h in zip(want, have, strict=True)
    )


def owner(parameter_name: str | None) -> str | None:
    """The module that owns a parameter: ``ffn.w_1.weight`` -> ``ffn.w_1``."""
    return parent(parameter_name) if parameter_name else None
