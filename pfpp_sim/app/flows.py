"""Where the money went: a funding-flow (Sankey) graph built from a run's award ledgers.

Columns: department -> programme -> council -> intervention -> outcome domain. Grant
overhead (reporting, governance) leaves at the council; money clawed back and money
still held leave at the intervention. Every link is in whole pence, so each node that
is not a source or a sink balances exactly: what flows in flows out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pfpp_sim.app.narrative import label
from pfpp_sim.funding import Award
from pfpp_sim.scenario import DEPARTMENTS, DOMAINS, INTERVENTION_KEYS

__all__ = ["COLUMNS", "Link", "Node", "fitting_scale", "funding_flows", "layout", "link_bands", "spread_labels"]

COLUMNS = ("Department", "Programme", "Council", "Intervention", "Outcome")
"""Column titles, left to right."""


@dataclass(frozen=True)
class Node:
    """One box of the flow graph.

    ``kind`` is ``"department"``, ``"programme"``, ``"council"``, ``"intervention"``,
    ``"domain"``, ``"overhead"``, ``"returned"`` or ``"held"``; ``column`` indexes
    :data:`COLUMNS`.
    """

    key: str
    label: str
    column: int
    kind: str


@dataclass(frozen=True)
class Link:
    """Money from one node to another, in pence; ``kind`` is the target's kind or ``"allocated"``."""

    source: str
    target: str
    value_p: int
    kind: str


def _order(keys: Iterable[str], preferred: Sequence[str]) -> list[str]:
    rank = {k: i for i, k in enumerate(preferred)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), k))


def funding_flows(
    awards: Iterable[Award],
    *,
    domains: Mapping[str, str],
    place_names: Sequence[str],
) -> tuple[list[Node], list[Link]]:
    """Build the funding-flow graph of a run so far.

    Parameters
    ----------
    awards : iterable of Award
        ``PfppModel.awards``. Pooled awards have department and programme ``"pooled"``.
    domains : mapping of str to str
        Outcome domain of each intervention key (``"fuel_poverty"``, ``"neet"``,
        ``"mental_health"``).
    place_names : sequence of str
        Council names by place index.

    Returns
    -------
    nodes : list of Node
        Nodes that carry money, by column, in a stable order.
    links : list of Link
        Links with a positive value in pence: allocated (department -> programme ->
        council), overhead (council -> overhead), per intervention (council ->
        intervention: delivered + returned + held), delivered (intervention -> domain),
        returned and held (intervention -> sink).
    """
    amounts: dict[tuple[str, str, str], int] = defaultdict(int)
    for award in awards:
        department, programme = f"department:{award.department}", f"programme:{award.programme}"
        council = f"council:{award.place}"
        amounts[(department, programme, "allocated")] += award.allocated_p
        amounts[(programme, council, "allocated")] += award.allocated_p
        amounts[(council, "sink:overhead", "overhead")] += award.overhead_p
        for key in set(award.held_p) | set(award.delivered_by_p) | set(award.returned_by_p):
            intervention = f"intervention:{key}"
            delivered, returned, held = award.delivered_by_p.get(key, 0), award.returned_by_p.get(key, 0), award.held_p.get(key, 0)
            amounts[(council, intervention, "allocated")] += delivered + returned + held
            amounts[(intervention, f"domain:{domains[key]}", "delivered")] += delivered
            amounts[(intervention, "sink:returned", "returned")] += returned
            amounts[(intervention, "sink:held", "held")] += held
    links = [Link(s, t, v, kind) for (s, t, kind), v in amounts.items() if v > 0]
    used = {link.source for link in links} | {link.target for link in links}

    def keys(prefix: str) -> list[str]:
        return [k.split(":", 1)[1] for k in used if k.startswith(prefix)]

    departments = _order(keys("department:"), (*DEPARTMENTS, "pooled"))
    programme_department = {link.target: link.source.split(":", 1)[1] for link in links if link.source.startswith("department:")}
    programmes = sorted(keys("programme:"), key=lambda p: (departments.index(programme_department[f"programme:{p}"]), p))
    nodes = [Node(f"department:{d}", "Several departments" if d == "pooled" else label(d), 0, "department") for d in departments]
    nodes += [Node(f"programme:{p}", label(p), 1, "programme") for p in programmes]
    nodes += [Node(f"council:{c}", place_names[int(c)], 2, "council") for c in sorted(keys("council:"), key=int)]
    nodes += [Node(f"intervention:{k}", label(k), 3, "intervention") for k in _order(keys("intervention:"), INTERVENTION_KEYS)]
    sinks = {"overhead": ("Grant overhead", 3), "held": ("Held, unspent", 4), "returned": ("Returned", 4)}
    if "sink:overhead" in used:
        nodes.append(Node("sink:overhead", sinks["overhead"][0], 3, "overhead"))
    nodes += [Node(f"domain:{d}", label(d), 4, "domain") for d in _order(keys("domain:"), DOMAINS)]
    nodes += [Node(f"sink:{s}", sinks[s][0], sinks[s][1], s) for s in ("held", "returned") if f"sink:{s}" in used]
    return nodes, links


def _values(nodes: Sequence[Node], links: Sequence[Link]) -> dict[str, int]:
    inflow, outflow = defaultdict(int), defaultdict(int)
    for link in links:
        outflow[link.source] += link.value_p
        inflow[link.target] += link.value_p
    return {n.key: max(inflow[n.key], outflow[n.key]) for n in nodes}


def _columns(nodes: Sequence[Node]) -> dict[int, list[Node]]:
    columns = defaultdict(list)
    for node in nodes:
        columns[node.column].append(node)
    return columns


def fitting_scale(nodes: Sequence[Node], links: Sequence[Link], *, height: float, gap: float) -> float:
    """Units per penny at which the fullest column of one graph just fills ``height``.

    Two graphs drawn side by side share the smaller of their fitting scales, so the same
    amount is the same height in both and both fit.

    Parameters
    ----------
    nodes, links
        From :func:`funding_flows`, with at least one link.
    height, gap : float
        As in :func:`layout`.

    Returns
    -------
    float
    """
    value, columns = _values(nodes, links), _columns(nodes)
    busiest = max(len(c) for c in columns.values())
    return (height - gap * (busiest - 1)) / max(sum(value[n.key] for n in c) for c in columns.values())


def layout(
    nodes: Sequence[Node], links: Sequence[Link], *, height: float, gap: float, scale: float | None = None
) -> tuple[dict[str, tuple[float, float]], float, dict[str, int]]:
    """Top and height of each node, units per penny, and each node's value in pence.

    Nodes stack down their column from 0 with ``gap`` between them. By default the
    fullest column fills ``height`` (pixels in the app, any unit elsewhere); a given
    ``scale`` (units per penny, e.g. shared with another graph by :func:`fitting_scale`)
    is used instead.
    """
    value, columns = _values(nodes, links), _columns(nodes)
    if scale is None:
        scale = fitting_scale(nodes, links, height=height, gap=gap)
    placed = {}
    for column in columns.values():
        top = 0.0
        for node in column:
            size = max(value[node.key] * scale, 1.5)
            placed[node.key] = (top, size)
            top += size + gap
    return placed, scale, value


def link_bands(
    nodes: Sequence[Node], links: Sequence[Link], placed: Mapping[str, tuple[float, float]], scale: float
) -> list[tuple[Link, float, float, float]]:
    """Where each link leaves its source and enters its target, stacked in node order.

    Returns
    -------
    list of (link, top at source, top at target, thickness)
        In the units of :func:`layout`.
    """
    order = {n.key: i for i, n in enumerate(nodes)}
    out_offset, in_offset = defaultdict(float), defaultdict(float)
    bands = []
    for link in sorted(links, key=lambda k: (order[k.source], order[k.target])):
        size = link.value_p * scale
        bands.append((link, placed[link.source][0] + out_offset[link.source], placed[link.target][0] + in_offset[link.target], size))
        out_offset[link.source] += size
        in_offset[link.target] += size
    return bands


def spread_labels(
    nodes: Sequence[Node], placed: Mapping[str, tuple[float, float]], lines: Mapping[str, list[str]], *, height: float, line_height: float
) -> dict[str, float]:
    """Vertical centre of each node's label: beside its node, pushed apart so labels in a column never overlap."""
    centres = {}
    for column in sorted({n.column for n in nodes}):
        keys = [n.key for n in nodes if n.column == column]
        half = [line_height * len(lines[k]) / 2 for k in keys]
        ys = [placed[k][0] + placed[k][1] / 2 for k in keys]
        for i in range(len(ys)):  # push down from the top
            floor = half[i] if i == 0 else ys[i - 1] + half[i - 1] + half[i]
            ys[i] = max(ys[i], floor)
        for i in reversed(range(len(ys))):  # then up from the bottom
            ceiling = height + 20 - half[i] if i == len(ys) - 1 else ys[i + 1] - half[i + 1] - half[i]
            ys[i] = min(ys[i], ceiling)
        centres.update(zip(keys, ys))
    return centres
