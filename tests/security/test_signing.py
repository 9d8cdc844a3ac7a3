"""Issue 10, points 1, 2 and 7: a signed history cannot be unsigned or truncated, and who acts is authenticated.

Each test is an attack by someone with write access to the database (raw SQL, as from a console), on SQLite
and on PostgreSQL, or an identity check against a real PostgreSQL role.
"""

from __future__ import annotations

import json
import os
import pwd
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))
from register_support import People, fresh_postgres_database, record_audit_a1, server_url
from roles_fixtures import clock, register_and_audit  # noqa: F401  (the clock fixture, used by name)

from governance.cli.main import cli
from governance.errors import GuardError, RegisterError
from governance.register import Register
from governance.register import schema as t
from governance.register.chain import HMAC_ENV, event_hash

KEY = b"the register's secret key"
SEPARATION = r"separation of duties.*database role"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    (root / "models").mkdir()
    (root / "models" / "credit.skops").write_bytes(b"model bytes v1")
    for variable in (
        "GOVERNANCE_ACTOR",
        "GOVERNANCE_REGISTER_URL",
        "GOVERNANCE_WORKSPACE",
        "GOVERNANCE_REGISTER_HMAC_KEY",
    ):
        monkeypatch.delenv(variable, raising=False)
    return root


def open_register(url: str, workspace: Path, key: bytes | None) -> Register:
    register = Register(url, workspace_root=workspace, hmac_key=key or b"")
    register.hmac_key = key  # b"" above only stops the environment's key from being used
    return register


def story(register: Register, workspace: Path, approver: Register) -> None:
    """Model, version, audit, approval (by ``approver``, their own database role on PostgreSQL), then two
    incidents: the newest events are easy to cut off."""
    register_and_audit(register, register, workspace)
    approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
    for title in ("first incident", "second incident"):
        register.record_incident(
            "credit-risk", "1.0.0", title=title, description="", severity="low", actor="ops@x"
        )


@pytest.fixture
def people(register_url: str, workspace: Path) -> Iterator[People]:
    with People(register_url, workspace) as found:
        yield found


@pytest.fixture
def signed(register_url: str, workspace: Path, people: People) -> Iterator[Register]:
    register = open_register(register_url, workspace, KEY)
    story(register, workspace, people.register("boss", hmac_key=KEY))
    assert register.verify().ok
    yield register
    register.close()


@pytest.fixture
def unsigned(register_url: str, workspace: Path, people: People) -> Iterator[Register]:
    register = open_register(register_url, workspace, None)
    story(register, workspace, people.register("boss"))
    assert register.verify().ok
    yield register
    register.close()


# ---------------------------------------------------------------------- what an attacker does


def strip_signatures_and_rehash(register: Register, *, drop_signing_record: bool) -> None:
    """Set every signature to NULL (optionally remove the record that signing is on), recompute every hash."""
    with register.engine.begin() as connection:
        if drop_signing_record:
            first = connection.execute(
                sa.select(sa.func.min(t.events.c.seq)).where(t.events.c.kind == "register.signing_enabled")
            ).scalar()
            if first is not None:
                connection.execute(sa.delete(t.events).where(t.events.c.seq == first))
                later = (
                    connection.execute(
                        sa.select(t.events.c.seq).where(t.events.c.seq > first).order_by(t.events.c.seq)
                    )
                    .scalars()
                    .all()
                )
                for seq in later:  # close the gap, as a careful attacker would
                    connection.execute(sa.update(t.events).where(t.events.c.seq == seq).values(seq=seq - 1))
                for table in t.ENTITY_TABLES.values():
                    connection.execute(
                        sa.update(table)
                        .where(table.c.event_seq > first)
                        .values(event_seq=table.c.event_seq - 1)
                    )
        events = connection.execute(sa.select(t.events).order_by(t.events.c.seq)).all()
        previous = t.GENESIS_HASH
        for event in events:
            fields = {
                "seq": event.seq,
                "at": event.at,
                "actor": event.actor,
                "kind": event.kind,
                "model_name": event.model_name,
                "version": event.version,
                "payload": json.loads(event.payload),
                "prev_hash": previous,
            }
            identity = getattr(event, "identity", None)
            digest = event_hash(**fields, identity=identity) if identity is not None else event_hash(**fields)
            connection.execute(
                sa.update(t.events)
                .where(t.events.c.seq == event.seq)
                .values(prev_hash=previous, hash=digest, hmac=None)
            )
            previous = digest
        values: dict[str, object] = {"seq": events[-1].seq, "hash": previous}
        if "hmac" in t.chain_head.c:
            values["hmac"] = None
        connection.execute(sa.update(t.chain_head).values(**values))


def cut_newest_incidents(register: Register, count: int = 2) -> None:
    """Delete the newest events (incidents), their rows, and rewind the head to the event before them."""
    with register.engine.begin() as connection:
        newest = connection.execute(sa.select(t.events).order_by(t.events.c.seq.desc()).limit(count)).all()
        assert all(event.kind == "incident.recorded" for event in newest)
        seqs = [event.seq for event in newest]
        connection.execute(sa.delete(t.incidents).where(t.incidents.c.event_seq.in_(seqs)))
        connection.execute(sa.delete(t.events).where(t.events.c.seq.in_(seqs)))
        keep = connection.execute(sa.select(t.events).order_by(t.events.c.seq.desc()).limit(1)).one()
        connection.execute(sa.update(t.chain_head).values(seq=keep.seq, hash=keep.hash))


def head_hash(register: Register) -> str:
    with register.engine.connect() as connection:
        return str(connection.execute(sa.select(t.chain_head.c.hash)).scalar_one())


# ---------------------------------------------------------------------- point 1: signatures


def test_stripping_signatures_and_recomputing_hashes_is_a_break_with_the_key(signed: Register) -> None:
    strip_signatures_and_rehash(signed, drop_signing_record=False)
    report = signed.verify()
    assert not report.ok
    assert report.first_break is not None and report.first_break.kind == "signature"


def test_removing_the_signing_record_too_is_still_a_break_with_the_key(signed: Register) -> None:
    strip_signatures_and_rehash(signed, drop_signing_record=True)
    report = signed.verify()
    assert not report.ok
    assert report.first_break is not None and report.first_break.kind == "signature"
    assert "no record that signing was switched on" in report.first_break.message


def test_cutting_the_newest_events_and_rewinding_the_head_is_a_break_with_the_key(signed: Register) -> None:
    cut_newest_incidents(signed)
    report = signed.verify()
    assert not report.ok
    assert report.first_break is not None and report.first_break.kind == "head"
    assert "head" in report.first_break.message


def test_a_signed_register_verified_without_the_key_is_inconclusive(
    signed: Register, register_url: str, workspace: Path
) -> None:
    with open_register(register_url, workspace, None) as keyless:
        report = keyless.verify()
    assert not report.ok and report.inconclusive and not report.problems and report.signing_since == 1
    result = CliRunner().invoke(
        cli,
        ["register", "verify", "--register-url", register_url, "--workspace", str(workspace)],
        catch_exceptions=False,
    )
    assert result.exit_code == 3, result.output
    assert result.stdout.startswith("NOT CHECKED: the hashes and rows are intact")
    assert "OK" not in result.stdout


def test_a_wrong_key_is_a_break(signed: Register) -> None:
    signed.hmac_key = b"another key"
    report = signed.verify()
    assert not report.ok
    assert report.first_break is not None and report.first_break.kind == "signature"
    assert report.first_break.message.startswith("The key given is not the key this register is signed with")


def test_a_key_on_a_register_that_was_never_signed_is_a_break(unsigned: Register) -> None:
    unsigned.hmac_key = KEY
    report = unsigned.verify()
    assert not report.ok
    assert (
        report.first_break is not None
        and "no record that signing was switched on" in report.first_break.message
    )


def test_a_signed_register_refuses_changes_without_the_key_or_with_another(
    signed: Register, register_url: str, workspace: Path
) -> None:
    for key in (None, b"another key"):
        with (
            open_register(register_url, workspace, key) as other,
            pytest.raises(RegisterError, match=HMAC_ENV),
        ):
            other.add_model("other", owner="o", purpose="p", actor="x")
    assert signed.verify().ok


def test_every_signed_event_and_the_head_carry_a_signature(signed: Register) -> None:
    with signed.engine.connect() as connection:
        signatures = connection.execute(
            sa.select(t.events.c.kind, t.events.c.hmac).order_by(t.events.c.seq)
        ).all()
        head = connection.execute(sa.select(t.chain_head)).one()
    assert signatures[0].kind == "register.signing_enabled"
    assert all(len(row.hmac or "") == 64 for row in signatures)
    assert len(head.hmac or "") == 64


# ---------------------------------------------------------------------- point 2: truncation against an anchor


def test_expect_head_catches_a_truncation_without_the_key(
    unsigned: Register, register_url: str, workspace: Path
) -> None:
    kept = head_hash(unsigned)
    unsigned.record_incident(
        "credit-risk", "1.0.0", title="third", description="", severity="low", actor="ops@x"
    )
    fine = unsigned.verify(expect_head=kept)
    assert fine.ok and fine.anchors[0].events_after == 1
    unsigned.record_incident(
        "credit-risk", "1.0.0", title="fourth", description="", severity="low", actor="ops@x"
    )
    later = head_hash(unsigned)
    cut_newest_incidents(unsigned)  # the third and the fourth
    assert unsigned.verify().ok  # nothing inside the database shows the cut
    report = unsigned.verify(expect_head=later)
    assert not report.ok and report.first_break is not None and report.first_break.kind == "anchor"
    result = CliRunner().invoke(
        cli,
        [
            "register",
            "verify",
            "--register-url",
            register_url,
            "--workspace",
            str(workspace),
            "--expect-head",
            later,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("BROKEN: The chain does not contain the expected head")


def test_a_malformed_expected_head_is_a_usage_error(
    unsigned: Register, register_url: str, workspace: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "register",
            "verify",
            "--register-url",
            register_url,
            "--workspace",
            str(workspace),
            "--expect-head",
            "abc",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --expect-head must be")


def test_the_checkpoint_file_is_checked_automatically(
    unsigned: Register, register_url: str, workspace: Path
) -> None:
    runner = CliRunner()
    base = ["--register-url", register_url, "--workspace", str(workspace)]
    written = runner.invoke(cli, ["register", "checkpoint", *base], catch_exceptions=False)
    assert written.exit_code == 0, written.output
    checkpoint = json.loads((workspace / "register-head.json").read_text(encoding="utf-8"))
    assert checkpoint["hash"] == head_hash(unsigned) and checkpoint["seq"] == 6
    verified = runner.invoke(cli, ["register", "verify", *base], catch_exceptions=False)
    assert verified.exit_code == 0 and "checkpoint" in verified.stdout
    cut_newest_incidents(unsigned)
    broken = runner.invoke(cli, ["register", "verify", *base], catch_exceptions=False)
    assert broken.exit_code == 1
    assert "register-head.json" in broken.stdout.splitlines()[0]


def test_export_prints_the_head(unsigned: Register, register_url: str, workspace: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["register", "export", "--register-url", register_url, "--workspace", str(workspace)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    assert f"Chain head: event 6, {head_hash(unsigned)}" in result.stderr
    assert json.loads(result.stdout)["chain_head"]["hash"] == head_hash(unsigned)


# ---------------------------------------------------------------------- point 7: who is acting


def test_sqlite_records_the_operating_system_user(tmp_path: Path, workspace: Path) -> None:
    with open_register(f"sqlite:///{workspace / '.governance' / 'register.db'}", workspace, None) as register:
        register.add_model("m", owner="o", purpose="p", actor="someone-else@x")
        event = register.history()[0]
    assert event.actor == "someone-else@x"
    assert event.identity == f"os:{pwd.getpwuid(os.geteuid()).pw_name}"


@pytest.fixture
def roles() -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh schema and three PostgreSQL roles (a data scientist, an auditor, an approver) that may use it."""
    server = server_url()
    tag = uuid.uuid4().hex[:8]
    schema = f"gov_test_{tag}"
    names = {who: f"gov_{who}_{tag}" for who in ("ds", "aud", "boss")}
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        for role in names.values():
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')  # who logs in is who acts
            connection.exec_driver_sql(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}"')
    base = server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )
    urls = {"admin": base}
    for who, role in names.items():
        urls[who] = (
            server.set(username=role)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    with Register(base) as register:  # create the tables, then let the roles use them
        register.close()
    with admin.connect() as connection:
        for role in names.values():
            connection.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
            connection.exec_driver_sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')
    try:
        yield schema, {**urls, **{f"{who}_role": role for who, role in names.items()}}
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            for role in names.values():
                connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_records_the_database_role_whatever_the_actor_label(
    roles: tuple[str, dict[str, str]], workspace: Path
) -> None:
    _schema, urls = roles
    with open_register(urls["ds"], workspace, None) as register:
        register.add_model("m", owner="o", purpose="p", actor="boss@x")  # a typed name that is not theirs
        event = register.history()[0]
    assert event.actor == "boss@x"
    assert event.identity == f"pg:{urls['ds_role']}"
    shown = CliRunner().invoke(
        cli,
        ["register", "history", "--register-url", urls["admin"], "--workspace", str(workspace)],
        catch_exceptions=False,
    )
    assert f"database role {urls['ds_role']}" in shown.stdout


@pytest.mark.postgres
def test_separation_of_duties_holds_against_typed_names_on_postgresql(
    roles: tuple[str, dict[str, str]], workspace: Path
) -> None:
    _schema, urls = roles
    with open_register(urls["admin"], workspace, None) as admin:
        admin.require_roles(actor="admin@x")
    with open_register(urls["ds"], workspace, None) as ds:
        ds.add_model("credit-risk", owner="o@x", purpose="p", actor="ds@x")
        ds.add_version(
            "credit-risk", "1.0.0", artifact_path=workspace / "models" / "credit.skops", actor="ds@x"
        )
    with open_register(urls["aud"], workspace, None) as aud:
        record_audit_a1(aud, workspace)
        with pytest.raises(GuardError, match=SEPARATION):
            aud.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")  # the auditor, renamed
    with open_register(urls["ds"], workspace, None) as ds, pytest.raises(GuardError, match=SEPARATION):
        ds.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")  # the registrant, renamed
    with open_register(urls["boss"], workspace, None) as boss:
        approved = boss.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
        assert approved.decision == "approve"
        assert boss.verify().ok


def test_requiring_roles_on_sqlite_is_recorded_and_compares_os_users(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'sqlite-only.db'}"
    with Register(url, workspace_root=workspace) as register:
        assert register.require_roles(actor="admin@x") == 1
        assert register.history()[0].summary == (
            "admin@x made separation of duties compare who logged in (database roles), not only actor names, "
            "for good."
        )


def test_the_site_front_page_prints_the_head(unsigned: Register, register_url: str, workspace: Path) -> None:
    from governance.site.register_page import render_register_page
    from governance.site.sources import collect
    from governance.workspace import find_workspace

    sources = collect(find_workspace(workspace), register_url=register_url)
    page = render_register_page(
        sources,
        organisation="Test Co",
        model_links={"credit-risk": "m.md"},
        audit_links={},
        extra_links=[],
        built_at="2026-11-23",
    )
    assert f"ends at event 6, whose hash (the chain head) is `{head_hash(unsigned)}`" in page


def test_a_broken_register_gets_no_checkpoint(unsigned: Register, register_url: str, workspace: Path) -> None:
    with unsigned.engine.begin() as connection:  # a hand edit that verify catches
        connection.execute(sa.update(t.models).values(owner="someone@else"))
    result = CliRunner().invoke(
        cli,
        ["register", "checkpoint", "--register-url", register_url, "--workspace", str(workspace)],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: No checkpoint was written, because the register fails verify: The model"
    )
    assert not (workspace / "register-head.json").exists()


def test_enable_signing_on_the_command_line(
    unsigned: Register, register_url: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ["--register-url", register_url, "--workspace", str(workspace)]
    runner = CliRunner()
    missing = runner.invoke(
        cli, ["register", "enable-signing", *base, "--actor", "admin@x"], catch_exceptions=False
    )
    assert missing.exit_code == 2 and HMAC_ENV in missing.stderr
    monkeypatch.setenv(HMAC_ENV, KEY.decode())
    switched = runner.invoke(
        cli, ["register", "enable-signing", *base, "--actor", "admin@x"], catch_exceptions=False
    )
    assert (switched.exit_code, switched.stdout.split(":")[0]) == (0, "Signing is on from event 7")
    again = runner.invoke(
        cli, ["register", "enable-signing", *base, "--actor", "admin@x"], catch_exceptions=False
    )
    assert again.stdout == "Signing was already on; nothing to do.\n"
    assert runner.invoke(cli, ["register", "verify", *base], catch_exceptions=False).exit_code == 0
    monkeypatch.delenv(HMAC_ENV)
    assert runner.invoke(cli, ["register", "verify", *base], catch_exceptions=False).exit_code == 3
    refused = runner.invoke(
        cli,
        ["register", "incident", "credit-risk@1.0.0", "--title", "t", *base, "--actor", "x"],
        catch_exceptions=False,
    )
    assert refused.exit_code == 2
    assert refused.stderr.startswith(
        "Error: This register is signed (since event 7), so every change must be signed"
    )


def test_an_old_signed_head_put_back_is_caught_only_by_a_kept_head(signed: Register) -> None:
    """The limit of signing, as the guide states it: a head row saved from a backup still carries a valid
    signature, so only a head kept outside the database catches the events cut off after it."""
    with signed.engine.connect() as connection:
        saved = connection.execute(sa.select(t.chain_head)).one()  # the backup: head at event 7
    for title in ("third", "fourth"):
        signed.record_incident(
            "credit-risk", "1.0.0", title=title, description="", severity="low", actor="ops@x"
        )
    kept = head_hash(signed)
    cut_newest_incidents(signed)
    with signed.engine.begin() as connection:
        connection.execute(sa.update(t.chain_head).values(seq=saved.seq, hash=saved.hash, hmac=saved.hmac))
    assert signed.verify().ok
    report = signed.verify(expect_head=kept)
    assert not report.ok and report.first_break is not None and report.first_break.kind == "anchor"


def test_an_audit_of_a_signed_register_without_the_key_stops_before_any_work(
    signed: Register, register_url: str, workspace: Path
) -> None:
    from governance.audit.registered import audit_registered
    from governance.workspace import find_workspace

    before = sorted(p.name for p in (workspace / "audits").iterdir())
    with pytest.raises(RegisterError, match="This register is signed"):
        audit_registered(
            "credit-risk@1.0.0",
            register_url=register_url,
            workspace=find_workspace(workspace),
            actor="aud@x",
            data="not-even-read.csv",
            target="y",
        )
    assert sorted(p.name for p in (workspace / "audits").iterdir()) == before
