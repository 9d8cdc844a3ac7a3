"""Found by the issue-10 review (left open): a model name that only looks like an existing one is accepted.

``credit-risk`` and ``credit‐risk`` (U+2010 HYPHEN), or ``credit-risk`` with a Cyrillic ``с``, print the same in
``register list``, ``status`` and on the site. Someone can register the look-alike, get it audited and approved
under their own rules, and a reader of the site or the list takes its state for the real model's. Guards and
approvals stay with the model actually named (a person typing the name gets the ASCII one), so no record is
changed; the risk is a misleading reading.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.errors import GovernanceError
from governance.register import Register

LOOKALIKES = {
    "unicode hyphen": "credit\u2010risk",
    "cyrillic es": "\u0441redit-risk",
    "fullwidth letters": "\uff43redit-risk",
    "other case": "Credit-Risk",
}


@pytest.mark.xfail(
    strict=True,
    reason="model names are any Unicode without control characters; refusing look-alikes needs the Unicode "
    "confusables data (skeletons of UTS #39), which the package does not ship: a larger change than this review",
)
@pytest.mark.parametrize("name", sorted(LOOKALIKES.values()))
def test_a_name_that_looks_like_a_registered_one_is_refused(tmp_path: Path, name: str) -> None:
    with Register(f"sqlite:///{tmp_path / 'register.db'}", workspace_root=tmp_path) as register:
        register.add_model("credit-risk", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        with pytest.raises(GovernanceError, match="looks like"):
            register.add_model(name, owner="x@example.com", purpose="Decide", actor="x@example.com")
