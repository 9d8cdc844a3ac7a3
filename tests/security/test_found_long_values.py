"""Found by the issue-10 review: over-long values, and a PostgreSQL URL naming a missing schema, gave tracebacks.

On PostgreSQL an owner, actor, risk tier, title or role longer than its column failed inside the write with a
database traceback and exit 1 (which CI reads as a refused guard); SQLite kept it, so the same register could not
be moved to PostgreSQL later. A register URL whose ``search_path`` names a schema that does not exist failed in
the migration with a traceback. Each is now one sentence and exit 2, on both backends, with nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from governance.cli.main import cli
from governance.register import Register
from tests.register.register_support import fresh_postgres_database, server_url

LONG = "a" * 400


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture
def workspace(tmp_path: Path, register_url: str) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    (root / "m.bin").write_bytes(b"model")
    with Register(register_url, workspace_root=root) as register:
        register.add_model("m", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        register.add_version("m", "1", artifact_path=root / "m.bin", actor="ds@example.com")
    return root


def run(root: Path, url: str, *args: str) -> Result:
    env = {
        "GOVERNANCE_ACTOR": "ds@example.com",
        "GOVERNANCE_WORKSPACE": str(root),
        "GOVERNANCE_REGISTER_URL": url,
    }
    return CliRunner().invoke(cli, list(args), env=env)


CASES = {
    "owner": ("register", "add", "n", "--owner", LONG, "--purpose", "Decide"),
    "risk tier": ("register", "add", "n", "--owner", "o@x", "--purpose", "Decide", "--risk-tier", LONG),
    "decision domain": (
        "register",
        "add",
        "n",
        "--owner",
        "o@x",
        "--purpose",
        "Decide",
        "--decision-domain",
        LONG,
    ),
    "actor": ("register", "add", "n", "--owner", "o@x", "--purpose", "Decide", "--actor", LONG),
    "updated owner": ("register", "update", "m", "--owner", LONG),
    "incident title": ("register", "incident", "m@1", "--title", LONG, "--severity", "low"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_value_longer_than_the_register_keeps_is_one_sentence_and_exit_2(
    workspace: Path, register_url: str, case: str
) -> None:
    with Register(register_url, workspace_root=workspace) as register:
        before = register.chain_head()
    result = run(workspace, register_url, *CASES[case])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "shorten it" in lines[0], result.output
    with Register(register_url, workspace_root=workspace) as register:
        assert register.chain_head() == before
        assert register.verify().ok


@pytest.mark.postgres
def test_a_url_naming_a_missing_schema_is_one_sentence(tmp_path: Path) -> None:
    options = {"options": "-csearch_path=no_such_schema_h7"}
    url = server_url().update_query_dict(options).render_as_string(hide_password=False)
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    result = run(tmp_path, url, "register", "add", "n", "--owner", "o@x", "--purpose", "Decide")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: Cannot set up the register") and "schema" in result.output
    assert len(result.output.strip().splitlines()) == 1
