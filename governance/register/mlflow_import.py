"""``governance register import-mlflow``: mirror an MLflow registered model's versions into the register.

Each MLflow version N becomes version N, registered from ``models:/NAME/N`` like ``register version`` does (its run
id and model file in ``source``, the model file's SHA-256 pinned). Running it again adds only new versions and checks
the ones already mirrored: one whose model file changed in MLflow under the same number is reported, never replaced.
A version whose model file can run code when loaded is not imported: someone must vouch for it, one version at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from governance.errors import InputError, NotFoundError, RefusedInputError, RegisterError
from governance.register.actions import step
from governance.results.next_steps import NextStep, worded

if TYPE_CHECKING:
    from governance.intake.mlflow_models import MlflowVersion
    from governance.register.api import Register
    from governance.register.records import VersionRecord


@dataclass
class ImportReport:
    """What an import did: versions added, already there, refused (until vouched for) or changed in MLflow."""

    model: str
    source: str
    created_model: bool = False
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one sentence each, with the command that vouches
    changed: list[str] = field(default_factory=list)  # one sentence each
    # the next steps the sentences name, in the library's words
    steps: list[NextStep] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report in plain words, one line each."""
        out = [f"Registered the model {self.model} from MLflow."] if self.created_model else []
        if self.imported:
            out.append(f"Imported {_versions(self.imported)} of {self.model} from {self.source}.")
        if self.unchanged:
            out.append(f"Already in the register and unchanged: {_versions(self.unchanged)}.")
        if not self.imported and not self.refused and not self.changed:
            out.append(f"Nothing new to import: the register already mirrors every version of {self.source}.")
        out += [f"Not imported: {message}" for message in self.refused]
        out += [f"Changed in MLflow: {message}" for message in self.changed]
        return out

    def worded_lines(self) -> list[str]:
        """:meth:`lines` with each next step as the command that takes it, as the command line says it."""
        return [worded(line, self.steps) for line in self.lines()]


def _versions(labels: list[str]) -> str:
    return f"version{'s' if len(labels) > 1 else ''} {', '.join(labels)}"


def import_mlflow(
    register: Register,
    name: str,
    *,
    actor: str,
    register_name: str | None = None,
    owner: str | None = None,
    purpose: str | None = None,
) -> ImportReport:
    """Mirror the MLflow model ``name``'s versions as ``register_name`` (default: the same name).

    The tracking server is ``MLFLOW_TRACKING_URI``. Bad input (an unknown model, no owner for a new one) raises
    before anything is written.
    """
    from governance.intake.mlflow_models import list_versions

    versions, about, where = list_versions(name)
    target = register_name or name
    known = _known_versions(register, target)
    report = ImportReport(model=target, source=f"MLflow model '{name}'")
    if known is None:
        _add_model(register, target, name, about, owner=owner, purpose=purpose, actor=actor)
        report.created_model, known = True, {}
    for found in versions:
        record = known.get(found.version)
        if record is None:
            _import_version(register, target, found, where, actor, report)
        else:
            _check_mirrored(target, found, record, where, report)
    return report


def _known_versions(register: Register, target: str) -> dict[str, VersionRecord] | None:
    """The register's versions of ``target`` by label, or ``None`` when the model is not registered."""
    try:
        detail = register.show(target)
    except NotFoundError:
        return None
    return {record.version: record for record in detail.versions}


def _add_model(
    register: Register,
    target: str,
    name: str,
    about: dict[str, object],
    *,
    owner: str | None,
    purpose: str | None,
    actor: str,
) -> None:
    """Register the model itself; the owner and purpose come from the options, else from MLflow, else it asks."""
    tags = about.get("tags")
    tagged_owner = str(tags.get("owner") or "").strip() if isinstance(tags, dict) else ""
    owner = owner or tagged_owner or None
    description = str(about.get("description") or "").strip()
    purpose = purpose or (description.splitlines()[0].strip() if description else None)
    missing = [field for field, value in (("owner", owner), ("purpose", purpose)) if not value]
    if missing:
        raise InputError(
            f"{target} is not in the register yet, and MLflow does not say {' or '.join(_what(m) for m in missing)} "
            f"for '{name}'; give {' and '.join(_MISSING_WORDS[m] for m in missing)} (nothing was imported).",
            fields=missing,
        )
    register.add_model(target, owner=str(owner), purpose=str(purpose), actor=actor)


_MISSING_WORDS = {"owner": "{owner} EMAIL", "purpose": "{purpose} TEXT"}


def _what(field: str) -> str:
    return "who owns it (a tag 'owner')" if field == "owner" else "what it decides (a description)"


def _import_version(
    register: Register, target: str, found: MlflowVersion, where: str, actor: str, report: ImportReport
) -> None:
    """Register one new version; a file that can run code is refused with the command that vouches for it."""
    from governance.intake.mlflow_models import redact

    try:
        register.add_version(target, found.version, artifact_path=found.uri, actor=actor)
    except RefusedInputError as refusal:
        vouch = step("vouch_version", model=target, version=found.version, uri=found.uri)
        said = [
            NextStep(action=a, said=words, subject=refusal.subject) for a, words in refusal.actions.items()
        ]
        report.steps += [*said, vouch]
        report.refused.append(
            f"{refusal} To vouch for it: {vouch.said} (with MLFLOW_TRACKING_URI={redact(where)})."
        )
        return
    except RegisterError as error:  # the same model file as another version: one sentence, carry on
        report.refused.append(f"{found.uri}: {error}")
        return
    report.imported.append(found.version)


def _check_mirrored(
    target: str, found: MlflowVersion, record: VersionRecord, where: str, report: ImportReport
) -> None:
    """A version already in the register: it must still be the same model file (or it was registered otherwise)."""
    from governance.intake.mlflow_models import check_mlflow_model

    if record.artifact_path != found.uri:
        rename = step("import_as")
        report.steps.append(rename)
        report.changed.append(
            f"{target}@{found.version} is registered with {record.artifact_path}, not {found.uri}; import the MLflow "
            f"model under another name with {rename.said}."
        )
        return
    check, _found, _where = check_mlflow_model(found.uri, uri=where)
    if check.sha256 != record.sha256:
        report.changed.append(
            f"{found.uri} changed in MLflow since it was imported as {target}@{found.version} (its model file's "
            f"SHA-256 is now {check.sha256[:12]}…, the register pinned {record.sha256[:12]}…); find out who replaced "
            "it, and log the new model as a new MLflow version."
        )
        return
    report.unchanged.append(found.version)
