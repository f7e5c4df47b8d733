"""HiGHS statement of the co-optimised energy + reserve LP, a test reference.

Builds the LP that :func:`envs.market.cooptimise.clear_joint_row` solves (its module
docstring states it) and solves it with HiGHS; the energy and reserve prices are the
duals of the two balance rows. Where the duals are not unique (a degenerate book, e.g.
load shed while reserve is short: the reserve price may be anything between the reserve
demand's value and a unit's opportunity cost), :func:`lowest_duals` solves the dual LP
twice to find the componentwise-lowest optimal prices, the rule the clearing states.
"""

from __future__ import annotations

import numpy as np

from agents.highs import quiet_highs

FLOOR, CAP, RCAP = -500.0, 3000.0, 1000.0


def solve_highs(book: dict, floor: float = FLOOR, cap: float = CAP, rcap: float = RCAP):
    """(welfare EUR, energy price, reserve price, x) of the book's LP, solved by HiGHS."""
    pe = np.clip(book["ep"], floor, cap)
    pr = np.clip(book["rp"], 0.0, rcap)
    pd = np.clip(book["dp"], floor, cap)
    prd = np.clip(book["rdp"], 0.0, rcap)
    n_s, n_r, n_b, n_k = len(pe), len(pr), len(pd), len(prd)
    cost = np.concatenate([pe, pr, -pd, -prd])
    upper = np.concatenate([book["eq"], book["rq"], book["dq"], book["rdq"]])
    n = cost.size
    h = quiet_highs()
    h.addVars(n, np.zeros(n), upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    se, sr, sd = 0, n_s, n_s + n_r
    sk = sd + n_b
    rows = [
        (0.0, 0.0, list(range(se, sr)) + list(range(sd, sk)), [1.0] * n_s + [-1.0] * n_b),
        (0.0, 0.0, list(range(sr, sd)) + list(range(sk, n)), [1.0] * n_r + [-1.0] * n_k),
    ]
    for u, lim in enumerate(book["ulim"]):
        idx = [se + s for s in range(n_s) if book["eu"][s] == u]
        idx += [sr + r for r in range(n_r) if book["ru"][r] == u]
        if idx:
            rows.append((-np.inf, float(lim), idx, [1.0] * len(idx)))
    for lo, hi, idx, val in rows:
        h.addRow(lo, hi, len(idx), np.array(idx, np.int32), np.array(val))
    h.run()
    sol = h.getSolution()
    welfare = -h.getInfo().objective_function_value
    # The balance row reads supply - demand = 0: raising its right-hand side by 1 MW
    # asks for one more MW of supply, so its dual (d cost / d rhs) is the price.
    return welfare, sol.row_dual[0], sol.row_dual[1], np.array(sol.col_value)


def lowest_duals(book: dict, floor: float = FLOOR, cap: float = CAP, rcap: float = RCAP):
    """(dual objective EUR, energy price, reserve price): the lowest optimal duals.

    The dual LP: minimise sum ulim*mu + sum eq*z + sum rq*w + sum dq*y + sum rdq*v over
    lam_e, lam_r free and mu, z, w, y, v >= 0 with z_s >= lam_e - pe_s - mu_u(s),
    w_r >= lam_r - pr_r - mu_u(r), y_b >= pd_b - lam_e, v_k >= prd_k - lam_r. Stage two
    keeps the objective at its optimum and minimises lam_e + lam_r; the componentwise
    lowest optimal pair exists (it is minus the shortest residual distances), so it is
    this minimiser.
    """
    pe = np.clip(book["ep"], floor, cap)
    pr = np.clip(book["rp"], 0.0, rcap)
    pd = np.clip(book["dp"], floor, cap)
    prd = np.clip(book["rdp"], 0.0, rcap)
    n_u = len(book["ulim"])
    n_s, n_r, n_b, n_k = len(pe), len(pr), len(pd), len(prd)
    # Columns: lam_e, lam_r, mu (U), z (S), w (R), y (B), v (K).
    mu0, z0 = 2, 2 + n_u
    w0 = z0 + n_s
    y0 = w0 + n_r
    v0 = y0 + n_b
    n = v0 + n_k
    obj = np.concatenate([[0.0, 0.0], book["ulim"], book["eq"], book["rq"], book["dq"],
                          book["rdq"]])  # fmt: skip
    lower = np.concatenate([[-np.inf, -np.inf], np.zeros(n - 2)])
    h = quiet_highs()
    h.addVars(n, lower, np.full(n, np.inf))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), obj)

    def row(lo, idx, val):
        h.addRow(lo, np.inf, len(idx), np.array(idx, np.int32), np.array(val, float))

    for s in range(n_s):
        u = book["eu"][s]
        row(-pe[s], [z0 + s, 0] + ([mu0 + u] if u >= 0 else []), [1, -1] + ([1] if u >= 0 else []))
    for r in range(n_r):
        u = book["ru"][r]
        row(-pr[r], [w0 + r, 1] + ([mu0 + u] if u >= 0 else []), [1, -1] + ([1] if u >= 0 else []))
    for b in range(n_b):
        row(pd[b], [y0 + b, 0], [1, 1])
    for k in range(n_k):
        row(prd[k], [v0 + k, 1], [1, 1])
    h.run()
    best = h.getInfo().objective_function_value
    nz = np.flatnonzero(obj)
    h.addRow(-np.inf, best, len(nz), nz.astype(np.int32), obj[nz])
    cost2 = np.zeros(n)
    cost2[:2] = 1.0
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost2)
    h.run()
    lam = h.getSolution().col_value
    return best, lam[0], lam[1]
