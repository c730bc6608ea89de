#!/usr/bin/env python3
"""Turns the raw results of scripts/bench.sh into docs/benchmarks/: results.json (everything),
README.md (tables, the issue-8 goals and a plain verdict for each) and PNG charts via gnuplot.
Usage: bench-report.py RESULTS_DIR OUT_DIR
The results.json already in OUT_DIR (the previous run), if any, is the baseline of a section that
sets this run's figures beside it; the previous README.md is kept as history/README-<commit>.md."""
import json
import os
import shutil
import statistics
import subprocess
import sys

results, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def load_json(name, default=None):
    path = os.path.join(results, name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return default
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError:
        return default


def load_lines(name):
    path = os.path.join(results, name)
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return rows


def read_text(name):
    path = os.path.join(results, name)
    return open(path).read().strip() if os.path.exists(path) else ""


def mib(b):
    return None if b is None else b / (1 << 20)


def f(v, digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


machine = load_json("machine.json", {})
baseline = None
_previous = os.path.join(out, "results.json")
if os.path.exists(_previous):
    try:
        with open(_previous) as fh:
            baseline = json.load(fh)
    except ValueError:
        baseline = None
    _prev_commit = ((baseline or {}).get("machine") or {}).get("commit")
    if not _prev_commit or _prev_commit == machine.get("commit"):
        baseline = None  # a rerun of the same commit replaces it
    elif os.path.exists(os.path.join(out, "README.md")):
        os.makedirs(os.path.join(out, "history"), exist_ok=True)
        shutil.copyfile(os.path.join(out, "README.md"), os.path.join(out, "history", f"README-{_prev_commit}.md"))
compare = load_lines("compare.jsonl")
for _r in compare:
    _r.setdefault("shape", "leader")  # runs before issue 19 sent every request to the leader
idle = load_lines("idle.jsonl")
summary = {"machine": machine, "compare": compare, "idle": idle}
md = []
verdicts = []
verdicts19 = []
md.append("# HaMaster benchmarks (issue 8)")
md.append("")
md.append("Produced by `scripts/bench.sh` (" + ("quick smoke run" if machine.get("quick") else "full run") + f") on {machine.get('date', '?')}, "
          f"commit {machine.get('commit', '?')}, {machine.get('cores', '?')} cores, {machine.get('etcdVersion', 'etcd ?')}, .NET {machine.get('dotnet', '?')}.")
md.append("Both systems run as three processes on 127.0.0.1 of the same machine, default durability (fsync on) and default "
          "Raft timing (HaMaster 100 ms x 10 ticks, etcd 100 ms heartbeat / 1000 ms election), driven by the same generator "
          "(`hamaster-bench` on Grpc.Net.Client, closed loop, one raw attempt per request) in two client shapes: *spread* "
          "(round-robin over all three members, as a client that knows only the seed list: HaMaster followers forward writes and serve "
          "linearizable reads by ReadIndex) and *leader* (every request to the current leader). The issue-8 tables and goals below use the "
          "leader shape, as they always did; the issue-19 section shows both.")
md.append("")
md.append(f"**Machine load**: the benchmark, both clusters and the load generator share one 2-core machine; `uptime` at the start: `{machine.get('uptimeAtStart', '?')}`. "
          "Each row below records the load average when its round started. Absolute figures are noisy (runs of the same code "
          "vary by about 15%); the ratios compare the two systems under the same conditions, round by round.")
md.append("")

header_len = len(md)

# ------------------------------------------------------------------ compare
by = {}
for r in compare:
    if r["shape"] == "leader":
        by[(r["workload"], r["target"], r["concurrency"])] = r
workloads = [w for w in ["write", "read", "read-stale", "list", "mixed"] if any(k[0] == w for k in by)]
ratios = {}
if workloads:
    md.append("## HaMaster vs etcd (every request to the leader)")
    md.append("")
    md.append("write: `CreateFile` (new files over 16 directories) vs `Put` (16-byte key, 100-byte value); read: linearizable `GetStatus` vs linearizable `Range`; "
              "read-stale: stale `GetStatus` vs serializable `Range`; list: `ListStatus` of a 100-entry directory vs prefix `Range` limit 100; mixed: 90% read / 10% write. "
              "Latencies in ms.")
    md.append("")
    md.append("| workload | in flight | HaMaster ops/s | p50 | p99 | p99.9 | errors | etcd ops/s | p50 | p99 | p99.9 | errors | ratio HaMaster/etcd | load avg |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for w in workloads:
        for c in sorted({k[2] for k in by if k[0] == w}):
            h, e = by.get((w, "hamaster", c)), by.get((w, "etcd", c))
            ratio = h["opsPerSecond"] / e["opsPerSecond"] if h and e and e["opsPerSecond"] > 0 else None
            ratios[(w, c)] = ratio

            def cells(r):
                return [f(r["opsPerSecond"]), f(r["p50Ms"], 2), f(r["p99Ms"], 2), f(r["p999Ms"], 2), f(r["errors"])] if r else ["n/a"] * 5

            load = (h or e or {}).get("load", "")
            md.append("| " + " | ".join([w, str(c)] + cells(h) + cells(e) + [f(ratio, 2) + "x" if ratio else "n/a", load]) + " |")
    md.append("")
    md.append("![throughput vs concurrency](throughput.png)")
    md.append("")

    def goal_ratio(workload, levels, need, label):
        got = {c: ratios.get((workload, c)) for c in levels}
        if any(v is None for v in got.values()):
            verdicts.append((label, "NOT MEASURED", "missing rounds: " + ", ".join(str(c) for c, v in got.items() if v is None)))
            return
        met = all(v >= need for v in got.values())
        text = ", ".join(f"{v:.2f}x at {c}" for c, v in got.items())
        verdicts.append((label, "MET" if met else "MISSED", text))

    goal_ratio("write", [16, 64, 256], 1.0, "Writes: CreateFile >= 1.0x etcd Put at every concurrency >= 16")
    goal_ratio("read", [64, 256], 1.5, "Reads: linearizable GetStatus >= 1.5x etcd linearizable Range at 64 and 256")

    # Chart data: one block per (workload, target) series.
    dat = os.path.join(out, "throughput.dat")
    series = []
    with open(dat, "w") as fh:
        for w in ["write", "read", "read-stale", "list", "mixed"]:
            for t in ["hamaster", "etcd"]:
                rows = sorted((k[2], by[k]["opsPerSecond"]) for k in by if k[0] == w and k[1] == t)
                if not rows:
                    continue
                fh.write(f"# {t} {w}\n")
                for c, ops in rows:
                    fh.write(f"{c} {ops}\n")
                fh.write("\n\n")
                series.append(f"{t} {w}")
    summary["throughputSeries"] = series

# ------------------------------------------------------------------ client shapes and CPU (issue 19)
WORKLOAD_ORDER = ["write", "read", "read-stale", "list", "mixed"]
WORKLOAD_LABEL = {"write": "write", "read": "linearizable read", "read-stale": "stale read", "list": "list", "mixed": "mixed (90% reads)"}


def cpu_ratio(h, e):
    """HaMaster's server CPU per operation over etcd's (lower is better for HaMaster)."""
    hc, ec = (h or {}).get("serverCpuMsPerOp"), (e or {}).get("serverCpuMsPerOp")
    return hc / ec if hc is not None and ec else None


def ops_ratio(h, e):
    return h["opsPerSecond"] / e["opsPerSecond"] if h and e and e["opsPerSecond"] > 0 else None


def issue19_verdicts(rows, idle_rows):
    """The issue-19 goals, judged from the spread-shape compare rows and the idle rows: [(goal, verdict, figures)]."""
    sp = {(r["workload"], r["target"], r["concurrency"]): r for r in rows if r.get("shape") == "spread"}
    out = []

    def pair(w, c):
        return sp.get((w, "hamaster", c)), sp.get((w, "etcd", c))

    def cpu_goal(w, levels, limit, label):
        got = {c: cpu_ratio(*pair(w, c)) for c in levels}
        missing = [str(c) for c, v in got.items() if v is None]
        if missing:
            out.append((label, "NOT MEASURED", "no server CPU figures at " + ", ".join(missing) + " in flight"))
            return
        text = ", ".join(f"{v:.2f}x at {c}" for c, v in got.items())
        out.append((label, "MET" if all(v <= limit for v in got.values()) else "MISSED", text))

    def throughput_goal(w, levels, need, label):
        got = {c: ops_ratio(*pair(w, c)) for c in levels}
        missing = [str(c) for c, v in got.items() if v is None]
        if missing:
            out.append((label, "NOT MEASURED", "missing rounds at " + ", ".join(missing) + " in flight"))
            return
        text = ", ".join(f"{v:.2f}x at {c}" for c, v in got.items())
        by_ratio = "MET" if all(v >= need for v in got.values()) else "MISSED"
        sat = [(c, r.get("saturation") or "saturated") for c in levels for r in pair(w, c) if r and r.get("generatorSaturated")]
        if sat:
            # The goal holds for an unsaturated generator only: a saturated case does not decide it.
            at = ", ".join(str(c) for c in sorted({c for c, _ in sat}))
            why = "; ".join(sorted({reason for _, reason in sat}))
            out.append((label, "NOT MEASURED", f"{text}; by the ratios alone {by_ratio}, but the generator was saturated at {at} in flight ({why})"))
        else:
            out.append((label, by_ratio, text))

    cpu_goal("write", [16, 64, 256], 0.67, "Spread: server CPU per write <= 0.67x etcd's at 16, 64 and 256 in flight")
    cpu_goal("read", [16, 64, 256], 0.5, "Spread: server CPU per linearizable read <= 0.5x etcd's at 16, 64 and 256 in flight")
    label = "Spread: at 1 write in flight, server CPU per write <= 1.0x etcd's and p50 <= etcd's"
    h, e = pair("write", 1)
    r = cpu_ratio(h, e)
    if r is None:
        out.append((label, "NOT MEASURED", "no server CPU figures at 1 in flight"))
    else:
        out.append((label, "MET" if r <= 1.0 and h["p50Ms"] <= e["p50Ms"] else "MISSED",
                    f"CPU {r:.2f}x (etcd {e['serverCpuMsPerOp']:.3f} / HaMaster {h['serverCpuMsPerOp']:.3f} ms per write), "
                    f"p50 etcd {e['p50Ms']:.2f} / HaMaster {h['p50Ms']:.2f} ms"))
    label = "Idle: CPU per master <= etcd's (busiest HaMaster master vs busiest etcd member)"
    hm = [x["cpuPercentOfOneCore"] for x in idle_rows if x.get("target") == "hamaster"]
    et = [x["cpuPercentOfOneCore"] for x in idle_rows if x.get("target") == "etcd"]
    if not hm or not et:
        out.append((label, "NOT MEASURED", "no idle figures"))
    else:
        out.append((label, "MET" if max(hm) <= max(et) else "MISSED",
                    "HaMaster " + ", ".join(f"{v:.2f}" for v in hm) + " % of a core; etcd " + ", ".join(f"{v:.2f}" for v in et) + " %"))
    throughput_goal("write", [16, 64, 256], 1.5, "Spread, generator not saturated: writes >= 1.5x etcd at 16, 64 and 256 in flight")
    throughput_goal("read", [16, 64, 256], 2.0, "Spread, generator not saturated: linearizable reads >= 2.0x etcd at 16, 64 and 256 in flight")
    return out


def shape_table(rows, shape):
    """Markdown rows of the issue-19 table for one client shape."""
    sh = {(r["workload"], r["target"], r["concurrency"]): r for r in rows if r.get("shape") == shape}
    lines = ["| case | etcd ops/s | HaMaster ops/s | ratio | server CPU per op, etcd / HaMaster (ms) | CPU ratio | p50 etcd / HaMaster (ms) | "
             "p99 etcd / HaMaster (ms) | generator CPU etcd / HaMaster (cores) | machine busy etcd / HaMaster | note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for w in WORKLOAD_ORDER:
        for c in sorted({k[2] for k in sh if k[0] == w}):
            h, e = sh.get((w, "hamaster", c)), sh.get((w, "etcd", c))
            ratio, cr = ops_ratio(h, e), cpu_ratio(h, e)

            def g(r, key, digits):
                return f((r or {}).get(key), digits) if (r or {}).get(key) is not None else "n/a"

            def pct(r):
                v = (r or {}).get("machineBusyFraction")
                return "n/a" if v is None else f"{v * 100:.0f}%"

            sat = {r["target"]: r.get("saturation") or "saturated" for r in (e, h) if r and r.get("generatorSaturated")}
            if len(sat) == 2 and len(set(sat.values())) == 1:
                notes = [f"generator saturated (both: {next(iter(sat.values()))})"]
            else:
                notes = [f"{t}: generator saturated ({why})" for t, why in sat.items()]
            notes += [f"{r['target']}: {r['errors']:,} errors" for r in (e, h) if r and r.get("errors")]
            lines.append(f"| {WORKLOAD_LABEL.get(w, w)}, {c} | {g(e, 'opsPerSecond', 1)} | {g(h, 'opsPerSecond', 1)} | {f(ratio, 2) + 'x' if ratio else 'n/a'} | "
                         f"{g(e, 'serverCpuMsPerOp', 3)} / {g(h, 'serverCpuMsPerOp', 3)} | {f(cr, 2) + 'x' if cr else 'n/a'} | "
                         f"{g(e, 'p50Ms', 2)} / {g(h, 'p50Ms', 2)} | {g(e, 'p99Ms', 2)} / {g(h, 'p99Ms', 2)} | "
                         f"{g(e, 'generatorCpuCores', 2)} / {g(h, 'generatorCpuCores', 2)} | {pct(e)} / {pct(h)} | {'; '.join(notes)} |")
    return lines


shapes_present = [s for s in ["spread", "leader"] if any(r["shape"] == s and "serverCpuMsPerOp" in r for r in compare)]
if shapes_present or idle:
    md.append("## Client shapes and server CPU per operation (issue 19)")
    md.append("")
    md.append("Server CPU per operation = the utime + stime of all three server processes (from `/proc/PID/stat`) over the measured "
              "interval, divided by the operations completed in it; it survives a busy machine better than ops/s. Generator CPU = the load "
              "generator's own utime + stime over the interval, in cores. A case is marked *generator saturated* when the generator used "
              "at least 90% of the cores it may use, or the whole machine was at least 90% busy (`/proc/stat`), so that throughput may be "
              "the generator's limit rather than the servers'. Ratios are HaMaster / etcd.")
    md.append("")
    for shape in shapes_present:
        md.append("### Spread over all three members (the default)" if shape == "spread" else "### Every request to the leader")
        md.append("")
        md.extend(shape_table(compare, shape))
        md.append("")
    if idle:
        md.append("### Idle (no load, 10 s, after the 20 s warm-up and a 10 s settle)")
        md.append("")
        md.append("| member | etcd role | etcd CPU (% of a core) | HaMaster role | HaMaster CPU (% of a core) |")
        md.append("|---:|---|---:|---|---:|")
        for m in sorted({x["member"] for x in idle}):
            e = next((x for x in idle if x["member"] == m and x["target"] == "etcd"), {})
            h = next((x for x in idle if x["member"] == m and x["target"] == "hamaster"), {})
            md.append(f"| {m} | {e.get('role', 'n/a')} | {f(e.get('cpuPercentOfOneCore'), 2)} | {h.get('role', 'n/a')} | {f(h.get('cpuPercentOfOneCore'), 2)} |")
        md.append("")
if any(r["shape"] == "spread" for r in compare) or idle:
    verdicts19 = issue19_verdicts(compare, idle)

# ------------------------------------------------------------------ failover
fail = {}
for target in ["hamaster", "etcd"]:
    probe = load_json(f"failover-{target}-probe.json")
    kills = load_lines(f"failover-{target}-kills.jsonl")
    if not probe or not kills:
        continue
    windows = []
    for k in kills:
        at = k["atUnixMs"]
        # The window a kill caused: the longest gap that was still open at the kill and began no
        # later than 5 s after it (a restart-related stall after the kill is charged to it too).
        cands = [g["milliseconds"] for g in probe["gaps"] if g["startUnixMs"] <= at + 5000 and g["endUnixMs"] >= at] or [0.0]
        windows.append(max(cands))
    fail[target] = {"windowsMs": windows, "medianMs": statistics.median(windows), "maxMs": max(windows), "writes": probe["operations"], "errors": probe["errors"], "gaps": probe["gaps"], "kills": kills}
summary["failover"] = fail
if fail:
    md.append("## Failover (SIGKILL the leader under steady writes)")
    md.append("")
    md.append("8 writers, each with one raw write in flight to its current member (1 s deadline; on failure it moves to the next member at once); "
              "the leader is killed with SIGKILL, restarted once a new leader exists, and the next kill follows a few seconds later. "
              "A window is the longest interval without any successful write that covers the kill (gaps under 100 ms are not recorded, so 0 means < 100 ms). "
              f"Load average: `{read_text('failover-load.txt')}`.")
    md.append("")
    md.append("| system | window per kill (ms) | median (ms) | max (ms) | successful writes | failed attempts |")
    md.append("|---|---|---:|---:|---:|---:|")
    for t, v in fail.items():
        md.append(f"| {t} | {', '.join(f(x, 0) for x in v['windowsMs'])} | {f(v['medianMs'], 0)} | {f(v['maxMs'], 0)} | {f(v['writes'])} | {f(v['errors'])} |")
    md.append("")
    if "hamaster" in fail:
        hmed = fail["hamaster"]["medianMs"]
        emed = fail.get("etcd", {}).get("medianMs")
        met = hmed < 1000 and (emed is None or hmed <= emed)
        verdicts.append(("Failover: median write-unavailability < 1 s and never worse than etcd's median",
                         "MET" if met else "MISSED", f"HaMaster median {hmed:.0f} ms, etcd median {f(emed, 0)} ms"))

# ------------------------------------------------------------------ scale
samples = load_lines("scale-samples.jsonl")
load_report = load_json("scale-load.json")
times = load_json("scale-times.json")
getstatus = load_json("scale-getstatus.json")
if samples and times:
    loaded = [s for s in samples if s["label"] == "loaded"]
    summary["scale"] = {"samples": samples, "load": load_report, "times": times, "getStatus": getstatus}
    n = times["inodesTarget"]
    bulk = bool(load_report) and load_report.get("workload") == "bulk-load"
    md.append(f"## Scale ({n:,} files through {'CreateFiles' if bulk else 'CreateFile'})")
    md.append("")
    md.append(("Loaded through the bulk API (CreateFiles of 1,000 files, one per directory, 8 calls in flight: one log entry per call). " if bulk
               else "Loaded with the write workload (256 in flight, raw to the leader, 1,000 files per directory). ") + "Measured at rest after every master applied the load. "
              f"Load average after the load: `{times.get('load', '?')}`.")
    md.append("")
    if load_report:
        how = " (latency per call of 1,000)" if bulk else ""
        md.append(f"- create rate during the load{how}: **{f(load_report['opsPerSecond'])} creates/s** ({f(load_report['operations'])} creates in {f(load_report['seconds'])} s, "
                  f"{f(load_report['errors'])} errors; p50 {f(load_report['p50Ms'], 2)} ms, p99 {f(load_report['p99Ms'], 2)} ms)")
    if getstatus:
        md.append(f"- linearizable `GetStatus` at this size (16 in flight): p50 {f(getstatus['p50Ms'], 2)} ms, **p99 {f(getstatus['p99Ms'], 2)} ms**, {f(getstatus['opsPerSecond'])} ops/s")
    if times.get("settleAfterLoadMs") is not None:
        md.append(f"- after the load the masters compacted for {times['settleAfterLoadMs'] / 1000:.0f} s before they were quiet (under 10% of a core together); the rows and `GetStatus` below were measured then")
    md.append(f"- restart of a follower (SIGTERM, start again) to serving (`HAMASTER READY`): **{times['restartToServingMs'] / 1000:.2f} s**; to caught up (`/readyz`): {times['restartToCaughtUpMs'] / 1000:.2f} s")
    md.append(f"- a fresh master (`--join`, then `hamaster cluster add`, returns once it is a voter, i.e. caught up by snapshot): **{times['joinToVoterMs'] / 1000:.2f} s** (ok: {times['joinOk']}; "
              f"its applied index {times.get('joinedStatus', {}).get('appliedIndex', '?')}, inodes {times.get('joinedStatus', {}).get('inodes', '?')})")
    md.append("")
    md.append("Rows marked *after snapshot* were taken after `hamaster cluster snapshot`; the others right after the load. SST bytes count only flushed data "
              "(recent writes may sit in memtables and the RocksDB WAL); the RocksDB directory (SST + WAL) is what the metadata occupies on disk. "
              "The data directory also holds the Raft log segments (preallocated, compacted behind snapshots) and snapshot checkpoints (hard links).")
    md.append("")
    md.append("| master | inodes | RSS (MiB) | managed heap (MiB) | RocksDB SST bytes | SST bytes/inode | RocksDB dir bytes/inode | data dir bytes/inode (all) |")
    md.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in loaded + [s for s in samples if s["label"] == "snapshotted"]:
        per = s["sstBytes"] / s["inodes"] if s.get("sstBytes") and s["inodes"] else None
        dper = s["dataDirBytes"] / s["inodes"] if s["inodes"] else None
        mper = s["metastoreBytes"] / s["inodes"] if s.get("metastoreBytes") and s["inodes"] else None
        md.append(f"| {s['master']}{' (after snapshot)' if s['label'] == 'snapshotted' else ''} | {f(s['inodes'])} | {f(mib(s['rssBytes']))} | {f(mib(s['heapBytes']))} | {f(s.get('sstBytes'))} | {f(per)} | {f(mper)} | {f(dper)} |")
    md.append("")
    md.append("![RSS vs inodes](rss.png)")
    md.append("")
    with open(os.path.join(out, "rss.dat"), "w") as fh:
        for m in [1, 2, 3]:
            fh.write(f"# master {m}\n")
            for s in samples:
                if s["master"] == m and s.get("rssBytes"):
                    fh.write(f"{s['inodes']} {mib(s['rssBytes']):.1f}\n")
            fh.write("\n\n")
    max_rss = max((mib(s["rssBytes"]) or 0) for s in loaded) if loaded else None
    snap = [s for s in samples if s["label"] == "snapshotted"]
    # The disk goal counts the RocksDB directory (SST + WAL) when sampled, else the SST files alone.
    per_inode = [s["metastoreBytes"] / s["inodes"] for s in (snap or loaded) if s.get("metastoreBytes") and s["inodes"]]
    disk_what = "RocksDB directory (SST + WAL)"
    if not per_inode:
        per_inode = [s["sstBytes"] / s["inodes"] for s in (snap or loaded) if s.get("sstBytes") and s["inodes"]]
        disk_what = "RocksDB SST"
    # Issue 8's goals hold at 10 million inodes; issue 19's (stricter on disk, plus GetStatus) at 100 million.
    at100m = n >= 100_000_000
    goal_n = "100 million" if at100m else "10 million"
    at_goal = n >= 10_000_000
    scope = "" if at_goal else f" (measured at {n:,} inodes, not at 10 million: the goal is not established by this run)"
    max_rss_all = max((mib(s["rssBytes"]) or 0) for s in loaded + snap) if loaded else None
    verdicts.append((f"Scale: RSS under 1 GiB per master at {goal_n} inodes",
                     ("MET" if max_rss_all is not None and max_rss_all < 1024 else "MISSED") if at_goal else "NOT MEASURED",
                     f"largest RSS {f(max_rss_all)} MiB (right after the load {f(max_rss)} MiB){scope}"))
    verdicts.append((f"Scale: restart to serving under 10 s at {goal_n} inodes",
                     ("MET" if times["restartToServingMs"] < 10000 else "MISSED") if at_goal else "NOT MEASURED",
                     f"{times['restartToServingMs'] / 1000:.2f} s{scope}"))
    disk_goal = 64 if at100m else 200
    verdicts.append((f"Scale: disk under {disk_goal} bytes per inode",
                     ("MET" if per_inode and max(per_inode) < disk_goal else "MISSED") if per_inode else "NOT MEASURED",
                     (f"{disk_what} {max(per_inode):.0f} bytes/inode" if per_inode else "no disk figure") + scope))
    if at100m and getstatus:
        verdicts.append(("Scale: linearizable GetStatus p99 under 5 ms at 100 million inodes",
                         "MET" if getstatus["p99Ms"] < 5 else "MISSED", f"p99 {getstatus['p99Ms']:.2f} ms, p50 {getstatus['p50Ms']:.2f} ms"))

# ------------------------------------------------------------------ workers + clients
procs = [load_json(f"workers-process-{p}.json") for p in (1, 2, 3)]
procs = [p for p in procs if p]
masters = load_lines("workers-masters.jsonl")
wsamples = load_lines("workers-samples.jsonl")
if procs:
    summary["workers"] = {"processes": procs, "masters": masters, "samples": wsamples}
    workers = sum(p["workers"] for p in procs)
    clients = sum(p["clients"] for p in procs)
    hb = sum(p["heartbeats"] for p in procs)
    calls = sum(p["statusCalls"] for p in procs)
    errors = sum(p["heartbeatErrors"] + p["statusErrors"] + p["connectErrors"] for p in procs)
    # Percentiles cannot be merged exactly across processes: report the worst process's.
    p99 = max(p["statusP99Ms"] for p in procs)
    hb_p99 = max((p["heartbeatP99Ms"] for p in procs if p["workers"]), default=0)
    md.append(f"## Workers and clients ({workers:,} workers heartbeating every 1 s + {clients:,} clients, one HTTP/2 connection each, GetStatus every 10 s)")
    md.append("")
    md.append(f"Three load processes (the machine caps open files at 20,000 per process), each with {procs[0]['clients']:,} client connections spread over the three masters; "
              f"the workers are split evenly over them. \"own GC pause\" is the time the load process itself was stopped by its garbage collector during the measured phase "
              f"(requests in flight then look slower than the masters made them). Load average at the end: `{read_text('workers-load.txt')}`.")
    md.append("")
    md.append("| process | workers | clients connected | heartbeats | hb errors | hb p50 | hb p99 | GetStatus calls | errors | p50 | p99 | p99.9 | max | connect errors | own GC pause (s) | first error |")
    md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for i, p in enumerate(procs, 1):
        md.append(f"| {i} | {p['workers']} | {p['connectedClients']:,} / {p['clients']:,} | {f(p['heartbeats'])} | {f(p['heartbeatErrors'])} | {f(p['heartbeatP50Ms'], 2)} | {f(p['heartbeatP99Ms'], 2)} | "
                  f"{f(p['statusCalls'])} | {f(p['statusErrors'])} | {f(p['statusP50Ms'], 2)} | {f(p['statusP99Ms'], 2)} | {f(p['statusP999Ms'], 2)} | {f(p['statusMaxMs'], 1)} | {f(p['connectErrors'])} | {f(p['loadGcPauseMs'] / 1000, 1) if p.get('loadGcPauseMs') is not None else '-'} | {(p.get('firstError') or '')[:80]} |")
    md.append("")
    md.append("| master | CPU seconds | CPU (% of one core) | peak RSS (MiB) | peak open fds | GC pause (s, process life) | GCs | linearizable reads per ReadIndex |")
    md.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in masters:
        ss = [s for s in wsamples if s["master"] == m["master"]]
        peak = max((s["rssBytes"] or 0 for s in ss), default=None)
        fds = max((s["openFds"] for s in ss), default=None)
        per_read_index = (m["linearizableReads"] / m["readIndexRequests"]) if m.get("readIndexRequests") else None
        md.append(f"| {m['master']} | {f(m['cpuSeconds'])} | {f(m['cpuPercentOfOneCore'])} | {f(mib(peak))} | {f(fds)} | "
                  f"{f(m.get('gcPauseSeconds'), 1)} | {f(m.get('gcCollections'))} | {f(per_read_index, 1)} |")
    md.append("")
    loadgen = load_lines("workers-loadgen.jsonl")
    if loadgen:
        md.append("Load-generator processes' CPU seconds (all three share the same 2 cores with the masters): "
                  + ", ".join(f"process {g['process']}: {g['cpuSeconds']:.1f} s" for g in loadgen)
                  + "; connection set-up (64 at a time, before the measured phase): "
                  + ", ".join(f"{p.get('connectSeconds', 0):.1f} s" for p in procs) + ".")
        md.append("")
    verdicts.append(("Workers/clients: zero errors, p99 under 100 ms",
                     "MET" if errors == 0 and p99 < 100 and hb_p99 < 100 else "MISSED",
                     f"{errors} errors, GetStatus p99 {p99:.1f} ms (worst process), heartbeat p99 {hb_p99:.1f} ms; {hb:,} heartbeats, {calls:,} GetStatus"
                     + ("" if workers >= 3000 and clients >= 30000 else f" (reduced fleet: {workers} workers, {clients} clients)")))

# ------------------------------------------------------------------ ufs (issue 18)
# The CLI prints protobuf JSON, where 64-bit counters are strings.
ufs = [{k: (int(v) if isinstance(v, str) and v.isdigit() else v) for k, v in r.items()} for r in load_lines("ufs.jsonl")]
if ufs:
    summary["ufs"] = ufs
    listing = next((r for r in ufs if r.get("kind") == "first-listing"), None)
    loading = next((r for r in ufs if r.get("kind") == "sync-load"), None)
    syncs = {r.get("round"): r for r in ufs if r.get("kind") == "sync"}
    latency = [r for r in ufs if r.get("kind") == "latency"]
    tree = (syncs.get("unchanged") or syncs.get("changed") or {}).get("treeEntries")
    md.append("## Mounted local store (issue 18)")
    md.append("")
    md.append("A local directory mounted with `file://` on the same machine. Times are measured around the CLI call (its start-up, ~0.3 s, included); "
              f"load average after the section: `{read_text('ufs-load.txt') or '?'}`.")
    md.append("")
    if listing:
        md.append(f"- first listing (`fs ls`, loads the directory from the store): **{f(listing['entries'])} entries in {listing['ms'] / 1000:.2f} s** = {f(listing.get('entriesPerSecond'))} entries/s")
    if loading:
        md.append(f"- loading the {f(tree)}-entry tree by a recursive sync: {f(loading.get('directories'))} directories, {f(loading.get('created'))} inodes created in "
                  f"{f(loading.get('logEntries'))} log entries, {f(loading.get('durationMs'))} ms")
    for name in ("unchanged", "changed"):
        s = syncs.get(name)
        if s:
            md.append(f"- recursive sync of the {name} tree{' (1% of the files rewritten)' if name == 'changed' else ''}: **{s.get('durationMs', 0) / 1000:.2f} s** "
                      f"({f(s.get('entriesCompared'))} entries compared, {f(s.get('logEntries', 0))} log entries proposed, {f(s.get('updated', 0))} updated, "
                      f"applied index +{f(s.get('appliedEntriesPerMaster'))} per master)")
    if latency:
        md.append("")
        md.append("| call | metadata | calls | mean (ms) | p50 (ms) | p99 (ms) | max (ms) |")
        md.append("|---|---|---:|---:|---:|---:|---:|")
        for r in latency:
            md.append(f"| {'GetStatus' if r['op'] == 'stat' else 'ListStatus (first page of 100)'} | {'not loaded (loads now)' if r['phase'] == 'before' else 'loaded'} | "
                      f"{f(r['calls'])} | {f(r['meanMs'], 2)} | {f(r['p50Ms'], 2)} | {f(r['p99Ms'], 2)} | {f(r['maxMs'], 2)} |")
    md.append("")
    if listing:
        big = listing["entries"] >= 100000
        verdicts.append(("Mounts: first listing of 100,000 store entries under 10 s",
                         ("MET" if listing["ms"] < 10000 else "MISSED") if big else "NOT MEASURED",
                         f"{f(listing['entries'])} entries in {listing['ms'] / 1000:.2f} s"))
    s = syncs.get("unchanged")
    if s:
        full = (s.get("treeEntries") or 0) >= 1000000
        ok = s.get("logEntries", 0) == 0 and s.get("durationMs", 0) < 60000
        verdicts.append(("Mounts: unchanged sync of 1,000,000 entries journals nothing, under 60 s",
                         ("MET" if ok else "MISSED") if full else "NOT MEASURED",
                         f"{f(s.get('treeEntries'))} entries: {f(s.get('logEntries', 0))} log entries, {s.get('durationMs', 0) / 1000:.2f} s"
                         + ("" if full else " (smaller tree: --quick)")))

# ------------------------------------------------------------------ goals
goal_lines = ["## Goals (issue 8) and verdicts", "", "| goal | verdict | figures |", "|---|---|---|"]
for label, verdict, text in verdicts:
    goal_lines.append(f"| {label} | **{verdict}** | {text} |")
goal_lines.append("")
if verdicts19:
    goal_lines += ["## Goals (issue 19) and verdicts", "",
                   "Judged on the spread shape (clients that know only the seed list); CPU figures are server CPU per operation, HaMaster / etcd.", "",
                   "| goal | verdict | figures |", "|---|---|---|"]
    for label, verdict, text in verdicts19:
        goal_lines.append(f"| {label} | **{verdict}** | {text} |")
    goal_lines.append("")
md[header_len:header_len] = goal_lines
summary["verdicts"] = [{"goal": a, "verdict": b, "figures": c} for a, b, c in verdicts]
summary["verdictsIssue19"] = [{"goal": a, "verdict": b, "figures": c} for a, b, c in verdicts19]

# ------------------------------------------------------------------ against the previous run
if baseline:
    bm = baseline.get("machine", {})
    md.append(f"## Against the previous run (commit {bm.get('commit', '?')}, {bm.get('date', '?')})")
    md.append("")
    md.append("Same script, same machine, other days: absolute figures move with the machine's load (see each run's load "
              "averages); the ratio to etcd, measured round by round in each run, is the comparable figure. "
              f"The previous report is kept as `history/README-{bm.get('commit', '?')}.md`.")
    md.append("")
    old = {(r["workload"], r["target"], r["concurrency"]): r for r in baseline.get("compare", []) if r.get("shape", "leader") == "leader"}
    keys = sorted({(k[0], k[2]) for k in by} & {(k[0], k[2]) for k in old},
                  key=lambda k: (["write", "read", "read-stale", "list", "mixed"].index(k[0]) if k[0] in ["write", "read", "read-stale", "list", "mixed"] else 9, k[1]))
    if keys:
        md.append("| workload | in flight | HaMaster ops/s before | after | p99 ms before | after | ratio to etcd before | after |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for w, c in keys:
            hb, eb = old.get((w, "hamaster", c)), old.get((w, "etcd", c))
            ha = by.get((w, "hamaster", c))
            rb = hb["opsPerSecond"] / eb["opsPerSecond"] if hb and eb and eb["opsPerSecond"] else None
            ra = ratios.get((w, c))
            md.append(f"| {w} | {c} | {f(hb['opsPerSecond'] if hb else None)} | {f(ha['opsPerSecond'] if ha else None)} | "
                      f"{f(hb['p99Ms'] if hb else None, 2)} | {f(ha['p99Ms'] if ha else None, 2)} | "
                      f"{f(rb, 2) + 'x' if rb else 'n/a'} | {f(ra, 2) + 'x' if ra else 'n/a'} |")
        md.append("")
    bf, af = baseline.get("failover") or {}, summary.get("failover") or {}
    if bf.get("hamaster") and af.get("hamaster"):
        md.append(f"Failover median window: HaMaster {f(bf['hamaster'].get('medianMs'))} ms before, {f(af['hamaster'].get('medianMs'))} ms after "
                  f"(etcd {f((bf.get('etcd') or {}).get('medianMs'))} / {f((af.get('etcd') or {}).get('medianMs'))} ms).")
        md.append("")
    bw, aw = baseline.get("workers") or {}, summary.get("workers") or {}
    if bw.get("masters") and aw.get("masters"):
        def peak_rss(w):
            return max((s.get("rssBytes") or 0 for s in w.get("samples", [])), default=None)

        def worst(w, key):
            return max((p.get(key) or 0 for p in w.get("processes", [])), default=None)

        md.append(f"Workers/clients: GetStatus p99 (worst process) {f(worst(bw, 'statusP99Ms'), 1)} ms before, {f(worst(aw, 'statusP99Ms'), 1)} ms after; "
                  f"errors {f(sum(p.get('statusErrors', 0) + p.get('heartbeatErrors', 0) for p in bw.get('processes', [])))} before, "
                  f"{f(sum(p.get('statusErrors', 0) + p.get('heartbeatErrors', 0) for p in aw.get('processes', [])))} after; "
                  f"peak master RSS with every client connected {f(mib(peak_rss(bw)))} MiB before, {f(mib(peak_rss(aw)))} MiB after.")
        md.append("")
    if baseline.get("scale") and not summary.get("scale"):
        md.append(f"The scale section was not part of this run; its latest figures are in `history/README-{bm.get('commit', '?')}.md`.")
        md.append("")

notes = os.path.join(out, "ANALYSIS.md")
if os.path.exists(notes):
    md.append(open(notes).read().strip())
    md.append("")

with open(os.path.join(out, "README.md"), "w") as fh:
    fh.write("\n".join(md) + "\n")
with open(os.path.join(out, "results.json"), "w") as fh:
    json.dump(summary, fh, indent=2)

# ------------------------------------------------------------------ charts
if shutil.which("gnuplot"):
    if os.path.exists(os.path.join(out, "throughput.dat")) and summary.get("throughputSeries"):
        plots = []
        colors = {"write": "#d62728", "read": "#1f77b4", "read-stale": "#2ca02c", "list": "#9467bd", "mixed": "#ff7f0e"}
        for i, name in enumerate(summary["throughputSeries"]):
            target, workload = name.split(" ", 1)
            style = "dt 1 pt 7" if target == "hamaster" else "dt 2 pt 6"
            plots.append(f"'throughput.dat' index {i} with linespoints lw 2 {style} lc rgb '{colors.get(workload, 'black')}' title '{name}'")
        script = ("set terminal pngcairo size 1000,600\nset output 'throughput.png'\nset logscale x 2\nset xlabel 'requests in flight'\n"
                  "set ylabel 'ops/s (log scale)'\nset logscale y\nset key outside right\nset grid\nset title 'Throughput vs concurrency (HaMaster solid, etcd dashed; same colour = same workload)'\n"
                  "plot " + ", ".join(plots) + "\n")
        subprocess.run(["gnuplot"], input=script, text=True, cwd=out, check=False)
    if os.path.exists(os.path.join(out, "rss.dat")):
        script = ("set terminal pngcairo size 900,550\nset output 'rss.png'\nset xlabel 'inodes (millions)'\nset ylabel 'RSS (MiB)'\nset grid\nset key left top\n"
                  "set title 'Master RSS vs number of inodes'\n"
                  "plot 'rss.dat' index 0 using ($1/1e6):2 with linespoints title 'master 1', '' index 1 using ($1/1e6):2 with linespoints title 'master 2', '' index 2 using ($1/1e6):2 with linespoints title 'master 3'\n")
        subprocess.run(["gnuplot"], input=script, text=True, cwd=out, check=False)
print("\n".join(f"{b:12} {a}: {c}" for a, b, c in verdicts + verdicts19))
