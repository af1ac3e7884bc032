"""The week-to-week price path of one price unit as a best path through a [T × K] trellis (exact DP)."""
from __future__ import annotations

import numpy as np


def chain_dp(R: np.ndarray, compat: np.ndarray, first_ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best path per unit through the [T × K] trellis. ``R`` [U,T,K] rewards (−inf = not allowed).

    ``V_t(k) = R_t(k) + max_{j: compat(j,k)} V_{t−1}(j)`` with ``V_0(k) = R_0(k)`` where ``first_ok(k)``.
    Returns the chosen slots [U,T] and the path values [U] (−inf when no path satisfies the rules).
    """
    U, T, K = R.shape
    step = np.where(compat, 0.0, -np.inf)                       # [U,J,K]
    V = np.where(first_ok, R[:, 0, :], -np.inf)
    back = np.zeros((U, T, K), dtype=np.int64)
    for t in range(1, T):
        cand = V[:, :, None] + step                             # [U,J,K]
        back[:, t, :] = cand.argmax(axis=1)
        V = R[:, t, :] + cand.max(axis=1)
    choice = np.empty((U, T), dtype=np.int64)
    choice[:, -1] = V.argmax(axis=1)
    rows = np.arange(U)
    for t in range(T - 1, 0, -1):
        choice[:, t - 1] = back[rows, t, choice[:, t]]
    return choice, V[rows, choice[:, -1]]
