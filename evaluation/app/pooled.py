"""Logic of the pooled-procurement page: participants table <-> scenario, run, tables.

The page edits a table of participants (one row each); :func:`scenario_from_frame`
turns it into the same :class:`~envs.cfe.config.CfeScenarioConfig` that
``python -m evaluation.cfe`` builds from a YAML file (through the project's one loader,
so a bad value raises the same :class:`~envs.errors.ConfigError`), and :func:`simulate`
runs :func:`evaluation.cfe.run` on it: the page and the CLI share every number.

Dims: T hours (8 760), P participants. Energies in MWh (per hour for hourly series),
money in EUR, scores in % (0-100; volumetric RE % may exceed 100).
"""

from __future__ import annotations

import errno
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from envs.cfe import model as cfe
from envs.cfe.config import CfeScenarioConfig, Profiles, load_scenario
from envs.config.loader import build, to_dict
from envs.data.real_profiles import BDEW_PROFILES, load_user_csv
from envs.errors import ConfigError
from evaluation import cfe as cfe_cli

__all__ = [
    "EDITOR_COLUMNS",
    "SECTOR_LABELS",
    "PoolRun",
    "default_frame",
    "hourly_csv_bytes",
    "hourly_series",
    "match_table",
    "money_table",
    "monthly_balance",
    "new_participant",
    "scenario_from_frame",
    "scores_table",
    "simulate",
    "validate_user_csv",
]

#: The shipped scenario the page starts from (six buyers, ``configs/scenarios``).
BASE_SCENARIO = "pooled_procurement"
#: Config sector -> label shown in the page (the seed's six load-profile types).
SECTOR_LABELS: dict[str, str] = {
    "commercial": "business",
    "industrial": "industrial",
    "residential": "residential",
    "data_centre": "data centre",
    "hospital": "health care",
    "retail": "retail",
}
_SECTOR_OF_LABEL = {label: key for key, label in SECTOR_LABELS.items()}
#: Editable columns of the participants table -> header shown (with units).
EDITOR_COLUMNS: dict[str, str] = {
    "name": "name",
    "sector": "load profile",
    "annual_load_mwh": "annual load MWh",
    "solar_mwh": "solar MWh/yr",
    "wind_mwh": "wind MWh/yr",
    "certificate_price_eur_per_mwh": "certificate EUR/MWh",
    "shortage_price_eur_per_mwh": "shortage EUR/MWh",
    "bdew_profile": "real load profile",
    "baseload_share": "flat share (real)",
}
_NUMERIC = (
    "annual_load_mwh",
    "solar_mwh",
    "wind_mwh",
    "certificate_price_eur_per_mwh",
    "shortage_price_eur_per_mwh",
    "baseload_share",
)
SCORES: dict[str, str] = {
    "volumetric_re_pct": "volumetric RE %",
    "standalone_cfe_pct": "standalone CFE %",
    "swapped_cfe_pct": "CFE % after swaps",
    "pooled_cfe_pct": "pooled CFE %",
}
MONEY: dict[str, str] = {
    "certificate_revenue_eur": "REC revenue EUR",
    "swap_revenue_eur": "swap revenue EUR",
    "swap_cost_eur": "swap cost EUR",
    "shortage_cost_eur": "shortage cost EUR",
    "net_settlement_eur": "net settlement EUR",
    "standalone_net_eur": "net alone EUR",
    "pooling_gain_eur": "pooling gain EUR",
}


def base_config() -> CfeScenarioConfig:
    """The shipped ``pooled_procurement`` scenario (what ``python -m evaluation.cfe`` runs)."""
    return load_scenario(BASE_SCENARIO)


def default_frame(cfg: CfeScenarioConfig | None = None) -> pd.DataFrame:
    """The participants of ``cfg`` (default: the shipped scenario) as editor rows."""
    cfg = cfg if cfg is not None else base_config()
    rows = [{k: getattr(p, k) for k in EDITOR_COLUMNS} for p in cfg.participants]
    frame = pd.DataFrame(rows, columns=list(EDITOR_COLUMNS))
    frame["sector"] = frame["sector"].map(SECTOR_LABELS)
    return frame


def new_participant(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with one more row: an office-type buyer of 50 GWh with 20 GWh solar and wind.

    The name ``participant_<n>`` takes the first ``n`` not used yet (names must differ).
    """
    used = set(frame["name"].astype(str))
    n = len(frame) + 1
    while f"participant_{n}" in used:
        n += 1
    row = {
        "name": f"participant_{n}",
        "sector": SECTOR_LABELS["commercial"],
        "annual_load_mwh": 50_000.0,
        "solar_mwh": 20_000.0,
        "wind_mwh": 20_000.0,
        "certificate_price_eur_per_mwh": 4.0,
        "shortage_price_eur_per_mwh": 45.0,
        "bdew_profile": "G25",
        "baseload_share": 0.0,
    }
    return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)


def _row_to_participant(i: int, row: pd.Series, csv_paths: dict[str, str]) -> dict[str, Any]:
    """One editor row as a ``participants[i]`` mapping; ConfigError names a blank cell."""
    name = "" if row.get("name") is None else str(row["name"]).strip()
    if not name or name == "nan":
        raise ConfigError(f"participants row {i + 1}: the name is empty; give every row a name")
    label = row.get("sector")
    if label not in _SECTOR_OF_LABEL:
        raise ConfigError(
            f"participants[{name}].load profile={label!r}; expected one of {list(_SECTOR_OF_LABEL)}"
        )
    out: dict[str, Any] = {"name": name, "sector": _SECTOR_OF_LABEL[label]}
    for key in _NUMERIC:
        value = row.get(key)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isnan(number):
            raise ConfigError(
                f"participants[{name}].{EDITOR_COLUMNS[key]} is empty or not a number "
                f"({value!r}); enter a number"
            )
        out[key] = number
    profile = row.get("bdew_profile")
    out["bdew_profile"] = profile if profile in BDEW_PROFILES else "G25"
    if name in csv_paths:
        out["profile_csv"] = csv_paths[name]
    return out


def scenario_from_frame(
    frame: pd.DataFrame,
    *,
    profiles: str = "synthetic",
    seed: int = 0,
    swap_price_eur_per_mwh: float = 10.0,
    csv_paths: dict[str, str] | None = None,
    base: CfeScenarioConfig | None = None,
) -> CfeScenarioConfig:
    """Build the scenario from the editor's rows on top of ``base`` (weather, year).

    Args:
        frame: one row per participant, columns :data:`EDITOR_COLUMNS` (sector as label).
        profiles: ``"synthetic"`` or ``"real"`` (package data).
        seed: seed of the synthetic profiles.
        swap_price_eur_per_mwh: internal certificate transfer price, EUR/MWh.
        csv_paths: participant name -> validated user CSV replacing its shapes.
        base: scenario supplying the other fields (default: the shipped one).

    Raises:
        ConfigError: an empty table, a blank or non-numeric cell, or any value the
            scenario loader refuses (the message names the participant and field).
    """
    if frame.empty:
        raise ConfigError("participants is empty; add at least one participant")
    data = to_dict(base if base is not None else base_config())
    data["participants"] = [
        _row_to_participant(i, row, csv_paths or {}) for i, (_, row) in enumerate(frame.iterrows())
    ]
    data |= {"profiles": profiles, "seed": int(seed)}
    data["swap_price_eur_per_mwh"] = float(swap_price_eur_per_mwh)
    return build(CfeScenarioConfig, data)


def validate_user_csv(data: bytes, filename: str, folder: Path, hours: int = 8760) -> Path:
    """Check an uploaded profile CSV and keep it in ``folder``; returns its path.

    The format is :func:`envs.data.real_profiles.load_user_csv`'s (timestamp, load_mw, optional
    solar_mw and wind_mw; one row per hour).

    Raises:
        ValueError: a message naming the column, row and bad value (or that the file is
            not a CSV at all), for the page to show; or that ``folder`` (or a folder of the
            file's name in it) is in the way of keeping the file.
    """
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(filename).name)
    path = folder / (safe if safe.strip(".") else "profile.csv")  # not '', '.' or '..'
    try:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file, not a folder", str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        if path.exists() and not path.is_file():
            raise IsADirectoryError(errno.EISDIR, "a folder, not a file", str(path))
        path.write_bytes(data)
    except OSError as exc:  # the folder is a file, read-only, full, ...
        raise ValueError(
            f"{filename}: cannot keep the upload as {path} ({exc.filename or path}: "
            f"{exc.strerror or exc}); expected a writable folder for the uploads"
        ) from None
    try:
        load_user_csv(path, hours=hours)
    except ValueError:
        path.unlink(missing_ok=True)
        raise
    except Exception as exc:  # pandas' parser errors (binary file, bad quoting, ...)
        path.unlink(missing_ok=True)
        raise ValueError(f"{path.name}: not a readable CSV file ({exc})") from exc
    return path


@dataclass(frozen=True)
class PoolRun:
    """One simulated year: the CLI's report, the hourly profiles and the swaps."""

    report: dict[str, Any]
    profiles: Profiles
    swaps: cfe.SwapResult
    year: int

    @property
    def names(self) -> tuple[str, ...]:
        """Participant names (the P axis)."""
        return self.profiles.names

    @property
    def stamps(self) -> pd.DatetimeIndex:
        """(T,) start of each hour."""
        return pd.date_range(
            f"{self.year}-01-01", periods=self.profiles.load_mwh.shape[0], freq="h"
        )


def simulate(cfg: CfeScenarioConfig) -> PoolRun:
    """Run the 8 760-hour simulation of ``cfg`` exactly as ``python -m evaluation.cfe`` does."""
    report, prof, swaps = cfe_cli.run(cfg)
    return PoolRun(report, prof, swaps, cfg.year)


def _table(report: dict[str, Any], keys: dict[str, str]) -> pd.DataFrame:
    names = [*report["participants"], "pool"]
    return pd.DataFrame(
        {label: [report[k][n] for n in names] for k, label in keys.items()}, index=names
    )


def scores_table(report: dict[str, Any]) -> pd.DataFrame:
    """Participants (and ``pool``) x the four scores, % (as the CLI's report)."""
    return _table(report, SCORES).rename_axis("participant")


def money_table(report: dict[str, Any]) -> pd.DataFrame:
    """Participants (and ``pool``) x the financials, EUR per year (as the CLI's report)."""
    names = [*report["participants"], "pool"]
    fin = report["financials"]
    return pd.DataFrame(
        {label: [fin[n][k] for n in names] for k, label in MONEY.items()}, index=names
    ).rename_axis("participant")


def match_table(report: dict[str, Any]) -> pd.DataFrame:
    """Individual against pooled hourly match: standalone, after swaps and pooled CFE %, long
    format (participant, measure, value %) for a grouped bar chart."""
    wide = scores_table(report).drop(columns=SCORES["volumetric_re_pct"])
    return wide.reset_index().melt(id_vars="participant", var_name="measure", value_name="pct")


def _columns(run: PoolRun, who: str) -> tuple[np.ndarray, ...]:
    """(T,) load, solar, wind of participant ``who`` or of the whole pool (``"pool"``)."""
    prof = run.profiles
    if who == "pool":
        return prof.load_mwh.sum(axis=1), prof.solar_mwh.sum(axis=1), prof.wind_mwh.sum(axis=1)
    if who not in prof.names:
        raise ValueError(f"unknown participant {who!r}; expected one of {[*prof.names, 'pool']}")
    i = prof.names.index(who)
    return prof.load_mwh[:, i], prof.solar_mwh[:, i], prof.wind_mwh[:, i]


def hourly_series(run: PoolRun, who: str = "pool") -> pd.DataFrame:
    """(T rows) timestamp, load, solar, wind and net position (solar + wind - load), MWh.

    Args:
        who: a participant's name or ``"pool"`` (the sum over participants).
    """
    load, solar, wind = _columns(run, who)
    return pd.DataFrame(
        {
            "timestamp": run.stamps,
            "load_mwh": load,
            "solar_mwh": solar,
            "wind_mwh": wind,
            "net_mwh": solar + wind - load,
        }
    )


def monthly_balance(run: PoolRun, who: str = "pool") -> pd.DataFrame:
    """(12 rows) month, load, solar, wind, surplus (generation - load), MWh per month."""
    hourly = hourly_series(run, who)
    month = hourly.timestamp.dt.month
    out = hourly.drop(columns="timestamp").groupby(month).sum()
    out = out.rename(columns={"net_mwh": "surplus_mwh"})
    out.index = pd.Index(
        [pd.Timestamp(run.year, m, 1).strftime("%b") for m in out.index], name="month"
    )
    return out.reset_index()


def hourly_csv_bytes(run: PoolRun) -> bytes:
    """The CLI's ``--hourly-csv`` file (:func:`evaluation.cfe.write_hourly_csv`) as bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hourly.csv"
        cfe_cli.write_hourly_csv(path, run.profiles, run.swaps, run.year)
        return path.read_bytes()
