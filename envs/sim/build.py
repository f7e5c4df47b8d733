"""Building a :class:`~envs.sim.core.MarketCore`: its tariff first, then the core.

The counterfactual's retail tariff in ``rehearsal`` mode (:mod:`envs.sim.tariff`) is what
supplying the members costs in a price-taking rehearsal of the scenario, which is a run of
a simulator. So the rehearsal is a step of its own, run here before the core is built and
handed to it as a :class:`~envs.sim.tariff.TariffRecord`, never a second core built inside
the first's constructor.

The rehearsal (32 envs through the scenario's episode) costs about as much as a few
episodes, and every env of a scenario asks for it (each ``envs.make``, each seed of an
evaluation), so its result is cached per process, keyed by the rehearsal's own config
(:func:`envs.sim.tariff.rehearsal_config`: every field, dict entries in sorted order), so
that scenarios differing only where the rehearsal does not look (the tariff's mode, who
controls the agents) share one rehearsal, and two equal configs whose dicts were filled in
another order find each other's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from envs.actors.coalition import price_entry
from envs.config.scenario import ScenarioConfig
from envs.sim import scripted
from envs.sim import tariff as tr
from envs.sim.core import MarketCore

#: The cache's size: the rehearsals of this many scenarios are kept (the oldest goes first).
CACHE_SIZE = 256
_REHEARSALS: dict[Any, tuple[tuple[str, float], ...]] = {}


def build_core(cfg: ScenarioConfig, num_envs: int = 1, *, record_ledger: bool = True) -> MarketCore:
    """A simulator of ``num_envs`` envs of scenario ``cfg`` with its tariff
    (:func:`rehearse`); ``record_ledger`` as :class:`~envs.sim.core.MarketCore`'s."""
    return MarketCore(cfg, num_envs, tariff=rehearse(cfg), record_ledger=record_ledger)


def rehearse(cfg: ScenarioConfig) -> tr.TariffRecord:
    """The counterfactual's tariff of scenario ``cfg``, from its rehearsal in ``rehearsal``
    mode (:func:`wholesale_cost`)."""
    wholesale = wholesale_cost(cfg)["total"] if cfg.tariff.mode == "rehearsal" else None
    return tr.tariff_record(cfg, wholesale)


def wholesale_cost(cfg: ScenarioConfig) -> dict[str, float]:
    """Wholesale cost of supplying the members in a price-taking rehearsal, EUR/MWh
    (:meth:`envs.sim.tariff.WholesaleSums.costs`), cached (this module's docstring)."""
    rcfg = tr.rehearsal_config(cfg)
    key = _frozen(rcfg)
    if key not in _REHEARSALS:
        if len(_REHEARSALS) >= CACHE_SIZE:
            del _REHEARSALS[next(iter(_REHEARSALS))]
        _REHEARSALS[key] = tuple(_rehearsal(rcfg).items())
    return dict(_REHEARSALS[key])


def _frozen(value: Any) -> Any:
    """``value`` as a hashable key: dataclasses by type, field names and fields, dicts as
    their sorted items, lists and tuples as tuples, scalars with their type (so 1 and 1.0
    differ). The field names are looked up once per type (a key costs ~0.2 ms, not ~1)."""
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(value):
            if kind is dict:
                return ("dict", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
            if kind is list or kind is tuple:
                return ("seq", tuple(_frozen(v) for v in value))
            return (kind.__name__, value)
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
    return (kind.__name__, names, tuple(_frozen(getattr(value, n)) for n in names))


_FIELDS: dict[type, tuple[str, ...]] = {}


def _rehearsal(rcfg: ScenarioConfig) -> dict[str, float]:
    """Run the rehearsal of :func:`envs.sim.tariff.rehearsal_config` ``rcfg`` (its tariff
    fixed, so its core needs no rehearsal) and return its wholesale costs."""
    core = MarketCore(rcfg, tr.REHEARSAL_ENVS, tariff=tr.tariff_record(rcfg), record_ledger=False)
    core.reset(np.random.default_rng(tr.REHEARSAL_SEED))
    T, ep = core.dims.T, core.episode
    # The retailer sells each member its imports (load less its own renewables), which
    # fall in the dearer hours when members have PV: weight the price by them.
    imports = np.maximum(ep.load[:, :T] - ep.ren[:, :T], 0.0).sum(-1)  # (E, T) MWh
    # The members' surplus is offered at the system renewables' price, not dumped at the
    # floor: a large coalition selling at -500 EUR/MWh would crash the price it is priced on.
    sp = rcfg.spot
    sell = price_entry(rcfg.background.renewable_offer_eur_per_mwh, sp.price_floor_eur_per_mwh,
                       sp.price_cap_eur_per_mwh)  # fmt: skip
    sums = tr.WholesaleSums()
    for t in range(T):
        act = scripted.coalition_actions(core)
        act[:, 1] = np.where(act[:, 0] < 0.0, sell, act[:, 1])
        sums = sums.add(core.step(act, None, None).info, imports[:, t])
    return sums.costs(float(imports.sum()))
