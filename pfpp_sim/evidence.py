"""Sourced quantities and the assumptions registry.

Every default that stands for a real-world quantity is a :class:`Sourced` value:
a number, its unit, and either an ``EVIDENCE.md`` key (``"E26"``) or
``"assumption:<name>"`` naming an entry of :data:`ASSUMPTIONS`. This module is the
one place where assumptions are listed, so a report can print them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from types import MappingProxyType
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "ASSUMPTIONS",
    "Assumption",
    "EVIDENCE_KEYS",
    "UNIT_MAXIMA",
    "Sourced",
    "assumed_parameters",
    "calibrated_parameters",
    "is_assumption",
    "is_calibrated",
]

class Assumption(NamedTuple):
    """An entry of the assumptions registry.

    Attributes
    ----------
    description : str
        What is assumed, and why the value is what it is.
    range_reason : str or None
        Why the plausible ``low``/``high`` of the values citing it are what they are
        (published uncertainty, a related figure, or the spread of expert views).
    """

    description: str
    range_reason: str | None = None


ASSUMPTIONS = MappingProxyType(
    {
        # Residents: households
        "median_income_path": Assumption(
            "The national median income after housing costs moves from its FYE 2020 level (E87) in proportion to the ONS median household disposable income, before housing costs (E86), the one yearly series vendored; held before FYE 2020 and after FYE 2024."
        ),
        "income_spread": Assumption("Log-normal spread of equivalised AHC income within a place."),
        "income_volatility": Assumption("Monthly AR(1) persistence and shock size of household log income (churn in and out of low income)."),
        "band_cost_multipliers": Assumption("Required fuel cost of each FPEER band relative to band D (typical use). Band C is derived from E27; the other bands are assumed."),
        "price_pass_through": Assumption(
            "Share of a change in the typical energy price (from the run's start) that reaches households' required fuel costs: 1, as bills under the default tariff cap and the Energy Price Guarantee are the cap (E08-E16). Not fitted: 2019-2021 data cannot identify it.",
            "Low end 0.83: about 24m of the ≈29m households were on capped tariffs in 2022 (E89, E17); the rest were on fixed tariffs priced outside the cap for the length of their fix. High end 1: every household pays the cap.",
        ),
        "tenure_income_multipliers": Assumption("Relative income of social and private renters versus owners."),
        "band_split": Assumption("Split of the national A-C and F/G shares (E23) into single bands where EPC data are missing."),
        # Residents: young people
        "neet_exit_hazard": Assumption("Monthly probability that a NEET young person moves into education or work, before scarring and mental-health effects."),
        "neet_scarring": Assumption("Proportional fall in the NEET exit hazard per year already spent NEET (duration dependence)."),
        "employed_share_of_eet": Assumption("Share of 18-24 year olds not NEET who are in work rather than education."),
        "neet_18_24_relative": Assumption("18-24 NEET share taken as the national 16-24 rate (E44) scaled by the place's 16-17 NEET rate relative to England."),
        "neet_home_income_gradient": Assumption(
            "How much lower the incomes of NEET young people's households are: a NEET young person's chance of living in a household falls by this many log points from the lowest to the highest income in the place. 0.8 makes NEET about 1.5 times as common in the lowest-income fifth of households as in the rest, as young people from disadvantaged families are 50% more likely to be NEET at the same education (E88).",
            "0 (no link, as before) to 1.6 (about 2.1 times): E88's 50% is measured at equal education; without that control the gap is wider, and free-school-meal status is not the same as the lowest fifth of household incomes.",
        ),
        "young_people_home_tenure": Assumption(
            "Relative chance that a young person lives in a social-rent or private-rent household rather than an owner's, beyond what income explains. 1: no tilt, as no published tenure-by-age table was vendored.",
            "0.7 to 1.5: the spread of plausible views on whether families with 16-24 year olds rent more or less often than other households.",
        ),
        "youth_job_seeking_follows_all_ages": Assumption(
            "Young people's job seeking (the shares of NEET young people and of students seeking work) differs between places and years as the ONS model-based unemployment rate of all ages (16+) does: each share is multiplied by (the place's 2019-2023 rate over England's, times England's rate in the year over 2022) raised to this elasticity. No youth rate by local authority was found (the Annual Population Survey's is not vendored).",
            "0.5 (youth job seeking moves half as much as all-age unemployment) to 1.5 (half as much again): no vendored series compares youth and all-age unemployment by place or year.",
        ),
        "mh_recovery_hazard": Assumption("Monthly probability of recovery from a probable mental disorder without treatment."),
        "mh_job_finding_multiplier": Assumption("Multiplier on the NEET exit hazard for a young person with a probable mental disorder."),
        "youth_earnings_to_household": Assumption("Equivalised addition to household income when a young person in it is employed."),
        "mh_prevalence_16_24": Assumption("Probable-disorder prevalence of 17-24 year olds (E48, 2022), moved from year to year as that of 17-19 year olds (E47), used for all 16-24 year olds."),
        # Interventions
        "income_advice_gain": Assumption("Annual income gain for a household after benefit and income-maximisation advice."),
        "income_advice_cost": Assumption("Cost of one income-maximisation case."),
        "income_advice_duration": Assumption(
            "Months an income-advice gain lasts before the household's circumstances or award change; repeated advice renews the gain, it does not add another. No published figure on how long awards won through take-up advice last was found.",
            "6 months (short awards, e.g. reassessed or ended by a change of circumstances) to 36 months (an award kept for the length of a typical benefit claim); 12 months matches the yearly reassessment and the one-year horizon of bill support.",
        ),
        "bill_support_amount": Assumption("Annual bill reduction from a locally delivered bill-support award."),
        "bill_support_admin": Assumption("Administration cost added to each bill-support award."),
        "careers_guidance_cost": Assumption("Cost of careers guidance per young person."),
        "careers_guidance_effect": Assumption(
            "Proportional fall in the NEET entry hazard of a 16-19 year old in education or work while careers guidance lasts. The 8% of earlier notes (E42) has no source found; Gatsby links good career guidance to about 6,000 fewer NEET young people a year (S51).",
            "From 0 (no effect) to 0.15, about twice the unverified 8% (E42), as no published effect size was found.",
        ),
        "careers_guidance_duration": Assumption("Months for which careers guidance lowers the NEET entry hazard."),
        "ips_cost": Assumption("Cost per participant of Individual Placement and Support style employment support."),
        "ips_duration": Assumption("Months for which employment support raises job finding."),
        "ips_effect_without_disorder": Assumption(
            "Risk ratio of employment support on NEET exits into work for young people without a probable mental disorder. The Individual Placement and Support evidence (E41) comes from trials with people with severe mental illness; none was found for NEET young people in general.",
            "From 1 (no effect outside the population the trials covered) to 1.63 (the IPS effect itself, E41).",
        ),
        "mh_hub_cost": Assumption("Cost per young person seen by a community mental-health hub."),
        "asb_outreach_cost": Assumption("Cost per young person reached by anti-social-behaviour outreach."),
        "asb_outreach_effect": Assumption("Proportional fall in the NEET entry hazard after outreach."),
        "retrofit_partial_gain": Assumption("Retrofits that do not reach band C improve a home by one band."),
        "months_to_effect": Assumption("Months from delivery to effect for each intervention."),
        "mobilisation_short": Assumption("Months to mobilise a small delivery team (advice, guidance, outreach) from award."),
        "neet_entry_hazard_floor": Assumption("Lower bound on the modelled NEET entry hazard."),
        # Programmes and funding
        "programme_budget": Assumption("Budget of a modelled funding stream per household or young person per year (no per-council figures are published; see SOURCES.md)."),
        "award_lag": Assumption("Months from the start of a funding period to the award letter when windows are not aligned."),
        "reporting_cost": Assumption("Council staff cost of monitoring and reporting on one grant for one year."),
        "recruitment_cost": Assumption("Cost of recruiting a delivery team again after it was lost at a funding cliff edge."),
        "staff_retention": Assumption("Months a delivery team is kept on after its funding ends, waiting for the next award."),
        "rush_multiplier": Assumption("How much faster than planned a council can spend in the last months before a deadline."),
        "stream_gap": Assumption("Months before a discontinued stream is replaced by a new one."),
        "carry_over_months": Assumption("Months by which carry-over extends a spend deadline."),
        # Mechanisms M1, M4, M5 and pooling costs
        "months_to_find_team": Assumption("Months for a council to find the right team in a department (M1), by contact model."),
        "outreach_hit_rate": Assumption("Share of outreach that reaches eligible residents without shared data (M4)."),
        "trust": Assumption("Initial council-department trust, its monthly gain from joint work, and the threshold that gates pooling (M5)."),
        "trust_multipliers": Assumption("How secondments and a policy campus speed up trust building (M5)."),
        "pooling_negotiation": Assumption("Months of negotiation and governance before pooled money first moves."),
        "pooled_governance_cost": Assumption("Annual governance and accountability cost of a pooled budget per council."),
        "pooled_targeting_penalty": Assumption("Effect multiplier for interventions delivered by a generalist pooled team rather than a specialist one."),
        # Scale
        "minimum_sample": Assumption("Minimum simulated households and young people per place, so small places keep enough residents to measure rates."),
    }
)
"""Named modelling assumptions: name -> what is assumed and why its range is what it is.

Every scenario value citing an assumption carries a plausible ``low``/``high`` range;
:attr:`Assumption.range_reason` says where that range comes from. The ranges are what
``pfpp robustness`` samples; they are not drawn per replicate (see :meth:`Sourced.draw`)."""


def _evidence_keys() -> frozenset[str]:
    text = resources.files("pfpp_sim.data").joinpath("EVIDENCE.md").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\| (E\d\d) \|", text, flags=re.MULTILINE))


EVIDENCE_KEYS = _evidence_keys()
"""Keys of the sourced values in the vendored ``EVIDENCE.md``."""

# Largest meaningful value of a quantity, by the start of its unit. Shares and
# probabilities cannot pass 1; longer spans than a century overflow month counters;
# budgets above GBP 100,000 per head a year would take pence totals past 2**53, where
# floating-point arithmetic stops keeping the ledger exact.
UNIT_MAXIMA = (
    ("fraction", 1.0),
    ("probability", 1.0),
    ("index 0-1", 1.0),
    ("AR(1)", 1.0),
    ("months", 1200.0),
    ("GBP/household/year", 100_000.0),
    ("GBP/young_person/year", 100_000.0),
)
_SOURCE = re.compile(
    r"^(E\d\d)([,+-]E\d\d)*$|^assumption:[a-z0-9_]+$|^derived:(E\d\d)([,+]E\d\d)*$|^calibrated:[A-Za-z0-9_]+$"
)


def is_assumption(source: str) -> bool:
    """Return True when ``source`` names an assumption rather than evidence."""
    return source.startswith("assumption:")


def is_calibrated(source: str) -> bool:
    """Return True when ``source`` names a calibration (``"calibrated:<fit name>"``)."""
    return source.startswith("calibrated:")


class Sourced(BaseModel):
    """A real-world quantity with its unit and source.

    Parameters
    ----------
    value : float
        The quantity: non-negative, finite and at most the limit of its unit (:data:`UNIT_MAXIMA`).
    unit : str
        Its unit, e.g. ``"GBP/home"``.
    source : str
        ``"E26"`` (EVIDENCE.md key), ``"derived:E51,E52"`` (arithmetic on keys) or
        ``"assumption:<name>"`` (an entry of :data:`ASSUMPTIONS`) or ``"calibrated:<fit>"``
        (set from a fitted calibration when the scenario is loaded).
    low, high : float, optional
        Plausible range. For evidence (an ``E`` key or ``derived:``), its published
        uncertainty: replicates draw from a triangular distribution over it. For an
        assumption, the range ``pfpp robustness`` explores; replicates use the value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    value: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1)
    source: str
    low: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    high: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if not _SOURCE.match(source):
            raise ValueError("expected an EVIDENCE key like 'E26', 'derived:E51,E52' or 'assumption:<name>'")
        if is_assumption(source):
            name = source.split(":", 1)[1]
            if name not in ASSUMPTIONS:
                raise ValueError(f"assumption {name!r} is not in the assumptions registry (pfpp_sim/evidence.py)")
        else:
            unknown = set(re.findall(r"E\d\d", source)) - EVIDENCE_KEYS
            if unknown:
                raise ValueError(f"unknown EVIDENCE key(s) {sorted(unknown)}")
        return source

    @model_validator(mode="after")
    def _range_holds_value(self) -> Sourced:
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither")
        if self.low is not None and not self.low <= self.value <= self.high:
            raise ValueError(f"expected low <= value <= high, got {self.low} <= {self.value} <= {self.high}")
        for prefix, most in UNIT_MAXIMA:
            if self.unit.startswith(prefix) and max(self.value, self.high or 0.0) > most:
                raise ValueError(f"expected at most {most:g} for a quantity in {self.unit!r}, got {max(self.value, self.high or 0.0):g}")
        return self

    def draw(self, rng) -> float:
        """The value a replicate uses: drawn over the published range of evidence, else the point value.

        Evidence with a range (its published uncertainty) is drawn from a triangular
        distribution over it. An assumption's range is deep uncertainty, explored by
        ``pfpp robustness`` across sampled worlds rather than mixed into replicate noise,
        so a replicate uses its value; a calibrated value is used as fitted.
        """
        if self.low is None or self.low == self.high or is_assumption(self.source) or is_calibrated(self.source):
            return self.value
        return float(rng.triangular(self.low, self.value, self.high))


def _walk(node, path: str) -> Iterator[tuple[str, Sourced]]:
    if isinstance(node, Sourced):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, BaseModel):
        for key in type(node).model_fields:
            yield from _walk(getattr(node, key), f"{path}.{key}" if path else key)


def calibrated_parameters(scenario: BaseModel) -> list[tuple[str, Sourced]]:
    """Every parameter of a scenario set from a fitted calibration (source ``calibrated:<fit>``).

    Returns
    -------
    list of (key path, Sourced)
    """
    return [(path, value) for path, value in _walk(scenario, "") if is_calibrated(value.source)]


def assumed_parameters(scenario: BaseModel) -> list[tuple[str, Sourced]]:
    """Every parameter of a scenario (or any part of one) that rests on an assumption rather than evidence.

    Returns
    -------
    list of (key path, Sourced)
    """
    return [(path, value) for path, value in _walk(scenario, "") if is_assumption(value.source)]
