"""The evaluation grid: suites, cells, running them (in process, processes or Ray), resume.

A *cell* is one agent on one scenario for one seed. :func:`run_cell` plays it and returns
a JSON-ready dict (status ``ok`` with metrics, or ``failed`` with the error), never
raising, so one broken agent cannot stop the grid. :func:`run_grid` writes each finished
cell at once and atomically to ``<out>/cells/<env>/<agent>/<scenario>/seed_<s>.json``;
with ``resume`` it skips cells already finished with the same episode length. Cells run in
worker processes, each contained: an agent that calls ``sys.exit`` or ``os._exit``,
crashes its process or runs past the per-cell time limit fails that cell only, with the
reason as its error. On Ctrl-C (KeyboardInterrupt in the main process) the worker
processes are killed at once and queued cells never start; a worker whose parent dies
without cleaning up (SIGKILL) exits by itself within a second.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from configs import config_path
from envs.config.loader import build, load_yaml
from envs.errors import ConfigError, UnknownNameError
from evaluation.results_files import cell_problem

__all__ = [
    "Cell",
    "EvalConfig",
    "cell_path",
    "is_scenario_file",
    "list_suites",
    "load_suite",
    "read_cell",
    "replace_file",
    "run_cell",
    "run_grid",
    "write_json_atomic",
]

log = logging.getLogger(__name__)

#: Agents of the default suite (issue 5).
DEFAULT_AGENTS: tuple[str, ...] = (
    "individual", "rule", "mpc", "oracle", "admm", "ppo", "mappo", "mappo_mpc_start",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EvalConfig:
    """An evaluation suite (``configs/eval/*.yaml``).

    Attributes:
        description: one line shown in ``--help`` listings.
        env: env id the suite runs on.
        scenarios: scenario names; empty = every shipped scenario of ``env``.
        agents: agent names (built-ins, the env's trader names, or ``pkg.mod:Class``).
        seed_start: first evaluation seed; seeds are ``seed_start .. seed_start + n_seeds - 1``
            (1000 and up: never used for training, so evaluation seeds are held out).
        n_seeds: seeds per scenario.
        days: episode length, days (24 steps each on the multi-market envs; 24 delivery
            hours each on the reservation exchange).
        baseline: agent that probability of improvement is measured against.
        low, high: agents that the normalised score maps to 0 and 1.
    """

    description: str = ""
    env: str = "multimarket_v1"
    scenarios: tuple[str, ...] = ()
    agents: tuple[str, ...] = DEFAULT_AGENTS
    seed_start: int = 1000
    n_seeds: int = 5
    days: int = 7
    baseline: str = "mpc"
    low: str = "individual"
    high: str = "oracle"

    def __post_init__(self) -> None:
        """Validate ranges; the message names the field."""
        if self.n_seeds < 1:
            raise ConfigError(f"n_seeds={self.n_seeds}; expected at least 1")
        if self.days < 1:
            raise ConfigError(f"days={self.days}; expected at least 1")
        if not self.agents:
            raise ConfigError("agents is empty; expected at least one agent name")

    @property
    def seeds(self) -> list[int]:
        """The evaluation seeds."""
        return list(range(self.seed_start, self.seed_start + self.n_seeds))


def list_suites() -> list[str]:
    """Names of the shipped suites (``configs/eval/*.yaml``)."""
    return sorted(p.stem for p in config_path("eval").glob("*.yaml"))


def load_suite(name_or_path: str) -> EvalConfig:
    """Load a suite by name (``default``, ``heldout``, ``quick``, ...) or YAML path.

    Scenario entries may be shipped names or YAML paths; a relative path is taken
    relative to the suite file.

    Raises:
        UnknownNameError: an unknown name (lists the shipped suites).
        ConfigError: a missing file, or an unknown key or bad value in it (the message
            names the file).
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        if name_or_path not in list_suites():
            raise UnknownNameError(
                f"unknown suite {name_or_path!r}; shipped suites: {', '.join(list_suites())}, "
                "or a path to a YAML file"
            )
        path = config_path("eval", f"{name_or_path}.yaml")
    elif not path.is_file():
        raise ConfigError(f"suite file {name_or_path!r} does not exist")
    data = load_yaml(path)
    # A scenario given as a relative YAML path in a suite file is relative to that file,
    # so a suite and its own scenarios can travel together.
    scenarios = data.get("scenarios") or []
    if isinstance(scenarios, list):
        data["scenarios"] = [
            str(path.parent / s) if is_scenario_file(s) and not Path(s).is_absolute() else s
            for s in scenarios
        ]
    try:
        return build(EvalConfig, data)
    except ConfigError as exc:
        raise ConfigError(f"suite file {path}: {exc}") from None


def is_scenario_file(scenario: Any) -> bool:
    """Whether a scenario entry is a YAML path (a user's own scenario), not a shipped name."""
    return isinstance(scenario, str) and scenario.endswith((".yaml", ".yml"))


@dataclass(frozen=True, slots=True)
class Cell:
    """One agent on one scenario for one seed (episode of ``days`` days)."""

    env: str
    agent: str
    scenario: str
    seed: int
    days: int
    split: str = ""  # "train" or "heldout" (which scenarios policies were trained on)


def _safe(name: str) -> str:
    """A file-name-safe version of an agent name (class paths contain ':' and '.')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def cell_path(out: Path, cell: Cell) -> Path:
    """Where a cell's result lives under ``out``."""
    # A scenario file's path may hold '/' or '..': keep every cell under ``out``.
    scenario = _safe(cell.scenario)
    return out / "cells" / cell.env / _safe(cell.agent) / scenario / f"seed_{cell.seed}.json"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file in the same folder, then ``os.replace`` it: a reader
    (or a resumed run after a crash) sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, allow_nan=True)
        replace_file(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_file(tmp: str | Path, path: Path) -> None:
    """``os.replace(tmp, path)``; an error (``path`` is a folder, say) names ``path``, the
    file the user knows, not the temporary file."""
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def read_cell(out: Path, cell: Cell) -> dict[str, Any] | None:
    """The stored result of ``cell``, or None if absent, unreadable, of the wrong shape
    (:func:`evaluation.results_files.cell_problem`, logged) or of another cell or length."""
    path = cell_path(out, cell)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    why = cell_problem(data)
    if why is not None:
        log.warning("%s: %s; not used (a resumed run plays the cell again)", path, why)
        return None
    same = (data.get(k) for k in ("days", "env", "agent", "scenario", "seed"))
    # Different cells may share a file name (names are made file-safe), hence the check.
    if tuple(same) != (cell.days, cell.env, cell.agent, cell.scenario, cell.seed):
        return None
    return data


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def run_cell(cell: Cell) -> dict[str, Any]:
    """Play one cell and return its JSON-ready result; never raises for agent errors.

    Returns:
        The cell's fields plus ``status`` (``ok``/``failed``), ``error`` (one line or None),
        ``traceback`` (failed cells), ``wall_s`` and, when ok, ``metrics`` (scalar dict)
        and env-specific extras (``member_saving_eur``, ``series``).
    """
    start = time.perf_counter()
    out: dict[str, Any] = {**asdict(cell), "status": "ok", "error": None}
    try:
        if cell.env == "reservation_exchange_v0":
            from evaluation.rex_compare import play_cell
        else:
            from evaluation.episode import play_cell
        out |= play_cell(cell)
    except (Exception, SystemExit) as exc:  # the grid shows any agent failure and goes on
        # SystemExit too: an agent's sys.exit() must fail its cell, not end the grid.
        error = _one_line(exc)
        if isinstance(exc, SystemExit):
            error = f"the agent called sys.exit({exc.code!r})"
        out |= {"status": "failed", "error": error, "traceback": traceback.format_exc(limit=-4)}
    out["wall_s"] = time.perf_counter() - start
    return out


def _cost(cell: Cell) -> float:
    """Rough relative run time, to start the longest cells first (balances workers)."""
    per_agent = {"mpc": 4.0, "individual": 4.0, "oracle": 2.0, "admm": 4.0}
    size = 8.0 if cell.scenario == "large_coalition" else 1.0
    return per_agent.get(cell.agent, 1.0) * size * cell.days


def _serial(cells: list[Cell]) -> Iterable[dict[str, Any]]:
    for cell in cells:
        yield run_cell(cell)


def _worker_init(parent_pid: int) -> None:
    """Set up a worker process: the parent alone handles Ctrl-C, and the worker exits
    when the parent is gone (killed, or exited without cleaning up)."""
    import signal
    import threading

    # A terminal's Ctrl-C reaches every process of the group; the parent stops the pool,
    # so the workers must not each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)  # orphaned: nobody will read this worker's results

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


#: Default per-cell time limit, seconds: ~6x the slowest cell of the full suite (a 7-day
#: large_coalition MPC cell takes about 5 minutes on one core), so only a hang reaches it.
DEFAULT_CELL_TIMEOUT_S = 1800.0


def _failed(cell: Cell, error: str, wall_s: float) -> dict[str, Any]:
    """The result of a cell whose worker died or ran out of time (no traceback to show)."""
    return {**asdict(cell), "status": "failed", "error": error, "traceback": "",
            "wall_s": wall_s}  # fmt: skip


def _death(code: int | None) -> str:
    """Why a worker process ended, from its exit code."""
    import signal

    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process was killed by {name} (a crash) during this cell"
    return f"the worker process exited with code {code} during this cell (os._exit or a crash)"


def _worker_main(conn: Any, parent_pid: int) -> None:
    """A worker: play each cell the parent sends, send back its result, until told to stop."""
    _worker_init(parent_pid)
    while True:
        try:
            cell = conn.recv()
        except EOFError:  # the parent closed the pipe
            return
        if cell is None:
            return
        conn.send(run_cell(cell))


class _Worker:
    """One spawned worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.cell: Cell | None = None
        self.started = 0.0

    def stop(self) -> None:
        """End the process now (it may be hung in an agent), then release the pipe."""
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


def _poll(w: _Worker, timeout_s: float | None) -> tuple[dict[str, Any] | None, str | None]:
    """A busy worker's (result, None) when its cell ended, (None, why) when its process
    died or ran out of time, else (None, None)."""
    if w.conn.poll():
        try:
            return w.conn.recv(), None
        except (EOFError, OSError):
            pass  # the process died mid-send: reported below
    if not w.proc.is_alive():
        return None, _death(w.proc.exitcode)
    if timeout_s is not None and time.monotonic() - w.started > timeout_s:
        return None, f"timed out after {timeout_s:g} s (--cell-timeout); the worker was killed"
    return None, None


def _isolated(cells: list[Cell], workers: int, timeout_s: float | None) -> Iterable[dict[str, Any]]:
    """Run cells in worker processes, each cell contained: an agent that calls
    ``os._exit``, crashes its process or runs past ``timeout_s`` fails its own cell (the
    worker is replaced) and every other cell still runs.

    A pipe per worker rather than ProcessPoolExecutor: the executor marks the whole pool
    broken when one worker dies, failing every queued cell, and cannot stop one running
    task on a time limit.
    """
    import multiprocessing
    from collections import deque
    from multiprocessing.connection import wait

    # spawn: workers start clean (no forked numba/BLAS threads); the numba cache on disk
    # spares them the compile.
    ctx = multiprocessing.get_context("spawn")
    queue = deque(cells)
    pool = [_Worker(ctx) for _ in range(min(workers, len(cells)))]
    try:
        while queue or any(w.cell is not None for w in pool):
            for w in pool:
                if w.cell is None and queue:
                    w.cell, w.started = queue.popleft(), time.monotonic()
                    w.conn.send(w.cell)
            busy = [w for w in pool if w.cell is not None]
            now = time.monotonic()
            wait_s = 1.0
            if timeout_s is not None:
                wait_s = min(wait_s, max(0.0, min(w.started + timeout_s for w in busy) - now))
            wait([x for w in busy for x in (w.conn, w.proc.sentinel)], timeout=wait_s)
            for k, w in enumerate(pool):
                cell = w.cell
                if cell is None:
                    continue
                result, error = _poll(w, timeout_s)
                if result is not None:
                    w.cell = None
                    yield result
                elif error is not None:
                    elapsed = time.monotonic() - w.started
                    w.stop()
                    pool[k] = _Worker(ctx)  # a fresh process for the cells still queued
                    yield _failed(cell, error, elapsed)
    finally:
        # Normal end, Ctrl-C, an error, or the consumer stopped: no worker outlives this.
        for w in pool:
            if w.cell is None and w.proc.is_alive():
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        for w in pool:
            w.proc.join(timeout=0.5 if w.cell is None else 0)
            w.stop()


def _ray(cells: list[Cell], workers: int, address: str | None) -> Iterable[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise ValueError("--backend ray needs Ray: pip install 'coalition-markets[ray]'") from None
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
    try:
        remote = ray.remote(num_cpus=1)(run_cell)
        pending = [remote.remote(c) for c in cells]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


def run_grid(
    cells: list[Cell],
    out: Path,
    *,
    workers: int = 1,
    backend: str = "process",
    address: str | None = None,
    resume: bool = False,
    progress: bool = True,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    cell_timeout_s: float | None = DEFAULT_CELL_TIMEOUT_S,
) -> list[dict[str, Any]]:
    """Run every cell (skipping finished ones with ``resume``), writing each as it ends.

    Args:
        cells: the grid.
        out: output folder; results go to ``out/cells/...``.
        workers: parallel worker processes (``process`` backend; 1 runs in this process)
            or CPUs requested from a local Ray instance.
        backend: ``"process"`` or ``"ray"``.
        address: Ray cluster address to join (``ray`` backend), e.g. ``"auto"``.
        resume: keep cells whose stored result is ``ok`` for the same episode length;
            failed cells are run again.
        progress: show a tqdm progress bar (stderr).
        on_result: called with each newly finished result (after it is written).
        cell_timeout_s: ``process`` backend: each cell runs in a worker process and fails
            (worker killed) past this many seconds; a cell whose agent exits or crashes
            its process fails alone. None: no limit and, with one worker, cells run in
            this process (no containment of ``os._exit``; for debugging).

    Returns:
        The results of all cells, in the order of ``cells``.
    """
    from tqdm import tqdm

    if backend not in ("process", "ray"):
        raise ValueError(f"backend={backend!r}; expected 'process' or 'ray'")
    if workers < 1:
        raise ValueError(f"workers={workers}; expected at least 1")
    if cell_timeout_s is not None and not cell_timeout_s > 0:
        raise ValueError(f"cell_timeout_s={cell_timeout_s}; expected a positive number or None")
    results: dict[Cell, dict[str, Any]] = {}
    todo = []
    for cell in cells:
        old = read_cell(out, cell) if resume else None
        if old is not None and old.get("status") == "ok":
            results[cell] = old
        else:
            todo.append(cell)
    if resume:
        log.info("resume: %d of %d cells already finished", len(results), len(cells))
    todo.sort(key=_cost, reverse=True)
    if backend == "ray":
        stream = _ray(todo, workers, address)
    elif todo and (workers > 1 or cell_timeout_s is not None):
        stream = _isolated(todo, workers, cell_timeout_s)
    else:
        stream = _serial(todo)
    bar = tqdm(total=len(todo), desc="cells", unit="cell", disable=not progress or not todo)
    try:
        with bar:
            for res in stream:
                cell = Cell(**{k: res[k] for k in Cell.__slots__})
                write_json_atomic(cell_path(out, cell), res)
                results[cell] = res
                if on_result is not None:
                    on_result(res)
                bar.set_postfix_str(f"{cell.agent}/{cell.scenario}/{cell.seed} {res['status']}")
                bar.update()
    finally:
        # Close the stream now (on Ctrl-C too), not when it is garbage-collected, so
        # that its workers stop with this process.
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return [results[c] for c in cells]
