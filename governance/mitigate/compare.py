"""The comparison a manager decides from: each candidate's verdict, accuracy, key ratios and what it does.

Written as ``audits/NAME/VERSION/mitigation-STAMP/`` with ``comparison.md``, ``comparison.json`` and a figure
(one row per version, a panel for accuracy and one per rule, with intervals and the policy's bound dashed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.atomic import new_folder
from governance.results.commands import command_of

if TYPE_CHECKING:
    from governance.mitigate.run import ComparisonRow, MitigationOutcome, MitigationRequest
    from governance.report.charts import Point
    from governance.workspace import Workspace

FIGURE = "comparison"


def _est(estimate: Any) -> str:
    from governance.results.wording import interval_words

    return interval_words(estimate, digits=".2f")


def rule_ids(rows: list[ComparisonRow]) -> list[str]:
    """The rules with a number in any row, in the order first seen."""
    seen: list[str] = []
    for row in rows:
        seen += [rule for rule in row.ratios if rule not in seen]
    return seen


def table_lines(rows: list[ComparisonRow]) -> list[str]:
    """The comparison as a Markdown table."""
    from governance.escaping import markdown_text

    rules = rule_ids(rows)
    head = ["Version", "Method", "Verdict", "Accuracy", *rules, "What it does"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.version, row.method, row.verdict.upper(), _est(row.accuracy)]
        cells += [_est(row.ratios.get(rule)) for rule in rules]
        out.append("| " + " | ".join(markdown_text(c) for c in [*cells, row.what_it_does]) + " |")
    return out


def comparison_markdown(request: MitigationRequest, outcome: MitigationOutcome, figure: str | None) -> str:
    """``comparison.md``: the table, the figure, the notes, and how the choice is recorded."""
    from governance.escaping import markdown_text

    reference = f"{request.name}@{request.version}"
    out = [
        f"# Mitigation candidates for {markdown_text(reference)}",
        "",
        f"Each candidate was fitted on {markdown_text(Path(request.data).name)} (seed {request.seed}), registered "
        f"with its lineage, and audited on {markdown_text(Path(request.holdout).name)} with the version's audit "
        "specification. The numbers in each rule's column are the deciding group's, with its interval.",
        "",
        *table_lines(outcome.rows),
        "",
    ]
    if figure:
        alt = "; ".join(f"{row.version} accuracy {_est(row.accuracy)}, {row.verdict}" for row in outcome.rows)
        out += [f"![{markdown_text('Accuracy and key ratios per version: ' + alt)}]({figure})", ""]
    out += [f"- {markdown_text(note)}" for note in outcome.notes] + ([""] if outcome.notes else [])
    out += [
        f"Choosing one: approve the chosen version with {command_of('approve_chosen', {})}; the register keeps "
        "the approval with the version's lineage "
        "(mitigated-from, method, constraint, parameters, seed), so the choice and its reason stay on record.",
        "",
    ]
    return "\n".join(out)


def _figure(outcome: MitigationOutcome, folder: Path) -> str | None:
    from governance.report.charts import dot_whisker_panels

    rows = outcome.rows
    panels: list[tuple[str, list[Point], float | None]] = [
        ("Accuracy", [_point(row.accuracy) for row in rows], None)
    ]
    for rule in rule_ids(rows)[:3]:
        panels.append((rule, [_point(row.ratios.get(rule)) for row in rows], None))
    if not any(p.value is not None for _, points, _ in panels for p in points):
        return None
    canvas = dot_whisker_panels(
        title="Candidates: accuracy and the policy's key numbers",
        note="dots: the value (the deciding group's for a rule); whiskers: its interval",
        labels=[f"{row.version} ({row.verdict})" for row in rows],
        panels=panels,
    )
    return canvas.save(folder, FIGURE)


def _point(estimate: Any) -> Point:
    from governance.report.charts import Point

    if estimate is None:
        return Point(None)
    return Point(estimate.value, estimate.low, estimate.high)


def _json(request: MitigationRequest, outcome: MitigationOutcome) -> dict[str, Any]:
    def estimate(value: Any) -> Any:
        return value.model_dump() if value is not None else None

    return {
        "mitigated_from": f"{request.name}@{request.version}",
        "training_data": _shown(request.data, request.workspace),
        "holdout": _shown(request.holdout, request.workspace),
        "seed": request.seed,
        "rows": [
            {
                "version": row.version,
                "method": row.method,
                "constraint": row.constraint,
                "verdict": row.verdict,
                "audit_id": row.audit_id,
                "accuracy": estimate(row.accuracy),
                "ratios": {rule: estimate(value) for rule, value in row.ratios.items()},
                "what_it_does": row.what_it_does,
                "uses_sensitive_at_decision": row.uses_sensitive_at_decision,
            }
            for row in outcome.rows
        ],
        "notes": outcome.notes,
    }


def _shown(path: str | Path, space: Workspace | None) -> str:
    """A data file's path relative to the workspace when it lies inside it (the same on every machine)."""
    if space is None:
        return str(path)
    try:
        return Path(path).resolve().relative_to(space.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def write_comparison(request: MitigationRequest, outcome: MitigationOutcome, space: Workspace) -> Path:
    """Write the comparison folder in one rename (a crash leaves no half-written folder)."""
    from governance.audit.folders import compact_stamp
    from governance.paths import safe_join
    from governance.provenance import isoformat, now

    parent = safe_join(space.audits_dir, request.name, request.version)
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / f"mitigation-{compact_stamp(isoformat(now()))}"
    with new_folder(final) as staging:
        figure = _figure(outcome, staging)
        (staging / "comparison.json").write_text(
            json.dumps(_json(request, outcome), indent=2) + "\n", "utf-8"
        )
        (staging / "comparison.md").write_text(comparison_markdown(request, outcome, figure), "utf-8")
    return final
