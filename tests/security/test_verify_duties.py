"""Issue 10, the last review: the lifecycle guards ran only in the client, so a row written by hand bypassed them.

An insider with the register's grants (INSERT, UPDATE of a version's state and of the chain head) logs in as their
own role and writes, in SQL, an approval of a version they registered, and its event, linked and hashed with the
register's own helpers. The trigger records their role truthfully, but nothing compared it: ``verify`` said OK.
Now verify replays separation of duties and the lifecycle from the events alone, by the rules the commands apply.
"""

# ruff: noqa: F811  (the shared fixtures are imported by name, then taken as arguments)
from __future__ import annotations

import json
import os
import pwd
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))
from register_support import Clock, People, fresh_postgres_database, write_audit_file
from roles_fixtures import clock, pg_url, record_audit, register_version, workspace  # noqa: F401  (fixtures, used by name)

from governance.cli.main import cli
from governance.provenance import canonical_json, isoformat, now, sha256_file
from governance.register import Register
from governance.register import schema as t
from governance.register.chain import event_hash
from governance.register.database import session_identity
from governance.register.queries import row_image

LABEL = "credit-risk@1.0.0"
Change = Callable[[sa.Connection, int], list[tuple[sa.Table, Any]]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


def by_hand(url: str, kind: str, change: Change, extra: dict[str, Any], actor: str = "boss@x") -> int:
    """What an insider with the register's grants does in SQL under their own login: change the rows, append an
    event carrying their after-images, linked and hashed with the register's own helpers, and move the head."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            head = conn.execute(sa.select(t.chain_head)).one()
            seq = head.seq + 1
            rows = change(conn, seq)
            payload = {
                "rows": [{"table": table.name, "record": row_image(row)} for table, row in rows],
                **extra,
            }
            payload = json.loads(canonical_json(payload))
            fields: dict[str, Any] = {
                "seq": seq,
                "at": isoformat(now()),
                "actor": actor,
                "kind": kind,
                "model_name": "credit-risk",
                "version": "1.0.0",
                "payload": payload,
                "prev_hash": head.hash,
                "identity": session_identity(conn),  # the trigger refuses any other on PostgreSQL
            }
            digest = event_hash(**fields)
            conn.execute(
                t.events.insert().values(**{**fields, "payload": canonical_json(payload)}, hash=digest)
            )
            conn.execute(sa.update(t.chain_head).values(seq=seq, hash=digest, hmac=None))
    finally:
        engine.dispose()
    return seq


def _set_state(conn: sa.Connection, state: str) -> Any:
    return conn.execute(sa.update(t.versions).values(state=state).returning(*t.versions.c)).one()


def approval(decision: str = "approve", risk_acceptance: str | None = None, actor: str = "boss@x") -> Change:
    """An approval row (and the version's new state), as ``register approve`` would have written them."""

    def change(conn: sa.Connection, seq: int) -> list[tuple[sa.Table, Any]]:
        version = conn.execute(sa.select(t.versions)).one()
        new = conn.execute(
            t.approvals.insert()
            .values(
                version_id=version.id,
                role="risk-officer",
                decision=decision,
                comment=None,
                risk_acceptance=risk_acceptance,
                audit_id="a1",
                actor=actor,
                at=isoformat(now()),
                event_seq=seq,
            )
            .returning(*t.approvals.c)
        ).one()
        state = "approved" if decision == "approve" and version.state != "retired" else version.state
        return [(t.approvals, new), (t.versions, _set_state(conn, state))]

    return change


def new_state(state: str) -> Change:
    return lambda conn, _seq: [(t.versions, _set_state(conn, state))]


def approve_by_hand(url: str, **options: Any) -> int:
    return by_hand(
        url, "approval.recorded", approval(**options), {"state": {"from": "audited", "to": "approved"}}
    )


def deploy_by_hand(url: str) -> int:
    extra = {"state": {"from": "approved", "to": "deployed"}, "reason": None}  # the lie in the payload
    return by_hand(url, "version.deployed", new_state("deployed"), extra, actor="ops@x")


def verify(url: str, workspace: Path) -> Result:
    return CliRunner().invoke(
        cli,
        ["register", "verify", "--register-url", url, "--workspace", str(workspace)],
        catch_exceptions=False,
    )


def broken_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.output.startswith("BROKEN: "), result.output
    return result.output.splitlines()[0]


def os_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


# ------------------------------------------------------------------ separation of duties, PostgreSQL roles


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("registrant", "auditor", "broken"),
    [
        ("alice", "bob", "registered it"),
        ("ds", "alice", "recorded the audit it relies on (a1)"),
    ],
    ids=["registrants-role", "auditors-role"],
)
def test_an_approval_written_by_hand_by_a_role_that_took_part_breaks_verify(
    pg_url: str, workspace: Path, registrant: str, auditor: str, broken: str
) -> None:
    """Alice approves by hand a version she registered, or one whose audit she recorded."""
    with People(pg_url, workspace) as people:
        with people.register(registrant) as registers, people.register(auditor) as audits:
            register_version(registers, workspace)
            record_audit(audits, workspace)
        seq = approve_by_hand(people.url("alice"))
        result = verify(pg_url, workspace)
        role = people.role("alice")
    assert broken_line(result) == (
        f"BROKEN: Approval 1 of {LABEL} at event {seq}, by database role {role} (as boss@x), breaks the rule "
        f"'separation of duties': approved by the same database role that {broken}; the register's commands "
        "refuse this, so it was written by hand."
    )


@pytest.mark.postgres
def test_approvals_by_another_role_stay_ok_by_the_command_and_by_hand(pg_url: str, workspace: Path) -> None:
    with People(pg_url, workspace) as people:
        with people.register("alice") as alice, people.register("bob") as bob:
            register_version(alice, workspace)
            record_audit(alice, workspace)
            bob.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
        approve_by_hand(people.url("bob"))  # the same rules hold for rows written by hand: nothing to report
        result = verify(pg_url, workspace)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: the history is intact"), result.output


@pytest.mark.postgres
def test_with_a_shared_role_on_the_record_the_same_role_is_a_warning_not_a_break(
    pg_url: str, workspace: Path
) -> None:
    with People(pg_url, workspace) as people:
        with people.register("alice") as alice, people.register("bob") as bob:
            register_version(alice, workspace)
            record_audit(bob, workspace)
        with Register(pg_url, workspace_root=workspace) as admin:  # the tables' owner
            allowed = admin.allow_shared_role(actor="admin@x", reason="one service account")
        seq = approve_by_hand(people.url("alice"))
        result = verify(pg_url, workspace)
        role = people.role("alice")
    assert result.exit_code == 0, result.output
    assert (
        f"Warning: Approval 1 of {LABEL} at event {seq}, by database role {role} (as boss@x), was approved by the "
        "same database role that registered it; this register allowed one shared database role at event "
        f"{allowed}, so only the typed actor names were compared.\n"
    ) in result.output


# ------------------------------------------------------------------ separation of duties, SQLite OS users


def test_on_sqlite_after_require_roles_the_same_os_user_breaks_verify(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register.require_roles(actor="admin@x")
        register_version(register, workspace)
        record_audit(register, workspace)
    seq = approve_by_hand(url)
    assert broken_line(verify(url, workspace)) == (
        f"BROKEN: Approval 1 of {LABEL} at event {seq}, by OS user {os_user()} (as boss@x), breaks the rule "
        "'separation of duties': approved by the same OS user that recorded the audit it relies on (a1); the "
        "register's commands refuse this, so it was written by hand."
    )


def test_on_sqlite_without_require_roles_only_the_typed_names_are_compared(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace)
    approve_by_hand(url)
    result = verify(url, workspace)
    assert result.exit_code == 0, result.output


def test_the_typed_names_are_replayed_too(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace)
    seq = by_hand(url, "approval.recorded", approval(actor="AUD@x "), {}, actor="AUD@x ")
    assert broken_line(verify(url, workspace)) == (
        f"BROKEN: Approval 1 of {LABEL} at event {seq}, by OS user {os_user()} (as AUD@x ), breaks the rule "
        "'separation of duties': approved under the same actor name that recorded the audit it relies on (a1); "
        "the register's commands refuse this, so it was written by hand."
    )


# ------------------------------------------------------------------ the lifecycle


def test_a_deployment_written_by_hand_without_an_approval_breaks_verify(
    register_url: str, workspace: Path
) -> None:
    with People(register_url, workspace) as people:
        with people.register("ds") as ds, people.register("aud") as aud:
            register_version(ds, workspace)
            record_audit(aud, workspace)
        seq = deploy_by_hand(people.url("ops"))
        who = f"database role {people.role('ops')}" if people.is_postgres else f"OS user {os_user()}"
        result = verify(register_url, workspace)
    assert broken_line(result) == (
        f"BROKEN: The deployment of {LABEL} at event {seq}, by {who} (as ops@x), breaks the rule 'deployment needs "
        "approval': deployed while audited, without a standing approval; the register's commands refuse this, so "
        "it was written by hand."
    )


def test_a_deployment_after_a_real_approval_stays_ok(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace)
        register.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
    deploy_by_hand(url)
    assert verify(url, workspace).exit_code == 0


@pytest.mark.parametrize(
    ("setup", "write", "rule"),
    [
        pytest.param(
            "failed",
            lambda url: approve_by_hand(url),
            "'passing audit': approved although an audit of its model file did not pass, without a recorded risk "
            "acceptance",
            id="failed-audit-no-acceptance",
        ),
        pytest.param(
            "draft",
            lambda url: approve_by_hand(url),
            "'passing audit': approved with no audit of its model file recorded",
            id="no-audit",
        ),
        pytest.param(
            "expired",
            lambda url: approve_by_hand(url),
            "'audit age': approved after its audit had expired, without a recorded risk acceptance",
            id="expired-audit",
        ),
        pytest.param(
            "retired",
            lambda url: approve_by_hand(url),
            "'retirement is final': approved after it was retired",
            id="approval-after-retirement",
        ),
    ],
)
def test_approvals_written_by_hand_are_held_to_the_approval_guards(
    workspace: Path, clock: Clock, setup: str, write: Callable[[str], int], rule: str
) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        if setup != "draft":
            record_audit(register, workspace, verdict="failed" if setup == "failed" else "passed")
        if setup == "retired":
            register.retire("credit-risk", "1.0.0", actor="ops@x")
    if setup == "expired":
        clock.advance(days=31)
    seq = write(url)
    assert broken_line(verify(url, workspace)) == (
        f"BROKEN: Approval 1 of {LABEL} at event {seq}, by OS user {os_user()} (as boss@x), breaks the rule "
        f"{rule}; the register's commands refuse this, so it was written by hand."
    )


def test_a_risk_acceptance_written_with_the_approval_satisfies_the_replay(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace, verdict="failed")
    approve_by_hand(url, risk_acceptance="Accepted by the committee on 2026-11-20")
    assert verify(url, workspace).exit_code == 0


def test_a_state_changed_by_an_event_that_cannot_change_it_breaks_verify(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace)
    seq = by_hand(url, "version.vouched", new_state("deployed"), {}, actor="ds@x")
    assert broken_line(verify(url, workspace)) == (
        f"BROKEN: Event {seq} (version.vouched) of {LABEL}, by OS user {os_user()} (as ds@x), breaks the rule "
        "'lifecycle': its state changed from audited to deployed, which a version.vouched record cannot do; the "
        "register's commands refuse this, so it was written by hand."
    )


def test_a_history_written_by_the_commands_replays_clean(workspace: Path, clock: Clock) -> None:
    """Every command's event in one long life (approve, deploy, suspend, re-approve, reject, retire) is OK."""
    url = f"sqlite:///{workspace / 'register.db'}"
    accept = "Accepted by the committee on 2026-11-20"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace, verdict="failed")
        register.update_model("credit-risk", actor="ds@x", purpose="Decide on credit, again")
        register.record_incident(
            "credit-risk", "1.0.0", title="t", description="d", severity="low", actor="x@x"
        )
        register.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x", risk_acceptance=accept)
        register.deploy("credit-risk", "1.0.0", actor="ops@x")
        register.suspend("credit-risk", "1.0.0", actor="ops@x")
        clock.advance(days=40)  # the audit has expired since: the acceptance covers it
        register.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x", risk_acceptance=accept)
        register.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x", decision="reject")
        register.retire("credit-risk", "1.0.0", actor="ops@x")
        report = register.verify()
    assert report.ok, report.problems
    assert report.warnings == []


def monitoring_run(conn: sa.Connection, seq: int) -> list[tuple[sa.Table, Any]]:
    version = conn.execute(sa.select(t.versions)).one()
    run = conn.execute(
        t.monitoring_runs.insert()
        .values(
            version_id=version.id,
            run_id="m1",
            window="month",
            time_column="at",
            data_path="live.csv",
            data_sha256="d" * 64,
            policy_sha256="p" * 64,
            approved_audit_id="a1",
            first_window="2026-10-01",
            last_window="2026-11-01",
            n_windows=2,
            n_rows=100,
            n_alerts=0,
            reaudit=False,
            actor="mon@x",
            recorded_at=isoformat(now()),
            event_seq=seq,
        )
        .returning(*t.monitoring_runs.c)
    ).one()
    return [(t.monitoring_runs, run)]


def test_monitoring_written_by_hand_after_retirement_breaks_verify(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace)
        register.retire("credit-risk", "1.0.0", actor="ops@x")
    seq = by_hand(url, "monitoring.recorded", monitoring_run, {}, actor="mon@x")
    assert broken_line(verify(url, workspace)) == (
        f"BROKEN: Monitoring run m1 of {LABEL} at event {seq}, by OS user {os_user()} (as mon@x), breaks the rule "
        "'retirement is final': monitored after it was retired; the register's commands refuse this, so it was "
        "written by hand."
    )


def as_release_0_1_0(url: str) -> None:
    """Make every event look as release 0.1.0 wrote it: no identity (the column came later), hashes and head
    recomputed, as the migration left a 0.1.0 register."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        digest = t.GENESIS_HASH
        for event in conn.execute(sa.select(t.events).order_by(t.events.c.seq)).all():
            fields = {
                key: getattr(event, key) for key in ("seq", "at", "actor", "kind", "model_name", "version")
            }
            digest = event_hash(**fields, payload=json.loads(event.payload), prev_hash=digest)
            conn.execute(
                sa.update(t.events).where(t.events.c.seq == event.seq).values(identity=None, hash=digest)
            )
            conn.execute(sa.update(t.events).where(t.events.c.seq == event.seq + 1).values(prev_hash=digest))
        conn.execute(sa.update(t.chain_head).values(hash=digest))
    engine.dispose()


def test_an_approval_by_release_0_1_0_is_held_to_the_rules_of_that_release(workspace: Path) -> None:
    """0.1.0 weighed only the newest audit, so its approval after a failed then a passing audit was genuine; its
    events carry no identity, which is how the replay tells them apart: such a register must still verify."""
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace, verdict="failed")
        path = write_audit_file(workspace, "a2")
        register.record_audit(
            "credit-risk", "1.0.0", audit_id="a2", audit_json_path=path, verdict="passed", policy_name="default",
            policy_sha256=sha256_file(path), data_sha256="d" * 64, tool_versions={}, actor="aud@x",
            artifact_sha256=register.resolve_version("credit-risk", "1.0.0").sha256, max_age_days=30,
        )  # fmt: skip
    by_hand(url, "approval.recorded", approval(), {})
    assert "'passing audit'" in broken_line(verify(url, workspace))  # today's rule, for today's events
    as_release_0_1_0(url)
    result = verify(url, workspace)
    assert result.exit_code == 0, result.output


def test_a_rule_written_by_hand_stops_an_audit_from_loading_a_vouched_pickle(workspace: Path) -> None:
    """A history with rows written by hand cannot vouch for code: the audit refuses before unpickling."""
    from security_support import evil_pickle

    from governance.audit.registered import audit_registered
    from governance.errors import RefusedInputError
    from governance.workspace import Workspace

    url = f"sqlite:///{workspace / 'register.db'}"
    marker = workspace / "marker"
    evil = evil_pickle(workspace / "models" / "evil.pkl", marker)
    with Register(url, workspace_root=workspace) as register:
        register_version(register, workspace)
        record_audit(register, workspace)
    deploy_by_hand(url)  # 1.0.0 deployed without an approval, by hand
    rows = "".join(f"{i % 2},{'ab'[i % 3 == 0]},{i}\n" for i in range(60))
    (workspace / "holdout.csv").write_text("label,group,x\n" + rows, encoding="utf-8")
    with Register(url, workspace_root=workspace) as register:
        register.add_version(
            "credit-risk", "2.0.0", artifact_path=evil, actor="ds@x", trust_sha256=sha256_file(evil)
        )
    with pytest.raises(RefusedInputError, match=r"fails verify .*deployment needs approval") as refused:
        audit_registered(
            "credit-risk@2.0.0",
            register_url=url,
            workspace=Workspace(root=workspace),
            data=workspace / "holdout.csv",
            target="label",
            sensitive=("group",),
        )
    assert not marker.exists()
    # a Python caller reads the call; the command line the command
    assert str(refused.value).endswith("run Register.verify() and restore the register from a backup.")
    from governance.cli._common import cli_message

    assert cli_message(refused.value).endswith(
        "run `governance register verify` and restore the register from a backup."
    )
