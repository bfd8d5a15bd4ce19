"""The jurisdiction registry: load time and memory at start, and the per-request lookups.

    .venv/bin/python benchmarks/jurisdictions.py [--runs 7]

Load: each run loads the shipped files in a fresh interpreter (as a service does at start)
and reports the time of ``registry()`` (wall and CPU), the growth of the resident set, and
the memory a load keeps (tracemalloc, on a second load). Lookups: the checks services make
per request, timed side by side in interleaved rounds; "every code as a new list" is what
``visible_jurisdictions()`` did for a platform-wide caller before the scope was cached.
Medians over the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))

from shared.auth import ALL_JURISDICTIONS, Principal
from shared.jurisdictions import CODES_FILE, ZONES_FILE, registry

LOAD = """
import gc, json, os, time, tracemalloc
import shared.jurisdictions as j

def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

gc.collect()
before = rss()
start, cpu_start = time.perf_counter(), time.process_time()
codes = j.registry()
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
grown = rss() - before
tracemalloc.start()
again = j.load_registry()
kept, peak = tracemalloc.get_traced_memory()
print(json.dumps({"ms": seconds * 1000, "cpu_ms": cpu * 1000, "kept": kept, "peak": peak,
                  "rss": grown, "codes": len(codes)}))
"""


def who(*codes: str) -> Principal:
    return Principal(subject="b", roles=frozenset(), scopes=frozenset(), jurisdictions=codes)


def per_call_ns(function: Callable[[], object], number: int) -> float:
    return timeit.timeit(function, number=number) / number * 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    command = [sys.executable, "-c", LOAD]
    loads = [
        json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        for _ in range(args.runs)
    ]

    codes = registry()
    everyone, city, county = who(ALL_JURISDICTIONS), who("211100"), who("211102")
    checks: dict[str, Callable[[], object]] = {
        "can_access, platform-wide caller": lambda: everyone.can_access("211121"),
        "can_access, city caller, county code": lambda: city.can_access("211104"),
        "can_access, county caller, other county": lambda: county.can_access("211103"),
        "contains(city, zone)": lambda: codes.contains("211100", "211100-Z01"),
        "subtree(city)": lambda: codes.subtree("411700"),
        "ancestors_and_self(county)": lambda: codes.ancestors_and_self("411729"),
        "visible_jurisdictions, city caller": city.visible_jurisdictions,
        "visible_jurisdictions, platform-wide caller": everyone.visible_jurisdictions,
        "every code as a new list (before)": lambda: [j.code for j in codes.all(retired=True)],
    }
    timings: dict[str, list[float]] = {name: [] for name in checks}
    for _ in range(args.runs):
        for name, check in checks.items():  # interleaved: each round times every check once
            number = 50 if "before" in name else 20_000
            timings[name].append(per_call_ns(check, number))

    def median(key: str) -> float:
        values: list[float] = [run[key] for run in loads]
        return statistics.median(values)

    print(
        f"data: {CODES_FILE.name} {CODES_FILE.stat().st_size / 1024:.0f} KiB, {ZONES_FILE.name} "
        f"{ZONES_FILE.stat().st_size} B; {loads[0]['codes']} codes ({len(codes.codes())} in use)"
    )
    print(
        f"load (registry(), fresh interpreter, median of {args.runs}): {median('ms'):.1f} ms wall, "
        f"{median('cpu_ms'):.1f} ms CPU; memory kept {median('kept') / 2**20:.2f} MiB "
        f"(peak {median('peak') / 2**20:.2f} MiB), resident set +{median('rss') / 2**20:.1f} MiB"
    )
    for name, values in timings.items():
        print(f"{name:48s} {statistics.median(values):>12,.0f} ns")
    ratio = statistics.median(timings["every code as a new list (before)"]) / statistics.median(
        timings["visible_jurisdictions, platform-wide caller"]
    )
    print(f"platform-wide scope, before / now: {ratio:,.0f}x")


if __name__ == "__main__":
    main()
