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


@pytest.mark.slow  # compiles spot_v1's step from nothing (~15 s)
def test_unwritable_package_and_home_fall_back_to_a_temporary_cache(tmp_path):
    code = (
        "import os\n"
        "real = os.access\n"
        "os.access = lambda p, mode, **kw: False if mode == os.W_OK else real(p, mode, **kw)\n"
        "import envs\n"
        "e = envs.make('spot_v1', days=1); e.reset(seed=0); e.step(e.scripted_actions())\n"
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


# --- The fallback folder is private (issue: reliability round three, item 1) --------------


def _fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """ensure_writable_cache with nowhere writable but ``tmp_path`` as the temporary folder;
    numba's own setting and the environment are restored after the test."""
    import numba

    from envs import runtime

    # setenv first, so that the undo removes the folder ensure_writable_cache sets below
    # (delenv of an unset name records nothing to undo: the folder leaked into every later
    # test, and the compare workers they spawn compiled the step cold in it).
    monkeypatch.setenv("NUMBA_CACHE_DIR", "unset")
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    monkeypatch.setattr(runtime, "_writable", lambda folder: False)
    monkeypatch.setattr(runtime.tempfile, "gettempdir", lambda: str(tmp_path))
    return runtime, tmp_path / f"coalition_markets_numba_{os.getuid()}"


def test_the_fallback_folder_is_created_private(monkeypatch, tmp_path):
    runtime, folder = _fallback(monkeypatch, tmp_path)
    monkeypatch.setattr(os, "umask", os.umask)  # restored below
    old = os.umask(0)  # a permissive umask must not open the folder to others
    try:
        assert runtime.ensure_writable_cache() == str(folder)
    finally:
        os.umask(old)
    assert folder.is_dir() and (folder.stat().st_mode & 0o777) == 0o700
    assert os.environ["NUMBA_CACHE_DIR"] == str(folder)


def test_a_fallback_folder_of_another_user_is_refused(monkeypatch, tmp_path):
    runtime, _ = _fallback(monkeypatch, tmp_path)
    me = os.getuid() + 4242  # the folder's owner (this uid) is someone else for the check
    monkeypatch.setattr(os, "getuid", lambda: me)
    folder = tmp_path / f"coalition_markets_numba_{me}"
    folder.mkdir()
    folder.chmod(0o777)  # as another user would leave it for us
    with pytest.raises(runtime.UnsafeCacheFolderError) as err:
        runtime.ensure_writable_cache()
    text = str(err.value)
    assert str(folder) in text and f"not by you (uid {me})" in text and "NUMBA_CACHE_DIR" in text
    assert "NUMBA_CACHE_DIR" not in os.environ  # numba is not pointed at it


def test_a_symbolic_link_or_a_file_in_place_of_the_folder_is_refused(monkeypatch, tmp_path):
    runtime, folder = _fallback(monkeypatch, tmp_path)
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    folder.symlink_to(target)
    with pytest.raises(runtime.UnsafeCacheFolderError, match="is a symbolic link"):
        runtime.ensure_writable_cache()
    folder.unlink()
    folder.write_text("not a folder")
    with pytest.raises(runtime.UnsafeCacheFolderError, match="is not a usable folder"):
        runtime.ensure_writable_cache()


def test_an_own_folder_others_could_write_in_is_closed_and_emptied(monkeypatch, tmp_path):
    runtime, folder = _fallback(monkeypatch, tmp_path)
    folder.mkdir()
    (folder / "planted").mkdir()
    (folder / "planted" / "step.nbi").write_text("someone else's index")
    (folder / "link").symlink_to(tmp_path / "keep")
    (tmp_path / "keep").write_text("outside the folder: not removed")
    folder.chmod(0o777)
    assert runtime.ensure_writable_cache() == str(folder)
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert list(folder.iterdir()) == []
    assert (tmp_path / "keep").read_text() == "outside the folder: not removed"
    # Read-only for others (numba's own 0755): only the mode is tightened, the cache kept.
    (folder / "mine.nbi").write_text("index")
    folder.chmod(0o755)
    monkeypatch.delenv("NUMBA_CACHE_DIR")  # a new start
    assert runtime.ensure_writable_cache() == str(folder)
    assert (folder.stat().st_mode & 0o777) == 0o700 and (folder / "mine.nbi").exists()
