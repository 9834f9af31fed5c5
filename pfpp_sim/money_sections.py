"""The report's sections on money: where awarded money went, and how it flowed from departments to outcomes.

Built from a results folder's ``awards.parquet`` and ``spending.parquet`` (means over
replicates, all places together); :mod:`pfpp_sim.report` places them in the page.
"""

from __future__ import annotations

import pandas as pd

from pfpp_sim import charts
from pfpp_sim.app.flows import funding_flows
from pfpp_sim.funding import Award, to_pence
from pfpp_sim.scenario import INTERVENTION_KEYS
from pfpp_sim.sections import Section

__all__ = ["flow_section", "money_section"]


def money_section(awards: pd.DataFrame, replicates: int, scenarios: list[str]) -> Section:
    """Where awarded money went, per scenario: a waterfall from allocated to delivered (``awards.parquet``)."""
    columns = [c for c, _, _ in charts.WATERFALL_STEPS]
    money = awards.groupby("scenario")[columns].sum().reindex(scenarios) / replicates
    alt = (
        "Waterfall chart per scenario, GBP millions over the whole run: "
        + "; ".join(
            f"{s}: " + ", ".join(f"{label.lower()} £{money.at[s, c] / 1e6:,.1f}m" for c, label, _ in charts.WATERFALL_STEPS)
            for s in scenarios
        )
        + "."
    )
    body = (
        "<p>Money awarded to councils (mean over replicates, all places): grant overhead is top-sliced for reporting and governance, "
        "unspent money is clawed back at deadlines, some is still held when the run ends, and the rest is delivered. "
        "Bid, recruitment and pooled-governance costs, and the cost of the levers in use, are paid outside the awards. "
        "Money that awards made before the run still held at its start is counted as awarded in month 0.</p>"
    )
    return Section("Where the money went", body, [("waterfall", alt, charts.waterfall_chart(money))])


def _programme_ledgers(awards: pd.DataFrame, spending: pd.DataFrame, replicates: int) -> list[Award]:
    """One ledger per department and programme: all places together, mean over replicates, in pence."""
    money = awards.groupby(["department", "programme"])[["allocated_gbp", "grant_overhead_gbp"]].sum() / replicates
    lines = spending.merge(awards[["replicate", "award_id", "department", "programme"]], on=["replicate", "award_id"])
    spent = (
        lines.groupby(["department", "programme", "intervention"])[["delivered_gbp", "returned_gbp", "held_gbp"]].sum()
        / replicates
    )
    ledgers = {}
    for i, ((department, programme), row) in enumerate(money.iterrows()):
        ledgers[(department, programme)] = Award(
            award_id=i,
            programme=programme,
            department=department,
            place=0,
            round=0,
            pooled=department == "pooled",
            competitive=False,
            award_month=0,
            period_start=0,
            deadline=0,
            allocated_p=to_pence(row["allocated_gbp"]),
            overhead_p=to_pence(row["grant_overhead_gbp"]),
        )
    for (department, programme, key), row in spent.iterrows():
        ledger = ledgers[(department, programme)]
        ledger.delivered_by_p[key] = to_pence(row["delivered_gbp"])
        ledger.returned_by_p[key] = to_pence(row["returned_gbp"])
        ledger.held_p[key] = to_pence(row["held_gbp"])
    return list(ledgers.values())


def flow_section(awards: pd.DataFrame, spending: pd.DataFrame, scenarios: list[str], manifest: dict) -> Section:
    """How money flowed, per scenario: department -> programme -> councils -> intervention -> outcome (a Sankey diagram)."""
    section = Section(
        "Funding flows",
        "<p>Money from departments through programmes to the councils (all places together), "
        "the interventions they fund and the outcome domains they serve, as a mean over replicates.</p>",
    )
    n_places = awards["place_code"].nunique()
    for name in scenarios:
        ledgers = _programme_ledgers(
            awards[awards["scenario"] == name], spending[spending["scenario"] == name], manifest["replicates"]
        )
        domains = {k: manifest["scenarios"][name]["parameters"]["interventions"][k]["domain"] for k in INTERVENTION_KEYS}
        nodes, links = funding_flows(ledgers, domains=domains, place_names=[f"{n_places} councils"])
        totals = {
            kind: sum(link.value_p for link in links if link.kind == kind) / 100 for kind in ("delivered", "returned", "overhead")
        }
        allocated = sum(link.value_p for link in links if link.source.startswith("department:")) / 100
        alt = (
            f"Sankey diagram for {name}: money flows from {sum(n.kind == 'department' for n in nodes)} department nodes through "
            f"{sum(n.kind == 'programme' for n in nodes)} programmes to {n_places} councils, then to interventions and outcome domains. "
            f"Allocated £{allocated / 1e6:,.1f}m; delivered £{totals['delivered'] / 1e6:,.1f}m; grant overhead £{totals['overhead'] / 1e6:,.1f}m; "
            f"returned £{totals['returned'] / 1e6:,.1f}m."
        )
        section.figures.append((f"flows_{name}", alt, charts.flow_chart(nodes, links, title=f"{name}: where the money went")))
    return section
