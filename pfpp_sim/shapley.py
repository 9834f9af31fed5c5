"""Shapley values of a game known by its values on coalitions: exact, or sampled over permutations.

Here a *game* is one outcome of a model run as a function of which factors take the
alternative scenario's value. A coalition is a bit mask (bit ``i`` set: factor ``i``
switched to the alternative's value); the empty coalition is the base scenario and the
full one the alternative. A :class:`Design` holds the coalitions to evaluate and turns
their values into estimates::

    contributions = design.shapley_values(values)   # values: (..., len(design.masks))

Applied to the runs of one replicate at a time (common random numbers: every coalition
of a replicate sees the same random streams), the per-replicate estimates can then be
averaged over replicates with a confidence interval.

Every estimate is a weighted sum of *differences* between coalition values, never of
the values themselves: a factor that changes nothing makes every one of its differences
exactly zero, so it gets exactly 0, not a rounding residue of large numbers.
The Shapley values of a replicate add up to ``v(all) - v(none)`` (to rounding), whether
exact or sampled: each sampled ordering's marginal contributions telescope to that total.
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
    """Coalitions to evaluate and how their values give each estimate.

    Attributes
    ----------
    k : int
        Number of factors.
    masks : ndarray of int64, shape (n,)
        Coalitions to evaluate, sorted; always the empty and the full coalition and every
        single factor.
    marginal : ndarray of intp, shape (t, 2)
        Positions in ``masks`` of a coalition with a factor and the same without it.
    shapley : ndarray of float64, shape (t, k)
        Weight of each marginal difference in each factor's Shapley value.
    pair_terms : ndarray of intp, shape (u, 4), or None
        Positions of ``S + i + j``, ``S + i``, ``S + j`` and ``S`` (exact designs only).
    pair_weights : ndarray of float64, shape (u, k * (k - 1) / 2), or None
        Weight of each second difference in each pair's interaction index, pairs in
        :func:`pairs` order.
    exact : bool
        False for a sampled estimate.
    permutations : int
        Orderings sampled (0 for an exact design).
    """

    k: int
    masks: np.ndarray
    marginal: np.ndarray
    shapley: np.ndarray
    pair_terms: np.ndarray | None
    pair_weights: np.ndarray | None
    exact: bool
    permutations: int = 0

    def _at(self, masks) -> np.ndarray:
        return np.searchsorted(self.masks, masks)

    def totals(self, values: np.ndarray) -> np.ndarray:
        """``v(all) - v(none)``, shape ``values.shape[:-1]``."""
        return values[..., self._at((1 << self.k) - 1)] - values[..., 0]

    def shapley_values(self, values: np.ndarray) -> np.ndarray:
        """Each factor's Shapley value (exact, or the sampled estimate), shape (..., k)."""
        return (values[..., self.marginal[:, 0]] - values[..., self.marginal[:, 1]]) @ self.shapley

    def main_effects(self, values: np.ndarray) -> np.ndarray:
        """``v({i}) - v(none)``: each factor switched alone from the base, shape (..., k)."""
        return values[..., self._at(np.int64(1) << np.arange(self.k, dtype=np.int64))] - values[..., :1]

    def interactions(self, values: np.ndarray) -> np.ndarray:
        """Each factor's interaction share, Shapley value minus main effect, shape (..., k)."""
        return self.shapley_values(values) - self.main_effects(values)

    def pair_interactions(self, values: np.ndarray) -> np.ndarray | None:
        """Shapley interaction index of each pair (Grabisch 1997), shape (..., k(k-1)/2); None if sampled."""
        if self.pair_terms is None:
            return None
        t = self.pair_terms
        second = (values[..., t[:, 0]] - values[..., t[:, 1]]) - (values[..., t[:, 2]] - values[..., t[:, 3]])
        return second @ self.pair_weights


def pairs(k: int) -> list[tuple[int, int]]:
    """The pairs of factors ``(i, j)``, ``i < j``, in the column order of pair interactions."""
    return list(itertools.combinations(range(k), 2))


def _check(k: int) -> None:
    if not 1 <= k <= MAX_FACTORS:
        raise ValueError(f"expected 1 to {MAX_FACTORS} factors, got {k}")


def _with_singles(masks: np.ndarray, k: int) -> np.ndarray:
    return np.unique(np.concatenate([masks, [0, (1 << k) - 1], np.int64(1) << np.arange(k, dtype=np.int64)]).astype(np.int64))


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
    size = np.array([m.bit_count() for m in range(1 << k)])
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)])
    rows, factors, shapley_weight = [], [], []
    for i in range(k):
        without = masks[(masks >> i & 1) == 0]
        rows.append(np.column_stack([without | (1 << i), without]))
        factors.append(np.full(len(without), i))
        shapley_weight.append(weight[size[without]])
    marginal = np.concatenate(rows)
    shapley = np.zeros((len(marginal), k))
    shapley[np.arange(len(marginal)), np.concatenate(factors)] = np.concatenate(shapley_weight)
    pair_weight = np.array([math.factorial(t) * math.factorial(k - t - 2) / math.factorial(k - 1) for t in range(max(k - 1, 0))])
    terms, columns, pair_w = [], [], []
    for p, (i, j) in enumerate(pairs(k)):
        neither = masks[((masks >> i & 1) == 0) & ((masks >> j & 1) == 0)]
        terms.append(np.column_stack([neither | (1 << i) | (1 << j), neither | (1 << i), neither | (1 << j), neither]))
        columns.append(np.full(len(neither), p))
        pair_w.append(pair_weight[size[neither]])
    pair_terms = np.concatenate(terms) if terms else np.zeros((0, 4), dtype=np.int64)
    pair_weights = np.zeros((len(pair_terms), len(pairs(k))))
    if terms:
        pair_weights[np.arange(len(pair_terms)), np.concatenate(columns)] = np.concatenate(pair_w)
    return Design(k, masks, marginal, shapley, pair_terms, pair_weights, exact=True)


def sampled(k: int, permutations: int, rng: np.random.Generator) -> Design:
    """A design estimating Shapley values from random orderings of the factors (Castro et al. 2009).

    Each ordering switches the factors one by one from the base to the alternative;
    a factor's estimate is the mean change its switch makes. Orderings come in
    antithetic pairs, each with its reverse (Mitchell et al. 2022), which lowers the
    variance when a factor matters more early than late, or the reverse. The estimates
    are unbiased and add up to ``v(all) - v(none)``. Main effects are exact (every single
    factor is evaluated); pair interactions are not estimated.

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
    masks = _with_singles(prefixes.ravel(), k)
    marginal = np.column_stack([np.searchsorted(masks, prefixes[:, 1:]).ravel(), np.searchsorted(masks, prefixes[:, :-1]).ravel()])
    shapley = np.zeros((len(marginal), k))
    shapley[np.arange(len(marginal)), orders.ravel()] = 1.0 / permutations
    return Design(k, masks, marginal, shapley, None, None, exact=False, permutations=permutations)
