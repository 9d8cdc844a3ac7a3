"""Outside a workspace, commands that need one stop with one sentence (exit 2) and create nothing.

Only ``init``, ``demo`` (which runs ``init`` itself), ``policy validate``/``list``/``schema``, ``checklist list``,
``explain`` and a one-off ``audit --no-register`` work without a workspace.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli.main import cli
from governance.errors import InputError
from governance.workspace import require_workspace

SENTENCE = "no workspace here (no governance.yaml in this folder or above); run `governance init` or pass --workspace"

NEEDS_A_WORKSPACE = [
    ["status"],
    ["status", "--fail-on", "overdue,unapproved,changed,expiring"],
    ["status", "--json"],
    ["register", "add", "m", "--owner", "a@example.com", "--purpose", "Decides."],
    ["register", "update", "m", "--owner", "b@example.com"],
    ["register", "version", "m", "--version", "1", "--model", "{model}"],
    ["register", "list"],
    ["register", "list", "--json"],
    ["register", "show", "m"],
    ["register", "history"],
    ["register", "history", "m"],
    ["register", "approve", "m@1", "--role", "risk-officer"],
    ["register", "deploy", "m@1"],
    ["register", "suspend", "m@1"],
    ["register", "retire", "m@1"],
    ["register", "incident", "m@1", "--title", "Oops"],
    ["register", "export"],
    ["register", "export", "--output", "register.json"],
    ["register", "verify"],
    ["register", "verify", "--expect-head", "0" * 64],
    ["register", "checkpoint"],
    ["register", "enable-signing"],
    ["register", "require-roles"],
    ["register", "allow-shared-role", "--reason", "one service account"],
    ["register", "grant-sql", "alice"],
    ["checklist", "answer", "m", "gdpr.art22.human-review", "--status", "yes", "--evidence", "A memo."],
    ["checklist", "status", "m"],
    ["checklist", "validate"],
    ["site", "build"],
    ["site", "build", "--no-mkdocs"],
    ["site", "serve", "--port", "8765"],
    ["audit", "m@1", "--data", "{data}", "--predictions", "p", "--sensitive", "g", "--no-explain"],
]


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An empty current folder, with the model and data files kept elsewhere."""
    for name in ("GOVERNANCE_WORKSPACE", "GOVERNANCE_REGISTER_URL"):
        monkeypatch.delenv(name, raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    model = elsewhere / "model.skops"
    model.write_bytes(b"not really a model")
    data = elsewhere / "d.csv"
    data.write_text("g,p\n" + "a,1\nb,0\n" * 40, encoding="utf-8")
    folder = tmp_path / "empty"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return {"folder": folder, "model": model, "data": data}


def _args(template: list[str], files: dict[str, Path]) -> list[str]:
    return [part.format(model=files["model"], data=files["data"]) for part in template]


def _everything(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


@pytest.mark.parametrize("command", NEEDS_A_WORKSPACE, ids=" ".join)
def test_a_command_that_needs_a_workspace_stops_and_creates_nothing(
    command: list[str], empty: dict[str, Path]
) -> None:
    result = CliRunner().invoke(cli, _args(command, empty))
    assert result.exit_code == 2, result.output
    assert result.output == f"Error: {SENTENCE}.\n"
    assert _everything(empty["folder"]) == []
    assert _everything(empty["model"].parent) == ["d.csv", "model.skops"]


@pytest.mark.parametrize("command", [NEEDS_A_WORKSPACE[1], NEEDS_A_WORKSPACE[3]], ids=" ".join)
def test_an_explicit_folder_without_governance_yaml_is_not_a_workspace(
    command: list[str], empty: dict[str, Path], tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    result = CliRunner().invoke(cli, [*_args(command, empty), "--workspace", str(other)])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"Error: no workspace in {other} (no governance.yaml in that folder or above); "
        f"run `governance init {other}` or pass --workspace with an existing one.\n"
    )
    assert _everything(other) == [] and _everything(empty["folder"]) == []


@pytest.mark.parametrize(
    "command", [NEEDS_A_WORKSPACE[1], NEEDS_A_WORKSPACE[3], NEEDS_A_WORKSPACE[6]], ids=" ".join
)
def test_a_register_url_alone_is_not_a_workspace(
    command: list[str], empty: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """File paths in the register are relative to the workspace, so a shared register still needs one."""
    database = tmp_path / "shared" / "register.db"
    database.parent.mkdir()
    monkeypatch.setenv("GOVERNANCE_REGISTER_URL", f"sqlite:///{database}")
    result = CliRunner().invoke(cli, _args(command, empty))
    assert result.exit_code == 2, result.output
    assert SENTENCE in result.output
    assert _everything(database.parent) == [] and _everything(empty["folder"]) == []


def test_the_library_refuses_too(empty: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="no workspace here"):
        require_workspace()


def test_a_workspace_above_the_current_folder_is_found(
    empty: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    (empty["folder"] / "governance.yaml").write_text("organisation:\n  name: Acme\n", encoding="utf-8")
    below = empty["folder"] / "models" / "deep"
    below.mkdir(parents=True)
    monkeypatch.chdir(below)
    assert require_workspace().root == empty["folder"].resolve()
    result = CliRunner().invoke(cli, ["status", "--fail-on", "overdue"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Nothing needs attention")


@pytest.mark.parametrize(
    "command",
    [["policy", "validate", "default"], ["policy", "list"], ["policy", "schema"], ["checklist", "list"]],
    ids=" ".join,
)
def test_reading_shipped_material_needs_no_workspace(command: list[str], empty: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    assert _everything(empty["folder"]) == []


def test_a_one_off_audit_needs_no_workspace(empty: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--no-register",
            "--data",
            str(empty["data"]),
            "--predictions",
            "p",
            "--sensitive",
            "g",
            "--n-boot",
            "50",
            "--no-figures",
            "--quiet",
        ],
    )
    assert result.exit_code in {0, 1, 3}, result.output
    assert not (empty["folder"] / ".governance").exists()


def test_demo_in_an_empty_folder_runs_init_first(
    empty: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import governance.demo

    seen: dict[str, object] = {}

    def fake_run_demo(space: object, **_options: object) -> object:
        root = space.root  # type: ignore[attr-defined]
        seen["root"] = root
        seen["initialised"] = (root / "governance.yaml").is_file() and (root / "policies").is_dir()
        raise InputError("stop here")

    monkeypatch.setattr(governance.demo, "run_demo", fake_run_demo)
    result = CliRunner().invoke(cli, ["demo", "--no-site"])
    assert result.exit_code == 2 and "stop here" in result.output, result.output
    assert seen == {"root": empty["folder"].resolve(), "initialised": True}


def test_the_library_names_the_function_and_the_argument_the_command_line_its_command_and_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python caller of ``require_workspace`` never typed ``--workspace`` (issue 12, point 5)."""
    from governance.cli._common import cli_message
    from governance.errors import GovernanceError

    monkeypatch.delenv("GOVERNANCE_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    for start, command in [(None, "`governance init`"), (tmp_path, f"`governance init {tmp_path}`")]:
        with pytest.raises(GovernanceError) as caught:
            require_workspace(start)
        library = str(caught.value)
        assert "--" not in library and "`governance" not in library
        assert "governance.scaffold.init_workspace(" in library and "or pass start" in library
        assert f"run {command} or pass --workspace" in cli_message(caught.value)


def test_a_broken_config_names_the_function_that_writes_a_fresh_one(tmp_path: Path) -> None:
    from governance.cli._common import cli_message
    from governance.errors import GovernanceError
    from governance.workspace import load_config

    path = tmp_path / "governance.yaml"
    path.write_text("organisation: [\n", encoding="utf-8")
    with pytest.raises(GovernanceError) as caught:
        load_config(path)
    assert str(caught.value).endswith(
        "; fix the file or write a fresh one with governance.scaffold.init_workspace(folder, force=True)."
    )
    assert cli_message(caught.value).endswith("; fix the file or run `governance init --force`.")


@pytest.mark.parametrize("above", [False, True], ids=["alone", "with-a-workspace-above"])
def test_a_governance_yaml_that_is_a_folder_is_named(
    empty: dict[str, Path], monkeypatch: pytest.MonkeyPatch, above: bool
) -> None:
    """A folder named governance.yaml is a mistake to show, not a folder to pass by (before: 'no governance.yaml
    in this folder or above', or the workspace above it was used, its register receiving the record)."""
    if above:
        (empty["folder"] / "governance.yaml").write_text("organisation:\n  name: Acme\n", encoding="utf-8")
    here = empty["folder"] / "team"
    (here / "governance.yaml").mkdir(parents=True)
    monkeypatch.chdir(here)
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"Error: {here.resolve() / 'governance.yaml'} is a folder where a workspace's settings file would be; "
        "rename or remove that folder, then run the command again.\n"
    )
