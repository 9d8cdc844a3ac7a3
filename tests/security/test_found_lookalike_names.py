"""Found by the issue-10 review: a model name that only looks like an existing one was accepted (now refused).

``credit-risk`` and ``credit‐risk`` (U+2010 HYPHEN), or ``credit-risk`` with a Cyrillic ``с``, print the same in
``register list``, ``status`` and on the site. Someone can register the look-alike, get it audited and approved
under their own rules, and a reader of the site or the list takes its state for the real model's. Guards and
approvals stay with the model actually named (a person typing the name gets the ASCII one), so no record is
changed; the risk is a misleading reading. A new name whose UTS #39 skeleton (or its case-folded one) equals a
registered name's is refused, naming both and the first character that differs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.errors import GovernanceError
from governance.register import Register

LOOKALIKES = {
    "unicode hyphen": "credit\u2010risk",
    "cyrillic es": "\u0441redit-risk",
    "fullwidth letters": "\uff43redit-risk",
    "other case": "Credit-Risk",
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES.values()))
def test_a_name_that_looks_like_a_registered_one_is_refused(tmp_path: Path, name: str) -> None:
    with Register(f"sqlite:///{tmp_path / 'register.db'}", workspace_root=tmp_path) as register:
        register.add_model("credit-risk", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        with pytest.raises(GovernanceError, match="looks like"):
            register.add_model(name, owner="x@example.com", purpose="Decide", actor="x@example.com")


def test_the_refusal_names_both_names_and_the_character(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from governance.cli.main import cli

    url = f"sqlite:///{tmp_path / 'register.db'}"
    with Register(url, workspace_root=tmp_path) as register:
        register.add_model("credit-risk", owner="o@example.com", purpose="Decide", actor="ds@example.com")
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    where = ["--register-url", url, "--workspace", str(tmp_path)]
    result = CliRunner().invoke(
        cli,
        [
            "register",
            "add",
            "\u0441redit-risk",
            "--owner",
            "x@",
            "--purpose",
            "Decide",
            "--actor",
            "x@",
            *where,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: The model name '\u0441redit-risk' looks like the registered model 'credit-risk' (character 1 is "
        "CYRILLIC SMALL LETTER ES (U+0441), not LATIN SMALL LETTER C (U+0063)), so readers could take one for the "
        "other; add a version to 'credit-risk' if you meant that model, or choose a name that reads differently.\n"
    )
    with Register(url, workspace_root=tmp_path) as register:
        assert [model.name for model in register.list_models()] == ["credit-risk"]


@pytest.mark.parametrize("name", ["credit-rísk", "debit-risk", "credit-risk-2"])
def test_names_that_read_differently_are_accepted(tmp_path: Path, name: str) -> None:
    with Register(f"sqlite:///{tmp_path / 'register.db'}", workspace_root=tmp_path) as register:
        register.add_model("credit-risk", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        assert (
            register.add_model(name, owner="x@example.com", purpose="Decide", actor="x@example.com").name
            == name
        )
