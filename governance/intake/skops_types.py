"""Which types a skops file needs, read from its ``schema.json`` without importing scikit-learn.

``skops.io.get_untrusted_types`` answers this exactly, but importing ``skops.io`` imports all of scikit-learn
(it lists every estimator to know which are trusted): 1.5-2 s of processor time that ``register version`` spent
only to look at a file it never loads. The files people register are made of a few kinds of nodes (estimators,
dicts, lists, tuples, arrays, the types of dict keys, trees and losses). For those, this module walks the schema
and applies skops' own rules, node by node, with skops' lists of trusted names computed once and kept in
``skops_trusted.json`` beside this module (a test checks that it is what the installed skops gives).

The walk never says a file is unsafe: anything it does not know (another kind of node, a name not on the lists,
an object shared between two places, other versions of skops, scikit-learn or numpy than the lists were made
with) makes it answer ``None``, and the caller asks skops itself. Loading a file for an audit always asks skops.
Loading a file needs ``skops.io`` itself, which on import rebuilds the same lists: it imports every module of
scikit-learn to list its estimators (and pytest with them), and searches every loaded module for each of scipy's
ufuncs, about a third of the import. :func:`import_skops` imports ``skops.io`` with those lists read from the same
file instead, when it was made with the installed versions; skops then checks and loads files exactly as before.

Regenerate the lists with ``.venv/bin/python -m governance.intake.skops_types --write``.
"""

from __future__ import annotations

import json
import sys
import types
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from governance.generated import print_or_write

TRUSTED_FILE = Path(__file__).with_name("skops_trusted.json")
REGENERATE = ".venv/bin/python -m governance.intake.skops_types --write"

# The kinds of nodes this walk knows, each with the list of names skops trusts for it by default (see
# ``computed_table``). JsonNode is always safe in skops (its content is a JSON literal); a slice holds three
# plain values. A TreeNode is always rebuilt as sklearn's ``Tree``, which skops never trusts by default.
_CONTAINERS = {
    "DictNode": "dict",
    "ListNode": "list",
    "TupleNode": "tuple",
    "SetNode": "set",
    "SliceNode": "slice",
    "TypeNode": "type",
    "NdArrayNode": "ndarray",
    "ObjectNode": "object",
    "LossNode": "loss",
    "RandomStateNode": "random_state",
}
TREE = "sklearn.tree._tree.Tree"


class _Unsure(Exception):
    """The walk met something it does not know; skops must answer."""


@cache
def _table() -> dict[str, Any] | None:
    """The shipped lists, or ``None`` when they were made with other versions than those installed."""
    from importlib.metadata import PackageNotFoundError

    table: dict[str, Any] = json.loads(TRUSTED_FILE.read_text(encoding="utf-8"))
    try:
        installed = _installed_versions()
    except PackageNotFoundError:  # skops' own import will say what is missing
        return None
    return table if table.get("versions") == installed else None


def _installed_versions() -> dict[str, str]:
    """skops' exact version; scikit-learn's and numpy's major.minor (their lists of names change with those)."""
    from importlib.metadata import version

    def minor(package: str) -> str:
        return ".".join(version(package).split(".")[:2])

    return {
        "skops": version("skops"),
        "scikit-learn": minor("scikit-learn"),
        "numpy": minor("numpy"),
        "scipy": minor("scipy"),
    }


LISTS_MODULE = "skops.io._trusted_types"


def import_skops() -> Any:
    """``skops.io``, imported with its lists of trusted names read from the shipped file when it fits the
    installed versions (skops computes them itself otherwise)."""
    if "skops.io" not in sys.modules and LISTS_MODULE not in sys.modules and (table := _table()) is not None:
        sys.modules[LISTS_MODULE] = _lists_module(table["lists"])
        try:
            import skops.io
        except ImportError:  # the file lacks a name this skops wants: let skops build its own lists
            for name in [name for name in sys.modules if name.startswith("skops.io")]:
                del sys.modules[name]
    import skops.io

    return skops.io


def _lists_module(lists: dict[str, list[str]]) -> types.ModuleType:
    """A stand-in for ``skops.io._trusted_types``: the same names with the same values, without computing them."""
    module = types.ModuleType(LISTS_MODULE, "skops' lists of trusted names, read from skops_trusted.json")
    module.__dict__.update({name: list(values) for name, values in lists.items()})
    module.__dict__.update(PRIMITIVES_TYPES=[int, float, str, bool], CONTAINER_TYPES=[list, set, map, tuple])
    return module


def untrusted_types_from_schema(archive: zipfile.ZipFile, allowed: frozenset[str]) -> list[str] | None:
    """The types skops would list as untrusted for this archive, or ``None`` when only skops can tell.

    ``allowed`` are the untrusted types the caller accepts (the toolkit's allow-list); any other untrusted type
    also gives ``None``: the walk only ever says a file is fine, skops says what is wrong with it."""
    table = _table()
    if table is None:
        return None
    try:
        schema = json.loads(archive.read("schema.json"))
        if not isinstance(schema, dict) or schema.get("protocol") != table["protocol"]:
            return None
        walk = _Walk(table, frozenset(archive.namelist()), allowed)
        walk.node(schema)
    except (_Unsure, KeyError, TypeError, ValueError, RecursionError):
        return None
    return sorted(walk.untrusted)


class _Walk:
    """Every node of a schema, checked against skops' lists; collects the untrusted names it allows."""

    def __init__(self, table: dict[str, Any], members: frozenset[str], allowed: frozenset[str]) -> None:
        self.trusted: dict[str, frozenset[str]] = {
            kind: frozenset(names) for kind, names in table["trusted"].items()
        }
        self.members = members
        self.allowed = allowed
        self.untrusted: set[str] = set()

    def value(self, value: Any) -> None:
        """Any JSON value: every dict in it that names a loader is a node (more than skops visits, never less)."""
        if isinstance(value, dict):
            if "__loader__" in value:
                self.node(value)
            else:
                for item in value.values():
                    self.value(item)
        elif isinstance(value, list):
            for item in value:
                self.value(item)

    def node(self, state: dict[str, Any]) -> None:
        loader, module, kind = state["__loader__"], state["__module__"], state["__class__"]
        if not all(isinstance(part, str) for part in (loader, module, kind)):
            raise _Unsure
        name = f"{module}.{kind}"
        if loader == "JsonNode":
            if not isinstance(state.get("content"), str):
                raise _Unsure
            return
        if loader == "TreeNode":
            self._allowed(TREE, name)
        elif loader == "NdArrayNode":
            self._array(state)
        if loader not in _CONTAINERS or name not in self.trusted[_CONTAINERS[loader]]:
            self._allowed(name, None)
        for key, item in state.items():
            if key not in ("__loader__", "__module__", "__class__", "__id__"):
                self.value(item)

    def _array(self, state: dict[str, Any]) -> None:
        """An array is in a member of the archive or listed in the schema; anything else only skops can judge."""
        if state.get("type") == "json" or (
            state.get("type") == "numpy" and state.get("file") in self.members
        ):
            return
        raise _Unsure

    def _allowed(self, name: str, declared: str | None) -> None:
        """An untrusted name the toolkit's allow-list takes (``declared``: what a tree node says it is)."""
        if name not in self.allowed or declared not in (None, name):
            raise _Unsure
        self.untrusted.add(name)


def computed_table() -> dict[str, Any]:
    """skops' default lists of trusted names for each kind of node this walk knows, from the installed skops."""
    import numpy as np
    from skops.io import _general, _numpy, _sklearn
    from skops.io._protocol import PROTOCOL
    from skops.io._utils import get_type_paths

    names = _computed_lists_module()
    trusted: dict[str, list[str]] = {
        "dict": get_type_paths([dict, "collections.OrderedDict"]),
        "list": get_type_paths([list]),
        "tuple": get_type_paths([tuple]),
        "set": get_type_paths([set]),
        "slice": get_type_paths([slice]),
        "type": names.PRIMITIVE_TYPE_NAMES + names.CONTAINER_TYPE_NAMES + names.NUMPY_DTYPE_TYPE_NAMES,
        "ndarray": get_type_paths([np.ndarray]) + names.NUMPY_DTYPE_TYPE_NAMES,
        "object": names.SKLEARN_ESTIMATOR_TYPE_NAMES + names.SKLEARN_INTERNAL_TYPE_NAMES,
        "loss": get_type_paths(list(_sklearn.ALLOWED_LOSSES)),
        "random_state": get_type_paths([np.random.RandomState]),
    }
    assert _general and _numpy  # the node classes whose rules ``_Walk`` follows
    return {
        "versions": _installed_versions(),
        "protocol": PROTOCOL,
        "trusted": {kind: sorted(set(values)) for kind, values in trusted.items()},
        "lists": skops_lists(names),
    }


def _computed_lists_module() -> Any:
    """``skops.io._trusted_types`` run afresh (in this process it may be the stand-in read from the file)."""
    import importlib.util

    import skops.io

    origin = Path(skops.io.__file__).with_name("_trusted_types.py")
    spec = importlib.util.spec_from_file_location(f"{LISTS_MODULE}_computed", origin)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def skops_lists(module: Any) -> dict[str, list[str]]:
    """Every list of names ``skops.io._trusted_types`` defines, in skops' own order."""
    return {
        name: list(value)
        for name, value in sorted(vars(module).items())
        if name.isupper() and name.endswith("_NAMES") and isinstance(value, list)
    }


def table_text() -> str:
    """``skops_trusted.json`` as it should read."""
    return json.dumps(computed_table(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print the lists, or write them to ``skops_trusted.json`` with ``--write``."""
    print_or_write(TRUSTED_FILE, table_text(), argv)


if __name__ == "__main__":
    main()
