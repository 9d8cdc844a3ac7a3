"""The model card's "Mitigation candidates" section: each ``governance mitigate`` run's comparison, as recorded.

A run's event in the register carries the SHA-256 of every file of its comparison folder. The section reads
``comparison.json`` and the figure once, compares them with those hashes, and publishes the very bytes it checked;
a changed, missing or linked file, or a register whose history was edited, publishes a warning instead of the
comparison. Each candidate's verdict, accuracy and key ratios with intervals, what it does (with the legal note
for group-specific thresholds) and, when one was approved, the choice on record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from governance.escaping import markup_text
from governance.provenance import sha256_bytes
from governance.register import manifest
from governance.results.common import Estimate
from governance.site.markdown import admonition, estimate, table

if TYPE_CHECKING:
    from governance.site.sources import ModelEntry

RUN_TABLE = "gov_mitigation_runs"
FIGURE_SUFFIX = ".svg"


@dataclass
class Comparison:
    """One recorded run: its row in the register, and what was read and checked of its folder."""

    run: dict[str, Any]
    version: str
    data: dict[str, Any] | None = None  # the parsed comparison.json, when every file matched
    figure_bytes: bytes | None = None
    figure: str | None = None  # the published figure's file name under ``figures/``
    problems: list[str] = field(default_factory=list)


def _runs(model: ModelEntry) -> list[tuple[dict[str, Any], str]]:
    found = []
    for event in model.events:
        payload = event.get("payload")
        if event.get("kind") != "mitigation.recorded" or not isinstance(payload, dict):
            continue
        for entry in payload.get("rows", []):
            if (
                isinstance(entry, dict)
                and entry.get("table") == RUN_TABLE
                and isinstance(entry.get("record"), dict)
            ):
                found.append((entry["record"], str(event.get("version") or "")))
    return found


def load_comparisons(model: ModelEntry, root: Path, history_problem: str | None = None) -> list[Comparison]:
    """Every recorded run of ``model``, its files read once and checked against the register's hashes."""
    comparisons = []
    for run, version in _runs(model):
        comparison = Comparison(run=run, version=version)
        if history_problem:
            comparison.problems.append(history_problem)
        else:
            _check(comparison, root)
        comparisons.append(comparison)
    return comparisons


def _check(comparison: Comparison, root: Path) -> None:
    stored = PurePosixPath(str(comparison.run.get("comparison_path") or ""))
    folder = root.joinpath(*stored.parent.parts)
    recorded = comparison.run.get("files")
    files: dict[str, str] = recorded if isinstance(recorded, dict) else {}
    if manifest.linked_folder(folder / stored.name, root) is not None:
        comparison.problems.append(f"the folder {stored.parent} is a symbolic link")
        return
    contents = {}
    for name, expected in sorted(files.items()):
        data = manifest.read_regular(folder / name)
        if data is None or sha256_bytes(data) != expected:
            comparison.problems.append(f"{stored.parent / name} was {'changed' if data else 'removed'}")
            continue
        contents[name] = data
    if comparison.problems:
        return
    if stored.name not in contents:
        comparison.problems.append(f"{stored} is not among the recorded files")
        return
    comparison.data = json.loads(contents[stored.name])
    figures = [name for name in contents if name.endswith(FIGURE_SUFFIX)]
    comparison.figure_bytes = contents[figures[0]] if figures else None


def write_figures(comparisons: list[Comparison], folder: Path, stem: str) -> list[str]:
    """Write each verified run's figure (the checked bytes) as ``STEM-RUN.svg``; the file names."""
    names = []
    for comparison in comparisons:
        if comparison.figure_bytes is None:
            continue
        name = f"{stem}-{comparison.run.get('run_id')}{FIGURE_SUFFIX}"
        (folder / name).write_bytes(comparison.figure_bytes)
        comparison.figure = name
        names.append(name)
    return names


def _estimate(value: Any) -> str:
    if not isinstance(value, dict):
        return "—"
    return estimate(Estimate.model_validate(value))


def _table(rows: list[dict[str, Any]]) -> str:
    rules: list[str] = []
    for row in rows:
        rules += [rule for rule in row.get("ratios") or {} if rule not in rules]
    body = [
        [
            markup_text(row.get("version") or ""),
            markup_text(row.get("method") or ""),
            markup_text(str(row.get("verdict") or "").upper()),
            _estimate(row.get("accuracy")),
            *(_estimate((row.get("ratios") or {}).get(rule)) for rule in rules),
            markup_text(row.get("what_it_does") or ""),
        ]
        for row in rows
    ]
    headers = [
        "Version",
        "Method",
        "Verdict",
        "Accuracy",
        *(markup_text(rule) for rule in rules),
        "What it does",
    ]
    return table(headers, body, align=["l", "l", "l", "r", *(["r"] * len(rules)), "l"])


def _choice(model: ModelEntry, run_id: str) -> list[str]:
    """The approvals that chose a candidate from this run, in the register's words."""
    from governance.register.mitigation import chosen_words

    lines = []
    for approval in model.approvals:
        chosen = approval.get("chosen_from")
        if isinstance(chosen, dict) and chosen.get("run_id") == run_id:
            accepted = " on a recorded risk acceptance" if approval.get("risk_acceptance") else ""
            lines.append(
                f"**Chosen:** {markup_text(approval.get('version') or '')}, approved by "
                f"{markup_text(approval.get('actor') or '')} ({markup_text(approval.get('role') or '')}) on "
                f"{markup_text(str(approval.get('at') or '')[:10])}{accepted}: {markup_text(chosen_words(chosen) or '')}.\n"
            )
    return lines


def _run_lines(model: ModelEntry, comparison: Comparison) -> list[str]:
    run = comparison.run
    title = (
        f"### Run {markup_text(run.get('run_id') or '')}: candidates for "
        f"{markup_text(model.name)}@{markup_text(comparison.version)}\n"
    )
    when = f"Recorded {markup_text(str(run.get('recorded_at') or '')[:10])} by {markup_text(run.get('actor') or '')}."
    if comparison.data is None:
        problem = markup_text("; ".join(comparison.problems))
        body = (
            f"{when} The comparison is not published: {problem}. Restore the folder from a backup, or run "
            "`governance mitigate` again."
        )
        return [title, admonition("danger", "Not verified", body)]
    data = comparison.data
    rows = [row for row in data.get("rows") or [] if isinstance(row, dict)]
    lines = [
        title,
        f"{when} Fitted on {markup_text(data.get('training_data') or '')} (seed {markup_text(data.get('seed'))}), "
        f"audited on {markup_text(data.get('holdout') or '')}; each rule's column is the deciding group's number "
        "with its interval.\n",
        _table(rows),
    ]
    if comparison.figure:
        alt = "; ".join(f"{row.get('version')} {row.get('verdict')}" for row in rows)
        lines.append(
            f"![{markup_text('Accuracy and key ratios per candidate: ' + alt)}](figures/{comparison.figure})\n"
        )
    lines += [f"- {markup_text(note)}" for note in data.get("notes") or []]
    lines += [""] if data.get("notes") else []
    return lines + _choice(model, str(run.get("run_id")))


def render_mitigation(model: ModelEntry, comparisons: list[Comparison]) -> str:
    """Markdown for the section, or an empty string when the model has no recorded mitigation run."""
    if not comparisons:
        return ""
    lines = [
        "## Mitigation candidates\n",
        "When an audit failed, `governance mitigate` built candidate versions, registered them with their "
        "lineage and audited them with the version's audit specification. Newest run first.\n",
    ]
    for comparison in reversed(comparisons):
        lines += _run_lines(model, comparison)
    return "\n".join(lines) + "\n"
