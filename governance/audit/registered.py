"""An audit that goes through the register: the artefact and its pinned hash come from the register, and the
audit is recorded there. If recording fails, the audit folder is removed, so neither half exists alone; if the
process is killed in between, the folder stays unrecorded, an orphan that ``governance register verify`` reports
and ``governance register clean-orphans`` removes (the folder's lock tells a live audit from a dead one)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.audit.run import AuditOutcome, audit, check_explain_options, check_run_options
from governance.errors import InputError, RefusedInputError
from governance.intake.model_files import Vouching
from governance.provenance import resolve_actor
from governance.workspace import Workspace, find_workspace, require_workspace

if TYPE_CHECKING:
    from governance.register import Register


def parse_model_ref(reference: str) -> tuple[str, str]:
    """``NAME@VERSION`` -> (name, version), with a clear error otherwise."""
    name, sep, version = reference.partition("@")
    if not sep or not name.strip() or not version.strip():
        raise InputError(f"'{reference}' is not of the form NAME@VERSION (for example credit-risk@1.0.0).")
    return name.strip(), version.strip()


def audit_registered(
    reference: str,
    *,
    register_url: str | None = None,
    use_register: bool = True,
    actor: str | None = None,
    workspace: Workspace | None = None,
    model: str | Path | None = None,
    predictions: str | None = None,
    **options: Any,
) -> AuditOutcome:
    """Audit ``NAME@VERSION``; with the register, resolve its artefact and record the audit."""
    name, version = parse_model_ref(reference)
    check_explain_options(options.get("explain_budget", 60.0), options.get("explain_rows"))
    check_run_options(
        seed=options.get("seed", 0), threshold=options.get("threshold"), n_boot=options.get("n_boot")
    )
    space = workspace or (require_workspace() if use_register else find_workspace())
    if not use_register:
        if model is None and predictions is None:
            raise InputError(
                "With --no-register, give the model file with --model, or the predictions with --predictions."
            )
        return audit(
            name=name,
            version=version,
            model=model,
            predictions=predictions,
            workspace=space,
            trusted_by=resolve_actor(actor),
            **options,
        )

    from governance.register import Register

    with Register.for_workspace(space, register_url) as register:
        record = register.resolve_version(name, version)
        register.check_can_sign()  # a signed register refuses an unsigned record: say so before auditing
        artefact = Path(record.artifact_path)
        if not artefact.is_absolute():
            artefact = space.root / artefact
        pinned = record.sha256
        vouching = Vouching(pinned, record.vouched_by, record.vouched_at) if record.vouched_by else None
        if vouching is not None:
            _require_genuine_vouching(register, reference)
        if model is not None and Path(model).resolve() != artefact.resolve():
            raise InputError(
                f"{name}@{version} is registered with the file {record.artifact_path}; leave out --model, or register "
                "the other file as a new version."
            )
        outcome = audit(
            name=name,
            version=version,
            model=None if predictions else artefact,
            predictions=predictions,
            pinned_sha256=pinned,
            vouching=vouching,
            trusted_by=resolve_actor(actor),
            workspace=space,
            keep_claim=True,
            **options,
        )
        if outcome.claim is None:
            return outcome
        try:
            _record(register, outcome, space.root, pinned, actor)
        except BaseException:
            outcome.claim.discard()  # only the folder this audit wrote
            raise
        finally:
            outcome.claim.release()
        return AuditOutcome(result=outcome.result, folder=outcome.folder)


def _require_genuine_vouching(register: Register, reference: str) -> None:
    """A vouching lets the audit load a file that can run code: trust it only if the history verifies.

    Someone who can write to the database but lacks the key could otherwise insert a vouching (and a version row)
    by hand, and the auditor's account would run the file before anyone ran ``verify``.
    """
    from governance.register.checks import history_break

    problem = history_break(register.verify())
    if problem is not None:
        raise RefusedInputError(
            f"The model file of {reference} can run code when loaded, and the register that vouches for it fails "
            f"verify ({problem.rstrip('.')}), so the vouching cannot be trusted and nothing was loaded; run "
            "`governance register verify` and restore the register from a backup."
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
