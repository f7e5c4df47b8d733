"""Every Python block and shell command of the README pages runs here, so that no example goes
stale.

The pages are the top ``README.md`` and each package's own (:data:`PAGES`). Fenced blocks are
read from the pages themselves: ````python```` blocks are executed (a block
whose fence says ``file=PATH`` is written to ``PATH`` under a temporary folder on
``sys.path`` instead, as the README tells the reader to save it), and every command of a
````bash```` block runs from the repository root, with ``results/...`` and ``runs/...``
moved into a temporary folder. ````text```` blocks (usage synopses) are not commands.

Commands that run for minutes, or that would change the installation, run with reduced
flags; :data:`REDUCED` says why for each. Any other command runs as written, so a new
README command is tested the day it is written; an entry of the tables that no longer
matches a README command fails :func:`test_tables_match_the_readme`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: The user's pages: the top README and one per package.
PAGES = (
    README,
    *(ROOT / pkg / "README.md" for pkg in ("envs", "agents", "training", "evaluation")),
)
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)


def _blocks(pages: tuple[Path, ...] = PAGES) -> list[tuple[str, dict[str, str], str, str]]:
    """(language, fence options, code, ``page:Lline``) of every fenced block of the pages."""
    out = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        where = page.relative_to(ROOT).as_posix()
        for m in FENCE.finditer(text):
            opts = dict(kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
            line = text.count("\n", 0, m.start()) + 1
            out.append((m.group(1), opts, m.group(3), f"{where}:L{line}"))
    return out


def _commands(code: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments dropped."""
    joined = code.replace("\\\n", " ")
    cmds = []
    for line in joined.splitlines():
        tokens = shlex.split(line, comments=True)
        if tokens:
            cmds.append(shlex.join(tokens))
    return cmds


#: README command -> (what runs instead, why). Everything else runs as written.
REDUCED: dict[str, tuple[str, str]] = {
    'python -m pip install -e ".[dev]" -c constraints.txt': (
        'python -m pip install --dry-run --no-index --no-build-isolation -e ".[dev]" '
        "-c constraints.txt",
        "installing would change the environment the tests run in; the dry run checks that "
        "the extras resolve against constraints.txt with what is installed",
    ),
    "python -m pytest": (
        "python -m pytest --collect-only -q",
        "running the suite from inside itself would recurse; collecting imports every test "
        "module and checks the markers",
    ),
    "python -m evaluation.compare --workers 2 --out results/compare": (
        "python -m evaluation.compare --quick --workers 2 --out results/compare",
        "the full grid takes 8+ minutes on 2 cores; --quick runs the same program (two "
        "worker processes included) on 42 cells",
    ),
    "python -m training.train --config configs/training/mappo.yaml --out runs/mappo_shipped": (
        "python -m training.train --config configs/training/mappo.yaml --out runs/mappo_shipped "
        "--total-steps 192 --set env.num_envs=4 --set env.days=1 --set \"mappo.imitate=''\" "
        "--no-progress",
        "the shipped run takes 28.5 minutes; two iterations of 4 one-day envs without the "
        "warm start go through the same code, config and run folder",
    ),
    "python -m training.train --config configs/training/mappo_mpc_start.yaml "
    "--out runs/mappo_mpc": (
        "python -m training.train --config configs/training/mappo_mpc_start.yaml "
        "--out runs/mappo_mpc --total-steps 96 --set env.num_envs=4 --set env.days=1 "
        "--set env.scenarios=[default] --set mappo.imitate_episodes=1 --no-progress",
        "the shipped run takes 24 minutes; one MPC episode of one day as the demonstrations "
        "and one iteration of 4 one-day envs go through the same code, config and run folder",
    ),
    "python -m training.ship runs/mappo_mpc --name mappo_mpc_start --dest agents/checkpoints": (
        "python -m training.ship runs/mappo_mpc --name mappo_mpc_start --dest runs/shipped",
        "as above: the shipped policy stays",
    ),
    "python -m training.train --config configs/training/ppo.yaml --out runs/ppo_shipped": (
        "python -m training.train --config configs/training/ppo.yaml --out runs/ppo_shipped "
        "--total-steps 192 --set env.num_envs=7 --set env.days=1 --set ppo.batch_size=48 "
        "--no-progress",
        "the shipped run takes 7 minutes; two iterations of 7 one-day envs, one per scenario "
        "of the mixed rollout (a minibatch must fit in the 168 steps of one)",
    ),
    "python -m training.train --config configs/training/mappo_incumbents.yaml --out runs/inc": (
        "python -m training.train --config configs/training/mappo_incumbents.yaml --out runs/inc "
        "--total-steps 192 --set env.num_envs=4 --set env.days=1 --no-progress",
        "the shipped run takes 17 minutes; two iterations of 4 one-day envs go through the "
        "same code, config and run folder",
    ),
    "python -m training.ship runs/inc --name mappo_incumbents --dest agents/checkpoints": (
        "python -m training.ship runs/inc --name mappo_incumbents --dest runs/shipped",
        "as above: the shipped policy stays",
    ),
    "python -m training.ship runs/mappo_shipped --name mappo --dest agents/checkpoints": (
        "python -m training.ship runs/mappo_shipped --name mappo --dest runs/shipped",
        "shipping into agents/checkpoints would replace the shipped policy; --dest writes "
        "the same files elsewhere",
    ),
    "python -m training.ship runs/ppo_shipped --name ppo --dest agents/checkpoints": (
        "python -m training.ship runs/ppo_shipped --name ppo --dest runs/shipped",
        "as above: the shipped policy stays",
    ),
    "python -m evaluation.audit --workers 2 --out evaluation/results/audit "
    "--write-readme evaluation/README.md": (
        "python -m evaluation.audit --references rule --scenarios default --seeds 1 --days 1 "
        "--deviations underbuy_5mw --out results/audit --no-progress",
        "the shipped audit takes about 15 minutes and rewrites the shipped results and page; "
        "one reference, scenario, seed and deviation go through the same code",
    ),
    "python -m evaluation.calibrate --write-readme envs/README.md": (
        "python -m evaluation.calibrate --scenarios default --seeds 1 --days 1 --markdown",
        "rewriting the page from inside the tests would change the checkout; the slow "
        "test_the_readme_table_is_what_the_command_writes checks the page's table",
    ),
    "python -m evaluation.benchmark --json": (
        "python -m evaluation.benchmark --json --quick",
        "the full benchmark takes about 5 minutes; --quick measures the same things on "
        "fewer steps (its figures are not for quoting)",
    ),
}


def _norm(cmd: str) -> str:
    """A command in one spelling (shell quoting normalised), as :func:`_commands` gives it."""
    return shlex.join(shlex.split(cmd))


REDUCED = {_norm(k): v for k, v in REDUCED.items()}

#: Commands that start a server: they run until the server answers its health check on a
#: free local port (``--no-browser``), then are stopped.
SERVERS = {
    "python -m evaluation.app --results results/compare",
    "python -m evaluation.app --results results/quick",
}

#: Commands that take under ~5 s run in the default suite; the rest are marked slow.
FAST = {"python -m evaluation.ppa --scenario ppa_paper_case --json"}

#: Python blocks slower than a few seconds (by their first line).
SLOW_PYTHON: set[str] = set()


def _python_cases() -> list:
    cases = []
    for lang, opts, code, line in _blocks():
        if lang != "python" or "file" in opts:
            continue
        first = code.strip().splitlines()[0]
        marks = [pytest.mark.slow] if first in SLOW_PYTHON else []
        cases.append(pytest.param(code, line, id=line, marks=marks))
    return cases


def _shell_cases() -> list:
    cases = []
    for lang, _, code, line in _blocks():
        if lang not in ("bash", "sh", "shell", "console"):
            continue
        cmds = _commands(code)
        slow = any(c not in FAST for c in cmds)
        marks = [pytest.mark.slow] if slow else []
        cases.append(pytest.param(cmds, id=line, marks=marks))
    return cases


def _write_files(where: Path) -> None:
    """Write the README's ``file=PATH`` blocks under ``where`` (packages get __init__.py)."""
    for lang, opts, code, _ in _blocks():
        if lang == "python" and "file" in opts:
            path = where / opts["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code, encoding="utf-8")
            for parent in path.relative_to(where).parents:
                if parent != Path("."):
                    (where / parent / "__init__.py").touch()


def test_tables_match_the_readme() -> None:
    kinds = [lang for lang, *_ in _blocks()]
    assert kinds.count("python") >= 5 and kinds.count("bash") >= 5
    readme_cmds = {c for lang, _, code, _ in _blocks() if lang == "bash" for c in _commands(code)}
    assert set(REDUCED) <= readme_cmds, f"stale entries: {set(REDUCED) - readme_cmds}"
    assert FAST <= readme_cmds, f"stale entries: {FAST - readme_cmds}"
    assert SERVERS <= readme_cmds, f"stale entries: {SERVERS - readme_cmds}"


def _serve_until_healthy(argv: list[str], env: dict[str, str]) -> None:
    """Start a server command on a free port and wait for its health check (60 s)."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [*argv, "--no-browser", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"{argv} exited: {proc.stderr.read()[-2000:]}"
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"{argv} did not answer on port {port} within 60 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(("code", "where"), _python_cases())
def test_python_block_runs(
    code: str,
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    _write_files(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("cmds", _shell_cases())
def test_shell_commands_run(cmds: list[str], tmp_path: Path) -> None:
    _write_files(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    for cmd in cmds:
        run = REDUCED.get(cmd, (cmd, ""))[0]
        argv = [
            str(tmp_path / t) if t.startswith(("results/", "runs/")) else t
            for t in shlex.split(run)
        ]
        assert argv[0] == "python", f"README command {cmd!r} does not start with python"
        argv[0] = sys.executable
        if cmd in SERVERS:
            _serve_until_healthy(argv, env)
            continue
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, f"{run}\n{proc.stderr[-3000:]}"
        if "--json" in argv:  # progress bars go to stderr; stdout is one JSON object
            json.loads(proc.stdout)


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_anchor(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


def test_the_readme_reads_in_ten_minutes() -> None:
    # At most 300 lines, a table of contents, and the API quick start in the first 120.
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; keep it to 300"
    assert "- [Quick start](#quick-start)" in lines[:40], "no table of contents at the top"
    start = lines.index("## Quick start")
    assert start < 105 and "```python" in lines[start : start + 4]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_stays_in_the_repository_and_resolves(page: Path) -> None:
    # A clone has only the repository: no link may leave it, and every one must resolve
    # (files relative to the page, #anchors to a heading of the page they name).
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text and "DESIGN.md" not in text
    for target in LINK.findall(FENCE.sub("", text)):
        assert not re.match(r"[a-z]+://", target), f"{page.name}: outside link {target}"
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        assert dest.is_relative_to(ROOT) and dest.exists(), f"{page}: {target} not found"
        if anchor and dest.suffix == ".md":
            assert anchor in _anchors(dest), f"{page}: no heading for #{anchor} in {dest}"
