"""The one sector table: daily load shapes and weather sensitivities by sector.

Used by the simulator's members and background load (:mod:`envs.data.profiles`) and by the
CFE tool's participants (:mod:`envs.cfe.config`). Dims: S = ``len(SECTORS)`` sectors.

Each sector has 24-h weekday and weekend shapes (hour 0 = 00:00-01:00) whose weekday
peak is 1, in the style of the BDEW standard load profiles (H0 household, G1 office,
G3 continuous, G4 shops, ...; Meier et al. 1999; demandlib), and a load change per
degree C of heating (below :data:`HEATING_BASE_C`) and of cooling (above
:data:`COOLING_BASE_C`). The system (background) load mixes the first
``len(SYSTEM_MIX)`` sectors by :data:`SYSTEM_MIX`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["COOLING_BASE_C", "HEATING_BASE_C", "SECTORS", "SYSTEM_MIX", "sector_shapes"]

SECTORS: tuple[str, ...] = (
    "residential",
    "commercial",
    "industrial",
    "data_centre",
    "hospital",
    "school",
    "bakery",
    "retail",
)
SCHOOL = SECTORS.index("school")

# (S, 2, 24) daily shapes, [:, 0] weekday and [:, 1] weekend, hour 0 = 00:00-01:00.
DAILY_SHAPES = np.array(
    [
        [  # residential (H0): morning and evening peaks; later, fuller weekend mornings.
            [.35, .30, .28, .27, .28, .35, .55, .70, .62, .50, .45, .47,
             .50, .47, .45, .47, .55, .75, .92, 1.0, .95, .82, .65, .47],
            [.40, .33, .30, .28, .28, .30, .36, .48, .62, .70, .70, .72,
             .75, .68, .60, .58, .62, .78, .92, 1.0, .95, .84, .68, .50],
        ],
        [  # commercial (G1): office hours on weekdays.
            [.25, .25, .25, .25, .25, .25, .35, .60, .85, .95, 1.0, 1.0,
             .95, .97, .98, .95, .85, .65, .45, .35, .30, .28, .26, .25],
            [.25, .25, .25, .25, .25, .25, .25, .25, .30, .30, .30, .30,
             .30, .30, .30, .30, .30, .30, .25, .25, .25, .25, .25, .25],
        ],
        [  # industrial: two shifts 06-22 on weekdays, a reduced Saturday-like weekend.
            [.45, .45, .45, .45, .45, .45, .85, .95, 1.0, 1.0, 1.0, .98,
             .92, .97, 1.0, 1.0, .98, .95, .92, .90, .88, .85, .55, .48],
            [.40, .40, .40, .40, .40, .40, .50, .50, .50, .50, .50, .50,
             .50, .50, .50, .50, .50, .50, .40, .40, .40, .40, .40, .40],
        ],
        [  # data centre: flat IT load, slight daytime bump.
            [.95, .95, .95, .95, .95, .95, .96, .97, .98, .99, 1.0, 1.0,
             1.0, 1.0, 1.0, .99, .98, .97, .96, .96, .95, .95, .95, .95],
            [.95, .95, .95, .95, .95, .95, .95, .96, .96, .97, .97, .97,
             .97, .97, .97, .97, .96, .96, .96, .95, .95, .95, .95, .95],
        ],
        [  # hospital: near flat, ward and theatre hours higher.
            [.75, .74, .73, .73, .74, .77, .84, .92, .97, 1.0, 1.0, .99,
             .98, .98, .97, .95, .92, .89, .86, .84, .82, .80, .78, .76],
            [.73, .72, .71, .71, .72, .74, .78, .83, .86, .88, .88, .88,
             .87, .87, .86, .85, .84, .83, .82, .80, .78, .77, .75, .74],
        ],
        [  # school: teaching hours on weekdays only.
            [.15, .15, .15, .15, .15, .15, .20, .55, .90, 1.0, 1.0, .98,
             .95, .92, .85, .60, .35, .25, .20, .18, .15, .15, .15, .15],
            [.15] * 24,
        ],
        [  # bakery: ovens 02-07, shop until early evening.
            [.15, .25, .80, 1.0, 1.0, .95, .85, .65, .60, .60, .58, .55,
             .50, .45, .40, .38, .36, .34, .20, .15, .15, .15, .15, .15],
            [.15, .20, .65, .80, .80, .75, .70, .60, .55, .55, .50, .45,
             .30, .20, .18, .15, .15, .15, .15, .15, .15, .15, .15, .15],
        ],
        [  # retail (G4 shops): open 08-20 on weekdays, a shorter, lighter weekend.
            [.30, .30, .30, .30, .30, .30, .32, .45, .70, .90, .95, .97,
             .98, .98, .97, .97, .98, 1.0, .98, .90, .65, .45, .35, .31],
            [.30, .30, .30, .30, .30, .30, .30, .38, .60, .80, .85, .86,
             .86, .85, .83, .80, .75, .65, .50, .40, .34, .31, .30, .30],
        ],
    ],
    dtype=np.float64,
)  # fmt: skip

# Load change per degree C: heating below 15.5 C, cooling above 22 C, (S,) in 1/degC.
HEATING_BASE_C = 15.5
COOLING_BASE_C = 22.0
HEATING_PER_C = np.array([0.020, 0.010, 0.003, 0.0, 0.005, 0.012, 0.0, 0.010])
COOLING_PER_C = np.array([0.010, 0.030, 0.005, 0.015, 0.020, 0.010, 0.010, 0.025])
# Shares of the background (system) load of the first len(SYSTEM_MIX) sectors, sum 1.
# Sectors added later (retail, for the CFE tool's pools) take no share: the system load
# is computed over these 7 alone, so its float sums keep their order and the simulator's
# series stay bit-identical (tests/envs/golden/trajectories.json).
SYSTEM_MIX = np.array([0.35, 0.30, 0.30, 0.02, 0.01, 0.01, 0.01])
# School holidays as (first, last) day of year, 0-based inclusive: Christmas, summer.
SCHOOL_HOLIDAYS = ((0, 5), (186, 226), (354, 364))


def sector_shapes(
    abs_hour: NDArray[np.int64],
    day_of_year: NDArray[np.int64],
    hour_of_day: NDArray[np.int64],
    first_weekday: int,
) -> NDArray[np.float64]:
    """(S, T) weather-neutral load shape per sector, weekday peak 1.

    Args:
        abs_hour: (T,) hours since 1 January 00:00 of the first year (the weekday keeps
            counting across the year end).
        day_of_year: (T,) 0-based day of year (school holidays).
        hour_of_day: (T,) 0-23.
        first_weekday: weekday of 1 January, 0 = Monday ... 6 = Sunday.
    """
    weekend = (abs_hour // 24 + first_weekday) % 7 >= 5
    holiday = np.zeros_like(weekend)
    for first, last in SCHOOL_HOLIDAYS:  # three calendar ranges, not a loop over hours
        holiday |= (day_of_year >= first) & (day_of_year <= last)
    off = np.broadcast_to(weekend, (len(SECTORS), weekend.shape[0])).copy()
    off[SCHOOL] |= holiday
    return np.where(off, DAILY_SHAPES[:, 1, hour_of_day], DAILY_SHAPES[:, 0, hour_of_day])
