"""Delivery teams: first delivery, the ramp up to steady delivery, and what a team can deliver in a month (M6).

A team is sized when it is mobilised for an award: its steady monthly capacity is the
award's planned monthly spend times a headroom (``team_headroom``). A new team first
delivers some months after the award and reaches its steady rate later (E68: about a
year after award for a retrofit team built from nothing); a team kept on from earlier
funding delivers at its steady rate at once. Capacity caps every order, so money that
arrives late, carry-over and the rush before a deadline can only be spent as fast as the
team can deliver.

These are the rules; a month's orders apply them in one compiled pass over the ledger's
lines (:func:`pfpp_sim.agents.council.order_lines`), checked against them in
``tests/test_ledger.py``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["capacity_share", "monthly_order_p"]


def capacity_share(month: int, ready: np.ndarray, steady: np.ndarray) -> np.ndarray:
    """M6: share of its steady capacity each team can deliver in ``month``.

    Nothing before ``ready`` (its first delivery month), rising linearly to all of it in
    ``steady`` (the month steady delivery is reached, never before ``ready``; ``steady ==
    ready`` means no ramp).

    Parameters
    ----------
    month : int
    ready, steady : ndarray of int64, shape (n,)
        Each team's first delivery month and the month it reaches its steady rate.

    Returns
    -------
    ndarray of float64, shape (n,)

    Examples
    --------
    >>> capacity_share(np.arange(1, 6), ready=2, steady=5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    ramp = (month - ready + 1) / (steady - ready + 1)
    return np.where(month < ready, 0.0, np.where(month >= steady, 1.0, ramp))


def monthly_order_p(held_p: np.ndarray, plan_p: np.ndarray, *, headroom: float, share: np.ndarray, rush: np.ndarray) -> np.ndarray:
    """M6: pence of delivery each team orders this month.

    The council orders its plan, or in the rush before a deadline all it holds; the team
    delivers at most its capacity (``plan x headroom x share``, in whole pence rounded
    down) and never more than is held.

    Parameters
    ----------
    held_p : ndarray of int64, shape (n,)
        Money each award line holds for its intervention, pence.
    plan_p : ndarray of int64, shape (n,)
        Planned monthly spend each team was sized for, pence.
    headroom : float
        Steady capacity as a multiple of the plan.
    share : ndarray of float64, shape (n,)
        Share of steady capacity reached (:func:`capacity_share`).
    rush : ndarray of bool, shape (n,)
        True in the last months before a deadline.

    Returns
    -------
    ndarray of int64, shape (n,)
        Pence, from 0 to ``held_p``.
    """
    capacity_p = np.asarray(plan_p * headroom * share).astype(np.int64)
    wanted_p = np.where(rush, held_p, plan_p)
    return np.maximum(0, np.minimum(np.minimum(held_p, wanted_p), capacity_p))
