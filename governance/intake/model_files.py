"""Loading a fitted model safely.

``.skops`` files are loaded with skops' own safe loader plus an explicit, short allow-list of extra
scikit-learn types (never "everything ``get_untrusted_types()`` lists"). Pickle and joblib files can run
arbitrary code when loaded, so they load only when someone vouched for their SHA-256: with ``--trust SHA256``
on the command line, or by a vouching recorded in the register when the version was registered. A pin alone
is no vouching: whoever registers a file must not be able to plant code that runs under the auditor's account.
A skops file that needs types outside the allow-list is treated the same way. A skops file is a zip archive,
so its central directory is checked first (sizes, compression ratio) and a zip bomb is refused unread.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from governance.errors import FieldError, InputError, RefusedInputError
from governance.provenance import sha256_file

# Types beyond skops' built-in trusted set that we accept from any .skops file. The decision tree's
# Cython ``Tree`` is rebuilt by skops from plain arrays and is what every sklearn tree ensemble holds.
# HistGradientBoosting's ``TreePredictor`` is deliberately absent: skops warns that it keeps raw node
# indices without bounds checks, so it loads only from a file whose SHA-256 someone vouched for.
# The two mitigation wrappers (governance.mitigate.estimators) hold only numbers, strings and fitted estimators.
SKOPS_ALLOW_LIST: frozenset[str] = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "governance.mitigate.estimators.GroupThresholdClassifier",
        "governance.mitigate.estimators.RandomizedClassifier",
    }
)

PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib"}

# Zip-bomb limits, read from the central directory before any member is inflated. A fitted model's arrays
# rarely compress better than 20 to 1; a zip bomb inflates 1,000 to 1 (2 MB on disk, gigabytes in memory).
MAX_INFLATED_BYTES = 2_000_000_000  # 2 GB in all
MAX_RATIO = 100  # inflated / compressed, for any member (and the whole) larger than RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = (
    16 << 20
)  # small members may compress well (a JSON schema of zeros): no ratio check below this
MAX_MEMBERS = 100_000

FileKind = Literal["pickle", "skops", "other"]


@dataclass(frozen=True)
class Vouching:
    """Someone's word that a model file may run code when loaded: its SHA-256, who, and when (if recorded)."""

    sha256: str
    actor: str | None = None
    at: str | None = None


@dataclass(frozen=True)
class ModelFileCheck:
    """What a model file is, as far as safety goes, found without loading it.

    ``needs_vouching``: loading it can run code (a pickle, or a skops file needing types beyond the safe list);
    ``untrusted_types`` are those types (empty for a pickle, which can need anything).
    """

    kind: FileKind
    needs_vouching: bool = False
    untrusted_types: tuple[str, ...] = ()
    sha256: str = ""

    def require_vouching(self, name: str, trust_sha256: str | None) -> bool:
        """Refuse the file unless ``trust_sha256`` vouches for it when it must; ``True`` when the vouching is
        needed."""
        check_trust(name, self.sha256, trust_sha256)
        if self.needs_vouching and not trust_sha256:
            raise self.refusal(name)
        return self.needs_vouching

    def refusal(self, name: str) -> RefusedInputError:
        """The error that refuses this file when nobody vouched for it (``name`` may end "(model.pkl)"); the step
        that vouches is ``trust_sha256=...`` to a Python caller and ``--trust ...`` on the command line."""
        vouch = {"actions": {"trust": f"trust_sha256={self.sha256!r}"}, "subject": {"sha256": self.sha256}}
        if self.kind == "pickle":
            return RefusedInputError(
                f"{name} is a {Path(name.rstrip(')')).suffix.lower()[1:]} file, which can run any code when loaded, and nobody "
                "vouched for it; if you trust it, pass {trust} (its SHA-256), or save the model with skops.",
                **vouch,
            )
        return RefusedInputError(
            f"{name} needs types that are not on the safe list ({', '.join(self.untrusted_types)}), which can "
            "run code when loaded; if you trust the file, pass {trust} (its SHA-256), or save "
            "the model with plain scikit-learn types.",
            **vouch,
        )


@dataclass(frozen=True)
class LoadedModel:
    """A fitted estimator and how it was loaded (named in the report)."""

    estimator: Any
    path: Path
    sha256: str
    loader: str
    trusted_types: list[str] = field(default_factory=list)
    vouched_by: str | None = (
        None  # who vouched for a file that runs code when loaded (None: nobody needed to)
    )
    vouched_at: str | None = None  # when, if the register recorded it (None for --trust given at load time)
    source: str | None = None  # where it came from when not a local file, e.g. models:/credit-risk/3 (MLflow)

    @property
    def description(self) -> str:
        return describe_estimator(self.estimator)


def describe_estimator(estimator: Any) -> str:
    """A short name such as ``Pipeline(ColumnTransformer, LogisticRegression)``."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return f"{type(estimator).__name__}({', '.join(type(step).__name__ for _, step in steps)})"
    return type(estimator).__name__


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size < 1e9 else f"{size / 1e9:,.1f} GB"


def check_zip_archive(path: Path) -> None:
    """Refuse a zip archive that would inflate to too much, from its central directory alone.

    Python's zip reader stops at the sizes the directory declares (and fails the CRC beyond them), so a
    directory that lies about sizes cannot make a later read inflate more than this check allowed.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            f"{path.name} is not a readable skops file ({exc}); save the model again with skops.io.dump."
        ) from exc
    if len(members) > MAX_MEMBERS:
        raise RefusedInputError(
            f"{path.name} holds {len(members):,} files, more than the {MAX_MEMBERS:,} a model file may hold, so it was "
            "not opened; save the model again with skops.io.dump."
        )
    inflated = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    ratio = inflated / max(packed, 1)
    too_dense = inflated > RATIO_FLOOR_BYTES and ratio > MAX_RATIO
    for member in members:  # one dense member hidden among large incompressible ones
        member_ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR_BYTES and member_ratio > MAX_RATIO:
            too_dense, ratio = True, member_ratio
            break
    if inflated > MAX_INFLATED_BYTES or too_dense:
        limit = (
            f"more than the {_megabytes(MAX_INFLATED_BYTES)} a model file may take"
            if inflated > MAX_INFLATED_BYTES
            else f"more than the {MAX_RATIO} to 1 a model file may reach"
        )
        raise RefusedInputError(
            f"{path.name} would inflate from {_megabytes(path.stat().st_size)} to {_megabytes(inflated)} (about "
            f"{ratio:,.0f} to 1), {limit}, so it was not opened: it looks like a zip bomb; save the model again "
            "with skops.io.dump."
        )


def _untrusted_skops_types(path: Path, *, from_schema: bool = False) -> list[str]:
    """The types a skops file needs beyond skops' own trusted set, after the zip-bomb check.

    ``from_schema``: read them from the file's schema when it is made of nodes whose rules are known, without
    importing skops (which imports all of scikit-learn); skops answers otherwise, and always before loading."""
    check_zip_archive(path)
    if from_schema:
        found = _untrusted_types_from_schema(path)
        if found is not None:
            return found
    from governance.intake.skops_types import import_skops

    sio = import_skops()

    try:
        return sorted(sio.get_untrusted_types(file=path))
    except Exception as exc:  # skops raises a variety of errors on damaged archives
        raise InputError(
            f"{path.name} is not a readable skops file ({exc}); save the model again with skops.io.dump."
        ) from exc


def _untrusted_types_from_schema(path: Path) -> list[str] | None:
    from governance.intake.skops_types import untrusted_types_from_schema

    try:
        with zipfile.ZipFile(path) as archive:
            return untrusted_types_from_schema(archive, SKOPS_ALLOW_LIST)
    except (zipfile.BadZipFile, OSError):
        return None


def check_model_file(path: str | Path, *, sha256: str | None = None) -> ModelFileCheck:
    """Find out, without loading it, whether a model file can run code when loaded (``register version`` asks).

    A zip bomb is refused (:class:`RefusedInputError`). A ``.skops`` file that is not even a zip archive cannot
    run anything; it is reported as ``other`` and the audit says it cannot be read. ``sha256`` is the file's
    hash when the caller has just taken it (a large file is not read twice).
    """
    model_path = Path(path)
    digest = sha256 or sha256_file(model_path)
    suffix = model_path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        return ModelFileCheck("pickle", needs_vouching=True, sha256=digest)
    if suffix != ".skops" or not zipfile.is_zipfile(model_path):
        return ModelFileCheck("other", sha256=digest)
    try:
        untrusted = _untrusted_skops_types(model_path, from_schema=True)
    except RefusedInputError:
        raise
    except InputError:
        return ModelFileCheck("other", sha256=digest)  # unreadable: it cannot load, so it cannot run anything
    outside = tuple(name for name in untrusted if name not in SKOPS_ALLOW_LIST)
    return ModelFileCheck("skops", needs_vouching=bool(outside), untrusted_types=outside, sha256=digest)


def check_trust(name: str, actual: str, trust_sha256: str | None) -> None:
    """Refuse a ``--trust`` hash that is not the file's: the file may have changed since it was vouched for."""
    if trust_sha256 and trust_sha256.strip().lower() != actual:
        raise RefusedInputError(
            f"The SHA-256 given with {{trust}} does not match {name} (its SHA-256 is {actual}); "
            "the file may have changed since it was vouched for, so it was not loaded.",
            fields={"trust": "trust_sha256"},
        )


def _vouched_by(
    actual: str, trust_sha256: str | None, vouching: Vouching | None, trusted_by: str | None
) -> Vouching | None:
    """Who vouched for the file with this hash: the register's vouching first, else the ``--trust`` given now."""
    if vouching is not None and vouching.sha256.strip().lower() == actual:
        return vouching
    if trust_sha256 and trust_sha256.strip().lower() == actual:
        return Vouching(sha256=actual, actor=trusted_by)
    return None


def load_model(
    path: str | Path,
    *,
    trust_sha256: str | None = None,
    pinned_sha256: str | None = None,
    vouching: Vouching | None = None,
    trusted_by: str | None = None,
    shown_name: str | None = None,
) -> LoadedModel:
    """Load a model file, refusing anything that could run code unless someone vouched for its hash.

    ``trust_sha256`` comes from ``--trust`` (given by ``trusted_by``); ``pinned_sha256`` from the register's
    version record, which only says which file was registered; ``vouching`` is the register's record of who
    vouched for that file. ``shown_name`` names the file in messages (an MLflow model's URI, say).
    """
    model_path = Path(path)
    if not model_path.is_file():
        raise FieldError(
            "model", f"The model file {model_path} does not exist; check the path passed to {{field}}."
        )
    name = shown_name or model_path.name
    actual = sha256_file(model_path)
    check_trust(name, actual, trust_sha256)
    if pinned_sha256 and pinned_sha256.strip().lower() != actual:
        raise RefusedInputError(
            f"{model_path.name} no longer matches the SHA-256 pinned in the register ({pinned_sha256[:12]}...); "
            "register the new file as a new version before auditing it."
        )
    suffix = model_path.suffix.lower()
    voucher = _vouched_by(actual, trust_sha256, vouching, trusted_by)
    if suffix == ".skops":
        return _load_skops(model_path, actual, voucher, name)
    if suffix in PICKLE_SUFFIXES:
        if voucher is None:
            raise ModelFileCheck("pickle", needs_vouching=True, sha256=actual).refusal(name)
        return _load_pickle(model_path, actual, suffix, voucher)
    raise InputError(
        f"Cannot load a model from a '{suffix or 'no suffix'}' file; save it with skops (.skops), "
        "or pass predictions with {predictions} COL instead.",
        fields=["predictions"],
    )


def _load_skops(path: Path, digest: str, voucher: Vouching | None, shown: str) -> LoadedModel:
    from governance.intake.skops_types import import_skops

    sio = import_skops()

    untrusted = _untrusted_skops_types(path)
    outside = tuple(name for name in untrusted if name not in SKOPS_ALLOW_LIST)
    if outside and voucher is None:
        raise ModelFileCheck("skops", needs_vouching=True, untrusted_types=outside, sha256=digest).refusal(
            shown
        )
    try:
        estimator = sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise InputError(
            f"{path.name} could not be loaded by skops ({exc}); save the model again with skops.io.dump."
        ) from exc
    if not outside:
        return LoadedModel(
            estimator=estimator,
            path=path,
            sha256=digest,
            loader="skops (safe loader)",
            trusted_types=untrusted,
        )
    return LoadedModel(
        estimator=estimator,
        path=path,
        sha256=digest,
        loader="skops, with extra types trusted because someone vouched for the file's SHA-256",
        trusted_types=untrusted,
        vouched_by=voucher.actor if voucher else None,
        vouched_at=voucher.at if voucher else None,
    )


def _load_pickle(path: Path, digest: str, suffix: str, voucher: Vouching) -> LoadedModel:
    try:
        if suffix == ".joblib":
            import joblib

            estimator = joblib.load(path)
        else:
            import pickle

            with open(path, "rb") as handle:
                estimator = pickle.load(handle)
    except Exception as exc:
        raise InputError(
            f"{path.name} could not be unpickled ({type(exc).__name__}: {exc}); check the file."
        ) from exc
    return LoadedModel(
        estimator=estimator,
        path=path,
        sha256=digest,
        loader=f"{suffix[1:]} (trusted by SHA-256)",
        trusted_types=[],
        vouched_by=voucher.actor,
        vouched_at=voucher.at,
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

    from governance.intake.skops_types import import_skops

    sio = import_skops()

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
