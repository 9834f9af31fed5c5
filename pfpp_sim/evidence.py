"""Sourced quantities and the assumptions registry.

Every default that stands for a real-world quantity is a :class:`Sourced` value:
a number, its unit, and either an ``EVIDENCE.md`` key (``"E26"``) or
``"assumption:<name>"`` naming an entry of :data:`ASSUMPTIONS`. This module is the
one place where the package's assumptions are listed, so a report can print them all.
A scenario may also cite its analyst's own sources, ``"user:<KEY>"``, declared in its
``[user_sources]`` table (:class:`~pfpp_sim.scenario.UserSource`); they are treated as
assumptions: they need a plausible range, replicates use their value and ``pfpp
robustness`` samples their range.
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
    "is_user_source",
    "sourced_parameters",
]

class Assumption(NamedTuple):
    """An entry of the assumptions registry.

    Attributes
    ----------
    description : str
        What is assumed, and why the value is what it is.
    range_reason : str
        Why the plausible ``low``/``high`` of the values citing it are what they are
        (published uncertainty, a related figure, or the spread of plausible views), or,
        for a rule in the code rather than a value, the range it could take and that it
        is not sampled.
    """

    description: str
    range_reason: str


ASSUMPTIONS = MappingProxyType(
    {
        # Residents: households
        "median_income_path": Assumption(
            "The national median income after housing costs moves from its FYE 2020 level (E87) in proportion to the ONS median household disposable income, before housing costs (E86), the one yearly series vendored; held before FYE 2020 and after FYE 2024.",
            "Not sampled (a path, not a number): the after-housing-costs median may have grown 1-2 points a year slower than the before-housing-costs one when rents rose faster than incomes; the fitted income trend of each place absorbs such a gap over its data years.",
        ),
        "trend_damping": Assumption(
            "How a place's fitted trends (income relative to the poverty line, NEET 16-17) go on after the data years they were fitted to: "
            "each year after the data end their rate is multiplied by this factor, the damped trend of Gardner & McKenzie (1985, "
            "doi:10.1287/mnsc.31.10.1237), so their drift beyond the data levels off instead of growing without limit (pfpp_sim/trends.py). "
            "0 holds the trends at the end of their data, which is what scenarios that replay or compare within the data years do by "
            "leaving it unset, and what baseline_forecast does: in the published series a place's one-year change does not carry into "
            "the next (correlation over the 292 authorities of each change with the next: -0.15 for fuel poverty, 2020 to 2021; -0.04 "
            "for NEET 16-17, 2022 to 2024; 'Change corr.' of pfpp calibrate --places all --holdout-last-year), and a fit without the last "
            "year whose trends were damped at 0.8 forecast that year worse than persistence, its predicted changes ranked against the "
            "observed ones at -0.11 and -0.02.",
            "0 to 0.5 a year: the evidence above puts it at 0 (a fitted trend that went on would show as a positive correlation of "
            "consecutive changes); with three or four yearly points a modest persistence cannot be ruled out, so the range reaches a "
            "trend that halves each year (about 1.4 years of its fitted rate in all beyond the data). Damped-trend forecasts of long "
            "series usually take 0.8-0.98 a period (Hyndman & Athanasopoulos, Forecasting: Principles and Practice), which these short, "
            "noisy local series do not support.",
        ),
        "income_spread": Assumption(
            "Log-normal spread of equivalised AHC income within a place.",
            "0.45 to 0.65: the log-normal spreads that reproduce UK after-housing-costs income inequality (Gini of about 0.35 to 0.40); each place's income level is fitted to its observed rate, so the spread matters through how many households sit near the line.",
        ),
        "income_volatility": Assumption(
            "Monthly AR(1) persistence and shock size of household log income (churn in and out of low income).",
            "Persistence 0.94 to 0.99 a month (0.5 to 0.9 over a year) and shocks of 0.03 to 0.08 log points a month: from much churn in and out of low income year to year to little, the span of views on how long low income lasts.",
        ),
        "band_cost_multipliers": Assumption(
            "Required fuel cost of each FPEER band relative to band D (typical use). Band C is derived from E27; the other bands are assumed.",
            "Each band about a third of a step either way (A 0.35-0.55, B 0.45-0.65, E 1.15-1.4, F 1.35-1.8, G 1.6-2.4): modelled running costs rise by roughly a fifth to a third a band below D; D is the reference, 1 by definition (a range of zero width).",
        ),
        "price_pass_through": Assumption(
            "Share of a change in the typical energy price (from the run's start) that reaches households' required fuel costs: 1, as bills under the default tariff cap and the Energy Price Guarantee are the cap (E08-E16). Not fitted: 2019-2021 data cannot identify it.",
            "Low end 0.83: about 24m of the ≈29m households were on capped tariffs in 2022 (E89, E17); the rest were on fixed tariffs priced outside the cap for the length of their fix. High end 1: every household pays the cap.",
        ),
        "tenure_income_multipliers": Assumption(
            "Relative income of social and private renters versus owners.",
            "Social renters 0.45 to 0.75 and private renters 0.65 to 0.95 of owners' income: the span of tenure gaps in after-housing-costs incomes, where renters' housing costs take a larger share.",
        ),
        "band_split": Assumption(
            "Split of the national A-C and F/G shares (E23) into single bands where EPC data are missing.",
            "Not sampled (used only where a place has no EPC data): A 0-1%, B 8-15%, C 24-32% of dwellings within the A-C 40% of E23, and F 70-90% of F/G.",
        ),
        # Residents: young people
        "neet_exit_hazard": Assumption(
            "Monthly probability that a NEET young person moves into education or work, before scarring and mental-health effects.",
            "0.06 to 0.18 a month: from spells averaging about a year and a half to about half a year, the span of typical NEET spell lengths.",
        ),
        "neet_scarring": Assumption(
            "Proportional fall in the NEET exit hazard per year already spent NEET (duration dependence).",
            "0.1 to 0.5 a year: from weak to strong duration dependence; the fitted value (calibration) replaces it where a fit is used.",
        ),
        "employed_share_of_eet": Assumption(
            "Share of 18-24 year olds not NEET who are in work rather than education.",
            "0.45 to 0.65: the share of 18-24 year olds not NEET who are mainly in work rather than education, either side of about half.",
        ),
        "neet_18_24_relative": Assumption(
            "18-24 NEET share taken as the national 16-24 rate (E44) scaled by the place's 16-17 NEET rate relative to England.",
            "Not sampled (a rule): 18-24 NEET could follow the place's 16-17 rate from not at all (the national rate everywhere) to fully (as now); the 16-24 national rate itself is evidence (E44).",
        ),
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
        "mh_recovery_hazard": Assumption(
            "Monthly probability of recovery from a probable mental disorder without treatment.",
            "0.03 to 0.10 a month: untreated episodes lasting from about ten months to about three years on average.",
        ),
        "mh_job_finding_multiplier": Assumption(
            "Multiplier on the NEET exit hazard for a young person with a probable mental disorder.",
            "0.4 to 0.8: a probable mental disorder lowering job finding by a fifth to more than half.",
        ),
        "youth_earnings_to_household": Assumption(
            "Equivalised addition to household income when a young person in it is employed.",
            "3,000 to 9,000 GBP a year, equivalised: part-time to full-time youth earnings shared in the household.",
        ),
        "mh_prevalence_16_24": Assumption(
            "Probable-disorder prevalence of 17-24 year olds (E48, 2022), moved from year to year as that of 17-19 year olds (E47), used for all 16-24 year olds.",
            "Not sampled (a rule on evidence): 16 year olds may have lower prevalence than 17-24 year olds (E49: 20.3% at 8-16, 21.7% at 20-25 in 2023), within about 2 points.",
        ),
        # Interventions
        "income_advice_gain": Assumption(
            "Annual income gain for a household after benefit and income-maximisation advice.",
            "500 to 1,500 GBP a year: from a small award or a partial entitlement to a full means-tested entitlement found by a benefit check.",
        ),
        "income_advice_cost": Assumption(
            "Cost of one income-maximisation case.",
            "150 to 600 GBP a case: from an hour of an adviser's time with a quick check to a day of casework.",
        ),
        "income_advice_duration": Assumption(
            "Months an income-advice gain lasts before the household's circumstances or award change; repeated advice renews the gain, it does not add another. No published figure on how long awards won through take-up advice last was found.",
            "6 months (short awards, e.g. reassessed or ended by a change of circumstances) to 36 months (an award kept for the length of a typical benefit claim); 12 months matches the yearly reassessment and the one-year horizon of bill support.",
        ),
        "bill_support_amount": Assumption(
            "Annual bill reduction from a locally delivered bill-support award.",
            "150 to 500 GBP a year, and 6 to 12 months: the span of locally delivered energy-support awards a household receives.",
        ),
        "bill_support_admin": Assumption(
            "Administration cost added to each bill-support award.",
            "310 to 400 GBP a household: the award with 3% to a third added for administration.",
        ),
        "careers_guidance_cost": Assumption(
            "Cost of careers guidance per young person.",
            "80 to 300 GBP a young person: from a group session to several one-to-one interviews.",
        ),
        "careers_guidance_effect": Assumption(
            "Proportional fall in the NEET entry hazard of a 16-19 year old in education or work while careers guidance lasts. The 8% of earlier notes (E42) has no source found; Gatsby links good career guidance to about 6,000 fewer NEET young people a year (S51).",
            "From 0 (no effect) to 0.15, about twice the unverified 8% (E42), as no published effect size was found.",
        ),
        "careers_guidance_duration": Assumption(
            "Months for which careers guidance lowers the NEET entry hazard.",
            "12 to 36 months: guidance acting for a school or college year up to the end of the 16-19 phase.",
        ),
        "ips_cost": Assumption(
            "Cost per participant of Individual Placement and Support style employment support.",
            "2,000 to 7,000 GBP a participant: Individual Placement and Support style support, up to Kickstart's cost of about 7,000 GBP a participant (E37).",
        ),
        "ips_duration": Assumption(
            "Months for which employment support raises job finding.",
            "3 to 12 months: a short placement-support spell up to a year of job coaching.",
        ),
        "ips_effect_without_disorder": Assumption(
            "Risk ratio of employment support on NEET exits into work for young people without a probable mental disorder. The Individual Placement and Support evidence (E41) comes from trials with people with severe mental illness; none was found for NEET young people in general.",
            "From 1 (no effect outside the population the trials covered) to 1.63 (the IPS effect itself, E41).",
        ),
        "mh_hub_cost": Assumption(
            "Cost per young person seen by a community mental-health hub.",
            "500 to 2,000 GBP a young person: from a few drop-in sessions to a course of talking therapy.",
        ),
        "asb_outreach_cost": Assumption(
            "Cost per young person reached by anti-social-behaviour outreach.",
            "250 to 1,000 GBP a young person: from detached youth work contacts to sustained mentoring.",
        ),
        "asb_outreach_effect": Assumption(
            "Proportional fall in the NEET entry hazard after outreach.",
            "0 to 0.15 (and 6 to 24 months): from no effect on NEET entry to an effect as large as the top of careers guidance's range, as no published effect on NEET was found.",
        ),
        "retrofit_partial_gain": Assumption(
            "Retrofits that do not reach band C improve a home by one band.",
            "Not sampled (a rule): a home not reaching band C may gain from nothing to two bands; one band is the middle.",
        ),
        "retrofit_band_c_share": Assumption(
            "Share of homes retrofitted with LAD-style funding that reach band C. No band outcome is published for LAD homes (E92), so HUG2's 56% (E35) is used. "
            "A gap remains in the cost too: LAD's cost per home (E32, E33) is funding over homes, so it also carries LAD's admin allowance (up to 15%, E31) and any money not spent, "
            "which the model counts again as reporting overhead and clawback.",
            "Low 0.41: HUG2's 56% scaled by LAD's fewer measures per home (1.33 against 1.83, E92); high 0.69: the share of D-G homes whose works to band C cost under LAD's GBP 10,000 cap (E26, E31).",
        ),
        "months_to_effect": Assumption(
            "Months from delivery to effect for each intervention.",
            "About half to double each value (retrofit and advice 1-4, bill support 0-1, guidance and outreach 0-3, employment support 0-3, hub 1-6 months): installs, awards and courses take weeks to a few months.",
        ),
        "mobilisation_short": Assumption(
            "Months to mobilise a small delivery team (advice, guidance, outreach) from award.",
            "About half to double each value (1-6 months for advice, guidance and outreach, 2-8 for employment support, 3-12 for a hub): recruiting a small team takes from a month to a season.",
        ),
        "neet_entry_hazard_floor": Assumption(
            "Lower bound on the modelled NEET entry hazard.",
            "0.0001 to 0.002 a month: a floor well below the entry hazards the data give, from negligible to about 2% a year.",
        ),
        # Programmes and funding
        "programme_budget": Assumption(
            "Budget of a modelled funding stream per household or young person per year (no per-council figures are published; see SOURCES.md).",
            "Half to double each budget: no per-council figures are published for these streams.",
        ),
        "award_lag": Assumption(
            "Months from the start of a funding period to the award letter when windows are not aligned.",
            "From an award at the start of the year to UKSPF's first year (10 months, E70); competitive rounds land later than formula grants (Sustainable Warmth 8 months, E93).",
        ),
        "aligned_award_lag": Assumption(
            "Months into its funding period that a round's award lands when the departments' timelines are aligned "
            "(levers.timeline_alignment): bids and their assessment run before the period, so by default the award lands on "
            "its first month. Never later than the round's own award lag without alignment.",
            "0 to 2 months: from alignment that works in full to awards that still slip by the weeks that grant determinations "
            "and sign-off take, a third of the 1-6 months of the assumed unaligned lags (award_lag) at the high end. It acts in "
            "whole months (rounded).",
        ),
        "pooled_reporting": Assumption(
            "Reporting cost of a council's pooled budget, as a multiple of one grant's reporting_cost a year: one combined "
            "report, however many streams join the pool. A siloed grant pays reporting_cost times its programme's reporting_burden.",
            "1 to 3: from one combined report for the whole pool, what pooling aims at, to one for each of the three outcome "
            "domains' departments that still want their own assurance of the money they put in; no published figure.",
        ),
        "reporting_cost": Assumption(
            "Council staff cost of monitoring and reporting on one grant for one year.",
            "4,000 to 16,000 GBP a grant a year: from a tenth to a third of a council officer's year spent monitoring and reporting one grant.",
        ),
        "recruitment_cost": Assumption(
            "Cost of recruiting a delivery team again after it was lost at a funding cliff edge.",
            "5,000 to 30,000 GBP a team: advertising and induction up to a few months of lost output.",
        ),
        "staff_retention": Assumption(
            "Months a delivery team is kept on after its funding ends, waiting for the next award.",
            "0 to 3 months: councils keep teams without funding from not at all to about a quarter.",
        ),
        "team_headroom": Assumption(
            "A delivery team's monthly capacity as a multiple of the planned rate it was sized for: the most it can deliver when rushing before a deadline.",
            "1.2-2.0: from a team working a little above plan to one that doubles its pace with overtime and extra contractors; no published figure.",
        ),
        "deadline_rush": Assumption(
            "How many months before an award's deadline a council stops ordering its monthly plan and orders all the award still "
            "holds, as fast as its team can deliver (the rush to spend before money is lost). Public bodies' spending bunches before "
            "the end of a budget: about 41% of UK public sector net investment in 2018-19 fell in its last quarter and 19% in March "
            "alone (ONS public sector finances, as charted by ICAEW, 2019), and US federal spending in the last week of the fiscal "
            "year is 4.9 times the weekly average of the rest of it (Liebman & Mahoney 2017, American Economic Review 107(11)). "
            "3 months is the last quarter.",
            "1 to 6 months: from a rush in the last month only (March's share above) to one over the last half-year, where spending "
            "already rises through a year's second half. It acts in whole months: a council rushes when the deadline is at most this "
            "many months away, so a sampled 2.7 acts as 2. How long the rush lasts moves how much money is spent rather than returned "
            "(a siloed award's deadline is where unspent money goes back).",
        ),
        "bid_cost_scaling": Assumption(
            "A bid costs bid_cost (E60's typical GBP 20-30k) for a scheme of bid_cost_scheme_value, scaled by (value / that) ** bid_cost_elasticity. "
            "E61's transport-scheme bid costs (GBP 35-94k for GBP 5m, 170-339k for GBP 100m) give the curve; it is applied to every competitive grant by assumption. "
            "Central values put E61's midpoints on one curve (elasticity 0.46) through E60's GBP 25k (a GBP 630k scheme).",
            "Elasticity 0.20-0.76 and reference scheme GBP 390k-940k: the extremes of E61's published ranges, and the scheme values at which the central curve gives E60's GBP 20k and 30k.",
        ),
        "small_grants": Assumption(
            "Small grant streams in the three domains, each paid to councils as several separate grants (their count and budget per head), chosen so that the modelled "
            "national grants match the LGA's mapping (E54, E56: almost a quarter worth under GBP 1m a year) and many grants to a council are under GBP 100k (E07). "
            "No per-stream figures are published.",
            "Counts of 2-6 grants per stream and budgets from half to double: the LGA's counts (E53, E54) and size shares (E56) fix neither how many small streams serve these domains nor their size.",
        ),
        "replay_streams": Assumption(
            "In baseline_history, the replay of 2019 onwards that the fits are made on, no stream is discontinued at random (E55's rate "
            "stays in every other scenario): which of the modelled streams ended when is not in the replay's data, and a random draw "
            "of it discontinues a national stream for every place at once, a common swing the published series do not have "
            "(python tools/replay_swings.py --without stream_churn at commit d733657, every authority, seed 1, two replicates: mean fuel poverty over "
            "places +0.123 and +0.131 pp from 2020 to 2021 with E55's churn, +0.010 and +0.011 without; published +0.006).",
            "0 to E55's 0.33 a year: no discontinuation in the replay, up to the rate for streams in general.",
        ),
        "stream_gap": Assumption(
            "Months at least before a discontinued stream is replaced by a new one. Streams are discontinued in April and their "
            "replacements' funding periods start in April, on the first April at least this many months on, so the gap acts in "
            "whole years: 1 to 12 months give 12, 13 to 24 give 24.",
            "6 to 24 months: replacement funds have followed their predecessors within half a year to two years; sampled over "
            "that range, a replacement opens a year on for gaps up to 12 months and two years on above.",
        ),
        "carry_over_months": Assumption(
            "Months by which carry-over extends a spend deadline.",
            "3 to 12 months: carry-over agreements from a quarter to a whole further year.",
        ),
        # Mechanisms M1, M4, M5 and pooling costs
        "months_to_find_team": Assumption(
            "Months for a council to find the right team in a department (M1), by contact model: on its own, through a single point of contact, a policy campus or senior officials' introductions.",
            "No published figure: from a month, when a named contact answers at once, to about a year, the time a PfPP pilot took from selection to an agreed plan (E66, E67).",
        ),
        "funding_mapping": Assumption(
            "Months to find the team of a replacement stream when the council's funding landscape has been mapped for it (M1).",
            "No published figure: from at once (the map shows where the new stream sits) to a quarter, against 3-12 months without a map (months_to_find_team).",
        ),
        "outreach_hit_rate": Assumption(
            "Share of outreach that reaches eligible residents without shared data (M4).",
            "Related figures: 35% of those helped by ECO were fuel poor, and about 30% of its funds were expected to reach fuel-poor homes (E97); the range allows 15 points either way.",
        ),
        "data_match_ceiling": Assumption(
            "Share of the gap between outreach and perfect targeting that fully shared administrative data close (M4): benefits data identify low income but not a home's energy efficiency, so precision stays below 1.",
            "Benefit-based eligibility missed a fifth of fuel-poor households and reached about a third fuel-poor ones (E97): matching on benefits alone closes little of the gap (low end); matching property data as well closes most of it (high end). The same range is assumed for the young people's interventions.",
        ),
        "trust": Assumption(
            "Council-department trust: its starting level, its monthly gain from joint work, the threshold that gates pooling, and the floor it decays to without joint work at the decay rate (M5).",
            "No published measure of council-department trust: the ranges span slow and fast relationship building over a two-year programme (E04) and keep the floor below the threshold, so no council pools without joint work.",
        ),
        "trust_multipliers": Assumption(
            "How secondments and a policy campus speed up trust building (M5).", "No published estimate: from no effect (1) to tripling trust building."
        ),
        "run_in": Assumption(
            "Months of the years before the start simulated under siloed levers for the institutions (awards, contacts, teams, trust) and the time-limited support they deliver "
            "(income advice, bill support, careers guidance, employment support, outreach; residents are not stepped), so every run starts from the state they leave, "
            "support running included, and each place's incomes are scaled to keep its starting fuel-poverty rate with that support.",
            "Twelve months cover annual streams and 12-month support only; 24 a full round of the longest usual period (24 months) after the months to find teams; "
            "36 adds a margin, and lets 24-month careers guidance reach its steady state.",
        ),
        # Costs of the levers, per council and year
        "data_sharing_cost": Assumption(
            "Yearly cost to a council of sharing administrative data fully (agreements, a matching platform and analyst time); the data_sharing lever pays its share of it.",
            "Low: the platform licence of one district council alone (E99); high: that plus one to one and a half analysts at Grade 6/7 median pay (E98).",
        ),
        "contact_cost": Assumption(
            "Yearly cost of a single point of contact in government for one council: a named official's time.",
            "A quarter to one full-time Grade 6/7 official at median pay (E98, about GBP 57,000 in 2022); value: half.",
        ),
        "senior_contact_cost": Assumption(
            "Yearly cost of senior officials' time given to one council's problems, as PfPP offered.",
            "A tenth to a half of a Senior Civil Servant's median pay (E98, about GBP 80,000-85,000 in 2022); value: a fifth.",
        ),
        "funding_mapping_cost": Assumption(
            "Yearly cost of outside help mapping one council's funding landscape, as PfPP's spend mapping did.",
            "PfPP's GBP 5m (E01) less its grants of GBP 150,000-350,000 to each of 13 pilots (E02) leaves about GBP 17,000-117,000 a pilot a year for all central support, of which mapping was one part.",
        ),
        "secondment_cost": Assumption(
            "Yearly cost of secondments between one council and departments: the secondees' pay while in post.",
            "From one secondee at Grade 6/7 median pay (E98) to the Whole Place Community Budgets' GBP 4.8m support per each of its 33 secondees, about GBP 145,000 (E80), which also paid for more than secondees; those pilots had about one secondee per council (E96).",
        ),
        "campus_cost": Assumption(
            "Yearly extra cost of a policy campus for one council: officials' time given to the place and shared space (the relocated posts cost what they would elsewhere).",
            "No published per-place figure: from a third of one to three Grade 6/7 officials at median pay (E98).",
        ),
        "pooling_negotiation": Assumption(
            "Months of negotiation and governance before pooled money first moves.",
            "4 to 13 months: the PfPP pilots took about 4 months from invitation to selection (E66) and about 13 from selection to an agreed delivery plan in East Sussex (E67).",
        ),
        "pooled_governance_cost": Assumption(
            "Annual governance and accountability cost of a pooled budget per council.",
            "20,000 to 80,000 GBP a council a year: from half to one and a half officers' time for governance and accountability of a pooled budget.",
        ),
        "pooled_targeting_penalty": Assumption(
            "Effect multiplier for interventions delivered by a generalist pooled team rather than a specialist one.",
            "0.75 to 1: generalist pooled teams from no less precise to a quarter less precise than specialist ones.",
        ),
        # Rules of the model that are not sampled
        "local_need_shares": Assumption(
            "M2: local need, which a pooled budget blends with the departments' shares by levers.local_priority_weight: each "
            "outcome domain (fuel poverty, NEET 16-24, youth mental health) weighs its rate in the place relative to the rate's "
            "mean over the run's places, the three normalised to sum to 1, and a domain's share is split equally among its "
            "interventions (the mental-health hub takes its domain's whole share, each of fuel poverty's three a third). Need "
            "is relative to the places in the run.",
            "Not sampled (a rule): shares could instead be equal by intervention, or follow the residents in need or each "
            "intervention's cost per outcome, and each would move the joined-up effect on each domain's outcome; the lever "
            "local_priority_weight, which sets how much of a pool follows this rule, is what a sweep varies.",
        ),
        "intended_groups": Assumption(
            "M4: who each intervention is meant for, the group that targeting precision reaches: fuel-poor households for "
            "income advice, bill support and retrofit (retrofit reaching homes in bands D-G, those grants' eligibility); young "
            "people under 20 and not NEET (the DfE 16-19 phase) with a mental disorder or in a cold home for careers guidance; "
            "the NEET seeking work (ILO unemployed) for employment support; those with a mental disorder for the mental-health "
            "hub; the NEET and those in a cold home for ASB outreach.",
            "Not sampled (a rule): the groups follow each service's stated aim; the cold-home links of careers guidance and "
            "outreach stand for the overlap of the domains, PfPP's case for joining up, and are the most open to other views: "
            "without them those services' precision would reach no more of the residents whose needs cross domains than chance.",
        ),
        "complementary_interventions": Assumption(
            "M8: the intervention whose recipients a pooled team serves first: retrofit and income advice each other's, bill "
            "support retrofit's, employment support and the mental-health hub each other's, careers guidance the hub's, ASB "
            "outreach employment support's.",
            "Not sampled (a rule): the pairs join the interventions whose recipients the model's own links make overlap most (a "
            "cold home and low income, mental health and work); other pairings are defensible. What is sampled of pooled "
            "teams' targeting is pooled_targeting_penalty.",
        ),
        "shared_recipient_records": Assumption(
            "M7: with data sharing at d (levers.data_sharing), a team knows each resident another stream has served with chance "
            "d, so with all data shared no stream pays for a resident another already serves. Unlike need, which the data reveal "
            "only in part (data_match_ceiling: benefits data hold incomes, not homes' energy efficiency), a service record "
            "names its recipient.",
            "Not sampled (a rule): records could also fail to match (a ceiling below 1, as for need), which would leave some "
            "duplicated spending at full sharing; the lever itself, which a sweep varies, sets how much is known.",
        ),
        "neet_duration_caps": Assumption(
            "Scarring (neet_scarring) stops lowering the NEET exit hazard after 48 months NEET; young people NEET at the start "
            "have been NEET for a geometric number of months with the base exit hazard (without scarring or mental health), "
            "at most 36.",
            "Not sampled (a rule): four years NEET is where few spells remain (at the default hazard of 0.12 a month a spell "
            "outlasts 36 months with chance 0.88^36, about 1%); longer caps would slow the exits of the long-term NEET a little, "
            "and a refit of neet_scarring would absorb part of that.",
        ),
        "calibration_weights": Assumption(
            "Weights 1/sd^2 of the calibration's moments: a DESNZ local fuel-poverty estimate is given an error of 0.005 (DESNZ "
            "publishes none for its modelled estimates), a NEET 16-17 rate the binomial sampling error of its cohort, at least "
            "0.002 (pfpp_sim/calibration/targets.py).",
            "Not sampled (settings of the fit, not of a run): 0.005 is about the shipped England fit's own root mean square "
            "error for fuel poverty (0.0056); the NEET floor stands for what the binomial error leaves out, such as the young "
            "people whose activity is not known (2.2-2.7% in England, 2021-2024), and binds for 74% of the 1,168 NEET moments "
            "of all places, so most NEET moments weigh (0.005 / 0.002)^2 = 6.25 times a fuel-poverty one. Other values would "
            "weigh the two series differently and move the fitted trends and their standard errors.",
        ),
        # Scale
        "minimum_sample": Assumption(
            "Minimum simulated households and young people per place, so small places keep enough residents to measure rates.",
            "Not sampled (a setting of precision, not a quantity): 2,000 households and 1,000 young people a place keep the sampling error of a place's rate to about a point; more gives tighter results, not other expected values.",
        ),
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
# budgets above GBP 100,000 per head or GBP 1bn per council a year could take pence
# totals past 2**53, where floating-point arithmetic stops keeping the ledger exact.
UNIT_MAXIMA = (
    ("fraction", 1.0),
    ("probability", 1.0),
    ("index 0-1", 1.0),
    ("AR(1)", 1.0),
    ("months", 1200.0),
    ("GBP/household/year", 100_000.0),
    ("GBP/young_person/year", 100_000.0),
    ("GBP/council/year", 1_000_000_000.0),
)
_SOURCE = re.compile(
    r"^(E\d\d)([,+-]E\d\d)*$|^assumption:[a-z0-9_]+$|^derived:(E\d\d)([,+]E\d\d)*$|^calibrated:[A-Za-z0-9_]+$"
    r"|^user:[A-Za-z0-9_]+$"
)


def is_assumption(source: str) -> bool:
    """Return True when ``source`` names an assumption rather than evidence.

    An assumption is an entry of the registry (``"assumption:<name>"``) or one of the
    analyst's own sources (``"user:<KEY>"``): both carry a plausible range, which ``pfpp
    robustness`` samples, and replicates use their value.
    """
    return source.startswith(("assumption:", "user:"))


def is_user_source(source: str) -> bool:
    """Return True when ``source`` cites the analyst's own source (``"user:<KEY>"``, declared in ``[user_sources]``)."""
    return source.startswith("user:")


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
        ``"E26"`` (EVIDENCE.md key), ``"derived:E51,E52"`` (arithmetic on keys),
        ``"assumption:<name>"`` (an entry of :data:`ASSUMPTIONS`), ``"user:<KEY>"`` (the
        analyst's own source, declared in the scenario's ``[user_sources]``, which checks
        the key) or ``"calibrated:<fit>"`` (set from a fitted calibration when the
        scenario is loaded).
    low, high : float, optional
        Plausible range. For evidence (an ``E`` key or ``derived:``), its published
        uncertainty: replicates draw from a triangular distribution over it. For an
        assumption or a ``user:`` source (required), the range ``pfpp robustness``
        explores; replicates use the value.
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
            raise ValueError("expected an EVIDENCE key like 'E26', 'derived:E51,E52', 'assumption:<name>' or 'user:<KEY>'")
        if is_user_source(source):
            return source  # the scenario checks the key against its [user_sources]
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
        if self.low is None and is_user_source(self.source):
            raise ValueError(
                "a value citing the analyst's own source needs its plausible range, as an assumption does: give low and high "
                "(pfpp robustness samples it)"
            )
        if self.low is None and is_assumption(self.source):
            raise ValueError(
                "an assumption needs its plausible range: give low and high (the assumptions registry, pfpp_sim/evidence.py, "
                "says why each range is what it is)"
            )
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

    Assumptions of the registry and the analyst's own sources (``user:<KEY>``) alike.

    Returns
    -------
    list of (key path, Sourced)
    """
    return [(path, value) for path, value in _walk(scenario, "") if is_assumption(value.source)]


def sourced_parameters(scenario: BaseModel) -> list[tuple[str, Sourced]]:
    """Every sourced quantity of a scenario (or any part of one), whatever its source.

    Returns
    -------
    list of (key path, Sourced)
        In the scenario's order; a key path such as ``"world.young_people.neet_exit_hazard"``
        addresses the quantity in :meth:`~pfpp_sim.scenario.Scenario.with_overrides`.
    """
    return list(_walk(scenario, ""))
