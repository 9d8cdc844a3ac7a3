"""``diff_audits``: find the two audits, read them, and compare them with the newer policy's tolerance."""

from __future__ import annotations

from pathlib import Path

from governance.compare.diff import compare_audits
from governance.compare.load import find_audit, is_audit_path, load_from_path, load_recorded
from governance.errors import FieldError, InputError
from governance.results.audit import AuditResult
from governance.results.monitoring import AuditDiff
from governance.rules.schema import Monitoring
from governance.workspace import Workspace


def diff_audits(
    first: str,
    second: str,
    *,
    workspace: Workspace,
    register_url: str | None = None,
    tolerance: float | None = None,
    seed: int = 0,
) -> AuditDiff:
    """Compare audit ``first`` (before) with ``second`` (after): audit ids, ``NAME@VERSION`` or audit.json paths."""
    if tolerance is not None and tolerance < 0:
        raise FieldError("tolerance", f"{{field}} must be 0 or more, not {tolerance:g}.")
    before, after = _load_both(first, second, workspace, register_url)
    if before.audit_id == after.audit_id:
        raise InputError(
            f"Both names point at the same audit ({before.audit_id}); give two different audits."
        )
    if tolerance is None:
        tolerance = policy_monitoring(after, workspace).diff_tolerance
    return compare_audits(before, after, tolerance=tolerance, seed=seed)


def _load_both(
    first: str, second: str, workspace: Workspace, register_url: str | None
) -> tuple[AuditResult, AuditResult]:
    references = [first, second]
    if all(is_audit_path(r) for r in references):
        loaded = [load_from_path(r) for r in references]
        return loaded[0], loaded[1]
    from governance.register import Register

    with Register.for_workspace(workspace, register_url, create=False) as register:
        results = [
            load_from_path(r) if is_audit_path(r) else load_recorded(register, find_audit(register, r))
            for r in references
        ]
    return results[0], results[1]


def policy_monitoring(result: AuditResult, workspace: Workspace) -> Monitoring:
    """The ``monitoring:`` settings of the policy an audit used, if its file is still the one it used."""
    from governance.rules.load import load_policy

    name = result.policy.policy_path
    candidates = [workspace.root / name, workspace.policies_dir / name, Path(name).stem]
    for candidate in candidates:
        try:
            loaded = load_policy(str(candidate), workspace_root=workspace.root)
        except (InputError, OSError):
            continue
        if loaded.sha256 == result.policy.policy_sha256:
            return loaded.policy.monitoring
    return Monitoring()
