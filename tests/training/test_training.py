"""Training: GAE by hand, smoke runs of every config with TensorBoard read back, resume
equivalence, checkpoint mismatch errors (issue 4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.checkpoint_file import read_checkpoint
from training import train
from training.checkpoint import CheckpointMismatchError, load_checkpoint
from training.config import load_config
from training.gae import compute_gae

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "training"
#: Tiny runs: 4 envs, one day, one scenario; one iteration = 96 env steps.
TINY = [
    "--set",
    "env.num_envs=4",
    "--set",
    "env.days=1",
    "--set",
    "env.scenarios=[default]",
    "--set",
    "ppo.batch_size=48",
    "--set",
    "checkpoint_every=1",
    "--no-progress",
]
MARKET_TAGS = [
    "market/clearing_price_eur_per_mwh",
    "market/markup",
    "market/coalition_saving_eur",
    "market/unserved_energy_mwh",
    "market/emissions_t",
]
LOSS_NAMES = ["policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac", "explained_variance"]


def test_gae_matches_hand_computed_values_on_a_tiny_episode():
    # gamma 0.9, lambda 0.8; the episode ends with the last step (nothing bootstrapped):
    # d2 = 3 - 1.5 = 1.5; d1 = 2 + 0.9 * 1.5 - 1 = 2.35; d0 = 1 + 0.9 * 1 - 0.5 = 1.4
    # A2 = 1.5; A1 = 2.35 + 0.72 * 1.5 = 3.43; A0 = 1.4 + 0.72 * 3.43 = 3.8696
    r = torch.tensor([1.0, 2.0, 3.0])
    v = torch.tensor([0.5, 1.0, 1.5])
    d = torch.tensor([0.0, 0.0, 1.0])
    adv, ret = compute_gae(r, v, d, torch.tensor(123.0), 0.9, 0.8)
    assert torch.allclose(adv, torch.tensor([3.8696, 3.43, 1.5]))
    assert torch.allclose(ret, torch.tensor([4.3696, 4.43, 3.0]))


def test_gae_bootstraps_only_unfinished_episodes_and_stops_at_a_done():
    # Two envs (batch axis). Env 0 ends at t=0 then runs on: A1 = 1 + 0.5 * 2 = 2, A0 = 1.
    # Env 1 never ends: A1 = 2, A0 = 1 + 0.5 * 0 - 0 + 0.5 * 1 * 2 = 2.
    r = torch.ones(2, 2)
    v = torch.zeros(2, 2)
    d = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    adv, _ = compute_gae(r, v, d, torch.tensor([2.0, 2.0]), 0.5, 1.0)
    assert torch.allclose(adv, torch.tensor([[1.0, 2.0], [2.0, 2.0]]))
    with pytest.raises(ValueError, match="same"):
        compute_gae(r, v[:1], d, torch.zeros(2), 0.5, 1.0)


def _run(config: str, out: Path, *extra: str) -> int:
    return train.main(["--config", str(CONFIGS / config), "--out", str(out), *TINY, *extra])


def _scalar_tags(run_dir: Path) -> tuple[set[str], set[str]]:
    ea = EventAccumulator(str(run_dir))
    ea.Reload()
    tags = ea.Tags()
    return set(tags["scalars"]), set(tags["tensors"])


@pytest.mark.parametrize(
    ("config", "groups"),
    [
        ("ppo.yaml", ["coalition"]),
        ("mappo.yaml", ["coalition", "members"]),
        # The other two share MAPPO's learner; their smoke runs are kept for -m slow.
        pytest.param("ippo.yaml", ["coalition", "members"], marks=pytest.mark.slow),
        pytest.param(
            "mappo_incumbents.yaml",
            ["coalition", "members", "incumbents"],
            marks=pytest.mark.slow,
        ),
    ],
)
def test_smoke_run_of_each_config_writes_tensorboard_tags_and_a_checkpoint(
    tmp_path, config, groups
):
    extra = ["--set", "env.scenarios=[strategic_incumbents]"] if "incumbents" in config else []
    assert _run(config, tmp_path, "--total-steps", "192", *extra) == 0
    scalars, tensors = _scalar_tags(tmp_path)
    assert "time/sps" in scalars
    assert set(MARKET_TAGS) <= scalars
    assert {f"charts/episodic_return/{g}" for g in groups} <= scalars
    suffixes = [""] if config == "ppo.yaml" else [f"/{g}" for g in groups]
    assert {f"losses/{n}{s}" for n in LOSS_NAMES for s in suffixes} <= scalars
    assert "config/text_summary" in tensors
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["env"]["num_envs"] == 4 and saved["total_steps"] == 192
    payload = load_checkpoint(tmp_path)  # torch.load(weights_only=True)
    assert payload["iteration"] == 2 and set(payload["policy"]["actors"]) == set(groups)


def _params(run_dir: Path, algo: str) -> dict[str, torch.Tensor]:
    payload = load_checkpoint(run_dir)
    if algo == "ppo":
        return payload["policy_state"]
    state = payload["learner"]
    return {
        **{f"a.{k}": v for k, v in state["actors"].items()},
        **{f"c.{k}": v for k, v in state["critics"].items()},
        "obs_mean": state["obs_rms"]["members"]["mean"],
    }


# PPO's resume stays in the default run as the fast check; MAPPO's is the longer one.
@pytest.mark.parametrize("algo", ["ppo", pytest.param("mappo", marks=pytest.mark.slow)])
def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path, algo):
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert _run(f"{algo}.yaml", whole, "--total-steps", "288") == 0  # 3 iterations
    assert _run(f"{algo}.yaml", part, "--total-steps", "96") == 0  # 1 iteration, then resume
    assert train.main(["--resume", str(part), "--total-steps", "288", "--no-progress"]) == 0
    a, b = _params(whole, algo), _params(part, algo)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert load_checkpoint(part)["iteration"] == 3


def test_checkpoint_for_another_architecture_gives_a_clear_error(tmp_path, capsys):
    assert _run("mappo.yaml", tmp_path, "--total-steps", "96") == 0
    cfg = load_config(
        CONFIGS / "mappo.yaml",
        {"env.num_envs": 4, "env.days": 1, "env.scenarios": ["default"], "mappo.hidden": 32},
    )
    with pytest.raises(
        CheckpointMismatchError, match=r"hidden: checkpoint has 64, this run needs 32"
    ):
        train.run(cfg, tmp_path, load_checkpoint(tmp_path), progress=False)
    # Another env (no capacity market: a smaller coalition action) through the CLI.
    code = train.main(
        [
            "--resume",
            str(tmp_path),
            "--set",
            "env.scenarios=[no_capacity_market]",
            "--total-steps",
            "192",
            "--no-progress",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "another architecture or env" in err and "coalition.act_dim" in err


def test_config_errors_name_the_field(tmp_path):
    from envs.errors import ConfigError

    with pytest.raises(ConfigError, match="valid keys of mappo"):
        load_config(CONFIGS / "mappo.yaml", {"mappo.learning_rate": 0.1})
    with pytest.raises(ConfigError, match="same markets"):
        cfg = load_config(
            None,
            {"env.scenarios": ["default", "no_capacity_market"], "env.num_envs": 2, "env.days": 1},
        )
        train.run(cfg, tmp_path, progress=False)


@pytest.mark.parametrize("bound", [0.0, 2.0])
def test_ppo_export_acts_like_the_sb3_policy(tmp_path, bound):
    # The head's weights are blown up so that the unbounded mean runs far past the [-2, 2]
    # box: the bounded one must stay inside it, and the export must act as SB3 does.
    from agents.learned import GaussianActor, load_export
    from training.common import make_envs, slots_of
    from training.ppo_sb3 import TrainingCoalitionEnv, export_policy, make_model

    extra = ["--total-steps", "96", "--set", f"ppo.mean_bound={bound}"]
    assert _run("ppo.yaml", tmp_path, *extra) == 0
    assert load_export(tmp_path / "checkpoint.pt")["actors"]["coalition"]["mean_bound"] == bound
    cfg = load_config(tmp_path / "config.yaml")
    venvs = make_envs(cfg)
    env = TrainingCoalitionEnv(venvs, 0, True, 1.0)
    model = make_model(cfg, env)
    model.policy.load_state_dict(load_checkpoint(tmp_path)["policy_state"])
    head = model.policy.action_net[0] if bound else model.policy.action_net
    with torch.no_grad():
        head.weight.mul_(1000.0)
    entry = export_policy(model, cfg, slots_of(venvs[0]))["actors"]["coalition"]
    actor = GaussianActor(entry["obs_dim"], entry["act_dim"], entry["hidden"],
                          mean_bound=entry["mean_bound"])  # fmt: skip
    actor.load_state_dict(entry["state_dict"])
    obs = env.reset()
    expected, _ = model.predict(obs, deterministic=True)  # clipped to the [-2, 2] box
    with torch.no_grad():
        mean = actor(torch.as_tensor(obs)).numpy()
    if bound:
        assert np.abs(mean).max() <= bound
    else:
        assert np.abs(mean).max() > 2.0
    np.testing.assert_allclose(np.clip(mean, -2.0, 2.0), expected, rtol=1e-5, atol=1e-5)


def test_imitation_warm_start_fits_the_teachers_member_set_points(tmp_path):
    # Two one-day MPC episodes; the members' actor is fitted to the MPC's residual over
    # the rule before the first rollout, and the fit is logged.
    extra = ["--set", "mappo.imitate=mpc", "--set", "mappo.imitate_episodes=2",
             "--set", "mappo.imitate_epochs=200", "--total-steps", "96"]  # fmt: skip
    assert _run("mappo.yaml", tmp_path, *extra) == 0
    ea = EventAccumulator(str(tmp_path))
    ea.Reload()
    fit = {
        t: ea.Scalars(t)[0].value for t in ("imitate/loss", "imitate/loss_rule", "imitate/hours")
    }
    assert fit["imitate/hours"] == 48.0
    assert fit["imitate/loss"] < 0.5 * fit["imitate/loss_rule"]
    # The shipped record counts the warm start beside the iterations' time.
    from training.checkpoint import load_checkpoint
    from training.ship import training_record

    record = training_record(tmp_path, load_checkpoint(tmp_path))
    assert record["warm_start_s"] == pytest.approx(ea.Scalars("imitate/seconds")[0].value, abs=0.1)
    assert record["warm_start_s"] > 0.0 and record["train_s"] > 0.0


def test_imitation_teacher_must_be_an_agent_name():
    from envs.errors import ConfigError

    with pytest.raises(ConfigError, match=r"mappo.imitate='mcp' is not allowed; expected '' or a"):
        load_config(CONFIGS / "mappo.yaml", {"mappo.imitate": "mcp"})
    with pytest.raises(ConfigError, match=r"mappo\.reserve_base"):
        load_config(CONFIGS / "mappo.yaml", {"mappo.reserve_base": "all"})


class _Quiet:
    """The logger calls timed_loop makes, recorded."""

    def __init__(self) -> None:
        self.steps: list[int] = []

    def scalars(self, values: dict, step: int) -> None:
        self.steps.append(step)

    def progress(self, steps: int, mean_return: float | None) -> None:
        pass


def _tiny_cfg(iterations: int):
    cfg = load_config(CONFIGS / "ppo.yaml", {"env.num_envs": 7, "env.days": 1})
    return load_config(
        CONFIGS / "ppo.yaml",
        {"env.num_envs": 7, "env.days": 1, "checkpoint_every": 100,
         "total_steps": iterations * cfg.steps_per_iteration},
    )  # fmt: skip


def test_ctrl_c_finishes_the_iteration_and_checkpoints_it(tmp_path):
    import signal

    from training.common import TrainingInterrupted, timed_loop

    cfg = _tiny_cfg(5)
    done = []

    def step(it: int) -> dict:
        if it == 1:  # Ctrl-C in the middle of the second iteration
            signal.raise_signal(signal.SIGINT)
        done.append(it)  # the iteration still finishes
        return {}

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted) as stop:
        timed_loop(cfg, 0, step, lambda i: {"iteration": i}, tmp_path, _Quiet())
    assert done == [0, 1] and stop.value.iteration == 2
    assert read_checkpoint(Path(stop.value.checkpoint)) == {"iteration": 2}
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back

    def twice(it: int) -> dict:  # a second Ctrl-C stops at once
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        return {}

    with pytest.raises(KeyboardInterrupt):
        timed_loop(cfg, 0, twice, lambda i: {"iteration": i}, tmp_path / "b", _Quiet())
    assert not (tmp_path / "b" / "checkpoint.pt").exists()
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.slow
def test_ctrl_c_in_a_training_run_prints_one_line_and_resumes(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    run = tmp_path / "run"
    argv = [sys.executable, "-m", "training.train", "--config", str(CONFIGS / "ppo.yaml"),
            "--out", str(run), *TINY, "--total-steps", "96000"]  # fmt: skip

    def default_sigint() -> None:  # as in a terminal, even under a shell's background job
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = subprocess.Popen(argv, cwd=CONFIGS.parents[1], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)  # fmt: skip
    deadline = time.monotonic() + 120
    while not (run / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    saved = load_checkpoint(run)["iteration"]
    assert f"interrupted: {saved} of 1000 iterations saved" in err
    assert f"--resume {run}" in err


def test_reward_weights_scale_their_scenario_and_refuse_bad_values():
    from envs.errors import ConfigError

    cfg = load_config("configs/training/mappo.yaml")
    names = cfg.env.scenarios
    weights = [cfg.env.reward_weight(i) for i in range(len(names))]
    assert dict(zip(names, weights, strict=True))["dark_doldrums"] == 0.05
    assert dict(zip(names, weights, strict=True))["default"] == 1.0
    # Iteration i rolls out scenarios[i % len]: the weight follows it round the cycle.
    assert cfg.env.reward_weight(len(names) + names.index("heatwave_scarcity")) == 0.1
    with pytest.raises(ConfigError, match=r"reward_weights\.default=-1"):
        load_config("configs/training/mappo.yaml", {"env.reward_weights": {"default": -1}})


def test_scenario_overrides_reach_their_scenario_only():
    import envs
    from envs.errors import ConfigError
    from training.common import make_envs

    cfg = load_config(
        "configs/training/mappo.yaml",
        {"env.scenarios": ["default", "windy_winter"], "env.num_envs": 2, "env.days": 1,
         "env.scenario_overrides": {"windy_winter": {"members.battery_scale": 3.0}}},
    )  # fmt: skip
    base, big = make_envs(cfg)
    # The scenario-wide override stays, the scenario's own is added on top of it.
    assert cfg.env.overrides_for("windy_winter") == {
        "fleet.controlled": False, "members.battery_scale": 3.0}  # fmt: skip
    assert cfg.env.overrides_for("default") == {"fleet.controlled": False}
    plain = envs.make_vector("multimarket_v1", scenario="windy_winter", num_envs=2, days=1)
    np.testing.assert_allclose(
        big.core.scales.inv_battery_mwh * 3.0, plain.core.scales.inv_battery_mwh
    )
    assert base.core.cfg.members.battery_scale == 1.0
    # A scenario the mix does not train is left alone (as with reward_weights), so that
    # --set env.scenarios=[...] narrows a config without editing its overrides.
    assert load_config("configs/training/mappo.yaml", {"env.scenarios": ["default"]})
    with pytest.raises(ConfigError, match=r"scenario_overrides\.default=3"):
        load_config("configs/training/mappo.yaml", {"env.scenario_overrides": {"default": 3}})
