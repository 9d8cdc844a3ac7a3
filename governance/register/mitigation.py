"""Mitigation runs in the register, and the choice among their candidates when one is approved.

``governance mitigate`` writes a comparison folder; recording the run keeps the SHA-256 of each of its files (so
the site publishes the comparison only while it is what was recorded) and each candidate's version, method and
verdict. Approving a candidate (a version whose lineage says ``mitigated_from``) then records, in the approval
row itself, the run it was chosen from and the alternatives with their verdicts: the choice, not only a comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from governance import provenance
from governance.errors import InputError
from governance.register import database, lifecycle, manifest
from governance.register import schema as t
from governance.register.actions import advice, step
from governance.register.chain import Change
from governance.register.records import VerifyProblem
from governance.results.common import Frozen

if TYPE_CHECKING:
    from governance.register.api import Register

COMPARISON_FILE = "comparison.json"
CANDIDATE_KEYS = ("version", "method", "verdict", "audit_id")


class MitigationRunRecord(Frozen):
    """A recorded mitigation run of a version: its comparison folder's files and its candidates."""

    id: int
    model_name: str
    version: str
    run_id: str
    comparison_path: str
    files: dict[str, str]
    candidates: list[dict[str, Any]]
    actor: str
    recorded_at: str


def folder_files(comparison: Path) -> dict[str, str]:
    """``{name: sha256}`` of every file of the comparison's folder; a link in it is refused."""
    files, links = manifest.walk(comparison.parent)
    if links or COMPARISON_FILE not in files:
        raise InputError(
            f"The mitigation folder {comparison.parent} must hold {COMPARISON_FILE} and plain files only; run "
            "{mitigate_again} again.",
            **advice("mitigate_again"),
        )
    found = {}
    for name in files:
        data = manifest.read_regular(comparison.parent / name)
        if data is None:
            raise InputError(f"{comparison.parent / name} could not be read as a plain file; mitigate again.")
        found[name] = provenance.sha256_bytes(data)
    return found


def record_mitigation(
    register: Register,
    model_name: str,
    version: str,
    *,
    comparison: Path,
    candidates: Sequence[dict[str, Any]],
    actor: str,
) -> MitigationRunRecord:
    """Append a mitigation run of ``model_name@version`` (one row, one event) with its folder's file hashes."""
    actor = lifecycle.checked_actor(actor)
    at = provenance.isoformat(provenance.now())
    located = register.locate(str(comparison))
    files = folder_files(located)
    listed = [{key: candidate.get(key) for key in CANDIDATE_KEYS} for candidate in candidates]
    with register._writing() as conn:
        row = register._version_row(conn, model_name, version)
        lifecycle.refuse_if_retired(row.state, f"{model_name}@{version}", "record a mitigation run of")
        run = register._add_row(
            conn,
            t.mitigation_runs,
            {
                "version_id": row.id,
                "run_id": located.parent.name[:100],
                "comparison_path": register.relative_path(located),
                "files": files,
                "candidates": listed,
                "actor": actor,
                "recorded_at": at,
            },
            Change(actor, "mitigation.recorded", model_name, version, at),
        )
    return _record(run, model_name, version)


def _record(row: Row[Any], model_name: str, version: str) -> MitigationRunRecord:
    values = {k: v for k, v in row._mapping.items() if k not in ("version_id", "event_seq")}
    return MitigationRunRecord(model_name=model_name, version=version, **values)


def chosen_from(conn: Connection, version_row: Row[Any]) -> dict[str, Any] | None:
    """For a mitigated candidate: the newest run of its model that compared it, and the alternatives' verdicts.

    ``None`` for a version without lineage, or one no recorded run compared.
    """
    source = version_row.source if isinstance(version_row.source, dict) else {}
    lineage = source.get("lineage")
    if not isinstance(lineage, dict) or not lineage.get("mitigated_from"):
        return None
    siblings = sa.select(t.versions.c.id).where(t.versions.c.model_id == version_row.model_id)
    runs = conn.execute(
        sa.select(t.mitigation_runs, t.versions.c.version)
        .join(t.versions, t.versions.c.id == t.mitigation_runs.c.version_id)
        .where(t.mitigation_runs.c.version_id.in_(siblings))
        .order_by(t.mitigation_runs.c.id.desc())
    ).all()
    for run in runs:
        candidates = [c for c in run.candidates or [] if isinstance(c, dict)]
        if any(c.get("version") == version_row.version for c in candidates):
            return {
                "run_id": run.run_id,
                "comparison": run.comparison_path,
                "mitigated_from": lineage["mitigated_from"],
                "method": lineage.get("method"),
                "alternatives": [
                    {key: c.get(key) for key in ("version", "method", "verdict")}
                    for c in candidates
                    if c.get("version") != version_row.version
                ],
            }
    return None


def chosen_words(chosen: dict[str, Any] | None) -> str | None:
    """The choice in one line: "chosen over: 1.0.0 (original, failed), 1.0.0-threshold (threshold, inconclusive)"."""
    if not isinstance(chosen, dict):
        return None
    others = [
        f"{c.get('version')} ({c.get('method')}, {c.get('verdict')})"
        for c in chosen.get("alternatives") or []
        if isinstance(c, dict)
    ]
    over = ", ".join(others) if others else "no alternative"
    return f"chosen from mitigation run {chosen.get('run_id')} over: {over}"


def mitigation_runs(register: Register, model_name: str) -> list[MitigationRunRecord]:
    """A model's recorded mitigation runs, oldest first."""
    with database.read_transaction(register.engine) as conn:
        model = register._model_row(conn, model_name)
        runs = conn.execute(
            sa.select(t.mitigation_runs, t.versions.c.version)
            .join(t.versions, t.versions.c.id == t.mitigation_runs.c.version_id)
            .where(t.versions.c.model_id == model.id)
            .order_by(t.mitigation_runs.c.id)
        ).all()
    return [
        MitigationRunRecord(
            model_name=model.name,
            **{k: v for k, v in run._mapping.items() if k not in ("version_id", "event_seq")},
        )
        for run in runs
    ]


def comparison_problems(register: Register, workspace_root: Path | None = None) -> list[VerifyProblem]:
    """``verify``: every recorded comparison file still has the hash recorded with its run."""
    root = workspace_root or register.workspace_root
    if root is None:
        return []
    with database.read_transaction(register.engine) as conn:
        runs = conn.execute(sa.select(t.mitigation_runs).order_by(t.mitigation_runs.c.id)).all()
    problems = []
    for run in runs:
        stored = PurePosixPath(str(run.comparison_path)).parent
        for name, expected in sorted((run.files or {}).items()):
            data = manifest.read_regular(Path(root).joinpath(*stored.parts, name))
            if data is not None and provenance.sha256_bytes(data) == expected:
                continue
            what = "changed" if data is not None else "removed (or replaced by a link)"
            again = step("mitigate_again")
            problems.append(
                VerifyProblem(
                    kind="audit_file",
                    seq=run.event_seq,
                    message=f"The comparison file {stored / name} of mitigation run {run.run_id} was {what} after "
                    f"it was recorded; restore it from a backup or run {again.said} again.",
                    steps=[again],
                )
            )
    return problems
