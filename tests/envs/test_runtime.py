"""A read-only install with a read-only HOME still imports and steps (issue 18, item 7).

The tests run as root in CI, which writes through any permission bits, so the read-only
folders are simulated by making ``os.access`` say "not writable" for writes before
``envs`` is imported; numba then really compiles into the fallback folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # compiles spot_v0's step from nothing (~15 s)
def test_unwritable_package_and_home_fall_back_to_a_temporary_cache(tmp_path):
    code = (
        "import os\n"
        "real = os.access\n"
        "os.access = lambda p, mode, **kw: False if mode == os.W_OK else real(p, mode, **kw)\n"
        "import envs\n"
        "e = envs.make('spot_v0', days=1); e.reset(seed=0); e.step(e.scripted_actions())\n"
        "print(os.environ['NUMBA_CACHE_DIR'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env["TMPDIR"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=900)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    folder = Path(out.stdout.strip().splitlines()[-1])
    assert folder.parent == tmp_path
    assert any(folder.rglob("*.nbi")), "numba wrote no cache index into the fallback folder"


def test_a_user_choice_of_cache_folder_is_kept(monkeypatch, tmp_path):
    from envs import runtime as numba_cache

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(numba_cache, "_writable", lambda folder: False)
    assert numba_cache.ensure_writable_cache() is None
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path)


def test_importing_envs_makes_idle_openmp_threads_sleep():
    code = "import os, envs; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert out.stdout.strip() == "PASSIVE", out.stderr[-1000:]
    env["OMP_WAIT_POLICY"] = "ACTIVE"  # a user's own choice is kept
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert out.stdout.strip() == "ACTIVE"
