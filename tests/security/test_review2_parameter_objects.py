"""Review 2: the parameter objects taken from Python with the slips people make.

``sensitive="sex"`` (one name, not a list) was read letter by letter (columns 's', 'e', 'x'); ``None`` where a
list is expected failed inside. A misspelt field is refused by name (a TypeError or a validation error).
"""

from __future__ import annotations

import pytest

from governance.audit.explain_run import ExplainInputs
from governance.audit.fairness import FairnessOptions
from governance.audit.run import AuditRequest
from governance.register import ModelDescription


def test_one_sensitive_name_is_one_column() -> None:
    assert AuditRequest(name="x", version="1", sensitive="sex").sensitive == ("sex",)
    assert ExplainInputs(model="m.skops", data="d.csv", sensitive="sex").sensitive == ("sex",)
    assert ExplainInputs(model="m.skops", data="d.csv", features="income").features == ("income",)


def test_none_where_a_list_is_expected_is_an_empty_list() -> None:
    assert AuditRequest(name="x", version="1", sensitive=None).sensitive == ()  # type: ignore[arg-type]
    assert ExplainInputs(model="m", data="d", sensitive=None, features=None).features == ()  # type: ignore[arg-type]


def test_a_list_stays_as_given() -> None:
    assert list(AuditRequest(name="x", version="1", sensitive=["sex", "age"]).sensitive) == ["sex", "age"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: AuditRequest(name="x", version="1", modle="m.skops"),  # type: ignore[call-arg]
        lambda: ExplainInputs(model="m", data="d", sensitve=["sex"]),  # type: ignore[call-arg]
        lambda: FairnessOptions().with_settings({"nboot": 3}),
        lambda: ModelDescription(ownr="a@x"),  # type: ignore[call-arg]
    ],
)
def test_a_misspelt_field_is_refused(make: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        make()  # type: ignore[operator]
