"""An audit that goes through the register: the artefact and its pinned hash come from the register, and the
audit is recorded there. If recording fails, the audit folder is removed, so neither half exists alone; if the
process is killed in between, the folder stays unrecorded, an orphan that ``governance register verify`` reports
and ``governance register clean-orphans`` removes (the folder's lock tells a live audit from a dead one)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.audit.options import check_explain_options, check_run_options, parse_model_ref
from governance.audit.run import AuditOutcome, AuditRequest, Progress, audit
from governance.errors import FieldError, InputError, RefusedInputError
from governance.intake.mlflow_models import is_mlflow_uri, resolve
from governance.intake.model_files import Vouching
from governance.provenance import resolve_actor
from governance.stops import kept_audit, stopped_after
from governance.workspace import find_workspace, require_workspace

if TYPE_CHECKING:
    from governance.register import Register


def audit_registered(
    request: AuditRequest | str,
    *,
    register_url: str | None = None,
    use_register: bool = True,
    actor: str | None = None,
    progress: Progress | None = None,
    mlflow_tags: bool = False,
    **fields: Any,
) -> AuditOutcome:
    """Audit a registered version; with the register, resolve its artefact and record the audit.

    ``request`` is an :class:`AuditRequest`, or ``NAME@VERSION`` with the request's other fields as keywords.
    ``mlflow_tags``: after the audit is recorded, write its verdict, id and report back to the MLflow model version
    it audited (a failure then is a warning in ``outcome.warnings``: the audit is kept).
    """
    request = _as_request(request, fields)
    outcome = _audit_registered(
        request,
        register_url=register_url,
        use_register=use_register,
        actor=actor,
        progress=progress,
        mlflow_tags=mlflow_tags,
    )
    if not mlflow_tags:
        return outcome
    try:
        return _write_back(outcome)
    except KeyboardInterrupt as stop:  # the audit is recorded: running it again would record a second one
        raise stopped_after(stop, kept_audit(outcome.result, outcome.folder, "its MLflow tags")) from None


def _as_request(request: AuditRequest | str, fields: dict[str, Any]) -> AuditRequest:
    """The request itself, or one built from ``NAME@VERSION`` and keywords."""
    if isinstance(request, AuditRequest):
        return replace(request, **fields) if fields else request
    name, version = parse_model_ref(request)
    return AuditRequest(name=name, version=version, **fields)


def _audit_registered(
    request: AuditRequest,
    *,
    register_url: str | None,
    use_register: bool,
    actor: str | None,
    progress: Progress | None,
    mlflow_tags: bool,
) -> AuditOutcome:
    check_explain_options(request.explain_budget, request.explain_rows)
    check_run_options(seed=request.seed, threshold=request.threshold, n_boot=request.n_boot)
    space = request.workspace or (require_workspace() if use_register else find_workspace())
    reference = f"{request.name}@{request.version}"
    if not use_register:
        if request.model is None and request.predictions is None:
            raise InputError(
                "With {no_register}, give the model file with {model}, or the predictions with {predictions}.",
                fields={"no_register": "use_register=False", "model": "model", "predictions": "predictions"},
            )
        if mlflow_tags:
            _require_mlflow_model(request.model if request.predictions is None else None, reference)
        # Only a model needs trusting: saved predictions skip asking git who acts (a process per audit).
        trusted_by = resolve_actor(actor) if request.model is not None else None
        return audit(replace(request, workspace=space, trusted_by=trusted_by), progress=progress)

    from governance.register import Register

    with Register.for_workspace(space, register_url) as register:
        record = register.resolve_version(request.name, request.version)
        register.check_can_sign()  # a signed register refuses an unsigned record: say so before auditing
        artefact = _registered_artefact(record.artifact_path, space.root)
        pinned = record.sha256
        vouching = Vouching(pinned, record.vouched_by, record.vouched_at) if record.vouched_by else None
        if vouching is not None:
            _require_genuine_vouching(register, reference)
        if request.model is not None and not _same_artefact(request.model, artefact):
            raise FieldError(
                "model",
                f"{reference} is registered with the file {record.artifact_path}; leave out {{field}}, or register "
                "the other file as a new version.",
            )
        if mlflow_tags:
            _require_mlflow_model(None if request.predictions else artefact, reference)
        registered = replace(
            request,
            model=None if request.predictions else artefact,
            pinned_sha256=pinned,
            vouching=vouching,
            trusted_by=resolve_actor(actor),
            workspace=space,
            keep_claim=True,
        )
        outcome = audit(registered, progress=progress)
        if outcome.claim is None:
            return outcome
        try:
            _record(register, outcome, space.root, pinned, actor)
        except BaseException as failed:
            _after_failed_record(register, outcome, failed)
            raise
        finally:
            outcome.claim.release()
        return AuditOutcome(result=outcome.result, folder=outcome.folder)


def _after_failed_record(register: Register, outcome: AuditOutcome, failed: BaseException) -> None:
    """The folder of an audit the register does not hold is removed; a stop that came after the commit says the
    audit is kept ("run it again" would record it twice)."""
    assert outcome.claim is not None
    if not _recorded_after_all(register, outcome):
        outcome.claim.discard()  # only the folder this audit wrote
    elif isinstance(failed, KeyboardInterrupt):
        raise stopped_after(failed, kept_audit(outcome.result, outcome.folder)) from None


def _recorded_after_all(register: Register, outcome: AuditOutcome) -> bool:
    """Whether the register holds the audit although recording it raised: a Ctrl-C or SIGTERM that came after
    the commit (while the connection was handed back) must not remove a recorded audit's folder. When the
    register cannot say, the folder is removed as before (an unrecorded one would be an orphan)."""
    result = outcome.result
    try:
        audits = register.show(result.model.name).audits
    except Exception:
        return False
    return any(audit.audit_id == result.audit_id for audit in audits)


def _require_mlflow_model(model: str | Path | None, reference: str) -> None:
    """``--mlflow-tags`` writes to an MLflow model version: refuse it, before the audit, when there is none."""
    if model is None or not is_mlflow_uri(model):
        what = f"the model file {model}" if model is not None else "saved predictions"
        raise FieldError(
            "mlflow_tags",
            f"{{field}} writes the verdict back to an MLflow model version, but this audit of {reference} runs "
            f"on {what}; leave out {{field}}, or audit a models:/NAME/VERSION model.",
        )


def _write_back(outcome: AuditOutcome) -> AuditOutcome:
    """Tag the audited MLflow version with the verdict, audit id and report; a failure is a warning, not a loss."""
    from dataclasses import replace

    from governance.errors import GovernanceError
    from governance.intake.mlflow_models import write_audit_tags

    result, folder = outcome.result, outcome.folder
    if folder is None or result.model.path is None:
        return outcome
    try:
        written = write_audit_tags(
            result.model.path,
            verdict=result.policy.verdict,
            audit_id=result.audit_id,
            report=str((folder / "report.md").resolve()),
            audit_json=folder / "audit.json",
        )
    except Exception as error:  # any MLflow failure after the audit is written must not lose the audit
        reason = str(error) if isinstance(error, GovernanceError) else f"{type(error).__name__}: {error}"
        warning = (
            f"The audit {result.audit_id} is complete and kept, but its verdict was not written to MLflow "
            f"({reason.rstrip('.')}); run the audit again with mlflow_tags=True, or set the tags by hand."
        )
        return replace(outcome, warnings=(*outcome.warnings, warning))
    return replace(outcome, notes=(*outcome.notes, *written))


def _registered_artefact(stored: str, root: Path) -> Path | str:
    """The registered model: a file (relative paths are under the workspace) or an MLflow ``models:/`` URI."""
    if is_mlflow_uri(stored):
        return stored
    artefact = Path(stored)
    return artefact if artefact.is_absolute() else root / artefact


def _same_artefact(given: str | Path, registered: Path | str) -> bool:
    """Whether ``--model`` names the registered model (an MLflow alias is resolved to its version first)."""
    if isinstance(registered, str) or is_mlflow_uri(given):
        if not (isinstance(registered, str) and is_mlflow_uri(given)):
            return False
        return given == registered or resolve(str(given))[0].uri == registered
    return Path(given).resolve() == registered.resolve()


def _require_genuine_vouching(register: Register, reference: str) -> None:
    """A vouching lets the audit load a file that can run code: trust it only if the history verifies.

    Someone who can write to the database but lacks the key could otherwise insert a vouching (and a version row)
    by hand, and the auditor's account would run the file before anyone ran ``verify``.
    """
    from governance.register.actions import advice
    from governance.register.checks import history_break

    problem = history_break(register.verify())
    if problem is not None:
        raise RefusedInputError(
            f"The model file of {reference} can run code when loaded, and the register that vouches for it fails "
            f"verify ({problem.rstrip('.')}), so the vouching cannot be trusted and nothing was loaded; run "
            "{verify} and restore the register from a backup.",
            **advice("verify"),
        )


def _record(register: Register, outcome: AuditOutcome, root: Path, pinned: str, actor: str | None) -> None:
    """Record a written audit in the register (the test hook can hold the process just before)."""
    from governance.testhooks import pause_at

    result = outcome.result
    assert outcome.folder is not None
    pause_at("before-commit")
    try:
        audit_json = str((outcome.folder / "audit.json").resolve().relative_to(root.resolve()))
    except ValueError:
        audit_json = str(outcome.folder / "audit.json")
    register.record_audit(
        result.model.name,
        result.model.version,
        audit_id=result.audit_id,
        audit_json_path=audit_json,
        verdict=result.policy.verdict,
        policy_name=result.policy.policy_name,
        policy_sha256=result.policy.policy_sha256,
        data_sha256=result.data.sha256,
        artifact_sha256=result.model.sha256 or pinned,
        tool_versions=result.provenance.library_versions,
        actor=resolve_actor(actor),
        max_age_days=result.policy.max_audit_age_days,
        override=result.override.model_dump() if result.override else None,
        from_predictions=result.model.kind == "predictions",
    )


@dataclass(frozen=True)
class FingerprintCheck:
    """One recorded table audit, its fingerprint then and the engine's fingerprint now."""

    audit_id: str
    source: str  # "PostgreSQL: hr.decisions" or "DuckDB: query"
    recorded: str
    now: str

    @property
    def unchanged(self) -> bool:
        return self.recorded == self.now


def refingerprint_audits(
    register: Register, reference: str, *, connection: Any, timeout: float | None = None
) -> list[FingerprintCheck]:
    """Recompute, in the engine, the fingerprint of every table audit of ``NAME@VERSION`` (newest first).

    The audit.json files are read as recorded (``verify`` checks their hashes); the connection is given again
    because no password is ever stored.
    """
    import json

    from governance.audit.tables import refingerprint
    from governance.intake.engine import BACKEND_NAMES
    from governance.register.actions import advice
    from governance.results.audit import TableInfo

    name, version = parse_model_ref(reference)
    register.resolve_version(name, version)
    records = [a for a in register.show(name).audits if a.version == version]
    checks: list[FingerprintCheck] = []
    for record in sorted(records, key=lambda a: a.recorded_at, reverse=True):
        path = register.locate(record.audit_json_path)
        try:
            table = json.loads(path.read_text(encoding="utf-8")).get("data", {}).get("table")
        except (OSError, ValueError) as error:
            raise InputError(
                f"The audit {record.audit_id} cannot be read at {path} ({error}); run {{verify}}.",
                **advice("verify"),
            ) from error
        if not table:
            continue
        info = TableInfo.model_validate(table)
        label = f"{BACKEND_NAMES.get(info.backend, info.backend)}: {info.table or 'query'}"
        checks.append(
            FingerprintCheck(
                audit_id=record.audit_id,
                source=label,
                recorded=info.fingerprint,
                now=refingerprint(info, connection, timeout=timeout),
            )
        )
    if not checks:
        raise InputError(
            f"{reference} has no audit of a table ({{table}} or {{query}}); {{refingerprint}} checks those only, while "
            "files are checked by their SHA-256.",
            fields=["table", "query", "refingerprint"],
        )
    return checks
