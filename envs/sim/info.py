"""The step's per-env figures (its ``info``), each declared once, by name, in :data:`INFO_COLUMNS`.

The table's order is the column order of :attr:`envs.sim.kernel.Outputs.info` (E, C): the
info dict's keys :data:`INFO_KEYS` (public API: ``infos[agent]["market"]`` and the
coalition's own section, envs/README.md), the column each figure is written to
(``I_*``, looked up by name) and the split into the coalition's own figures and the
market's (:data:`COALITION_INFO_KEYS`, :data:`PUBLIC_INFO_KEYS`) all derive from it. The
``I_*`` indices are plain module-level ints, which numba freezes into the compiled step as
compile-time constants. Golden trajectories hash the info array, so the order is fixed:
add a figure at the end.

Figures are per hourly step (MW and MWh are the same number); ``+ short`` means the
figure is positive when short of energy.
"""

from __future__ import annotations

from typing import NamedTuple


class InfoColumn(NamedTuple):
    """One figure of the step's info: its key, unit and whose figure it is."""

    name: str  # the info dict's key
    unit: str
    coalition: bool  # the coalition's own figure (its infos only); else the market's (all)
    description: str


_M, _C = False, True  # the market's figure (every agent's infos), the coalition's own
#: The step's info columns in order (never reorder: golden trajectories hash them).
INFO_COLUMNS: tuple[InfoColumn, ...] = (
    InfoColumn("price_eur_per_mwh", "EUR/MWh", _M, "day-ahead energy price"),
    InfoColumn("reserve_price_eur_per_mw", "EUR/MW-h", _M, "upward reserve price"),
    InfoColumn("capacity_price_eur_per_mw_day", "EUR/MW-day", _M,
               "capacity price in force (last auction's)"),
    InfoColumn("reserve_requirement_mw", "MW", _M, "reserve requirement (forecast-based)"),
    InfoColumn("reserve_shortfall_mw", "MW", _M, "requirement the reserve market left short"),
    InfoColumn("unserved_energy_mwh", "MWh", _M, "load shed in real time (all consumers)"),
    InfoColumn("curtailment_mwh", "MWh", _M,
               "system renewables not delivered plus members' curtailment"),
    InfoColumn("emissions_t", "t CO2", _M, "the fleet's emissions"),
    InfoColumn("coalition_emissions_t", "t CO2", _C,
               "members' imports at the average (or marginal) emission factor"),
    InfoColumn("coalition_cfe", "share", _C, "carbon-free share of members' consumption"),
    InfoColumn("lerner_index", "share", _M, "Lerner index at the price-setting offer"),
    InfoColumn("residual_supply_index", "ratio", _M, "RSI of the largest unit (< 1: pivotal)"),
    InfoColumn("scarcity", "0/1", _M, "price near the cap, load shed or reserve short"),
    InfoColumn("coalition_position_mw", "MW", _C, "day-ahead net purchase (bought - sold)"),
    InfoColumn("coalition_metered_mw", "MW", _C, "members' metered net import after shedding"),
    InfoColumn("coalition_imbalance_mwh", "MWh", _C,
               "metered less (position + PPA - activation delivered), + short"),
    InfoColumn("reserve_activation_share", "share", _C, "share of every reserve award called"),
    InfoColumn("reserve_not_delivered_mwh", "MWh", _C, "activation called but not delivered"),
    InfoColumn("members_saving_eur", "EUR", _C, "members' saving against acting alone, sum"),
    InfoColumn("counterfactual_bill_eur", "EUR", _C, "members' bills alone, sum"),
    InfoColumn("coalition_result_eur", "EUR", _C, "the coalition's market cash"),
    InfoColumn("coalition_capacity_eur", "EUR", _C, "the coalition's capacity-market cash"),
    InfoColumn("n_projected", "count", _C, "members' set-points projected onto their limits"),
    InfoColumn("welfare_eur", "EUR", _M,
               "background consumption valued at the cap less generation cost"),
    InfoColumn("capacity_committed_mw", "MW", _M, "capacity committed in force this hour"),
    InfoColumn("imbalance_price_eur_per_mwh", "EUR/MWh", _M, "real-time imbalance price"),
    InfoColumn("system_imbalance_mwh", "MWh", _M, "system imbalance balanced, + short"),
    InfoColumn("load_shed_mwh", "MWh", _M, "load shed (= unserved_energy_mwh)"),
    InfoColumn("generation_mwh", "MWh", _M, "the fleet's output, day-ahead + balancing"),
    InfoColumn("renewables_delivered_mwh", "MWh", _M, "system renewables delivered"),
    InfoColumn("background_consumption_mwh", "MWh", _M, "background load served"),
    InfoColumn("ppa_delivery_mwh", "MWh", _M, "PPA delivery to the coalition"),
    InfoColumn("unabsorbed_surplus_mwh", "MWh", _M, "surplus balancing could not absorb"),
    InfoColumn("markup_at_price_setter", "share", _M, "price-setting offer's markup over cost"),
    InfoColumn("markup_energy_weighted", "share", _M, "the fleet's energy-weighted markup"),
    InfoColumn("pivotal_suppliers", "count", _M, "units pivotal on their own"),
    InfoColumn("hhi", "0-10,000", _M, "HHI of the incumbents' accepted energy"),
    InfoColumn("members_worse_off", "count", _C,
               "members worse off than alone so far this billing period"),
    InfoColumn("allocation_se_eur", "EUR", _C, "largest standard error of a sampled allocation"),
    InfoColumn("ordc_adder_eur_per_mwh", "EUR/MWh", _M, "ORDC adder in the imbalance price"),
    InfoColumn("load_restored_mwh", "MWh", _M,
               "inelastic load unserved day-ahead and served in real time"),
    InfoColumn("capacity_offer_mitigated", "0/1", _C,
               "the MOPR floor raised the coalition's capacity offer"),
    InfoColumn("price_markup_competitive", "share", _M,
               "price's markup over the competitive rerun's"),
)  # fmt: skip
#: Per-env scalar outputs, in column order of ``Outputs.info``.
INFO_KEYS: tuple[str, ...] = tuple(c.name for c in INFO_COLUMNS)
#: Outputs about the coalition (its own infos); the rest describe the market (every agent's).
COALITION_INFO_KEYS: tuple[str, ...] = tuple(c.name for c in INFO_COLUMNS if c.coalition)
PUBLIC_INFO_KEYS: tuple[str, ...] = tuple(c.name for c in INFO_COLUMNS if not c.coalition)
#: Each key's column.
INFO_INDEX: dict[str, int] = {k: i for i, k in enumerate(INFO_KEYS)}
assert len(INFO_INDEX) == len(INFO_KEYS), "an info key is declared twice"

# The columns the compiled step writes, by key (a KeyError here names a key not in the table).
I_PRICE = INFO_INDEX["price_eur_per_mwh"]
I_RES_PRICE = INFO_INDEX["reserve_price_eur_per_mw"]
I_CAP_PRICE = INFO_INDEX["capacity_price_eur_per_mw_day"]
I_REQ = INFO_INDEX["reserve_requirement_mw"]
I_RES_SHORT = INFO_INDEX["reserve_shortfall_mw"]
I_UNSERVED = INFO_INDEX["unserved_energy_mwh"]
I_CURT = INFO_INDEX["curtailment_mwh"]
I_EMIS = INFO_INDEX["emissions_t"]
I_COAL_EMIS = INFO_INDEX["coalition_emissions_t"]
I_CFE = INFO_INDEX["coalition_cfe"]
I_LERNER = INFO_INDEX["lerner_index"]
I_RSI = INFO_INDEX["residual_supply_index"]
I_SCARCITY = INFO_INDEX["scarcity"]
I_POSITION = INFO_INDEX["coalition_position_mw"]
I_METERED = INFO_INDEX["coalition_metered_mw"]
I_IMBALANCE = INFO_INDEX["coalition_imbalance_mwh"]
I_ACT = INFO_INDEX["reserve_activation_share"]
I_NOT_DELIVERED = INFO_INDEX["reserve_not_delivered_mwh"]
I_SAVING = INFO_INDEX["members_saving_eur"]
I_CF_BILL = INFO_INDEX["counterfactual_bill_eur"]
I_RESULT = INFO_INDEX["coalition_result_eur"]
I_COAL_CAP = INFO_INDEX["coalition_capacity_eur"]
I_PROJECTED = INFO_INDEX["n_projected"]
I_WELFARE = INFO_INDEX["welfare_eur"]
I_CAP_COMMITTED = INFO_INDEX["capacity_committed_mw"]
I_IMB_PRICE = INFO_INDEX["imbalance_price_eur_per_mwh"]
I_SYS_IMB = INFO_INDEX["system_imbalance_mwh"]
I_SHED = INFO_INDEX["load_shed_mwh"]
I_GEN = INFO_INDEX["generation_mwh"]
I_REN_DEL = INFO_INDEX["renewables_delivered_mwh"]
I_BG_CONS = INFO_INDEX["background_consumption_mwh"]
I_PPA = INFO_INDEX["ppa_delivery_mwh"]
I_EXCESS = INFO_INDEX["unabsorbed_surplus_mwh"]
I_MARKUP_SET = INFO_INDEX["markup_at_price_setter"]
I_MARKUP_EW = INFO_INDEX["markup_energy_weighted"]
I_PIVOTAL = INFO_INDEX["pivotal_suppliers"]
I_HHI = INFO_INDEX["hhi"]
I_WORSE_OFF = INFO_INDEX["members_worse_off"]
I_ALLOC_SE = INFO_INDEX["allocation_se_eur"]
I_ORDC = INFO_INDEX["ordc_adder_eur_per_mwh"]
I_RESTORED = INFO_INDEX["load_restored_mwh"]
I_CAP_MOPR = INFO_INDEX["capacity_offer_mitigated"]
I_MARKUP_COMP = INFO_INDEX["price_markup_competitive"]
