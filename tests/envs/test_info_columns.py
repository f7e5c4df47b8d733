"""The step's info columns are declared once, by name (envs.sim.info.INFO_COLUMNS): the
keys, the column indices the kernel writes and the coalition/market split derive from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np

from envs.market.capacity import VrrCurve, vrr_curve_of_row
from envs.sim import info as ic
from envs.sim import kernel as kn

ROOT = Path(__file__).resolve().parents[2]


def test_keys_are_the_table_names_in_order_without_duplicates():
    names = tuple(c.name for c in ic.INFO_COLUMNS)
    assert ic.INFO_KEYS == names
    assert len(set(names)) == len(names)
    assert ic.INFO_INDEX == {k: i for i, k in enumerate(names)}
    assert kn.INFO_KEYS is ic.INFO_KEYS  # the kernel re-exports, never redeclares
    for c in ic.INFO_COLUMNS:
        assert c.unit and c.description, c.name


def test_every_column_has_exactly_one_index_constant():
    consts = {n: v for n, v in vars(ic).items() if n.startswith("I_")}
    assert all(type(v) is int for v in consts.values())  # numba freezes plain ints
    assert sorted(consts.values()) == list(range(len(ic.INFO_KEYS)))


def test_coalition_and_market_keys_partition_the_table_in_order():
    assert ic.COALITION_INFO_KEYS == tuple(c.name for c in ic.INFO_COLUMNS if c.coalition)
    assert set(ic.COALITION_INFO_KEYS).isdisjoint(ic.PUBLIC_INFO_KEYS)
    merged = sorted((*ic.COALITION_INFO_KEYS, *ic.PUBLIC_INFO_KEYS), key=ic.INFO_INDEX.get)
    assert tuple(merged) == ic.INFO_KEYS
    assert kn.COALITION_INFO_KEYS is ic.COALITION_INFO_KEYS
    assert kn.PUBLIC_INFO_KEYS is ic.PUBLIC_INFO_KEYS


def test_no_second_list_of_info_keys_in_the_package():
    """A literal tuple/list/set of five or more info keys anywhere in envs/ but the table
    is a second declaration that can drift from it."""
    keys = set(ic.INFO_KEYS)
    for path in sorted((ROOT / "envs").rglob("*.py")):
        if path == ROOT / "envs" / "sim" / "info.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                named = [e.value for e in node.elts
                         if isinstance(e, ast.Constant) and e.value in keys]  # fmt: skip
                assert len(named) < 5, f"{path}:{node.lineno} lists info keys: {named}"


def test_readme_info_keys_exist_in_their_section():
    text = (ROOT / "envs" / "README.md").read_text()
    coalition = re.findall(r'infos\["coalition_0"\]\["(\w+)"\]', text)
    market = re.findall(r'\["market/(\w+)"\]', text) + re.findall(r'\["market"\]\["(\w+)"\]', text)
    assert coalition and market
    assert set(coalition) <= set(ic.COALITION_INFO_KEYS)
    assert set(market) <= set(ic.PUBLIC_INFO_KEYS)


def test_vrr_curve_round_trips_through_its_array_form():
    curve = VrrCurve(300.0, 0.95, 280.0, 1.03, 150.0, 1.10, 20.0)  # every field distinct
    assert vrr_curve_of_row(np.array(curve, dtype=np.float64)) == curve
