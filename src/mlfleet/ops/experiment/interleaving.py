"""Team-draft interleaving (Radlinski, Kurup and Joachims, "How does clickthrough data reflect
retrieval quality?", CIKM 2008, Algorithm 2) and its credit by clicks.

Two teams pick in rounds: the team with fewer picks so far (a coin flip when equal) adds its
highest-ranked document that is not yet shown. A click credits the team that contributed the
clicked document; a query is won by the team with more clicks (a tie when equal), and a user
prefers the ranker whose team won more of the user's queries. On the simulated users of
:mod:`mlfleet.ops.experiment.click_model` the users each method needs for 80 % power are
found in :func:`compare_methods`: a sign test of the per-user preferences against an A/B
test (Welch) of clicks per query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive_int
from mlfleet.ops.experiment.click_model import (
    CHUNK_QUERIES,
    RankerQuality,
    SearchModel,
    clicks,
    draw_queries,
    draw_users,
    expected_clicks,
    rank,
)
from mlfleet.ops.experiment.errors import ExperimentInputError

T = TypeVar("T", bound=Hashable)
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
MAX_DRAWS = 100_000_000
"""Resampled users per power check, at most (fewer A/B repetitions for a huge sample)."""
QUALITY_QUERIES = 400_000
"""Queries over which each ranker's expected clicks are averaged."""


def _next_unused(ranking: Sequence[T], shown: set[T]) -> T | None:
    return next((item for item in ranking if item not in shown), None)


def team_draft(a: Sequence[T], b: Sequence[T], *, length: int,
               coins: Iterable[bool]) -> tuple[list[T], list[bool]]:
    """(interleaved list, team per position: False = A, True = B) of at most ``length``
    documents; ``coins`` gives the flip (True: B picks first) of each round with equal picks."""
    shown: list[T] = []
    team: list[bool] = []
    seen: set[T] = set()
    flips: Iterator[bool] = iter(coins)
    while len(shown) < length:
        picks_b = sum(team)
        b_turn = picks_b < len(team) - picks_b or (picks_b == len(team) - picks_b and next(flips))
        item = _next_unused(b if b_turn else a, seen)
        if item is None:  # this team's list is used up: the other one picks
            b_turn = not b_turn
            item = _next_unused(b if b_turn else a, seen)
            if item is None:
                break
        shown.append(item)
        team.append(b_turn)
        seen.add(item)
    return shown, team


def team_draft_batch(a: IntArray, b: IntArray, coins: BoolArray,
                     candidates: int) -> tuple[IntArray, BoolArray]:
    """:func:`team_draft` of many queries at once: rankings ``a``, ``b`` (queries, k) of
    candidate indices < ``candidates``; ``coins`` (queries, k) the flips of round j in column
    j. Each list has k distinct documents, so neither runs out before k are shown."""
    queries, k = a.shape
    rows = np.arange(queries)
    used = np.zeros((queries, candidates), dtype=np.bool_)
    shown = np.empty((queries, k), dtype=np.int64)
    team = np.empty((queries, k), dtype=np.bool_)
    picks_b = np.zeros(queries, dtype=np.int64)
    for j in range(k):
        picks_a = j - picks_b
        b_turn = (picks_b < picks_a) | ((picks_b == picks_a) & coins[:, j])
        ranking = np.where(b_turn[:, None], b, a)
        first = np.argmax(~np.take_along_axis(used, ranking, axis=1), axis=1)
        item = ranking[rows, first]
        used[rows, item] = True
        shown[:, j], team[:, j] = item, b_turn
        picks_b += b_turn
    return shown, team


def _user_of_query(queries_per_user: IntArray) -> IntArray:
    return np.repeat(np.arange(queries_per_user.size), queries_per_user)


def _chunks(queries_per_user: IntArray) -> Iterator[slice]:
    """Slices of users whose queries together stay near :data:`CHUNK_QUERIES`."""
    ends = np.cumsum(queries_per_user)
    start = 0
    while start < queries_per_user.size:
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + CHUNK_QUERIES, side="right")))
        yield slice(start, stop)
        start = stop


def interleaving_preferences(model: SearchModel, users: int,
                             rng: np.random.Generator) -> IntArray:
    """Per simulated user, queries won by B's team − queries won by A's (team-draft)."""
    queries_per_user, propensity = draw_users(model, users, rng)
    out = np.empty(users, dtype=np.int64)
    for part in _chunks(queries_per_user):
        who = _user_of_query(queries_per_user[part])
        grades = draw_queries(model, who.size, rng)
        a = rank(grades, model.noise_a_sd, rng, model.list_len)
        b = rank(grades, model.noise_a_sd + model.gap, rng, model.list_len)
        shown, team = team_draft_batch(a, b, rng.random(a.shape) < 0.5, model.pool_size)
        click = clicks(model, np.take_along_axis(grades, shown, axis=1), propensity[part][who],
                       rng)
        outcome = np.sign((click & team).sum(axis=1) - (click & ~team).sum(axis=1))
        out[part] = np.bincount(who, weights=outcome, minlength=part.stop - part.start)
    return out


def ab_clicks_per_query(model: SearchModel, users: int, *, ranker_b: bool,
                        rng: np.random.Generator) -> FloatArray:
    """Per simulated user served by ranker A (or B), clicks per query: the A/B metric."""
    queries_per_user, propensity = draw_users(model, users, rng)
    noise = model.noise_a_sd + (model.gap if ranker_b else 0.0)
    out = np.empty(users, dtype=np.float64)
    for part in _chunks(queries_per_user):
        who = _user_of_query(queries_per_user[part])
        grades = draw_queries(model, who.size, rng)
        shown = np.take_along_axis(grades, rank(grades, noise, rng, model.list_len), axis=1)
        per_query = clicks(model, shown, propensity[part][who], rng).sum(axis=1)
        out[part] = np.bincount(who, weights=per_query,
                                minlength=part.stop - part.start) / queries_per_user[part]
    return out


def sign_test_users(*, prefer_a: float, prefer_b: float, alpha: float = 0.05,
                    power: float = 0.8) -> float:
    """Users a two-sided sign test at ``alpha`` needs to detect, with ``power``, a preference
    where a user prefers A with probability ``prefer_a`` and B with ``prefer_b`` (ties are
    dropped): the normal approximation to the binomial, m = ((z_{1-α/2}/2 + z_{power}
    sqrt(π(1−π))) / (π − ½))² non-tied users with π = prefer_a / (prefer_a + prefer_b)
    (e.g. Noether, JASA 82, 1987), divided by the non-tie fraction."""
    from scipy import stats

    decided = prefer_a + prefer_b
    pi = prefer_a / decided
    z = stats.norm.ppf(1 - alpha / 2) / 2 + stats.norm.ppf(power) * np.sqrt(pi * (1 - pi))
    return float((z / (pi - 0.5)) ** 2 / decided)


def sign_test_power(*, users: float, prefer_a: float, prefer_b: float,
                    alpha: float = 0.05) -> float:
    """Power of the two-sided sign test with ``users`` users to find A preferred, by the same
    normal approximation as :func:`sign_test_users` (its inverse)."""
    from scipy import stats

    decided = users * (prefer_a + prefer_b)
    pi = prefer_a / (prefer_a + prefer_b)
    shift = (pi - 0.5) * math.sqrt(decided) - stats.norm.ppf(1 - alpha / 2) / 2
    return float(stats.norm.cdf(shift / math.sqrt(pi * (1 - pi))))


@dataclass(frozen=True, kw_only=True)
class MethodSize:
    """Users one method needs for the target power, and that power checked by simulation."""

    users: int
    """Users for the target power (A/B: both arms together)."""
    users_low: int
    """95 % interval of ``users`` from the simulation's own uncertainty."""
    users_high: int
    simulated_power: float
    """Power at ``users`` over ``reps`` experiments resampled from the simulated users."""
    power_se: float
    reps: int


@dataclass(frozen=True, kw_only=True)
class MethodComparison:
    """Team-draft interleaving against A/B on the same simulated users and rankers."""

    model: SearchModel
    quality: RankerQuality
    ab_mean_a: float
    """Clicks per query per user, A's arm (simulated pool)."""
    ab_mean_b: float
    ab_std_a: float
    ab_std_b: float
    prefer_a: float
    """Fraction of simulated users whose queries A's team won more often."""
    prefer_b: float
    ab: MethodSize
    interleaving: MethodSize
    ratio: float
    """A/B users / interleaving users."""
    ratio_low: float
    ratio_high: float
    pool_users: int
    alpha: float
    power: float
    seed: int


def _z(q: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(q))


def _ab_power(xa: FloatArray, xb: FloatArray, *, n_arm: int, reps: int, alpha: float,
              rng: np.random.Generator) -> tuple[float, int]:
    """(power, reps used): Welch z at ``alpha`` detecting mean(xa) > mean(xb), n_arm a side."""
    reps = max(20, min(reps, MAX_DRAWS // (2 * n_arm)))  # the caller keeps 40 n_arm <= MAX
    hits = 0
    per_chunk = max(1, 5_000_000 // n_arm)
    for done in range(0, reps, per_chunk):
        a = rng.choice(xa, size=(min(per_chunk, reps - done), n_arm))
        b = rng.choice(xb, size=a.shape)
        se = np.sqrt(a.var(axis=1, ddof=1) / n_arm + b.var(axis=1, ddof=1) / n_arm)
        hits += int(np.sum((a.mean(axis=1) - b.mean(axis=1)) / se > _z(1 - alpha / 2)))
    return hits / reps, reps


def _sign_power(prefer: tuple[float, float, float], *, users: int, reps: int, alpha: float,
                rng: np.random.Generator) -> float:
    """Power of the exact two-sided sign test detecting A's preference, ``users`` a run."""
    from scipy import stats

    counts = rng.multinomial(users, prefer, size=reps)  # (prefer A, prefer B, tie)
    decided = counts[:, 0] + counts[:, 1]
    p = np.minimum(1.0, 2 * stats.binom.sf(counts[:, 0] - 1, decided, 0.5))
    return float(np.mean((p < alpha) & (counts[:, 0] > counts[:, 1])))


def _size(users: float, low: float, high: float, power: tuple[float, int]) -> MethodSize:
    p, reps = power
    return MethodSize(users=math.ceil(users), users_low=math.ceil(low), users_high=math.ceil(high),
                      simulated_power=p, power_se=math.sqrt(p * (1 - p) / reps), reps=reps)


def _ab_size(quality: RankerQuality, xa: FloatArray, xb: FloatArray, *, alpha: float,
             power: float, reps: int, rng: np.random.Generator) -> MethodSize:
    from mlfleet.ops.experiment.power import users_per_arm

    delta, se = quality.clicks_a - quality.clicks_b, quality.gap_se
    if not delta > 1.96 * se:
        raise ExperimentInputError(f"the rankers' quality gap ({delta:.3g} clicks per query, "
                                   f"SE {se:.2g}) is too small to measure; pick a larger --gap")

    def users(effect: float) -> float:
        return 2.0 * users_per_arm(effect=effect, std=float(xa.std(ddof=1)), alpha=alpha,
                                   power=power, std_treatment=float(xb.std(ddof=1)))

    n = users(delta)
    if n * 20 > MAX_DRAWS:
        raise ExperimentInputError(f"A/B would need {n:.3g} users, more than the power check "
                                   f"resamples ({MAX_DRAWS // 20:.0e}); pick a larger --gap")
    shifted = xb - xb.mean() + xa.mean() - delta  # the pool's shape, the known effect
    checked = _ab_power(xa, shifted, n_arm=math.ceil(n / 2), reps=reps, alpha=alpha, rng=rng)
    return _size(n, users(delta + 1.96 * se), users(delta - 1.96 * se), checked)


def _interleaving_size(pref: IntArray, *, alpha: float, power: float, reps: int,
                       rng: np.random.Generator) -> MethodSize:
    prefer_a, prefer_b = float(np.mean(pref < 0)), float(np.mean(pref > 0))
    decided = int(np.sum(pref != 0))
    pi = prefer_a / (prefer_a + prefer_b)
    se = math.sqrt(pi * (1 - pi) / decided)
    if not pi - 0.5 > 1.96 * se:
        raise ExperimentInputError(f"the interleaving preference ({pi:.3g}, SE {se:.2g}) is "
                                   "too close to 1/2 to measure; pick a larger --gap or more "
                                   "--users")

    def users(p: float) -> float:
        d = prefer_a + prefer_b
        return sign_test_users(prefer_a=p * d, prefer_b=(1 - p) * d, alpha=alpha, power=power)

    n = users(pi)
    checked = _sign_power((prefer_a, prefer_b, 1 - prefer_a - prefer_b), users=math.ceil(n),
                          reps=reps, alpha=alpha, rng=rng)
    return _size(n, users(pi + 1.96 * se), users(pi - 1.96 * se), (checked, reps))


def compare_methods(model: SearchModel, *, pool_users: int = 50_000, reps: int = 400,
                    alpha: float = 0.05, power: float = 0.8, seed: int = 0,
                    progress: Callable[[int, int], None] | None = None) -> MethodComparison:
    """Users that A/B and team-draft interleaving each need for ``power`` at ``alpha``.

    Simulates ``pool_users`` users under interleaving and as many per A/B arm; sizes each
    method by its normal approximation (A/B: Welch with the known effect and the simulated
    per-user spread; interleaving: the sign test with the simulated preference), then checks
    the power at that size on ``reps`` experiments resampled from the simulated users.
    ``progress(done, 5)`` is called after each of five phases."""
    fraction("alpha", alpha, open_low=True, open_high=True)
    fraction("power", power, open_low=True, open_high=True)
    rng = np.random.default_rng(positive_int("seed", seed, minimum=0))
    positive_int("pool_users", pool_users, minimum=100)
    positive_int("reps", reps, minimum=20)
    step = progress or (lambda done, total: None)
    quality = expected_clicks(model, queries=QUALITY_QUERIES, rng=rng)
    step(1, 5)
    xa = ab_clicks_per_query(model, pool_users, ranker_b=False, rng=rng)
    xb = ab_clicks_per_query(model, pool_users, ranker_b=True, rng=rng)
    step(2, 5)
    pref = interleaving_preferences(model, pool_users, rng)
    step(3, 5)
    il = _interleaving_size(pref, alpha=alpha, power=power, reps=reps, rng=rng)
    step(4, 5)
    ab = _ab_size(quality, xa, xb, alpha=alpha, power=power, reps=reps, rng=rng)
    step(5, 5)
    return MethodComparison(
        model=model, quality=quality, ab_mean_a=float(xa.mean()), ab_mean_b=float(xb.mean()),
        ab_std_a=float(xa.std(ddof=1)), ab_std_b=float(xb.std(ddof=1)),
        prefer_a=float(np.mean(pref < 0)), prefer_b=float(np.mean(pref > 0)), ab=ab,
        interleaving=il, ratio=ab.users / il.users, ratio_low=ab.users_low / il.users_high,
        ratio_high=ab.users_high / il.users_low, pool_users=pool_users, alpha=alpha,
        power=power, seed=seed)
