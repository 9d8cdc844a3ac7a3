"""The model description is one object: the CLI builds a ``ModelDescription``, the register takes it; the
library's messages name its fields (``owner``), the command line names its options (``--owner``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from register_support import Clock

from governance.cli.main import cli
from governance.errors import FieldError, InputError
from governance.register import ModelDescription, ModelRecord, Register
from governance.register.anchor import parse_head
from governance.register.checks import status

CREDIT = ModelDescription(
    owner="ana@example.com",
    purpose="Scores applications",
    intended_use="Consumer loans",
    decision_domain="credit",
    risk_tier="high",
    is_aedt=False,
    is_annex_iii_high_risk=True,
    solely_automated=False,
)


def test_the_record_is_the_description_plus_who_registered_it_when() -> None:
    described = list(ModelDescription.model_fields)
    assert list(ModelRecord.model_fields)[: len(described)] == described
    assert set(ModelRecord.model_fields) - set(described) == {"id", "name", "created_at", "created_by"}


def test_the_register_takes_a_description(register: Register) -> None:
    record = register.add_model("credit-risk", CREDIT, actor="ana@example.com")
    assert record.description == CREDIT
    updated = register.update_model(
        "credit-risk", ModelDescription(risk_tier="limited"), actor="ana@example.com"
    )
    assert updated.description == CREDIT.model_copy(update={"risk_tier": "limited"})
    assert register.update_model("credit-risk", updated.description, actor="ana@example.com") == updated
    assert len(register.history()) == 2  # registered, updated; the same description again changes nothing


def test_keywords_still_describe_a_model_and_a_misspelt_one_is_refused(register: Register) -> None:
    record = register.add_model("m", owner="o", purpose="p", is_aedt=True, actor="a")
    assert (record.owner, record.purpose, record.is_aedt) == ("o", "p", True)
    with pytest.raises(TypeError, match="'onwer' is not a field"):
        register.update_model("m", onwer="x", actor="a")


def test_library_messages_name_the_field_not_a_flag(register: Register) -> None:
    for call, field in [
        (lambda: register.add_model("m", ModelDescription(owner=" ", purpose="p"), actor="a"), "owner"),
        (lambda: register.add_model("m", ModelDescription(owner="o"), actor="a"), "purpose"),
        (lambda: register.add_model("m", CREDIT, actor=" "), "actor"),
        (lambda: status(register, within_days=-1), "within_days"),
        (lambda: parse_head("not a hash"), "expect_head"),
    ]:
        with pytest.raises(FieldError) as caught:
            call()
        assert caught.value.field == field
        assert field in str(caught.value) and "--" not in str(caught.value), str(caught.value)
    assert register.history() == []


def test_a_long_value_names_the_field(register: Register) -> None:
    with pytest.raises(InputError, match=r"^The value given for owner is 1,000 characters long"):
        register.add_model("m", ModelDescription(owner="o" * 1000, purpose="p"), actor="a")


def test_the_command_line_names_the_option_the_user_typed(
    register_url: str, workspace: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)
    runner = CliRunner()
    base = ["--register-url", register_url, "--actor", "ana@example.com"]
    blank = runner.invoke(cli, ["register", "add", "m", *base, "--owner", " ", "--purpose", "p"])
    assert blank.exit_code == 2
    assert (
        blank.stderr
        == "Error: --owner is required: give who is accountable for the model, e.g. ana@example.com.\n"
    )
    added = runner.invoke(
        cli, ["register", "add", "m", *base, "--owner", "o", "--purpose", "p", "--aedt", "--not-annex-iii"]
    )
    assert added.exit_code == 0, added.output
    with Register(register_url, workspace_root=workspace) as register:
        model = register.get_model("m")
    assert (model.is_aedt, model.is_annex_iii_high_risk, model.solely_automated) == (True, False, None)
    long = runner.invoke(cli, ["register", "update", "m", *base, "--risk-tier", "x" * 1000])
    assert long.exit_code == 2
    assert long.stderr.startswith("Error: The value given for --risk-tier is 1,000 characters long")
    head = runner.invoke(cli, ["register", "verify", "--register-url", register_url, "--expect-head", "nope"])
    assert head.exit_code == 2
    assert head.stderr.startswith("Error: --expect-head must be a chain head hash")
