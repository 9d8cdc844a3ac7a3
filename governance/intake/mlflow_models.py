"""Models from an MLflow model registry: ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``, in and out.

A registered version's artefacts are downloaded into a temporary folder and its scikit-learn model file is loaded
by the toolkit's own loader (:func:`governance.intake.model_files.load_model`), never by ``mlflow.sklearn.load_model``:
a ``skops`` file gets the same safe loader and short allow-list as a local ``.skops`` file, and a pickle or
cloudpickle file needs ``--trust SHA256`` like any pickle. The SHA-256 is that of the model file itself (what
``--trust`` names and the register pins), so a model replaced in MLflow under the same version is caught.

MLflow is an optional extra (``governance[mlflow]``) and takes about two seconds to import, so it is imported
only when a ``models:/`` URI is used. The tracking server is MLflow's own setting, ``MLFLOW_TRACKING_URI``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.errors import InputError, RefusedInputError

if TYPE_CHECKING:
    from governance.intake.model_files import LoadedModel, ModelFileCheck

SCHEME = "models:/"
INSTALL_HINT = "pip install 'governance[mlflow]'"
TAG_PREFIX = "governance."
# MLflow retries an unreachable server for minutes by default; one retry and a 30 s timeout are enough to
# say it is unreachable. A user who sets these variables keeps their own values.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
# A version is a number and an alias a plain word: a query (``?token=...``) or a user part is not a model URI.
_URI = re.compile(r"^models:/(?P<name>[^/@?#]+)(?:/(?P<version>\d+)|@(?P<alias>[^/@?#\s]+))/?$")
# The user and password of any URI in a text (up to the last @ before the host's slash), and query parameters
# whose name says they hold a secret (token, key, secret, password, signature, credential, auth).
_USER_PART = re.compile(r"(?<=://)[^/\s]*@")
_SECRET_PARAMETER = re.compile(
    r"(?i)([?&;][\w.-]*(?:token|key|secret|password|passwd|pwd|sig|signature|credential|auth)[\w.-]*=)[^&#\s]+"
)


def is_mlflow_uri(value: object) -> bool:
    """True for ``models:/...`` (a string, not a path: ``Path`` would fold the double meaning of ``:``)."""
    return isinstance(value, str) and value.strip().startswith(SCHEME)


@dataclass(frozen=True)
class ModelsUri:
    """A parsed ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``."""

    name: str
    version: str | None = None
    alias: str | None = None

    @property
    def text(self) -> str:
        return f"{SCHEME}{self.name}/{self.version}" if self.version else f"{SCHEME}{self.name}@{self.alias}"


def parse_models_uri(uri: str) -> ModelsUri:
    """``models:/credit/3`` or ``models:/credit@champion``; anything else is one sentence."""
    match = _URI.match(uri.strip())
    if match is None:
        raise InputError(
            f"'{redact(uri)}' is not an MLflow model URI; write models:/NAME/VERSION or models:/NAME@ALIAS, for example "
            "models:/credit-risk/3."
        )
    return ModelsUri(match["name"], match["version"], match["alias"])


@dataclass(frozen=True)
class MlflowVersion:
    """One registered version, resolved: its fixed URI, where it came from, and what its model file is."""

    name: str
    version: str
    uri: str  # models:/NAME/VERSION: an alias moves, a version number does not
    requested: str  # what the user wrote (an alias URI stays visible)
    run_id: str | None
    source: str | None  # MLflow's own pointer to the logged model
    description: str | None
    model_file: str = ""  # the scikit-learn flavour's file, e.g. model.skops
    serialization: str = ""  # skops, pickle or cloudpickle
    sklearn_version: str | None = None
    features: list[str] | None = None
    sha256: str = ""

    def origin(self, tracking_uri: str) -> dict[str, Any]:
        """What the register records about where the version came from (no credentials)."""
        return {
            "registry": "mlflow",
            "tracking_uri": redact(tracking_uri),
            "uri": self.uri,
            "requested": self.requested,
            "run_id": self.run_id,
            "source": redact(self.source) if self.source else None,
            "model_file": self.model_file,
            "serialization": self.serialization,
        }


@dataclass
class FetchedModel:
    """A version downloaded into a temporary folder (removed when the ``with`` block of :func:`fetch` ends)."""

    version: MlflowVersion
    model_path: Path
    tracking_uri: str


def redact(text: str) -> str:
    """A URI (or a message quoting one) without a user name, password or secret query value
    (``https://***@host``, ``?access_token=***``)."""
    return _SECRET_PARAMETER.sub(r"\1***", _USER_PART.sub("***@", text))


def tracking_uri(given: str | None = None) -> str:
    """The tracking server: ``given``, else ``MLFLOW_TRACKING_URI``; a SQLite store must already exist.

    Without either, MLflow would make a new empty store in the current folder, and every name would be unknown.
    """
    uri = (given or os.environ.get("MLFLOW_TRACKING_URI") or "").strip()
    if not uri:
        raise InputError(
            "No MLflow tracking server is set; set MLFLOW_TRACKING_URI to it (for example "
            "http://mlflow.example.com:5000 or sqlite:///mlflow.db) to use models:/ URIs."
        )
    if uri.startswith("sqlite:///"):
        database = Path(uri.removeprefix("sqlite:///").split("?")[0])
        if not database.is_file():
            raise InputError(
                f"The MLflow tracking store {redact(uri)} does not exist; check MLFLOW_TRACKING_URI (a SQLite URI "
                "needs the path of an existing mlflow.db)."
            )
    return uri


def _mlflow() -> Any:
    """Import MLflow lazily, or say how to install it."""
    try:
        import mlflow
    except ImportError as exc:
        raise InputError(
            f"Loading models:/ URIs needs MLflow, which is not installed; install it with {INSTALL_HINT}."
        ) from exc
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    return mlflow


def client(uri: str) -> Any:
    """An ``MlflowClient`` for the tracking server (its registry is the same server)."""
    mlflow = _mlflow()
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


@contextlib.contextmanager
def _talking_to(uri: str, doing: str, *, missing: str | None = None) -> Iterator[None]:
    """Turn MLflow's and the network's errors into one sentence; ``missing`` for a name it does not know."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        code = str(getattr(exc, "error_code", ""))
        message = redact(str(getattr(exc, "message", exc)).splitlines()[0])[:300]
        if missing is not None and (code == "RESOURCE_DOES_NOT_EXIST" or "not found" in message.lower()):
            raise InputError(missing) from exc
        if _UNREACHABLE.search(message):
            raise InputError(
                f"The MLflow tracking server {redact(uri)} could not be reached to {doing} ({_why(str(exc))}); "
                "check MLFLOW_TRACKING_URI and that the server is running."
            ) from exc
        raise InputError(
            f"The MLflow tracking server {redact(uri)} could not {doing} ({message}); check MLFLOW_TRACKING_URI "
            "and that the server is running and lets you in."
        ) from exc
    except (OSError, ConnectionError) as exc:
        raise InputError(
            f"The MLflow tracking server {redact(uri)} could not be reached to {doing} ({redact(str(exc))}); check "
            "MLFLOW_TRACKING_URI and that the server is running."
        ) from exc


_UNREACHABLE = re.compile(
    r"Max retries exceeded|ConnectionError|NewConnectionError|timed out|Name or service", re.I
)


def _why(message: str) -> str:
    """The short reason in a network error: "connection refused", "timed out", "unknown host"."""
    lowered = message.lower()
    for words, reason in (
        ("refused", "connection refused"),
        ("timed out", "no answer in time"),
        ("name or service", "unknown host name"),
        ("name resolution", "unknown host name"),
    ):
        if words in lowered:
            return reason
    return "no answer"


def _unknown_model(where: str, name: str) -> str:
    return (
        f"The MLflow registry at {redact(where)} has no model named '{name}'; check the name "
        "(MLflow's Models page lists them) or MLFLOW_TRACKING_URI."
    )


def resolve(reference: str, *, uri: str | None = None) -> tuple[MlflowVersion, str]:
    """The registered version ``reference`` names (an alias resolved to its number), and the tracking URI."""
    parsed = parse_models_uri(reference)
    where = tracking_uri(uri)
    registry = client(where)
    with _talking_to(where, f"find the model '{parsed.name}'", missing=_unknown_model(where, parsed.name)):
        registry.get_registered_model(parsed.name)
    if parsed.version is not None:
        missing = (
            f"The MLflow model '{parsed.name}' has no version {parsed.version}; check the number on its page in "
            "MLflow, or use an alias such as models:/NAME@champion."
        )
        with _talking_to(where, f"find {parsed.text}", missing=missing):
            found = registry.get_model_version(parsed.name, parsed.version)
    else:
        missing = (
            f"The MLflow model '{parsed.name}' has no alias '{parsed.alias}'; check the alias on its page in "
            "MLflow, or give the version number: models:/NAME/VERSION."
        )
        with _talking_to(where, f"find {parsed.text}", missing=missing):
            found = registry.get_model_version_by_alias(parsed.name, parsed.alias)
    return _version(found, requested=reference.strip()), where


def _version(found: Any, *, requested: str) -> MlflowVersion:
    return MlflowVersion(
        name=str(found.name),
        version=str(found.version),
        uri=f"{SCHEME}{found.name}/{found.version}",
        requested=requested,
        run_id=found.run_id or None,
        source=found.source or None,
        description=found.description or None,
    )


def list_versions(name: str, *, uri: str | None = None) -> tuple[list[MlflowVersion], dict[str, Any], str]:
    """Every registered version of ``name`` (oldest first), the registered model's description and tags, the URI."""
    where = tracking_uri(uri)
    registry = client(where)
    with _talking_to(where, f"find the model '{name}'", missing=_unknown_model(where, name)):
        model = registry.get_registered_model(name)
        quoted = name.replace("'", "\\'")
        found = list(registry.search_model_versions(f"name='{quoted}'"))
    versions = sorted(
        (_version(item, requested=f"{SCHEME}{item.name}/{item.version}") for item in found),
        key=lambda v: (len(v.version), v.version),
    )
    about = {"description": model.description or None, "tags": dict(model.tags or {})}
    return versions, about, where


@contextlib.contextmanager
def fetch(reference: str, *, uri: str | None = None) -> Iterator[FetchedModel]:
    """Download a version's artefacts into a temporary folder and find its scikit-learn model file.

    Only the scikit-learn flavour is read (a model saved with ``mlflow.sklearn``); the folder is removed after.
    """
    version, where = resolve(reference, uri=uri)
    mlflow = _mlflow()
    with tempfile.TemporaryDirectory(prefix="governance-mlflow-") as folder:
        with _talking_to(where, f"download {version.uri}", missing=None):
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=version.uri, dst_path=folder, tracking_uri=where
                )
            )
        yield _read_flavour(version, local, where)


def _read_flavour(version: MlflowVersion, local: Path, where: str) -> FetchedModel:
    """The model file the MLmodel file's ``sklearn`` flavour names, with its SHA-256."""
    import yaml

    from governance.provenance import sha256_file
    from governance.yamlload import load_yaml

    try:
        spec = load_yaml((local / "MLmodel").read_text(encoding="utf-8"), source=f"{version.uri} MLmodel")
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(
            f"{version.uri} has no readable MLmodel file ({exc}); log the model again with mlflow.sklearn.log_model."
        ) from exc
    flavour = (spec.get("flavors") or {}).get("sklearn") if isinstance(spec, dict) else None
    if not isinstance(flavour, dict) or not flavour.get("pickled_model"):
        raise InputError(
            f"{version.uri} is not a scikit-learn model (its MLmodel file has no sklearn flavour); log it with "
            "mlflow.sklearn.log_model, or audit its saved predictions with {predictions} COL.",
            fields=["predictions"],
        )
    model_file = str(flavour["pickled_model"])
    path = (local / model_file).resolve()
    if local.resolve() not in path.parents or not path.is_file():
        raise InputError(
            f"{version.uri} names a model file ({model_file}) that is not among its artefacts; log the model again."
        )
    serialization = str(flavour.get("serialization_format") or "cloudpickle")
    if serialization != "skops" and path.suffix.lower() not in {".pkl", ".pickle", ".joblib"}:
        path = path.rename(path.with_suffix(".pkl"))  # whatever its name, a pickle is loaded as one
    resolved = replace(
        version,
        model_file=model_file,
        serialization=serialization,
        sklearn_version=str(flavour.get("sklearn_version") or "") or None,
        features=_signature_features(spec),
        sha256=sha256_file(path),
    )
    return FetchedModel(version=resolved, model_path=path, tracking_uri=where)


def _signature_features(spec: dict[str, Any]) -> list[str] | None:
    """The input column names of the model's signature, when it was logged with one."""
    import json

    inputs = (spec.get("signature") or {}).get("inputs")
    try:
        columns = json.loads(inputs) if isinstance(inputs, str) else None
    except ValueError:
        return None
    names = [str(c["name"]) for c in columns or [] if isinstance(c, dict) and c.get("name")]
    return names or None


def check_mlflow_model(
    reference: str, *, uri: str | None = None
) -> tuple[ModelFileCheck, MlflowVersion, str]:
    """Find out, without loading it, whether a registered version's model file can run code when loaded."""
    from governance.intake.model_files import check_model_file

    with fetch(reference, uri=uri) as fetched:
        return check_model_file(fetched.model_path), fetched.version, fetched.tracking_uri


def load_mlflow_model(
    reference: str, *, uri: str | None = None, pinned_sha256: str | None = None, **options: Any
) -> LoadedModel:
    """Load a registered version with the toolkit's own loader; a hash other than the pinned one is refused.

    ``options`` (who vouched for the file) are :func:`~governance.intake.model_files.load_model`'s, handed on.
    """
    from governance.intake.model_files import load_model

    with fetch(reference, uri=uri) as fetched:
        found = fetched.version
        if pinned_sha256 and pinned_sha256.strip().lower() != found.sha256:
            raise RefusedInputError(
                f"{found.uri} changed in MLflow since it was registered: its model file's SHA-256 is now "
                f"{found.sha256[:12]}…, the register pinned {pinned_sha256[:12]}…; nothing was loaded, so find out "
                "who replaced it, and register the new model as a new version."
            )
        loaded = load_model(fetched.model_path, shown_name=f"{found.uri} ({found.model_file})", **options)
    return replace(loaded, path=Path(found.model_file), source=found.uri)


def load_any_model(model: str | Path, **options: Any) -> LoadedModel:
    """A local model file, or a ``models:/`` URI from MLflow: the same options, the same safety rules."""
    from governance.intake.model_files import load_model

    if is_mlflow_uri(model):
        return load_mlflow_model(str(model), **options)
    return load_model(model, **options)


def write_audit_tags(
    reference: str,
    *,
    verdict: str,
    audit_id: str,
    report: str,
    audit_json: Path | None = None,
    uri: str | None = None,
) -> list[str]:
    """Write the audit's verdict, id and report as tags of the model version (and audit.json into its run).

    Returns what was written, in words. Called only when the user asked for it (``--mlflow-tags``).
    """
    version, where = resolve(reference, uri=uri)
    registry = client(where)
    tags = {
        f"{TAG_PREFIX}verdict": verdict,
        f"{TAG_PREFIX}audit_id": audit_id,
        f"{TAG_PREFIX}report": report,
    }
    with _talking_to(where, f"tag {version.uri}"):
        for key, value in tags.items():
            registry.set_model_version_tag(version.name, version.version, key, value)
    written = [f"tagged {version.uri} with {', '.join(sorted(tags))}"]
    if audit_json is not None and version.run_id:
        with _talking_to(where, f"log audit.json into the run {version.run_id}"):
            registry.log_artifact(version.run_id, str(audit_json), artifact_path=f"governance/{audit_id}")
        written.append(f"logged audit.json into its run {version.run_id} (governance/{audit_id}/)")
    return written
