"""Small Markdown builders shared by the site's pages: tables, numbers with intervals, notes.

Cells passed to :func:`table` are Markdown already (callers escape user text with
:func:`governance.escaping.markup_text`); numbers are formatted here so every page reads the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from governance.escaping import markup_text
from governance.results.common import Estimate

MASKED = "masked"


def number(value: float | None, *, digits: int = 2) -> str:
    """A number with fixed digits, or an em dash where it is undefined."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}"


def percent(value: float | None, *, digits: int = 1) -> str:
    """A share as a percentage."""
    if value is None:
        return "—"
    return f"{100 * value:.{digits}f}%"


def estimate(value: Estimate | None, *, digits: int = 2) -> str:
    """``0.82 (0.75 to 0.90)``: the number and its confidence interval, in words a reader can follow."""
    if value is None or value.value is None:
        return "—"
    if value.has_interval:
        return f"{value.value:.{digits}f} ({value.low:.{digits}f} to {value.high:.{digits}f})"
    return f"{value.value:.{digits}f}"


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: Sequence[str] | None = None
) -> str:
    """A Markdown table; ``align`` holds ``"l"`` or ``"r"`` per column (numbers right)."""
    if not rows:
        return "_Nothing to show yet._\n"
    marks = [("---:" if (align and align[i] == "r") else "---") for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def facts(rows: Sequence[Sequence[str]]) -> str:
    """Key facts as a list of ``**label:** value`` lines (labels are the site's own words; values escaped)."""
    return "\n".join(f"- **{label}:** {value}" for label, value in rows) + "\n"


def admonition(kind: str, title: str, body: str) -> str:
    """A Material admonition box (``!!! kind "title"``); ``title`` and ``body`` must be escaped already."""
    indented = "\n".join(("    " + line) if line else "" for line in body.strip().splitlines())
    return f'!!! {kind} "{title}"\n\n{indented}\n'


VERDICT_WORDS = {
    "passed": (
        "success",
        "Passed",
        "The model met every blocking rule of the policy, with the uncertainty counted.",
    ),
    "failed": (
        "failure",
        "Failed",
        "At least one blocking rule was missed for the whole confidence interval.",
    ),
    "inconclusive": (
        "warning",
        "Inconclusive",
        "The evidence is too thin to pass or fail: an interval straddles a bound, a group is too small, "
        "or a blocking rule could not be checked.",
    ),
    "reported": (
        "note",  # neutral: a policy without a pass mark neither passes nor fails
        "Reported",
        "The policy sets no pass mark, so the audit neither passes nor fails the model: the tables are the result, "
        "for a person to judge. Approval needs a recorded risk acceptance.",
    ),
}


def broken_notice(text: str) -> str:
    """A red box saying that a page could not be built (``site build --keep-going`` publishes such pages)."""
    return f'!!! failure "This page is broken"\n    {markup_text(text)}\n'
