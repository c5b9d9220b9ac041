#!/usr/bin/env python3
"""compare.py OLD_DIR NEW_DIR: two ci/bench.sh result directories side by side.

For chat-bench it shows each benchmark's median CPU time (and the `ratio` counter where there
is one); for each chat-loadgen run, its headline figures. Standard library only.
"""
import json
import pathlib
import sys

LOADGEN_KEYS = [
    "deliveries_per_second", "all_deliveries_per_second", "server_cpu_per_delivery_us",
    "p50_ms", "p99_ms", "max_ms", "server_rss_per_connection_kib", "connections_per_second",
    "server_cpu_per_connection_ms", "server_peak_rss_kib", "one_room_deliveries_per_second",
    "ratio", "server_rss_per_room_full_kib",
]


def bench_rows(directory):
    path = directory / "chat-bench.json"
    if not path.exists():
        return {}
    rows = {}
    for b in json.loads(path.read_text())["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        rows[name] = (b["cpu_time"], b.get("time_unit", "ns"), b.get("ratio"))
    return rows


def loadgen_runs(directory):
    runs = {}
    for path in sorted(directory.glob("loadgen-*.json")):
        doc = json.loads(path.read_text())
        runs[path.stem] = doc
    return runs


def change(old, new):
    return f"{(new - old) / old * 100:+.1f}%" if old else ""


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old_dir, new_dir = map(pathlib.Path, sys.argv[1:])
    old, new = bench_rows(old_dir), bench_rows(new_dir)
    print(f"{'chat-bench (median CPU time)':48} {'old':>14} {'new':>14} {'change':>8}")
    for name in new:
        if name not in old:
            continue
        (o, unit, o_ratio), (n, _, n_ratio) = old[name], new[name]
        print(f"{name:48} {o:>11.1f} {unit:2} {n:>11.1f} {unit:2} {change(o, n):>8}")
        if o_ratio is not None and n_ratio is not None:
            print(f"{'  ratio to floor':48} {o_ratio:>14.3f} {n_ratio:>14.3f}")
    old_runs, new_runs = loadgen_runs(old_dir), loadgen_runs(new_dir)
    for run, doc in new_runs.items():
        if run not in old_runs:
            continue
        before = old_runs[run]
        print(f"\n{run}: verified {before['verified']} -> {doc['verified']}; "
              f"load {before['loadavg_start']} -> {doc['loadavg_start']}")
        for key in LOADGEN_KEYS:
            if key in doc["results"] and key in before["results"]:
                o, n = before["results"][key], doc["results"][key]
                print(f"  {key:40} {o:>14.3f} {n:>14.3f} {change(o, n):>8}")


if __name__ == "__main__":
    main()
