"""Confidence intervals for rates, their ratios and differences, and for the extremes across groups.

Pure arithmetic on per-group counts (or, for metrics that are not counts, a value and a standard error), used
by the fairness computation for the intervals it reports and by the policy engine for its adjusted checks, so
that both rest on one set of formulas:

- one rate: Wilson's score interval (never a single point at 0 % or 100 %);
- a difference of two rates: Newcombe's hybrid score interval (Wilson limits combined, method 10 of
  Newcombe 1998);
- a ratio of two rates: the Miettinen-Nurminen score interval (without the N / (N - 1) factor), found by
  bisection on the log scale;
- metrics that are not counts (AUC, Brier score, errors): a normal interval from the bootstrap's standard
  error (the log scale for ratios).

Comparisons against a group chosen from the data (the most-selected group, the best group) and the spread
across groups (max - min, min / max) are extremes over pairs of groups. Their intervals are built from the
pairwise intervals: the side that a single true pair settles (for example how low the worst ratio can be)
uses the plain level; the side that every pair must respect at once (how close to equal the groups can be)
uses Bonferroni over the pairs. So the interval covers the true extreme with at least the nominal
probability whichever groups are truly extreme, including when all are equal.

With sample weights, counts are Kish effective counts: ``n = (sum w)^2 / sum w^2`` and ``k = rate * n``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from governance.special import ndtri

Kind = Literal["ratio", "difference"]
_PAIRS_IN_FULL = 200  # up to this many groups every pair is used; above it, the candidate extremes only
_CANDIDATES = 48
_LOG_LIMIT = 35.0  # ratios are searched between exp(-35) and exp(35), whatever the estimate
_BISECTION_STEPS = 36  # halving a bracket of at most 70 on the log scale: about 1e-9 relative


def z_for(confidence_level: float, comparisons: int = 1) -> float:
    """The normal quantile of a two-sided interval at ``confidence_level``, Bonferroni over ``comparisons``."""
    alpha = (1.0 - confidence_level) / max(comparisons, 1)
    return float(ndtri(1.0 - alpha / 2.0))


def wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``k / n``; NaN where ``n`` is 0."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2 = z * z
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = z / (1 + z2 / n) * np.sqrt(np.maximum(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # Exact ends: a rate observed at 0 (or 1) has its lower (upper) limit there.
    low = np.where((n > 0) & (k <= 0), 0.0, low)
    high = np.where((n > 0) & (k >= n), 1.0, high)
    return low, high


def newcombe(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval of ``k1/n1 - k2/n2``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = np.asarray(k1, float) / n1, np.asarray(k2, float) / n2
    return _newcombe_from(p1, wilson(k1, n1, z), p2, wilson(k2, n2, z))


def _newcombe_from(
    p1: np.ndarray, ends1: tuple[np.ndarray, np.ndarray], p2: np.ndarray, ends2: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's interval from each rate and its Wilson ends (computed once per group, then paired)."""
    (l1, u1), (l2, u2) = ends1, ends2
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return np.clip(low, -1.0, 1.0), np.clip(high, -1.0, 1.0)


def _score_statistic(
    theta: np.ndarray, k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray
) -> np.ndarray:
    """Miettinen-Nurminen score statistic (squared, no N/(N-1) factor) of H0: p1 / p2 = theta."""
    return _Score(k1, n1, k2, n2).statistic(theta)


class _Score:
    """``_score_statistic`` for one set of tables at many theta: the parts that do not move are kept."""

    def __init__(self, k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray) -> None:
        self.k1, self.n1, self.k2, self.n2 = k1, n1, k2, n2
        self.n = n1 + n2
        self.k = k1 + k2
        self.n_twice = 2 * self.n  # 2 a = (2 n) theta and 4 a k = (2 a)(2 k): scaling by 2 is exact
        self.k_twice = 2 * self.k
        with np.errstate(divide="ignore", invalid="ignore"):
            self.rate1 = k1 / n1

    def part(self, block: slice | np.ndarray) -> _Score:
        """The same statistic for a block (or a selection) of the tables."""
        return _Score(self.k1[block], self.n1[block], self.k2[block], self.n2[block])

    def statistic(self, theta: np.ndarray, work: list[np.ndarray] | None = None) -> np.ndarray:
        """The statistic at ``theta``: the same operations in the same order as written out in ``_reference``,
        done in place (a search evaluates it 36 times over every pair), in ``work``'s seven arrays if given
        (the result is one of them)."""
        k1, n1, k2, n2 = self.k1, self.n1, self.k2, self.n2
        a, b, kt, scratch, root, p2, p1 = work or [np.empty_like(theta) for _ in range(7)]
        double_a = np.multiply(self.n_twice, theta, out=a)  # 2 a, the same number as 2 (n theta)
        np.multiply(n1, theta, out=b)  # -b = n1 theta + k1 + n2 + k2 theta, kept as -b (negating is exact)
        b += k1
        b += n2
        np.multiply(k2, theta, out=kt)
        b += kt
        np.multiply(b, b, out=root)  # sqrt(max(b^2 - 4 a k, 0)): (-b)^2 is b^2 to the bit
        np.multiply(double_a, self.k_twice, out=scratch)  # (2 a)(2 k): 4 a k rounded once, as (4 a) k
        root -= scratch
        np.maximum(root, 0.0, out=root)
        np.sqrt(root, out=root)
        np.subtract(b, root, out=p2)  # clip((-b - root) / (2 a), 0, 1)
        p2 /= double_a
        np.maximum(p2, 0.0, out=p2)
        np.minimum(p2, 1.0, out=p2)
        np.multiply(theta, p2, out=p1)
        np.minimum(p1, 1.0, out=p1)
        variance = np.subtract(1, p1, out=a)  # p1 (1 - p1) / n1 + theta theta p2 (1 - p2) / n2
        variance *= p1
        variance /= n1
        np.multiply(theta, theta, out=scratch)
        scratch *= p2
        np.subtract(1, p2, out=root)
        scratch *= root
        scratch /= n2
        variance += scratch
        gap = np.divide(kt, n2, out=b)  # rate1 - theta k2 / n2
        np.subtract(self.rate1, gap, out=gap)
        gap *= gap
        np.maximum(variance, 1e-300, out=variance)
        gap /= variance
        return np.asarray(gap)

    def _reference(self, theta: np.ndarray) -> np.ndarray:
        """The statistic as written in the literature (kept to check ``statistic`` against)."""
        k1, n1, k2, n2 = self.k1, self.n1, self.k2, self.n2
        a = self.n * theta
        b = -(n1 * theta + k1 + n2 + k2 * theta)
        root = np.sqrt(np.maximum(b * b - 4 * a * self.k, 0.0))
        p2 = np.minimum(np.maximum((-b - root) / (2 * a), 0.0), 1.0)
        p1 = np.minimum(theta * p2, 1.0)
        variance = p1 * (1 - p1) / n1 + theta * theta * p2 * (1 - p2) / n2
        gap = self.rate1 - theta * k2 / n2
        return np.asarray(gap * gap / np.maximum(variance, 1e-300), dtype=np.float64)


def score_ratio(
    k1: np.ndarray,
    n1: np.ndarray,
    k2: np.ndarray,
    n2: np.ndarray,
    z: float,
    side: Literal["both", "low", "high"] = "both",
) -> tuple[np.ndarray, np.ndarray]:
    """Score interval of ``(k1/n1) / (k2/n2)``: 0 as lower end when k1 = 0, infinity as upper when k2 = 0.

    ``side`` skips the search for an end the caller does not need (that end is then NaN).
    """
    k1, n1, k2, n2 = (np.asarray(x, dtype=np.float64) for x in (k1, n1, k2, n2))
    k1, n1, k2, n2 = np.broadcast_arrays(k1, n1, k2, n2)
    shape, size = k1.shape, k1.size
    nan = np.full(shape, np.nan)
    a, b, c, d = (x.reshape(-1) for x in (k1, n1, k2, n2))
    if side != "both":
        end = ratio_ends(a, b, c, d, np.full(size, z * z), np.full(size, side == "low")).reshape(shape)
        return (end, nan) if side == "low" else (nan, end)
    # Both ends in one search: the same arithmetic on arrays twice as long.
    a, b, c, d = (np.concatenate([x, x]) for x in (a, b, c, d))
    lower_first = np.concatenate([np.ones(size, dtype=bool), np.zeros(size, dtype=bool)])
    both = ratio_ends(a, b, c, d, np.full(2 * size, z * z), lower_first)
    return both[:size].reshape(shape), both[size:].reshape(shape)


def ratio_ends(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, critical: np.ndarray, low: np.ndarray
) -> np.ndarray:
    """One end of each ratio's score interval: the lower where ``low``, else the upper (1-D arrays).

    ``critical`` is each search's squared normal quantile; any mix of ends and levels is searched at once.
    """
    defined = (n1 > 0) & (n2 > 0) & ~((k1 <= 0) & (k2 <= 0))
    a, b, c, d = (np.where(defined, x, 1.0) for x in (k1, n1, k2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = (a / b) / (c / d)
    centre = np.log(np.clip(estimate, np.exp(-_LOG_LIMIT), np.exp(_LOG_LIMIT)))
    end = _bisect(centre, np.where(low, -_LOG_LIMIT, _LOG_LIMIT), _Score(a, b, c, d), critical)
    end = np.where(low & (k1 <= 0), 0.0, end)
    end = np.where(~low & (k2 <= 0), np.inf, end)
    return np.where(defined, end, np.nan)


def _bisect(centre: np.ndarray, limit: np.ndarray, score: _Score, critical: np.ndarray) -> np.ndarray:
    """The theta between the estimate and ``limit`` (log scale) where the score statistic reaches ``critical``."""
    inside = centre.copy()  # statistic <= critical here
    outside = limit.astype(np.float64)
    _search_fast(inside, outside, score, critical)
    return np.asarray(np.exp(inside), dtype=np.float64)


_SEARCH_BLOCK = 16_384  # brackets halved together: their scratch arrays stay in the processor's cache


def _search(inside: np.ndarray, outside: np.ndarray, score: _Score, critical: np.ndarray, steps: int) -> None:
    """``steps`` halvings of the brackets [inside, outside], in place, a block of brackets at a time.

    Each bracket's steps depend on that bracket alone, so blocks give the same numbers as one pass; on arrays
    of 100,000 brackets one pass spent more time moving them between memory and cache than computing.
    """
    for start in range(0, inside.shape[0], _SEARCH_BLOCK):
        block = slice(start, start + _SEARCH_BLOCK)
        _search_block(inside[block], outside[block], score.part(block), critical[block], steps)


def _search_block(
    inside: np.ndarray, outside: np.ndarray, score: _Score, critical: np.ndarray, steps: int
) -> None:
    middle = np.empty_like(inside)
    theta = np.empty_like(inside)
    work = [np.empty_like(inside) for _ in range(7)]
    accepted = np.empty(inside.shape[0], dtype=bool)
    upper = outside.copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(steps):
            np.add(inside, upper, out=middle)
            middle *= 0.5  # the same number as halving by division (a power of two, rounded once)
            np.less_equal(score.statistic(np.exp(middle, out=theta), work), critical, out=accepted)
            np.copyto(inside, middle, where=accepted)
            np.copyto(middle, upper, where=accepted)  # the rejected midpoints become the new outer ends
            upper, middle = middle, upper
    outside[...] = upper


_ROOT_STEPS = 5  # secant steps towards each end: from a Katz-type start nearly all reach 1e-13 in 5
_EPS = float(np.finfo(np.float64).eps)


def _search_fast(inside: np.ndarray, outside: np.ndarray, score: _Score, critical: np.ndarray) -> None:
    """``_search(inside, outside, score, critical, _BISECTION_STEPS)`` from the start of a search, to the bit,
    with about a third of the statistic's evaluations.

    The bisection's numbers depend only on which side of the end each of its 36 midpoints falls. So the end is
    first found by a few secant steps, then the statistic is checked at two points a hair's breadth either side
    of it (the witnesses, clear of the statistic's rounding by a wide margin); every midpoint outside that
    hair falls on the side its witness says (the statistic grows away from the estimate, which the bisection
    assumes too), and the 36 halvings are replayed with that rule alone. A search whose witnesses fail, one of
    whose midpoints lands between them, or whose statistic is ill-conditioned (a rate of 0 or 1, an extreme
    ratio) is done by the bisection itself, so the numbers are the bisection's whatever happens.
    """
    redo = []
    for start in range(0, inside.shape[0], _SEARCH_BLOCK):
        block = slice(start, start + _SEARCH_BLOCK)
        part = score.part(block)
        chunk_in, chunk_out, chunk_critical = inside[block], outside[block], critical[block]
        well = _well_conditioned(part, chunk_in)
        if well.all():  # the common case: replayed in place
            redo.append(start + np.flatnonzero(~_replayed(chunk_in, chunk_out, part, chunk_critical)))
            continue
        fast = np.flatnonzero(well)
        fast_in, fast_out = chunk_in[fast], chunk_out[fast]
        good = _replayed(fast_in, fast_out, part.part(fast), chunk_critical[fast])
        chunk_in[fast[good]], chunk_out[fast[good]] = fast_in[good], fast_out[good]
        slow = np.ones(chunk_in.shape[0], dtype=bool)
        slow[fast[good]] = False
        redo.append(start + np.flatnonzero(slow))
    slow = np.concatenate(redo) if redo else np.zeros(0, dtype=np.int64)
    if slow.shape[0]:  # bisected together: one pass's fixed costs, not one per block
        slow_in, slow_out = inside[slow], outside[slow]
        _search(slow_in, slow_out, score.part(slow), critical[slow], _BISECTION_STEPS)
        inside[slow], outside[slow] = slow_in, slow_out


def _well_conditioned(score: _Score, centre: np.ndarray) -> np.ndarray:
    """Searches the replay may take: both rates strictly between 0 and 1 and a ratio that is not extreme."""
    k1, n1, k2, n2 = score.k1, score.n1, score.k2, score.n2
    return np.asarray((k1 > 0) & (k1 < n1) & (k2 > 0) & (k2 < n2) & (np.abs(centre) < 20.0))


def _replayed(inside: np.ndarray, outside: np.ndarray, score: _Score, critical: np.ndarray) -> np.ndarray:
    """Replay the bisection of these searches in place; True where that stands (the others are left as they
    were). Works on the side of the estimate towards the limit, flipped to point upwards (negating is exact,
    and so is the bisection's arithmetic under it)."""
    sign = np.where(outside < inside, -1.0, 1.0)
    low, high = sign * inside, sign * outside  # low < high: the estimate and the limit
    end, se = _secant_end(low, high, sign, score, critical)
    margin = _noise(score, low, end, sign)
    gap = margin * np.sqrt(critical) * se + 8 * _EPS * np.maximum(np.abs(end), 1.0)
    below, above = end - gap, end + gap
    work = [np.empty_like(inside) for _ in range(7)]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        below_ok = score.statistic(np.exp(sign * below), work) <= critical * (1 - margin)
        above_ok = score.statistic(np.exp(sign * above), work) > critical * (1 + margin)
    middle = np.empty_like(inside)
    accepted = np.empty(inside.shape[0], dtype=bool)
    for _ in range(_BISECTION_STEPS):
        np.add(low, high, out=middle)
        middle *= 0.5
        np.less_equal(middle, end, out=accepted)
        np.copyto(low, middle, where=accepted)
        np.copyto(middle, high, where=accepted)  # the rejected midpoints become the new upper ends
        high, middle = middle, high
    good = below_ok & above_ok & (low <= below) & (high >= above)
    np.copyto(inside, sign * low, where=good)
    np.copyto(outside, sign * high, where=good)
    return np.asarray(good)


def _noise(score: _Score, low: np.ndarray, end: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """A relative margin well above the statistic's rounding error between the estimate and the end.

    The restricted estimate solves a quadratic whose two parts cancel where 4ak is small or close to b^2
    (their ratio peaks at theta = (k1 + n2) / (n1 + k2)); a rate near 1 loses digits in 1 - p.
    """
    k1, n1, k2, n2 = score.k1, score.n1, score.k2, score.n2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        first, last = np.exp(sign * low), np.exp(sign * end)
        peak = np.clip((k1 + n2) / (n1 + k2), np.minimum(first, last), np.maximum(first, last))
        ratios = [4 * score.n * score.k * t / ((n1 + k2) * t + k1 + n2) ** 2 for t in (first, last, peak)]
        smallest = np.minimum(ratios[0], ratios[1])
        condition = np.maximum(1 / smallest, 1 / (1 - ratios[2]))
        condition = condition * np.maximum(n1 / (n1 - k1), n2 / (n2 - k2))
        margin = np.maximum(1000 * _EPS * condition, 1e-13)
    return np.where(np.isfinite(margin) & (margin < 1e-6), margin, np.nan)


def _secant_end(
    low: np.ndarray, high: np.ndarray, sign: np.ndarray, score: _Score, critical: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where the square root of the statistic reaches the critical value's, by plain secant steps from a
    Katz-type start (it is nearly linear on the log scale, so each step gains digits quickly; a search that
    strays fails its witnesses and is bisected); and the Katz-type standard error it started from."""
    root_critical = np.sqrt(critical)
    k1, n1, k2, n2 = score.k1, score.n1, score.k2, score.n2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        se = np.sqrt(np.maximum(1 / k1 - 1 / n1 + 1 / k2 - 1 / n2, 1e-12))
        previous, previous_gap = low, -root_critical
        current = np.minimum(low + root_critical * se, low + 0.9 * (high - low))
        work = [np.empty_like(low) for _ in range(7)]
        for _ in range(_ROOT_STEPS):
            gap = np.sqrt(score.statistic(np.exp(sign * current), work)) - root_critical
            step = gap * (current - previous) / (gap - previous_gap)
            np.copyto(step, 0.0, where=~np.isfinite(step))  # settled: no change left to make
            previous, previous_gap = current, gap
            current = current - step
    return current, se


_PRUNE_AFTER = (7, 9, 11, 13, 16, 20)  # search steps after which ends that cannot be the smallest stop


def ratio_end_minima(
    k1: np.ndarray,
    n1: np.ndarray,
    k2: np.ndarray,
    n2: np.ndarray,
    critical: np.ndarray,
    low: np.ndarray,
    owner: np.ndarray,
    owners: int,
) -> np.ndarray:
    """For each owner, the smallest of its elements' ``ratio_ends`` (NaN when none is defined).

    The same numbers as ``ratio_ends`` followed by a minimum that ignores NaN, but an element stops being
    searched once it cannot be the smallest: a bracket only shrinks, so an element whose whole bracket lies
    above another element's bracket ends above it. A spread over thousands of pairs then searches only the few
    that could be its extreme to the end.
    """
    defined = (n1 > 0) & (n2 > 0) & ~((k1 <= 0) & (k2 <= 0))
    a, b, c, d = (np.where(defined, x, 1.0) for x in (k1, n1, k2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = (a / b) / (c / d)
    centre = np.log(np.clip(estimate, np.exp(-_LOG_LIMIT), np.exp(_LOG_LIMIT)))
    known = np.full(k1.shape[0], np.nan)  # ends known without a search
    known[defined & low & (k1 <= 0)] = 0.0
    known[defined & ~low & (k2 <= 0)] = np.inf
    search = np.flatnonzero(defined & np.isnan(known))
    ends = known.copy()
    if search.shape[0]:
        keep, first, first_end = _may_end_lowest(
            search, centre, (a, b, c, d), critical, low, known, owner, owners
        )
        ends[search[first]] = np.exp(first_end)
        keep[first] = False
        search = search[keep]
    if search.shape[0] <= _FEW:
        inside, outside = centre[search], np.where(low[search], -_LOG_LIMIT, _LOG_LIMIT)
        _search_fast(inside, outside, _Score(a[search], b[search], c[search], d[search]), critical[search])
        ends[search] = np.exp(inside)
    else:
        _staged(search, centre, (a, b, c, d), critical, low, ends, owner, owners)
    minima = np.full(owners, np.nan)
    counted = np.flatnonzero(~np.isnan(ends))
    np.fmin.at(minima, owner[counted], ends[counted])
    return minima


_FEW = 512  # searches left after the first cut: searched at once below this, in stages above it


def _staged(
    search: np.ndarray,
    centre: np.ndarray,
    tables: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    critical: np.ndarray,
    low: np.ndarray,
    ends: np.ndarray,
    owner: np.ndarray,
    owners: int,
) -> None:
    """Many searches left (ill-conditioned ones, or close ends): bisected in stages, an element dropped once
    its bracket lies wholly above another's bracket or a known end (a bracket only shrinks); ``ends`` filled."""
    a, b, c, d = tables
    inside, outside = centre[search], np.where(low[search], -_LOG_LIMIT, _LOG_LIMIT)
    done = 0
    for stop in (*_PRUNE_AFTER, _BISECTION_STEPS):
        _search(
            inside, outside, _Score(a[search], b[search], c[search], d[search]), critical[search], stop - done
        )
        done = stop
        if stop < _BISECTION_STEPS:
            keep = _may_be_smallest(search, inside, outside, ends, owner, owners)
            search, inside, outside = search[keep], inside[keep], outside[keep]
    ends[search] = np.exp(inside)


def _may_end_lowest(
    search: np.ndarray,
    centre: np.ndarray,
    tables: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    critical: np.ndarray,
    low: np.ndarray,
    known: np.ndarray,
    owner: np.ndarray,
    owners: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which searched elements may end as their owner's smallest, before any of them is searched; and
    which were searched to find that out (positions in ``search``), with their ends (log scale).

    Each owner's likeliest smallest end (a Katz-type guess) is searched first; its end, a bound on the
    owner's smallest, then rules out in one evaluation of the statistic every element whose end surely lies
    above it (the statistic at the bound, plus a margin far above its rounding, says on which side of the end
    the bound is). Ill-conditioned elements (a rate of 0 or 1, an extreme ratio) are kept.
    """
    k1, n1, k2, n2 = (x[search] for x in tables)
    score, mine, middle = _Score(k1, n1, k2, n2), owner[search], centre[search]
    lower_end = low[search]
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = 1 / np.maximum(k1, 0.5)
        spread += 1 / np.maximum(k2, 0.5)
        spread -= 1 / n1
        spread -= 1 / n2
    guess = np.sqrt(np.maximum(spread, 1e-12, out=spread), out=spread)
    guess *= np.sqrt(critical[search])
    guess[lower_end] *= -1.0
    guess += middle
    first = _first_smallest(guess, mine, owners)
    inside, outside = middle[first].copy(), np.where(lower_end[first], -_LOG_LIMIT, _LOG_LIMIT)
    _search_fast(inside, outside, score.part(first), critical[search][first])
    bound = np.full(owners, np.inf)  # an end that some element reaches: the owner's smallest is at most this
    np.minimum.at(bound, mine[first], inside)
    settled = np.flatnonzero(~np.isnan(known))
    with np.errstate(divide="ignore"):
        np.minimum.at(bound, owner[settled], np.log(known[settled]))
    # Above the bound by more than a last bisection bracket (1e-9) and the statistic's rounding.
    test = bound[mine] + 4e-9
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        accepted = score.statistic(np.exp(test)) <= critical[search]
    beyond = np.where(lower_end, (test < middle) & ~accepted, (test < middle) | accepted)
    surely_above = (beyond & _well_conditioned(score, middle)) | (bound[mine] == -np.inf)
    return np.asarray(~surely_above), first, inside


def _first_smallest(values: np.ndarray, owner: np.ndarray, owners: int) -> np.ndarray:
    """For each owner that has elements, the index of its (first) smallest value (any one if all are NaN)."""
    smallest = np.full(owners, np.inf)
    np.minimum.at(smallest, owner, values)
    at = np.flatnonzero(values <= smallest[owner])  # NaN never is
    found, first = np.unique(owner[at], return_index=True)
    present = np.zeros(owners, dtype=bool)
    present[owner] = True
    present[found] = False
    if not present.any():
        return np.asarray(at[first])
    rest = np.flatnonzero(present[owner])
    extra = rest[np.unique(owner[rest], return_index=True)[1]]
    return np.concatenate([at[first], extra])


def _may_be_smallest(
    search: np.ndarray,
    inside: np.ndarray,
    outside: np.ndarray,
    known: np.ndarray,
    owner: np.ndarray,
    owners: int,
) -> np.ndarray:
    """Which searched elements may still end as their owner's smallest (log scale, with a margin of 1e-9)."""
    lowest = np.full(owners, np.inf)  # the smallest upper bound of each owner's ends
    np.minimum.at(lowest, owner[search], np.maximum(inside, outside))
    settled = np.flatnonzero(~np.isnan(known))
    with np.errstate(divide="ignore"):
        np.minimum.at(lowest, owner[settled], np.log(known[settled]))
    return np.asarray(np.minimum(inside, outside) <= lowest[owner[search]] + 1e-9)


@dataclass(frozen=True)
class Pairs:
    """Per-group data from which any pair's interval can be computed.

    Counts (``k`` successes of ``n``) for rates; otherwise ``value`` and standard error ``se``.
    """

    value: np.ndarray
    k: np.ndarray | None = None
    n: np.ndarray | None = None
    se: np.ndarray | None = None
    # Each group's Wilson ends per level: a spread asks for them at two levels for thousands of pairs.
    _wilson: dict[float, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of_counts(cls, k: np.ndarray, n: np.ndarray) -> Pairs:
        k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(n > 0, k / n, np.nan)
        return cls(value=value, k=k, n=n)

    @classmethod
    def of_normal(cls, value: np.ndarray, se: np.ndarray) -> Pairs:
        return cls(value=np.asarray(value, dtype=np.float64), se=np.asarray(se, dtype=np.float64))

    def single(self, z: float) -> tuple[np.ndarray, np.ndarray]:
        """Each group's own interval."""
        if self.k is not None and self.n is not None:
            if z not in self._wilson:
                ends = wilson(self.k, self.n, z)
                for end in ends:
                    end.flags.writeable = False  # shared by every caller
                self._wilson[z] = ends
            return self._wilson[z]
        assert self.se is not None
        return self.value - z * self.se, self.value + z * self.se

    def point(self, i: np.ndarray, j: np.ndarray, kind: Kind) -> np.ndarray:
        a, b = self.value[i], self.value[j]
        if kind == "difference":
            return np.asarray(a - b, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b != 0, a / np.where(b != 0, b, 1.0), np.nan)

    def between(
        self,
        i: np.ndarray,
        j: np.ndarray,
        kind: Kind,
        z: float,
        side: Literal["both", "low", "high"] = "both",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Interval of group i against group j (i / j or i - j) for every pair (one ``side`` may be skipped)."""
        if self.k is not None and self.n is not None:
            if kind == "difference":  # newcombe(k[i], n[i], k[j], n[j], z), each group's part computed once
                low, high = self.single(z)
                with np.errstate(divide="ignore", invalid="ignore"):
                    rate = self.k / self.n
                return _newcombe_from(rate[i], (low[i], high[i]), rate[j], (low[j], high[j]))
            return score_ratio(self.k[i], self.n[i], self.k[j], self.n[j], z, side)
        assert self.se is not None
        a, b, sa, sb = self.value[i], self.value[j], self.se[i], self.se[j]
        if kind == "difference":
            half = z * np.sqrt(sa * sa + sb * sb)
            return a - b - half, a - b + half
        with np.errstate(divide="ignore", invalid="ignore"):
            log_se = np.sqrt((sa / a) ** 2 + (sb / b) ** 2)
            ratio = a / b
            ok = (a > 0) & (b > 0)
            return (
                np.where(ok, ratio * np.exp(-z * log_se), np.nan),
                np.where(ok, ratio * np.exp(z * log_se), np.nan),
            )


@dataclass(frozen=True)
class Interval:
    """Point values and interval ends, one per group (or one for a spread); NaN where undefined."""

    point: np.ndarray
    low: np.ndarray
    high: np.ndarray


def against_fixed(pairs: Pairs, groups: np.ndarray, reference: int, kind: Kind, z: float) -> Interval:
    """Each of ``groups`` against one fixed reference group."""
    ref = np.full(groups.shape[0], reference)
    low, high = pairs.between(groups, ref, kind, z)
    return Interval(pairs.point(groups, ref, kind), low, high)


def count_intervals(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], z: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Newcombe and score-ratio ends of many sets of (k1, n1, k2, n2), searched in one pass.

    The same arithmetic as one call per set (element by element), without paying the search's fixed cost
    per set: an attribute's nine rates against their references cost one search instead of nine.
    """
    if not parts:
        return []
    k1, n1, k2, n2 = (np.concatenate([np.asarray(p[i], dtype=np.float64) for p in parts]) for i in range(4))
    d_low, d_high = newcombe(k1, n1, k2, n2, z)
    r_low, r_high = score_ratio(k1, n1, k2, n2, z)
    bounds = np.cumsum([0, *(np.asarray(p[0]).shape[0] for p in parts)]).tolist()
    return [(d_low[a:b], d_high[a:b], r_low[a:b], r_high[a:b]) for a, b in itertools.pairwise(bounds)]


def against_fixed_many(
    items: list[tuple[Pairs, np.ndarray, int]], z: float
) -> list[tuple[Interval, Interval]]:
    """``against_fixed`` (difference, then ratio) for many (pairs, groups, reference) at once."""
    parts = []
    for pairs, groups, reference in items:
        assert pairs.k is not None and pairs.n is not None
        ref = np.full(groups.shape[0], reference)
        parts.append((pairs.k[groups], pairs.n[groups], pairs.k[ref], pairs.n[ref]))
    out = []
    for (pairs, groups, reference), (d_low, d_high, r_low, r_high) in zip(
        items, count_intervals(parts, z), strict=True
    ):
        ref = np.full(groups.shape[0], reference)
        out.append(
            (
                Interval(pairs.point(groups, ref, "difference"), d_low, d_high),
                Interval(pairs.point(groups, ref, "ratio"), r_low, r_high),
            )
        )
    return out


def against_best(
    pairs: Pairs, groups: np.ndarray, candidates: np.ndarray, kind: Kind, *, z_plain: float, z_joint: float
) -> Interval:
    """Each group against the highest of ``candidates`` (the most-selected group, or the best one).

    The quantity is ``min over h`` of (group / h) or (group - h), h among the candidates other than the group
    itself, capped at 1 (or 0) for a candidate, which is the best group's own value. Its lower end is the
    lowest plain lower end over h (the truly highest group alone settles it); its upper end is the lowest
    jointly adjusted upper end (every h at once), so a group that happens to come out on top is still judged.
    """
    identity = 1.0 if kind == "ratio" else 0.0
    cand = np.asarray(candidates, dtype=np.int64)
    size = groups.shape[0]
    point, low, high = np.full(size, np.nan), np.full(size, np.nan), np.full(size, np.nan)
    if cand.shape[0] == 0:
        return Interval(point, low, high)
    plain_high = pairs.single(z_plain)[1]
    joint_low = pairs.single(z_joint)[0]
    best = float(np.nanmax(pairs.value[cand]))
    # The lowest ends come from the high, uncertain candidates: keep those when there are many.
    short = _top(cand, (plain_high[cand], joint_low[cand], pairs.value[cand]))
    for start in range(0, size, 256):
        block = groups[start : start + 256]
        i, j = np.repeat(block, short.shape[0]), np.tile(short, block.shape[0])
        other = (i != j).reshape(block.shape[0], short.shape[0])
        block_low, block_high = _lowest_ends(pairs, (i, j), other, kind, (z_plain, z_joint))
        is_candidate = np.isin(block, cand)
        block_low = np.where(is_candidate, np.fmin(block_low, identity), block_low)
        block_high = np.where(is_candidate, np.fmin(block_high, identity), block_high)
        alone = is_candidate & ~other.any(axis=1)  # the only candidate: compared with itself
        low[start : start + 256] = np.where(alone, identity, block_low)
        high[start : start + 256] = np.where(alone, identity, block_high)
        own = pairs.value[block]
        if kind == "ratio":
            with np.errstate(divide="ignore", invalid="ignore"):
                point[start : start + 256] = np.where(best != 0, own / best, np.nan)
        else:
            point[start : start + 256] = own - best
    undefined = np.isnan(point)  # for example every rate 0: no ratio, so no interval either
    return Interval(point, np.where(undefined, np.nan, low), np.where(undefined, np.nan, high))


def _lowest_ends(
    pairs: Pairs, pair: tuple[np.ndarray, np.ndarray], other: np.ndarray, kind: Kind, z: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``other`` (a group against each candidate, True where they differ): the lowest plain lower
    end and the lowest joint upper end. Count ratios are found as the smallest ends of their pairs, so the
    pairs that surely end higher are not searched (the same numbers)."""
    i, j = pair
    rows = other.shape[0]
    if kind == "ratio" and pairs.k is not None and pairs.n is not None:
        keep = other.reshape(-1)
        owner = np.repeat(np.arange(rows), other.shape[1])[keep]
        k1, n1, k2, n2 = (
            np.tile(x, 2) for x in (pairs.k[i[keep]], pairs.n[i[keep]], pairs.k[j[keep]], pairs.n[j[keep]])
        )
        size = owner.shape[0]
        critical = np.concatenate([np.full(size, z[0] * z[0]), np.full(size, z[1] * z[1])])
        low = np.concatenate([np.ones(size, dtype=bool), np.zeros(size, dtype=bool)])
        minima = ratio_end_minima(
            k1, n1, k2, n2, critical, low, np.concatenate([owner, owner + rows]), 2 * rows
        )
        return minima[:rows], minima[rows:]
    ends_low = np.where(other, pairs.between(i, j, kind, z[0], "low")[0].reshape(other.shape), np.nan)
    ends_high = np.where(other, pairs.between(i, j, kind, z[1], "high")[1].reshape(other.shape), np.nan)
    with np.errstate(invalid="ignore"):
        return np.fmin.reduce(ends_low, axis=1), np.fmin.reduce(ends_high, axis=1)


def spread(pairs: Pairs, groups: np.ndarray, kind: Kind, *, z_plain: float, z_joint: float) -> Interval:
    """``max - min`` (difference) or ``min / max`` (ratio) over ``groups``, with its interval.

    The far-from-equal end (how large the gap can be) is settled by the truly extreme pair alone, so it
    uses the plain level; the near-equal end must hold for every pair at once, so it is adjusted jointly.
    """
    values = pairs.value[groups]
    defined = groups[np.isfinite(values)]
    nan = np.array([np.nan])
    if defined.shape[0] < 2:
        return Interval(nan, nan, nan)
    top, bottom = float(np.max(pairs.value[defined])), float(np.min(pairs.value[defined]))
    plain_low, plain_high = pairs.single(z_plain)
    joint_low, joint_high = pairs.single(z_joint)
    if kind == "difference":
        # Gap as large as possible: high groups' upper ends against low groups' lower ends (plain).
        i, j = _pairs(defined, plain_high, plain_low)
        far = _extreme(pairs.between(i, j, kind, z_plain, "high")[1], np.nanmax)
        # Gap as small as possible: every pair's lower end must hold (joint).
        i, j = _pairs(defined, joint_low, joint_high)
        near = _extreme(pairs.between(i, j, kind, z_joint, "low")[0], np.nanmax)
        return Interval(np.array([top - bottom]), np.array([max(near, 0.0)]), np.array([max(far, 0.0)]))
    i, j = _pairs(defined, plain_high, plain_low, low_first=True)
    far = _extreme(pairs.between(i, j, kind, z_plain, "low")[0], np.nanmin)
    i, j = _pairs(defined, joint_low, joint_high, low_first=True)
    near = _extreme(pairs.between(i, j, kind, z_joint, "high")[1], np.nanmin)
    point = min_over_max(top, bottom)
    return Interval(np.array([point]), np.array([min(far, 1.0)]), np.array([min(near, 1.0)]))


def spread_many(items: list[tuple[Pairs, np.ndarray, float, float]]) -> list[tuple[Interval, Interval]]:
    """``spread`` (difference, then ratio) for many (pairs, groups, z_plain, z_joint).

    The ratios' ends, the only part that needs a search, are searched for all items in one pass.
    """
    results: list[list[Interval]] = []
    searches: list[tuple[int, np.ndarray, np.ndarray, float, bool]] = []  # (item, i, j, z, lower end)
    gaps: list[
        tuple[int, tuple[np.ndarray, ...], tuple[np.ndarray, ...]]
    ] = []  # (item, far pairs, near pairs)
    for index, (pairs, groups, z_plain, z_joint) in enumerate(items):
        defined = groups[np.isfinite(pairs.value[groups])]
        if pairs.k is None or defined.shape[0] < 2:
            results.append([spread(pairs, groups, kind, z_plain=z_plain, z_joint=z_joint) for kind in _KINDS])
            continue
        results.append([])
        plain_low, plain_high = pairs.single(z_plain)
        joint_low, joint_high = pairs.single(z_joint)
        # The candidates of each end, chosen once: a difference high - low, a ratio low / high.
        plain = _candidates(defined, plain_high, plain_low)
        joint = _candidates(defined, joint_low, joint_high)
        gaps.append((index, _ordered(*plain), _ordered(*joint)))
        searches.append((index, *_ordered(plain[1], plain[0]), z_plain, True))
        searches.append((index, *_ordered(joint[1], joint[0]), z_joint, False))
    for index, interval in zip([g[0] for g in gaps], _difference_spreads(items, gaps), strict=True):
        results[index].append(interval)
    ends = _smallest_ratio_ends(items, searches)
    for far in range(0, len(searches), 2):
        index = searches[far][0]
        values = items[index][0].value[items[index][1]]
        values = values[np.isfinite(values)]
        point = min_over_max(float(np.max(values)), float(np.min(values)))
        far_end, near_end = ends[far], ends[far + 1]
        results[index].append(
            Interval(np.array([point]), np.array([min(far_end, 1.0)]), np.array([min(near_end, 1.0)]))
        )
    return [(first, second) for first, second in results]


_KINDS: tuple[Kind, Kind] = ("difference", "ratio")


def _difference_spreads(
    items: list[tuple[Pairs, np.ndarray, float, float]],
    gaps: list[tuple[int, tuple[np.ndarray, ...], tuple[np.ndarray, ...]]],
) -> list[Interval]:
    """``spread(..., "difference")`` of count items, every item's pairs in one pass (the same numbers)."""
    if not gaps:
        return []
    far_ends, near_ends, owners = [], [], []
    for number, (index, (i, j), (i_near, j_near)) in enumerate(gaps):
        pairs, _, z_plain, z_joint = items[index]
        rate = pairs.value
        plain_low, plain_high = pairs.single(z_plain)
        joint_low, joint_high = pairs.single(z_joint)
        # Newcombe's ends as _newcombe_from writes them: the far end high, the near end low.
        far_ends.append(
            rate[i] - rate[j] + np.sqrt((plain_high[i] - rate[i]) ** 2 + (rate[j] - plain_low[j]) ** 2)
        )
        near_ends.append(
            rate[i_near]
            - rate[j_near]
            - np.sqrt((rate[i_near] - joint_low[i_near]) ** 2 + (joint_high[j_near] - rate[j_near]) ** 2)
        )
        owners.append((number, i.shape[0], i_near.shape[0]))
    far = _segment_max(np.clip(np.concatenate(far_ends), -1.0, 1.0), [o[1] for o in owners])
    near = _segment_max(np.clip(np.concatenate(near_ends), -1.0, 1.0), [o[2] for o in owners])
    out = []
    for (index, _, _), far_end, near_end in zip(gaps, far, near, strict=True):
        pairs, groups = items[index][0], items[index][1]
        values = pairs.value[groups]
        values = values[np.isfinite(values)]
        top, bottom = float(np.max(values)), float(np.min(values))
        out.append(
            Interval(np.array([top - bottom]), np.array([max(near_end, 0.0)]), np.array([max(far_end, 0.0)]))
        )
    return out


def _segment_max(values: np.ndarray, sizes: list[int]) -> list[float]:
    """``_extreme(segment, np.nanmax)`` of consecutive segments of ``values`` (NaN for an empty one)."""
    if not sizes:
        return []
    starts = np.cumsum([0, *sizes[:-1]])
    with np.errstate(invalid="ignore"):
        found = np.fmax.reduceat(values, np.minimum(starts, max(values.shape[0] - 1, 0)))
    return [float(x) if size else float("nan") for x, size in zip(found.tolist(), sizes, strict=True)]


def _candidates(
    groups: np.ndarray, high_key: np.ndarray, low_key: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The groups that may hold the high and the low end of a spread: all of them for few groups."""
    if groups.shape[0] <= _PAIRS_IN_FULL:
        return groups, groups
    return _top(groups, (high_key[groups],)), _top(groups, (-low_key[groups],))


def _ordered(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) of a group of ``first`` with another group of ``second``."""
    i = np.repeat(first, second.shape[0])
    j = np.tile(second, first.shape[0])
    keep = i != j
    return i[keep], j[keep]


def _smallest_ratio_ends(
    items: list[tuple[Pairs, np.ndarray, float, float]],
    searches: list[tuple[int, np.ndarray, np.ndarray, float, bool]],
) -> list[float]:
    """The smallest score-interval end each search asks for, over its pairs (i, j) of its item's groups."""
    if not searches:
        return []
    parts = []
    for number, (index, i, j, z, low) in enumerate(searches):
        pairs = items[index][0]
        assert pairs.k is not None and pairs.n is not None
        size = i.shape[0]
        parts.append(
            (
                pairs.k[i],
                pairs.n[i],
                pairs.k[j],
                pairs.n[j],
                np.full(size, z * z),
                np.full(size, low),
                np.full(size, number),
            )
        )
    k1, n1, k2, n2, critical = (
        np.concatenate([np.asarray(part[c], dtype=np.float64) for part in parts]) for c in range(5)
    )
    lower_end = np.concatenate([part[5] for part in parts]).astype(bool)
    owner = np.concatenate([part[6] for part in parts]).astype(np.int64)
    minima = ratio_end_minima(k1, n1, k2, n2, critical, lower_end, owner, len(searches))
    return [float(x) for x in minima.tolist()]


def min_over_max(top: float, bottom: float) -> float:
    """The between-group ratio, defined only when no value is negative (a ratio of signed amounts means nothing)."""
    return bottom / top if top > 0 and bottom >= 0 else float("nan")


def _extreme(values: np.ndarray, reduce: Any) -> float:
    """The largest or smallest defined value; NaN when none is defined (for example a zero rate's ratio)."""
    return float(reduce(values)) if (~np.isnan(values)).any() else float("nan")


def _pairs(
    groups: np.ndarray, high_key: np.ndarray, low_key: np.ndarray, *, low_first: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Ordered pairs (i, j) to examine: all of them for few groups, else the candidate extremes.

    For a difference i - j, i runs over the groups with the largest ``high_key`` and j over those with the
    smallest ``low_key``; ``low_first`` swaps the roles (for a ratio low / high).
    """
    if groups.shape[0] <= _PAIRS_IN_FULL:
        first, second = groups, groups
    else:
        first = _top(groups, (high_key[groups],))
        second = _top(groups, (-low_key[groups],))
        if low_first:
            first, second = second, first
    i = np.repeat(first, second.shape[0])
    j = np.tile(second, first.shape[0])
    keep = i != j
    return i[keep], j[keep]


def _top(groups: np.ndarray, keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """The union of the ``_CANDIDATES`` groups ranking highest on each key (all groups when few)."""
    if groups.shape[0] <= _CANDIDATES:
        return groups
    chosen = [groups[np.argsort(np.where(np.isfinite(key), key, -np.inf))[-_CANDIDATES:]] for key in keys]
    return np.unique(np.concatenate(chosen))


def bonferroni_pairs(n_groups: int) -> int:
    """The number of unordered pairs among ``n_groups`` groups (at least 1)."""
    return max(n_groups * (n_groups - 1) // 2, 1)
