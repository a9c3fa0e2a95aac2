"""Decisions as intervals: one row per run of equal decisions of a terminal.

A run decides every terminal at every instant, but a decision changes rarely (at a change of
the policy, of the network's answer, at a deactivation), so the run keeps — like Hypatia's
path-change files (Kassing et al., IMC 2020) — one row per terminal and *run* of instants
[first, end) over which (allowed, reasons, satellite in view) stay the same.  The rows of a
terminal tile the window; every per-instant view, tally and metric is computed from them
exactly (``policy.run.enforcement``, ``export.results``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class DecisionIntervals:
    """Rows over instant indices of a grid: terminal, [first, end), and the decision."""

    terminal: np.ndarray  # (n,) int64 index of the terminal
    first: np.ndarray  # (n,) int64 first instant
    end: np.ndarray  # (n,) int64 one past the last instant
    allowed: np.ndarray  # (n,) bool
    reasons: np.ndarray  # (n,) uint32
    in_view: np.ndarray  # (n,) bool
    n_terminals: int
    n_instants: int

    def __len__(self) -> int:
        return len(self.terminal)

    @property
    def length(self) -> np.ndarray:
        """Instants in each row."""
        return self.end - self.first

    @classmethod
    def from_dense(cls, allowed: np.ndarray, reasons: np.ndarray,
                   in_view: np.ndarray | None = None) -> DecisionIntervals:
        """From (T, K) arrays of every instant."""
        n_t, k = allowed.shape
        rec = IntervalRecorder(k)
        view = np.ones((n_t, k), bool) if in_view is None else in_view
        for t in range(n_t):
            rec.add(t, allowed[t], reasons[t], view[t])
        return rec.finish(n_t)

    @classmethod
    def concat(cls, parts: list[DecisionIntervals], n_terminals: int, n_instants: int
               ) -> DecisionIntervals:
        """Rows of several parts (disjoint terminals), ordered by terminal, then time."""
        fields = ("terminal", "first", "end", "allowed", "reasons", "in_view")
        if not parts:
            none = np.empty(0, np.int64)
            return cls(none, none, none, np.empty(0, bool), np.empty(0, np.uint32),
                       np.empty(0, bool), n_terminals, n_instants)
        cols = [np.concatenate([getattr(p, f) for p in parts]) for f in fields]
        order = np.lexsort((cols[1], cols[0]))
        t, f, e, a, r, v = (c[order] for c in cols)
        return cls(t, f, e, a, r, v, n_terminals, n_instants)

    def at(self, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(allowed, reasons, in_view) of instants t0 … t1−1, each (t1−t0, K)."""
        key = self.terminal * (self.n_instants + 1) + self.first
        t = np.arange(t0, t1, dtype=np.int64)[:, None]
        k = np.arange(self.n_terminals, dtype=np.int64)[None, :]
        row = np.searchsorted(key, k * (self.n_instants + 1) + t, side="right") - 1
        return self.allowed[row], self.reasons[row], self.in_view[row]

    def walker(self) -> IntervalWalker:
        """A reader of the rows in force at instants taken in increasing order."""
        return IntervalWalker(self)

    def per_terminal(self, values: np.ndarray) -> np.ndarray:
        """Sum over each terminal's rows of ``values`` (n,) weighted by instants."""
        return np.bincount(self.terminal, weights=values * self.length,
                           minlength=self.n_terminals)

    def counts_over_time(self, rows: np.ndarray) -> np.ndarray:
        """(T,) how many of the terminals' rows selected by ``rows`` (bool (n,)) cover each
        instant."""
        diff = np.zeros(self.n_instants + 1, dtype=np.int64)
        np.add.at(diff, self.first[rows], 1)
        np.add.at(diff, self.end[rows], -1)
        return np.cumsum(diff[:-1])


class IntervalRecorder:
    """Builds :class:`DecisionIntervals` one instant at a time, for K terminals."""

    def __init__(self, k: int, terminals: np.ndarray | None = None):
        self.k = k
        self.terminals = np.arange(k, dtype=np.int64) if terminals is None else terminals
        self.start = np.zeros(k, dtype=np.int64)
        self.cur: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.done: list[tuple[np.ndarray, ...]] = []

    def add(self, t: int, allowed: np.ndarray, reasons: np.ndarray, in_view: np.ndarray
            ) -> None:
        if self.cur is None:
            self.start[:] = t
            self.cur = (allowed.copy(), reasons.copy(), in_view.copy())
            return
        a, r, v = self.cur
        changed = np.flatnonzero((reasons != r) | (in_view != v))  # allowed ⇔ reasons == 0
        if changed.size:
            self.done.append((changed, self.start[changed].copy(),
                              np.full(changed.size, t, np.int64), a[changed], r[changed],
                              v[changed]))
            self.start[changed] = t
            a[changed], r[changed], v[changed] = (allowed[changed], reasons[changed],
                                                  in_view[changed])

    def finish(self, end: int, n_terminals: int | None = None) -> DecisionIntervals:
        """The rows, with the open ones closed at ``end``; terminals are ``terminals[j]``."""
        parts = list(self.done)
        if self.cur is not None:
            every = np.arange(self.k)
            parts.append((every, self.start.copy(), np.full(self.k, end, np.int64),
                          *self.cur))
        n = self.k if n_terminals is None else n_terminals
        if not parts:
            return DecisionIntervals.concat([], n, end)
        cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
        cols[0] = self.terminals[cols[0]]
        out = DecisionIntervals(cols[0], cols[1], cols[2], cols[3].astype(bool),
                                cols[4].astype(np.uint32), cols[5].astype(bool), n, end)
        return DecisionIntervals.concat([out], n, end)


class IntervalWalker:
    """Each terminal's row in force at instant t, for t non-decreasing: a pointer per terminal
    that moves on when its row ends (rows of a terminal tile the window, in time order), so a
    step costs O(K) instead of a search (the capacity pass reads every slot this way)."""

    def __init__(self, iv: DecisionIntervals):
        self.iv = iv
        starts = np.searchsorted(iv.terminal, np.arange(iv.n_terminals))
        self.row = starts.astype(np.int64)
        self.last = np.r_[starts[1:], len(iv.terminal)] - 1
        self.t = -1

    def allowed(self, t: int) -> np.ndarray:
        """(K,) bool: whether each terminal is allowed at instant ``t``."""
        if t < self.t:
            raise ValueError("instants must not go back")
        self.t = t
        iv, row = self.iv, self.row
        while True:
            move = (iv.end[row] <= t) & (row < self.last)
            if not move.any():
                break
            row[move] += 1
        return iv.allowed[row]
