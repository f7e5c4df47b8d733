"""What each file of a ``python -m evaluation.compare`` folder must hold, checked on reading.

A results folder holds ``results.csv`` (one row per cell), ``summary.json`` (the ranked
per-agent aggregates and the suite), ``leaderboard.md``, PNG plots and
``cells/<env>/<agent>/<scenario>/seed_<s>.json`` (each cell's result, as
:func:`evaluation.grid.run_cell` returns it). A file can parse and still be of the wrong
shape (a list where an object belongs, a string where a number does): the readers here
check every field they hand on, so that a bad file gives one message naming the file and
the field (:class:`ResultsFileError`) or, for a cell, a reason to run it again
(:func:`cell_problem`), never a traceback from deep inside a table or a plot.

The checks are by kind of field, so a field added later is covered: in a cell, every
metric is a number or null; in ``summary.json``, every per-agent value but ``agent`` and
``error`` is a number or null; in ``results.csv``, every column but the text ones
(:data:`TEXT_COLUMNS`) is numeric.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from envs.errors import ConfigError

__all__ = [
    "ID_COLUMNS",
    "TEXT_COLUMNS",
    "ResultsFileError",
    "cell_problem",
    "check_frame",
    "check_summary",
    "read_frame",
    "read_summary",
]

#: results.csv columns every reader needs (the cell's identity and status).
ID_COLUMNS = ("env", "agent", "scenario", "seed", "days", "status")
#: results.csv columns that hold text; every other column must be numeric.
TEXT_COLUMNS = ("env", "agent", "scenario", "split", "status", "error")
STATUSES = ("ok", "failed")


class ResultsFileError(ConfigError):
    """A results file that parses but holds the wrong shape; the message names the file,
    the field, the bad value and what was expected. (A :class:`ConfigError`, so that the
    command-line programs print it as one ``error:`` line and exit 2.)"""


def _is_number(x: Any) -> bool:
    """An int or float (NaN and inf included), not a bool."""
    return isinstance(x, int | float) and not isinstance(x, bool)


def _line(exc: BaseException) -> str:
    """An error's text on one line (the CLIs print one ``error:`` line)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _show(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _numbers(x: Any) -> bool:
    """A list of numbers."""
    return isinstance(x, list) and all(_is_number(v) for v in x)


def _number_map(x: Any, field: str, nulls: bool) -> str | None:
    """Why ``x`` (the value of ``field``) is not an object of names to numbers (or nulls,
    with ``nulls``: a metric not defined for the run), or None."""
    if not isinstance(x, Mapping):
        return f"{field}={_show(x)}; expected an object of names to numbers"
    for k, v in x.items():
        if not (_is_number(v) or (nulls and v is None)):
            return f"{field}[{k!r}]={_show(v)}; expected a number" + (" or null" if nulls else "")
    return None


def _series_problem(series: Any) -> str | None:
    if not isinstance(series, Mapping):
        return f"series={_show(series)}; expected an object of per-step lists"
    if series and not _numbers(series.get("price_eur_per_mwh")):
        return "series['price_eur_per_mwh'] is not a list of numbers"
    for k, v in series.items():
        ok = _numbers(v) or (isinstance(v, Mapping) and all(map(_numbers, v.values())))
        if not ok:
            return f"series[{k!r}]={_show(v)}; expected a list of numbers (or an object of them)"
    return None


def cell_problem(data: Any) -> str | None:
    """Why a stored cell result cannot be used as it is, or None when it can.

    Checks the fields :func:`evaluation.grid.run_cell` writes: the identity (``env``,
    ``agent``, ``scenario``, ``split`` text; ``seed``, ``days`` whole numbers), ``status``
    (``ok`` or ``failed``), ``error`` (text or null), ``wall_s`` (a number), ``metrics``
    (names to numbers or nulls; required when ok), and the optional ``member_saving_eur`` and
    ``imbalance_by_agent_mwh`` (names to numbers) and ``series`` (per-step number lists).

    Returns:
        ``"field=value; expected ..."``, for a log line; the caller runs the cell again.
    """
    if not isinstance(data, Mapping):
        return f"the file holds {type(data).__name__} {_show(data)}; expected an object"
    for key in ("env", "agent", "scenario", "split"):
        if not isinstance(data.get(key, ""), str):
            return f"{key}={_show(data.get(key))}; expected text"
    for key in ("seed", "days"):
        if not isinstance(data.get(key), int) or isinstance(data.get(key), bool):
            return f"{key}={_show(data.get(key))}; expected a whole number"
    if data.get("status") not in STATUSES:
        return f"status={_show(data.get('status'))}; expected one of {list(STATUSES)}"
    if not (data.get("error") is None or isinstance(data.get("error"), str)):
        return f"error={_show(data.get('error'))}; expected text or null"
    if not _is_number(data.get("wall_s", 0.0)):
        return f"wall_s={_show(data.get('wall_s'))}; expected a number of seconds"
    for key in ("metrics", "member_saving_eur", "imbalance_by_agent_mwh"):
        required = key == "metrics" and data["status"] == "ok"
        why = _number_map(data.get(key), key, key == "metrics") if key in data or required else None
        if why is not None:
            return why
    return _series_problem(data["series"]) if "series" in data else None


# --- summary.json ---------------------------------------------------------------------------

#: summary.json's top-level fields: (JSON type, the type of its entries or None, what).
#: A field added to summary.json belongs here (tests/evaluation/test_results_fuzz.py says so).
_SUMMARY_FIELDS: dict[str, tuple[type[Any], type | None, str]] = {
    "suite_name": (str, None, "text"),
    "suite": (Mapping, None, "an object (the suite's settings)"),
    "rank_by": (str, None, "text (a metric name)"),
    "agents": (list, Mapping, "a list of per-agent objects"),
    "failures": (list, Mapping, "a list of failed cells' objects"),
    "excluded_runs": (list, Mapping, "a list of runs' objects"),
    "legend": (Mapping, str, "an object of key -> definition text"),
    "by_scenario": (list, Mapping, "a list of per-scenario objects"),
    "loss_reasons": (list, Mapping, "a list of objects"),
    "smoke_run": (bool, None, "true or false (a --quick run)"),
    "notes": (list, str, "a list of text lines"),
    "scenario_labels": (Mapping, str, "an object of scenario -> label text"),
}
#: suite fields (evaluation.grid.EvalConfig): (check, what is expected).
_SUITE_FIELDS: dict[str, tuple[Any, str]] = {
    **dict.fromkeys(
        ("description", "env", "baseline", "low", "high"),
        (lambda v: isinstance(v, str), "text"),
    ),
    **dict.fromkeys(
        ("seed_start", "n_seeds", "days"),
        (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    ),
    **dict.fromkeys(
        ("scenarios", "agents"),
        (lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v), "a list of names"),
    ),
}


def check_summary(summary: Any, path: Path) -> dict[str, Any]:
    """Check a parsed ``summary.json`` (``path`` for the messages); returns it.

    Raises:
        ResultsFileError: not an object; a top-level field of the wrong type; no
            ``agents``; an ``agents`` entry that is not an object, lacks a text ``agent``
            or holds a value that is not a number or null (``error``: text or null); a
            ``suite`` field of the wrong type.
    """
    if not isinstance(summary, Mapping):
        raise ResultsFileError(
            f"{path}: holds {type(summary).__name__} {_show(summary)}; expected an object"
        )
    for key, (kind, inner, what) in _SUMMARY_FIELDS.items():
        if key not in summary:
            continue
        value = summary[key]
        if not isinstance(value, kind):
            raise ResultsFileError(f"{path}: {key}={_show(value)}; expected {what}")
        if inner is None:
            continue
        for i, entry in value.items() if isinstance(value, Mapping) else enumerate(value):
            if not isinstance(entry, inner):
                raise ResultsFileError(f"{path}: {key}[{i!r}]={_show(entry)}; expected {what}")
    if "agents" not in summary:
        raise ResultsFileError(f"{path}: no 'agents' field; expected the ranked agents' list")
    for i, entry in enumerate(summary["agents"]):
        _check_agent(entry, f"{path}: agents[{i}]")
    for key, (check, what) in _SUITE_FIELDS.items():
        suite = summary.get("suite", {})
        if key in suite and not check(suite[key]):
            raise ResultsFileError(f"{path}: suite.{key}={_show(suite[key])}; expected {what}")
    return dict(summary)


def _check_agent(entry: Mapping[str, Any], where: str) -> None:
    """One ``agents`` entry: ``agent`` a name, ``error`` text or null, the rest numbers or
    nulls (statistics not defined for the agent)."""
    if not isinstance(entry.get("agent"), str) or not entry["agent"]:
        raise ResultsFileError(f"{where}.agent={_show(entry.get('agent'))}; expected a name")
    for key, value in entry.items():
        if key == "error":
            if not (value is None or isinstance(value, str)):
                raise ResultsFileError(f"{where}.error={_show(value)}; expected text or null")
        elif key != "agent" and not (value is None or _is_number(value)):
            raise ResultsFileError(f"{where}.{key}={_show(value)}; expected a number or null")


def read_summary(path: Path) -> dict[str, Any]:
    """Read and check ``summary.json`` (:func:`check_summary`).

    Raises:
        ResultsFileError: unreadable (a folder, binary), not JSON, or of the wrong shape.
    """
    try:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ResultsFileError(f"{path}: cannot read it as JSON ({_line(exc)})") from None
    return check_summary(summary, path)


# --- results.csv ----------------------------------------------------------------------------


def check_frame(frame: pd.DataFrame, path: Path, need: tuple[str, ...] = ()) -> pd.DataFrame:
    """Check ``results.csv``'s rows (``path`` for the messages); returns the frame with
    text columns as text (empty: ``""``) and every other column as float.

    Args:
        need: columns needed besides :data:`ID_COLUMNS`.

    Raises:
        ResultsFileError: a missing column; an empty identity or status cell; a status
            other than ok/failed; a seed or days that is not a whole number; a
            non-numeric value in a numeric column (names the column, line and value).
    """
    missing = [c for c in (*ID_COLUMNS, *need) if c not in frame.columns]
    if missing:
        raise ResultsFileError(
            f"{path}: no column {missing[0]!r}; expected the columns {list(ID_COLUMNS)} and "
            f"the metrics (found {list(frame.columns)[:8]})"
        )
    out = frame.copy()
    for col in (c for c in out.columns if c in TEXT_COLUMNS):
        empty = out[col].isna()
        if col in ID_COLUMNS and empty.any():
            raise ResultsFileError(f"{path}: column {col!r} is empty on line {_row(empty)}")
        out[col] = out[col].where(~empty, "").astype(str)
    bad = ~out.status.isin(STATUSES)
    if bad.any():
        value = out.status[bad].iloc[0]
        raise ResultsFileError(
            f"{path}: status={value!r} on line {_row(bad)}; expected one of {list(STATUSES)}"
        )
    for col in (c for c in out.columns if c not in TEXT_COLUMNS):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        if bad.any():
            raise ResultsFileError(
                f"{path}: column {col!r} holds {_show(out[col][bad].iloc[0])} on line "
                f"{_row(bad)}; expected a number"
            )
        out[col] = values.astype(float)
    for col, lowest in (("seed", -math.inf), ("days", 1)):
        bad = ~out[col].map(lambda v, lo=lowest: math.isfinite(v) and v == int(v) and v >= lo)
        if bad.any():
            raise ResultsFileError(
                f"{path}: {col}={out[col][bad].iloc[0]!r} on line {_row(bad)}; expected a "
                "whole number" + (" >= 1" if lowest == 1 else "")
            )
        out[col] = out[col].astype(int)
    return out


def _row(mask: pd.Series) -> int:
    """The file's line of the first flagged row (the header is line 1; no quoted line
    breaks in compare's rows)."""
    return int(mask.to_numpy().argmax()) + 2


def read_frame(path: Path, need: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read and check ``results.csv`` (:func:`check_frame`).

    Raises:
        ResultsFileError: unreadable, not a CSV, no rows, or rows of the wrong shape.
    """
    try:
        frame = pd.read_csv(path, dtype={c: object for c in TEXT_COLUMNS})
    except (OSError, ValueError, pd.errors.ParserError) as exc:  # EmptyDataError: ValueError
        raise ResultsFileError(f"{path}: cannot read it as CSV ({_line(exc)})") from None
    if frame.empty:
        raise ResultsFileError(f"{path}: no rows; expected one row per cell")
    return check_frame(frame, path, need)
