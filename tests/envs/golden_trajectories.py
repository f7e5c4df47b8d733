"""Golden trajectories: a hash of every seeded episode, to prove a refactor changes nothing.

For every env id and every shipped scenario of it, one full seeded episode is played
under random actions and under the ``rule`` and ``mpc`` baselines (where the env has
members), and everything a user can read is hashed bit for bit: observations, rewards,
terminations, truncations, infos, the ledger and the counterfactual bills. The batched
env is hashed at E = 64 under scripted and random actions.
``tests/envs/test_golden_trajectories.py`` compares against
``tests/envs/golden/trajectories.json``.

Rules no shipped scenario uses are pinned by :data:`OVERRIDE_CASES`: a shipped scenario
with config overrides, keyed ``env/scenario/policy/field=value``.

Re-record on purpose only (a change of the market rules), and say so in the commit:

    python tests/envs/golden_trajectories.py --record

A new case is recorded alone, every recorded hash left as it is:

    python tests/envs/golden_trajectories.py --record-missing
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import agents  # noqa: E402
import envs  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden" / "trajectories.json"
SEED = 7
#: The MPC's episodes are shorter (it solves an LP every hour).
MPC_DAYS = 2
#: Cases too long for the default run (200 members); ``pytest -m slow`` checks them.
SLOW = {
    (e, "large_coalition", p)
    for e in ("multimarket_v1", "spot_v1")
    for p in ("random", "rule", "mpc")
}

#: Cases of a rule no shipped scenario uses, ``env/scenario/policy/field=value``: pay-as-bid
#: spot pricing, once through the co-optimised clearing (multimarket_v1) and once through the
#: spot auction alone (spot_v1, reserve closed).
OVERRIDE_CASES = (
    "multimarket_v1/default/random/spot.pricing=pay_as_bid",
    "spot_v1/default/random/spot.pricing=pay_as_bid",
)


#: Policy options as recorded: the MPC offered half its firm capacity in the auction
#: before it chose its offer in its plan (issue 30); its cases pin the simulator, not
#: the MPC's decisions, so they keep the recorded offer.
RECORDED_OPTIONS: dict[str, dict[str, Any]] = {"mpc": {"capacity_share": 0.5}}

#: Agent ids renamed since recording (PettingZoo's ``<type>_<n>`` names), hashed under
#: their recorded names: a rename changes no value of any trajectory.
RECORDED_IDS = {"coalition_0": "coalition", "mediator_0": "mediator", "opponent_0": "opponent"}


def _recorded(key: Any) -> str:
    return RECORDED_IDS.get(key, str(key))


class _Hasher:
    def __init__(self) -> None:
        self.h = hashlib.sha256()

    def add(self, x: Any) -> None:
        if isinstance(x, dict):
            for k in sorted(x, key=_recorded):
                self.h.update(_recorded(k).encode())
                self.add(x[k])
        elif isinstance(x, list | tuple):
            self.h.update(f"[{len(x)}".encode())
            for v in x:
                self.add(v)
        elif isinstance(x, str | bytes):
            self.h.update(x.encode() if isinstance(x, str) else x)
        elif x is None:
            self.h.update(b"None")
        else:
            a = np.asarray(x)
            if a.dtype == object:
                self.add(a.tolist())
                return
            self.h.update(str(a.dtype).encode() + str(a.shape).encode())
            self.h.update(np.ascontiguousarray(a).tobytes())

    def frame(self, df: Any) -> None:
        self.add(list(df.columns))
        for col in df.columns:
            values = df[col].to_numpy()
            self.add(values.astype(str).tolist() if values.dtype == object else values)

    def hexdigest(self) -> str:
        return self.h.hexdigest()


def scenario_cases() -> list[tuple[str, str, str]]:
    """(env id, scenario, policy) for every shipped scenario of every env id."""
    cases = []
    for name in envs.list_scenarios():
        text = (ROOT / "configs" / "scenarios" / f"{name}.yaml").read_text()
        env_line = [ln for ln in text.splitlines() if ln.startswith("env:")]
        env_id = env_line[0].split(":", 1)[1].strip() if env_line else None
        if env_id is None:
            for eid in ("multimarket_v1", "spot_v1"):
                cases += [(eid, name, p) for p in ("random", "rule", "mpc")]
        elif env_id in envs.ENV_IDS:
            cases.append((env_id, name, "random"))
    return cases


def _aec_digest(env: Any) -> str:
    """sha256 of a turn-based (AEC) episode under random actions."""
    h = _Hasher()
    env.reset(seed=SEED)
    for i, a in enumerate(env.possible_agents):
        env.action_space(a).seed(SEED + i)
    for agent in env.agent_iter():
        last = env.last()
        h.add([_recorded(agent), *last])
        done = last[2] or last[3]
        env.step(None if done else env.action_space(agent).sample())
    return h.hexdigest()


def episode_digest(
    env_id: str, scenario: str, policy: str, overrides: dict[str, Any] | None = None
) -> str:
    """sha256 of one seeded episode (see the module docstring); ``overrides``: nested config
    fields by dotted path (:data:`OVERRIDE_CASES`)."""
    kwargs: dict[str, Any] = {"days": MPC_DAYS} if policy == "mpc" else {}
    if overrides:
        kwargs["overrides"] = overrides
    if env_id == "ppa_negotiation_v0":
        return _aec_digest(envs.make(env_id, scenario, api="aec"))
    # The infos as recorded: nested dicts (the default is now "flat").
    env = envs.make(env_id, scenario, info_format="nested", **kwargs)
    h = _Hasher()
    obs, infos = env.reset(seed=SEED)
    h.add(obs)
    h.add(infos)
    pol = None
    if policy != "random":
        pol = agents.load(policy, **RECORDED_OPTIONS.get(policy, {}))
        pol.reset(env, seed=SEED)
    for i, a in enumerate(env.possible_agents):
        env.action_space(a).seed(SEED + i)
    while env.agents:
        if pol is None:
            actions = {a: env.action_space(a).sample() for a in env.agents}
        else:
            actions = {**env.scripted_actions(), **pol.act(obs)}
        obs, rewards, term, trunc, infos = env.step(actions)
        h.add([obs, rewards, term, trunc, infos])
    if hasattr(env, "ledger"):
        h.frame(env.ledger())
    if hasattr(env, "counterfactual_bills"):
        bills = env.counterfactual_bills()
        h.frame(bills) if hasattr(bills, "columns") else h.add(bills)
    return h.hexdigest()


def vector_digest(mode: str, num_envs: int = 64) -> str:
    """sha256 of a batched ``multimarket_v1`` episode at E = ``num_envs``."""
    venv = envs.make_vector("multimarket_v1", num_envs=num_envs, days=2)
    rng = np.random.default_rng(SEED)
    h = _Hasher()
    obs, info = venv.reset(seed=SEED)
    h.add([obs, info])
    for _ in range(48):
        actions = venv.scripted_actions()
        if mode == "random":
            actions = {g: rng.uniform(-1.0, 1.0, a.shape).astype(np.float32)
                       for g, a in actions.items()}  # fmt: skip
        h.add(venv.step(actions))
    return h.hexdigest()


def all_cases() -> list[str]:
    keys = ["/".join(c) for c in scenario_cases()]
    return [
        *keys,
        *OVERRIDE_CASES,
        "vector/multimarket_v1/scripted",
        "vector/multimarket_v1/random",
    ]


def digest(key: str) -> str:
    parts = key.split("/")
    if parts[0] == "vector":
        return vector_digest(parts[2])
    if len(parts) == 4:  # an override case: env/scenario/policy/field=value
        field, value = parts[3].split("=", 1)
        return episode_digest(*parts[:3], overrides={field: value})
    return episode_digest(*parts)


def main(argv: list[str]) -> int:
    if argv not in (["--record"], ["--record-missing"]):
        print(__doc__)
        return 2
    out = json.loads(GOLDEN.read_text()) if argv == ["--record-missing"] else {}
    for key in all_cases():
        if key in out:
            continue
        out[key] = digest(key)
        print(key, out[key][:16], flush=True)
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN.relative_to(ROOT)} ({len(out)} trajectories)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
