"""The data on screen as a CSV file: both sides' charts and cards month by month, the difference strip and the causes of the money.

One tidy table, a row per side, month and figure, so it opens in a spreadsheet as it
is or pivots in pandas. It holds what the page shows at the month on screen and nothing
else: each chart's line up to that month (the last month is the cards), the strip's
differences at that month, and the counts of :mod:`pfpp_sim.app.causes`. Every row
names the place, seed, scale, preset and levers changed, and the link
(:func:`pfpp_sim.app.address.address`) that shows the same thing in the app.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pfpp_sim.app.address import address
from pfpp_sim.app.causes import money_causes
from pfpp_sim.app.differences import differences
from pfpp_sim.app.session import SHOWN_RATES, Settings, changed_levers, lever_text, money_to_date, pilot_places, rate_series
from pfpp_sim.app.sides import Now
from pfpp_sim.model import PfppModel

__all__ = ["COLUMNS", "SERIES", "export_csv", "export_name", "export_table"]

COLUMNS = (
    "place_code", "place", "seed", "scale", "preset", "levers_changed", "link",
    "side", "month", "date", "metric", "unit", "value",
)
"""Columns of the table, in order. ``side`` is ``siloed``, ``yours`` or ``yours_minus_siloed``."""
SERIES = {
    **{name: "percent" for name in SHOWN_RATES},
    **{name: "GBP to date" for name in ("allocated_gbp", "delivered_gbp", "overhead_gbp", "returned_gbp", "duplicated_gbp")},
    "mobilisation_months_lost": "team-months to date",
}
"""Figures given month by month for each side: the rate charts (this month) and the money chart and cards (to date)."""


def _series(model: PfppModel) -> dict[str, np.ndarray]:
    found = {**rate_series(model), **money_to_date(model)}
    found["allocated_gbp"] = np.cumsum([float(r["allocated_gbp"][0]) for r in model.records], dtype=np.float64)
    return {name: found[name] for name in SERIES}


def export_table(now: Now) -> pd.DataFrame:
    """What the page shows for ``now``, as one tidy table.

    Parameters
    ----------
    now : Now
        From :meth:`pfpp_sim.app.sides.Sides.reading`, whose lock must still be held.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`. For each side (``siloed``, ``yours``) and month from 1 to the
        month on screen, each of :data:`SERIES` (``date`` the first of that month); at the
        month on screen, the difference strip (side ``yours_minus_siloed``, in the strip's
        units) and, for each side, each cause's count (metric ``cause_<key>_count``) and
        money (``cause_<key>_gbp``, where the cause has an amount). Empty of rows at month 0.
    """
    settings: Settings = now.settings
    month, dates = now.month, now.left.exo.dates
    rows = []
    for side, model in (("siloed", now.left), ("yours", now.right)):
        for name, values in _series(model).items():
            rows += [(side, i + 1, dates[i], name, SERIES[name], float(v)) for i, v in enumerate(values)]
    if month:
        when = dates[month - 1]
        rows += [("yours_minus_siloed", month, when, d.key, d.unit, float(d.value)) for d in differences(now.left, now.right)]
        for side, model in (("siloed", now.left), ("yours", now.right)):
            for key, cause in money_causes(model).items():
                rows.append((side, month, when, f"cause_{key}_count", "count", float(cause.count)))
                if cause.amount_gbp is not None:
                    rows.append((side, month, when, f"cause_{key}_gbp", "GBP", float(cause.amount_gbp)))
    table = pd.DataFrame(rows, columns=["side", "month", "date", "metric", "unit", "value"])
    table["date"] = pd.to_datetime(table["date"]).dt.strftime("%Y-%m-%d")
    run = {
        "place_code": settings.place,
        "place": dict(pilot_places())[settings.place],
        "seed": settings.seed,
        "scale": settings.scale,
        "preset": settings.preset,
        "levers_changed": "; ".join(f"{name}={lever_text(name, getattr(settings.levers, name))}" for name in changed_levers(settings)),
        "link": "?" + address(settings, month),
    }
    for i, (column, value) in enumerate(run.items()):
        table.insert(i, column, value)
    return table[list(COLUMNS)]


def export_csv(now: Now) -> str:
    """:func:`export_table` as CSV text (UTF-8, a header row, full precision)."""
    return export_table(now).to_csv(index=False, lineterminator="\n")


def export_name(settings: Settings, month: int, kind: str) -> str:
    """A file name naming what was exported: ``pfpp-hastings-seed1-pfpp_joined_up-month27-data.csv``.

    Parameters
    ----------
    settings : Settings
    month : int
    kind : {"data.csv", "charts.png"}

    Returns
    -------
    str
    """
    place = re.sub(r"[^a-z0-9]+", "-", dict(pilot_places())[settings.place].lower()).strip("-")
    return f"pfpp-{place}-seed{settings.seed}-{settings.preset}-month{month}-{kind}"
