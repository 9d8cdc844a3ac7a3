"""Library messages name fields and methods, not flags; the command line words the same step as its command
(issue 12, point 5). Each case: what a Python caller reads, and what `governance` prints, unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from governance.cli._common import cli_message
from governance.errors import GovernanceError
from governance.register import Register


@pytest.fixture
def drafted_sqlite(workspace: Path, clock: object) -> Iterator[Register]:
    """credit-risk@1.0.0 registered (a draft) in a SQLite register."""
    register = Register(f"sqlite:///{workspace / '.governance' / 'register.db'}", workspace_root=workspace)
    register.add_model(
        "credit-risk", owner="o@example.com", purpose="Decide on credit", actor="ds@example.com"
    )
    register.add_version(
        "credit-risk", "1.0.0", artifact_path=workspace / "models" / "credit.skops", actor="ds@example.com"
    )
    yield register
    register.close()


def _refusal(act: Callable[[], object]) -> GovernanceError:
    with pytest.raises(GovernanceError) as caught:
        act()
    return caught.value


CASES: dict[str, tuple[Callable[[Register, Path], object], str, str]] = {
    "a taken model name": (
        lambda r, _ws: r.add_model("credit-risk", owner="o@example.com", purpose="p", actor="ds@example.com"),
        "add a version to it with Register.add_version('credit-risk', 'V', artifact_path=...)",
        "A model named 'credit-risk' is already registered; add a version to it with `governance register version "
        "credit-risk --version V --model PATH`, or choose another name.",
    ),
    "an unknown model": (
        lambda r, _ws: r.get_model("fraud"),
        "add it with Register.add_model('fraud', owner=..., purpose=...) (see Register.list_models())",
        "No model named 'fraud' is registered; add it with `governance register add fraud --owner EMAIL --purpose "
        "TEXT` (see `governance register list`).",
    ),
    "an unknown version": (
        lambda r, _ws: r.resolve_version("credit-risk", "2.0.0"),
        "register it with Register.add_version('credit-risk', '2.0.0', artifact_path=...)",
        "credit-risk has no version '2.0.0' (registered: 1.0.0); register it with `governance register version "
        "credit-risk --version 2.0.0 --model PATH`.",
    ),
    "a shared role on SQLite": (
        lambda r, _ws: r.allow_shared_role(actor="admin@example.com", reason="one login"),
        "compares only the typed actor names unless Register.require_roles(actor=...) was run",
        "A SQLite register compares only the typed --actor names unless `governance register require-roles` was "
        "run, so there is no shared database role to allow.",
    ),
    "approval without an audit": (
        lambda r, _ws: r.approve("credit-risk", "1.0.0", role="risk-officer", actor="ro@example.com"),
        "record an audit of credit-risk@1.0.0 in the register (governance.audit.registered.audit_registered)",
        "Guard 'passing audit' refused to approve credit-risk@1.0.0: no audit of its artefact is recorded; run "
        "`governance audit credit-risk@1.0.0 --data HOLDOUT --target COLUMN` first.",
    ),
    "deploying what is not approved": (
        lambda r, _ws: r.deploy("credit-risk", "1.0.0", actor="ops@example.com"),
        "approve it first with Register.approve('credit-risk', '1.0.0', role=..., actor=...)",
        "Guard 'deployment needs approval' refused to deploy credit-risk@1.0.0: it is draft, not approved; approve "
        "it first with `governance register approve credit-risk@1.0.0 --role ROLE` (by someone other than its "
        "auditor and creator).",
    ),
    "no register yet": (
        lambda _r, ws: Register(f"sqlite:///{ws / 'elsewhere.db'}", create=False),
        "add a model with Register.add_model('NAME', owner=..., purpose=...)",
        "There is no register at {ws}/elsewhere.db yet; add a model with `governance register add NAME --owner "
        "EMAIL --purpose TEXT`.",
    ),
    "a file that is no register": (
        lambda _r, ws: Register(f"sqlite:///{ws / 'governance.yaml'}"),
        "move it away or point the register URL at another file",
        "{ws}/governance.yaml is not a SQLite database (damaged, or another program's file) and was left "
        "untouched; move it away or point --register-url at another file.",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_library_names_the_step_and_the_command_line_its_command(
    case: str, drafted_sqlite: Register, workspace: Path
) -> None:
    act, library_words, cli_words = CASES[case]
    error = _refusal(lambda: act(drafted_sqlite, workspace))
    assert library_words in str(error)
    assert "--" not in str(error) and "`governance" not in str(error)
    assert cli_message(error) == cli_words.format(ws=workspace)


def test_recording_monitoring_without_an_actor_names_the_field() -> None:
    from governance.register.monitoring import RunFacts, record_monitoring

    facts = RunFacts(
        run_id="m-1",
        window="1D",
        time_column="at",
        data_path="log.csv",
        data_sha256="d" * 64,
        policy_sha256="p" * 64,
        approved_audit_id=None,
    )
    error = _refusal(lambda: record_monitoring(None, "m", "1", facts=facts, windows=[], alerts=[], actor=" "))  # type: ignore[arg-type]
    assert str(error) == "Say who is acting: give actor, for example your e-mail address."
    assert cli_message(error) == "Say who is acting: give --actor, for example your e-mail address."


def test_every_step_the_library_suggests_has_a_command() -> None:
    """The command line never prints a method call: each step of ``actions.CALLS`` (and the workspace's) has
    its command, and a subject the command needs but the error lacks stays a placeholder."""
    from governance.cli._common import COMMAND_OF_ACTION
    from governance.register.actions import CALLS, advice

    assert set(CALLS) | {"init", "init_here", "init_force"} <= set(COMMAND_OF_ACTION)
    error = GovernanceError("Add it with {add_version}.", **advice("add_version", model="m", version="1"))
    error.subject.pop("version")
    assert cli_message(error) == "Add it with `governance register version m --version VERSION --model PATH`."
