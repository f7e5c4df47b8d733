"""Damaged, foreign and mismatched checkpoints are refused with a message naming the file
and the fault, never with torch's advice to load with ``weights_only=False`` (issue 18
item 5). The shipped policies carry the content hash and still load.
"""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agents
from agents.checkpoint_file import CheckpointError, read_checkpoint
from agents.learned import load_export
from training.checkpoint import load_checkpoint, reseal, save_checkpoint

SHIPPED = Path(agents.__file__).parent / "checkpoints"


def _refused(path: Path, fault: str, algorithm: str | None = None) -> str:
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, algorithm)
    text = str(err.value)
    assert str(path) in text and fault in text, text
    assert "weights_only" not in text
    # No chained torch error either: its text is where the unsafe advice lives.
    exc = err.value
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
    return text


@pytest.fixture
def ppo_copy(tmp_path: Path) -> Path:
    path = tmp_path / "ppo.pt"
    shutil.copyfile(SHIPPED / "ppo.pt", path)
    return path


def test_shipped_checkpoints_carry_their_algorithm_and_hash() -> None:
    for name in ("ppo", "mappo"):
        head = (SHIPPED / f"{name}.pt").read_bytes()[:200].split(b"\n")[0].split(b" ")
        assert head[:3] == [b"coalition-markets-checkpoint", b"1", name.encode()]
        assert load_checkpoint(SHIPPED / f"{name}.pt", name)["signature"]["algo"] == name
        assert type(agents.load(name)).__name__.lower().startswith(name)


def test_one_flipped_byte_is_refused(ppo_copy: Path) -> None:
    data = bytearray(ppo_copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # before: loaded silently (torch skips zip CRCs)
    ppo_copy.write_bytes(bytes(data))
    _refused(ppo_copy, "corrupted")


def test_truncation_is_refused(ppo_copy: Path) -> None:
    data = ppo_copy.read_bytes()
    ppo_copy.write_bytes(data[: len(data) - 100])
    _refused(ppo_copy, "truncated")


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")  # before: a bare EOFError naming no file
    _refused(path, "empty")


def test_random_bytes_never_suggest_weights_only_false(tmp_path: Path) -> None:
    path = tmp_path / "noise.pt"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    _refused(path, "not a checkpoint")


def test_a_pickle_behind_a_valid_header_is_refused_without_the_unsafe_advice(
    tmp_path: Path,
) -> None:
    # A well-formed header and hash around a pickle of an arbitrary object: the hash
    # passes, so torch's weights-only unpickler is what refuses it, and its advice to
    # retry with weights_only=False must not reach the user.
    import hashlib

    body = pickle.dumps(Path("x"))
    digest = hashlib.sha256(body).hexdigest().encode()
    path = tmp_path / "evil.pt"
    header = b"coalition-markets-checkpoint 1 ppo " + str(len(body)).encode() + b" " + digest
    path.write_bytes(header + b"\n" + body)
    _refused(path, "holds objects other than tensors")


def test_a_ppo_checkpoint_loaded_as_mappo_is_refused(ppo_copy: Path) -> None:
    _refused(ppo_copy, "holds a ppo policy, not mappo", "mappo")
    with pytest.raises(CheckpointError, match="not mappo"):
        agents.load("mappo", checkpoint=str(ppo_copy))


def test_a_checkpoint_without_the_header_names_how_to_reseal_it(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.pt"
    payload = load_checkpoint(SHIPPED / "ppo.pt")
    torch.save(payload, legacy)
    _refused(legacy, "reseal")
    reseal(legacy, "ppo")
    again = load_checkpoint(legacy, "ppo")
    state = payload["policy"]["actors"]["coalition"]["state_dict"]
    for k, v in again["policy"]["actors"]["coalition"]["state_dict"].items():
        assert torch.equal(v, state[k])


def test_save_then_load_round_trips_and_load_export_checks_the_algorithm(tmp_path: Path) -> None:
    payload = load_checkpoint(SHIPPED / "mappo.pt")
    path = save_checkpoint(payload, tmp_path / "run" / "checkpoint.pt")
    assert load_export(path.parent, "mappo")["actors"].keys() == payload["policy"]["actors"].keys()
    with pytest.raises(CheckpointError, match="not ppo"):
        load_export(path, "ppo")


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_checkpoints_load_intact_or_raise_checkpoint_error(data, tmp_path_factory) -> None:
    # Damage of every kind (flips, truncation, insertion, deletion, overwrite with noise):
    # either the file is byte-identical to the good one and loads, or CheckpointError.
    good = (SHIPPED / "ppo.pt").read_bytes()
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "noise"]))
    i = data.draw(st.integers(0, len(good) - 1))
    if kind == "flip":
        bad = good[:i] + bytes([good[i] ^ data.draw(st.integers(1, 255))]) + good[i + 1 :]
    elif kind == "truncate":
        bad = good[:i]
    elif kind == "insert":
        bad = good[:i] + data.draw(st.binary(min_size=1, max_size=8)) + good[i:]
    elif kind == "delete":
        bad = good[:i] + good[i + data.draw(st.integers(1, 8)) :]
    else:
        bad = data.draw(st.binary(min_size=0, max_size=512))
    path = tmp_path_factory.mktemp("fuzz") / "ckpt.pt"
    path.write_bytes(bad)
    if bad == good:
        assert read_checkpoint(path, "ppo")["signature"]["algo"] == "ppo"
        return
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(path, "ppo")
    assert str(path) in str(err.value) and "weights_only" not in str(err.value)
