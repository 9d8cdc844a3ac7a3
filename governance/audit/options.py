"""The audit's own option checks, in a module of their own that imports nothing heavy: ``governance audit`` runs
them, and reads the data file's first line, before the audit's libraries and the register load (a second or more),
so that a wrong option or a misspelt column is refused at once."""

from __future__ import annotations

from collections.abc import Sequence

from governance.errors import FieldError, InputError


def check_distinct_columns(
    *, target: str | None, predictions: str | None, scores: str | None, sensitive: Sequence[str]
) -> None:
    """One column in two roles would audit a thing against itself (predictions as their own truth: no errors)."""
    roles = [("target", target), ("predictions", predictions), ("scores", scores)]
    roles += [("sensitive", column) for column in sensitive]
    seen: dict[str, str] = {}
    for field, column in roles:
        if column is None:
            continue
        if column in seen and (field, seen[column]) != ("sensitive", "sensitive"):
            raise InputError(
                f"The column {column!r} is given both as {{{seen[column]}}} and as {{{field}}}; each role needs its "
                "own column (the true outcome, the model's decisions, its scores and the sensitive attributes).",
                fields=[seen[column], field],
            )
        seen.setdefault(column, field)


def check_explain_options(budget: float, rows: int | None) -> None:
    """Refuse explanation options that could only make the explainer fail, before any work is done."""
    import math

    if not (math.isfinite(budget) and budget > 0):
        raise FieldError(
            "explain_budget",
            f"{{field}} must be a positive number of seconds, not {budget:g}; for example {{field}} 60.",
        )
    if rows is not None and rows < 1:
        raise FieldError(
            "explain_rows",
            f"{{field}} must be at least 1, not {rows}; leave it out to explain every row the budget allows.",
        )


MAX_SEED = 2**32 - 1  # what every random generator the audit uses accepts (numpy's legacy ones stop here)
MAX_N_BOOT = 100_000  # the most a policy may ask for


def check_run_options(*, seed: int, threshold: float | None = None, n_boot: int | None = None) -> None:
    """Refuse a seed, threshold or resample count that numpy could only reject with a traceback, or that means nothing."""
    import math

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise FieldError(
            "seed",
            f"{{field}} must be a whole number from 0 to {MAX_SEED}, not {seed}; for example {{field}} 0.",
        )
    if threshold is not None and not math.isfinite(threshold):
        raise FieldError(
            "threshold", f"{{field}} must be a number, not {threshold}; for example {{field}} 0.5."
        )
    if n_boot is not None and not 0 <= n_boot <= MAX_N_BOOT:
        raise FieldError(
            "n_boot",
            f"{{field}} must be from 0 to {MAX_N_BOOT:,} resamples, not {n_boot:,}; 1,000 is usually enough.",
        )


def parse_model_ref(reference: str) -> tuple[str, str]:
    """``NAME@VERSION`` -> (name, version), with a clear error otherwise."""
    name, sep, version = reference.partition("@")
    if not sep or not name.strip() or not version.strip():
        raise InputError(f"'{reference}' is not of the form NAME@VERSION (for example credit-risk@1.0.0).")
    return name.strip(), version.strip()
