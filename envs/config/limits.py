"""Physical upper (and signed lower) limits shared by every config's numeric fields.

Every ``int`` and ``float`` field of a config states finite bounds on both sides
(:func:`envs.config.validate.bounded`), so that no accepted value, alone, can overflow the
simulation to inf or NaN or lose the ledger's balance to rounding (issue: "bound every
input"; ``tests/envs/test_config_limits.py`` fails for a numeric field without them).
The limits are far above any real system's values, yet small enough that the products
the simulation forms (price x energy x members x hours) stay exact to far below a cent.

Each limit says why it is physical; a field whose own range is narrower (a share in
[0, 1], a Weibull shape) states that instead.
"""

from __future__ import annotations

__all__ = [
    "ANNUAL_ENERGY_MWH",
    "CAPACITY_PRICE_EUR_PER_MW_DAY",
    "CARBON_PRICE_EUR_PER_T",
    "COUNT",
    "EMISSION_T_PER_MWH",
    "ENERGY_MWH",
    "HOURS_PER_LEAP_YEAR",
    "MULTIPLE",
    "POWER_MW",
    "PRICE_EUR_PER_MWH",
    "RAMP_MW_PER_H",
    "SCALE",
    "SEED",
    "SYSTEM_POWER_MW",
    "WEIGHT",
]

#: Prices, costs and charges in EUR/MWh (and EUR/MW per hour of reserve): 1e5 is 20x the
#: highest energy price cap in use (SDAC's harmonised maximum clearing price, 4,000-5,000
#: EUR/MWh; AEMO's market price cap, about 17,500 AUD/MWh; ERCOT's 5,000 USD/MWh) and
#: the highest published values of lost load (1e4-1e5 EUR/MWh). Signed prices (floors,
#: offers, feed-in) lie in [-PRICE_EUR_PER_MWH, PRICE_EUR_PER_MWH].
PRICE_EUR_PER_MWH = 1e5

#: Power of one unit, member, contract or order, MW: 1e6 MW = 1 TW, twice the peak load
#: of the largest synchronous grid (continental Europe, about 0.5 TW); also the "no
#: limit" default of a member's export limit.
POWER_MW = 1e6

#: Power of a whole bidding zone outside the coalition (background load and renewables),
#: MW: 1e5 MW = 100 GW, above the peak load of any single bidding zone (Germany-Luxembourg
#: about 80 GW, ERCOT about 86 GW, PJM's zones smaller).
SYSTEM_POWER_MW = 1e5

#: Energy of one store, MWh: 1e7 MWh = 10 TWh, 300x the largest pumped-hydro plant (Bath
#: County, about 24 GWh) and far above any battery.
ENERGY_MWH = 1e7

#: Energy over a year, MWh: 1e10 MWh = 10 PWh, above any country's annual consumption
#: (China, about 9.4 PWh in 2023).
ANNUAL_ENERGY_MWH = 1e10

#: Ramp rate, MW/h: a POWER_MW unit swinging fully within one minute.
RAMP_MW_PER_H = 60 * POWER_MW

#: Dimensionless scale factors of sizes (``members.size_scale``): 1e3, a thousandfold.
SCALE = 1e3

#: Markups, multipliers and multiples of a price (fractions, 1 = 100 %): 1e2, a price a
#: hundred times its reference (10,000 %), far beyond any market-power markup or tariff
#: multiplier observed.
MULTIPLE = 1e2

#: Relative weights that are normalised (persona mix shares): 1e6, six orders of magnitude
#: between the largest and the smallest share.
WEIGHT = 1e6

#: Capacity prices, EUR/MW/day: 1e4, 20x PJM's highest capacity price cap (point a of its
#: VRR curve, about 500 USD/MW-day).
CAPACITY_PRICE_EUR_PER_MW_DAY = 1e4

#: Carbon prices, EUR/t: 1e4, 100x the EU ETS's highest prices (about 100 EUR/t) and above
#: the highest estimates of the social cost of carbon.
CARBON_PRICE_EUR_PER_T = 1e4

#: Emission intensity, t CO2/MWh: 5, 4x lignite's (about 1.2 t/MWh), the dirtiest fuel.
EMISSION_T_PER_MWH = 5.0

#: Hours of a leap year: the longest period, episode or duration a config may state.
HOURS_PER_LEAP_YEAR = 8784

#: Counts of things simulated one by one (members, prosumers, envs, iterations): 1e5.
COUNT = 100_000

#: Random seeds: numpy's and torch's seeds are unsigned 64-bit integers at most.
SEED = 2**63 - 1
