"""A results folder whose files parse but hold the wrong shape (reliability round three,
items 2 and 3).

Every file of a ``python -m evaluation.compare`` folder (``summary.json``,
``results.csv``, a cell's JSON) is replaced, whole and field by field, by valid JSON or
CSV of the wrong shape: a list, text, a number, null, NaN, true, an object, and nested
wrong types (an ``agents`` entry without ``agent``, a metric that is text, ...). The
cases are built from the folder itself (every top-level field, every column, every
per-agent and suite field, every metric), so a field added later is fuzzed too.

What must happen: the app's loader refuses the folder with a message naming the file and
the field, and its page shows that message (no traceback); ``evaluation.report`` exits 2
with one ``error:`` line naming the file and the column; ``compare --resume`` plays a bad
cell again. Each test counts its cases and the wrong outcomes, and asserts none.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("streamlit", reason="the app needs the [app] extra (streamlit, plotly)")

from streamlit.testing.v1 import AppTest

from evaluation import compare, grid, report
from evaluation.app import RESULTS_ENV
from evaluation.app import leaderboard as lb

#: Candidate wrong values: name -> JSON value.
CANDIDATES: dict[str, Any] = {
    "list of numbers": [1, 2],
    "list of text": ["x", "y"],
    "text": "x",
    "number": 3,
    "null": None,
    "NaN": math.nan,
    "true": True,
    "object": {"a": [1]},
}
RULE_CELL = grid.Cell("multimarket_v1", "rule", "default", 1000, 1)
PAGE = "from evaluation.app import leaderboard_page\nleaderboard_page.render()\n"


def kind(value: Any) -> str:
    """A value's JSON shape: null, bool, NaN, number, text, object, list[<element kinds>]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "object"
    return "list[" + ",".join(sorted({kind(v) for v in value})) + "]"


def wrong_values(allowed: set[str]) -> Iterator[tuple[str, Any]]:
    """The candidates whose shape is not one of ``allowed``."""
    for name, value in CANDIDATES.items():
        if kind(value) not in allowed:
            yield name, value


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny compare folder: 3 agents x 2 scenarios x 1 seed of 1 day."""
    out = tmp_path_factory.mktemp("fuzz") / "results"
    argv = ["--agents", "individual", "rule", "oracle", "--scenarios", "default",
            "sunny_summer", "--seeds", "1", "--days", "1", "--out", str(out), "--no-plots",
            "--no-progress", "--resamples", "50", "--cell-timeout", "0"]  # fmt: skip
    assert compare.main(argv) == 0
    return out


def fresh(folder: Path, tmp_path: Path) -> Path:
    """A copy of the folder to spoil."""
    case = tmp_path / "case"
    shutil.rmtree(case, ignore_errors=True)
    shutil.copytree(folder, case)
    return case


def page_error(monkeypatch: pytest.MonkeyPatch, case: Path) -> tuple[str | None, list[str]]:
    """Run the leaderboard page on ``case``: (the exception shown, if any; the errors)."""
    monkeypatch.setenv(RESULTS_ENV, str(case))
    at = AppTest.from_string(PAGE, default_timeout=120)
    at.run()
    exception = at.exception[0].value if at.exception else None
    return exception, [e.value for e in at.error]


def app_outcome(case: Path, file: str, field: str) -> str | None:
    """None when the app's loader refuses the folder with a message naming ``file`` and
    ``field`` (the page shows that message: test_the_issue_*); else what went wrong."""
    try:
        lb.load_results(case)
    except lb.ResultsError as exc:
        text = str(exc)
        if file not in text or field not in text:
            return f"the message does not name {file} and {field!r}: {text}"
        return None
    except Exception as exc:  # any traceback is a wrong case
        return f"traceback from load_results: {type(exc).__name__}: {exc}"
    return "the loader accepted it (add the field's check to evaluation/results_files.py)"


# --- summary.json -------------------------------------------------------------------------


def summary_cases(summary: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(field named in the message, the spoilt summary.json document)."""
    for value in [*CANDIDATES.values(), ["rule", "oracle"]]:  # and a list of agent names
        if not isinstance(value, dict):
            yield "", value  # the whole file
    for key, value in summary.items():
        allowed = {kind(value)} | (
            {"list[]", "list[object]"} if kind(value)[:4] == "list" else set()
        )
        for _, bad in wrong_values(allowed):
            yield key, {**summary, key: bad}
    agents = summary["agents"]
    for _, bad in wrong_values({"object"}):
        yield "agents[1]", {**summary, "agents": [agents[0], bad, *agents[2:]]}
    yield "agents[0].agent", {**summary, "agents": [{k: v for k, v in agents[0].items()
                                                     if k != "agent"}, *agents[1:]]}  # fmt: skip
    for key in agents[0]:
        allowed = {"text"} if key == "agent" else {"null", "text"} if key == "error" else {
            "number", "NaN", "null"}  # fmt: skip
        for _, bad in wrong_values(allowed):
            yield f"agents[0].{key}", {**summary, "agents": [{**agents[0], key: bad}, *agents[1:]]}
    for key, value in summary["suite"].items():
        allowed = {kind(value), "list[]"} if isinstance(value, list) else {kind(value)}
        for _, bad in wrong_values(allowed):
            yield f"suite.{key}", {**summary, "suite": {**summary["suite"], key: bad}}


def test_a_summary_of_the_wrong_shape_is_named_by_file_and_field(
    folder: Path, tmp_path: Path
) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    case = fresh(folder, tmp_path)
    cases, wrong = 0, []
    for field, doc in summary_cases(summary):
        (case / "summary.json").write_text(json.dumps(doc, allow_nan=True))
        cases += 1
        why = app_outcome(case, "summary.json", field)
        if why is not None:
            wrong.append(f"{field or 'the file'} ({json.dumps(doc)[:40]}...): {why}")
    print(f"summary.json fuzz: {cases} cases, {len(wrong)} wrong")
    assert cases > 150 and not wrong, "\n".join(wrong[:10])


@pytest.mark.parametrize(
    ("doc", "field", "needle"),
    [
        ({"agents": "rule"}, "agents", "agents='rule'; expected a list of per-agent objects"),
        ({"agents": ["rule", "oracle"]}, "agents[0]", "agents[0]='rule'; expected a list of"),
        ({"agents": [{"cells": 2}]}, "agents[0].agent", "agents[0].agent=None; expected a name"),
        ({"agents": math.nan}, "agents", "agents=nan; expected a list"),
        ({"suite": ["default"]}, "suite", "suite=['default']; expected an object"),
    ],
)
def test_the_issue_summaries_show_a_message_in_the_page(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doc, field, needle
) -> None:
    case = fresh(folder, tmp_path)
    summary = json.loads((case / "summary.json").read_text())
    (case / "summary.json").write_text(json.dumps({**summary, **doc}, allow_nan=True))
    exception, errors = page_error(monkeypatch, case)
    assert exception is None and len(errors) == 1
    assert f"{case / 'summary.json'}: {needle}" in errors[0], errors[0]


# --- results.csv --------------------------------------------------------------------------


def csv_cases(text: str) -> Iterator[tuple[str, str]]:
    """(column named in the message, the spoilt results.csv text): row 1 of each column
    replaced by a value of the wrong shape, and the whole file replaced."""
    for whole in ("[1]", '"x"', "3", "null", '{"agent": "rule"}', "", text.splitlines()[0]):
        yield "", whole
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for j, column in enumerate(header):
        if column in ("env", "agent", "scenario", "split", "error"):
            bad = [""] if column not in ("split", "error") else []  # text: only empty is bad
        elif column == "status":
            bad = ["", "done", "[1]"]
        else:
            bad = ["abc", "[1, 2]", '{"a": 1}'] + (
                ["", "1.5"] if column in ("seed", "days") else []
            )
        for value in bad:
            spoilt = [header, [*rows[1][:j], value, *rows[1][j + 1 :]], *rows[2:]]
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(spoilt)
            yield column, out.getvalue()


def test_a_results_csv_of_the_wrong_shape_is_named_by_file_and_column(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    case = fresh(folder, tmp_path)
    cases, wrong = 0, []
    for column, text in csv_cases((folder / "results.csv").read_text()):
        (case / "results.csv").write_text(text)
        cases += 1
        why = app_outcome(case, "results.csv", column)
        capsys.readouterr()
        try:
            code = report.main(["--results", str(case), "--incumbents", str(case)])
        except Exception as exc:  # any traceback is a wrong case
            code, err = None, f"{type(exc).__name__}: {exc}"
        else:
            err = capsys.readouterr().err
        named = f"{case / 'results.csv'}" in err and column in err
        if code != 2 or not err.startswith("error: ") or len(err.splitlines()) != 1 or not named:
            why = (why or "") + f" report: exit {code}, {err.strip()[:200]}"
        if why is not None:
            wrong.append(f"{column or 'the file'}: {why}")
    print(f"results.csv fuzz: {cases} cases, {len(wrong)} wrong")
    assert cases > 100 and not wrong, "\n".join(wrong[:10])


def test_the_issue_results_csv_show_a_message_in_the_page(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = fresh(folder, tmp_path)
    text = (folder / "results.csv").read_text()
    rows = text.splitlines()
    seed = rows[0].split(",").index("seed")
    row = rows[1].split(",")
    row[seed] = "abc"
    (case / "results.csv").write_text("\n".join([rows[0], ",".join(row), *rows[2:]]) + "\n")
    exception, errors = page_error(monkeypatch, case)
    assert exception is None
    assert (
        f"{case / 'results.csv'}: column 'seed' holds 'abc' on line 2; expected a number"
        in (errors[0])
    )


# --- cells --------------------------------------------------------------------------------

#: A cell's fields -> the shapes they may have (:func:`evaluation.grid.run_cell`).
CELL_SHAPES = {
    "env": {"text"}, "agent": {"text"}, "scenario": {"text"}, "split": {"text"},
    "seed": {"number"}, "days": {"number"}, "status": {"text"}, "error": {"null", "text"},
    "wall_s": {"number", "NaN"}, "metrics": {"object"}, "member_saving_eur": {"object"},
    "series": {"object"},
}  # fmt: skip
#: Shapes of the values inside a cell's objects.
INNER_SHAPES = {
    "metrics": {"number", "NaN", "null"},
    "member_saving_eur": {"number", "NaN"},
    "series": {"list[number]", "object"},
}


def cell_cases(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(what is spoilt, the spoilt cell document)."""
    for name, value in CANDIDATES.items():
        yield f"the file: {name}", value
    yield "the file: {}", {}
    yield "status", {**data, "status": "done"}
    for key, value in data.items():
        assert key in CELL_SHAPES, f"a new cell field {key!r}: add its shapes to CELL_SHAPES"
        for name, bad in wrong_values(CELL_SHAPES[key]):
            yield f"{key}: {name}", {**data, key: bad}
        inner = value.keys() if isinstance(value, dict) else ()
        for k in list(inner)[:3]:  # the first entries of each object
            for name, bad in wrong_values(INNER_SHAPES[key]):
                yield f"{key}[{k}]: {name}", {**data, key: {**value, k: bad}}
    series = data["series"]
    yield "series without price", {**data, "series": {"coalition_position_mw": [1.0]}}
    for name, bad in wrong_values({"list[number]"}):
        one = {**series["dispatch_mw"], "x": bad}
        yield f"series[dispatch_mw][x]: {name}", {**data, "series": {**series, "dispatch_mw": one}}


def test_a_cell_of_the_wrong_shape_is_played_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """read_cell (what ``compare --resume`` and the app read) refuses every spoilt cell,
    and the page on the spoilt folder shows no traceback."""
    data = grid.read_cell(folder, RULE_CELL)
    assert data is not None
    case = fresh(folder, tmp_path)
    path = grid.cell_path(case, RULE_CELL)
    cases, wrong, paged = 0, [], set()
    for what, doc in cell_cases(data):
        path.write_text(json.dumps(doc, allow_nan=True))
        cases += 1
        kept = grid.read_cell(case, RULE_CELL) is not None
        if kept:
            wrong.append(f"{what}: read_cell kept it (--resume would not play it again)")
        field = what.split(":")[0]
        if kept or field not in paged:  # the page once per field (it skips a refused cell)
            paged.add(field)
            exception, errors = page_error(monkeypatch, case)
            if exception is not None or errors:
                wrong.append(f"{what}: the page showed {exception or errors}")
    print(f"cell fuzz: {cases} cases, {len(wrong)} wrong")
    assert cases > 80 and not wrong, "\n".join(wrong[:10])


@pytest.mark.parametrize(
    "doc", [[1], "x", 3, None, {"metrics": "x"}, {"series": {"price_eur_per_mwh": "x"}}],
    ids=["list", "text", "number", "null", "metrics text", "series text"],
)  # fmt: skip
def test_compare_resume_plays_a_cell_of_the_wrong_shape_again(
    folder: Path, tmp_path: Path, doc: Any
) -> None:
    case = fresh(folder, tmp_path)
    path = grid.cell_path(case, RULE_CELL)
    good = json.loads(path.read_text())
    path.write_text(json.dumps({**good, **doc} if isinstance(doc, dict) else doc))
    argv = ["--agents", "individual", "rule", "oracle", "--scenarios", "default",
            "sunny_summer", "--seeds", "1", "--days", "1", "--out", str(case), "--no-plots",
            "--no-progress", "--resamples", "50", "--cell-timeout", "0", "--resume"]  # fmt: skip
    assert compare.main(argv) == 0
    again = grid.read_cell(case, RULE_CELL)  # played again: the same result
    assert again is not None and again.pop("wall_s") > 0.0
    assert again == {k: v for k, v in good.items() if k != "wall_s"}
    other = grid.cell_path(case, grid.Cell("multimarket_v1", "oracle", "default", 1000, 1))
    assert other.stat().st_mtime_ns == grid.cell_path(folder, grid.Cell(
        "multimarket_v1", "oracle", "default", 1000, 1)).stat().st_mtime_ns  # fmt: skip
