"""The fit report of a calibration: tables, figures (PNG) and one self-contained HTML page."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pfpp_sim import data  # noqa: E402
from pfpp_sim.calibration.fit import Calibrated  # noqa: E402
from pfpp_sim.calibration.fitted import FitFile, write_fit  # noqa: E402
from pfpp_sim.calibration.targets import FUEL_POVERTY_SD, NEET_SD_FLOOR  # noqa: E402
from pfpp_sim.outcomes import ANNUAL_BASIS  # noqa: E402
from pfpp_sim.storage import environment, git_commit, package_version, write_bytes, write_json, write_parquet, write_text  # noqa: E402

__all__ = ["write_calibration"]

TITLES = {"fuel_poverty_rate": "Fuel poverty (LILEE), % of households", "neet_16_17_rate": "NEET 16-17, % of Years 12-13"}
OBSERVED, SIMULATED, HELD = "#12436D", "#F46A25", "#801650"  # afcharts-style categorical colours
YEAR_COLOURS = ("#12436D", "#28A197", "#801650", "#F46A25")
PANELS = 24
"""Most places drawn one panel each; a fit of more is drawn as one scatter per series."""
INTERVAL = ("low_90", "high_90")
"""Columns of the model forecast's 90% prediction interval in a held-out table."""
RESIDUAL_ROWS = 40
"""Most places given a row of the residual chart; beyond, the residuals' spread per year."""


def _figure_fit(result: Calibrated, metric: str, names: dict[str, str]) -> plt.Figure:
    table = result.table[result.table.metric == metric]
    held = result.holdout_table[result.holdout_table.metric == metric] if result.holdout_table is not None else None
    codes = list(dict.fromkeys(table.place_code))
    if len(codes) > PANELS:
        return _figure_fit_scatter(table, metric)
    cols = min(4, len(codes))
    rows = int(np.ceil(len(codes) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.3 * rows), sharex=True, squeeze=False)
    for ax, code in zip(axes.flat, codes):
        g = table[table.place_code == code]
        ax.plot(g.year, 100 * g.observed, "o-", color=OBSERVED, label="observed")
        ax.plot(g.year, 100 * g.simulated, "s--", color=SIMULATED, label="simulated (fit)")
        if held is not None and (held.place_code == code).any():
            h = held[held.place_code == code]
            ax.plot(h.year, 100 * h.forecast, "D", color=HELD, label="out of sample")
        ax.set_title(names.get(code, code), fontsize=9)
        ax.set_xticks(sorted(table.year.unique()))
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", color="#D9D9D9")
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(codes):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, frameon=False)
    fig.suptitle(TITLES.get(metric, metric), fontsize=11)
    fig.tight_layout()
    return fig


def _figure_fit_scatter(table: pd.DataFrame, metric: str) -> plt.Figure:
    """Observed against simulated, one point per place and year: the fit of many places at a glance."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for k, (year, g) in enumerate(table.groupby("year")):
        ax.scatter(100 * g.observed, 100 * g.simulated, s=10, alpha=0.7, color=YEAR_COLOURS[k % len(YEAR_COLOURS)],
                   label=f"{year}" + ("" if g.used.all() else " (held out)"))
    low, high = 100 * table[["observed", "simulated"]].min().min(), 100 * table[["observed", "simulated"]].max().max()
    ax.plot([low, high], [low, high], color="#595959", lw=0.8)
    ax.set_xlabel("observed (%)")
    ax.set_ylabel("simulated (%)")
    ax.legend(fontsize=7, frameon=False, title="year", title_fontsize=7)
    ax.grid(color="#D9D9D9")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"{TITLES.get(metric, metric)}: {table.place_code.nunique()} places", fontsize=10)
    fig.tight_layout()
    return fig


def _figure_residuals(result: Calibrated, names: dict[str, str]) -> plt.Figure:
    if result.table.place_code.nunique() > RESIDUAL_ROWS:
        return _figure_residual_spread(result)
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.35 * result.table.place_code.nunique() + 1.5), sharey=True)
    codes = list(dict.fromkeys(result.table.place_code))
    for ax, metric in zip(axes, TITLES):
        g = result.table[result.table.metric == metric]
        y = g.place_code.map({c: i for i, c in enumerate(codes)})
        ax.axvline(0, color="#595959", lw=0.8)
        for k, (year, gy) in enumerate(g.groupby("year")):
            ax.scatter(100 * (gy.simulated - gy.observed), y[gy.index], color=YEAR_COLOURS[k % len(YEAR_COLOURS)], s=18, label=str(year))
        ax.legend(fontsize=7, frameon=False, title="year", title_fontsize=7, loc="lower right")
        ax.set_title(f"{TITLES[metric].split(',')[0]}: simulated - observed (pp)", fontsize=9)
        ax.grid(axis="x", color="#D9D9D9")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(range(len(codes)), [names.get(c, c) for c in codes], fontsize=8)
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def _figure_residual_spread(result: Calibrated) -> plt.Figure:
    """Residuals of many places: their spread per year, one panel per series."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric in zip(axes, TITLES):
        g = result.table[result.table.metric == metric]
        years = sorted(g.year.unique())
        ax.boxplot([100 * (g[g.year == y].simulated - g[g.year == y].observed) for y in years], tick_labels=[str(y) for y in years])
        ax.axhline(0, color="#595959", lw=0.8)
        ax.set_title(f"{TITLES[metric].split(',')[0]}: simulated - observed (pp), {g.place_code.nunique()} places", fontsize=9)
        ax.grid(axis="y", color="#D9D9D9")
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _figure_holdout(held: pd.DataFrame, scores: pd.DataFrame) -> plt.Figure:
    """Predicted against observed change in the held-out year: the model and the pooled AR(1), with their scores."""
    scores = scores.set_index("metric")
    fig, axes = plt.subplots(1, len(scores), figsize=(5 * len(scores), 4.5), squeeze=False)
    for ax, metric in zip(axes.flat, scores.index):
        g = held[(held.metric == metric) & held.last_observed.notna()]
        observed = 100 * (g.observed - g.last_observed)
        for column, score, colour, label in (("forecast", "model_mae", SIMULATED, "model"), ("ar1", "ar1_mae", OBSERVED, "pooled AR(1)")):
            mae = 100 * scores.at[metric, score]
            ax.scatter(observed, 100 * (g[column] - g.last_observed), s=12, alpha=0.7, color=colour, label=f"{label} (MAE {mae:.2f} pp)")
        low, high = float(observed.min()), float(observed.max())
        ax.plot([low, high], [low, high], color="#595959", lw=0.8)
        ax.axhline(0, color="#BFBFBF", lw=0.8, ls=":")
        persistence = 100 * scores.at[metric, "persistence_mae"]
        ax.set_title(f"{TITLES[metric].split(',')[0]}, {scores.at[metric, 'held_out_year']}: persistence MAE {persistence:.2f} pp",
                     fontsize=9)
        ax.set_xlabel("observed change (pp)")
        ax.set_ylabel("predicted change (pp)")
        ax.legend(fontsize=7, frameon=False)
        ax.grid(color="#D9D9D9")
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _figure_posterior(posterior, estimates: pd.Series, name: str) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    for ax, name in zip(axes, ("income_trend", "neet_trend")):
        ax.hist(posterior.particles[name], weights=posterior.particles["weight"], bins=15, color=OBSERVED, alpha=0.8)
        if name in estimates.index:
            ax.axvline(estimates[name], color=SIMULATED, lw=2, label="least-squares estimate")
        ax.set_title(f"{name} (log points/year)", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"ABC-SMC posterior, {name}", fontsize=10)
    fig.tight_layout()
    return fig


def _save_png(fig: plt.Figure, path: Path) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    png = buffer.getvalue()
    write_bytes(png, path)
    return png


def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="t", na_rep="n/a", float_format=lambda v: f"{v:,.4g}")


def _warnings_html(fit: FitFile, names: dict[str, str]) -> list[str]:
    """The fit's warnings, first thing after its summary; nothing when it has none."""
    if not fit.warnings:
        return []
    where = [names.get(w.place_code, w.place_code) or ("all places" if w.parameter else "whole fit") for w in fit.warnings]
    rows = pd.DataFrame({"place": where, "warning": [w.message for w in fit.warnings]})
    return [
        "<h2>Warnings</h2>",
        f"<p><b>Warning:</b> {len(fit.warnings)} warning(s); read them before the values. <i>Not converged</i>: the optimiser "
        "stopped at its step limit, so the values are where it had got to, not an optimum. <i>Not identified</i>: a parameter "
        "with no standard error or one wider than its bounds; the data do not pin it down, and it is no better than its "
        "starting point. <i>Not distinguishable from zero</i>: a standard error larger than the value; the trend may be none. "
        "None of these may be read as an estimated effect.</p>",
        _table_html(rows),
    ]


def _holdout_html(result: Calibrated, names: dict[str, str]) -> list[str]:
    """The out-of-sample check: scores per series, then every place's forecasts."""
    if result.holdout is None:
        return []
    h = result.holdout.assign(
        series=result.holdout.metric.map(TITLES),
        **{f"{k}_mae_pp": 100 * result.holdout[f"{k}_mae"] for k in ("model", "model_level", "persistence", "ar1", "same_change_floor")},
    )[["series", "held_out_year", "places", "model_mae_pp", "model_level_mae_pp", "persistence_mae_pp", "ar1_mae_pp",
       "same_change_floor_mae_pp", "model_rank_correlation", "ar1_rank_correlation", "change_weight", "coverage_90", "change_correlation", "best"]]
    verdict = " ".join(
        f"{TITLES[r.metric].split(',')[0]}: the {'model beats' if r.better == 'model' else 'model does not beat'} "
        f"persistence ({100 * r.model_mae:.2f} vs {100 * r.persistence_mae:.2f} pp; pooled AR(1) {100 * r.ar1_mae:.2f} pp; "
        f"same-change floor {100 * r.same_change_floor_mae:.2f} pp)."
        for r in result.holdout.itertuples()
    )
    held = result.holdout_table.assign(place=result.holdout_table.place_code.map(names))
    held = held[["place", "metric", "year", "observed", "last_observed", "forecast", *INTERVAL, "simulated", "last_simulated",
                 "persistence", "ar1"]]
    return [
        "<h2>Out-of-sample check</h2>",
        "<p>Fitted again from zero trends without each series' last year; the held-out year is then forecast by the "
        "model from the latest data, as <code>baseline_forecast</code> forecasts (the last observed value plus the "
        "change the model expects into the held-out year, its trends damped beyond their data: the mean simulated "
        "change over places plus <i>change_weight</i> times a place's own simulated change less that mean, the share of "
        "the places' spread in simulated change that is not Monte Carlo error; 0 when the replicates' error explains "
        "it all, so the model's place-to-place changes are not told apart from noise), by persistence "
        "(the last observed value carried forward) and by a pooled AR(1) (<i>y</i><sub>t+1</sub> = "
        "<i>a</i> + <i>b</i> <i>y</i><sub>t</sub>, one <i>a</i> and <i>b</i> per series from every place's earlier "
        "years). <i>model_level</i>: the model's simulated level itself, as <code>baseline_history</code> reads. "
        "<i>same_change_floor</i>: the lowest error that any forecast predicting one change for every place can reach "
        "(the last observed value plus the median observed change; it reads the held-out year, so it is a bound, not a "
        "forecast): persistence's distance above it is all that the change common to all places can gain, and only a "
        "forecast that tells the places' own changes apart can go below it. "
        "Rank correlation: Spearman's, of the change each forecast predicted against the change observed "
        "(persistence predicts none). Coverage: the share of held-out observations inside the model's 90% prediction "
        "interval (its variance: the spread of the published one-year changes of the fitted years around each year's "
        "mean change, the size of those yearly mean changes, what the place's trend's standard error adds to the "
        "predicted change, and the Monte Carlo error left after pooling); near 0.9 when the interval is honest. Change correlation: the correlation over places of "
        "each published one-year change with the next, averaged over years (all published years): near 0 or below, a "
        "place's change does not carry into the next year, so neither does a trend fitted to it, which is why "
        "<code>baseline_forecast</code> holds fitted trends at the end of their data (<code>world.trend_damping</code>). "
        f"{html.escape(verdict)}</p>",
        _table_html(h),
        f"<details><summary>Every place's held-out forecasts ({len(held)} rows, fractions)</summary>{_table_html(held)}</details>",
    ]


def _incomplete_html(result: Calibrated, names: dict[str, str]) -> list[str]:
    lacking = result.missing_moments()
    if not lacking:
        return []
    rows = pd.DataFrame({"place": [f"{names.get(c, c)} ({c})" for c in lacking], "missing": ["; ".join(v) for v in lacking.values()]})
    return [
        "<h2>Places with missing data</h2>",
        f"<p>{len(lacking)} place(s) lack some published years; they are fitted to the years they have, and their "
        "trends rest on fewer moments.</p>",
        _table_html(rows),
    ]


def _derived_html(fit: FitFile) -> list[str]:
    if not fit.derived_places:
        return []
    names = dict(zip(*data.places(list(fit.derived_places))[["area_code", "area_name"]].T.values))
    rows = pd.DataFrame({
        "county": [f"{names[c]} ({c})" for c in fit.derived_places],
        "districts": [len(d) for d in fit.derived_places.values()],
        **{p: [fit.places[c][p].value for c in fit.derived_places] for p in ("income_trend", "neet_trend")},
    })
    return [
        "<h2>Counties derived from their districts</h2>",
        f"<p>{len(rows)} two-tier counties were not fitted beside their districts (a county is the sum of its districts); "
        "each takes its districts' fitted trends, weighted by households (income trend) and by 16-17 year olds (NEET "
        "trend), so a run naming the county is calibrated too.</p>",
        _table_html(rows),
    ]


def _holdout_cost(result: Calibrated) -> str:
    """What the held-out fit added, as a clause ("" without one)."""
    if result.holdout is None:
        return ""
    return f", and {result.holdout_evaluations} for the held-out fit ({result.holdout_seconds:,.0f} s)"


def _html(result: Calibrated, figures: dict[str, tuple[bytes, str]], names: dict[str, str], posteriors: list) -> str:
    fit = result.fit
    mae = result.mae()
    params = result.parameters.assign(place=result.parameters.place_code.map(names).fillna("all places"))
    params = params[["parameter", "place", "value", "se", "unit", "low", "high"]]
    sections = [
        f"<h1>Calibration report: {html.escape(fit.name)}</h1>",
        f"<p>Fitted on {fit.fitted_on} to {fit.moments} moments of {result.table.place_code.nunique()} places "
        f"(data through {', '.join(f'{k} {v}' for k, v in fit.data_through.items())}). Objective (sum of squared "
        f"standardised errors) {fit.objective:,.1f}; {result.evaluations} model evaluations of "
        f"{fit.settings['replicates']} replicate(s) each{_holdout_cost(result)}; {result.seconds:,.0f} s in all. "
        f"Optimiser: {html.escape(result.message)}.</p>",
        *_warnings_html(fit, names),
        *_incomplete_html(result, names),
        *_derived_html(fit),
        "<h2>How well the baseline reproduces the data</h2>",
        "<table class='t'><tr><th>Series</th><th>Mean absolute error (pp)</th></tr>"
        + "".join(f"<tr><td>{TITLES.get(m, m)}</td><td>{100 * v:.2f}</td></tr>" for m, v in mae.items())
        + "</table>",
        "<p>By place (pp):</p>",
        _table_html((100 * result.mae(by_place=True)).rename(index=names).rename(columns=TITLES).reset_index(names="place")),
    ]
    for png, alt in figures.values():
        encoded = base64.b64encode(png).decode()
        sections.append(f"<figure><img src='data:image/png;base64,{encoded}' alt='{html.escape(alt)}'><figcaption>{html.escape(alt)}</figcaption></figure>")
    sections += _holdout_html(result, names)
    for posterior in posteriors:
        sections += [
            f"<h2>ABC-SMC posterior: {html.escape(names.get(posterior.place_code, posterior.place_code))}</h2>",
            f"<p>{len(posterior.particles)} weighted particles after {len(posterior.epsilons)} generations "
            f"({posterior.simulations} simulations, {posterior.seconds:,.0f} s); uniform priors over the middle half of "
            "each trend's bounds; global parameters as fitted.</p>",
            _table_html(posterior.summary()),
        ]
    sections += [
        "<h2>Parameters</h2>",
        "<p>Standard errors are approximate: from the Jacobian at the optimum, each series scaled by its own residual variance, "
        "without a correction for simulation noise. n/a: the data do not identify the parameter. Low and high: the "
        "bounds the optimiser searched within.</p>",
        _table_html(params),
        "<h2>Moments and weights</h2>",
        "<ul>"
        + "".join(f"<li><b>{m}</b>: {html.escape(b)}.</li>" for m, b in ANNUAL_BASIS.items())
        + f"<li>Weights are 1/sd<sup>2</sup>: fuel poverty sd {100 * FUEL_POVERTY_SD:.1f} pp (assumed; DESNZ publishes no "
        f"error for its modelled local estimates); NEET 16-17 sd the binomial error of the published rate given its cohort, "
        f"at least {100 * NEET_SD_FLOOR:.1f} pp.</li>"
        "<li>Start states are set directly from data: tenure and age from the Census 2021, each place's LILEE rate in the "
        "start month; the NEET 16-17 rate before 2021 is the 2021 rate carried back by the place's trend.</li></ul>",
        _table_html(result.table.assign(place=result.table.place_code.map(names))[
            ["place", "metric", "year", "observed", "simulated", "sd", "used"]
        ]),
        "<h2>Manifest</h2>",
        "<ul>"
        + "".join(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in fit.settings.items())
        + f"<li>pfpp_sim version: {html.escape(package_version())}</li><li>git commit: {html.escape(git_commit())}</li></ul>",
    ]
    style = (
        "body{font-family:Arial,Helvetica,sans-serif;max-width:1100px;margin:2em auto;color:#0b0c0c}"
        "table.t{border-collapse:collapse;font-size:13px}table.t td,table.t th{border-bottom:1px solid #ccc;padding:3px 8px}"
        "img{max-width:100%}figcaption{font-size:13px;color:#505a5f}"
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Calibration {html.escape(fit.name)}</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n"
    )


def write_calibration(result: Calibrated, out: str | Path, posteriors: list | None = None) -> dict[str, Path]:
    """Write a calibration: the fitted TOML, tables, figures and an HTML report.

    Parameters
    ----------
    result : Calibrated
    out : str or Path
        Calibration directory: the fit goes to ``out/fitted/<name>.toml`` and the report
        to ``out/reports/<name>/`` (``report.html``, PNGs, Parquet tables, ``manifest.json``).
    posteriors : list of Posterior, optional
        ABC-SMC posteriors (:func:`pfpp_sim.calibration.abc.abc_posterior`) to add.

    Returns
    -------
    dict of str to Path
    """
    out = Path(out)
    name = result.fit.name
    reports = out / "reports" / name
    names = dict(zip(*data.places(list(result.table.place_code.unique()))[["area_code", "area_name"]].T.values))
    header = (
        f"Fitted calibration '{name}', written by `pfpp calibrate`. Scenarios use it with calibration = \"{name}\".\n"
        "Per-place trends (log points/year) and global parameters, each with an approximate standard error;\n"
        "then the fit's warnings, if any ([[warnings]]).\n"
        f"Report: reports/{name}/report.html"
    )
    files = {"fit": write_fit(result.fit, out / "fitted" / f"{name}.toml", header=header)}
    figures = {}
    for metric in TITLES:
        if (result.table.metric == metric).any():
            png = _save_png(_figure_fit(result, metric, names), reports / f"fit_{metric}.png")
            alt = f"{TITLES[metric]}: observed and simulated per place and year"
            figures[metric] = (png, alt)
            files[f"fit_{metric}"] = reports / f"fit_{metric}.png"
    figures["residuals"] = (_save_png(_figure_residuals(result, names), reports / "residuals.png"),
                            "Residuals (simulated minus observed, percentage points) per place, coloured by year")
    files["residuals"] = reports / "residuals.png"
    files["moments"] = write_parquet(result.table, reports / "moments.parquet")
    files["parameters"] = write_parquet(result.parameters, reports / "parameters.parquet")
    if result.holdout is not None:
        figures["holdout"] = (_save_png(_figure_holdout(result.holdout_table, result.holdout), reports / "holdout.png"),
                              "Held-out year: change predicted by the model and by a pooled AR(1) against the change observed, per place")
        files["holdout_figure"] = reports / "holdout.png"
        files["holdout"] = write_parquet(result.holdout, reports / "holdout.parquet")
        files["holdout_places"] = write_parquet(result.holdout_table, reports / "holdout_places.parquet")
    posteriors = posteriors or []
    estimates = result.parameters.set_index(["place_code", "parameter"])["value"]
    for posterior in posteriors:
        key = f"abc_{posterior.place_code}"
        name = names.get(posterior.place_code, posterior.place_code)
        png = _save_png(_figure_posterior(posterior, estimates.loc[posterior.place_code], name), reports / f"{key}.png")
        figures[key] = (png, f"ABC-SMC posterior of the trends of {name}, "
                             "weighted histograms, with the least-squares estimate")
        files[key] = reports / f"{key}.png"
        files[f"{key}_particles"] = write_parquet(posterior.particles, reports / f"{key}.parquet")
    files["report"] = write_text(_html(result, figures, names, posteriors), reports / "report.html")
    files["manifest"] = write_json(
        {
            "kind": "calibration",
            "name": name,
            "pfpp_sim_version": package_version(),
            "git_commit": git_commit(),
            "fit": result.fit.model_dump(mode="json"),
            "mae": result.mae(),
            "holdout": None if result.holdout is None else result.holdout.to_dict(orient="records"),
            "seconds": round(result.seconds, 3),
            "evaluations": result.evaluations,
            "holdout_evaluations": result.holdout_evaluations,
            "holdout_seconds": round(result.holdout_seconds, 3),
            "environment": environment(),
            "files": {k: Path(v).name for k, v in files.items()},
        },
        reports / "manifest.json",
    )
    return files
