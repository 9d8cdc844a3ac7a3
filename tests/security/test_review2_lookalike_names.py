"""Review 2: look-alike model names the skeleton comparison let through.

UTS #39 drops default-ignorable code points before comparing (section 4: they are invisible), not only format
characters (category Cf): variation selectors, the combining grapheme joiner and the Hangul fillers print as
nothing, so ``credit-risk`` followed by one reads exactly like ``credit-risk``. A name made only of such characters
reads as blank. Retired models keep their names: a look-alike of one is refused too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.errors import GovernanceError, InputError
from governance.register import Register

INVISIBLE = {
    "variation selector 16": "credit-risk\ufe0f",
    "combining grapheme joiner": "cred\u034fit-risk",
    "hangul filler": "credit-risk\u3164",
    "halfwidth hangul filler": "credit\uffa0-risk",
    "hangul choseong filler": "\u115fcredit-risk",
    "mongolian free variation selector": "credit-risk\u180b",
    "variation selector 17": "credit-risk\U000e0100",
}
STILL_REFUSED = {
    "zero-width space": "credit\u200b-risk",
    "soft hyphen": "credit\u00ad-risk",
    "mathematical bold": "\U0001d41c\U0001d42b\U0001d41e\U0001d41d\U0001d422\U0001d42d-risk",
    "dotless i": "cred\u0131t-risk",
    "upper case": "CREDIT-RISK",
}


def _register(tmp_path: Path) -> Register:
    return Register(f"sqlite:///{tmp_path / 'register.db'}", workspace_root=tmp_path)


@pytest.mark.parametrize("name", [*INVISIBLE.values(), *STILL_REFUSED.values()])
def test_an_invisible_or_compatible_character_does_not_make_a_new_name(tmp_path: Path, name: str) -> None:
    with _register(tmp_path) as register:
        register.add_model("credit-risk", owner="o@x", purpose="Decide", actor="ds@x")
        with pytest.raises(GovernanceError, match="looks like the registered model 'credit-risk'"):
            register.add_model(name, owner="x@x", purpose="Decide", actor="x@x")
        assert [model.name for model in register.list_models()] == ["credit-risk"]


@pytest.mark.parametrize("name", ["credit\u00a0risk", "credit\u3000risk"])
def test_other_spaces_look_like_a_space(tmp_path: Path, name: str) -> None:
    with _register(tmp_path) as register:
        register.add_model("credit risk", owner="o@x", purpose="Decide", actor="ds@x")
        with pytest.raises(GovernanceError, match="looks like"):
            register.add_model(name, owner="x@x", purpose="Decide", actor="x@x")


@pytest.mark.parametrize("name", ["\u3164", "\ufe0f\u034f", "\u200b"])
def test_a_name_with_nothing_visible_is_refused(tmp_path: Path, name: str) -> None:
    with _register(tmp_path) as register, pytest.raises(InputError, match="nothing visible"):
        register.add_model(name, owner="o@x", purpose="Decide", actor="ds@x")


def test_a_look_alike_of_a_retired_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.skops").write_bytes(b"model")
    with _register(tmp_path) as register:
        register.add_model("credit-risk", owner="o@x", purpose="Decide", actor="ds@x")
        register.add_version("credit-risk", "1", artifact_path=tmp_path / "m.skops", actor="ds@x")
        register.retire("credit-risk", "1", actor="ds@x", reason="replaced")
        with pytest.raises(GovernanceError, match="looks like"):
            register.add_model("Credit-Risk", owner="x@x", purpose="Decide", actor="x@x")


def test_a_long_name_is_compared_quickly_and_kept_whole(tmp_path: Path) -> None:
    long = "credit-" + "r" * 193
    with _register(tmp_path) as register:
        register.add_model(long, owner="o@x", purpose="Decide", actor="ds@x")
        with pytest.raises(GovernanceError, match="looks like"):
            register.add_model(long.upper(), owner="x@x", purpose="Decide", actor="x@x")
        with pytest.raises(InputError, match="up to 200 characters"):
            register.add_model(long + "rr", owner="x@x", purpose="Decide", actor="x@x")
