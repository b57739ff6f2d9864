"""Simulated search users: queries with graded documents, two rankers of known quality, and a
position-based click model with heterogeneous users.

- Queries: each has ``pool_size`` candidate documents whose relevance grades (0..4) are drawn
  from ``grade_probs``.
- Rankers: a ranker scores each document as grade + noise_sd · N(0, 1) and shows the top
  ``list_len``; ranker A has ``noise_a_sd``, ranker B ``noise_a_sd + gap`` (B is worse by
  construction, the quality difference is known and measured by :func:`expected_clicks`).
- Clicks: the position-based model (Craswell, Zoeter, Taylor and Ramsey, WSDM 2008; Chuklin,
  Markov and de Rijke, *Click Models for Web Search*, 2015, ch. 3): P(click at rank r) =
  propensity_u · θ_r · a(grade) with examination θ_r = r^−``examination_decay`` and
  attractiveness a(g) rising with the grade, independent across ranks.
- Users: user u issues a geometric number of queries (mean ``mean_queries``, at least one)
  and has a click propensity drawn from Beta(``propensity_a``, ``propensity_b``): activity
  and clickiness differ between users, as in real traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction_array, non_negative, positive, positive_int
from mlfleet.ops.experiment.errors import ExperimentInputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
CHUNK_QUERIES = 50_000
"""Queries ranked at once (memory stays flat; an interrupt waits for one chunk at most)."""


@dataclass(frozen=True, kw_only=True)
class SearchModel:
    """Queries, two rankers and the click model (see the module docstring)."""

    list_len: int = 10
    """Documents shown per query."""
    pool_size: int = 30
    """Candidate documents per query."""
    grade_probs: tuple[float, ...] = (0.55, 0.25, 0.12, 0.05, 0.03)
    """P(grade = 0, 1, 2, 3, 4) of a candidate."""
    attractiveness: tuple[float, ...] = (0.05, 0.3, 0.5, 0.7, 0.95)
    """a(grade): P(click | examined) at propensity 1, per grade."""
    examination_decay: float = 1.0
    """θ_r = r^−decay: P(rank r is examined)."""
    noise_a_sd: float = 1.0
    """Ranker A's score noise (grades are 1 apart)."""
    gap: float = 0.25
    """Ranker B's extra score noise: B = A's noise + gap."""
    mean_queries: float = 5.0
    """Mean queries per user (geometric, >= 1)."""
    propensity_a: float = 2.0
    """Beta shape a of a user's click propensity."""
    propensity_b: float = 2.0
    """Beta shape b of a user's click propensity."""

    def __post_init__(self) -> None:
        positive_int("list_len", self.list_len)
        positive_int("pool_size", self.pool_size, minimum=self.list_len)
        if abs(float(fraction_array("grade_probs", self.grade_probs).sum()) - 1.0) > 1e-9:
            raise ExperimentInputError(f"grade_probs(={list(self.grade_probs)}) must sum to 1")
        if len(fraction_array("attractiveness", self.attractiveness)) != len(self.grade_probs):
            raise ExperimentInputError(f"attractiveness(={list(self.attractiveness)}) needs one"
                                       f" value per grade ({len(self.grade_probs)})")
        for name in ("examination_decay", "noise_a_sd", "gap"):
            non_negative(name, getattr(self, name), error=ExperimentInputError)
        if not positive("mean_queries", self.mean_queries, error=ExperimentInputError) >= 1:
            raise ExperimentInputError(f"mean_queries(={self.mean_queries:g}) must be >= 1")
        positive("propensity_a", self.propensity_a, error=ExperimentInputError)
        positive("propensity_b", self.propensity_b, error=ExperimentInputError)

    def examination(self) -> FloatArray:
        """θ_r for r = 1..list_len."""
        theta: FloatArray = np.arange(1, self.list_len + 1, dtype=np.float64) \
            ** -self.examination_decay
        return theta


def draw_queries(model: SearchModel, queries: int, rng: np.random.Generator) -> IntArray:
    """Grades of each query's candidates, (queries, pool_size)."""
    return rng.choice(len(model.grade_probs), size=(queries, model.pool_size),
                      p=np.asarray(model.grade_probs)).astype(np.int64)


def rank(grades: IntArray, noise_sd: float, rng: np.random.Generator, list_len: int) -> IntArray:
    """A noisy ranker's top ``list_len`` candidate indices per query, best first."""
    scores = grades + noise_sd * rng.standard_normal(grades.shape)
    return np.argsort(-scores, axis=1, kind="stable")[:, :list_len].astype(np.int64)


def click_probabilities(model: SearchModel, shown_grades: IntArray,
                        propensity: FloatArray) -> FloatArray:
    """P(click) per shown document (queries, list_len) for users of ``propensity`` (queries,)."""
    attract = np.asarray(model.attractiveness, dtype=np.float64)[shown_grades]
    p: FloatArray = propensity[:, None] * model.examination()[None, :] * attract
    return p


def clicks(model: SearchModel, shown_grades: IntArray, propensity: FloatArray,
           rng: np.random.Generator) -> BoolArray:
    """Simulated clicks (queries, list_len) under the position-based model."""
    p = click_probabilities(model, shown_grades, propensity)
    return rng.random(p.shape) < p


def draw_users(model: SearchModel, users: int,
               rng: np.random.Generator) -> tuple[IntArray, FloatArray]:
    """(queries per user, click propensity per user)."""
    queries = rng.geometric(1.0 / model.mean_queries, size=users).astype(np.int64)
    return queries, rng.beta(model.propensity_a, model.propensity_b, size=users)


@dataclass(frozen=True, kw_only=True)
class RankerQuality:
    """Expected clicks per query of each ranker at the mean propensity: the known gap."""

    clicks_a: float
    clicks_b: float
    gap_se: float
    """Monte-Carlo standard error of clicks_a − clicks_b (paired on common queries)."""


def expected_clicks(model: SearchModel, *, queries: int,
                    rng: np.random.Generator) -> RankerQuality:
    """Each ranker's expected clicks per query at the mean propensity, averaged (exactly over
    clicks, by Monte Carlo over documents and ranker noise) over ``queries`` queries that both
    rankers rank."""
    positive_int("queries", queries, minimum=2)
    clicks_a, clicks_b = np.empty(queries), np.empty(queries)
    for start in range(0, queries, CHUNK_QUERIES):  # bounded steps: Ctrl-C lands between them
        grades = draw_queries(model, min(CHUNK_QUERIES, queries - start), rng)
        mean_propensity = np.full(grades.shape[0], model.propensity_a
                                  / (model.propensity_a + model.propensity_b))
        for out, noise in ((clicks_a, model.noise_a_sd), (clicks_b, model.noise_a_sd + model.gap)):
            shown = np.take_along_axis(grades, rank(grades, noise, rng, model.list_len), axis=1)
            out[start:start + grades.shape[0]] = click_probabilities(model, shown,
                                                                     mean_propensity).sum(axis=1)
    return RankerQuality(clicks_a=float(clicks_a.mean()), clicks_b=float(clicks_b.mean()),
                         gap_se=float((clicks_a - clicks_b).std(ddof=1) / np.sqrt(queries)))
