"""Processes as /proc shows them: a process tree, whether a process still runs, CPU time."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, parents first, whichever thread started them (serve's
    supervisor thread starts a restarted worker)."""
    tree = [pid]
    for member in tree:  # the list grows as it is walked: breadth first
        for task in Path(f"/proc/{member}/task").glob("*"):
            with contextlib.suppress(FileNotFoundError):  # exited meanwhile
                tree += [int(child) for child in (task / "children").read_text().split()]
    return tree


def alive(pid: int) -> bool:
    """Running: a zombie (exited, not yet reaped) is not."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """`cpu_seconds` of a process and its descendants."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(FileNotFoundError):  # exited meanwhile
            total += cpu_seconds(member)
    return total


def memory_mb(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")
