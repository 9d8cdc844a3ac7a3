"""``governance register ...``: thin commands over :class:`governance.register.Register`.

The register's library (and SQLAlchemy) is imported inside each command so that ``governance --help`` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from governance.cli._common import actor_option, echo, register_url_option, reports_errors, workspace_option
from governance.escaping import terminal_text

if TYPE_CHECKING:
    from governance.register import ModelDescription, ModelDetail, Register
    from governance.register.overview import ModelOverview
    from governance.register.records import ApprovalRecord, AuditRecord, VerifyReport


def _register_options(function: Callable[..., Any]) -> Callable[..., Any]:
    return workspace_option(register_url_option(function))


_trust_option = click.option(
    "--trust",
    metavar="SHA256",
    help="Vouch, in your name, for a model file that can run code when loaded (a pickle or joblib file, or a skops "
    "file with types beyond the safe list): give its SHA-256. Such files are refused without it.",
)


class _ModelSource(click.Path):
    """A model file (checked like ``click.Path``), or an MLflow ``models:/...`` URI passed on as text."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.strip().startswith("models:/"):
            return value.strip()
        return super().convert(value, param, ctx)


def _say_vouched(record: Any, trust: str | None) -> None:
    """One line after registering: who vouched for the file, or that --trust was not needed."""
    if record.vouched_by:
        echo(
            f"{record.vouched_by} vouched for its model file, which can run code when loaded; every audit of "
            "it will say so."
        )
    elif trust:
        echo(
            "--trust was not needed: the model file loads with the safe skops loader, so nothing was vouched for."
        )


def open_register(workspace_path: str | None, register_url: str | None, *, create: bool = True) -> Register:
    """The workspace's register (or the one at ``register_url``), opened and migrated.

    Read-only commands pass ``create=False``: they report a missing SQLite register instead of creating one.
    """
    from governance.register import Register
    from governance.workspace import require_workspace

    return Register.for_workspace(require_workspace(workspace_path), register_url, create=create)


@contextmanager
def _version_register(
    reference: str, workspace_path: str | None, register_url: str | None
) -> Iterator[tuple[Register, str, str]]:
    """NAME@VERSION split (refused before anything opens), and the register a command records it in."""
    name, version = _reference(reference)
    with open_register(workspace_path, register_url) as register:
        yield register, name, version


def missing_register(workspace_path: str | None, register_url: str | None) -> bool:
    """True when the register is a SQLite file that does not exist yet (nothing registered)."""
    from governance.register.database import parse_url
    from governance.workspace import require_workspace

    workspace = require_workspace(
        workspace_path
    )  # a register URL alone is not enough: paths are relative to it
    url = parse_url(register_url or workspace.register_url)
    return url.get_backend_name() == "sqlite" and not Path(str(url.database)).is_file()


def _actor(actor: str | None) -> str:
    from governance.provenance import resolve_actor

    return resolve_actor(actor)


def _reference(reference: str) -> tuple[str, str]:
    from governance.register.lifecycle import parse_reference

    return parse_reference(reference)


def _day(timestamp: str | None) -> str:
    return timestamp[:10] if timestamp else "-"


def _minute(timestamp: str) -> str:
    return timestamp[:16].replace("T", " ")


def _identity(identity: str | None) -> str:
    """Who the backend says acted, beside the typed --actor label: " [database role ana]"."""
    if identity is None:
        return ""
    from governance.register.lifecycle import describe_identity

    return f" [{describe_identity(identity)}]"


def _answer(value: bool | None) -> str:
    return "not answered" if value is None else ("yes" if value else "no")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


@click.group("register")
def register_group() -> None:
    """Keep the model register: models, versions, audits, approvals and their history.

    \b
    Lifecycle of a version:
      draft -> audited -> approved -> deployed -> retired   (plus suspended)
    Approval needs every audit of that exact model file to have passed as pinned, the newest one current;
    after a failed, inconclusive or reported audit (or one run with --override) it needs --accept-risk
    REASON. The approver must be neither the auditor nor the person who registered the version.
    Every change is appended to a hash-chained log that `governance register verify` checks. Set
    GOVERNANCE_REGISTER_HMAC_KEY (or GOVERNANCE_REGISTER_ED25519_KEY, an Ed25519 private key file) to sign it,
    and commit the register-head.json that `governance register
    checkpoint` writes, so that a rewritten or shortened history is caught.
    """


def _description_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--intended-use, --restrictions, --decision-domain: shared by `register add` and `register update`."""
    command = click.option(
        "--decision-domain", help="The kind of decision, e.g. credit, employment, insurance."
    )(command)
    command = click.option("--restrictions", help="Uses that are out of scope or forbidden.")(command)
    return click.option("--intended-use", help="Who uses its output, for what, and where.")(command)


def _answer_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The three human answers about a model, shared by `register add` and `register update`."""
    command = click.option(
        "--solely-automated/--human-in-the-loop",
        "solely_automated",
        default=None,
        help="Are its decisions made without a human review?",
    )(command)
    command = click.option(
        "--annex-iii/--not-annex-iii",
        "is_annex_iii_high_risk",
        default=None,
        help="Is it high-risk under EU AI Act Annex III?",
    )(command)
    return click.option(
        "--aedt/--not-aedt",
        "is_aedt",
        default=None,
        help="Is it an automated employment decision tool (NYC LL 144)?",
    )(command)


def _description(fields: dict[str, Any]) -> ModelDescription:
    """The description options of `register add` / `register update`, named as the fields of a ModelDescription."""
    from governance.register.records import ModelDescription

    return ModelDescription(**fields)


@register_group.command("add")
@click.argument("name")
@click.option("--owner", required=True, help="Who is accountable for the model (an e-mail address).")
@click.option("--purpose", required=True, help="What the model decides, in one sentence.")
@_description_options
@click.option("--risk-tier", help="Your organisation's risk tier for it, e.g. high, limited, minimal.")
@_answer_options
@click.option("--version", "version", help="Also register this version of it (needs --model).")
@click.option(
    "--model",
    "model_path",
    type=_ModelSource(exists=True, dir_okay=False, resolve_path=True, path_type=Path),
    help="The model file of --version, or an MLflow model models:/NAME/VERSION (checked before anything is "
    "registered).",
)
@_trust_option
@actor_option
@_register_options
@reports_errors
def add_command(
    name: str,
    version: str | None,
    model_path: Path | str | None,
    trust: str | None,
    actor: str | None,
    workspace_path: str | None,
    register_url: str | None,
    **description: Any,
) -> None:
    """Register a model NAME (and, with --version and --model, its first version)."""

    if (version is None) != (model_path is None):
        raise click.UsageError("--version and --model go together: give both, or neither.")
    if trust is not None and model_path is None:
        raise click.UsageError(
            "--trust vouches for the file given with --model; give --version and --model too."
        )
    who = _actor(actor)
    if model_path is not None:
        _check_model_source(model_path, trust)  # before anything is registered
    with open_register(workspace_path, register_url) as register:
        model = register.add_model(name, _description(description), actor=who)
        echo(f"Registered the model {model.name} (owner {model.owner}).")
        if version is not None and model_path is not None:
            record = register.add_version(
                model.name, version, artifact_path=model_path, actor=who, trust_sha256=trust
            )
            echo(f"Registered {model.name}@{record.version} as a draft (SHA-256 {record.sha256[:12]}…).")
            _say_vouched(record, trust)
            echo(f"Next: governance audit {model.name}@{record.version} --data HOLDOUT --target COLUMN")
        else:
            echo(f"Next: governance register version {model.name} --version 1.0.0 --model PATH")


@register_group.command("update")
@click.argument("name")
@click.option("--owner", help="A new accountable owner.")
@click.option("--purpose", help="A new purpose, in one sentence.")
@_description_options
@click.option("--risk-tier", help="Your organisation's risk tier for it.")
@_answer_options
@actor_option
@_register_options
@reports_errors
def update_command(
    name: str, actor: str | None, workspace_path: str | None, register_url: str | None, **description: Any
) -> None:
    """Change model NAME's description or answers (only the options given); the history keeps the old values."""
    with open_register(workspace_path, register_url) as register:
        before = register.get_model(name)
        after = register.update_model(name, _description(description), actor=_actor(actor))
    echo(f"Updated {name}." if after != before else f"Nothing to change: {name} already says that.")


@register_group.command("version")
@click.argument("name")
@click.option("--version", "version", required=True, help="The version label, e.g. 1.0.0.")
@click.option(
    "--model",
    "model_path",
    required=True,
    type=_ModelSource(dir_okay=False, resolve_path=True, path_type=Path),
    help="The model file (skops, joblib, ONNX...), or an MLflow model models:/NAME/VERSION or models:/NAME@ALIAS; "
    "the SHA-256 of its file is pinned.",
)
@click.option("--framework", help="What it was built with, e.g. scikit-learn 1.9.")
@click.option("--features", help="The input features, comma-separated.")
@click.option(
    "--training-data",
    "training_data",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True, path_type=Path),
    help="The training data file (its SHA-256 is recorded, not its content).",
)
@click.option("--training-data-description", help="Where the training data came from, in words.")
@_trust_option
@actor_option
@_register_options
@reports_errors
def version_command(
    name: str,
    version: str,
    model_path: Path | str,
    framework: str | None,
    features: str | None,
    training_data: Path | None,
    training_data_description: str | None,
    trust: str | None,
    actor: str | None,
    workspace_path: str | None,
    register_url: str | None,
) -> None:
    """Register a version of model NAME with its model file (a new file always needs a new version).

    A pickle or joblib file, or a skops file needing types beyond the safe list, can run any code when it is
    loaded: it is refused (exit 4) unless you vouch for it with --trust SHA256. The vouching is recorded in
    your name, and every audit of the version says who vouched. Registering the same file again with --trust
    adds a vouching it lacked.

    An MLflow model (models:/NAME/VERSION, or @ALIAS) is registered by its version number, with its run id and
    the SHA-256 of its model file; an audit refuses it if it later changes in MLflow under the same number.
    """
    from governance.provenance import sha256_file

    feature_list = [f.strip() for f in features.split(",") if f.strip()] if features else None
    with open_register(workspace_path, register_url) as register:
        record = register.add_version(
            name,
            version,
            artifact_path=model_path,
            actor=_actor(actor),
            framework=framework,
            features=feature_list,
            training_data_description=training_data_description,
            training_data_sha256=sha256_file(training_data) if training_data else None,
            trust_sha256=trust,
        )
    source = f" from {record.artifact_path}" if record.source else ""
    echo(
        f"{name}@{record.version} is registered ({record.state}){source}; model file SHA-256 {record.sha256[:12]}…."
    )
    _say_vouched(record, trust)
    if record.state == "draft":
        echo(f"Next: governance audit {name}@{record.version} --data HOLDOUT --target COLUMN")


def _check_model_source(model: Path | str, trust: str | None) -> None:
    """Refuse a model that can run code when loaded unless --trust vouches for it (a file or an MLflow model)."""
    from governance.intake.mlflow_models import check_mlflow_model, is_mlflow_uri
    from governance.intake.model_files import check_model_file

    if is_mlflow_uri(model):
        check, found, _uri = check_mlflow_model(str(model))
        check.require_vouching(f"{found.uri} ({found.model_file})", trust)
    else:
        check_model_file(model).require_vouching(Path(model).name, trust)


@register_group.command("import-mlflow")
@click.argument("name")
@click.option(
    "--as",
    "register_name",
    metavar="NAME",
    help="The model's name in the register (default: its MLflow name).",
)
@click.option(
    "--owner",
    help="Who is accountable for the model (an e-mail address); needed when the model is new to the register "
    "and its MLflow tags have no 'owner'.",
)
@click.option(
    "--purpose",
    help="What the model decides, in one sentence (default for a new model: its MLflow description).",
)
@actor_option
@_register_options
@reports_errors
def import_mlflow_command(
    name: str,
    register_name: str | None,
    owner: str | None,
    purpose: str | None,
    actor: str | None,
    workspace_path: str | None,
    register_url: str | None,
) -> None:
    """Mirror the versions of MLflow model NAME into the register (new versions only; safe to run again).

    Each MLflow version N becomes version N in the register, with its models:/NAME/N URI, its run id and the
    SHA-256 of its model file. A version whose model file can run code when loaded (pickle or cloudpickle) is
    not imported: register it alone with `governance register version NAME --version N --model
    models:/NAME/N --trust SHA256` (exit 4 until then). A version that changed in MLflow since it was imported
    is reported as a break (exit 4). The tracking server is MLFLOW_TRACKING_URI.

    \b
    Example:
      MLFLOW_TRACKING_URI=http://mlflow.internal:5000 governance register import-mlflow credit-risk \\
          --owner ana@example.com
    """
    from governance.register.mlflow_import import import_mlflow

    with open_register(workspace_path, register_url) as register:
        report = import_mlflow(
            register,
            name,
            register_name=register_name,
            owner=owner,
            purpose=purpose,
            actor=_actor(actor),
        )
    for line in report.worded_lines():
        echo(line)
    if report.refused or report.changed:
        raise SystemExit(4)


@register_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_register_options
@reports_errors
def list_command(as_json: bool, workspace_path: str | None, register_url: str | None) -> None:
    """List the registered models with their latest version, state and next audit date."""
    if missing_register(workspace_path, register_url):
        summaries = []
    else:
        with open_register(workspace_path, register_url, create=False) as register:
            summaries = register.list_models()
    if as_json:
        _print_json([summary.model_dump(mode="json") for summary in summaries])
        return
    if not summaries:
        echo(
            "The register is empty. Add a model with: governance register add NAME --owner EMAIL --purpose TEXT"
        )
        return
    rows = [("MODEL", "OWNER", "LATEST", "STATE", "DEPLOYED", "LAST AUDIT", "NEXT AUDIT DUE")]
    for s in summaries:
        rows.append(
            (
                s.name,
                s.owner,
                s.latest_version or "-",
                s.state or "-",
                ", ".join(s.deployed_versions) or "-",
                f"{s.last_verdict} {_day(s.last_audit_at)}" if s.last_verdict else "none",
                _day(s.next_audit_due),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _model_lines(detail: ModelDetail, view: ModelOverview | None) -> list[str]:
    """Who owns the model and what it is for, where it stands, and what it is allowed to decide."""
    from governance.register.describe import standing

    m = detail.model
    lines = [f"{m.name}, owned by {m.owner}", f"Purpose: {m.purpose}"]
    if view is not None:
        lines += ["", *standing(view)]
        lines += [f"Needs attention: {item.worded}" for item in view.attention]
        lines.append("")
    for label, value in (
        ("Intended use", m.intended_use),
        ("Restrictions", m.restrictions),
        ("Decision domain", m.decision_domain),
        ("Risk tier", m.risk_tier),
    ):
        if value:
            lines.append(f"{label}: {value}")
    lines.append(
        f"Automated employment decision tool: {_answer(m.is_aedt)}; high-risk under EU AI Act Annex III: "
        f"{_answer(m.is_annex_iii_high_risk)}; decisions solely automated: {_answer(m.solely_automated)}."
    )
    return lines


def _section(title: str, lines: list[str]) -> list[str]:
    """A titled list, saying ``none yet`` when it is empty."""
    return ["", f"{title}:", *(lines or ["  none yet"])]


def _version_lines(detail: ModelDetail) -> list[str]:
    lines = []
    for v in detail.versions:
        lines.append(
            f"  {v.version}: {v.state}; model file {v.artifact_path} (SHA-256 {v.sha256[:12]}…), "
            f"registered {_day(v.created_at)} by {v.created_by}"
        )
        if v.source and v.source.get("registry") == "mlflow":
            lines.append(
                f"    from MLflow: run {v.source.get('run_id') or 'not recorded'}, {v.source.get('tracking_uri')}"
            )
        lineage = (v.source or {}).get("lineage")
        if isinstance(lineage, dict):
            lines.append(
                f"    mitigated from {lineage.get('mitigated_from')} with {lineage.get('method')} "
                f"({lineage.get('constraint') or 'no constraint'}, seed {lineage.get('seed')})"
            )
        if v.vouched_by:
            lines.append(f"    runs code when loaded: vouched for by {v.vouched_by} on {_day(v.vouched_at)}")
    return lines


def _audit_line(a: AuditRecord) -> str:
    valid = f", valid until {_day(a.expires_at)}" if a.expires_at else ""
    return (
        f"  {a.audit_id} of {a.version}: {a.verdict} against {a.policy_name}, by {a.actor} on "
        f"{_day(a.recorded_at)}{valid} ({a.audit_json_path})"
    )


def _approval_line(p: ApprovalRecord) -> str:
    verb = "approved" if p.decision == "approve" else "rejected"
    text = f"  {p.version}: {verb} as {p.role} by {p.actor} on {_day(p.at)}"
    if p.risk_acceptance:
        text += f", accepting the risk: {p.risk_acceptance}"
    if p.comment:
        text += f" ({p.comment})"
    from governance.register.mitigation import chosen_words

    chosen = chosen_words(p.chosen_from)
    return f"{text}\n    {chosen}" if chosen else text


def _incident_and_answer_lines(detail: ModelDetail) -> list[str]:
    """Incidents and the number of checklist answers, only when there are any."""
    lines = []
    if detail.incidents:
        lines += ["", "Incidents:"]
        lines += [
            f"  {i.version}: {i.severity}: {i.title}, reported by {i.actor} on {_day(i.at)}"
            for i in detail.incidents
        ]
    if detail.checklist_answers:
        lines += [
            "",
            f"Checklist answers: {len(detail.checklist_answers)} recorded (see the site or --json).",
        ]
    return lines


def render_detail(detail: ModelDetail, view: ModelOverview | None = None) -> str:
    """``register show`` as plain text: where the model stands, then its versions, audits, approvals and history."""
    lines = _model_lines(detail, view)
    lines += _section("Versions", _version_lines(detail))
    lines += _section("Audits", [_audit_line(a) for a in detail.audits])
    lines += _section("Approvals", [_approval_line(p) for p in detail.approvals])
    lines += _incident_and_answer_lines(detail)
    lines += [
        "",
        "History:",
        *(f"  {_minute(e.at)}  {e.summary}{_identity(e.identity)}" for e in detail.events),
    ]
    return "\n".join(terminal_text(line) for line in lines)  # a value's own line breaks cannot forge a line


@register_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_register_options
@reports_errors
def show_command(name: str, as_json: bool, workspace_path: str | None, register_url: str | None) -> None:
    """Show everything about model NAME, with its history in plain words."""
    with open_register(workspace_path, register_url, create=False) as register:
        detail = register.show(name)
        view = register.overview(name)
        warnings = register.role_warnings()
    if as_json:
        said = view.model_copy(update={"attention": [item.as_said() for item in view.attention]})
        _print_json(
            {**detail.model_dump(mode="json"), "overview": said.model_dump(mode="json"), "warnings": warnings}
        )
    else:
        for warning in warnings:
            echo(f"Warning: {warning}")
        echo(render_detail(detail, view), keep_newlines=True)


@register_group.command("history")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON, with their hashes.")
@_register_options
@reports_errors
def history_command(
    name: str | None, as_json: bool, workspace_path: str | None, register_url: str | None
) -> None:
    """Print the change history (of model NAME, or of the whole register), oldest first."""
    if name is None and missing_register(workspace_path, register_url):
        events = []
    else:
        with open_register(workspace_path, register_url, create=False) as register:
            events = register.history(name)
    if as_json:
        _print_json([event.model_dump(mode="json") for event in events])
        return
    if not events:
        echo("No history yet.")
    for event in events:
        echo(f"{event.seq:>5}  {_minute(event.at)}  {event.summary}{_identity(event.identity)}")


@register_group.command("approve")
@click.argument("reference", metavar="NAME@VERSION")
@click.option("--role", required=True, help="The role you sign as, e.g. risk-officer, model-owner.")
@click.option("--comment", help="What you checked, or your conditions.")
@click.option("--reject", is_flag=True, help="Record a rejection instead of an approval.")
@click.option(
    "--accept-risk",
    "accept_risk",
    metavar="REASON",
    help="Approve although an audit of this model file failed, was inconclusive, overrode the pinned audit "
    "specification or expired, recording why the risk is accepted.",
)
@actor_option
@_register_options
@reports_errors
def approve_command(
    reference: str,
    role: str,
    comment: str | None,
    reject: bool,
    accept_risk: str | None,
    actor: str | None,
    workspace_path: str | None,
    register_url: str | None,
) -> None:
    """Approve (or --reject) NAME@VERSION in a role; refused unless the guards are met."""
    if reject and accept_risk:
        raise click.UsageError("--accept-risk applies to approvals; leave it out with --reject.")
    with _version_register(reference, workspace_path, register_url) as (register, name, version):
        record = register.approve(
            name,
            version,
            role=role,
            actor=_actor(actor),
            comment=comment,
            decision="reject" if reject else "approve",
            risk_acceptance=accept_risk,
        )
        state = register.resolve_version(name, version).state
        accepted = [a for a in register.approval_review(name, version) if a.needs_acceptance]
    verb = "approved" if record.decision == "approve" else "rejected"
    echo(f"{record.actor} {verb} {name}@{version} as {record.role}; it is now {state}.")
    from governance.register.mitigation import chosen_words

    chosen = chosen_words(record.chosen_from)
    if chosen:
        echo(f"Recorded: {chosen}.")
    if record.decision == "approve" and accepted:
        echo("The risk acceptance covers these audits of its model file:")
        for audit in accepted:
            echo(f"  {audit.describe()}")


def _transition_command(action: str, help_text: str) -> click.Command:
    @click.command(action, help=help_text)
    @click.argument("reference", metavar="NAME@VERSION")
    @click.option("--reason", help="Why, in a sentence (kept in the history).")
    @actor_option
    @_register_options
    @reports_errors
    def command(
        reference: str,
        reason: str | None,
        actor: str | None,
        workspace_path: str | None,
        register_url: str | None,
    ) -> None:
        with _version_register(reference, workspace_path, register_url) as (register, name, version):
            method = getattr(register, action)
            record = method(name, version, actor=_actor(actor), reason=reason)
        echo(f"{name}@{version} is now {record.state}.")

    return command


register_group.add_command(
    _transition_command("deploy", "Mark NAME@VERSION as deployed (in use); it must be approved first.")
)
register_group.add_command(
    _transition_command(
        "suspend",
        "Suspend NAME@VERSION (take it out of use); it needs a new approval before it is deployed again.",
    )
)
register_group.add_command(_transition_command("retire", "Retire NAME@VERSION for good; this is final."))


@register_group.command("incident")
@click.argument("reference", metavar="NAME@VERSION")
@click.option("--title", required=True, help="What happened, in a few words.")
@click.option("--description", default="", help="Details: who was affected, since when, what was done.")
@click.option(
    "--severity",
    type=click.Choice(["low", "medium", "high", "critical"]),
    default="medium",
    show_default=True,
    help="How serious it is.",
)
@actor_option
@_register_options
@reports_errors
def incident_command(
    reference: str,
    title: str,
    description: str,
    severity: str,
    actor: str | None,
    workspace_path: str | None,
    register_url: str | None,
) -> None:
    """Record an incident with NAME@VERSION (suspend it separately if it must stop)."""
    with _version_register(reference, workspace_path, register_url) as (register, name, version):
        record = register.record_incident(
            name, version, title=title, description=description, severity=severity, actor=_actor(actor)
        )
    echo(f"Recorded a {record.severity} incident on {name}@{version}: {record.title}.")
    if severity in ("high", "critical"):
        echo(f'If it must stop now: governance register suspend {name}@{version} --reason "..."')


@register_group.command("export")
@click.option(
    "--output", "-o", default="-", show_default=True, help="File to write, or - for standard output."
)
@_register_options
@reports_errors
def export_command(output: str, workspace_path: str | None, register_url: str | None) -> None:
    """Export the whole register as one JSON document for an auditor (with a verification)."""
    with open_register(workspace_path, register_url, create=False) as register:
        document = register.export()
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    head = document["chain_head"]
    keep = (
        f"Chain head: event {head['seq']}, {head['hash']} (keep it: `governance register verify --expect-head "
        "HASH` later shows whether events were cut off)."
    )
    if output == "-":
        click.echo(text, nl=False)
        echo(keep, err=True)
        return
    from governance.atomic import write_atomically

    target = Path(output)
    write_atomically(target, text, named=True)
    models, events = len(document["models"]), len(document["events"])
    echo(
        f"Wrote {target} ({models} model{'s' * (models != 1)}, {events} event{'s' * (events != 1)}).",
        err=True,
    )
    echo(keep, err=True)


def _report_fingerprints(register: Any, reference: str, connection: str | None, *, chain_ok: bool) -> None:
    """Print each table audit's fingerprint check; exit 1 when a table changed (after the chain is reported)."""
    from governance.audit.registered import refingerprint_audits

    checks = refingerprint_audits(register, reference, connection=connection)
    for check in checks:
        if check.unchanged:
            echo(f"Unchanged: {check.source} still has the fingerprint of audit {check.audit_id}.")
        else:
            echo(
                f"CHANGED: {check.source} no longer has the fingerprint of audit {check.audit_id} "
                f"({check.recorded[:12]} then, {check.now[:12]} now): the rows it judged were changed since."
            )
    if not all(check.unchanged for check in checks) and chain_ok:
        raise SystemExit(1)


def _key_variable(report: VerifyReport) -> str:
    """Where a verifier puts the key of this register: the HMAC secret, or an Ed25519 public key file."""
    if report.signing_algorithm == "ed25519":
        return "GOVERNANCE_REGISTER_ED25519_PUBLIC_KEY (the register's Ed25519 public key file)"
    return "GOVERNANCE_REGISTER_HMAC_KEY"


@register_group.command("verify")
@click.option(
    "--expect-head",
    "expect_head",
    metavar="HASH",
    help="A chain head hash you kept (printed by verify, export, checkpoint and the site): the chain must "
    "contain that event, else exit 1 (the newest events were cut off).",
)
@click.option(
    "--refingerprint",
    metavar="NAME@VERSION",
    help="Also recompute, in the database, the fingerprint of each audit of this version that read a table "
    "(--table or --query), and compare it with the recorded one; needs --connection (passwords are never stored).",
)
@click.option(
    "--connection",
    envvar="GOVERNANCE_CONNECTION",
    help="With --refingerprint: where the table lives (duckdb://..., postgresql://USER@HOST/DATABASE, spark://...).",
)
@_register_options
@reports_errors
def verify_command(
    expect_head: str | None,
    workspace_path: str | None,
    register_url: str | None,
    refingerprint: str | None = None,
    connection: str | None = None,
) -> None:
    """Check that the history was not edited, cut short or unsigned, and every file of every audit is unchanged.

    \b
    Exit 0: intact. Exit 1: a break (the first one is printed first). Exit 3: nothing wrong was found, but the
    register is signed and its key was not given (GOVERNANCE_REGISTER_HMAC_KEY, or for Ed25519 the public key
    file in GOVERNANCE_REGISTER_ED25519_PUBLIC_KEY), so its signatures were not checked.
    The checkpoint file register-head.json in the workspace, when present, is checked too. Each audit's
    audit.json, report.md and figures are compared with the hashes taken when it was recorded; a changed,
    missing or added file, or one replaced by a symbolic link, is a break.

    Separation of duties and the lifecycle are replayed over the history too: an approval by the login (or name)
    that registered the version or recorded its audit, an approval without a passing audit or a risk acceptance,
    a deployment without approval or a change to a retired version, written into the database by hand, is a break.

    An audit folder under audits/ the register does not know (an audit that stopped before it was recorded) is
    reported too (exit 1); remove it with `governance register clean-orphans --delete`.
    """
    with open_register(workspace_path, register_url, create=False) as register:
        report = register.verify(expect_head=expect_head)
        if refingerprint is not None:
            _report_fingerprints(register, refingerprint, connection, chain_ok=report.ok)
    if report.audits_without_manifest:
        echo(
            f"Note: {_count(report.audits_without_manifest, 'audit')} recorded by an older version of "
            "governance: only audit.json is checked for those, not report.md or the figures; run the audit "
            "again to have every file checked.",
            err=True,
        )
    checked = (
        f"{_count(report.events_checked, 'event')}, {_count(report.rows_checked, 'row')} and "
        f"{_count(report.audit_files_checked, 'audit file')} checked"
    )
    signed = (
        "; signatures checked" if report.signed else ("; not signed" if report.signing_since is None else "")
    )
    head = f"Head: event {report.head_seq}, {report.head_hash} (keep it: verify --expect-head HASH checks it later)."
    for warning in report.warnings:
        echo(f"Warning: {warning}")
    if report.ok:
        echo(f"OK: the history is intact ({checked}{signed}).")
        for anchor in report.anchors:
            echo(
                f"The head {anchor.source} is event {anchor.seq} of the chain; "
                f"{_count(anchor.events_after or 0, 'event')} came after it."
            )
        echo(head)
        return
    if report.inconclusive:
        echo(
            f"NOT CHECKED: the hashes and rows are intact ({checked}), but the register is signed since event "
            f"{report.signing_since} and no key was given, so its signatures were not checked: someone with "
            f"access to the database could have rewritten it. Set {_key_variable(report)} and verify again."
        )
        echo(head)
        raise SystemExit(report.exit_code)
    first = report.problems[0]
    only_orphans = all(problem.kind == "orphan" for problem in report.problems)
    echo(f"{'NOT OK' if only_orphans else 'BROKEN'}: {first.worded}")
    if len(report.problems) > 1:
        echo(f"{len(report.problems) - 1} more problem(s):")
        for problem in report.problems[1:]:
            echo(f"  - {problem.worded}")
    if only_orphans:
        echo(
            f"({checked}{signed}.) The history is intact; only audit folders it does not know were found: "
            "list them with `governance register clean-orphans`."
        )
    else:
        echo(f"({checked}{signed}.) Restore the register from a backup, and find out who edited it.")
    raise SystemExit(report.exit_code)


@register_group.command("checkpoint")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: register-head.json in the workspace).",
)
@_register_options
@reports_errors
def checkpoint_command(output: Path | None, workspace_path: str | None, register_url: str | None) -> None:
    """Verify the register, then write its chain head to register-head.json: commit that file to git.

    Later `governance register verify` runs check it automatically: the chain must still contain that event, so
    cutting off the newest events (and rewinding the head) is caught even by someone without the signing key.
    """
    with open_register(workspace_path, register_url, create=False) as register:
        checkpoint, _report = register.write_checkpoint(output)
        where = output or (register.workspace_root or Path.cwd()) / "register-head.json"
    echo(f"Wrote {where}: event {checkpoint.seq}, {checkpoint.hash}.")
    echo(
        f"Commit it to git (git add {Path(where).name} && git commit) so that later changes to the register "
        "must extend it."
    )


_SETTING_WORDS = {
    "enable-signing": (
        "Signing was already on; nothing to do.",
        "Signing is on from event {seq}: every change and the chain head are now signed with this key.",
    ),
    "require-roles": (
        "Separation of duties already compares who logged in, for good; nothing to do.",
        "From event {seq} on, separation of duties compares who logged in, for good.",
    ),
    "allow-shared-role": (
        "A shared database role was already allowed; nothing to do.",
        "From event {seq} on, separation of duties compares only the typed --actor names; verify, register show "
        "and the site will say so.",
    ),
}
"""What each once-and-for-good setting command says: when it was already so, and from which event it holds."""


def _record_setting(
    command: str,
    workspace_path: str | None,
    register_url: str | None,
    change: Callable[[Register], int | None],
) -> None:
    """Make a once-and-for-good register setting and say whether it was already so, or from which event it holds."""
    with open_register(workspace_path, register_url) as register:
        seq = change(register)
    already, done = _SETTING_WORDS[command]
    echo(already if seq is None else done.format(seq=seq))


@register_group.command("enable-signing")
@actor_option
@_register_options
@reports_errors
def enable_signing_command(actor: str | None, workspace_path: str | None, register_url: str | None) -> None:
    """Switch signing on with the key in GOVERNANCE_REGISTER_HMAC_KEY, or the Ed25519 private key file in
    GOVERNANCE_REGISTER_ED25519_KEY (recorded in the history; final).

    The first change made with the key set does this too. From then on every change needs the key, and verify
    without it reports that the signatures were not checked (exit 3).
    """
    _record_setting(
        "enable-signing",
        workspace_path,
        register_url,
        lambda register: register.enable_signing(actor=_actor(actor)),
    )


@register_group.command("require-roles")
@actor_option
@_register_options
@reports_errors
def require_roles_command(actor: str | None, workspace_path: str | None, register_url: str | None) -> None:
    """Make separation of duties compare who logged in, for good (recorded in the history; final).

    \b
    PostgreSQL: database roles are compared by default; this also rules out a later allow-shared-role.
    SQLite: from now on the operating-system users are compared too (a guard against mistakes, not proof:
    anyone who can write the file can write any name into it).
    The approver may be neither the role (or user) that recorded the audit nor the one that registered the
    version, whatever --actor says. See docs/guide/register.md#roles.
    """
    _record_setting(
        "require-roles",
        workspace_path,
        register_url,
        lambda register: register.require_roles(actor=_actor(actor)),
    )


@register_group.command("allow-shared-role")
@click.option(
    "--reason",
    required=True,
    help="Why the team cannot have one database role per person (kept in the history and shown as a warning).",
)
@actor_option
@_register_options
@reports_errors
def allow_shared_role_command(
    reason: str, actor: str | None, workspace_path: str | None, register_url: str | None
) -> None:
    """PostgreSQL: record that several people share one database role (final; every view warns about it).

    By default an approval is refused when the approver's database role recorded the audit it relies on or
    registered the version. A team that really works through one role records that here, once and for good:
    separation of duties then compares only the typed --actor names, and `register verify`, `register show`
    and the site print a warning from then on. Prefer one role per person: see `governance register grant-sql`.
    """
    _record_setting(
        "allow-shared-role",
        workspace_path,
        register_url,
        lambda register: register.allow_shared_role(actor=_actor(actor), reason=reason),
    )


@register_group.command("grant-sql")
@click.argument("roles", nargs=-1, required=True, metavar="ROLE...")
@_register_options
@reports_errors
def grant_sql_command(roles: tuple[str, ...], workspace_path: str | None, register_url: str | None) -> None:
    """PostgreSQL: print the SQL that lets each database ROLE use this register (for an administrator to run).

    \b
    Each person then connects as their own role, e.g.
      GOVERNANCE_REGISTER_URL=postgresql://alice@db.example.com/governance
    The grants let a role read the register and add to it; only the owner of the tables may delete rows or
    rewrite events. Run it again after an upgrade of governance that adds tables. See
    docs/guide/register.md#roles.
    """
    with open_register(workspace_path, register_url, create=False) as register:
        click.echo(register.grant_sql(roles), nl=False)


@register_group.command("clean-orphans")
@click.option("--delete", is_flag=True, help="Remove them (without it, only list what would be removed).")
@_register_options
@reports_errors
def clean_orphans_command(delete: bool, workspace_path: str | None, register_url: str | None) -> None:
    """List, or with --delete remove, audit folders under audits/ that the register does not know.

    They are what an audit leaves when it stops between writing its folder and recording it (a crash, a kill, a
    lost database connection): hidden .ID.partial folders and folders with an audit.json but no register row, plus
    one-off `governance audit --no-register` audits and folders copied in by hand. They are never published;
    `governance register verify` and `governance status` report them. An audit still running is left alone.
    Without --delete nothing is removed.
    """
    from governance.register.orphans import shown

    with open_register(workspace_path, register_url, create=False) as register:
        found = register.clean_orphans(delete=delete)
        root = register.workspace_root
    if not found:
        echo("No orphans: every audit folder under audits/ is recorded in the register.")
        return
    verb = "Removed" if delete else "Would remove"
    echo(f"{verb} {_count(len(found), 'orphan')}:")
    for leftover in found:
        echo(f"  {shown(leftover, root)}  ({leftover.kind})")
    if not delete:
        echo("Nothing was removed; look at them, then run `governance register clean-orphans --delete`.")
