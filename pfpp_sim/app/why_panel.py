"""The 'Why do the two sides differ?' panel as HTML: a waterfall per shown value, and how it was worked out.

Reads a :class:`~pfpp_sim.app.why.Why`. Each waterfall goes from the siloed side's value
to your side's, one bar per change ranked by size (its Shapley value), with what the
change does alone and its share of interactions underneath; changes with no effect on a
value are named in one line. The panel says how many runs it used, whether the split is
exact or estimated, and that one history has no confidence interval.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from pfpp_sim.app.charts import Step, waterfall_chart
from pfpp_sim.app.narrative import money, month_label
from pfpp_sim.app.session import SHOWN_RATES
from pfpp_sim.app.why import METRICS, Why

__all__ = ["panel_html", "signed"]


def signed(metric: str, value: float) -> str:
    """A difference as the room reads it: ``+0.15 pp`` for a rate, ``-£29,660`` or ``+£1.47m`` for money."""
    sign = "+" if value > 0 else "-" if value < 0 else ""
    if metric in SHOWN_RATES:
        return f"{sign}{abs(value):.2f} pp"
    return f"{sign}{money(abs(value))}"


def _level(metric: str, value: float) -> str:
    return f"{value:.2f}%" if metric in SHOWN_RATES else money(value)


def _method(why: Why, place: str, when: str) -> str:
    k = len(why.factors)
    runs = f"{why.runs:,} runs of {place} to {when}"
    same = "all on the same random numbers as the two sides"
    if not why.exact:
        how = (
            f"Estimated from {why.permutations} random orderings of the {k} changes, each with its reverse ({runs}, {same}): "
            f"every combination would take {(1 << k) - 2:,} runs, too many for the room to wait for at this month. Each bar is the "
            "change's effect averaged over those orderings, an estimate of its Shapley value (exact when changes interact only in pairs)."
        )
    else:
        others = f" and in {why.replicates - 1} other histories (other random numbers)" if why.replicates > 1 else ""
        how = (
            f"Worked out from {runs}: the siloed baseline with every combination of the {k} change{'s' if k > 1 else ''}{others}, "
            f"{same}. Each bar is the change's Shapley value: its effect averaged over every order in which the changes could be made."
        )
    if why.replicates > 1:
        spread = (
            f" The ranges are the lowest and highest over the {why.replicates} histories, the one shown and {why.replicates - 1} others: "
            "a sense of luck, not a confidence interval."
        )
    else:
        spread = " One run of each is one possible history, so there is no confidence interval."
    return (
        f"{how} The bars add up to the difference on the charts; <b>interactions</b> are the part of a change's effect that "
        f"depends on the other changes.{spread} For figures to quote, use <code>pfpp explain</code> with replicates. "
        f"Took {why.seconds:.1f} s."
    )


def _metric_html(why: Why, i: int, metric: str, title: str, when: str) -> str:
    difference = float(why.difference[i])
    contribution, alone, interaction = why.contribution[i], why.alone[i], why.interaction[i]
    heading = f"{title}: {signed(metric, difference)}"
    if difference == 0 and not contribution.any():
        return f"<div class='pfpp-why-metric'><b>{escape(heading)}</b><p>No difference by {escape(when)}.</p></div>"
    order = sorted((j for j in range(len(why.factors)) if contribution[j] != 0), key=lambda j: -abs(contribution[j]))
    steps = []
    for j in order:
        detail = f"alone {signed(metric, alone[j])} · interactions {signed(metric, interaction[j])}"
        if why.spread is not None:
            low, high = why.spread[i, j]
            detail += f" · {why.replicates} histories: {signed(metric, low)} to {signed(metric, high)}"
        steps.append(Step(why.factors[j][0], detail, float(contribution[j]), signed(metric, contribution[j])))
    chart = waterfall_chart(
        heading,
        ("Siloed baseline", float(why.left[i]), _level(metric, why.left[i])),
        steps,
        ("Your settings", float(why.right[i]), _level(metric, why.right[i])),
        classes=f"pfpp-why-chart pfpp-why-chart-{metric}",
    )
    notes = []
    if len(why.factors) > 1:
        notes.append(
            f"Interactions: {signed(metric, interaction.sum())} of the difference comes from changes acting together; "
            f"alone, the changes add up to {signed(metric, alone.sum())}."
        )
    if why.spread is not None:
        low, high = why.spread[i, -1]
        notes.append(f"The difference itself: {signed(metric, low)} to {signed(metric, high)} over the {why.replicates} histories.")
    idle = [why.factors[j][0] for j in range(len(why.factors)) if contribution[j] == 0]
    if idle:
        notes.append(f"No effect on this by {when}: {', '.join(idle)}.")
    return f"<div class='pfpp-why-metric'>{chart}<p>{escape(' '.join(notes))}</p></div>"


def panel_html(why: Why, *, place: str, dates: pd.DatetimeIndex) -> str:
    """The panel for one explanation, as HTML.

    Parameters
    ----------
    why : Why
    place : str
        The place's name, e.g. ``"Hastings"``.
    dates : DatetimeIndex
        Calendar month of each month index (``PfppModel.exo.dates``).

    Returns
    -------
    str
    """
    when = month_label(why.month - 1, dates)
    heading = f"<h3>Why do the two sides differ? {escape(place)}, {escape(when)}</h3>"
    if not why.factors:
        return (
            f"<div class='pfpp-why'>{heading}<p class='pfpp-why-none'>The two sides are the same: same place, residents, random "
            "numbers and settings, so there is nothing to explain. Move a lever, or press a preset other than "
            "<i>Siloed baseline</i>.</p></div>"
        )
    changes = "; ".join(f"<b>{escape(name)}</b> {escape(change)}" for name, change in why.factors)
    k = len(why.factors)
    intro = f"<p>Your side differs from the siloed baseline in {k} change{'s' if k > 1 else ''}: {changes}.</p>"
    charts = "".join(_metric_html(why, i, metric, title, when) for i, (metric, title) in enumerate(METRICS.items()))
    method = f"<p class='pfpp-why-method'>{_method(why, escape(place), escape(when))}</p>"
    return f"<div class='pfpp-why'>{heading}{intro}<div class='pfpp-why-charts'>{charts}</div>{method}</div>"
