"""Loading a fitted model safely.

``.skops`` files are loaded with skops' own safe loader plus an explicit, short allow-list of extra
scikit-learn types (never "everything ``get_untrusted_types()`` lists"). Pickle and joblib files can run
arbitrary code when loaded, so they load only when their SHA-256 was vouched for: pinned in the register
or given with ``--trust SHA256``. A skops file that needs types outside the allow-list is treated the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.errors import InputError, RefusedInputError
from governance.provenance import sha256_file

# Types beyond skops' built-in trusted set that we accept from any .skops file. The decision tree's
# Cython ``Tree`` is rebuilt by skops from plain arrays and is what every sklearn tree ensemble holds.
# HistGradientBoosting's ``TreePredictor`` is deliberately absent: skops warns that it keeps raw node
# indices without bounds checks, so it loads only from a file whose SHA-256 someone vouched for.
SKOPS_ALLOW_LIST: frozenset[str] = frozenset({"sklearn.tree._tree.Tree"})

PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib"}


@dataclass(frozen=True)
class LoadedModel:
    """A fitted estimator and how it was loaded (named in the report)."""

    estimator: Any
    path: Path
    sha256: str
    loader: str
    trusted_types: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        return describe_estimator(self.estimator)


def describe_estimator(estimator: Any) -> str:
    """A short name such as ``Pipeline(ColumnTransformer, LogisticRegression)``."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return f"{type(estimator).__name__}({', '.join(type(step).__name__ for _, step in steps)})"
    return type(estimator).__name__


def _vouched(actual: str, trust_sha256: str | None, pinned_sha256: str | None) -> bool:
    wanted = {value.strip().lower() for value in (trust_sha256, pinned_sha256) if value}
    return actual in wanted


def load_model(
    path: str | Path, *, trust_sha256: str | None = None, pinned_sha256: str | None = None
) -> LoadedModel:
    """Load a model file, refusing anything that could run code unless its hash was vouched for.

    ``trust_sha256`` comes from ``--trust``; ``pinned_sha256`` from the register's version record.
    """
    model_path = Path(path)
    if not model_path.is_file():
        raise InputError(f"The model file {model_path} does not exist; check the path passed to --model.")
    actual = sha256_file(model_path)
    if trust_sha256 and trust_sha256.strip().lower() != actual:
        raise RefusedInputError(
            f"The SHA-256 given with --trust does not match {model_path.name} (its SHA-256 is {actual}); "
            "the file may have changed since it was vouched for, so it was not loaded."
        )
    if pinned_sha256 and pinned_sha256.strip().lower() != actual:
        raise RefusedInputError(
            f"{model_path.name} no longer matches the SHA-256 pinned in the register ({pinned_sha256[:12]}...); "
            "register the new file as a new version before auditing it."
        )
    suffix = model_path.suffix.lower()
    if suffix == ".skops":
        return _load_skops(model_path, actual, vouched=_vouched(actual, trust_sha256, pinned_sha256))
    if suffix in PICKLE_SUFFIXES:
        if not _vouched(actual, trust_sha256, pinned_sha256):
            raise RefusedInputError(
                f"{model_path.name} is a {suffix[1:]} file, which can run any code when loaded, and nobody vouched "
                f"for it; if you trust it, pass --trust {actual} (its SHA-256), or save the model with skops."
            )
        return _load_pickle(model_path, actual, suffix)
    raise InputError(
        f"Cannot load a model from a '{suffix or 'no suffix'}' file; save it with skops (.skops), "
        "or pass predictions with --predictions COL instead."
    )


def _load_skops(path: Path, digest: str, *, vouched: bool) -> LoadedModel:
    import skops.io as sio

    try:
        untrusted = sorted(sio.get_untrusted_types(file=path))
    except Exception as exc:  # skops raises a variety of errors on damaged archives
        raise InputError(f"{path.name} is not a readable skops file ({exc}); save the model again with skops.io.dump.") from exc
    outside = [name for name in untrusted if name not in SKOPS_ALLOW_LIST]
    if outside and not vouched:
        raise RefusedInputError(
            f"{path.name} needs types that are not on the safe list ({', '.join(outside)}); if you trust the file, "
            f"pass --trust {digest} (its SHA-256) or register it so that its hash is pinned."
        )
    try:
        estimator = sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise InputError(f"{path.name} could not be loaded by skops ({exc}); save the model again with skops.io.dump.") from exc
    loader = "skops (safe loader)" if not outside else "skops, with extra types trusted because the SHA-256 was vouched for"
    return LoadedModel(estimator=estimator, path=path, sha256=digest, loader=loader, trusted_types=untrusted)


def _load_pickle(path: Path, digest: str, suffix: str) -> LoadedModel:
    try:
        if suffix == ".joblib":
            import joblib

            estimator = joblib.load(path)
        else:
            import pickle

            with open(path, "rb") as handle:
                estimator = pickle.load(handle)
    except Exception as exc:
        raise InputError(f"{path.name} could not be unpickled ({type(exc).__name__}: {exc}); check the file.") from exc
    return LoadedModel(
        estimator=estimator, path=path, sha256=digest, loader=f"{suffix[1:]} (trusted by SHA-256)", trusted_types=[]
    )


def save_model(estimator: Any, path: str | Path) -> str:
    """Save with skops, byte-for-byte reproducibly; returns the file's SHA-256.

    skops names arrays and memo entries after Python object ids and stamps zip entries with the time, so the
    same model saved twice differs. Renumbering the ids in order of appearance and fixing the timestamps makes
    the file, and therefore its hash and every audit id derived from it, reproducible.
    """
    import io
    import re
    import zipfile

    import skops.io as sio

    source = zipfile.ZipFile(io.BytesIO(sio.dumps(estimator)))
    schema = source.read("schema.json").decode("utf-8")
    mapping: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        number = match.group(2)
        mapping.setdefault(number, str(len(mapping) + 1))
        return f"{match.group(1)}{mapping[number]}{match.group(3)}"

    schema = re.sub(r'("__id__": |")(\d{6,})(\.npy"|\b)', renumber, schema)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        members = {"schema.json": schema.encode("utf-8")}
        for name in source.namelist():
            if name == "schema.json":
                continue
            stem, dot, suffix = name.partition(".")
            members[f"{mapping.get(stem, stem)}{dot}{suffix}"] = source.read(name)
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, members[name])
    data = buffer.getvalue()
    Path(path).write_bytes(data)
    from governance.provenance import sha256_bytes

    return sha256_bytes(data)
