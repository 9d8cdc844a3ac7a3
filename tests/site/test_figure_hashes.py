"""Each audit's figure hashes, kept for the whole build, are raw digests beside a shared tuple of names (issue 11,
point 8): as a dict of hexadecimal strings they took about 2.6 kB per audit."""

from __future__ import annotations

import hashlib
import sys

import pytest

from governance.site.vouch import AuditCheck, FigureHashes

NAMES = [f"{kind}_{attribute}.{suffix}" for kind in ("rates", "ratios", "calibration") for attribute in
         ("race", "sex") for suffix in ("svg", "png")]  # fmt: skip


def hashes(seed: str) -> dict[str, str]:
    return {name: hashlib.sha256(f"{seed}{name}".encode()).hexdigest() for name in NAMES}


def test_figure_hashes_read_as_the_dict_they_were_made_from() -> None:
    given = hashes("a")
    kept = AuditCheck(status="verified", figures=given).figures
    assert isinstance(kept, FigureHashes)
    assert kept == given and dict(kept) == given
    assert list(kept) == NAMES and len(kept) == len(NAMES)
    assert dict(sorted(kept.items())) == dict(
        sorted(given.items())
    )  # the incremental build's key is unchanged
    with pytest.raises(KeyError):
        kept["missing.svg"]
    assert AuditCheck(status="no-register").figures == {}


def test_audits_with_the_same_figures_share_their_names_and_keep_raw_digests() -> None:
    first, second = FigureHashes(hashes("a")), FigureHashes(hashes("b"))
    assert first._names is second._names
    as_dict = hashes("c")
    size_of_dict = sys.getsizeof(as_dict) + sum(sys.getsizeof(value) for value in as_dict.values())
    size_kept = sys.getsizeof(first) + sys.getsizeof(first._digests)
    assert size_kept * 3 < size_of_dict, (size_kept, size_of_dict)
