"""CPU time of other processes, read from /proc, so each pipeline stage is charged what it burns.

The pipeline benchmark runs the identity and timeline workers (and the broker) as processes of
their own; their CPU cost per event is the difference of their CPU time over a phase divided by
the events that passed. `/proc/<pid>/stat` counts every thread of a process; a process's children
(faust starts none today, but a tool might) are found through their parent pid and added.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:  # the process has gone
        return None
    return text[text.rindex(")") + 2 :].split()


def _cpu_ticks(fields: list[str]) -> int:
    """utime + stime (fields 14 and 15 of proc(5); index 11 and 12 after the command name)."""
    return int(fields[11]) + int(fields[12])


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of `root` and every live descendant; 0 when `root` has gone."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            parents[int(entry.name)] = int(fields[1])
            ticks[int(entry.name)] = _cpu_ticks(fields)
    tree, frontier = set(), [root] if root in ticks else []
    while frontier:
        pid = frontier.pop()
        tree.add(pid)
        frontier.extend(child for child, parent in parents.items() if parent == pid and child not in tree)
    return sum(ticks[pid] for pid in tree) / _TICKS
