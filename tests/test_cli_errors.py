"""Every CLI answers a user error with one ``error: ...`` line on stderr and exit status 2,
no traceback (issue 18 item 6): read-only or full output paths, YAML tags, a pickle given
to ``--resume``, missing files. A bug still raises (its traceback is wanted).
"""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest

from agents import admm
from envs.cli import cli_main
from evaluation import cfe, compare, ppa
from training import heldout, ship, train

TAG_YAML = 'a: !!python/object/apply:os.system ["echo pwned"]\n'


def _user_error(capsys: pytest.CaptureFixture[str], main, argv: list[str], *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[-1], lines[-1]
    return lines[-1]


@pytest.fixture
def tag_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "tagged.yaml"
    path.write_text(TAG_YAML, encoding="utf-8")
    return path


@pytest.fixture
def read_only_fs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Folders under the returned path behave as on a read-only mount (the suite may run as
    root, which ignores permission bits, so the mount's errno is raised directly)."""
    root = tmp_path / "ro"
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args, **kwargs) -> None:
        if self == root or root in self.parents:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    return root


def test_yaml_tags_are_a_user_error_in_every_config_reader(capsys, tag_yaml: Path) -> None:
    # Before: PyYAML's ConstructorError traceback (the tag was never run either way).
    _user_error(capsys, train.main, ["--config", str(tag_yaml)], str(tag_yaml), "YAML")
    _user_error(capsys, compare.main, ["--config", str(tag_yaml)], str(tag_yaml), "YAML")
    _user_error(capsys, admm.main, ["--scenario", str(tag_yaml)], str(tag_yaml), "YAML")
    _user_error(capsys, ppa.main, ["--scenario", str(tag_yaml)], str(tag_yaml), "YAML")


def test_a_yaml_tag_in_a_set_override_is_a_user_error(capsys, tmp_path: Path) -> None:
    _user_error(capsys, train.main, ["--config", "configs/training/ppo.yaml", "--out",
                                     str(tmp_path), "--set", "seed=!!python/name:os.system"],
                "YAML")  # fmt: skip


def test_a_pickle_passed_to_resume_is_refused(capsys, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(pickle.dumps({"signature": {}, "config": {}}))
    # Before: torch's UnpicklingError traceback advising weights_only=False.
    msg = _user_error(capsys, train.main, ["--resume", str(run)], "checkpoint.pt")
    assert "weights_only" not in msg


def test_a_read_only_out_is_a_user_error(capsys, read_only_fs: Path) -> None:
    out = read_only_fs / "cmp"
    argv = ["--agents", "rule", "--scenarios", "default", "--seeds", "1", "--days", "1"]
    _user_error(capsys, compare.main, [*argv, "--out", str(out)], "Read-only", str(out))
    _user_error(capsys, train.main, ["--config", "configs/training/ppo.yaml", "--out",
                                     str(read_only_fs / "run")], "Read-only")  # fmt: skip


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a full disk)")
def test_a_full_out_is_a_user_error(capsys) -> None:
    argv = ["--agents", "rule", "--seeds", "1000", "--days", "1", "--json", "/dev/full"]
    _user_error(capsys, heldout.main, argv, "No space left", "/dev/full")


def test_missing_files_are_user_errors(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    _user_error(capsys, train.main, ["--config", str(missing)], str(missing))
    _user_error(capsys, train.main, ["--resume", str(tmp_path / "no_run")], "no_run")
    _user_error(capsys, ship.main, [str(tmp_path / "no_run"), "--name", "ppo"], "no_run")
    _user_error(capsys, compare.main, ["--config", str(missing)], str(missing))
    _user_error(capsys, cfe.main, ["--scenario", str(missing)], "missing.yaml")
    ckpt = ["--agents", "ppo", "--checkpoint", f"ppo={tmp_path / 'none.pt'}", "--days", "1"]
    _user_error(capsys, heldout.main, ckpt, "none.pt")


def test_a_bug_keeps_its_traceback() -> None:
    @cli_main
    def main(argv: list[str] | None = None) -> int:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        main([])
