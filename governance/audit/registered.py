"""An audit that goes through the register: the artefact and its pinned hash come from the register, and the
audit is recorded there. If recording fails, the audit folder is removed, so neither half exists alone."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from governance.audit.run import AuditOutcome, audit, check_explain_options
from governance.errors import InputError
from governance.provenance import resolve_actor
from governance.workspace import Workspace, find_workspace, require_workspace


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
    space = workspace or (require_workspace() if use_register else find_workspace())
    if not use_register:
        if model is None and predictions is None:
            raise InputError("With --no-register, give the model file with --model, or the predictions with --predictions.")
        return audit(name=name, version=version, model=model, predictions=predictions, workspace=space, **options)

    from governance.register import Register

    with Register.for_workspace(space, register_url) as register:
        record = register.resolve_version(name, version)
        register.check_can_sign()  # a signed register refuses an unsigned record: say so before auditing
        artefact = Path(record.artifact_path)
        if not artefact.is_absolute():
            artefact = space.root / artefact
        pinned = record.sha256
        if model is not None and Path(model).resolve() != artefact.resolve():
            raise InputError(
                f"{name}@{version} is registered with the file {record.artifact_path}; leave out --model, or register "
                "the other file as a new version."
            )
        outcome = audit(
            name=name, version=version, model=None if predictions else artefact, predictions=predictions,
            pinned_sha256=pinned, workspace=space, **options,
        )
        result = outcome.result
        if outcome.folder is None:
            return outcome
        try:
            relative = (outcome.folder / "audit.json").resolve().relative_to(space.root.resolve())
            audit_json = str(relative)
        except ValueError:
            audit_json = str(outcome.folder / "audit.json")
        try:
            register.record_audit(
                name, version, audit_id=result.audit_id, audit_json_path=audit_json, verdict=result.policy.verdict,
                policy_name=result.policy.policy_name, policy_sha256=result.policy.policy_sha256,
                data_sha256=result.data.sha256, artifact_sha256=result.model.sha256 or pinned,
                tool_versions=result.provenance.library_versions, actor=resolve_actor(actor),
                max_age_days=result.policy.max_audit_age_days,
                override=result.override.model_dump() if result.override else None,
                from_predictions=result.model.kind == "predictions",
            )
        except BaseException:
            shutil.rmtree(outcome.folder, ignore_errors=True)
            raise
        return outcome
