"""The verdict: a rule passes only if the whole interval meets the bound, fails only if it misses it entirely."""

from __future__ import annotations

import pytest

from governance.results.common import Estimate
from governance.results.fairness import AttributeResult, FairnessResult, GroupResult, LL144Row, LL144Table
from governance.rules.evaluate import evaluate_policy, judge
from governance.rules.load import parse_policy
from governance.rules.schema import Bound


def _fairness(ratio: Estimate, *, female_n: int = 100) -> FairnessResult:
    groups = [
        GroupResult(
            group="female",
            levels={"sex": "female"},
            n=female_n,
            weight=female_n,
            share=0.3,
            metrics={"selection_rate": Estimate(value=0.5)},
        ),
        GroupResult(
            group="male",
            levels={"sex": "male"},
            n=200,
            weight=200,
            share=0.7,
            metrics={"selection_rate": Estimate(value=0.7)},
        ),
    ]
    table = LL144Table(
        attribute="sex",
        rate_kind="selection",
        rows=[
            LL144Row(
                category="female",
                n=female_n,
                selected=50,
                rate=0.5,
                impact_ratio=ratio.value,
                impact_ratio_low=ratio.low,
                impact_ratio_high=ratio.high,
                share=0.33,
                under_two_percent=False,
            ),
            LL144Row(
                category="male",
                n=200,
                selected=140,
                rate=0.7,
                impact_ratio=1.0,
                share=0.67,
                under_two_percent=False,
            ),
        ],
        most_selected="male",
        unknown_count=0,
    )
    attribute = AttributeResult(
        attribute="sex",
        columns=["sex"],
        is_intersection=False,
        reference_group="male",
        reference_method="largest",
        groups=groups,
        to_reference=[],
        to_overall=[],
        between_groups=[],
        summaries={},
        empty_cells=[],
        unknown_count=0,
        ll144=table,
    )
    return FairnessResult(
        task="binary",
        has_labels=False,
        has_scores=False,
        weighted=False,
        n_rows=300,
        total_weight=300,
        overall={"selection_rate": Estimate(value=0.63, low=0.574, high=0.683)},
        attributes=[attribute],
        n_boot=1000,
        confidence_level=0.95,
        seed=0,
    )


POLICY = """\
name: test
min_group_size: 30
rules:
  - id: ff
    description: four-fifths
    metric: selection_rate
    comparison: impact_ratio
    bound: ">= 0.8"
    severity: {severity}
  - id: no-sensitive
    description: no sensitive attribute among the top features
    check: sensitive_in_top_k
    severity: {explain_severity}
"""


def _verdict(
    ratio: Estimate,
    *,
    severity: str = "block",
    strict: bool = False,
    female_n: int = 100,  # type: ignore[no-untyped-def]
    explain_severity: str = "warn",
    **explanation: str,
):
    policy = parse_policy(
        POLICY.format(severity=severity, explain_severity=explain_severity), source="t.yaml"
    )
    return evaluate_policy(
        policy,
        _fairness(ratio, female_n=female_n),
        policy_path="t.yaml",
        policy_sha256="0" * 64,
        strict=strict,
        **explanation,
    )


@pytest.mark.parametrize(
    ("estimate", "status"),
    [
        (Estimate(value=0.9, low=0.82, high=0.97), "pass"),
        (Estimate(value=0.6, low=0.5, high=0.79), "fail"),
        (Estimate(value=0.78, low=0.62, high=0.96), "inconclusive"),
        (Estimate(value=0.8, low=0.8, high=0.9), "pass"),
        (Estimate(value=None), "inconclusive"),
        (Estimate(value=0.7), "fail"),
        (Estimate(value=0.85), "pass"),
    ],
)
def test_judge(estimate: Estimate, status: str) -> None:
    assert judge(estimate, Bound.parse(">= 0.8")) == status


def test_two_sided_bound_misses_only_when_interval_is_outside() -> None:
    bound = Bound.parse("between 0.8 and 1.25")
    assert judge(Estimate(value=1.3, low=1.26, high=1.4), bound) == "fail"
    assert judge(Estimate(value=1.2, low=1.1, high=1.3), bound) == "inconclusive"


def test_verdicts_and_exit_codes() -> None:
    passed = _verdict(Estimate(value=0.9, low=0.82, high=0.97), explain_severity="warn")
    assert (passed.verdict, passed.exit_code) == ("passed", 0)
    assert passed.rules[1].status == "not_applicable"  # a warning left unchecked: never silently "met"
    failed = _verdict(Estimate(value=0.6, low=0.5, high=0.79))
    assert (failed.verdict, failed.exit_code) == ("failed", 1)
    assert failed.rules[0].findings[0].group == "female"
    assert "misses >= 0.8 over the whole interval" in failed.rules[0].findings[0].reason
    unsure = _verdict(Estimate(value=0.78, low=0.62, high=0.96))
    assert (unsure.verdict, unsure.exit_code) == ("inconclusive", 3)
    strict = _verdict(Estimate(value=0.78, low=0.62, high=0.96), strict=True)
    assert (strict.verdict, strict.exit_code) == ("failed", 1)


def test_small_group_is_inconclusive_even_with_a_clear_interval() -> None:
    small = _verdict(Estimate(value=0.6, low=0.5, high=0.7), female_n=12)
    assert small.verdict == "inconclusive"
    assert "only 12 rows" in small.rules[0].findings[0].reason


def test_warning_rules_do_not_change_the_verdict() -> None:
    text = POLICY.format(severity="warn", explain_severity="warn") + (
        "  - id: overall-rate\n    description: d\n    metric: selection_rate\n    comparison: overall\n"
        "    bound: '>= 0.5'\n"
    )
    warned = evaluate_policy(
        parse_policy(text, source="t"),
        _fairness(Estimate(value=0.6, low=0.5, high=0.79)),
        policy_path="t",
        policy_sha256="0",
    )
    assert warned.verdict == "passed"
    assert (
        warned.summary == "Passed: every blocking rule of the 'test' policy is met. Warnings to review: ff."
    )


@pytest.mark.parametrize("strict", [False, True])
def test_reporting_only_policy_reports_and_never_passes(strict: bool) -> None:
    text = POLICY.format(severity="warn", explain_severity="warn").replace(
        "name: test", "name: t\nreporting_only: true"
    )
    verdict = evaluate_policy(
        parse_policy(text, source="t"),
        _fairness(Estimate(value=0.5, low=0.4, high=0.6)),
        policy_path="t",
        policy_sha256="0",
        strict=strict,
    )
    assert (verdict.verdict, verdict.exit_code) == ("reported", 0)
    assert verdict.rules[0].status == "fail"
    assert verdict.summary.startswith("Reported: the 't' policy sets no pass mark")
    assert "Passed" not in verdict.summary and "is met" not in verdict.summary


def test_reporting_only_policy_may_not_have_blocking_rules() -> None:
    from governance.errors import PolicyError

    text = POLICY.format(severity="block", explain_severity="warn").replace(
        "name: test", "name: t\nreporting_only: true"
    )
    with pytest.raises(PolicyError, match=r"reporting_only.*'ff' is blocking.*severity: warn"):
        parse_policy(text, source="t")


@pytest.mark.parametrize(
    "rules",
    [
        "rules: []\n",
        "",
        "rules:\n  - id: w\n    description: d\n    metric: selection_rate\n"
        "    comparison: impact_ratio\n    bound: '>= 0.8'\n    severity: warn\n",
    ],
)
def test_a_policy_without_blocking_rules_reports_instead_of_passing(rules: str) -> None:
    policy = parse_policy("name: empty\n" + rules, source="t")
    verdict = evaluate_policy(
        policy, _fairness(Estimate(value=0.9, low=0.85, high=0.95)), policy_path="t", policy_sha256="0"
    )
    assert (verdict.verdict, verdict.exit_code) == ("reported", 0)
    assert verdict.summary.startswith(
        "Reported: the 'empty' policy has no blocking rule, so it sets no pass mark"
    )
    assert "every blocking rule" not in verdict.summary


@pytest.mark.parametrize(
    ("explanation", "why"),
    [
        ({"explanation_skipped": "it was skipped with explain=False"}, "it was skipped with explain=False"),
        (
            {"explanation_skipped": "the audit ran on saved predictions, so there is no model to explain"},
            "the audit ran on saved predictions, so there is no model to explain",
        ),
        (
            {"explanation_error": "the explainer stopped with RuntimeError: boom"},
            "the explanation failed (the explainer stopped with RuntimeError: boom)",
        ),
        ({}, "no model was explained"),
    ],
)
def test_an_unchecked_blocking_explanation_rule_is_inconclusive_not_passed(
    explanation: dict[str, str], why: str
) -> None:
    verdict = _verdict(Estimate(value=0.9, low=0.82, high=0.97), explain_severity="block", **explanation)
    assert (verdict.verdict, verdict.exit_code) == ("inconclusive", 3)
    rule = verdict.rules[1]
    assert rule.status == "inconclusive"
    assert rule.summary == f"Inconclusive: this blocking rule could not be checked, because {why}."
    assert verdict.summary == (
        f"Inconclusive: 1 blocking rule(s) of the 'test' policy could not be checked (no-sensitive, because {why})."
    )
    assert rule.not_checked_because == why
    assert (
        _verdict(
            Estimate(value=0.9, low=0.82, high=0.97), explain_severity="block", strict=True, **explanation
        ).verdict
        == "failed"
    )
    both = _verdict(Estimate(value=0.78, low=0.62, high=0.96), explain_severity="block", **explanation)
    assert both.summary == (
        "Inconclusive: the data cannot decide 1 blocking rule(s) of the 'test' policy (ff), and 1 blocking rule(s) "
        f"could not be checked (no-sensitive, because {why})."
    )
    # A failing metric rule still fails the audit: the unchecked rule cannot soften it.
    assert (
        _verdict(Estimate(value=0.6, low=0.5, high=0.7), explain_severity="block", **explanation).verdict
        == "failed"
    )


def test_an_unchecked_warning_explanation_rule_stays_not_checked() -> None:
    verdict = _verdict(
        Estimate(value=0.9, low=0.82, high=0.97),
        explain_severity="warn",
        explanation_skipped="it was skipped with explain=False",
    )
    assert (verdict.verdict, verdict.rules[1].status) == ("passed", "not_applicable")
    assert verdict.rules[1].summary == "Not checked: it was skipped with explain=False."


def test_blocking_rule_that_cannot_be_checked_is_inconclusive_not_passed() -> None:
    text = "name: t\nrules:\n  - id: tpr\n    description: d\n    metric: tpr\n    comparison: value\n    bound: '>= 0.5'\n"
    verdict = evaluate_policy(
        parse_policy(text, source="t"), _fairness(Estimate(value=0.9)), policy_path="t", policy_sha256="0"
    )
    assert verdict.verdict == "inconclusive"
    assert (
        verdict.rules[0].summary
        == "Inconclusive: this blocking rule could not be checked, because it needs the true outcomes (target=COLUMN)."
    )
    assert verdict.summary == (
        "Inconclusive: 1 blocking rule(s) of the 't' policy could not be checked (tpr, because it "
        "needs the true outcomes (target=COLUMN))."
    )
    warned = evaluate_policy(
        parse_policy(text + "    severity: warn\n", source="t"),
        _fairness(Estimate(value=0.9)),
        policy_path="t",
        policy_sha256="0",
    )
    assert warned.verdict == "reported" and warned.rules[0].status == "not_applicable"
