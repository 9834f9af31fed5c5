"""Delivery teams: first delivery, the ramp up to steady delivery, and what a team can deliver in a month (M6).

A team is sized when it is mobilised for an award: its steady monthly capacity is the
award's planned monthly spend times a headroom (``team_headroom``). A new team first
delivers some months after the award and reaches its steady rate later (E68: about a
year after award for a retrofit team built from nothing); a team kept on from earlier
funding delivers at its steady rate at once. Capacity caps every order, so money that
arrives late, carry-over and the rush before a deadline can only be spent as fast as the
team can deliver.
"""

from __future__ import annotations

__all__ = ["capacity_share", "monthly_order_p"]


def capacity_share(month: int, ready: int, steady: int) -> float:
    """M6: share of its steady capacity a team can deliver in ``month``.

    Nothing before ``ready`` (its first delivery month), rising linearly to all of it in
    ``steady`` (the month steady delivery is reached; ``steady == ready`` means no ramp).

    Examples
    --------
    >>> [capacity_share(t, ready=2, steady=5) for t in (1, 2, 3, 4, 5)]
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if month < ready:
        return 0.0
    if month >= steady:
        return 1.0
    return (month - ready + 1) / (steady - ready + 1)


def monthly_order_p(held_p: int, plan_p: int, *, headroom: float, share: float, rush: bool) -> int:
    """M6: pence of delivery a team orders this month.

    The council orders its plan, or in the rush before a deadline all it holds; the team
    delivers at most its capacity (``plan x headroom x share``) and never more than is held.

    Parameters
    ----------
    held_p : int
        Money the award holds for the intervention, pence.
    plan_p : int
        Planned monthly spend the team was sized for, pence.
    headroom : float
        Steady capacity as a multiple of the plan.
    share : float
        Share of steady capacity reached (:func:`capacity_share`).
    rush : bool
        True in the last months before a deadline.

    Returns
    -------
    int
        Pence, from 0 to ``held_p``.
    """
    capacity_p = int(plan_p * headroom * share)
    wanted_p = held_p if rush else plan_p
    return max(0, min(held_p, wanted_p, capacity_p))
