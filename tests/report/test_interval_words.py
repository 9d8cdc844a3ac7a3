"""One wording of an estimate with its interval, shared by the site's diff pages and the curves' text."""

from __future__ import annotations

import pytest

from governance.results.common import Estimate
from governance.results.wording import interval_words


@pytest.mark.parametrize(
    ("estimate", "options", "expected"),
    [
        (None, {}, "n/a"),
        (Estimate(value=None), {"missing": "—"}, "—"),
        (Estimate(value=0.81234), {}, "0.812"),
        (Estimate(value=0.81234, low=0.78, high=0.8456), {}, "0.812 (0.78 to 0.846)"),
        (Estimate(value=0.81234, low=0.78, high=0.8456), {"digits": ".2f"}, "0.81 (0.78 to 0.85)"),
        (Estimate(value=0.5, low=0.4), {"digits": ".2f"}, "0.50"),  # half an interval is none
    ],
)
def test_interval_words(estimate: Estimate | None, options: dict[str, str], expected: str) -> None:
    assert interval_words(estimate, **options) == expected
