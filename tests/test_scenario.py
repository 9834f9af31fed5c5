"""Behaviour of scenario loading: presets, ``extends``, validation errors and hashing."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toml_fuzz import assert_one_line_naming, scenario_children, write_toml

import pfpp_sim
from pfpp_sim.calibration.fitted import read_fit
from pfpp_sim.errors import ScenarioError
from pfpp_sim.evidence import ASSUMPTIONS, EVIDENCE_KEYS, assumed_parameters
from pfpp_sim.scenario import INTERVENTION_KEYS, Scenario, describe_sources, list_examples, list_presets, load_scenario

PACKAGE = Path(str(resources.files("pfpp_sim")))
PRESETS_DIR = Path(str(resources.files("pfpp_sim.scenarios")))
HEADER = 'name = "{name}"\ndescription = "a test scenario"\nextends = "{parent}"\n'


def write_scenario(folder: Path, body: str = "", *, name: str = "child", parent: str = "siloed_baseline") -> Path:
    """Write ``<folder>/<name>.toml`` that extends ``parent`` and adds ``body``."""
    path = folder / f"{name}.toml"
    path.write_text(HEADER.format(name=name, parent=parent) + body, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


# ------------------------------------------------------------------------ presets


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_loads_and_keeps_its_name(name):
    scenario = load_scenario(name)
    assert isinstance(scenario, Scenario)
    assert scenario.name == name


@pytest.mark.parametrize("path", list_examples(), ids=lambda p: p.name)
def test_every_worked_example_loads(path):
    assert isinstance(load_scenario(path), Scenario)


def test_every_file_of_the_scenarios_folder_is_a_preset_or_an_example_the_tests_load():
    folder = Path(__file__).resolve().parents[1] / "scenarios"
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*.toml")}
    assert files == {f"{n}.toml" for n in list_presets()} | {f"examples/{p.name}" for p in list_examples()}


def test_the_presets_named_in_the_design_ship():
    assert {"siloed_baseline", "pfpp_joined_up", "funding_simplification", "policy_campus", "stop_start"} <= set(
        list_presets()
    )


def test_a_preset_can_be_loaded_by_path_as_well_as_by_name():
    path = PRESETS_DIR / "pfpp_joined_up.toml"
    assert load_scenario(path) == load_scenario("pfpp_joined_up")


# ------------------------------------------------------------------------ extends


def test_child_overriding_one_lever_keeps_the_parents_other_levers(tmp_path):
    parent = load_scenario("pfpp_joined_up")
    child = load_scenario(write_scenario(tmp_path, "[levers]\ndata_sharing = 0.1\n", parent="pfpp_joined_up"))
    assert child.levers == parent.levers.model_copy(update={"data_sharing": 0.1})
    assert child.programmes == parent.programmes
    assert child.world == parent.world


def test_child_overriding_a_nested_value_keeps_its_unit_and_source(tmp_path):
    parent = load_scenario("siloed_baseline").programmes["home_upgrade"]
    child = load_scenario(write_scenario(tmp_path, "[programmes.home_upgrade.budget]\nvalue = 30\n"))
    budget = child.programmes["home_upgrade"].budget
    assert budget.value == 30
    assert (budget.unit, budget.source) == (parent.budget.unit, parent.budget.source)
    assert child.programmes["home_upgrade"].model_copy(update={"budget": parent.budget}) == parent


def test_a_scenario_can_extend_a_file_beside_it(tmp_path):
    write_scenario(tmp_path, "[levers]\npooling = 0.4\n", name="middle")
    grandchild = load_scenario(write_scenario(tmp_path, "[levers]\ndata_sharing = 0.5\n", parent="middle"))
    assert (grandchild.levers.pooling, grandchild.levers.data_sharing) == (0.4, 0.5)
    assert grandchild.name == "child"


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("body", "key", "shown"),
    [
        ("[levers]\npoolling = 0.5\n", "levers.poolling", "= 0.5: unknown key"),
        ("[programmes.home_upgrade.budget]\ncurrency = 'GBP'\n", "programmes.home_upgrade.budget.currency", "= 'GBP': unknown key"),
        ("[programmes.home_upgrade.budget]\nvalue = -5\n", "programmes.home_upgrade.budget.value", "= -5: "),
        ("[levers]\npooling = 'lots'\n", "levers.pooling", "= 'lots': "),
        ("[levers]\npooling = 1.5\n", "levers.pooling", "= 1.5: "),
    ],
    ids=["misspelled_lever", "unknown_key_deep_in_a_table", "negative_budget", "wrong_type", "lever_out_of_range"],
)
def test_bad_key_or_value_names_the_file_the_full_key_path_and_the_value(tmp_path, body, key, shown):
    path = write_scenario(tmp_path, body)
    message = load_error(path)
    assert message.startswith(f"{path}: {key} {shown}"), message


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ("[levers]\npooling = true\n", "levers.pooling", "= True: a number, not a boolean"),
        ("[levers]\npooling = '0.5'\n", "levers.pooling", "= '0.5': a number, not text"),
        ("[levers]\ncarry_over = 'off'\n", "levers.carry_over", "= 'off': true or false, not text"),
        ("[levers]\ncarry_over = 1\n", "levers.carry_over", "= 1: true or false, not a number"),
        ("[run]\nhorizon_months = 24.0\n", "run.horizon_months", "= 24.0: a whole number, not a decimal"),
        ("[levers]\npooling = nan\n", "levers.pooling", "= nan: a finite number (nan and inf are not numbers)"),
        ("[mechanisms.bid_cost]\nvalue = inf\n", "mechanisms.bid_cost.value", "= inf: a finite number (nan and inf are not numbers)"),
    ],
    ids=["bool_for_number", "text_for_number", "text_for_bool", "number_for_bool", "decimal_for_whole", "nan", "inf"],
)
def test_values_of_the_wrong_type_are_refused_not_converted(tmp_path, body, key, expected):
    path = write_scenario(tmp_path, body)
    assert load_error(path) == f"{path}: {key} {expected}"


def test_missing_extends_target_names_the_file_and_the_missing_parent(tmp_path):
    path = write_scenario(tmp_path, parent="no_such_parent")
    message = load_error(path)
    assert str(path) in message
    assert "extends" in message
    assert "no_such_parent" in message


def test_cyclic_extends_is_reported_as_a_cycle(tmp_path):
    write_scenario(tmp_path, name="first", parent="second")
    write_scenario(tmp_path, name="second", parent="first")
    message = load_error(tmp_path / "first.toml")
    assert str(tmp_path) in message
    assert "cycle" in message


def test_a_file_named_like_a_preset_beside_a_scenario_never_silently_replaces_the_preset(tmp_path):
    write_scenario(tmp_path, "[levers]\npooling = 0.9\n", name="siloed_baseline", parent="pfpp_joined_up")
    child = write_scenario(tmp_path)
    message = load_error(child)
    assert message.startswith(f"{child}: extends = 'siloed_baseline': ")
    assert "preset" in message and "rename" in message


def test_a_parent_file_beside_a_scenario_is_used_when_no_preset_has_its_name(tmp_path):
    write_scenario(tmp_path, "[levers]\npooling = 0.9\n", name="my_parent")
    child = load_scenario(write_scenario(tmp_path, parent="my_parent"))
    assert child.levers.pooling == 0.9
    assert [(s.role, s.name, s.origin) for s in child.sources][:2] == [("scenario", "child", "file"), ("extends", "my_parent", "file")]


def test_extends_refuses_a_link_that_leaves_the_scenario_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    write_scenario(outside, "[levers]\npooling = 0.2\n", name="elsewhere")
    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "linked.toml").symlink_to(outside / "elsewhere.toml")
    child = write_scenario(inside, parent="linked")
    message = load_error(child)
    assert message.startswith(f"{child}: extends = 'linked': ") and "outside" in message.split(": ", 3)[-1]
    assert "pooling" not in message


def test_a_loaded_scenario_records_every_file_it_was_read_from_with_its_hash(tmp_path):
    child = load_scenario(write_scenario(tmp_path, "[levers]\npooling = 0.4\n"))
    roles = [(s.role, s.name, s.origin) for s in child.sources]
    assert roles == [("scenario", "child", "file"), ("extends", "siloed_baseline", "preset"), ("calibration", "england", "shipped")]
    for source in child.sources:
        assert source.sha256 == hashlib.sha256(Path(source.path).read_bytes()).hexdigest()
    assert child.with_overrides({"levers.pooling": 0.5}).sources == child.sources, "overrides keep where the rest came from"


@pytest.mark.parametrize("parent", ["../etc/passwd", "/etc/passwd", "scenarios/siloed_baseline", "siloed_baseline.toml"])
def test_extends_refuses_paths(tmp_path, parent):
    path = write_scenario(tmp_path, parent=parent)
    message = load_error(path)
    assert str(path) in message
    assert "extends" in message


def test_invalid_toml_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "broken\n[levers\n', encoding="utf-8")
    message = load_error(path)
    assert str(path) in message
    assert "TOML" in message


def test_integer_too_long_to_convert_is_a_scenario_error(tmp_path):
    # tomllib raises a plain ValueError (not TOMLDecodeError) for integers over
    # Python's 4300-digit conversion limit.
    path = write_scenario(tmp_path, "[levers]\npooling = " + "9" * 5000 + "\n")
    assert str(path) in load_error(path)


def test_unknown_evidence_key_is_refused(tmp_path):
    assert "E00" not in EVIDENCE_KEYS
    path = write_scenario(tmp_path, "[programmes.home_upgrade.budget]\nsource = 'E00'\n")
    message = load_error(path)
    assert "programmes.home_upgrade.budget.source" in message
    assert "E00" in message


def test_malformed_source_is_refused(tmp_path):
    message = load_error(write_scenario(tmp_path, "[mechanisms.bid_cost]\nsource = 'a survey'\n"))
    assert "mechanisms.bid_cost.source" in message


def test_unregistered_assumption_is_refused(tmp_path):
    path = write_scenario(tmp_path, "[mechanisms.bid_cost]\nsource = 'assumption:foo'\n")
    message = load_error(path)
    assert "mechanisms.bid_cost.source" in message
    assert "foo" in message
    assert "registry" in message


def test_intervention_shares_that_do_not_sum_to_one_are_refused(tmp_path):
    body = "[programmes.household_support.interventions]\nincome_advice = 0.5\nbill_support = 0.2\n"
    message = load_error(write_scenario(tmp_path, body))
    assert "programmes.household_support.interventions" in message
    assert "sum to 1" in message


def test_intervention_share_that_is_not_a_number_is_refused(tmp_path):
    # NaN passes both the "non-negative" and the "sums to 1" comparisons.
    body = "[programmes.household_support.interventions]\nincome_advice = nan\nbill_support = 0.0\n"
    message = load_error(write_scenario(tmp_path, body))
    assert "programmes.household_support.interventions" in message


def test_unknown_intervention_in_a_programme_is_refused(tmp_path):
    body = "[programmes.household_support.interventions]\nincome_advice = 0.0\nbill_support = 0.0\nsoup_kitchen = 1.0\n"
    message = load_error(write_scenario(tmp_path, body))
    assert "soup_kitchen" in message


@pytest.mark.parametrize(("basis", "unit"), [("young_people", "GBP/young_person/year"), ("councils", "GBP/council/year")])
def test_budget_unit_must_match_its_basis(tmp_path, basis, unit):
    message = load_error(write_scenario(tmp_path, f"[programmes.home_upgrade]\nbudget_basis = '{basis}'\n"))
    assert "programmes.home_upgrade" in message
    assert unit in message


def test_a_team_cannot_reach_steady_delivery_before_it_first_delivers(tmp_path):
    message = load_error(write_scenario(tmp_path, "[interventions.retrofit.months_to_steady]\nvalue = 0\n"))
    assert "interventions.retrofit" in message
    assert "months_to_steady (0) must be at least mobilisation_months (1)" in message


@pytest.mark.parametrize(
    ("body", "key", "reason"),
    [
        (
            "[programmes.household_support.interventions]\nincome_advice = 0.0\nbill_support = 0.0\nsoup_kitchen = 1.0\n",
            "programmes.household_support.interventions",
            f"unknown intervention 'soup_kitchen'; expected one of {', '.join(INTERVENTION_KEYS)}",
        ),
        (
            "[programmes.household_support.interventions]\nincome_advice = 1.5\nbill_support = -0.5\n",
            "programmes.household_support.interventions.bill_support",  # the share itself, by its type
            "Input should be greater than or equal to 0",
        ),
        (
            "[world.trend_damping]\nvalue = 0.9\nunit = 'ratio/year'\nsource = 'assumption:trend_damping'\nlow = 0.5\nhigh = 1.2\n",
            "world.trend_damping",
            "trend damping must be at most 1 a year (1 continues the trends undamped)",
        ),
        (
            "[world.young_people.mh_prevalence.21]\nvalue = 0.1\nunit = 'fraction'\nsource = 'E47'\n",
            "world.young_people.mh_prevalence",
            "expected year keys like '2021', got '21'",
        ),
    ],
    ids=["unknown intervention", "negative share", "damping range above 1", "year key"],
)
def test_a_refused_value_is_named_with_the_whole_reason(tmp_path, body, key, reason):
    path = write_scenario(tmp_path, body)
    message = load_error(path)
    assert message.startswith(f"{path}: {key} = ") and message.endswith(f" {reason}"), message


def test_a_share_of_zero_and_steady_delivery_from_the_first_delivery_are_allowed(tmp_path):
    body = (
        "[programmes.household_support.interventions]\nincome_advice = 1.0\nbill_support = 0.0\n"
        "[interventions.retrofit.months_to_steady]\nvalue = 1\n"
    )
    scenario = load_scenario(write_scenario(tmp_path, body))
    assert scenario.programmes["household_support"].interventions["bill_support"] == 0.0
    assert scenario.interventions.retrofit.months_to_steady.value == scenario.interventions.retrofit.mobilisation_months.value == 1


@pytest.mark.parametrize("count", [0, 0.4, 51])
def test_a_programme_paid_as_no_grant_or_too_many_is_refused(tmp_path, count):
    body = f"[programmes.careers.grants]\nvalue = {count}\nunit = 'grants/council/round'\nsource = 'assumption:small_grants'\nlow = {count}\nhigh = {count}\n"
    message = load_error(write_scenario(tmp_path, body))
    assert "programmes.careers" in message
    assert f"grants must be from 1 to 50 a council and round, got {count:g}" in message


def test_a_key_with_a_newline_is_named_on_one_line(tmp_path):
    path = write_scenario(tmp_path, '[levers]\n"pool\\ning" = 0.5\n')
    message = load_error(path)
    assert len(message.splitlines()) == 1
    assert "levers.pool\\ning" in message


@pytest.mark.parametrize(
    ("body", "key", "limit"),
    [
        ("[world.young_people.neet_exit_hazard]\nvalue = 1.5\nlow = 1.5\nhigh = 1.5\n", "world.young_people.neet_exit_hazard", "at most 1"),
        ("[programmes.home_upgrade.budget]\nvalue = 1e12\n", "programmes.home_upgrade.budget", "at most 100000"),
        ("[interventions.bill_support.duration_months]\nvalue = 1e12\nlow = 1e12\nhigh = 1e12\n", "interventions.bill_support.duration_months", "at most 1200"),
    ],
    ids=["probability_above_one", "budget_beyond_exact_pence", "duration_beyond_a_century"],
)
def test_a_quantity_beyond_the_limit_of_its_unit_is_refused(tmp_path, body, key, limit):
    message = load_error(write_scenario(tmp_path, body))
    assert key in message and limit in message


def test_a_trend_damping_above_1_a_year_is_refused(tmp_path):
    # A unit other than a fraction escapes the unit limits; the damping itself is at most 1.
    body = "[world.trend_damping]\nvalue = 1.2\nunit = 'ratio/year'\nsource = 'assumption:trend_damping'\nlow = 0.5\nhigh = 1.2\n"
    message = load_error(write_scenario(tmp_path, body))
    assert "world.trend_damping" in message and "at most 1 a year" in message


def test_a_scenario_may_damp_its_fitted_trends_and_that_counts_in_its_hash(tmp_path):
    damping = "{ value = 0.9, unit = 'fraction/year', source = 'assumption:trend_damping', low = 0.5, high = 0.95 }"
    damped = load_scenario(write_scenario(tmp_path, f"[world]\ntrend_damping = {damping}\n"))
    base = load_scenario("siloed_baseline")
    assert (base.world.trend_damping_per_year, damped.world.trend_damping_per_year) == (0.0, 0.9)
    assert damped.scenario_hash() != base.scenario_hash()
    assert damped.with_overrides({"world.trend_damping": None}).scenario_hash() == base.scenario_hash()


def test_the_forecast_preset_starts_after_the_data_and_holds_its_fitted_trends_with_a_range_to_carry_them_on():
    # The published changes of a place do not carry into the next year (assumption:trend_damping),
    # so the preset holds fitted trends at their data end; its range reaches a damped trend.
    forecast, baseline = load_scenario("baseline_forecast"), load_scenario("siloed_baseline")
    assert (forecast.run.start, forecast.run.horizon_months) == ("2024-03", 82)  # to December 2030
    assert forecast.world.trend_damping.source == "assumption:trend_damping"
    damping = forecast.world.trend_damping
    assert damping.low == forecast.world.trend_damping_per_year == 0.0 < damping.high < 1
    assert forecast.levers == baseline.levers and forecast.programmes == baseline.programmes, "siloed programmes"
    assert forecast.calibration == baseline.calibration


def test_a_mental_health_prevalence_of_one_is_refused(tmp_path):
    body = "[world.young_people.mh_prevalence.2021]\nvalue = 1.0\nunit = 'fraction'\nsource = 'E47'\n"
    message = load_error(write_scenario(tmp_path, body))
    assert "world.young_people.mh_prevalence" in message and "[0, 1)" in message


PRESETS = ", ".join(list_presets())
UNKNOWN = "unknown key (check the spelling; unknown keys are not allowed)"


@pytest.mark.parametrize(
    ("name", "text", "key", "value", "expected"),
    [
        ("absent.toml", None, "", "{path}", "an existing scenario file or preset name"),
        ("empty.toml", "", "", "", "a scenario with at least 'name' and 'extends' or a full definition"),
        ("typo.toml", HEADER.format(name="typo", parent="siloed_baseline") + "colour = 1\n", "colour", 1, UNKNOWN),
        ("bare.toml", 'name = "bare"\ndescription = "no run"\n', "run", {"name": "bare", "description": "no run"},
         "a value (required key is missing)"),
        ("path.toml", HEADER.format(name="path", parent="../up"), "extends", "../up",
         "a scenario name (letters, digits, underscores; no paths)"),
        ("orphan.toml", HEADER.format(name="orphan", parent="nobody"), "extends", "nobody",
         f"a scenario beside this file or a preset ({PRESETS})"),
        ("loop.toml", HEADER.format(name="loop", parent="loop"), "extends", "loop", "no cycle of extends (loop -> loop)"),
    ],
    ids=["missing_file", "empty_file", "unknown_key", "missing_key", "extends_path", "extends_nothing", "extends_itself"],
)
def test_loader_errors_read_exactly_as_documented(tmp_path, name, text, key, value, expected):
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    value = value.format(path=path) if isinstance(value, str) else value
    assert_error(info.value, path.resolve() if name == "loop.toml" else path, key, value, expected)


def assert_error(err: ScenarioError, path, key: str, value, expected: str) -> None:
    """The error holds exactly these parts and prints them as ``path: key = value: expected``."""
    assert (err.path, err.key, err.value, err.expected) == (str(path), key, value, expected)
    assert str(err).startswith(f"{path}: {key or '<file>'} = ") and str(err).endswith(f": {expected}")


def test_a_folder_is_refused_as_not_a_scenario_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    assert_error(info.value, tmp_path, "", str(tmp_path), "a scenario TOML file, not a directory")


def test_a_file_that_is_not_utf8_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"name = 'caf\xe9'\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert_error(info.value, path, "", str(path), "a readable UTF-8 TOML file (UnicodeDecodeError)")


def test_an_unknown_preset_name_lists_the_presets():
    with pytest.raises(ScenarioError) as info:
        load_scenario("no_such_preset")
    assert str(info.value) == f"<presets>: name = 'no_such_preset': one of {PRESETS}"


def test_a_file_saved_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER.format(name="bom", parent="siloed_baseline")).encode())
    assert load_scenario(path).name == "bom"


def test_a_scenario_file_without_the_toml_suffix_loads_by_path(tmp_path):
    path = tmp_path / "scenario.txt"
    path.write_text(HEADER.format(name="plain", parent="siloed_baseline"), encoding="utf-8")
    assert load_scenario(path).name == "plain"
    assert load_scenario(str(path)).name == "plain"


# ------------------------------------------------------------------------- safety


def test_python_in_a_scenario_file_is_never_run(tmp_path):
    sentinel = tmp_path / "ran"
    path = tmp_path / "code.toml"
    path.write_text(f"__import__('pathlib').Path({str(sentinel)!r}).touch()\n", encoding="utf-8")
    assert "valid TOML" in load_error(path)
    assert not sentinel.exists()


def test_the_package_has_no_way_to_run_code_from_user_files():
    # Scenario and sweep files are parsed by tomllib only: nothing may evaluate or unpickle text.
    risky = re.compile(r"(?<![\w.])(eval|exec|compile|__import__)\(|\bpickle\.loads?\(|\byaml\.load\(|\bmarshal\.|\bimport_module\(")
    # The one import by name: the package's lazy API, which imports only modules its own table names.
    lazy_api = (PACKAGE / "__init__.py", "value = getattr(importlib.import_module(module), name)")
    found = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if risky.search(line) and (path, line.strip()) != lazy_api
    ]
    assert not found, found
    assert lazy_api[1] in lazy_api[0].read_text(encoding="utf-8")
    assert all(re.fullmatch(r"pfpp_sim(\.[a-z_]+)+", module) for module in pfpp_sim._API.values())


# ---------------------------------------------------------------- with_overrides


def test_with_overrides_replaces_a_dotted_key_and_revalidates():
    base = load_scenario("siloed_baseline")
    changed = base.with_overrides({"levers.pooling": 0.5, "mechanisms.bid_cost.value": 30000})
    assert changed.levers.pooling == 0.5
    assert changed.mechanisms.bid_cost.value == 30000
    assert changed.mechanisms.bid_cost.source == base.mechanisms.bid_cost.source
    assert base.levers.pooling == 0.0


@pytest.mark.parametrize("key", ["levers.poolling", "levers.pooling.value", "nowhere.pooling", "programmes.new_stream"])
def test_with_overrides_of_a_key_path_that_does_not_exist_names_it(key):
    with pytest.raises(ScenarioError, match=re.escape(key)):
        load_scenario("siloed_baseline").with_overrides({key: 0.5})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"levers.poolling": 0.5}, "levers.poolling = 0.5: a key path that exists in the scenario"),
        ({"nowhere.pooling": 0.5}, "nowhere.pooling = 0.5: a key path that exists in the scenario"),
        ({"levers.pooling": -1}, "levers.pooling = -1: Input should be greater than or equal to 0"),
    ],
)
def test_override_errors_name_the_scenario_they_override(overrides, message):
    with pytest.raises(ScenarioError) as info:
        load_scenario("siloed_baseline").with_overrides(overrides)
    assert str(info.value) == f"<overrides of siloed_baseline>: {message}"


def test_with_overrides_gives_the_scenario_its_changed_contents_validate_to_and_keeps_the_sections_it_does_not_change():
    base = load_scenario("siloed_baseline")
    changed = base.with_overrides({"levers.pooling": 0.5, "mechanisms.bid_cost.value": 30000.0})
    assert changed == Scenario.model_validate(changed.model_dump(mode="python"))._with_sources(base.sources)
    assert changed.calibration is base.calibration and changed.world is base.world, "valid already: not validated again"
    assert changed.programmes == base.programmes and changed.levers != base.levers and changed.mechanisms != base.mechanisms


def test_an_override_is_checked_against_sections_it_does_not_change(tmp_path):
    cited = load_scenario(write_scenario(tmp_path, OWN_SOURCE))
    with pytest.raises(ScenarioError, match=r"mh_hub\.effect\.source = 'user:hub_audit': a key of \[user_sources\]"):
        cited.with_overrides({"user_sources": {}})


def test_with_overrides_can_rename_the_scenario():
    renamed = load_scenario("siloed_baseline").with_overrides({}, name="copy")
    assert renamed.name == "copy"
    assert renamed.model_copy(update={"name": "siloed_baseline"}) == load_scenario("siloed_baseline")


def test_overriding_the_range_of_a_sourced_value_keeps_the_range_given():
    scenario = load_scenario("siloed_baseline").with_overrides({"mechanisms.bid_cost.low": 10000})
    assert scenario.mechanisms.bid_cost.low == 10000
    assert scenario.mechanisms.bid_cost.high == load_scenario("siloed_baseline").mechanisms.bid_cost.high


# ------------------------------------------------------------------------ hashing


def test_scenario_hash_is_stable_for_the_same_content(tmp_path):
    first = write_scenario(tmp_path, "[levers]\npooling = 0.3\n", name="first")
    second = write_scenario(tmp_path, "[levers]\npooling = 0.3\n", name="second")
    assert load_scenario(first).scenario_hash() == load_scenario(second).scenario_hash()
    third = write_scenario(tmp_path, "[levers]\npooling = 0.31\n", name="third")
    assert load_scenario(third).scenario_hash() != load_scenario(first).scenario_hash()


def test_scenario_hash_is_16_hex_digits_and_ignores_name_description_and_extends(tmp_path):
    base = load_scenario("siloed_baseline")
    path = write_scenario(tmp_path, name="renamed", parent="siloed_baseline")
    child = load_scenario(path)
    assert (child.name, child.description, child.extends) != (base.name, base.description, base.extends)
    assert child.scenario_hash() == base.scenario_hash()
    assert re.fullmatch(r"[0-9a-f]{16}", base.scenario_hash())


def test_programmes_in_another_order_give_another_hash():
    # The order programmes act in changes results, so it is part of what the hash identifies.
    base = load_scenario("siloed_baseline")
    data = base.model_dump(mode="python")
    data["programmes"] = dict(reversed(list(data["programmes"].items())))
    assert Scenario.model_validate(data).scenario_hash() != base.scenario_hash()


def test_scenario_hash_changes_when_a_lever_changes():
    base = load_scenario("siloed_baseline")
    assert base.with_overrides({"levers.pooling": 0.0}).scenario_hash() == base.scenario_hash()
    assert base.with_overrides({"levers.pooling": 0.1}).scenario_hash() != base.scenario_hash()
    assert base.with_overrides({"levers.carry_over": True}).scenario_hash() != base.scenario_hash()


# -------------------------------------------------------------------- registry


def test_every_registered_assumption_is_used_by_a_preset_or_the_package():
    registry_file = PACKAGE / "evidence.py"
    texts = [p.read_text(encoding="utf-8") for p in PRESETS_DIR.rglob("*.toml")]
    texts += [p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py") if p != registry_file]
    used = set(re.findall(r"assumption:([a-z0-9_]+)", "\n".join(texts)))
    unused = sorted(set(ASSUMPTIONS) - used)
    assert not unused, f"assumptions registered in pfpp_sim/evidence.py but cited nowhere: {unused}"


def test_every_registered_assumption_says_why_its_range_is_what_it_is():
    for name, entry in ASSUMPTIONS.items():
        assert entry.description.strip() and len(entry.range_reason.strip()) > 20, name


@pytest.mark.parametrize("name", list_presets())
def test_every_assumption_in_a_preset_carries_a_plausible_range(name):
    for path, value in assumed_parameters(load_scenario(name, calibration="none")):
        assert value.low is not None and value.low <= value.value <= value.high, path
        assert value.low < value.high or path == "world.households.band_cost.D", f"{path}: a range of zero width"


def test_an_assumption_without_a_range_is_refused_naming_the_key(tmp_path):
    # A new programme in a what-if file: its budget cites an assumption but gives no range.
    body = (
        "[programmes.my_grant]\ndepartment = 'DWP'\ndescription = 'a new grant'\ninterventions = { income_advice = 1.0 }\n"
        "budget = { value = 5, unit = 'GBP/household/year', source = 'assumption:programme_budget' }\n"
        "budget_basis = 'households'\ncompetitive_share = 0.0\nfunding_period_months = 12\nwindow_months = 1\n"
        "award_lag = { value = 3, unit = 'months', source = 'assumption:award_lag', low = 1, high = 6 }\n"
    )
    path = write_scenario(tmp_path, body)
    message = load_error(path)
    assert message.startswith(f"{path}: programmes.my_grant.budget = "), message
    assert message.endswith("an assumption needs its plausible range: give low and high (the assumptions registry, pfpp_sim/evidence.py, says why each range is what it is)")
    ranged = write_scenario(tmp_path, body.replace("'assumption:programme_budget' }", "'assumption:programme_budget', low = 2, high = 10 }"))
    assert load_scenario(ranged).programmes["my_grant"].budget.high == 10


def test_a_scenario_value_dropping_an_assumptions_range_is_refused():
    base = load_scenario("siloed_baseline")
    with pytest.raises(ScenarioError) as info:
        base.with_overrides({"mechanisms.reporting_cost.low": None, "mechanisms.reporting_cost.high": None})
    assert "mechanisms.reporting_cost" in str(info.value) and "an assumption needs its plausible range" in str(info.value)


def test_overriding_an_assumptions_value_leaves_it_a_point_value_with_a_range_of_zero_width():
    changed = load_scenario("siloed_baseline").with_overrides({"mechanisms.reporting_cost.value": 9000.0}).mechanisms.reporting_cost
    assert (changed.value, changed.low, changed.high) == (9000.0, 9000.0, 9000.0)
    evidence = load_scenario("siloed_baseline").with_overrides({"mechanisms.bid_cost.value": 26000.0}).mechanisms.bid_cost
    assert (evidence.low, evidence.high) == (None, None), "evidence overridden is no longer drawn"


def test_every_assumption_a_preset_cites_is_registered():
    for name in list_presets():
        cited = re.findall(r"assumption:([a-z0-9_]+)", (PRESETS_DIR / f"{name}.toml").read_text())
        assert set(cited) <= set(ASSUMPTIONS), name


# ------------------------------------------------------ the analyst's own sources

OWN_SOURCE = """
[user_sources.hub_audit]
description = "Share of young people completing our hub's course who recovered, 2023"
reference = "Bradford hubs audit 2023, table 3"
range_reason = "the audit's smallest and largest hub"

[interventions.mh_hub]
effect = { value = 0.25, unit = "probability", source = "user:hub_audit", low = 0.15, high = 0.35 }
"""


def test_a_value_may_cite_the_analysts_own_source_declared_in_the_file(tmp_path):
    scenario = load_scenario(write_scenario(tmp_path, OWN_SOURCE))
    effect = scenario.interventions.mh_hub.effect
    assert (effect.value, effect.source, effect.low, effect.high) == (0.25, "user:hub_audit", 0.15, 0.35)
    own = scenario.user_sources["hub_audit"]
    assert (own.reference, own.range_reason) == ("Bradford hubs audit 2023, table 3", "the audit's smallest and largest hub")
    assert ("interventions.mh_hub.effect", effect) in assumed_parameters(scenario), "treated as an assumption"
    assert scenario.model_dump(mode="json")["user_sources"]["hub_audit"]["description"] == own.description, "recorded in the manifest"


def test_the_analysts_own_sources_survive_extends_and_overrides_and_count_in_the_hash(tmp_path):
    parent = load_scenario(write_scenario(tmp_path, OWN_SOURCE, name="mine"))
    child = load_scenario(write_scenario(tmp_path, "[levers]\npooling = 0.5\n", parent="mine"))
    assert child.user_sources == parent.user_sources
    assert child.interventions.mh_hub.effect.source == "user:hub_audit"
    assert child.with_overrides({"levers.pooling": 0.2}).user_sources == parent.user_sources
    reworded = parent.with_overrides({"user_sources.hub_audit.reference": "Bradford hubs audit 2024"})
    assert reworded.scenario_hash() != parent.scenario_hash(), "a changed reference is another scenario"


def test_a_scenario_without_own_sources_or_trend_damping_hashes_as_before_they_existed():
    scenario = load_scenario("siloed_baseline")
    before = {"name": True, "description": True, "extends": True, "user_sources": True, "world": {"trend_damping": True}}
    data = scenario.model_dump(mode="json", exclude=before)
    blob = json.dumps(data, separators=(",", ":")).encode()
    assert scenario.scenario_hash() == hashlib.sha256(blob).hexdigest()[:16], "recorded results still match their hash"


def test_citing_an_undeclared_own_source_is_one_line_naming_the_file_the_key_path_and_the_source(tmp_path):
    path = write_scenario(tmp_path, OWN_SOURCE.replace('source = "user:hub_audit"', 'source = "user:hub_audt"'))
    assert load_error(path) == (
        f"{path}: interventions.mh_hub.effect.source = 'user:hub_audt': a key of [user_sources] (declared: hub_audit): "
        "add [user_sources.hub_audt] with a description and a reference"
    )


def test_an_undeclared_own_source_lists_every_declared_one_or_none(tmp_path):
    second = '[user_sources.survey]\ndescription = "A survey"\nreference = "Our survey, 2024"\n'
    path = write_scenario(tmp_path, second + OWN_SOURCE.replace('source = "user:hub_audit"', 'source = "user:hub_audt"'))
    assert "(declared: survey, hub_audit): " in load_error(path), "in the file's order"
    undeclared = OWN_SOURCE.split("[interventions.mh_hub]")[1]
    assert "a key of [user_sources] (declared: none): add [user_sources.hub_audit]" in load_error(write_scenario(tmp_path, "[interventions.mh_hub]" + undeclared))


def test_a_programme_key_that_is_not_a_plain_name_is_refused_with_the_whole_reason(tmp_path):
    body = (
        '[programmes."my-grant"]\ndepartment = "DWP"\ndescription = "a new grant"\ninterventions = { income_advice = 1.0 }\n'
        "budget = { value = 5, unit = 'GBP/household/year', source = 'assumption:programme_budget', low = 2, high = 10 }\n"
        "budget_basis = 'households'\ncompetitive_share = 0.0\nfunding_period_months = 12\nwindow_months = 1\n"
        "award_lag = { value = 3, unit = 'months', source = 'assumption:award_lag', low = 1, high = 6 }\n"
    )
    message = load_error(write_scenario(tmp_path, body))
    assert message.endswith(" programme key 'my-grant' must be letters, digits and underscores"), message


@pytest.mark.parametrize("count", [1, 50])
def test_a_programme_may_be_paid_as_one_grant_or_as_many_as_the_most_a_council_takes(tmp_path, count):
    body = f"[programmes.careers.grants]\nvalue = {count}\nunit = 'grants/council/round'\nsource = 'assumption:small_grants'\nlow = {count}\nhigh = {count}\n"
    assert load_scenario(write_scenario(tmp_path, body)).programmes["careers"].grant_count == count


def test_a_value_citing_an_own_source_without_its_range_is_refused(tmp_path):
    path = write_scenario(tmp_path, OWN_SOURCE.replace(", low = 0.15, high = 0.35", ""))
    message = load_error(path)
    assert message.startswith(f"{path}: interventions.mh_hub.effect = "), message
    assert message.endswith("a value citing the analyst's own source needs its plausible range, as an assumption does: give low and high (pfpp robustness samples it)")


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (('reference = "Bradford hubs audit 2023, table 3"\n', ""), "user_sources.hub_audit.reference", "a value (required key is missing)"),
        (('description = "Share', 'description = "\\nShare'), "user_sources.hub_audit.description", "a description on one line, without line breaks"),
        (('description = "Share', 'description = "\\rShare'), "user_sources.hub_audit.description", "a description on one line, without line breaks"),
        (("[user_sources.hub_audit]", "[user_sources.hub-audit]"), "user_sources", "user source key 'hub-audit' must be letters, digits and underscores"),
    ],
    ids=["no_reference", "two_lines", "carriage_return", "bad_key"],
)
def test_an_own_source_needs_a_one_line_description_a_reference_and_a_plain_key(tmp_path, change, key, expected):
    path = write_scenario(tmp_path, OWN_SOURCE.replace(*change))
    message = load_error(path)
    assert message.startswith(f"{path}: {key} = ") and message.endswith(f" {expected}") and "\n" not in message, message


# ------------------------------------------------------------ property: fuzzing

TOP_LEVEL = set(Scenario.model_fields)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(child=scenario_children())
def test_fuzzed_child_scenario_loads_or_raises_one_line_naming_the_file_and_a_key(tmp_path, child):
    path = write_toml(tmp_path / "fuzzed.toml", child)
    try:
        scenario = load_scenario(path)
    except ScenarioError as err:
        assert_one_line_naming(err, path, TOP_LEVEL | set(child))
    else:
        # Whatever loads holds what the file says: every value the child sets is the loaded value.
        loaded = scenario.model_dump(mode="python")
        fitted = {f"{path}.value" for path in read_fit("england", named_in="test").globals}
        for key, value in _leaves(child):
            if key.split(".")[0] in ("name", "description", "extends", "calibration") or key in fitted:
                continue
            node = loaded
            for part in key.split("."):
                node = node[part]
            assert node == value, (key, node, value)


def _leaves(node: dict, prefix: str = ""):
    """(dotted path, value) of every non-table value of a TOML document."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):  # a table merges key by key (an empty one changes nothing)
            yield from _leaves(value, f"{path}.")
        else:
            yield path, value


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_at_all_give_a_scenario_error_naming_the_file(tmp_path, blob):
    path = tmp_path / "noise.toml"
    path.write_bytes(blob)
    try:
        keys = set(tomllib.loads(blob.decode("utf-8-sig")))
    except (UnicodeDecodeError, ValueError):
        keys = set()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert_one_line_naming(info.value, path, TOP_LEVEL | keys)


def test_uncertainty_range_must_hold_the_value(tmp_path):
    path = write_scenario(tmp_path, "[mechanisms.bid_cost]\nvalue = 40000\n")
    message = load_error(path)
    assert "mechanisms.bid_cost" in message and "low <= value <= high" in message


def test_overriding_a_sourced_value_pins_it_and_drops_its_range():
    scenario = load_scenario("siloed_baseline").with_overrides({"mechanisms.bid_cost.value": 40000})
    assert scenario.mechanisms.bid_cost.value == 40000
    assert scenario.mechanisms.bid_cost.low is None and scenario.mechanisms.bid_cost.high is None


@pytest.mark.parametrize("depth", [500, 1000])
def test_a_toml_file_nested_too_deep_is_one_line(tmp_path, depth):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    message = load_error(path)
    assert message == f"{path}: <file> = None: valid TOML (tables or arrays nested too deep)"


# ------------------------------------------------------------- where a scenario came from


def short_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def test_a_preset_says_it_is_a_preset_with_its_shipped_calibration():
    line = describe_sources(load_scenario("siloed_baseline"), version="9.9")
    assert line == "siloed_baseline: preset siloed_baseline; calibration england (shipped with pfpp_sim 9.9)"


def test_a_file_says_where_it_is_its_hash_and_every_file_it_extends(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parent, child = Path("mine.toml"), Path("child.toml")
    parent.write_text('name = "mine"\nextends = "siloed_baseline"\ncalibration = "none"\n')
    child.write_text('name = "child"\nextends = "mine"\n')
    assert describe_sources(load_scenario(child), version="9.9") == (
        f"child: file child.toml (sha256 {short_sha(child)}), extends file mine.toml (sha256 {short_sha(parent)}), "
        "extends preset siloed_baseline; calibration none (no fitted trends)"
    )


def test_a_scenario_built_in_code_says_so_and_names_its_calibration():
    built = Scenario.model_validate(load_scenario("siloed_baseline").model_dump())
    assert describe_sources(built, version="9.9") == "siloed_baseline: built in code; calibration england"
    uncalibrated = built.model_copy(update={"calibration": None})
    assert describe_sources(uncalibrated, version="9.9") == "siloed_baseline: built in code; calibration none (no fitted trends)"


@pytest.mark.parametrize(("value", "given"), [("0.5", "a number"), ("[1]", "a list")])
def test_a_value_of_the_wrong_type_says_what_it_is(tmp_path, value, given):
    message = load_error(write_scenario(tmp_path, f"[levers]\ncarry_over = {value}\n"))
    assert message.endswith(f": levers.carry_over = {value}: true or false, not {given}"), message


def test_a_scenario_file_is_recorded_by_the_name_it_gives_itself_not_its_file_name(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text(HEADER.format(name="my_case", parent="siloed_baseline"), encoding="utf-8")
    sources = load_scenario(path).sources
    assert [(s.role, s.name, s.origin) for s in sources[:2]] == [("scenario", "my_case", "file"), ("extends", "siloed_baseline", "preset")]
