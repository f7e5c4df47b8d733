"""``multimarket_v1``: an energy coalition in spot, reserve and capacity markets.

A citizen energy community (the **coalition**) trades for its prosumer **members**
against **incumbent** generators in an hourly uniform-price spot market, an upward
reserve market and a VRR capacity auction (DESIGN §3). One step is one delivery hour;
an episode is ``days * 24`` steps.

Agents
------
==================  =========================================  ===========================
id                  who                                        present
==================  =========================================  ===========================
``coalition_0``     the community's trader                     always
``member_<i>``       prosumer i (battery, flexible load)       ``members.agents: true``
``incumbent_<g>``    generator g                               ``fleet.controlled: true``
==================  =========================================  ===========================

Ids follow PettingZoo's ``<type>_<n>`` convention (SuperSuit's ``agent_indicator_v0``
with ``type_only=True`` reads the type from them). ``env.agent_groups`` maps the groups
``coalition``/``members``/``incumbents`` to ids (for parameter sharing; the group
``coalition`` holds the one id ``coalition_0``); ``env.state()`` is the global state for
centralised critics.

Actions (``Box(-1, 1)``, float32; finite out-of-bounds values are clipped and counted
in ``infos[agent]["n_clipped"]``; NaN/inf or a wrong shape raise ``ActionError``)
-----------------------------------------------------------------------------------
- coalition: ``[q, p]`` spot bid: quantity ``q * q_max`` MW (+ buy, - sell; ``q_max``
  = members' total peak load + battery power + PV + wind) at limit price
  ``p^3 * cap`` for ``p >= 0`` and ``p^3 * |floor|`` below (fine resolution near 0);
  if the reserve market is open ``[r, rp]``: offer ``(r+1)/2 *`` total battery power
  MW at ``((rp+1)/2)^3 *`` the reserve scarcity price EUR/MW; if the capacity market
  is open ``[c, cp]``: offer ``(c+1)/2 *`` firm capacity MW (batteries derated by
  duration, PV/wind by credit) at ``(cp+1)/2 *`` the curve cap EUR/MW-day (used in
  auction hours); if members are not agents, ``[b, f]``: battery and flex signals
  applied to every member as below.
- member: ``[b, f]``: battery set-point ``b *`` battery power MW (+ charge) and load
  shift ``f *`` flexible power MW (+ consume more now). Set-points are projected onto
  the battery's power and energy limits and the flex-debt limits (counted in
  ``infos["coalition_0"]["n_projected"]``); in the last hour of each day the flex debt
  is paid back.
- incumbent: K tranche markups over marginal cost (``(a+1)/2 * max_markup``),
  withheld share, then reserve share and markup, then capacity share and price (the
  last two pairs when those markets are open); see ``envs.actors.fleet``.

Observations (``Box(-10, 10)``, float32, layout in :mod:`envs.sim.observe`): calendar,
last prices, system load and renewable forecasts for ``forecast.horizon_h`` hours, and
own state (members: own net-load forecast, state of charge, flex debt;
incumbents: capacity, marginal cost, last dispatch, residual supply index).

Reward (EUR per hour, unscaled)
-------------------------------
- member i: saving = counterfactual bill (alone: retail tariff, own battery for
  self-consumption, feed-in tariff) minus its bill in the coalition (the negative of
  its allocation); ``members.reward`` = ``team`` uses the mean, ``mix`` a blend;
- coalition: the members' total saving (by design: the coalition trades for its
  members, so its return is the sum of theirs; with ``members.reward: individual`` a
  training curve of the coalition and one of the members' summed returns coincide);
- incumbent: profit = market revenue - marginal cost * energy - penalties.

Termination and truncation: every agent terminates after ``days * 24`` steps; there is
no truncation. Stepping a finished episode raises ``EpisodeOverError``.

Termination is replaced by truncation after ``max_cycles`` steps when that is set
(and below ``days * 24``).

Infos (default ``info_format="flat"``: one number per key, the path joined by ``/``,
which TorchRL, BenchMARL and RLlib keep): ``infos[agent]["market/..."]`` (shared):
cleared prices, reserve requirement and shortfall, unserved energy, curtailment,
emissions, Lerner index, residual supply index, scarcity flag;
``infos[agent]["cash_eur/<market>"]``: the agent's cash by market (``cash_eur/spot``);
coalition: position, metered import, imbalance, CFE share, members' saving, clipped and
projected counts; members: saving and counterfactual bill; incumbents: profit, markup,
dispatch. ``reset`` returns the same keys with zeros (no hour has cleared yet).
``info_format="nested"`` gives the same values as dicts per section
(``infos[agent]["market"]["price_eur_per_mwh"]``, ``infos[agent]["cash_eur"]["spot"]``);
:func:`envs.adapters.infos.nested_info` turns a flat info into that form.
``env.ledger()`` and ``env.counterfactual_bills()`` are DataFrames.

State: ``env.state()`` in ``env.state_space`` (``Box(-10, 10, (S,), float32)``), the
global state for centralised critics (MAPPO), layout in :func:`envs.sim.observe.state`.

Rendering: ``render_mode="ansi"``: ``render()`` returns one line (hour, spot EUR/MWh,
reserve EUR/MW, capacity EUR/MW-day, coalition imbalance MWh); ``"human"``: every
``reset`` and ``step`` prints it; ``"rgb_array"``: ``render()`` returns a (360, 480, 3)
uint8 image of the hour last cleared (merit order and bids with the clearing price, the
coalition's bid, award and imbalance, the members' states of charge), at
``metadata["render_fps"]`` for Gymnasium's ``RecordVideo``.

Arguments: ``envs.make("multimarket_v1", scenario="default", api="parallel",
render_mode=None, max_cycles=None, info_format="flat", overrides={...},
**top_level_fields)``; PettingZoo's module convention: ``multimarket_v1.parallel_env(...)``,
``env(...)`` (AEC) and ``raw_env(...)`` (AEC without order enforcing) take the same
keywords. Gymnasium: ``gymnasium.make("coalition_markets/multimarket_v1", agent="coalition_0")``
(= ``envs.make_gym``; ``agent="coalition"`` is accepted for ``"coalition_0"``; also
``stable_baselines3``'s ``make_vec_env`` on that id); ``envs.make_vector(...,
agent="coalition")`` (a group name) or ``"members"`` is a
``gymnasium.vector.VectorEnv`` (:mod:`envs.adapters.vector`).

Version history
---------------
- v1: market model v2 (no free lunch): real-time scarcity pricing (ORDC adder), shedding
  decided in real time and shared pro rata, consumers' cost shares bounded, capacity
  market mitigation (coincident net peak, MOPR, must-offer, excused non-performance),
  individual rationality over the billing period. Trajectories differ from v0's.
- v0: first release (market model v1); removed, ``envs.make("multimarket_v0")`` says so.
"""

from __future__ import annotations

from envs.adapters.factories import market_factories

ENV_ID = "multimarket_v1"
make_env, make_gym, make_vector, env, parallel_env, raw_env = market_factories(ENV_ID)
