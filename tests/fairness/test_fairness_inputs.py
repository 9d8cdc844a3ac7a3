"""Bad input: one sentence that says what is wrong and how to fix it, raised as InputError (exit code 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance.audit.fairness import compute_fairness
from governance.errors import InputError

SENSITIVE = pd.DataFrame({"sex": ["f", "m", "f", "m"]})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"y_pred": [1, 0, np.nan, 1]}, "y_pred has 1 missing values; drop those rows or fill them first."),
        (
            {"y_pred": [1, 0, 1, 1], "y_true": [1, None, 0, 1]},
            "y_true has 1 missing values; drop those rows or fill them first.",
        ),
        (
            {"y_pred": [1, 0, 1]},
            "y_pred has 3 values but the sensitive columns have 4 rows; pass one value per row, in the same order.",
        ),
        (
            {"y_pred": [1, 0, 2, 1], "task": "binary"},
            "Binary metrics need two classes but the predictions and labels hold 3 (0, 1, 2); "
            "map them to 0/1 or choose task='multiclass'.",
        ),
        (
            {"y_pred": ["yes", "no", "no", "yes"]},
            "The labels are no, yes, not 0/1; say which one counts as selected with positive_label.",
        ),
        (
            {"y_pred": ["yes", "no", "no", "yes"], "positive_label": "accepted"},
            "positive_label 'accepted' is not one of the labels (no, yes); pass one of those values.",
        ),
        (
            {"y_pred": [1, 0, 1, 1], "sample_weight": [1, -1, 1, 1]},
            "sample_weight has negative values; weights must be zero or more.",
        ),
        (
            {"y_pred": [1, 0, 1, 1], "scores": [0.1, float("inf"), 0.2, 0.3]},
            "scores has 1 missing or infinite values; drop those rows or fill them first.",
        ),
        (
            {"y_pred": [1, 0, 1, 1], "ll144_rate": "scoring"},
            "ll144_rate='scoring' needs scores; pass the model's scores or use 'selection'.",
        ),
        (
            {"y_pred": [1, 0, 1, 1], "reference": "named", "reference_groups": {"sex": "x"}},
            "The reference group 'x' is not a group of 'sex' (f, m); pick one of those.",
        ),
        (
            {"y_pred": [1, 0, 1, 1], "reference": "named"},
            "reference='named' needs a reference group for 'sex'; add it to reference_groups, e.g. {'sex': 'f'}.",
        ),
        (
            {"y_pred": [1, 0, 1, 1], "confidence_level": 95},
            "confidence_level must lie between 0 and 1, e.g. 0.95 (got 95).",
        ),
    ],
)
def test_bad_input_gives_one_sentence(arguments: dict, message: str) -> None:
    with pytest.raises(InputError) as caught:
        compute_fairness(sensitive=SENSITIVE, n_boot=0, **arguments)
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_all_missing_sensitive_column_is_refused() -> None:
    sensitive = pd.DataFrame({"sex": ["f", "m", "f", "m"], "race": [None, None, np.nan, None]})
    with pytest.raises(InputError, match=r"^The sensitive column 'race' is entirely missing; fill it in"):
        compute_fairness(y_pred=[1, 0, 1, 1], sensitive=sensitive, n_boot=0)


def test_no_rows_and_no_columns_are_refused() -> None:
    with pytest.raises(InputError, match="no rows to audit"):
        compute_fairness(y_pred=[], sensitive=pd.DataFrame({"sex": []}), n_boot=0)
    with pytest.raises(InputError, match="has no columns"):
        compute_fairness(y_pred=[1], sensitive=pd.DataFrame(index=[0]), n_boot=0)


def test_labels_as_strings_with_positive_label_and_booleans() -> None:
    strings = compute_fairness(
        y_pred=["hire", "reject", "hire", "hire"], sensitive=SENSITIVE, positive_label="hire", n_boot=0
    )
    booleans = compute_fairness(y_pred=[True, False, True, True], sensitive=SENSITIVE, n_boot=0)
    for result in (strings, booleans):
        rates = {g.group: g.metrics["selection_rate"].value for g in result.attributes[0].groups}
        assert rates == {"f": 1.0, "m": 0.5}
    assert strings.positive_label == "hire" and booleans.positive_label == "True"


def test_task_detection() -> None:
    assert compute_fairness(y_pred=[0, 1, 1, 0], sensitive=SENSITIVE, n_boot=0).task == "binary"
    assert compute_fairness(y_pred=[0, 1, 2, 0], sensitive=SENSITIVE, n_boot=0).task == "multiclass"
    assert compute_fairness(y_pred=[0.5, 1.2, 2.0, 0.1], sensitive=SENSITIVE, n_boot=0).task == "regression"
    # Integer-valued floats are classes, not amounts.
    assert (
        compute_fairness(y_pred=np.array([0.0, 1.0, 1.0, 0.0]), sensitive=SENSITIVE, n_boot=0).task
        == "binary"
    )


def test_undefined_rates_are_none_not_zero() -> None:
    """sklearn would report 0 for the TPR of a group without positives; we report 'undefined'."""
    result = compute_fairness(y_pred=[1, 0, 1, 0], y_true=[0, 0, 1, 1], sensitive=SENSITIVE, n_boot=20)
    female = next(g for g in result.attributes[0].groups if g.group == "f")
    assert female.metrics["tpr"].value == 1.0
    male = next(g for g in result.attributes[0].groups if g.group == "m")
    assert male.metrics["precision"].value is None  # no predicted positives
    assert male.metrics["precision"].low is None
