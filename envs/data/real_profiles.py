"""Real hourly profiles from data files shipped inside installed packages (no downloads).

Sources (all read from ``site-packages`` at run time, DESIGN §4 "Profiles"):

========================  =====================================================  ==========
what                      file (package)                                         reader
========================  =====================================================  ==========
weather (GHI/DNI/DHI,     ``pvlib/data/723170TYA.CSV`` (Greensboro NC, TMY3),    pvlib
air temperature, 10 m     ``pvlib/data/703165TY.csv`` (Sand Point AK, TMY3)      ``read_tmy3``
wind speed)
load                      ``demandlib/bdew/bdew_data/{h25,g25,l25,p25,s25}.csv``  demandlib
                          (BDEW 2025 standard load profiles)                     ``bdew.H25`` …
turbine power curves      ``windpowerlib/oedb/power_curves.csv`` and             windpowerlib
                          ``turbine_data.csv`` (oedb turbine library snapshot)   ``WindTurbine``
========================  =====================================================  ==========

Every function returns a float64 numpy array of shape (H,) (H = 8 760 hours, index t =
the hour starting at t hours after 1 January 00:00 local standard time). Capacity
factors are per unit of rated power; loads are MW (= MWh per hour). A user's own data
comes in through :func:`load_user_csv`, whose format is documented there.

The pvlib and windpowerlib imports are lazy, so ``envs`` imports without the ``real``
extra installed; a missing package raises ImportError naming the extra.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "BDEW_PROFILES",
    "TMY3_FILES",
    "USER_CSV_COLUMNS",
    "bdew_load_mw",
    "load_user_csv",
    "pvlib_data_path",
    "read_tmy3_weather",
    "tmy3_pv_cf",
    "tmy3_solar_cf",
    "tmy3_wind_cf",
    "turbine_power_curve",
]

Array = NDArray[np.float64]
HOURS = 8760
#: TMY3 files shipped in ``pvlib/data`` (file name -> station).
TMY3_FILES: dict[str, str] = {
    "723170TYA.CSV": "Greensboro Piedmont Triad Intl, NC, USA",
    "703165TY.csv": "Sand Point, AK, USA",
}
#: BDEW 2025 standard load profiles shipped in demandlib: H25 households (dynamised),
#: G25 commerce/business, L25 agriculture, P25 households with PV, S25 households with PV
#: and a battery.
BDEW_PROFILES: tuple[Literal["H25", "G25", "L25", "P25", "S25"], ...] = (
    "H25",
    "G25",
    "L25",
    "P25",
    "S25",
)
#: Columns of a user CSV: name -> (required, meaning).
USER_CSV_COLUMNS: dict[str, tuple[bool, str]] = {
    "timestamp": (True, "ISO 8601 start of the hour, strictly hourly and increasing"),
    "load_mw": (True, "average load in the hour, MW >= 0"),
    "solar_mw": (False, "average solar output in the hour, MW >= 0"),
    "wind_mw": (False, "average wind output in the hour, MW >= 0"),
}


def _require(module: str) -> object:
    """Import ``module`` or raise ImportError naming the ``real`` extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is needed for real profiles; install it with "
            "pip install 'coalition-markets[real]'"
        ) from exc


def pvlib_data_path(name: str) -> Path:
    """Path of a TMY3 file shipped in ``pvlib/data``.

    Raises:
        ValueError: ``name`` is not one of :data:`TMY3_FILES`.
        FileNotFoundError: the installed pvlib does not ship it.
    """
    if name not in TMY3_FILES:
        raise ValueError(f"tmy3_file={name!r} is unknown; valid files: {', '.join(TMY3_FILES)}")
    pvlib = _require("pvlib")
    path = Path(pvlib.__file__).parent / "data" / name  # type: ignore[attr-defined]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed pvlib")
    return path


def read_tmy3_weather(
    name: str = "723170TYA.CSV", *, year: int = 2023
) -> tuple[pd.DataFrame, dict]:
    """Read a shipped TMY3 file with :func:`pvlib.iotools.read_tmy3`.

    TMY3 stamps are hour *ending* in local standard time; the returned frame is indexed
    by the hour *start* (tz-aware), 8 760 rows, columns ``ghi``, ``dni``, ``dhi`` (W/m^2),
    ``temp_air`` (degC), ``wind_speed`` (m/s at 10 m) among others.

    Args:
        name: one of :data:`TMY3_FILES`.
        year: calendar year stamped on the typical-year data.

    Returns:
        (weather frame, metadata dict with ``latitude``, ``longitude``, ``altitude``, ``TZ``).
    """
    iotools = _require("pvlib.iotools")
    data, meta = iotools.read_tmy3(pvlib_data_path(name), coerce_year=year, map_variables=True)  # type: ignore[attr-defined]
    data = data.copy()
    data.index = data.index - pd.Timedelta(hours=1)
    return data, meta


def tmy3_solar_cf(
    name: str = "723170TYA.CSV",
    *,
    year: int = 2023,
    tilt_deg: float | None = None,
    azimuth_deg: float = 180.0,
    system_losses: float = 0.14,
) -> Array:
    """Hourly solar capacity factor (AC MWh per MWp of PV per hour) from a shipped TMY3
    file (the package's one name for it: ``solar_cf``, as in :mod:`envs.data.profiles`).

    A PVWatts-style chain with pvlib: solar position at mid-hour, isotropic-sky plane-of-
    array irradiance (tilt = latitude by default, facing ``azimuth_deg``), Faiman cell
    temperature, ``pvwatts_dc`` with -0.4 %/K, then flat ``system_losses`` (wiring,
    soiling, inverter), clipped to [0, 1].

    Args:
        name: one of :data:`TMY3_FILES`.
        year: calendar year stamped on the data.
        tilt_deg: module tilt, degrees from horizontal (default: the site latitude).
        azimuth_deg: module azimuth, degrees clockwise from north (180 = south).
        system_losses: fraction of DC energy lost before the meter, in [0, 1).

    Returns:
        (8760,) capacity factor in [0, 1].
    """
    if not 0.0 <= system_losses < 1.0:
        raise ValueError(f"system_losses={system_losses}; expected a fraction in [0, 1)")
    pvlib = _require("pvlib")
    weather, meta = read_tmy3_weather(name, year=year)
    tilt = abs(meta["latitude"]) if tilt_deg is None else tilt_deg
    location = pvlib.location.Location(  # type: ignore[attr-defined]
        meta["latitude"], meta["longitude"], altitude=meta["altitude"]
    )
    solpos = location.get_solarposition(weather.index + pd.Timedelta(minutes=30))
    poa = pvlib.irradiance.get_total_irradiance(  # type: ignore[attr-defined]
        tilt,
        azimuth_deg,
        solpos["apparent_zenith"].to_numpy(),
        solpos["azimuth"].to_numpy(),
        dni=weather["dni"].to_numpy(),
        ghi=weather["ghi"].to_numpy(),
        dhi=weather["dhi"].to_numpy(),
        model="isotropic",
    )["poa_global"]
    poa = np.nan_to_num(np.asarray(poa, dtype=np.float64), nan=0.0)
    temp_cell = pvlib.temperature.faiman(  # type: ignore[attr-defined]
        poa, weather["temp_air"].to_numpy(), weather["wind_speed"].to_numpy()
    )
    dc = pvlib.pvsystem.pvwatts_dc(poa, temp_cell, pdc0=1.0, gamma_pdc=-0.004)  # type: ignore[attr-defined]
    return np.clip(np.asarray(dc, dtype=np.float64) * (1.0 - system_losses), 0.0, 1.0)


def tmy3_pv_cf(*args: Any, **kwargs: Any) -> Array:
    """Deprecated name of :func:`tmy3_solar_cf` (kept for one release)."""
    warnings.warn("envs.data.real_profiles.tmy3_pv_cf is renamed tmy3_solar_cf",
                  DeprecationWarning, stacklevel=2)  # fmt: skip
    return tmy3_solar_cf(*args, **kwargs)


def turbine_power_curve(turbine_type: str = "E-126/4200") -> tuple[Array, Array]:
    """Power curve of a turbine from windpowerlib's shipped oedb library snapshot.

    Reads ``windpowerlib/oedb/power_curves.csv`` and ``turbine_data.csv`` through
    :class:`windpowerlib.WindTurbine` (``path="oedb"``, a local file; nothing is
    downloaded).

    Args:
        turbine_type: an oedb turbine type, e.g. ``"E-126/4200"`` or ``"V126/3300"``.

    Returns:
        (wind speeds in m/s, output as a fraction of nominal power), each (K,).

    Raises:
        ValueError: the turbine type has no power curve in the shipped library.
    """
    windpowerlib = _require("windpowerlib")
    try:
        with warnings.catch_warnings():
            # windpowerlib 0.2.2 uses pandas inplace=True (deprecated in pandas 3) and warns
            # on an unknown type; the missing curve is reported below as a ValueError.
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            turbine = windpowerlib.WindTurbine(turbine_type=turbine_type, hub_height=100.0)  # type: ignore[attr-defined]
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"turbine_type={turbine_type!r} has no power curve in windpowerlib's shipped "
            f"oedb library ({exc}); e.g. 'E-126/4200', 'V126/3300', 'SWT130/3600'"
        ) from None
    if turbine.power_curve is None or turbine.nominal_power is None:
        raise ValueError(f"turbine_type={turbine_type!r} has no power curve in the oedb library")
    curve = turbine.power_curve.sort_values("wind_speed")
    speeds = curve["wind_speed"].to_numpy(dtype=np.float64)
    fraction = curve["value"].to_numpy(dtype=np.float64) / float(turbine.nominal_power)
    return speeds, np.clip(fraction, 0.0, 1.0)


def tmy3_wind_cf(
    name: str = "723170TYA.CSV",
    *,
    year: int = 2023,
    turbine_type: str = "E-126/4200",
    hub_height_m: float = 135.0,
    hellman_exponent: float = 1.0 / 7.0,
) -> Array:
    """Hourly wind capacity factor from a TMY3 wind speed and an oedb power curve.

    The 10 m TMY3 speed is extrapolated to hub height by the Hellman power law
    ``v_hub = v_10 (h / 10 m)^alpha`` (windpowerlib's ``hellman``), then read off the
    turbine's power curve (linear interpolation, 0 beyond the last tabulated speed).

    Args:
        name: one of :data:`TMY3_FILES`.
        year: calendar year stamped on the data.
        turbine_type: an oedb turbine type (see :func:`turbine_power_curve`).
        hub_height_m: hub height, m.
        hellman_exponent: wind shear exponent (1/7 for open land).

    Returns:
        (8760,) capacity factor in [0, 1].
    """
    if hub_height_m <= 0:
        raise ValueError(f"hub_height_m={hub_height_m}; expected a height > 0 m")
    wind_speed = _require("windpowerlib.wind_speed")
    weather, _ = read_tmy3_weather(name, year=year)
    v10 = weather["wind_speed"].to_numpy(dtype=np.float64)
    v_hub = np.asarray(
        wind_speed.hellman(v10, 10.0, hub_height_m, hellman_exponent=hellman_exponent),  # type: ignore[attr-defined]
        dtype=np.float64,
    )
    speeds, fraction = turbine_power_curve(turbine_type)
    return np.interp(v_hub, speeds, fraction, left=0.0, right=0.0)


def bdew_load_mw(
    profile: Literal["H25", "G25", "L25", "P25", "S25"] = "H25",
    *,
    annual_mwh: float = 1000.0,
    year: int = 2023,
) -> Array:
    """Hourly load from a BDEW 2025 standard load profile shipped in demandlib.

    The 15-minute profile (German weekday/Saturday/holiday types, no holidays passed)
    is averaged to hours and scaled to ``annual_mwh``.

    Args:
        profile: one of :data:`BDEW_PROFILES`.
        annual_mwh: annual energy, MWh.
        year: calendar year (weekday alignment); must have 8 760 hours.

    Returns:
        (8760,) load, MW.
    """
    if profile not in BDEW_PROFILES:
        raise ValueError(f"profile={profile!r} is unknown; valid BDEW profiles: {BDEW_PROFILES}")
    if annual_mwh < 0:
        raise ValueError(f"annual_mwh={annual_mwh}; expected MWh >= 0")
    bdew = _require("demandlib.bdew")
    index = pd.date_range(f"{year}-01-01", periods=HOURS, freq="h")
    if index[-1].year != year:
        raise ValueError(f"year={year} is a leap year; BDEW real profiles need 8760 hours")
    with warnings.catch_warnings():
        # demandlib 0.2.2 calls pandas methods with inplace=True, deprecated in pandas 3.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        series = getattr(bdew, profile)(index)
    values = series.reindex(index).to_numpy(dtype=np.float64)
    if np.isnan(values).any():  # the final hour may lack a 15-minute tail: carry forward
        values = pd.Series(values).ffill().bfill().to_numpy()
    return values * (annual_mwh / values.sum())


def _numeric_column(frame: pd.DataFrame, column: str, path: Path) -> Array:
    """Parse one numeric column, naming the row and value of the first bad entry."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{path.name}: column {column!r} row {row + 2} has {frame[column].iloc[row]!r}; "
            f"expected {USER_CSV_COLUMNS[column][1]}"
        )
    return values


def load_user_csv(path: str | Path, *, hours: int | None = HOURS) -> dict[str, Array]:
    """Read a user's hourly profile CSV.

    Format: a header row, then one row per hour, comma-separated:

    - ``timestamp`` (required): ISO 8601 start of the hour, e.g. ``2023-01-01 00:00``;
      rows strictly increasing by exactly one hour, no gaps or duplicates.
    - ``load_mw`` (required): average load in the hour, MW >= 0.
    - ``solar_mw``, ``wind_mw`` (optional): average generation in the hour, MW >= 0.

    Other columns are refused (so a typo such as ``load_kw`` is caught).

    Args:
        path: the CSV file.
        hours: number of rows expected (8 760 by default); None accepts any length.

    Returns:
        ``{"load_mw": (H,), "solar_mw": (H,), "wind_mw": (H,)}`` for the columns present.

    Raises:
        ValueError: a missing or unknown column, an unparsable timestamp, a step that is
            not one hour, a value that is not a number >= 0, or the wrong number of rows;
            the message names the column, the row (1 = header) and the bad value.
    """
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    missing = [c for c, (req, _) in USER_CSV_COLUMNS.items() if req and c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path.name}: missing column {missing[0]!r}; columns are {list(frame.columns)}, "
            f"expected {list(USER_CSV_COLUMNS)} (solar_mw and wind_mw optional)"
        )
    unknown = [c for c in frame.columns if c not in USER_CSV_COLUMNS]
    if unknown:
        raise ValueError(
            f"{path.name}: unknown column {unknown[0]!r}; valid columns: {list(USER_CSV_COLUMNS)}"
        )
    if hours is not None and len(frame) != hours:
        raise ValueError(f"{path.name}: {len(frame)} rows of data; expected {hours} hourly rows")
    stamps = pd.to_datetime(frame["timestamp"], errors="coerce", format="ISO8601")
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise ValueError(
            f"{path.name}: column 'timestamp' row {row + 2} has {frame['timestamp'].iloc[row]!r}; "
            f"expected {USER_CSV_COLUMNS['timestamp'][1]}"
        )
    steps = stamps.diff().iloc[1:] != pd.Timedelta(hours=1)
    if steps.any():
        row = int(np.flatnonzero(steps.to_numpy())[0]) + 1
        raise ValueError(
            f"{path.name}: column 'timestamp' row {row + 2} has {frame['timestamp'].iloc[row]!r} "
            f"after {frame['timestamp'].iloc[row - 1]!r}; expected a step of exactly one hour"
        )
    return {
        c: _numeric_column(frame, c, path)
        for c in USER_CSV_COLUMNS
        if c in frame.columns and c != "timestamp"
    }
