"""What each count metric divides by what, from the four confusion counts: one definition for audit and monitoring."""

from __future__ import annotations

from typing import Any


def confusion_fractions(tp: Any, fn: Any, fp: Any, tn: Any) -> dict[str, tuple[Any, Any]]:
    """(numerator, denominator) of every count metric from (arrays of) true/false positives and negatives."""
    total = tp + fn + fp + tn
    return {
        "selection_rate": (tp + fp, total),
        "base_rate": (tp + fn, total),
        "tpr": (tp, tp + fn),
        "fpr": (fp, fp + tn),
        "fnr": (fn, tp + fn),
        "tnr": (tn, fp + tn),
        "precision": (tp, tp + fp),
        "npv": (tn, tn + fn),
        "accuracy": (tp + tn, total),
    }
