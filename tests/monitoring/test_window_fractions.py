"""Monitoring windows and the audit's fairness core divide the same counts for every rate (one definition)."""

from __future__ import annotations

import numpy as np

from governance.audit.fairness.rates import confusion_fractions
from governance.monitor.drift import WINDOW_METRICS, fractions


def test_window_rates_use_the_audits_definitions() -> None:
    # counts[label state, decision]; label states: none (not yet known), 0, 1
    counts = np.array([[5, 7], [40, 10], [8, 30]])
    window = fractions(counts)
    assert tuple(window) == WINDOW_METRICS
    audit = confusion_fractions(tp=30, fn=8, fp=10, tn=40)
    for name in WINDOW_METRICS:
        if name != "selection_rate":
            assert tuple(int(x) for x in window[name]) == audit[name]
    # Selection counts every decision, labelled or not.
    assert tuple(int(x) for x in window["selection_rate"]) == (7 + 10 + 30, 100)
