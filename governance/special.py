"""The normal quantile and the one-degree chi-square tail in plain Python, to the last bit of scipy's.

Importing ``scipy.special`` costs about 0.3 s of processor time (it loads numpy's array-API layer, ``numpy.ma``,
``numpy.f2py`` and more), which is a third of what a table audit spends outside the engine's query (issue 14).
An audit needs two of its functions on a handful of numbers: ``ndtri`` for the z of an interval and
``chdtrc(1, x)`` for a chi-square p-value. Both are ports of the Cephes code that scipy runs (scipy's ``xsf``
headers, ``cephes/ndtri.h``, ``igam.h`` and ``unity.h``): the same published coefficients, the same operations in
the same order, and the C library's ``log``, ``exp``, ``sqrt`` and ``pow`` through :mod:`math`, so every result
is the same float (``tests/test_special.py`` compares them bit for bit with scipy). Fisher's test still takes
``gammaln`` from scipy, imported only when a table needs it (``math.lgamma`` differs in the last bits).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

_SQRT2PI = 2.506628274631000502415765284811045253007  # sqrt(2 pi)
_EXP_MINUS_2 = 0.13533528323661269189  # exp(-2)
_MACHEP = 1.1102230246251565404236316680908203125e-16  # 2**-53
_MAXLOG = 7.097827128933839730962063185871e2  # log(DBL_MAX)
_MAXITER = 2000
_BIG, _BIGINV = 4.503599627370496e15, 2.22044604925031308085e-16  # the continued fraction's rescaling

# ndtri: approximation for 0 <= |y - 0.5| <= 3/8
_P0 = (-5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1, 1.39312609387279679503e1,
       -1.23916583867381258016e0)  # fmt: skip
_Q0 = (1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1, -2.25462687854119370527e2,
       2.00260212380060660359e2, -8.20372256168333339912e1, 1.59056225126211695515e1, -1.18331621121330003142e0)  # fmt: skip
# z = sqrt(-2 log y) between 2 and 8
_P1 = (4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1, 4.40805073893200834700e1,
       1.46849561928858024014e1, 2.18663306850790267539e0, -1.40256079171354495875e-1, -3.50424626827848203418e-2,
       -8.57456785154685413611e-4)  # fmt: skip
_Q1 = (1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1, 1.50425385692907503408e1,
       2.50464946208309415979e0, -1.42182922854787788574e-1, -3.80806407691578277194e-2, -9.33259480895457427372e-4)  # fmt: skip
# z between 8 and 64
_P2 = (3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0, 1.33303460815807542389e0,
       2.01485389549179081538e-1, 1.23716634817820021358e-2, 3.01581553508235416007e-4, 2.65806974686737550832e-6,
       6.23974539184983293730e-9)  # fmt: skip
_Q2 = (6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0, 2.16236993594496635890e-1,
       1.34204006088543189037e-2, 3.28014464682127739104e-4, 2.89247864745380683936e-6, 6.79019408009981274425e-9)  # fmt: skip
# expm1 on [-0.5, 0.5]
_EP = (1.2617719307481059087798e-4, 3.0299440770744196129956e-2, 9.9999999999999999991025e-1)
_EQ = (3.0019850513866445504159e-6, 2.5244834034968410419224e-3, 2.2726554820815502876593e-1,
       2.0000000000000000000897e0)  # fmt: skip
# Constants of the incomplete gamma function at a = 1/2, as scipy computes them (Cephes lgam(0.5), lgam1p(0.5),
# and sqrt((a + g - 0.5) / e) / lanczos_sum_expg_scaled(a) with Lanczos' g); the test checks them against scipy.
_LGAM_HALF = float.fromhex("0x1.250d048e7a1bcp-1")
_LGAM1P_HALF = float.fromhex("-0x1.eeb95b094c296p-4")
_LANCZOS_SUM_HALF = float.fromhex("0x1.c5bf891b4ef6bp+0")
_LANCZOS_G = 6.024680040776729583740234375


def _polevl(x: float, coef: Sequence[float]) -> float:
    answer = coef[0]
    for c in coef[1:]:
        answer = answer * x + c
    return answer


def _p1evl(x: float, coef: Sequence[float]) -> float:
    """``_polevl`` with a leading coefficient of 1 left out of ``coef``."""
    answer = x + coef[0]
    for c in coef[1:]:
        answer = answer * x + c
    return answer


def ndtri(y0: float) -> float:
    """The standard normal quantile of ``y0`` (scipy's ``special.ndtri``): -inf at 0, inf at 1, NaN outside."""
    y0 = float(y0)  # a numpy float32 would keep its single precision through the arithmetic
    if y0 == 0.0:
        return -math.inf
    if y0 == 1.0:
        return math.inf
    if not 0.0 <= y0 <= 1.0:  # NaN too
        return math.nan
    negate = True
    y = y0
    if y > 1.0 - _EXP_MINUS_2:
        y = 1.0 - y
        negate = False
    if y > _EXP_MINUS_2:
        y = y - 0.5
        y2 = y * y
        x = y + y * (y2 * _polevl(y2, _P0) / _p1evl(y2, _Q0))
        return x * _SQRT2PI
    x = math.sqrt(-2.0 * math.log(y))
    x0 = x - math.log(x) / x
    z = 1.0 / x
    p, q = (_P1, _Q1) if x < 8.0 else (_P2, _Q2)  # z between 2 and 8, or between 8 and 64
    x1 = z * _polevl(z, p) / _p1evl(z, q)
    x = x0 - x1
    return -x if negate else x


def chi2_sf_1(x: float) -> float:
    """The upper tail of the chi-square distribution with one degree of freedom at ``x``: scipy's
    ``special.chdtrc(1, x)``, that is Cephes' ``igamc(0.5, x / 2)``."""
    x = float(x)  # a numpy float32 would keep its single precision (and overflow) through the arithmetic
    if math.isnan(x):
        return math.nan
    if x < 0.0:
        return math.nan
    return _igamc_half(x / 2.0)


def chi2_sf_1_array(values: Iterable[float]) -> np.ndarray:
    """``chi2_sf_1`` of each value, the same floats: the continued fraction (statistics above 2.2, nearly all of
    an audit's) runs on arrays, which is exact because numpy's +, -, * and / round as C's do; its one ``log`` and
    one ``exp`` per value are the C library's, through :mod:`math`."""
    x = np.asarray(list(values), dtype=np.float64) / 2.0
    out = np.empty(x.shape[0])
    fraction = x > 1.1  # False for NaN
    for i in np.flatnonzero(~fraction).tolist():
        out[i] = chi2_sf_1(float(x[i]) * 2.0)  # exact: halving and doubling a double
    out[fraction] = _igamc_continued_fractions(x[fraction])
    return out


def _igamc_continued_fractions(x: np.ndarray) -> np.ndarray:
    """``_igamc_continued_fraction`` of each element, each stopping at its own step as the scalar loop does."""
    finite = np.isfinite(x)
    ax = np.zeros(x.shape[0])
    logs = np.array([math.log(v) for v in x[finite].tolist()])
    exponent = 0.5 * logs - x[finite] - _LGAM_HALF
    ax[finite] = [0.0 if e < -_MAXLOG else math.exp(e) for e in exponent.tolist()]
    answer = np.zeros(x.shape[0])
    live = np.flatnonzero(ax != 0.0)  # infinite statistics and underflows stay 0
    xs = x[live]
    y, c = 1.0 - 0.5, 0.0
    z = xs + y + 1.0
    pkm2, qkm2 = np.ones(live.shape[0]), xs.copy()
    pkm1, qkm1 = xs + 1.0, z * xs
    current = pkm1 / qkm1
    for _ in range(_MAXITER):
        if live.shape[0] == 0:
            break
        c += 1.0
        y += 1.0
        z = z + 2.0
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        nonzero = qk != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            r = pk / qk
            t = np.where(nonzero, np.abs((current - r) / r), 1.0)
        current = np.where(nonzero, r, current)
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        scale = np.abs(pk) > _BIG
        pkm2, pkm1 = np.where(scale, pkm2 * _BIGINV, pkm2), np.where(scale, pkm1 * _BIGINV, pkm1)
        qkm2, qkm1 = np.where(scale, qkm2 * _BIGINV, qkm2), np.where(scale, qkm1 * _BIGINV, qkm1)
        done = t <= _MACHEP
        answer[live[done]] = current[done]
        keep = ~done
        live, z, current = live[keep], z[keep], current[keep]
        pkm2, pkm1, qkm2, qkm1 = pkm2[keep], pkm1[keep], qkm2[keep], qkm1[keep]
    answer[live] = current  # the scalar loop's answer after its last step, should one not converge
    return answer * ax


def _igamc_half(x: float) -> float:
    """Cephes' ``igamc(a, x)`` at a = 0.5, in the branches its tests choose for that ``a``."""
    a = 0.5
    if x == 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x > 1.1:
        return _igamc_continued_fraction(x)  # x >= a always here
    if x <= 0.5 and -0.4 / math.log(x) < a:
        return 1.0 - _igam_series(x)
    return _igamc_series(x)  # x * 1.1 < a never holds for 0.5 < x <= 1.1


def _igam_fac(x: float) -> float:
    """x^a e^-x / Gamma(a) at a = 0.5, as Cephes' ``igam_fac``."""
    a = 0.5
    if abs(a - x) > 0.4 * abs(a):
        ax = a * math.log(x) - x - _LGAM_HALF
        if ax < -_MAXLOG:
            return 0.0
        return math.exp(ax)
    fac = a + _LANCZOS_G - 0.5
    res = math.sqrt(fac / math.exp(1)) / _LANCZOS_SUM_HALF
    return res * (math.exp(a - x) * math.pow(x / fac, a))  # x and a under 200


def _igamc_continued_fraction(x: float) -> float:
    ax = _igam_fac(x)
    if ax == 0.0:
        return 0.0
    y = 1.0 - 0.5
    z = x + y + 1.0
    c = 0.0
    pkm2, qkm2 = 1.0, x
    pkm1, qkm1 = x + 1.0, z * x
    answer = pkm1 / qkm1
    for _ in range(_MAXITER):
        c += 1.0
        y += 1.0
        z += 2.0
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        if qk != 0:
            r = pk / qk
            t = abs((answer - r) / r)
            answer = r
        else:
            t = 1.0
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        if abs(pk) > _BIG:
            pkm2, pkm1, qkm2, qkm1 = pkm2 * _BIGINV, pkm1 * _BIGINV, qkm2 * _BIGINV, qkm1 * _BIGINV
        if t <= _MACHEP:
            break
    return answer * ax


def _igam_series(x: float) -> float:
    ax = _igam_fac(x)
    if ax == 0.0:
        return 0.0
    r, c, answer = 0.5, 1.0, 1.0
    for _ in range(_MAXITER):
        r += 1.0
        c *= x / r
        answer += c
        if c <= _MACHEP * answer:
            break
    return answer * ax / 0.5


def _igamc_series(x: float) -> float:
    a = 0.5
    fac, total = 1.0, 0.0
    for n in range(1, _MAXITER):
        fac *= -x / n
        term = fac / (a + n)
        total += term
        if abs(term) <= _MACHEP * abs(total):
            break
    logx = math.log(x)
    term = -_expm1(a * logx - _LGAM1P_HALF)
    return term - math.exp(a * logx - _LGAM_HALF) * total


def _expm1(x: float) -> float:
    """Cephes' ``expm1`` (not the C library's): a rational approximation on [-0.5, 0.5]."""
    if not math.isfinite(x):
        return x if math.isnan(x) or x > 0 else -1.0
    if x < -0.5 or x > 0.5:
        return math.exp(x) - 1.0
    xx = x * x
    r = x * _polevl(xx, _EP)
    r = r / (_polevl(xx, _EQ) - r)
    return r + r
