"""Why the money differs: what happened to one side's money over the whole run so far, counted.

The difference strip says *how much* more money your side was awarded, delivered or
handed back; this table says *why*, from what the run recorded since its first month
(not only the last six months the narrative shows): by which route money was awarded
(formula, bidding, the pooled budget), how often a bid window was missed because the
council had not yet found the department's team, how much competitive money was left
unawarded and for what reason, how often streams were discontinued, and how much was
clawed back at deadlines.

Everything is read from the run's award ledgers (:attr:`PfppModel.awards`), its events
(:attr:`PfppModel.events`, recognised by :func:`pfpp_sim.app.narrative.happenings`) and
its monthly records. Unawarded competitive money is put down to the place's own event
for the same stream in the same month (a missed window, a failed bid, or neither: no
bid was made because it would have cost more than it was expected to win), which is
exact for a run of one place, as the app's are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from pfpp_sim.app.narrative import happenings, money
from pfpp_sim.model import PfppModel

__all__ = ["ALWAYS_SHOWN", "CAUSES", "Cause", "causes_html", "event_causes", "money_causes"]

CAUSES = {
    "awarded": "Money awarded",
    "formula": "by formula, without a bid",
    "won": "won by bidding",
    "pooled": "through the pooled budget",
    "carried_in": "held from grants made before the run",
    "missed_window": "Bid windows missed: no team found yet in the department",
    "bid_failed": "Bids that failed",
    "bid_scaled_down": "Bids scaled down: the pot ran out",
    "not_bid": "Competitions not entered: the bid would cost more than it could win",
    "bids": "Spent on bids, won or lost",
    "discontinued": "Streams discontinued: a new team to find",
    "clawback": "Clawed back at deadlines",
}
"""Each row of the table, in order, as the room reads it; the first five say how money was awarded."""
ROUTES = ("formula", "won", "pooled", "carried_in")
ALWAYS_SHOWN = ("awarded", "missed_window", "clawback")
"""Rows shown even when nothing of the kind has happened on either side; the others appear once it has."""


@dataclass(frozen=True)
class Cause:
    """One row for one side: how many times it happened and the money involved (GBP, real scale).

    ``count`` counts awards, events or bids (see :func:`money_causes`); ``amount_gbp``
    is None where the run records no amount (a failed bid costs its bid, counted in
    ``bids``; a discontinued stream costs time, not money).
    """

    key: str
    label: str
    count: int
    amount_gbp: float | None

    @property
    def text(self) -> str:
        """``3 · £595,100``, or ``3`` where there is no amount, or ``none``."""
        if self.count == 0 and not self.amount_gbp:
            return "none"
        return f"{self.count:,}" if self.amount_gbp is None else f"{self.count:,} · {money(self.amount_gbp)}"


def money_causes(model: PfppModel) -> dict[str, Cause]:
    """What happened to a run's money from its first month to the month it has reached, counted.

    Parameters
    ----------
    model : PfppModel
        A run of one place (the app's).

    Returns
    -------
    dict of str to Cause
        By key of :data:`CAUSES`, in its order:

        - ``awarded``: awards made and money awarded to date, the flow diagrams' "awarded
          so far"; ``formula``, ``won``, ``pooled`` and ``carried_in`` split it by route
          (siloed awards not bid for, siloed awards won in a competition, pooled awards,
          and the grants made before the run still holding money at its start).
        - ``missed_window``, ``bid_failed``, ``not_bid``: times each happened, and the
          competitive money left unawarded because of it.
        - ``bid_scaled_down``: bids won for less than was asked, and what they won.
        - ``bids``: bids made and what they cost the council, won or lost.
        - ``discontinued``: streams discontinued (no amount).
        - ``clawback``: clawbacks at deadlines and the money clawed back, from the award
          ledgers to the penny (the *Returned* card; events round it to the pound).

    Raises
    ------
    ValueError
        If the run has more than one place: unawarded pots could not be put down to one.
    """
    if len(model.population.places.codes) != 1:
        raise ValueError(f"expected a run of one place, as the app's are; this run has {len(model.population.places.codes)}")
    routes = {route: [0, 0] for route in ROUTES}  # awards, pence
    for award in model.awards:
        route = "carried_in" if award.round < 0 else "pooled" if award.pooled else "won" if award.competitive else "formula"
        routes[route][0] += 1
        routes[route][1] += award.allocated_p
    counts, amounts = event_causes(model.events)
    bids = int(round(sum(float(r["bids"][0]) for r in model.records)))
    bid_cost = sum(float(r["bid_cost_gbp"][0]) for r in model.records)
    found = {
        "awarded": Cause("awarded", CAUSES["awarded"], sum(n for n, _ in routes.values()), sum(p for _, p in routes.values()) / 100),
        **{route: Cause(route, CAUSES[route], n, p / 100) for route, (n, p) in routes.items()},
        **{kind: Cause(kind, CAUSES[kind], counts[kind], amounts[kind]) for kind in ("missed_window", "bid_failed", "bid_scaled_down", "not_bid")},
        "bids": Cause("bids", CAUSES["bids"], bids, bid_cost),
        "discontinued": Cause("discontinued", CAUSES["discontinued"], counts["discontinued"], None),
        "clawback": Cause("clawback", CAUSES["clawback"], counts["clawback"], sum(a.returned_p for a in model.awards) / 100),
    }
    return {key: found[key] for key in CAUSES}


def event_causes(events: Sequence[tuple[int, str]]) -> tuple[dict[str, int], dict[str, float]]:
    """How often each cause happened in a one-place run's events, and the money involved.

    Competitive money a department left unawarded is put down to the place's own event
    for the same stream in the same month that came before it: a missed window or a
    failed bid, else ``not_bid`` (no bid was made: it would have cost more than it was
    expected to win). A bid scaled down won the pot, so an unawarded pot after it in the
    same month has another cause.

    Parameters
    ----------
    events : sequence of (int, str)
        ``PfppModel.events`` of a run of one place.

    Returns
    -------
    counts : dict of str to int
        Times each of ``missed_window``, ``bid_failed``, ``bid_scaled_down``, ``not_bid``
        (competitions left unawarded for no event of the place), ``discontinued`` and
        ``clawback`` happened.
    amounts : dict of str to float
        GBP: the unawarded money put down to ``missed_window``, ``bid_failed`` and
        ``not_bid``, the money won by scaled-down bids and the money clawed back.
    """
    counts = dict.fromkeys(("missed_window", "bid_failed", "bid_scaled_down", "not_bid", "discontinued", "clawback"), 0)
    amounts = dict.fromkeys(("missed_window", "bid_failed", "bid_scaled_down", "not_bid", "clawback"), 0.0)
    last = {}  # (month, department, programme) -> the place's missed window or failed bid not yet matched to a pot
    for h in happenings(events):
        key = (h.month, h.department, h.programme)
        if h.kind in ("missed_window", "bid_failed"):
            counts[h.kind] += 1
            last[key] = h.kind
        elif h.kind == "bid_scaled_down":
            counts[h.kind] += 1
            amounts[h.kind] += h.amount_gbp
            last.pop(key, None)
        elif h.kind == "not_awarded":
            why = last.pop(key, "not_bid")
            amounts[why] += h.amount_gbp
            if why == "not_bid":
                counts[why] += 1
        elif h.kind == "discontinued":
            counts[h.kind] += 1
        elif h.kind == "clawback":
            counts[h.kind] += 1
            amounts[h.kind] += h.amount_gbp
    return counts, amounts


_NOTES = {
    **dict.fromkeys(("awarded", *ROUTES), "awards · money"),
    "missed_window": "times · competitive money left unawarded",
    "bid_failed": "bids · money left unawarded",
    "bid_scaled_down": "bids · money won",
    "not_bid": "competitions · money left unawarded",
    "bids": "bids made · their cost",
    "discontinued": "streams",
    "clawback": "times · money clawed back",
}


def causes_html(left: dict[str, Cause], right: dict[str, Cause], *, period: str) -> str:
    """Both sides' causes as one table: a row per cause, the siloed side then yours.

    Parameters
    ----------
    left, right : dict of str to Cause
        :func:`money_causes` of the siloed side and of yours, at the same month.
    period : str
        The months counted, e.g. ``"April 2021 to June 2023"``.

    Returns
    -------
    str
        A ``<table>`` whose rows have class ``pfpp-cause-<key>`` and cells
        ``pfpp-cause-siloed`` and ``pfpp-cause-yours``: a row for each of
        :data:`ALWAYS_SHOWN`, and one for each other cause that happened on either side.
    """
    shown = [key for key in CAUSES if key in ALWAYS_SHOWN or left[key].count or right[key].count]
    rows = [
        f"<tr class='pfpp-cause-{key}{' pfpp-cause-route' if key in ROUTES else ''}'>"
        f"<th scope='row'>{escape(CAUSES[key])}<span class='pfpp-cause-note'>{escape(_NOTES.get(key, ''))}</span></th>"
        f"<td class='pfpp-cause-siloed'>{escape(left[key].text)}</td><td class='pfpp-cause-yours'>{escape(right[key].text)}</td></tr>"
        for key in shown
    ]
    return (
        f"<table class='pfpp-causes-table'><caption>Why the money differs: what happened, {escape(period)}</caption>"
        "<thead><tr><th scope='col'></th><th scope='col' class='pfpp-cause-siloed'>Siloed baseline</th>"
        "<th scope='col' class='pfpp-cause-yours'>Your settings</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
