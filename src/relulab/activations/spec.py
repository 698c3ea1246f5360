"""Parse an activation spec such as ``"leaky_relu(negative_slope=0.1)"`` without ``eval``.

A spec is a name, optionally followed by parentheses holding literal arguments: numbers, ``True``,
``False``, ``None`` or quoted strings, by keyword (``name=value``) or by position in the order the
activation declares them. Names are matched case-insensitively with ``-`` read as ``_``.
"""

from __future__ import annotations

import ast
from typing import Any

from relulab._validate import shown

MAX_SPEC_LENGTH = 1000  # characters; longer specs are refused before parsing (and never echoed whole)
_FORM = "a name such as 'relu' or a name with literal arguments such as 'leaky_relu(negative_slope=0.1)'"


def normalise_name(name: str) -> str:
    """Lower-case ``name`` and read ``-`` and spaces as ``_``."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _literal(node: ast.expr, spec: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(
            f"activation spec {shown(spec)} has an argument that is not a literal value "
            f"({shown(ast.unparse(node))}); use numbers, True, False, None or quoted strings."
        ) from None


def parse(spec: str) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """Split ``spec`` into its normalised name, positional arguments and keyword arguments.

    Raises:
        TypeError: ``spec`` is not a string.
        ValueError: ``spec`` is empty or malformed, or an argument is not a literal.
    """
    if not isinstance(spec, str):
        raise TypeError(f"activation spec must be a string. Received: spec={shown(spec)}")
    text = spec.strip()
    if not text:
        raise ValueError(f"activation spec must be {_FORM}. Received: spec={spec!r}")
    if len(text) > MAX_SPEC_LENGTH:
        raise ValueError(f"activation spec must be at most {MAX_SPEC_LENGTH:,} characters. Received: spec={shown(spec)}")
    # Names may contain '-'; Python's grammar may not, so read them as '_' before parsing.
    head, paren, rest = text.partition("(")
    text = normalise_name(head) + paren + rest
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise ValueError(f"activation spec must be {_FORM}. Received: spec={shown(spec)}") from None
    if isinstance(tree, ast.Name):
        return tree.id, (), {}
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)):
        raise ValueError(f"activation spec must be {_FORM}. Received: spec={shown(spec)}")
    if any(isinstance(a, ast.Starred) for a in tree.args) or any(k.arg is None for k in tree.keywords):
        raise ValueError(f"activation spec {shown(spec)} may not use * or ** arguments.")
    names = [k.arg for k in tree.keywords]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"activation spec {shown(spec)} gives {', '.join(repeated)} more than once.")
    args = tuple(_literal(a, spec) for a in tree.args)
    kwargs = {k.arg: _literal(k.value, spec) for k in tree.keywords}
    return tree.func.id, args, kwargs


def format_spec(name: str, params: dict[str, Any]) -> str:
    """The canonical spec of ``name`` with ``params``: ``"leaky_relu(negative_slope=0.1)"``."""
    if not params:
        return name
    inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return f"{name}({inner})"
