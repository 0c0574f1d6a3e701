"""The pack's tables, read from the warehouse: the headline table of a wave, the headline indicators
across the waves up to it, and the breakdowns by trust type and by region; the names people read for each
indicator (from the codebook) and the report sections they are grouped under; and the CSV files made of
the headline and trend tables.

Only aggregate tables are read. Counts (numerators, bases, changes of a count) are whole numbers
(pandas ``Int64``), so that no file shows "129.0". What does not belong here: how a sheet lays the
tables out (``publish.workbook``), the brief's findings, and writing files (``publish.pack``).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.codebook import Codebook
from schemas.indicator_catalogue import COVERAGE_INDICATOR, SCORE, indicator_catalogue, option_indicator_id
from warehouse.connection import read_sql

# The built-in indicators as the pack names them: a count says it is a number, since a trend sheet shows
# it in a column of percentages.
BUILT_IN_LABELS = {
    "respondents": "Number of respondents",
    "trusts_responding": "Number of trusts responding",
    COVERAGE_INDICATOR: "Trust coverage (% of the trusts in the wave's population)",
}
BUILT_IN_SHORT_LABELS = {"respondents": "Respondents", "trusts_responding": "Trusts responding",
                         COVERAGE_INDICATOR: "Trust coverage"}
# The heading of indicators that belong to no question: who responded.
RESPONSE_SECTION = "Who responded"

def indicator_labels(codebook: Codebook) -> dict[str, str]:
    """Indicator id -> its label: the question's title and the option's (or composite's) label."""
    return {i.id: BUILT_IN_LABELS.get(i.id, i.label) for i in indicator_catalogue(codebook)}


def short_labels(codebook: Codebook, indicator_ids: list[str]) -> dict[str, str]:
    """Indicator id -> what a chart calls it: the option's short label (or label), a composite's label, a
    score's question title or theme label (none for an indicator the codebook no longer has). Two indicators of the same name among
    ``indicator_ids`` (one option of two questions) are told apart by their questions' titles."""
    names, questions = {}, {}
    composites = {c.id: c for c in codebook.indicators.composites}
    for indicator in indicator_catalogue(codebook):
        if indicator.id not in indicator_ids:
            continue
        questions[indicator.id] = indicator.question_id
        if indicator.id in composites:
            names[indicator.id] = composites[indicator.id].label
        elif indicator.items:  # a theme
            names[indicator.id] = next(t.label for t in codebook.indicators.themes if t.items == indicator.items)
        elif indicator.question_id is not None and not indicator.option_ids:  # a mean or median of the question
            names[indicator.id] = codebook.question(indicator.question_id).title
        elif indicator.question_id is not None:
            question = codebook.question(indicator.question_id)
            names[indicator.id] = next(o.shown_as for o in question.options if o.id == indicator.option_ids[0])
        else:
            names[indicator.id] = BUILT_IN_SHORT_LABELS.get(indicator.id, indicator.label)
    shared = {n for n in names.values() if list(names.values()).count(n) > 1}
    return {i: f"{codebook.question(questions[i]).title}: {n}" if n in shared and questions[i] else n
            for i, n in names.items()}


def sections(codebook: Codebook, indicator_ids: list[str]) -> list[tuple[str, list[str]]]:
    """``indicator_ids`` under the pack's report sections (``Codebook.reported_sections``), in the
    sections' order and, within one, in the order given; indicators of no question (counts, coverage)
    last, under "Who responded". Sections with none of the indicators are left out."""
    # A theme is reported with its first item.
    question_of = {i.id: i.question_id or (i.items[0] if i.items else None) for i in indicator_catalogue(codebook)}
    grouped = []
    for heading, questions in codebook.reported_sections():
        ids = {q.id for q in questions}
        grouped.append((heading, [i for i in indicator_ids if question_of.get(i) in ids]))
    placed = {i for _, ids in grouped for i in ids}
    grouped.append((RESPONSE_SECTION, [i for i in indicator_ids if i not in placed]))
    return [(heading, ids) for heading, ids in grouped if ids]


def _labelled(codebook: Codebook, ids: pd.Series, stored: pd.Series) -> list[str]:
    """The codebook's label of each indicator; the warehouse's where the codebook no longer has it."""
    labels = indicator_labels(codebook)
    return [labels.get(i, s) for i, s in zip(ids, stored)]


def _yes_no(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else ("yes" if v else "no"))


MEASURED = ("mean", "median")  # kinds told on their question's own scale (a score out of 10, hours), not in %


def _changes(change: pd.Series, kind: pd.Series) -> dict[str, pd.Series]:
    """A change in percentage points (shares, coverage), in number (counts) or on the question's scale
    (means and medians), each in its own column."""
    count, measured = kind == "count", kind.isin(MEASURED)
    return {"change_points": change.where(~count & ~measured).round(1),
            "change_count": change.where(count).round().astype("Int64"),
            "change_value": change.where(measured).round(2)}


def _measured(values: pd.Series, kind: pd.Series) -> pd.Series:
    """A mean's or median's value on its own scale (two decimals); nothing for other kinds."""
    return values.where(kind.isin(MEASURED)).round(2)


def headline_table(con: duckdb.DuckDBPyConnection, codebook: Codebook, wave_id: str) -> pd.DataFrame:
    """The headline indicators of one wave, in the headline order: percentage, interval, numerator, base,
    trust-weighted percentage and change since the previous wave, with a note where suppressed or not
    comparable."""
    rows = con.execute(read_sql("pack_headline"), {"survey_id": codebook.survey_id, "wave_id": wave_id}).df()
    min_base = codebook.reporting.min_base

    def note(row) -> str:
        if row.suppressed:
            return f"suppressed: fewer than {min_base} answered"
        if pd.notna(row.comparable) and not row.comparable:
            return "change not comparable: the question changed"
        return "" if pd.isna(row.note) or row.note == "first wave with data" else row.note

    return pd.DataFrame({
        "indicator": rows["indicator_id"],
        "label": _labelled(codebook, rows["indicator_id"], rows["label"]),
        "kind": rows["indicator_kind"],
        "percentage": rows["pct"].round(1),
        "value": _measured(rows["value"], rows["indicator_kind"]),
        # On the value's scale: points of a percentage, a mean's own units (two decimals for a score).
        "ci_low": rows["ci_low"].round(2).where(rows["indicator_kind"].isin(MEASURED), rows["ci_low"].round(1)),
        "ci_high": rows["ci_high"].round(2).where(rows["indicator_kind"].isin(MEASURED), rows["ci_high"].round(1)),
        "numerator": rows["numerator"].where(~rows["suppressed"]).astype("Int64"),
        "base": rows["base"].astype("Int64"),
        "percentage_trust_weighted": rows["pct_trust_weighted"].round(1),
        "previous_wave": rows["previous_wave_id"],
        **_changes(rows["change"], rows["indicator_kind"]),
        "significant_at_5pct": _yes_no(rows["significant"]),
        "note": [note(r) for r in rows.itertuples(index=False)],
        # A weighted survey's shares and means weighted (on the same scale as percentage or value), with the
        # effective base; empty in an unweighted survey.
        "weighted": _on_scale(rows["value_weighted"], rows["indicator_kind"]),
        "weighted_ci_low": _on_scale(rows["ci_low_weighted"], rows["indicator_kind"]),
        "weighted_ci_high": _on_scale(rows["ci_high_weighted"], rows["indicator_kind"]),
        "effective_base": rows["effective_base"].round(1),
        "weighted_change": _on_scale(rows["change_weighted"], rows["indicator_kind"]),
        "weighted_significant_at_5pct": _yes_no(rows["significant_weighted"]),
    })


def theme_score_ids(codebook: Codebook) -> list[tuple[str, list[str]]]:
    """Each theme's label, with the ids of its score and its items' scores, in the codebook's order."""
    return [(theme.label, [option_indicator_id(theme.id, SCORE), *(option_indicator_id(i, SCORE) for i in theme.items)])
            for theme in codebook.indicators.themes]


def theme_table(figures: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The wave's theme and item scores (out of 10) and their intervals, by indicator id, from its figures as the
    brief tells them (``publish.findings.brief_figures``: weighted where the survey is): what the workbook's theme
    charts draw (the items' scores are not headline indicators). A withheld score has no value and is left out."""
    ids = [i for _, theme_ids in theme_score_ids(codebook) for i in theme_ids]
    shown = figures.index.isin(ids) & ~figures["suppressed"].astype(bool) & figures["value"].notna()
    return figures.loc[shown, ["value", "ci_low", "ci_high"]]


def _on_scale(values: pd.Series, kind: pd.Series) -> pd.Series:
    """A percentage, or points, to one decimal; a mean on its own scale to two."""
    return values.astype(float).round(2).where(kind.isin(MEASURED), values.astype(float).round(1))


def trend_table(con: duckdb.DuckDBPyConnection, codebook: Codebook, waves: list[str]) -> pd.DataFrame:
    """The headline indicators in each of ``waves``: one row per indicator and wave (headline order, then
    wave order) with percentage, numerator, base, change since the wave before, whether the two waves
    are comparable (the question unchanged) and whether the change is significant."""
    rows = con.execute(read_sql("pack_trends"), {"survey_id": codebook.survey_id, "waves": list(waves)}).df()
    min_base = codebook.reporting.min_base

    def note(row) -> str:
        if row.suppressed:
            return f"suppressed: fewer than {min_base} answered"
        if pd.notna(row.comparable) and not row.comparable:
            return f"not comparable with {row.previous_wave_id}: the question changed"
        return ""

    return pd.DataFrame({
        "indicator": rows["indicator_id"],
        "label": _labelled(codebook, rows["indicator_id"], rows["label"]),
        "kind": rows["indicator_kind"],
        "wave": rows["wave_id"],
        "percentage": rows["pct"].round(1),
        "value": _measured(rows["value"], rows["indicator_kind"]),
        "numerator": rows["numerator"].where(~rows["suppressed"]).astype("Int64"),
        "base": rows["base"].astype("Int64"),
        "suppressed": rows["suppressed"].astype(bool),
        "previous_wave": rows["previous_wave_id"],
        **_changes(rows["change"], rows["indicator_kind"]),
        # No wave before (the first wave): nothing to compare, so nothing breaks a line there.
        "comparable": rows["comparable"].fillna(True).astype(bool),
        "significant_at_5pct": _yes_no(rows["significant"]),
        "note": [note(r) for r in rows.itertuples(index=False)],
        # A weighted survey's shares and means are in the table weighted (its numerator left out), as the brief
        # tells them; this says which.
        "weighted": rows["weighted"].astype(bool),
    })


def breakdown_table(con: duckdb.DuckDBPyConnection, codebook: Codebook, wave_id: str, dimension: str) -> pd.DataFrame:
    """The headline shares and means of one wave by the groups of ``dimension`` (pooled groups under their
    pooled name, as the warehouse reports them): one row per indicator and group, with percentage (a mean's
    value) and base, and
    why a suppressed cell is hidden ('small base' or 'secondary'). Numerators are never read: a count of
    1 to 4 is never shown."""
    cells = con.execute(read_sql("pack_breakdowns"), {"survey_id": codebook.survey_id, "wave_id": wave_id,
                                         "dimension": dimension}).df()
    suppressed = cells["suppressed"].astype(bool)
    suppression = cells["suppression"].where(suppressed)
    return pd.DataFrame({
        "indicator": cells["indicator_id"],
        "label": _labelled(codebook, cells["indicator_id"], cells["label"]),
        "kind": cells["indicator_kind"],
        "category": cells["category"],
        "percentage": cells["pct"].where(~suppressed),
        "value": _measured(cells["value"], cells["indicator_kind"]).where(~suppressed),
        "base": cells["base"].where(~suppressed).astype("Int64"),
        "suppression": suppression.mask(suppressed & suppression.isna(), "small base"),
    })


# The columns of each CSV file, in order: every id column with its label beside it.
# A mean or median is in `value` (its interval and change on the same scale); a share in `percentage`.
HEADLINE_CSV_COLUMNS = ["indicator", "label", "kind", "percentage", "value", "ci_low", "ci_high", "numerator", "base",
                        "percentage_trust_weighted", "previous_wave", "change_points", "change_count", "change_value",
                        "significant_at_5pct", "note", "weighted", "weighted_ci_low", "weighted_ci_high",
                        "effective_base", "weighted_change", "weighted_significant_at_5pct"]
TRENDS_CSV_COLUMNS = ["indicator", "label", "kind", "wave", "percentage", "value", "numerator", "base", "previous_wave",
                      "change_points", "change_count", "change_value", "comparable", "significant_at_5pct", "note",
                      "weighted"]


def headline_csv(headline: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    """``headline_indicators.csv``: the headline table, and whether the data are synthetic on every row."""
    return _csv(headline[HEADLINE_CSV_COLUMNS], synthetic)


def trends_csv(trends: pd.DataFrame, synthetic: bool | pd.Series) -> pd.DataFrame:
    """``indicator_trends.csv``: one row per headline indicator and wave, and whether synthetic."""
    return _csv(trends[TRENDS_CSV_COLUMNS], synthetic)


def _csv(table: pd.DataFrame, synthetic: bool | pd.Series) -> pd.DataFrame:
    """A table as its CSV file holds it (text not yet neutralised): ``synthetic`` on every row, so that a
    file forwarded on its own still says so; true and false in lower case."""
    frame = table.copy()
    frame["synthetic"] = synthetic
    for column in frame.columns:
        if frame[column].dtype == bool:
            frame[column] = frame[column].map({True: "true", False: "false"})
    return frame


def benchmark_table(con: duckdb.DuckDBPyConnection, codebook: Codebook, wave_id: str) -> tuple[pd.DataFrame, str]:
    """Each benchmarked trust's headline shares and means of one wave beside the trusts of its type (lowest, median,
    highest) and compared with the rest of the country; and what the wave's benchmarks hold, or why nothing, in
    words."""
    params = {"survey_id": codebook.survey_id, "wave_id": wave_id}
    rows = con.execute(read_sql("pack_trust_benchmarks"), params).df()
    note = con.execute(read_sql("pack_benchmark_note"), params).fetchall()
    table = rows.assign(label=_labelled(codebook, rows["indicator_id"], rows["label"]),
                        base=rows["base"].astype("Int64"), group_trusts=rows["group_trusts"].astype("Int64"))
    return table, note[0][0] if note else "Trusts have not been benchmarked for this wave."
