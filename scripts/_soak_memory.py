"""The soak's memory readings: the resident memory of the gateway's processes sampled from
/proc, and its trend (first and last window, slope over the second half of the run)."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from _harness import process_tree, resident

MB = 1024 * 1024


#: When, and per pid the resident memory (see ``_harness.resident``).
Sample = tuple[float, dict[int, dict[str, int]]]
#: The measures reported: private memory, the one a leak grows, and all of it.
MEASURES = {"anon": "RssAnon", "rss": "VmRSS"}


class MemorySampler(threading.Thread):
    """The resident memory of a process and its children, every ``every`` seconds."""

    def __init__(self, pid: int, every: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[Sample] = []
        self._done = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while True:
            memory = {p: resident(p) for p in process_tree(self.pid)}
            self.samples.append(
                (time.monotonic() - started, {p: m for p, m in memory.items() if m})
            )
            if self._done.wait(self.every):
                return

    def stop(self) -> None:
        """Take a last sample and stop."""
        self._done.set()
        self.join()


def _window_means(times: list[float], values: list[float], window: float) -> tuple[float, float]:
    """Means of ``values`` over the first and the last ``window`` seconds."""
    end = times[-1]
    first = [v for t, v in zip(times, values, strict=True) if t <= window]
    last = [v for t, v in zip(times, values, strict=True) if t >= end - window]
    return statistics.fmean(first), statistics.fmean(last)


def _slope(times: list[float], values: list[float]) -> tuple[float, float]:
    """Least-squares slope of ``values`` over ``times`` (seconds) in units a minute, with its
    standard error."""
    minutes = [t / 60 for t in times]
    if len(minutes) < 3:
        return 0.0, 0.0
    fit = statistics.linear_regression(minutes, values)
    residuals = [v - fit.intercept - fit.slope * x for x, v in zip(minutes, values, strict=True)]
    spread = sum((x - statistics.fmean(minutes)) ** 2 for x in minutes)
    error = (sum(r * r for r in residuals) / (len(minutes) - 2) / spread) ** 0.5
    return fit.slope, error


def _trend(times: list[float], values: list[float], window: float) -> dict[str, float]:
    """First and last window means and their difference, the slope over the second half of
    the run (MB a minute, with its standard error) and the peak of a series in MB."""
    first, last = _window_means(times, values, window)
    half = times[-1] / 2
    late = [(t, v) for t, v in zip(times, values, strict=True) if t >= half]
    slope, error = _slope([t for t, _ in late], [v for _, v in late])
    return {
        "first_mb": round(first, 1),
        "last_mb": round(last, 1),
        "growth_mb": round(last - first, 1),
        "late_slope_mb_per_min": round(slope, 2),
        "late_slope_error": round(error, 2),
        "peak_mb": round(max(values), 1),
    }


def memory_summary(samples: list[Sample], window: float, supervisor: int) -> dict[str, Any]:
    """The trend of each measure summed over the gateway's processes and per process (a
    replaced worker shows as an extra pid), and the summed series."""
    times = [t for t, _ in samples]

    def series(key: str, pids: set[int] | None = None) -> list[float]:
        return [
            sum(m[key] for p, m in memory.items() if pids is None or p in pids) / MB
            for _, memory in samples
        ]

    processes = [
        {
            "pid": pid,
            "role": "supervisor" if pid == supervisor else "child",
            **{name: _trend(times, series(key, {pid}), window) for name, key in MEASURES.items()},
        }
        for pid in sorted({p for _, memory in samples for p in memory})
    ]
    return {
        "samples": len(samples),
        "window_seconds": round(window),
        "processes": max(len(memory) for _, memory in samples),
        **{name: _trend(times, series(key), window) for name, key in MEASURES.items()},
        "by_process": processes,
        "series_mb": [
            [round(t, 1), *(round(v, 1) for v in values)]
            for t, *values in zip(times, *(series(k) for k in MEASURES.values()), strict=True)
        ],
    }
