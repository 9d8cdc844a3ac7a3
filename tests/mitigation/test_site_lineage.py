"""The site's model page lists mitigated candidates with their lineage, and says which decide with a sensitive
attribute; versions without lineage add nothing."""

from __future__ import annotations

from governance.site.model_page import _details_lines
from governance.site.sources import ModelEntry


def test_model_details_list_the_candidates_lineage() -> None:
    lineage = {
        "mitigated_from": "credit@1.0.0",
        "method": "threshold",
        "constraint": "demographic_parity",
        "seed": 0,
        "uses_sensitive_at_decision": True,
    }
    model = ModelEntry(
        name="credit",
        versions={
            "1.0.0": {"version": "1.0.0", "source": None},
            "1.0.0-threshold": {"version": "1.0.0-threshold", "source": {"lineage": lineage}},
        },
    )
    text = "\n".join(_details_lines(model, None))
    assert "Mitigated candidates" in text
    assert "threshold" in text and "deciding with a sensitive attribute" in text
    plain = ModelEntry(name="credit", versions={"1.0.0": {"version": "1.0.0", "source": None}})
    assert "Mitigated candidates" not in "\n".join(_details_lines(plain, None))
