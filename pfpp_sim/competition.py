"""Competitive rounds: what a bid costs, and a fixed pot shared among the best bids (M3).

A department runs each competitive grant of a round as one competition with a fixed
pot: the competitive part of the programme's budget over the run's places. Councils
bid for a project of a realistic size (their formula-equivalent share grossed up by the
expected success rate) and pay for the bid whether or not it wins. The department
ranks the bids and funds them in order until the pot is spent; what no bid claims is
not awarded.
"""

from __future__ import annotations

import numpy as np

__all__ = ["award_pot", "bid_cost_p"]


def bid_cost_p(ask_p: int, *, typical_cost_gbp: float, typical_scheme_gbp: float, elasticity: float) -> int:
    """M3: what a bid costs the council, growing less than in proportion to what it asks for.

    ``cost = typical_cost x (ask / typical_scheme) ** elasticity``: a bid for the typical
    scheme costs the typical bid cost (E60); with an elasticity below 1 (E61: 0.7-1.9% of
    a GBP 5m scheme, 0.2-0.4% of a GBP 100m one) a small council's small bid costs it a
    larger share of what it asks for than a large council's.

    Parameters
    ----------
    ask_p : int
        Value of the bid, pence.
    typical_cost_gbp : float
        Cost of a bid for the typical scheme, GBP.
    typical_scheme_gbp : float
        Value of the typical scheme, GBP (> 0).
    elasticity : float
        Proportional rise in cost per proportional rise in the value asked for.

    Returns
    -------
    int
        Pence.
    """
    if ask_p <= 0:
        return 0
    return int(round(typical_cost_gbp * 100 * (ask_p / (typical_scheme_gbp * 100)) ** elasticity))


def award_pot(asks_p: np.ndarray, scores: np.ndarray, *, pot_p: int) -> np.ndarray:
    """M3: fund bids in order of score until a round's fixed pot is spent.

    The best-scored bid is funded in full, then the next, and so on; the bid that the
    money left cannot fund in full gets what is left (the department scales it down),
    and the bids after it fail. The total awarded is ``min(pot_p, asks_p.sum())``
    whoever wins, so a department's spend does not depend on the draw of scores.

    Parameters
    ----------
    asks_p : ndarray of int64, shape (n_bids,)
        What each bid asks for, pence.
    scores : ndarray of float64, shape (n_bids,)
        Assessment score of each bid; higher is better, ties go to the earlier bid.
    pot_p : int
        Money the round has to award, pence.

    Returns
    -------
    ndarray of int64, shape (n_bids,)
        Pence awarded to each bid (0 for a bid that fails).

    Raises
    ------
    ValueError
        If there is not one score per bid.
    """
    asks_p = np.asarray(asks_p, dtype=np.int64)
    if np.shape(scores) != asks_p.shape:
        raise ValueError(f"expected one score per bid: {asks_p.size} bids, {np.size(scores)} scores")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    funded_before = np.cumsum(asks_p[order]) - asks_p[order]
    grants = np.zeros_like(asks_p)
    grants[order] = np.clip(pot_p - funded_before, 0, asks_p[order])
    return grants
