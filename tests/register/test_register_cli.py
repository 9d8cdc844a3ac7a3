"""The register commands and `governance status` through Click's runner: output, messages and exit codes."""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from register_support import Clock, People, record_audit_a1, write_audit_file

from governance.cli.main import cli
from governance.provenance import sha256_file
from governance.register import Register
from governance.register.lifecycle import describe_identity

Run = Callable[..., Result]


@pytest.fixture
def run(
    register_url: str, workspace: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, people: People
) -> Run:
    """Run `governance ...` against the test register, from inside the workspace; ``person`` connects as that
    person's own database role on PostgreSQL (separation of duties compares roles there)."""
    monkeypatch.chdir(workspace)
    for variable in ("GOVERNANCE_ACTOR", "GOVERNANCE_REGISTER_URL", "GOVERNANCE_WORKSPACE"):
        monkeypatch.delenv(variable, raising=False)

    def invoke(*args: str, actor: str | None = None, person: str | None = None) -> Result:
        extra = ["--register-url", people.url(person) if person is not None else register_url]
        if actor is not None:
            extra += ["--actor", actor]
        words = list(args)
        # options go after the sub-command's own name(s)
        position = 2 if words[0] in ("register",) else 1
        return CliRunner().invoke(cli, [*words[:position], *extra, *words[position:]], catch_exceptions=False)

    return invoke


def record_audit(
    register_url: str, workspace: Path, *, verdict: str = "passed", actor: str = "aud@x"
) -> None:
    """What `governance audit credit-risk@1.0.0` does at its end (the audit command is another module's)."""
    with Register(register_url, workspace_root=workspace) as register:
        record_audit_a1(register, workspace, verdict=verdict, actor=actor)


def test_the_story_on_the_command_line(run: Run, register_url: str, workspace: Path, people: People) -> None:
    added = run(
        "register",
        "add",
        "credit-risk",
        "--owner",
        "owner@x",
        "--purpose",
        "Decide on credit",
        "--version",
        "1.0.0",
        "--model",
        "models/credit.skops",
        "--annex-iii",
        actor="ds@x",
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.splitlines()[0] == "Registered the model credit-risk (owner owner@x)."
    assert (
        added.stdout.splitlines()[2]
        == "Next: governance audit credit-risk@1.0.0 --data HOLDOUT --target COLUMN"
    )
    record_audit(register_url, workspace)

    refused = run("register", "approve", "credit-risk@1.0.0", "--role", "risk-officer", actor="aud@x")
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "Error: Guard 'separation of duties' refused the approval of credit-risk@1.0.0"
    )

    approved = run(
        "register",
        "approve",
        "credit-risk@1.0.0",
        "--role",
        "risk-officer",
        "--comment",
        "ok",
        actor="boss@x",
        person="boss",
    )
    assert (approved.exit_code, approved.stdout) == (
        0,
        "boss@x approved credit-risk@1.0.0 as risk-officer; it is now approved.\n",
    )
    deployed = run("register", "deploy", "credit-risk@1.0.0", "--reason", "go-live", actor="ops@x")
    assert (deployed.exit_code, deployed.stdout) == (0, "credit-risk@1.0.0 is now deployed.\n")

    shown = run("register", "show", "credit-risk")
    assert shown.exit_code == 0
    assert "high-risk under EU AI Act Annex III: yes" in shown.stdout
    history = shown.stdout.split("History:\n")[1].splitlines()
    with Register(
        register_url, workspace_root=workspace
    ) as register:  # who logged in, beside the typed names
        who = f" [{describe_identity(str(register.history()[0].identity))}]"
    assert who in (" [database role postgres]", f" [OS user {pwd.getpwuid(os.geteuid()).pw_name}]")
    boss = f" [database role {people.role('boss')}]" if people.is_postgres else who
    assert history == [
        f"  2026-11-23 10:00  ds@x registered the model credit-risk, owned by owner@x, for: Decide on credit.{who}",
        "  2026-11-23 10:00  ds@x registered version 1.0.0 of credit-risk (artefact models/credit.skops, "
        f"SHA-256 {sha256_file(workspace / 'models' / 'credit.skops')[:12]}…) as a draft.{who}",
        "  2026-11-23 10:00  aud@x recorded audit a1 of credit-risk@1.0.0: passed against the policy default. "
        f"It moved from draft to audited.{who}",
        "  2026-11-23 10:00  boss@x approved credit-risk@1.0.0 as risk-officer. Comment: ok. "
        f"It moved from audited to approved.{boss}",
        f"  2026-11-23 10:00  ops@x deployed credit-risk@1.0.0. Reason: go-live. It moved from approved to deployed.{who}",
    ]
    listed = run("register", "list")
    assert listed.stdout.splitlines()[1].split() == [
        "credit-risk",
        "owner@x",
        "1.0.0",
        "deployed",
        "1.0.0",
        "passed",
        "2026-11-23",
        "2026-12-23",
    ]
    assert run("register", "history").stdout.count("\n") == 5
    verified = run("register", "verify")
    with Register(register_url, workspace_root=workspace) as register:
        head = register.chain_head()[1]
    assert (verified.exit_code, verified.stdout) == (
        0,
        "OK: the history is intact (5 events, 4 rows and 1 audit file checked; not signed).\n"
        f"Head: event 5, {head} (keep it: verify --expect-head HASH checks it later).\n",
    )


@pytest.fixture
def deployed(run: Run, register_url: str, workspace: Path) -> None:
    run(
        "register",
        "add",
        "credit-risk",
        "--owner",
        "o@x",
        "--purpose",
        "p",
        "--version",
        "1.0.0",
        "--model",
        str(workspace / "models" / "credit.skops"),
        actor="ds@x",
    )
    record_audit(register_url, workspace)
    run("register", "approve", "credit-risk@1.0.0", "--role", "risk-officer", actor="boss@x", person="boss")
    assert run("register", "deploy", "credit-risk@1.0.0", actor="ops@x").exit_code == 0


def test_verify_exits_1_and_prints_the_first_break(run: Run, deployed: None, workspace: Path) -> None:
    (workspace / "audits" / "a1" / "audit.json").write_text("{}")
    result = run("register", "verify")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "BROKEN: The audit file audits/a1/audit.json (audit a1) was changed after it was recorded; "
        "restore the original, or run the audit again."
    )


def test_status_and_fail_on(run: Run, deployed: None, clock: Clock, workspace: Path) -> None:
    quiet = run("status", "--within-days", "7")
    assert quiet.exit_code == 0 and quiet.stdout.startswith("Nothing needs attention")
    clock.advance(days=20)
    expiring = run("status", "--within-days", "15", "--fail-on", "overdue,unapproved")
    assert expiring.exit_code == 0
    assert expiring.stdout == (
        "Audits expiring soon (1):\n"
        "  - credit-risk@1.0.0 (deployed) needs a new audit by 2026-12-23 (10 days from now).\n"
    )
    assert run("status", "--within-days", "15", "--fail-on", "expiring").exit_code == 1
    clock.advance(days=20)
    overdue = run("status", "--fail-on", "overdue", "--fail-on", "changed")
    assert overdue.exit_code == 1
    assert overdue.stderr == "Failing because of: overdue (--fail-on).\n"
    as_json = json.loads(run("status", "--json").stdout)
    assert [item["category"] for item in as_json["items"]] == ["overdue"]
    # the JSON says the step as the lines do (the command), and names it for other tools
    (item,) = as_json["items"]
    assert f"  - {item['message']}\n" in overdue.stdout
    assert item["message"].endswith("audit it again with `governance audit credit-risk@1.0.0 ...`.")
    assert [step["action"] for step in item["steps"]] == ["audit_again"]
    bad = run("status", "--fail-on", "late")
    assert (
        bad.exit_code == 2
        and "late is not one of overdue, expiring, unapproved, alerts, changed" in bad.stderr
    )


def test_export_to_a_file_and_to_stdout(run: Run, deployed: None, workspace: Path) -> None:
    target = workspace / "out" / "register.json"
    written = run("register", "export", "--output", str(target))
    assert written.exit_code == 0
    document = json.loads(target.read_text())
    assert written.stderr == (
        f"Wrote {target} (1 model, 5 events).\nChain head: event 5, {document['chain_head']['hash']} (keep it: "
        "`governance register verify --expect-head HASH` later shows whether events were cut off).\n"
    )
    assert document["verification"]["ok"] is True
    assert json.loads(run("register", "export").stdout)["events"] == document["events"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["register.json"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("register", "approve", "credit-risk", "--role", "r"),
            2,
            "Error: 'credit-risk' is not NAME@VERSION; write it like credit-risk@1.0.0.\n",
        ),
        (
            ("register", "deploy", "nope@1"),
            2,
            "Error: No model named 'nope' is registered; add it with `governance register add nope --owner EMAIL "
            "--purpose TEXT` (see `governance register list`).\n",
        ),
        (
            ("register", "deploy", "credit-risk@1.0.0"),
            1,
            "Error: Guard 'deployment needs approval' refused to deploy credit-risk@1.0.0: it is draft, not approved; "
            "approve it first with `governance register approve credit-risk@1.0.0 --role ROLE` (by someone other than "
            "its auditor and creator).\n",
        ),
        (
            ("register", "approve", "credit-risk@1.0.0", "--role", "r"),
            1,
            "Error: Guard 'passing audit' refused to approve credit-risk@1.0.0: no audit of its artefact is recorded; "
            "run `governance audit credit-risk@1.0.0 --data HOLDOUT --target COLUMN` first.\n",
        ),
        (
            ("register", "approve", "credit-risk@1.0.0", "--role", "r", "--reject", "--accept-risk", "x"),
            2,
            None,
        ),
        (("register", "add", "other", "--owner", "o", "--purpose", "p", "--version", "1"), 2, None),
        (
            ("register", "version", "credit-risk", "--version", "2.0.0", "--model", "models/missing.skops"),
            2,
            None,
        ),
    ],
    ids=[
        "bad-reference",
        "unknown-model",
        "guard-deploy",
        "guard-approve",
        "reject-and-accept",
        "version-no-model",
        "missing-file",
    ],
)
def test_errors_are_one_sentence_with_the_documented_code(
    run: Run, workspace: Path, args: tuple[str, ...], code: int, message: str | None
) -> None:
    run(
        "register",
        "add",
        "credit-risk",
        "--owner",
        "o@x",
        "--purpose",
        "p",
        "--version",
        "1.0.0",
        "--model",
        "models/credit.skops",
        actor="ds@x",
    )
    result = run(*args, actor="boss@x")
    assert result.exit_code == code, result.output
    if message is not None:
        assert result.stderr == message
    last = result.stderr.splitlines()[-1]  # Click's usage errors print the usage first, then the error
    assert last.startswith("Error: ") and last.count(". ") == 0 and last.endswith(".")


def test_a_corrupt_register_exits_4_and_is_untouched(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVERNANCE_REGISTER_URL", raising=False)
    state = workspace / ".governance"
    state.mkdir()
    (state / "register.db").write_bytes(b"not a database at all")
    result = CliRunner().invoke(cli, ["register", "list", "--workspace", str(workspace)])
    assert result.exit_code == 4
    assert result.stderr.startswith(f"Error: {state / 'register.db'} is not a SQLite database")
    assert (state / "register.db").read_bytes() == b"not a database at all"


def test_incident_suspend_retire(run: Run, deployed: None) -> None:
    incident = run(
        "register",
        "incident",
        "credit-risk@1.0.0",
        "--title",
        "Complaints",
        "--severity",
        "high",
        actor="ops@x",
    )
    assert incident.stdout.splitlines() == [
        "Recorded a high incident on credit-risk@1.0.0: Complaints.",
        'If it must stop now: governance register suspend credit-risk@1.0.0 --reason "..."',
    ]
    assert run("register", "suspend", "credit-risk@1.0.0", actor="ops@x").stdout == (
        "credit-risk@1.0.0 is now suspended.\n"
    )
    assert run("register", "retire", "credit-risk@1.0.0", actor="ops@x").exit_code == 0
    again = run("register", "retire", "credit-risk@1.0.0", actor="ops@x")
    assert again.exit_code == 1 and "Guard 'retirement is final'" in again.stderr


def test_empty_register_messages(run: Run) -> None:
    assert run("register", "list").stdout == (
        "The register is empty. Add a model with: governance register add NAME --owner EMAIL --purpose TEXT\n"
    )
    assert run("register", "history").stdout == "No history yet.\n"


@pytest.mark.parametrize(
    "command",
    [
        "add",
        "update",
        "version",
        "list",
        "show",
        "history",
        "approve",
        "deploy",
        "suspend",
        "retire",
        "incident",
        "export",
        "verify",
        "require-roles",
        "allow-shared-role",
        "grant-sql",
    ],
)
def test_every_register_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, ["register", command, "--help"])
    assert result.exit_code == 0
    summary = result.stdout.split("\n\n")[1].strip()
    assert len(summary) > 20, summary


def test_status_has_help() -> None:
    result = CliRunner().invoke(cli, ["status", "--help"])
    assert result.exit_code == 0 and "--fail-on LIST" in result.stdout


def test_relative_paths_are_under_the_workspace_not_the_current_folder(
    register_url: str, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with Register(register_url, workspace_root=workspace) as register:
        register.add_model("m", owner="o", purpose="p", actor="a")
        version = register.add_version("m", "1", artifact_path="models/credit.skops", actor="a")
        assert version.artifact_path == "models/credit.skops"
        assert register.locate(version.artifact_path) == workspace.resolve() / "models" / "credit.skops"


def test_update_on_the_command_line(run: Run) -> None:
    run("register", "add", "hiring", "--owner", "hr@x", "--purpose", "Rank applicants", actor="hr@x")
    assert run("register", "update", "hiring", "--aedt", "--human-in-the-loop", actor="hr@x").stdout == (
        "Updated hiring.\n"
    )
    assert run("register", "update", "hiring", "--aedt", actor="hr@x").stdout == (
        "Nothing to change: hiring already says that.\n"
    )
    shown = run("register", "show", "hiring").stdout
    assert (
        "Automated employment decision tool: yes; high-risk under EU AI Act Annex III: not answered; "
        "decisions solely automated: no." in shown
    )


def test_read_commands_do_not_create_a_register(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVERNANCE_REGISTER_URL", raising=False)
    runner = CliRunner()
    where = ["--workspace", str(workspace)]
    assert runner.invoke(cli, ["register", "list", *where]).stdout.startswith("The register is empty.")
    assert runner.invoke(cli, ["register", "history", *where]).stdout == "No history yet.\n"
    assert runner.invoke(cli, ["status", *where]).stdout.startswith("Nothing needs attention")
    for command in (["register", "verify"], ["register", "show", "m"], ["register", "export"]):
        result = runner.invoke(cli, [*command, *where])
        assert result.exit_code == 2
        assert result.stderr == (
            f"Error: There is no register at {workspace / '.governance' / 'register.db'} yet; add a model with "
            "`governance register add NAME --owner EMAIL --purpose TEXT`.\n"
        )
    assert not (workspace / ".governance").exists()


def test_add_with_a_missing_model_file_registers_nothing(run: Run) -> None:
    result = run(
        "register",
        "add",
        "m",
        "--owner",
        "o",
        "--purpose",
        "p",
        "--version",
        "1",
        "--model",
        "models/missing.skops",
        actor="ds@x",
    )
    assert result.exit_code == 2
    assert "does not exist" in result.stderr.splitlines()[-1]
    assert run("register", "list").stdout.startswith("The register is empty.")


def test_approval_lists_every_audit_that_needs_a_risk_acceptance(
    run: Run, register_url: str, workspace: Path
) -> None:
    run(
        "register",
        "add",
        "credit-risk",
        "--owner",
        "o@x",
        "--purpose",
        "p",
        "--version",
        "1.0.0",
        "--model",
        str(workspace / "models" / "credit.skops"),
        actor="ds@x",
    )
    with Register(register_url, workspace_root=workspace) as register:
        sha = register.resolve_version("credit-risk", "1.0.0").sha256
        for audit_id, verdict in (("a1", "failed"), ("a2", "passed")):
            path = write_audit_file(workspace, audit_id)
            register.record_audit(
                "credit-risk",
                "1.0.0",
                audit_id=audit_id,
                audit_json_path=path,
                verdict=verdict,
                policy_name="default",
                policy_sha256=sha256_file(path),
                data_sha256="d" * 64,
                artifact_sha256=sha,
                tool_versions={},
                actor="aud@x",
                max_age_days=30,
            )
    refused = run("register", "approve", "credit-risk@1.0.0", "--role", "risk-officer", actor="boss@x")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: Guard 'passing audit' refused to approve credit-risk@1.0.0: 1 of its 2 audits of this model file did "
        "not pass: a1 failed on 2026-11-23; a later audit does not undo them, so register a fixed model as a new "
        "version and audit that, or approve with --accept-risk REASON to record a risk acceptance that covers them.\n"
    )
    approved = run(
        "register",
        "approve",
        "credit-risk@1.0.0",
        "--role",
        "risk-officer",
        "--accept-risk",
        "The failure came from a truncated holdout",
        actor="boss@x",
        person="boss",
    )
    assert (approved.exit_code, approved.stdout) == (
        0,
        (
            "boss@x approved credit-risk@1.0.0 as risk-officer; it is now approved.\n"
            "The risk acceptance covers these audits of its model file:\n"
            "  a1 failed on 2026-11-23\n"
        ),
    )
