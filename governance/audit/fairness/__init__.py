"""Fairness metrics from one count table: group rates, comparisons, bootstrap intervals, tests, LL144.

Public API:

- ``compute_fairness(*, y_pred, sensitive, ...)`` -> ``FairnessResult``: from columns in memory.
- ``build_count_table(*, y_pred, sensitive, ...)`` -> ``CountTable`` and ``CountTable.combine(tables)``:
  the one-pass table, per batch if the data does not fit in memory.
- ``compute_fairness_from_counts(table, ...)`` -> ``FairnessResult``: the same result from a table.
- ``FairnessOptions``: how groups are compared (reference, intersections, resamples, confidence, seed...);
  both functions take one as ``options=`` (or its fields as keywords).

This package computes only: it never prints or writes files.
"""

from governance.audit.fairness.compute import compute_fairness, compute_fairness_from_counts
from governance.audit.fairness.options import FairnessOptions
from governance.audit.fairness.table import CountTable, build_count_table

__all__ = [
    "CountTable",
    "FairnessOptions",
    "build_count_table",
    "compute_fairness",
    "compute_fairness_from_counts",
]
