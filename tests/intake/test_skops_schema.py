"""``register version`` reads a skops file's types from its schema instead of importing scikit-learn through skops
(issue 13, point 3): the answer must be skops' own, or none at all (then skops is asked).

Each file below is checked both ways: the schema walk either gives exactly what ``skops.io.get_untrusted_types``
gives, or says it cannot tell. For the models people register it must tell.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from governance.intake import skops_types
from governance.intake.model_files import SKOPS_ALLOW_LIST, check_model_file
from governance.mitigate.estimators import GroupThresholdClassifier

REPO = Path(__file__).resolve().parents[2]
X = np.random.default_rng(0).normal(size=(80, 3))
y = (X[:, 0] > 0).astype(int)


def test_the_shipped_lists_are_what_the_installed_skops_gives() -> None:
    assert skops_types.TRUSTED_FILE.read_text(encoding="utf-8") == skops_types.table_text(), (
        f"governance/intake/skops_trusted.json is stale; run {skops_types.REGENERATE}"
    )


def _pipeline() -> Any:
    import pandas as pd

    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "g": np.where(X[:, 2] > 0, "x", "y")})
    columns = ColumnTransformer([("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(), ["g"])])
    return Pipeline([("prep", columns), ("model", LogisticRegression())]).fit(frame, y)


def _wrapper() -> Any:
    import pandas as pd

    frame = pd.DataFrame({"a": X[:, 0], "g": np.where(X[:, 2] > 0, "x", "y")})
    base = LogisticRegression().fit(frame[["a"]], y)
    rules = {"x": [1.0, ">", 0.5, 0.0, ">", 0.5, 0.0, 0], "y": [1.0, ">", 0.4, 0.0, ">", 0.4, 0.0, 0]}
    return GroupThresholdClassifier(base, "g", rules, seed=1, features=["a"], classes=[0, 1])


COMMON: dict[str, Callable[[], Any]] = {
    "logistic pipeline": _pipeline,
    "logistic": lambda: LogisticRegression().fit(X, y),
    "sgd": lambda: SGDClassifier(random_state=0).fit(X, y),
    "decision tree": lambda: DecisionTreeClassifier(random_state=0).fit(X, y),
    "random forest": lambda: RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y),
    "random forest regressor": lambda: RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y),
    "extra trees": lambda: ExtraTreesClassifier(n_estimators=3, random_state=0).fit(X, y),
    "gradient boosting": lambda: GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, y),
    "threshold wrapper": _wrapper,
}


def _both(data: bytes) -> tuple[list[str] | None, list[str]]:
    """What the schema walk says, and what skops says."""
    walked = skops_types.untrusted_types_from_schema(zipfile.ZipFile(io.BytesIO(data)), SKOPS_ALLOW_LIST)
    return walked, sorted(sio.get_untrusted_types(data=data))


@pytest.mark.parametrize("name", list(COMMON))
def test_common_models_are_read_from_their_schema_as_skops_reads_them(name: str) -> None:
    walked, said = _both(sio.dumps(COMMON[name]()))
    assert walked is not None, "the walk gave up on a model people register"
    assert walked == said


def test_the_demo_models_need_nothing_beyond_skops_trusted_types() -> None:
    for path in sorted((REPO / "demo" / "models").glob("*.skops")):
        walked = skops_types.untrusted_types_from_schema(zipfile.ZipFile(path), SKOPS_ALLOW_LIST)
        assert walked == [] == sorted(sio.get_untrusted_types(file=path)), path.name


def _rewritten(model: Any, change: Callable[[dict[str, Any]], None]) -> bytes:
    """``model`` saved by skops, its schema changed by ``change`` (the arrays are kept)."""
    source = zipfile.ZipFile(io.BytesIO(sio.dumps(model)))
    schema = json.loads(source.read("schema.json"))
    change(schema)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            target.writestr(name, json.dumps(schema) if name == "schema.json" else source.read(name))
    return buffer.getvalue()


def _attrs(schema: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = schema["content"]["content"]
    return content


def _set(key: str, state: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(schema: dict[str, Any]) -> None:
        _attrs(schema)[key] = state

    return change


def _rename_root(module: str, name: str) -> Callable[[dict[str, Any]], None]:
    def change(schema: dict[str, Any]) -> None:
        schema["__module__"], schema["__class__"] = module, name

    return change


def _hgb() -> Any:
    return HistGradientBoostingClassifier(max_iter=3).fit(X, y)


def _forest() -> Any:
    return RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y)


def _tree_declared_as(schema: dict[str, Any]) -> None:
    """The first tree node of a forest claims to be another class (skops lists both names)."""

    def visit(value: Any) -> bool:
        if isinstance(value, dict):
            if value.get("__loader__") == "TreeNode":
                value["__module__"], value["__class__"] = "posix", "system"
                return True
            return any(visit(item) for item in value.values())
        return isinstance(value, list) and any(visit(item) for item in value)

    assert visit(schema)


def _logistic() -> Any:
    return LogisticRegression().fit(X, y)


TYPE = {"__class__": "eval", "__module__": "builtins", "__loader__": "TypeNode", "__id__": 999}
FUNCTION = {"__class__": "system", "__module__": "posix", "__loader__": "FunctionNode", "__id__": 998}
CACHED = {"__class__": "dict", "__module__": "builtins", "__loader__": "CachedNode", "__id__": 1}
CRAFTED: dict[str, tuple[Callable[[], Any], Callable[[dict[str, Any]], None]]] = {
    "estimator renamed to posix.system": (_logistic, _rename_root("posix", "system")),
    "estimator renamed to the allow-listed tree": (_logistic, _rename_root("sklearn.tree._tree", "Tree")),
    "a type that is eval": (_logistic, _set("planted", TYPE)),
    "a function that is posix.system": (_logistic, _set("planted", FUNCTION)),
    "a shared object": (_logistic, _set("planted", CACHED)),
    "an array whose file is missing": (
        _logistic,
        _set(
            "planted",
            {
                "__class__": "ndarray",
                "__module__": "numpy",
                "__loader__": "NdArrayNode",
                "type": "numpy",
                "file": "nowhere.npy",
                "__id__": 997,
            },
        ),
    ),
    "a tree that says it is posix.system": (_forest, _tree_declared_as),
    "a random generator": (_hgb, lambda schema: None),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_schemas_get_skops_answer_or_none(name: str) -> None:
    """The walk may give up (skops then answers), but it never answers differently from skops."""
    model, change = CRAFTED[name]
    data = _rewritten(model(), change)
    walked = skops_types.untrusted_types_from_schema(zipfile.ZipFile(io.BytesIO(data)), SKOPS_ALLOW_LIST)
    try:
        said: list[str] | None = sorted(sio.get_untrusted_types(data=data))
    except Exception:  # skops cannot read it: the walk must not claim it can
        said = None
    assert walked is None or walked == said, (walked, said)


def test_a_file_the_walk_gives_up_on_is_checked_by_skops(tmp_path: Path) -> None:
    """``register version`` still refuses what skops flags when the walk cannot tell (a planted eval type)."""
    path = tmp_path / "planted.skops"
    path.write_bytes(_rewritten(_logistic(), _set("planted", TYPE)))
    check = check_model_file(path)
    assert check.kind == "skops" and check.needs_vouching and check.untrusted_types == ("builtins.eval",)


def test_other_library_versions_make_the_walk_ask_skops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lists made with another skops, scikit-learn or numpy may be wrong: then skops answers."""
    skops_types._table.cache_clear()
    monkeypatch.setattr(skops_types, "_installed_versions", lambda: {"skops": "0.0", "scikit-learn": "0.0"})
    try:
        path = REPO / "demo" / "models" / "credit-risk-1.1.0.skops"
        assert skops_types.untrusted_types_from_schema(zipfile.ZipFile(path), SKOPS_ALLOW_LIST) is None
        assert check_model_file(path).kind == "skops"
    finally:
        skops_types._table.cache_clear()


STAND_IN_CHECK = """
import io, json, sys, zipfile
from governance.intake import skops_types
sio = skops_types.import_skops()
lists = sys.modules[skops_types.LISTS_MODULE]
computed = skops_types.skops_lists(skops_types._computed_lists_module())
files = json.loads(sys.argv[1])
print(json.dumps({
    "stand_in": lists.__doc__.startswith("skops' lists"),
    "same_lists": skops_types.skops_lists(lists) == computed,
    "untrusted": {name: sorted(sio.get_untrusted_types(file=path)) for name, path in files.items()},
}))
"""


def test_skops_loads_with_its_lists_read_from_the_file_and_judges_files_the_same(tmp_path: Path) -> None:
    """``import_skops`` spares the import the listing of every scikit-learn estimator and scipy ufunc (a third of
    it); skops must then hold the very lists it computes itself and judge files as before."""
    import subprocess
    import sys

    files = {
        "forest": (_forest(), lambda schema: None),
        "hist gradient boosting": (_hgb(), lambda schema: None),
        "a type that is eval": (_logistic(), _set("planted", TYPE)),
    }
    paths: dict[str, str] = {}
    expected: dict[str, list[str]] = {}
    for name, (model, change) in files.items():
        path = tmp_path / f"{name}.skops"
        path.write_bytes(_rewritten(model, change))
        paths[name], expected[name] = str(path), sorted(sio.get_untrusted_types(file=path))
    done = subprocess.run(
        [sys.executable, "-c", STAND_IN_CHECK, json.dumps(paths)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"stand_in": True, "same_lists": True, "untrusted": expected}
