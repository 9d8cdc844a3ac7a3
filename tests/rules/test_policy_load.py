"""Policy files: presets load, and every mistake gets one sentence naming the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.errors import PolicyError
from governance.rules.load import load_policy, parse_policy, policy_json_schema, preset_names
from governance.rules.schema import Bound
from governance.schemas import SCHEMA_DIR, generated

GOOD = """\
name: mine
rules:
  - id: four-fifths
    description: ratio
    metric: selection_rate
    comparison: impact_ratio
    bound: ">= 0.8"
"""


def test_shipped_presets_load() -> None:
    assert {"default", "four-fifths", "nyc-ll144", "equalized-odds"} <= set(preset_names())
    for name in preset_names():
        assert load_policy(name).policy.name == name


def test_unknown_key_names_field_and_line() -> None:
    text = GOOD.replace("    bound:", "    bund: x\n    bound:")
    with pytest.raises(PolicyError) as error:
        parse_policy(text, source="p.yaml")
    assert str(error.value) == "p.yaml: line 7, rules.0.bund: unknown key 'bund' (check its spelling)."


def test_metric_typo_suggests_the_right_name() -> None:
    with pytest.raises(
        PolicyError,
        match=r"line 3, rules\.0: metric 'selection_rat' does not fit .*did you mean 'selection_rate'",
    ):
        parse_policy(GOOD.replace("metric: selection_rate", "metric: selection_rat"), source="p.yaml")


def test_bad_bound_and_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"bound '=> 0\.8' is not understood"):
        parse_policy(GOOD.replace('">= 0.8"', '"=> 0.8"'), source="p.yaml")
    with pytest.raises(PolicyError, match="not valid YAML at line"):
        parse_policy("name: [x\nrules: 1", source="p.yaml")
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(str(tmp_path / "nope.yaml"))
    with pytest.raises(PolicyError, match="no policy preset called 'strictest'"):
        load_policy("strictest")


def test_duplicate_rule_ids_and_missing_proxy_threshold() -> None:
    twice = GOOD + GOOD.split("rules:\n", 1)[1]
    with pytest.raises(PolicyError, match="rule id 'four-fifths' is used twice"):
        parse_policy(twice, source="p.yaml")
    explain = "name: x\nrules:\n  - id: p\n    description: d\n    check: proxy_in_top_k\n"
    with pytest.raises(PolicyError, match="needs a threshold"):
        parse_policy(explain, source="p.yaml")


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (">= 0.8", [0.8, 1.0], [0.79]),
        ("> 0.8", [0.81], [0.8]),
        ("<= 0.1", [0.1, -1.0], [0.11]),
        ("between 0.8 and 1.25", [0.8, 1.0, 1.25], [0.79, 1.26]),
    ],
)
def test_bounds(text: str, inside: list[float], outside: list[float]) -> None:
    bound = Bound.parse(text)
    assert all(bound.holds(x) for x in inside)
    assert not any(bound.holds(x) for x in outside)


def test_committed_schemas_are_current() -> None:
    for name, text in generated().items():
        assert (SCHEMA_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run python -m governance.schemas"
        )
    assert '"rules"' in policy_json_schema()


def test_missing_metric_key_is_named() -> None:
    with pytest.raises(
        PolicyError, match=r"^p.yaml: line 3, rules\.0\.metric: missing required key 'metric'\.$"
    ):
        parse_policy(GOOD.replace("    metric: selection_rate\n", ""), source="p.yaml")


def test_validate_says_when_a_policy_sets_no_pass_mark(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from governance.cli.main import cli

    empty = tmp_path / "empty.yaml"
    empty.write_text("name: empty\nrules: []\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["policy", "validate", str(empty), "--workspace", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "It has no blocking rule, so it sets no pass mark: its audits end REPORTED (exit 0), never passed."
    )
    preset = runner.invoke(cli, ["policy", "validate", "nyc-ll144", "--workspace", str(tmp_path)])
    assert preset.output.splitlines()[-1] == (
        "It is reporting only, so it sets no pass mark: its audits end REPORTED (exit 0), never passed."
    )
    default = runner.invoke(cli, ["policy", "validate", "default", "--workspace", str(tmp_path)])
    assert "REPORTED" not in default.output
