"""The one table of commands and options, and errors worded as the command line says them.

Kept free of heavy imports: every command reads it, including refusals that must answer before anything loads.
"""

from __future__ import annotations

from collections.abc import Mapping

from governance.errors import GovernanceError

COMMAND_OF_ACTION = {
    "add_model": "`governance register add {model} --owner EMAIL --purpose TEXT`",
    "list_models": "`governance register list`",
    "add_version": "`governance register version {model} --version {version} --model PATH`",
    "require_roles": "`governance register require-roles`",
    "audit": "run `governance audit {label} --data HOLDOUT --target COLUMN`",
    "approve": "`governance register approve {label} --role ROLE`",
    "init": "`governance init {folder}`",
    "init_here": "`governance init`",
    "init_force": "run `governance init --force`",
    "audit_again": "`governance audit {label} ...`",
    "suspend": "`governance register suspend {label}`",
    "monitor_history": "`governance monitor {label} --history`",
    "first_monitoring": "governance monitor {label} --data LOG --time-column TIME",
    "monitor_again": "governance monitor {label}",
    "first_audit": "governance audit",
    "answer_item": "governance checklist answer",
    "vouch_version": "governance register version {model} --version {version} --model {uri} --trust SHA256",
    "import_as": "--as NAME",
    "grant_sql": "`governance register grant-sql alice bob`",
    "enable_signing": "`governance register enable-signing`",
    "mitigate_again": "`governance mitigate`",
    "verify": "`governance register verify`",
    "history": "`governance register history`",
    "grant_sql_role": "`governance register grant-sql {role}`",
    "show_audits": "`governance register show NAME`",
    "any_audit": "`governance audit`",
    "checkpoint": "`governance register checkpoint`",
    "trust": "--trust {sha256}",
    "policy_schema": "`governance policy schema`",
    "list_items": "`governance checklist list`",
    "refingerprint": "`governance register verify --refingerprint`",
    "explain_row": "`governance explain --row ID`",
    "clean_orphans": "`governance register clean-orphans --delete`",
    "approve_chosen": '`governance register approve NAME@VERSION --role ... --comment "why this candidate"`',
    "checklist_status": "`governance checklist status {model} --framework FRAMEWORK`",
    "answer_checklist": "`governance checklist answer`",
    "set_scope": "`governance register add` options (--annex-iii/--not-annex-iii, --aedt/--not-aedt, "
    "--solely-automated/--human-in-the-loop, --decision-domain)",
}
"""The command for each next step a library message suggests (``governance/register/actions.py`` words it as a
method call), filled in with the step's ``subject``; a subject it lacks stays a placeholder in capitals."""


class _Placeholders(dict[str, str]):
    """A step's subject; what it does not name stays a placeholder in capitals (``NAME``), never a crash."""

    def __missing__(self, key: str) -> str:
        return key.upper()


def command_of(action: str, subject: dict[str, str]) -> str:
    """The command that takes ``action`` about ``subject``."""
    return COMMAND_OF_ACTION[action].format_map(_Placeholders(subject))


OPTION_OF_FIELD = {
    "actor": "--actor",
    "artifact_path": "--model",
    "risk_acceptance": "--accept-risk",
    "is_aedt": "--aedt",
    "is_annex_iii_high_risk": "--annex-iii",
    "name": "the model name",
    "item_id": "the item id",
    "max_rows": "--explain-rows",
    "output_root": "--output",
    "methods": "--method",
    "budget_seconds": "--budget",
    "predictions_or_scores": "--predictions/--scores",
    "baseline_data": "the approved audit's data",
}
"""Where a library field is not simply ``--field-with-dashes`` on the command line."""


def option_of(field: str) -> str:
    """The command-line option for a library field: ``within_days`` is ``--within-days`` unless mapped above."""
    return OPTION_OF_FIELD.get(field, f"--{field.replace('_', '-')}")


MENTIONS = {
    "explain=False": "--no-explain",
    "explain_budget": "--explain-budget",
    "max_rows": "--explain-rows",
    "target=COLUMN": "--target",
    "mlflow_tags=True": "--mlflow-tags",
}
"""How a result's text (a rule's summary and advice, an explanation's notes) names an argument, and the option a
command-line user gives for it: the command line and the reports, read by people who run the command line, show
the option."""


def options_worded(text: str) -> str:
    """``text`` with each argument it mentions named as the command-line option (see :data:`MENTIONS`)."""
    for said, option in MENTIONS.items():
        text = text.replace(said, option)
    return text


def cli_message(error: GovernanceError, options: Mapping[str, str] | None = None) -> str:
    """The error as the command line says it: a field the library names is called by the option the user typed,
    and a step it suggests by the command that takes it (the CLI and the demo, which speaks to CLI users).

    ``options`` are the running command's own options by field (``id_column`` is ``--id`` in ``audit`` and
    ``--id-column`` in ``explain``); a field it lacks is named by :func:`option_of`.
    """
    own = options or {}
    names = {field: own.get(field) or option_of(field) for field in error.fields}
    for action in error.actions:
        if action in COMMAND_OF_ACTION:
            names[action] = command_of(action, error.subject)
    return error.naming_fields(names)
