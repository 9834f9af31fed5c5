"""Shapley values of a game known by its values on coalitions: exact, or sampled over permutations.

Here a *game* is one outcome of a model run as a function of which factors take the
alternative scenario's value. A coalition is a bit mask (bit ``i`` set: factor ``i``
switched to the alternative's value); the empty coalition is the base scenario and the
full one the alternative. Every quantity below is linear in the coalition values, so a
:class:`Design` holds the coalitions to evaluate and one matrix per quantity::

    estimates = values @ design.shapley     # values: (..., len(design.masks))

Applied to the runs of one replicate at a time (common random numbers: every coalition
of a replicate sees the same random streams), the per-replicate estimates can then be
averaged over replicates with a confidence interval.

The Shapley values of a replicate add up to ``v(all) - v(none)`` exactly, whether exact or
sampled: each sampled permutation's marginal contributions telescope to that total.
Each factor's Shapley value is its *main effect* (switched alone, from the base) plus its
*interaction share* (its part of every effect that needs other factors switched too).

References
----------
Shapley, L. S. (1953). A value for n-person games. In *Contributions to the Theory of
Games II*, Annals of Mathematics Studies 28, 307-317. doi:10.1515/9781400881970-018
Grabisch, M. (1997). k-order additive discrete fuzzy measures and their representation.
*Fuzzy Sets and Systems* 92(2), 167-189. doi:10.1016/S0165-0114(97)00168-1
Castro, J., Gomez, D. & Tejada, J. (2009). Polynomial calculation of the Shapley value
based on sampling. *Computers & Operations Research* 36(5), 1726-1730.
doi:10.1016/j.cor.2008.04.004
Mitchell, R., Cooper, J., Frank, E. & Holmes, G. (2022). Sampling permutations for
Shapley value estimation. *Journal of Machine Learning Research* 23(43), 1-46.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_FACTORS", "Design", "exact", "pairs", "sampled"]

MAX_FACTORS = 62
"""Most factors a design can hold: a coalition is a bit mask in a signed 64-bit integer."""


@dataclass(frozen=True)
class Design:
    """Coalitions to evaluate and the linear maps from their values to the estimates.

    Attributes
    ----------
    k : int
        Number of factors.
    masks : ndarray of int64, shape (n,)
        Coalitions to evaluate, sorted; always holds the empty and the full coalition
        and every single factor.
    shapley : ndarray of float64, shape (n, k)
        Shapley value of each factor (exact, or the permutation estimate).
    main_effect : ndarray of float64, shape (n, k)
        ``v({i}) - v(none)``: the factor switched alone, from the base.
    pair_interaction : ndarray of float64, shape (n, k * (k - 1) / 2) or None
        Shapley interaction index of each pair in :func:`pairs` order (exact designs only).
    exact : bool
        False for a sampled estimate.
    permutations : int
        Permutations sampled (0 for an exact design).
    """

    k: int
    masks: np.ndarray
    shapley: np.ndarray
    main_effect: np.ndarray
    pair_interaction: np.ndarray | None
    exact: bool
    permutations: int = 0

    @property
    def total(self) -> np.ndarray:
        """``v(all) - v(none)`` as a vector over :attr:`masks`, shape (n,)."""
        vector = np.zeros(len(self.masks))
        vector[np.searchsorted(self.masks, (1 << self.k) - 1)] += 1.0
        vector[0] -= 1.0
        return vector

    @property
    def interaction(self) -> np.ndarray:
        """Each factor's interaction share, Shapley value minus main effect, shape (n, k)."""
        return self.shapley - self.main_effect


def pairs(k: int) -> list[tuple[int, int]]:
    """The pairs of factors ``(i, j)``, ``i < j``, in the column order of ``pair_interaction``."""
    return list(itertools.combinations(range(k), 2))


def _check(k: int) -> None:
    if not 1 <= k <= MAX_FACTORS:
        raise ValueError(f"expected 1 to {MAX_FACTORS} factors, got {k}")


def _main_effect(masks: np.ndarray, k: int) -> np.ndarray:
    index = np.searchsorted(masks, 1 << np.arange(k, dtype=np.int64))
    matrix = np.zeros((len(masks), k))
    matrix[index, np.arange(k)] = 1.0
    matrix[0] -= 1.0
    return matrix


def exact(k: int) -> Design:
    """The exact design over all ``2**k`` coalitions.

    Factor ``i``'s Shapley value is ``sum over S not holding i of
    |S|! (k - |S| - 1)! / k! * (v(S + i) - v(S))``; the interaction index of a pair
    ``(i, j)`` (Grabisch 1997) is ``sum over S holding neither of
    |S|! (k - |S| - 2)! / (k - 1)! * (v(S + i + j) - v(S + i) - v(S + j) + v(S))``.

    Parameters
    ----------
    k : int
        Number of factors, 1 to :data:`MAX_FACTORS` (in practice at most about 12).

    Returns
    -------
    Design
    """
    _check(k)
    masks = np.arange(1 << k, dtype=np.int64)
    member = ((masks[:, None] >> np.arange(k)) & 1).astype(bool)
    size = member.sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)])
    shapley = np.where(member, weight[np.maximum(size - 1, 0)][:, None], -weight[np.minimum(size, k - 1)][:, None])
    pair_weight = np.array([math.factorial(t) * math.factorial(k - t - 2) / math.factorial(k - 1) for t in range(max(k - 1, 0))])
    columns = []
    for i, j in pairs(k):
        others = size - member[:, i] - member[:, j]
        sign = np.where(member[:, i] == member[:, j], 1.0, -1.0)
        columns.append(sign * pair_weight[others])
    pair_interaction = np.column_stack(columns) if columns else np.zeros((len(masks), 0))
    return Design(k, masks, shapley, _main_effect(masks, k), pair_interaction, exact=True)


def sampled(k: int, permutations: int, rng: np.random.Generator) -> Design:
    """A design estimating Shapley values from random orderings of the factors (Castro et al. 2009).

    Each ordering switches the factors one by one from the base to the alternative;
    a factor's estimate is the mean change its switch makes. Orderings come in
    antithetic pairs, each with its reverse (Mitchell et al. 2022), which lowers the
    variance when a factor matters more early than late, or the reverse. The estimates
    are unbiased and add up to ``v(all) - v(none)`` exactly.

    Parameters
    ----------
    k : int
        Number of factors, 1 to :data:`MAX_FACTORS`.
    permutations : int
        Orderings to sample: even, at least 2.
    rng : numpy.random.Generator

    Returns
    -------
    Design
        ``pair_interaction`` is None.

    Raises
    ------
    ValueError
        If ``permutations`` is odd or below 2.
    """
    _check(k)
    if permutations < 2 or permutations % 2:
        raise ValueError(f"expected an even number of permutations, at least 2 (they come in antithetic pairs), got {permutations}")
    drawn = np.array([rng.permutation(k) for _ in range(permutations // 2)])
    orders = np.concatenate([drawn, drawn[:, ::-1]])
    bits = np.int64(1) << orders.astype(np.int64)
    prefixes = np.concatenate([np.zeros((permutations, 1), dtype=np.int64), np.cumsum(bits, axis=1)], axis=1)
    masks = np.unique(np.concatenate([prefixes.ravel(), np.int64(1) << np.arange(k, dtype=np.int64)]))
    before = np.searchsorted(masks, prefixes[:, :-1]).ravel()
    after = np.searchsorted(masks, prefixes[:, 1:]).ravel()
    factor = orders.ravel()
    shapley = np.zeros((len(masks), k))
    np.add.at(shapley, (after, factor), 1.0 / permutations)
    np.add.at(shapley, (before, factor), -1.0 / permutations)
    return Design(k, masks, shapley, _main_effect(masks, k), None, exact=False, permutations=permutations)
