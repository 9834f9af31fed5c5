"""Scenarios: validated TOML files of levers, world inputs, programmes and interventions.

A scenario file may ``extends = "siloed_baseline"`` (a preset name or a file beside it)
and override any key; tables merge key by key. Unknown keys are errors. Every error
names the file, the key path, the bad value and what was expected. A scenario may name
a fitted calibration (``calibration = "pilots"``, or ``"none"``); loading embeds it (see
:mod:`pfpp_sim.calibration.fitted`). It may declare its analyst's own sources in
``[user_sources.KEY]`` and cite them as ``source = "user:KEY"`` (:class:`UserSource`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from pfpp_sim.errors import ScenarioError
from pfpp_sim.evidence import Sourced, is_assumption, is_user_source, sourced_parameters
from pfpp_sim.storage import read_toml
from pfpp_sim.trends import data_centre

__all__ = [
    "DEPARTMENTS",
    "DOMAINS",
    "INTERVENTION_KEYS",
    "KEY_INDEX",
    "Calibration",
    "Intervention",
    "Interventions",
    "Levers",
    "Mechanisms",
    "PlaceFit",
    "Programme",
    "RunSettings",
    "Scenario",
    "Source",
    "UserSource",
    "describe_sources",
    "list_examples",
    "list_presets",
    "load_scenario",
    "preset_path",
]

DEPARTMENTS = ("DESNZ", "DWP", "DfE", "DHSC", "HomeOffice", "MHCLG")
DOMAINS = ("fuel_poverty", "neet", "mental_health")
INTERVENTION_KEYS = (
    "retrofit",
    "income_advice",
    "bill_support",
    "careers_guidance",
    "employment_support",
    "mh_hub",
    "asb_outreach",
)
KEY_INDEX = {key: i for i, key in enumerate(INTERVENTION_KEYS)}
"""Position of each intervention in ``INTERVENTION_KEYS`` (its index in arrays by intervention)."""
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
MAX_GRANTS = 50
"""Most separate grants a programme may pay each council per round."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class RunSettings(_Frozen):
    """When, where and at what scale a run happens."""

    start: str = Field(pattern=r"^(19|20)\d\d-(0[1-9]|1[0-2])$", description="first month, YYYY-MM")
    horizon_months: int = Field(ge=1, le=240, description="months simulated from the start")
    places: Literal["pilots", "all"] | list[str] = Field(min_length=1, description="the pilot authorities, every English authority, or ONS codes")
    scale: float = Field(gt=0, le=1, description="simulated residents per real resident")
    min_households_per_place: int = Field(ge=0, le=1_000_000, description="fewest simulated households a place gets, whatever the scale (assumption:minimum_sample)")
    min_young_people_per_place: int = Field(ge=0, le=1_000_000, description="fewest simulated young people (16-24) a place gets (assumption:minimum_sample)")

    @property
    def start_year(self) -> int:
        return int(self.start[:4])

    @property
    def start_month(self) -> int:
        return int(self.start[5:7])


class Levers(_Frozen):
    """Policy choices: what a joined-up or siloed government decides (DESIGN.md M1-M8)."""

    pooling: float = Field(0.0, ge=0, le=1, description="share of each non-ring-fenced stream moved into a place's pooled budget")
    timeline_alignment: bool = Field(False, description="bid windows run before the funding period, so awards land on its first month")
    funding_period_months: int | None = Field(None, ge=3, le=60, description="override every stream's funding period")
    carry_over: bool = Field(False, description="unspent money at a deadline may be spent for longer instead of clawed back")
    competitive_share: float | None = Field(None, ge=0, le=1, description="override every stream's share allocated by competition")
    stream_churn: float | None = Field(None, ge=0, le=1, description="override the yearly chance that a stream is discontinued")
    data_sharing: float = Field(0.0, ge=0, le=1, description="share of targeting done with shared administrative data")
    single_point_of_contact: bool = Field(False, description="one front door into government for each council (M1)")
    policy_campus: bool = Field(False, description="civil servants co-located in the place (M1, M5)")
    secondments: bool = Field(False, description="staff exchanged between council and departments (M5)")
    senior_contact: bool = Field(False, description="contact with senior officials across government who broker introductions, as PfPP offered (M1)")
    funding_mapping: bool = Field(False, description="outside help to map the funding landscape, as PfPP offered: replacement streams are found sooner (M1)")
    local_priority_weight: float = Field(0.0, ge=0, le=1, description="weight of local need versus department priorities in pooled money")


class BandCosts(_Frozen):
    """Required fuel cost of each FPEER band relative to band D."""

    A: Sourced
    B: Sourced
    C: Sourced
    D: Sourced
    E: Sourced
    F: Sourced
    G: Sourced

    def as_list(self) -> list[float]:
        return [getattr(self, b).value for b in "ABCDEFG"]


class HouseholdWorld(_Frozen):
    """Exogenous household parameters."""

    median_income: Sourced
    income_spread: Sourced
    income_persistence: Sourced
    income_shock_sd: Sourced
    poverty_line_share: Sourced
    band_cost: BandCosts
    social_rent_income: Sourced
    private_rent_income: Sourced
    means_tested_share: Sourced
    price_pass_through: Sourced


class YouthWorld(_Frozen):
    """Exogenous parameters for young people aged 16-24."""

    neet_exit_hazard: Sourced
    neet_scarring: Sourced
    neet_entry_hazard_floor: Sourced
    employed_share_of_eet: Sourced
    neet_16_24_rate: Sourced
    mh_recovery_hazard: Sourced
    cold_home_odds_ratio: Sourced
    mh_job_finding_multiplier: Sourced
    youth_earnings: Sourced
    neet_home_income_gradient: Sourced
    social_rent_home_weight: Sourced
    private_rent_home_weight: Sourced
    neet_seeking_work_share: Sourced
    student_seeking_work_share: Sourced
    student_employed_share: Sourced
    unemployment_rate_16_24_anchor: Sourced
    unemployment_elasticity: Sourced
    mh_prevalence: dict[str, Sourced] = Field(min_length=1, description="probable disorder by year, YYYY -> fraction")

    @field_validator("mh_prevalence")
    @classmethod
    def _years(cls, value: dict[str, Sourced]) -> dict[str, Sourced]:
        for year, share in value.items():
            if not re.fullmatch(r"(19|20)\d\d", year):
                raise ValueError(f"expected year keys like '2021', got {year!r}")
            if max(share.value, share.high or 0.0) >= 1:
                raise ValueError(f"prevalence for {year} must be a fraction in [0, 1): at 1 nobody is ever well and onset is undefined")
        return value


class World(_Frozen):
    """Exogenous inputs: uncertain, not chosen by government."""

    households: HouseholdWorld
    young_people: YouthWorld
    trend_damping: Sourced | None = Field(
        None,
        description="fitted trends beyond their data years: their rate times this each year after the data end "
        "(assumption:trend_damping, a fraction/year in [0, 1]; absent: held still, as 0)",
    )

    @property
    def trend_damping_per_year(self) -> float:
        """The damping of fitted trends beyond their data (:mod:`pfpp_sim.trends`): 0, held still, when not set."""
        return 0.0 if self.trend_damping is None else self.trend_damping.value

    @field_validator("trend_damping")
    @classmethod
    def _damping_is_a_fraction(cls, value: Sourced | None) -> Sourced | None:
        if value is not None and max(value.value, value.high or 0.0) > 1:
            raise ValueError("trend damping must be at most 1 a year (1 continues the trends undamped)")
        return value


class Intervention(_Frozen):
    """One intervention type with its sourced cost, effect and timings.

    A new delivery team first delivers ``mobilisation_months`` after its award and then
    ramps up to its steady rate, reached ``months_to_steady`` after the award (at once
    when not given); a team kept on from earlier funding delivers at its steady rate at once.
    """

    domain: Literal["fuel_poverty", "neet", "mental_health"] = Field(description="the outcome it acts on")
    target: Literal["households", "young_people"] = Field(description="who receives it")
    description: str
    unit_cost: Sourced = Field(description="cost of one recipient's intervention")
    effect: Sourced = Field(description="its effect on a recipient (the unit says which: a fraction of need, a change in a hazard)")
    months_to_effect: Sourced = Field(description="months from delivery until the effect starts")
    mobilisation_months: Sourced = Field(description="months from award to a new team's first delivery")
    months_to_steady: Sourced | None = Field(None, description="months from award to a new team's steady delivery")
    duration_months: Sourced | None = Field(None, description="months the effect lasts (absent: for good)")
    effect_without_disorder: Sourced | None = Field(
        None,
        description="effect for recipients without a probable mental disorder, where the evidence of 'effect' covers only people with one (employment support)",
    )

    @model_validator(mode="after")
    def _steady_after_first_delivery(self) -> Intervention:
        if self.months_to_steady is not None and self.months_to_steady.value < self.mobilisation_months.value:
            raise ValueError(
                f"months_to_steady ({self.months_to_steady.value:g}) must be at least mobilisation_months ({self.mobilisation_months.value:g})"
            )
        return self


class Interventions(_Frozen):
    """The intervention catalogue (effects are coded in ``interventions.py``)."""

    retrofit: Intervention
    income_advice: Intervention
    bill_support: Intervention
    careers_guidance: Intervention
    employment_support: Intervention
    mh_hub: Intervention
    asb_outreach: Intervention

    def get(self, key: str) -> Intervention:
        return getattr(self, key)


class Programme(_Frozen):
    """A funding stream owned by a department."""

    department: Literal["DESNZ", "DWP", "DfE", "DHSC", "HomeOffice", "MHCLG"] = Field(description="the department that owns the stream")
    description: str
    interventions: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        min_length=1, description="intervention key -> share of spend"
    )
    budget: Sourced = Field(description="yearly budget per household, young person or council (its unit must match budget_basis)")
    budget_basis: Literal["households", "young_people", "councils"] = Field(description="what the budget is per")
    competitive_share: float = Field(ge=0, le=1, description="share allocated by competitive bids, the rest by formula")
    funding_period_months: int = Field(ge=3, le=60, description="months each round's money may be spent over")
    window_months: int = Field(ge=1, le=12, description="months a bid window is open")
    award_lag: Sourced = Field(description="months from the start of the stream's first funding period to its award")
    later_award_lag: Sourced | None = Field(None, description="the same for later rounds (default: award_lag)")
    grants: Sourced | None = Field(None, description="separate grants each council gets per round (default: one)")
    reporting_burden: float = Field(1.0, ge=0, le=20, description="multiple of the standard reporting cost")
    ring_fenced: bool = Field(False, description="kept out of the pooled budget whatever the pooling lever says")
    rounds: int | None = Field(
        None, ge=1, le=100, description="a new stream that opens at the run start and runs this many rounds (None: it ran before the start and goes on)"
    )

    @field_validator("interventions")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(INTERVENTION_KEYS))
        if unknown:
            raise ValueError(f"unknown intervention {unknown[0]!r}; expected one of {', '.join(INTERVENTION_KEYS)}")
        if abs(sum(value.values()) - 1.0) > 1e-6:
            raise ValueError(f"intervention shares must sum to 1, got {sum(value.values()):.4f}")
        return value

    @model_validator(mode="after")
    def _budget_unit(self) -> Programme:
        expected = {"households": "GBP/household/year", "young_people": "GBP/young_person/year", "councils": "GBP/council/year"}[self.budget_basis]
        if self.budget.unit != expected:
            raise ValueError(f"budget unit must be {expected!r} for budget_basis {self.budget_basis!r}")
        if self.grants is not None:
            for count in (self.grants.value, self.grants.low, self.grants.high):
                if count is not None and not 1 <= count <= MAX_GRANTS:
                    raise ValueError(f"grants must be from 1 to {MAX_GRANTS} a council and round, got {count:g}")
        return self

    @property
    def grant_count(self) -> int:
        """Separate grants each council gets per round."""
        return 1 if self.grants is None else int(round(self.grants.value))


class Mechanisms(_Frozen):
    """Named parameters of the mechanisms M1-M8 (DESIGN.md)."""

    months_to_find_team: Sourced
    months_to_find_team_spoc: Sourced
    months_to_find_team_campus: Sourced
    months_to_find_team_senior: Sourced
    months_to_find_replacement_mapped: Sourced
    bid_cost: Sourced
    bid_cost_scheme_value: Sourced
    bid_cost_elasticity: Sourced
    bid_success_probability: Sourced
    reporting_cost: Sourced
    stream_churn: Sourced
    stream_gap_months: Sourced
    carry_over_months: Sourced
    outreach_hit_rate: Sourced
    data_match_ceiling: Sourced
    initial_trust: Sourced
    trust_gain: Sourced
    trust_threshold: Sourced
    trust_floor: Sourced
    trust_decay: Sourced
    secondment_trust_multiplier: Sourced
    campus_trust_multiplier: Sourced
    staff_retention_months: Sourced
    recruitment_cost: Sourced
    team_headroom: Sourced
    deadline_rush_months: Sourced
    aligned_award_lag_months: Sourced
    pooling_negotiation_months: Sourced
    pooled_governance_cost: Sourced
    pooled_reporting_burden: Sourced
    pooled_targeting_penalty: Sourced
    data_sharing_cost: Sourced
    contact_cost: Sourced
    senior_contact_cost: Sourced
    funding_mapping_cost: Sourced
    secondment_cost: Sourced
    campus_cost: Sourced
    run_in_months: Sourced


class PlaceFit(_Frozen):
    """Fitted per-place trends (see :mod:`pfpp_sim.calibration`)."""

    income_trend: float = Field(0.0, ge=-0.5, le=0.5, description="household income relative to the poverty line, log points/year")
    neet_trend: float = Field(0.0, ge=-1.0, le=1.0, description="16-17 NEET entry hazard and share of new 16-year-olds NEET, log points/year")


class Calibration(_Frozen):
    """A fitted calibration embedded in a scenario; places it does not list keep zero trends.

    The trends describe the years fitted: they act up to the centre of the last data year
    of their series (``data_through``; fuel poverty to June, NEET 16-17 to the January of
    its DfE time period: :func:`~pfpp_sim.trends.data_centre`), where its published rate
    stands. After it they hold still, so no fitted trend is extrapolated, unless the
    scenario damps them instead (``world.trend_damping``, :mod:`pfpp_sim.trends`).
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    fitted_on: str
    data_through: dict[str, int] = Field(default_factory=dict, description="last data year per series")
    places: dict[str, PlaceFit] = Field(default_factory=dict)

    def trend_end(self, metric: str) -> str | None:
        """First month (YYYY-MM) after the centre of a series' last data year, where its trends stop (None: no end)."""
        year = self.data_through.get(metric)
        return None if year is None else data_centre(metric, year)

    def place(self, code: str) -> PlaceFit:
        """The fitted trends of a place (zero trends if it was not fitted)."""
        return self.places.get(code, _NO_TRENDS)


_NO_TRENDS = PlaceFit()


class UserSource(_Frozen):
    """One of the analyst's own sources or assumptions, declared in ``[user_sources.KEY]``.

    A value cites it as ``source = "user:KEY"`` and, like a value citing the assumptions
    registry, must carry a plausible ``low``/``high`` range: replicates use its value and
    ``pfpp robustness`` samples the range. Reports list it among the assumptions as the
    analyst's own.
    """

    description: str = Field(min_length=1, description="what the source says or what is assumed, in one line")
    reference: str = Field(min_length=1, description="where it comes from: a publication, a dataset, a survey, or whose judgement")
    range_reason: str | None = Field(None, min_length=1, description="why the low/high of the values citing it are what they are")

    @field_validator("description")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("a description on one line, without line breaks")
        return value


class Source(NamedTuple):
    """A file a scenario was read from.

    Attributes
    ----------
    role : str
        ``"scenario"`` (the file named), ``"extends"`` (a parent, in order) or ``"calibration"`` (its fit).
    name : str
        Scenario or fit name.
    origin : str
        ``"preset"`` or ``"shipped"`` (installed with the package), ``"file"`` (the user's), or
        ``"file replacing shipped"`` (a fit in ``./calibration/fitted/`` used instead of the shipped one).
    path : str
    sha256 : str
        Of the file's bytes.
    """

    role: str
    name: str
    origin: str
    path: str
    sha256: str


class Scenario(_Frozen):
    """A complete, validated scenario.

    :attr:`sources` lists the files it was read from (empty for a scenario built in
    code); overrides keep them.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="the scenario's name, shown in results")
    description: str = Field(description="what policy the scenario stands for, in a sentence")
    extends: str | None = Field(None, description="the preset or scenario file beside this one it inherits from")
    run: RunSettings = Field(description="[run]: start, horizon, places, scale")
    levers: Levers = Field(description="[levers]: joined-up or siloed working")
    world: World = Field(description="[world.households], [world.young_people]: residents' circumstances")
    mechanisms: Mechanisms = Field(description="[mechanisms]: how councils and departments behave")
    interventions: Interventions = Field(description="[interventions.NAME]: costs, effects and timings")
    programmes: dict[str, Programme] = Field(min_length=1, description="[programmes.NAME]: the funding streams")
    calibration: Calibration | None = Field(None, description="a fitted calibration's name, or \"none\" (see below)")
    user_sources: dict[str, UserSource] = Field(
        default_factory=dict, description="[user_sources.KEY]: the analyst's own sources, cited as source = \"user:KEY\" (see below)"
    )
    _sources: tuple[Source, ...] = PrivateAttr(default=())

    @property
    def sources(self) -> tuple[Source, ...]:
        """The files this scenario was read from: itself, its parents, its calibration."""
        return self._sources

    def _with_sources(self, sources: tuple[Source, ...]) -> Scenario:
        self._sources = tuple(sources)
        return self

    @field_validator("programmes")
    @classmethod
    def _programme_keys(cls, value: dict[str, Programme]) -> dict[str, Programme]:
        for key in value:
            if not _NAME.match(key):
                raise ValueError(f"programme key {key!r} must be letters, digits and underscores")
        return value

    @field_validator("user_sources")
    @classmethod
    def _user_keys(cls, value: dict[str, UserSource]) -> dict[str, UserSource]:
        for key in value:
            if not _NAME.match(key):
                raise ValueError(f"user source key {key!r} must be letters, digits and underscores")
        return value

    @model_validator(mode="after")
    def _user_sources_cited_exist(self) -> Scenario:
        """Every ``user:KEY`` a value cites is declared in ``[user_sources]``."""
        for path, value in sourced_parameters(self):
            key = value.source.removeprefix("user:")
            if is_user_source(value.source) and key not in self.user_sources:
                raise PydanticCustomError(
                    "unknown_user_source",
                    "a key of [user_sources] (declared: {declared}): add [user_sources.{key}] with a description and a reference",
                    {"path": f"{path}.source", "source": value.source, "declared": ", ".join(self.user_sources) or "none", "key": key},
                )
        return self

    def scenario_hash(self) -> str:
        """Return a short SHA-256 of the scenario contents (name, description and extends excluded).

        Tables such as ``programmes`` keep the order they were written in: that order can
        change results (the order programmes act in, which share gets a leftover penny),
        so scenarios that differ only in it get different hashes. The analyst's own
        sources and ``world.trend_damping`` count when they are set; a scenario without
        them hashes as it did before they existed, so recorded results still match.
        """
        exclude: dict[str, Any] = {key: True for key in ("name", "description", "extends")}
        if not self.user_sources:
            exclude["user_sources"] = True
        if self.world.trend_damping is None:
            exclude["world"] = {"trend_damping"}
        data = self.model_dump(mode="json", exclude=exclude)
        blob = json.dumps(data, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_overrides(self, overrides: Mapping[str, Any], *, name: str | None = None) -> Scenario:
        """Return a copy with dotted key paths replaced, validated again.

        Parameters
        ----------
        overrides : mapping of str to value
            E.g. ``{"levers.pooling": 0.5, "mechanisms.bid_cost.value": 30000}``.
            Setting the ``value`` of a sourced quantity makes it a point value (evidence: no
            range; an assumption: a range of zero width).
        name : str, optional
            Name of the new scenario (default: unchanged).

        Raises
        ------
        ScenarioError
            If a key path does not exist or a value is invalid.
        """
        # Sections no key path enters are passed as they are: pydantic takes a validated part
        # without validating it again; the sections changed and the whole are validated.
        changed = {path.split(".")[0] for path in overrides}
        data = {field: getattr(self, field) for field in type(self).model_fields}
        data.update(self.model_dump(mode="python", include=changed))
        for path, value in overrides.items():
            node = data
            parts = path.split(".")
            for part in parts[:-1]:
                if not isinstance(node, dict) or part not in node:
                    raise ScenarioError(f"<overrides of {self.name}>", path, value, "a key path that exists in the scenario")
                node = node[part]
            if not isinstance(node, dict) or parts[-1] not in node:
                raise ScenarioError(f"<overrides of {self.name}>", path, value, "a key path that exists in the scenario")
            node[parts[-1]] = value
            if parts[-1] == "value" and {"low", "high", "unit", "source"} <= set(node):
                # An overridden value is a point value: evidence is no longer drawn per
                # replicate, and an assumption's range shrinks to the value (nothing to sample).
                node["low"] = node["high"] = value if is_assumption(node["source"]) else None
        if name is not None:
            data["name"] = name
        return _validate(data, f"<overrides of {self.name}>")._with_sources(self._sources)


def describe_sources(scenario: Scenario, *, version: str) -> str:
    """One line saying where a scenario and its calibration came from.

    E.g. ``"my_case: file my_case.toml (sha256 1a2b3c4d), extends preset siloed_baseline;
    calibration pilots (shipped with pfpp_sim 0.2.0)"``.

    Parameters
    ----------
    scenario : Scenario
    version : str
        The package version, named for what ships with it.
    """

    def where(source: Source) -> str:
        if source.origin == "preset":
            return f"preset {source.name}"
        if source.origin == "shipped":
            return f"{source.name} (shipped with pfpp_sim {version})"
        replacing = ", replacing the shipped fit" if source.origin == "file replacing shipped" else ""
        label = "file" if source.role != "calibration" else source.name + " from"
        return f"{label} {source.path}{replacing} (sha256 {source.sha256[:8]})"

    files = [s for s in scenario.sources if s.role != "calibration"]
    chain = ", extends ".join(where(s) for s in files) if files else "built in code"
    fits = [s for s in scenario.sources if s.role == "calibration"]
    if fits:
        fit = f"calibration {where(fits[0])}"
    else:
        fit = "calibration " + (scenario.calibration.name if scenario.calibration else "none (no fitted trends)")
    return f"{scenario.name}: {chain}; {fit}"


def _presets_dir() -> Path:
    return Path(str(resources.files("pfpp_sim.scenarios")))


def list_presets() -> list[str]:
    """Return the names of the shipped scenario presets, sorted."""
    return sorted(p.stem for p in _presets_dir().glob("*.toml"))


def list_examples() -> list[Path]:
    """Return the paths of the shipped worked examples (``scenarios/examples/``): what-if files to copy and edit."""
    return sorted(Path(str(resources.files("pfpp_sim.scenarios.examples"))).glob("*.toml"))


def preset_path(name: str) -> Path:
    """Return the path of a shipped preset.

    Raises
    ------
    ScenarioError
        If no preset has that name.
    """
    path = _presets_dir() / f"{name}.toml"
    if not _NAME.match(name) or not path.is_file():
        raise ScenarioError("<presets>", "name", name, f"one of {', '.join(list_presets())}")
    return path


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """A scenario file's contents and the SHA-256 of its bytes."""
    data, blob = read_toml(path, what="scenario file or preset name")
    if not data:
        raise ScenarioError(path, "", "", "a scenario with at least 'name' and 'extends' or a full definition")
    return data, hashlib.sha256(blob).hexdigest()


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _resolve_parent(name: Any, child: Path) -> Path:
    """The file a scenario's ``extends`` names: a preset, or else a file beside the scenario.

    A file beside the scenario never silently replaces a preset of the same name (that
    is an error asking to rename it), and may not be a link to a file in another folder.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ScenarioError(child, "extends", name, "a scenario name (letters, digits, underscores; no paths)")
    beside = child.parent / f"{name}.toml"
    preset = _presets_dir() / f"{name}.toml"
    if preset.is_file():
        if beside.is_file() and beside.resolve() != preset.resolve():
            raise ScenarioError(
                child, "extends", name,
                f"one parent, but both the preset {name} and the file {beside} have this name: "
                "rename the file to extend it (a file never replaces a preset)",
            )
        return preset
    if beside.is_file():
        if beside.resolve().parent != child.resolve().parent:
            raise ScenarioError(child, "extends", name, f"a scenario in this folder, not a link to one outside it ({beside})")
        return beside
    raise ScenarioError(child, "extends", name, f"a scenario beside this file or a preset ({', '.join(list_presets())})")


def _load_tree(path: Path, seen: tuple[Path, ...], sources: list[Source]) -> dict[str, Any]:
    """Read a scenario and its parents, merged; record each file in ``sources``."""
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(p.stem for p in (*seen, resolved))
        raise ScenarioError(seen[-1], "extends", path.stem, f"no cycle of extends ({chain})")
    data, digest = _read_toml(path)
    origin = "preset" if resolved.parent == _presets_dir().resolve() else "file"
    name = data.get("name") if isinstance(data.get("name"), str) else path.stem
    sources.append(Source("extends" if seen else "scenario", name, origin, str(path), digest))
    parent = data.get("extends")
    if parent is None:
        return data
    base = _load_tree(_resolve_parent(parent, path), (*seen, resolved), sources)
    return _merge(base, data)


def _embed_trends(data: dict[str, Any], source: str | Path, sources: list[Source], fit_file: Path | None = None):
    """Replace a fit's name (or the fit file given) by its per-place trends and record its file.

    Returns the fit, or None if none is named.
    """
    from pfpp_sim.calibration.fitted import fit_origin, read_fit, read_fit_file  # imports this module's errors only

    if fit_file is not None:
        fit, path, origin = read_fit_file(fit_file), Path(fit_file), "file"
    else:
        name = data.get("calibration")
        if not isinstance(name, str):
            return None
        if name == "none":
            del data["calibration"]
            return None
        fit = read_fit(name, named_in=source)
        path, origin = fit_origin(name)
    sources.append(Source("calibration", fit.name, origin, str(path), hashlib.sha256(path.read_bytes()).hexdigest()))
    data["calibration"] = fit.embedded()
    return fit


def _with_fitted_globals(scenario: Scenario, fit) -> Scenario:
    """Set a fit's global values on a valid scenario, with source ``calibrated:<name>``."""
    data = scenario.model_dump(mode="python")
    for path, estimate in fit.globals.items():
        node = data
        for part in path.split(".")[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        leaf = node.get(path.split(".")[-1]) if isinstance(node, dict) else None
        if not isinstance(leaf, dict) or "source" not in leaf:
            raise ScenarioError(f"calibration {fit.name}", "globals", path, "a sourced key path that exists in the scenario")
        leaf.update(value=estimate.value, source=f"calibrated:{fit.name}", low=None, high=None)
    return _validate(data, f"calibration {fit.name}")


def _validate(data: dict[str, Any], source: str | Path) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        bad = err.errors()[0]
        key = ".".join(str(part) for part in bad["loc"])
        msg = bad["msg"]
        if bad["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; unknown keys are not allowed)"
        elif bad["type"] == "missing":
            msg = "a value (required key is missing)"
        elif bad["type"] in _EXPECTED:
            msg = _wrong_type(bad["type"], bad.get("input"))
        elif bad["type"] == "unknown_user_source":
            raise ScenarioError(source, bad["ctx"]["path"], bad["ctx"]["source"], msg) from err
        raise ScenarioError(source, key, bad.get("input"), msg) from err


_EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "string_type": "text",
    "finite_number": "a finite number",
}


def _wrong_type(kind: str, value: Any) -> str:
    """What a value of the wrong type should have been, and what it is (values are never converted)."""
    if kind == "finite_number":
        return "a finite number (nan and inf are not numbers)"
    if isinstance(value, bool):
        given = "a boolean"
    elif isinstance(value, int):
        given = "a number"
    elif isinstance(value, float):
        given = "a decimal" if kind == "int_type" else "a number"
    elif isinstance(value, str):
        given = "text"
    else:
        given = f"a {type(value).__name__}"
    return f"{_EXPECTED[kind]}, not {given}"


def load_scenario(name_or_path: str | Path, *, calibration: str | Path | None = None) -> Scenario:
    """Load and validate a scenario from a preset name or a TOML file.

    Parameters
    ----------
    name_or_path : str or Path
        A preset name (``"siloed_baseline"``) or a path to a ``.toml`` file.
    calibration : str or Path, optional
        Instead of the fit the scenario names: a fit name, ``"none"``, or the path of a
        fit file (a ``.toml`` written by ``pfpp calibrate``).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With the file, key path, bad value and what was expected.
    """
    text = str(name_or_path)
    path = Path(text)
    if not text.endswith(".toml") and _NAME.match(text) and not path.is_file():
        path = preset_path(text)
    if path.is_dir():
        raise ScenarioError(path, "", text, "a scenario TOML file, not a directory")
    sources: list[Source] = []
    data = _load_tree(path, (), sources)
    fit_file = None
    if calibration is not None:
        if isinstance(calibration, Path) or str(calibration).endswith(".toml"):
            fit_file = Path(calibration)
        else:
            data["calibration"] = str(calibration)
    fit = _embed_trends(data, path if calibration is None else "--calibration", sources, fit_file)
    scenario = _validate(data, path)
    return (_with_fitted_globals(scenario, fit) if fit else scenario)._with_sources(tuple(sources))
