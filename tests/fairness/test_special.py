"""``governance.special`` gives scipy's own floats, bit for bit: the ports replace ``scipy.special`` (0.3 s of
start-up) in every table audit, so one last bit of difference could move an interval or a p-value in a golden
audit. Inputs: uniform, log-uniform down to the smallest doubles, both tails, the branch edges, and the chi-square
statistics of real 2x2 tables (integers used by the tests)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from governance.special import _LANCZOS_G, _LANCZOS_SUM_HALF, _LGAM1P_HALF, _LGAM_HALF, chi2_sf_1, ndtri

EDGES = [0.0, 1.0, 0.5, math.nan, math.inf, -math.inf, -0.0, -1e-300, 1.5, 5e-324, 2.2250738585072014e-308,
         math.nextafter(1.0, 0.0), math.nextafter(0.0, 1.0), 1.7976931348623157e308]  # fmt: skip


def _differ(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Where two float arrays are not the same bits (NaN matches NaN)."""
    same = (mine.view(np.int64) == theirs.view(np.int64)) | (np.isnan(mine) & np.isnan(theirs))
    return np.flatnonzero(~same)


def _ndtri_inputs() -> np.ndarray:
    rng = np.random.default_rng(14)
    exp_2 = 0.13533528323661269189
    near = [np.nextafter(e, d) for e in (exp_2, 1 - exp_2, math.exp(-32), 1 - math.exp(-32)) for d in (0, 1)]
    return np.concatenate(
        [
            rng.random(60_000),
            10.0 ** -rng.uniform(0, 323, 40_000),  # the lower tail, to subnormals
            1.0 - 10.0 ** -rng.uniform(1, 16, 20_000),  # the upper tail
            rng.uniform(0.05, 0.2, 10_000),  # around exp(-2)
            1 - 1e-3 * np.arange(1, 1000) ** 2 / 1e6,  # confidence levels
            np.array([*near, exp_2, 1 - exp_2, *EDGES]),
        ]
    )


def _chi2_inputs() -> np.ndarray:
    rng = np.random.default_rng(15)
    a, b, c, d = (rng.integers(0, 400, size=(4, 20_000)) + 5).astype(np.int64)
    n = a + b + c + d
    tables = (n * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))).astype(np.float64)
    return np.concatenate(
        [
            rng.exponential(3.0, 40_000),
            10.0 ** rng.uniform(-320, 3.2, 30_000),  # tiny to where the tail underflows (about 1420)
            rng.uniform(0.0, 3.0, 20_000),  # the series and the continued fraction meet at 0.9 and 2.2
            np.arange(0, 1500, 0.125),
            tables,
            np.array([0.6, 0.88, 0.8986579282344431, 0.9, 2.2, math.nextafter(2.2, 0), 1e308, *EDGES]),
        ]
    )


def test_ndtri_is_scipys_to_the_bit() -> None:
    y = _ndtri_inputs()
    assert y.shape[0] >= 100_000
    with np.errstate(invalid="ignore"):
        theirs = special.ndtri(y)
    mine = np.array([ndtri(float(v)) for v in y])
    bad = _differ(mine, theirs)
    assert bad.shape[0] == 0, list(zip(y[bad][:5], mine[bad][:5], theirs[bad][:5], strict=True))


def test_chi_square_tail_is_scipys_to_the_bit() -> None:
    x = _chi2_inputs()
    assert x.shape[0] >= 100_000
    with np.errstate(invalid="ignore"):
        theirs = special.chdtrc(1, x)
    mine = np.array([chi2_sf_1(float(v)) for v in x])
    bad = _differ(mine, theirs)
    assert bad.shape[0] == 0, list(zip(x[bad][:5], mine[bad][:5], theirs[bad][:5], strict=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, -math.inf),
        (1.0, math.inf),
        (0.5, 0.0),
        (math.nan, math.nan),
        (math.inf, math.nan),
        (-0.5, math.nan),
    ],
)
def test_ndtri_edges(value: float, expected: float) -> None:
    got = ndtri(value)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(0.0, 1.0), (math.inf, 0.0), (math.nan, math.nan), (-1.0, math.nan), (1e4, 0.0)]
)
def test_chi_square_tail_edges(value: float, expected: float) -> None:
    got = chi2_sf_1(value)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_the_constants_are_scipys() -> None:
    """The incomplete gamma function's constants at a = 1/2, written as scipy computes them."""
    from scipy.special import _ufuncs

    assert special.gammaln(0.5) == _LGAM_HALF
    assert _ufuncs._lgam1p(0.5) == _LGAM1P_HALF
    assert _ufuncs._lanczos_sum_expg_scaled(0.5) == _LANCZOS_SUM_HALF
    x = np.linspace(0.3, 0.7, 1001)  # where Cephes' igam_fac takes the Lanczos branch
    fac = 0.5 + _LANCZOS_G - 0.5
    mine = [
        math.sqrt(fac / math.e) / _LANCZOS_SUM_HALF * (math.exp(0.5 - v) * math.pow(v / fac, 0.5)) for v in x
    ]
    assert _differ(np.array(mine), _ufuncs._igam_fac(0.5, x)).shape[0] == 0


def test_chi_square_tails_of_an_array_are_scipys_to_the_bit() -> None:
    """The array form (the continued fraction on arrays, as the audit's many tests use it) gives the same bits."""
    from governance.special import chi2_sf_1_array

    x = _chi2_inputs()
    with np.errstate(invalid="ignore"):
        theirs = special.chdtrc(1, x)
    mine = chi2_sf_1_array(x.tolist())
    bad = _differ(mine, theirs)
    assert bad.shape[0] == 0, list(zip(x[bad][:5], mine[bad][:5], theirs[bad][:5], strict=True))


@pytest.mark.parametrize("kind", [np.float32, np.float16])
def test_narrow_numpy_floats_are_computed_in_double_precision(kind: type) -> None:
    """A float32 statistic (a library user's array) gives the double answer as a Python float, not a float32
    computed in single precision: numpy keeps the narrow type through ``x / 2.0`` and ``1.0 - y``."""
    statistic, level = kind(2.5), kind(0.1)
    assert type(chi2_sf_1(statistic)) is float and chi2_sf_1(statistic) == chi2_sf_1(float(statistic))
    assert type(ndtri(level)) is float and ndtri(level) == ndtri(float(level))
