"""A one-minute report for managers (issue 11, point 7).

report.md and the site's audit page open with a summary that fits one screen: the verdict, the findings that
decide it (with the group's n, the reference's n and the interval), whether a sensitive attribute is a model
input, and the next step; the detail for auditors follows. Checked on a failed, an inconclusive, a passed and a
reported audit: the demo's three real audits and hand-built ones for the verdicts they lack.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from governance.report.markdown import render_report
from governance.results.audit import AuditResult
from governance.site.audit_page import render_audit_page
from tests.site.conftest import make_audit

AUDITS = Path(__file__).resolve().parents[2] / "audits"


def _demo(model: str, version: str) -> AuditResult:
    path = next((AUDITS / model / version).rglob("audit.json"))
    return AuditResult.model_validate_json(path.read_text(encoding="utf-8"))


CASES = {
    "failed": lambda: _demo("credit-risk", "1.0.0"),
    "inconclusive": lambda: _demo("credit-risk", "1.1.0"),
    "reported": lambda: _demo("resume-screen", "2026.1"),
    "passed": lambda: make_audit("m", "1", "p1", verdict="passed"),
    "failed-by-hand": lambda: make_audit("m", "1", "f1", verdict="failed", ratio=0.6),
}


def _summary(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("## Summary")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    return lines[start:end]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_report_opens_with_a_one_screen_summary(case: str) -> None:
    result = CASES[case]()
    text = render_report(result)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[:3] == [headings[0], "## Summary", "## Details for auditors"]  # first, before any detail
    summary = _summary(text)
    assert len(summary) <= 25
    body = "\n".join(summary)
    word = {"failed-by-hand": "failed"}.get(case, case)
    assert f"**Verdict: {word.capitalize()}.**" in body
    assert "**Sensitive attribute used as a model input:**" in body
    assert re.search(r"\*\*Next step:\*\* [^\n]+\.$", body, re.MULTILINE)
    # the deciding findings: the rule, the group with its own n and the reference's, and the interval
    deciding = [line for line in summary if line.startswith("- **")]
    assert 1 <= len(deciding) <= 3
    sized = [line for line in deciding if "interval" in line]
    if sized:
        assert any(re.search(r"\d+ [a-z ]+ in the group, \d+ in the reference", line) for line in sized), (
            sized
        )


def test_the_failed_demo_names_what_decides_it() -> None:
    summary = "\n".join(_summary(render_report(_demo("credit-risk", "1.0.0"))))
    assert "**no-sensitive-driver** (blocking, FAILED)" in summary
    assert "female vs male (sex; 91 rows in the group, 209 in the reference)" in summary
    assert "0.761 (95 % interval 0.642 to 0.873)" in summary
    assert "yes. The model takes the sensitive attribute 'sex' as a direct input." in summary
    assert "Do not approve this version" in summary


def test_a_reported_audit_of_predictions_says_the_inputs_are_unknown() -> None:
    summary = "\n".join(_summary(render_report(_demo("resume-screen", "2026.1"))))
    assert "not known: only saved predictions were audited" in summary
    assert "risk acceptance" in summary


def test_the_passed_summary_shows_the_closest_call_and_no_sensitive_input() -> None:
    summary = "\n".join(_summary(render_report(CASES["passed"]())))
    assert "**four-fifths** (blocking, met): female vs male" in summary
    assert "no: none of sex is a direct input of the model." in summary
    assert "Approve with a second person's sign-off" in summary


def test_the_published_summary_leaves_masked_groups_out() -> None:
    result = _demo("resume-screen", "2026.1")
    summary = "\n".join(_summary(render_report(result, published=True, min_cell_size=10)))
    assert "Native Hawaiian" not in summary and "American Indian" not in summary
    assert "female × Hispanic or Latino vs male × Black or African American" in summary


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_site_audit_page_opens_with_the_summary(case: str) -> None:
    result = CASES[case]()
    page = render_audit_page(result, figures=[], min_cell_size=10, model_link="../m.md", warnings=[])
    lines = [line for line in page.splitlines() if line.strip()]
    assert lines[0].startswith("# Audit of") and lines[1].startswith("!!! ")  # the verdict box
    summary_at, details_at = page.index("## Summary"), page.index("## Details for auditors")
    assert summary_at < details_at
    assert page.count("**Verdict:") == 0  # said once, in the box
    before = page[:details_at].splitlines()
    assert len(before) <= 30  # the box, the summary and the masking sentence fit one screen
    assert "**Next step:**" in page[summary_at:details_at]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_p_value_and_summary_statistic_has_plain_words(case: str) -> None:
    text = render_report(CASES[case]())
    if "p-value (Holm)" in text.split("## Results by group")[-1]:
        assert "would turn up by chance" in text
    for line in text.splitlines():
        if line.startswith("Summaries: "):
            for part in line.removeprefix("Summaries: ").split("; "):
                assert "(" in part and ("means" in part or "divided" in part or "gap" in part), part
    performance = (
        text.split("## Performance for everyone")[1].split("##")[0] if "## Performance" in text else ""
    )
    for row in [r for r in performance.splitlines() if r.startswith("| ") and "Metric" not in r]:
        assert row.rstrip(" |").split("|")[-1].strip(), row  # the "In plain words" cell is filled


def test_a_passed_summary_puts_the_closest_call_before_rules_without_numbers() -> None:
    audit = make_audit("m", "1", "p2", verdict="passed")
    bare = audit.policy.rules[0].model_copy(
        update={"rule_id": "no-sensitive-driver", "comparison": "top_k", "findings": [], "summary": "Met."}
    )
    audit = audit.model_copy(
        update={"policy": audit.policy.model_copy(update={"rules": [bare, *audit.policy.rules]})}
    )
    deciding = [line for line in _summary(render_report(audit)) if line.startswith("- **")]
    assert deciding[0].startswith("- **four-fifths** (blocking, met): female vs male")
    assert deciding[1].startswith("- **no-sensitive-driver** (blocking, met)")
