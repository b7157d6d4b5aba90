#!/usr/bin/env python3
"""Helpers of bench/run.sh: CPU snapshots, result records, the table.

  report.py cpu-snap POSTMASTER_PID OUT.json
      CPU ticks of the postmaster and its children (HTTP workers apart) and
      of the whole machine (/proc/stat), with a monotonic timestamp.

  report.py add RESULTS.jsonl SCENARIO LABEL KIND TOOL_OUTPUT CPU_BEFORE CPU_AFTER TIME_FILE SAMPLE_FILE [EXTRA_JSON]
      Turn one tool run (KIND = wrk | openloop | locust) into a normalized
      record, with the server's, the load generator's and the rest of the
      machine's CPU over the run, and append it to RESULTS.jsonl.

  report.py render RESULTS.jsonl META.json OUT.md
      Print the table (plain text) and write it as Markdown.

  report.py readme LATEST.md README.md
      Put a short form of LATEST.md's table (the run's date, commit and
      dataset, then the main columns) between README.md's
      "<!-- bench table -->" and "<!-- /bench table -->" lines.

  report.py docs LATEST.md BENCHMARKS.md
      Put the whole of LATEST.md but its title between the page's
      "<!-- bench full -->" and "<!-- /bench full -->" lines.

The steps of a run that compute figures (run.sh only orchestrates):

  report.py summary RESULTS.jsonl
      Print the one-line summary of the last record.

  report.py last RESULTS.jsonl KEY
      Print one value of the last record.

  report.py field KEY
      Print one value of the JSON object read from stdin (a login's token).

  report.py annotate RESULTS.jsonl KEY=VALUE...
      Set string values in the last record.

  report.py statuses RESULTS.jsonl WRK_OUTPUT WRK_STDERR
      Note on the last record the statuses a status-counting wrk pass saw
      (its BENCHJSON codes) and the first non-2xx answer it printed.

  report.py checkout RESULTS.jsonl BEFORE AFTER ORDERS_NEW LINES_BAD NEGATIVE CONNECTIONS
      Judge the checkout storm: BEFORE and AFTER are "id:stock:stock+ordered"
      per hot product; ORDERS_NEW the orders written, LINES_BAD those without
      lines, NEGATIVE the products with negative stock, CONNECTIONS wrk's
      (at most one request each in flight at the deadline).

  report.py ratio RESULTS.jsonl BASE_RPS TEXT
      Note on the last record its req/s over BASE_RPS: "x.xx × TEXT".

  report.py big-scale PRODUCTS ORDERS SCALE
      The load_demo_data scale at which products and orders both reach
      1,000,000, from the counts at SCALE (the demo data grows linearly).

  report.py scale-ratio RESULTS.jsonl DATASET
      Mark the last record as the large dataset's and set its throughput
      ratio to the last record marked step=small.

  report.py meta OUT.json KEY=VALUE...
      Write the run's description for render: the given values (commit,
      pg_version, workers, scale, dataset, loadavg, duration, warmup) and
      the machine's (date, cores, CPU model, memory, kernel).

Standard library only.
"""

import csv
import json
import math
import os
import re
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
NPROC = os.cpu_count() or 1


# ---------------------------------------------------------------- CPU

def proc_stat(pid):
    """(ppid, utime+stime ticks, cmdline) of a process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        rest = data[data.rindex(")") + 2:].split()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        return int(rest[1]), int(rest[11]) + int(rest[12]), cmd
    except (OSError, ValueError, IndexError):
        return None


def machine_ticks():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    total = sum(fields[:8])           # user nice system idle iowait irq softirq steal
    idle = fields[3] + fields[4]
    return total, total - idle


def cpu_snap(postmaster, out):
    postmaster = int(postmaster)
    procs = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(name)
        if st is None:
            continue
        ppid, ticks, cmd = st
        pid = int(name)
        if pid == postmaster or ppid == postmaster:
            procs[pid] = {"ticks": ticks, "worker": "ecommerce_api worker" in cmd}
    total, busy = machine_ticks()
    with open(out, "w") as f:
        json.dump({"t": time.monotonic(), "procs": procs, "total": total, "busy": busy}, f)


def cpu_delta(before, after):
    """Server CPU (HTTP workers, other backends) and machine busy, in % of one core."""
    wall = max(after["t"] - before["t"], 1e-6)
    workers = other = 0
    for pid, p in after["procs"].items():
        prev = before["procs"].get(pid, {"ticks": 0})
        d = p["ticks"] - prev["ticks"]
        if d < 0:
            d = p["ticks"]
        if p["worker"]:
            workers += d
        else:
            other += d
    dtotal = max(after["total"] - before["total"], 1)
    machine = 100.0 * NPROC * (after["busy"] - before["busy"]) / dtotal
    to_pct = 100.0 / CLK_TCK / wall
    return {"wall_s": wall, "server_cpu": (workers + other) * to_pct,
            "workers_cpu": workers * to_pct, "machine_cpu": machine}


# ---------------------------------------------------------------- tool outputs

def parse_wrk(path):
    with open(path) as f:
        for line in f:
            if line.startswith("BENCHJSON "):
                r = json.loads(line[len("BENCHJSON "):])
                dur = r["duration_us"] / 1e6
                sock = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
                codes = r.get("codes") or {}
                return {
                    "requests": r["requests"], "rps": r["requests"] / dur if dur else 0,
                    "p50": r["p50_ms"], "p95": r["p95_ms"], "p99": r["p99_ms"],
                    "p999": r["p999_ms"], "max": r["max_ms"],
                    "non2xx": r["err_status"], "socket_errors": sock,
                    "s5xx": sum(n for c, n in codes.items() if c.startswith("5")),
                    "codes": codes, "raw": r,
                }
    raise SystemExit(f"no BENCHJSON line in {path}")


def parse_openloop(path):
    with open(path) as f:
        r = json.loads(f.read().strip().splitlines()[-1])
    sock = r["err_connect"] + r["err_closed"] + r["err_timeout"] + r["err_parse"] + r["err_write"]
    return {
        "requests": r["completed"], "rps": r["achieved_rps"],
        "p50": r["p50_ms"], "p95": None, "p90": r["p90_ms"], "p99": r["p99_ms"],
        "p999": r["p999_ms"], "max": r["max_ms"],
        "non2xx": r["s3xx"] + r["s4xx"] + r["s5xx"], "socket_errors": sock,
        "s5xx": r["s5xx"], "unsent": r["unsent"], "codes": r["codes"], "raw": r,
    }


def parse_locust(prefix):
    with open(prefix + "_stats.csv") as f:
        rows = list(csv.DictReader(f))
    agg = next(r for r in rows if r["Name"] == "Aggregated")
    n = int(agg["Request Count"])
    fails = int(agg["Failure Count"])

    def num(key):
        v = agg.get(key, "")
        return float(v) if v not in ("", "N/A") else None

    failures = []
    try:
        with open(prefix + "_failures.csv") as f:
            for r in csv.DictReader(f):
                failures.append(f'{r["Method"]} {r["Name"]}: {r["Error"]} x{r["Occurrences"]}')
    except OSError:
        pass
    # our locustfile's record of every response time, ramp included
    phases = {}
    try:
        with open(prefix + "_samples.json") as f:
            samples = json.load(f)
        for name in ("ramp", "steady"):
            phases[name] = summarize_ms(samples.get(name, []))
        phases["whole"] = summarize_ms(samples.get("ramp", []) + samples.get("steady", []))
    except (OSError, ValueError):
        pass
    per_route = [{"name": r["Name"], "requests": int(r["Request Count"]),
                  "failures": int(r["Failure Count"]), "p50": r["50%"], "p99": r["99%"]}
                 for r in rows if r["Name"] != "Aggregated"]
    return {
        "requests": n, "rps": num("Requests/s"),
        "p50": num("50%"), "p95": num("95%"), "p99": num("99%"), "p999": num("99.9%"),
        "max": num("Max Response Time"),
        "failures": fails, "failure_pct": 100.0 * fails / n if n else 0.0,
        "non2xx": fails, "socket_errors": 0, "s5xx": None,
        "failure_list": failures[:5], "per_route": per_route, "phases": phases,
    }


def summarize_ms(values):
    """count, p50, p99 and max of response times in ms (nearest rank)."""
    if not values:
        return {"count": 0}
    v = sorted(values)

    def rank(q):
        return v[min(len(v), max(1, math.ceil(q * len(v)))) - 1]
    return {"count": len(v), "p50": rank(0.50), "p99": rank(0.99), "max": v[-1]}


def read_time_file(path):
    """GNU time -f '%U %S %e' output: the load generator's CPU."""
    try:
        with open(path) as f:
            lines = [l for l in f.read().split("\n") if l.strip()]
        u, s, e = (float(x) for x in lines[-1].split())
        return u + s, e
    except (OSError, ValueError, IndexError):
        return None, None


def add(results, scenario, label, kind, output, cpu_before, cpu_after, time_file,
        sample_file, extra="{}"):
    if kind == "wrk":
        rec = parse_wrk(output)
    elif kind == "openloop":
        rec = parse_openloop(output)
    elif kind == "locust":
        rec = parse_locust(output)
    else:
        raise SystemExit(f"unknown kind {kind}")
    with open(cpu_before) as f:
        before = json.load(f)
    with open(cpu_after) as f:
        after = json.load(f)
    cpu = cpu_delta(before, after)
    gen_cpu_s, gen_wall = read_time_file(time_file)
    rec["server_cpu"] = cpu["server_cpu"]
    rec["workers_cpu"] = cpu["workers_cpu"]
    rec["machine_cpu"] = cpu["machine_cpu"]
    rec["wall_s"] = cpu["wall_s"]
    # server CPU time per answered request: the figure least disturbed by
    # other work on the machine (Locust's count starts after its ramp: none)
    rec["cpu_us_per_req"] = (cpu["server_cpu"] / 100.0 * cpu["wall_s"] * 1e6 / rec["requests"]
                             if kind != "locust" and rec["requests"] else None)
    rec["loadgen_cpu"] = 100.0 * gen_cpu_s / cpu["wall_s"] if gen_cpu_s is not None else None
    if rec["loadgen_cpu"] is not None:
        rec["other_cpu"] = max(0.0, rec["machine_cpu"] - rec["server_cpu"] - rec["loadgen_cpu"])
    else:
        rec["other_cpu"] = None
    sample = {}
    try:
        with open(sample_file) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    sample[k] = v
    except OSError:
        pass
    rec["sample"] = sample
    if scenario == "reference-probe":
        # shares the Locust run's window: its CPU figures are that row's
        for k in ("server_cpu", "workers_cpu", "machine_cpu", "loadgen_cpu", "other_cpu",
                  "cpu_us_per_req"):
            rec[k] = None
        rec["sample"] = {}
    rec.update({"scenario": scenario, "label": label, "kind": kind})
    rec.update(json.loads(extra))
    with open(results, "a") as f:
        f.write(json.dumps(rec) + "\n")


# ---------------------------------------------------------------- records

def load_records(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def save_records(path, recs):
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in recs)


def key_values(pairs):
    """KEY=VALUE arguments as a dict of strings, in their order."""
    out = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise SystemExit(f"expected KEY=VALUE, got {p!r}")
        out[k] = v
    return out


def summary(results):
    r = load_records(results)[-1]
    fmt = lambda v: "-" if v is None else f"{v:.2f}"
    print(f"   {r['rps']:,.0f} req/s  p50 {fmt(r.get('p50'))} ms  p99 {fmt(r.get('p99'))} ms  "
          f"non-2xx {r.get('non2xx')}  socket errors {r.get('socket_errors')}  "
          f"server CPU {r['server_cpu']:.0f}%" +
          (f" ({r['cpu_us_per_req']:.0f} us/request)" if r.get("cpu_us_per_req") else ""))


def last(results, key):
    print(load_records(results)[-1][key])


def field(key):
    print(json.load(sys.stdin)[key])


def annotate(results, *pairs):
    recs = load_records(results)
    recs[-1].update(key_values(pairs))
    save_records(results, recs)


def statuses(results, out, err):
    codes, first = {}, ""
    with open(out) as f:
        for line in f:
            if line.startswith("BENCHJSON "):
                codes = json.loads(line[len("BENCHJSON "):]).get("codes", {})
    with open(err) as f:
        for line in f:
            if line.startswith("first non-2xx answer: "):
                first = line[len("first non-2xx answer: "):].strip()[:200]
    recs = load_records(results)
    recs[-1]["note"] = ("statuses in a 3 s second pass: " +
                        ", ".join(f"{c}×{n}" for c, n in sorted(codes.items())) +
                        (f"; first non-2xx: {first}" if first else ""))
    save_records(results, recs)
    print("   " + recs[-1]["note"])


def checkout(results, before, after, orders_new, lines_bad, neg, conns):
    def parse(s):
        return {p.split(":")[0]: (int(p.split(":")[1]), int(p.split(":")[2])) for p in s.split()}
    b, a = parse(before), parse(after)
    recs = load_records(results)
    r = recs[-1]
    c201 = int(r["codes"].get("201", 0))
    totals_kept = all(b[k][1] == a[k][1] for k in b)
    sold = sum(b[k][0] - a[k][0] for k in b)
    # wrk stops counting at the deadline with up to one request per connection
    # in flight: those may have committed without their 201 being counted
    in_flight = int(conns)
    orders_ok = c201 <= int(orders_new) <= c201 + in_flight
    ok = totals_kept and int(neg) == 0 and int(lines_bad) == 0 and orders_ok
    r["conserved"] = ok
    r["orders_per_s"] = c201 / (r["raw"]["duration_us"] / 1e6)
    r["conservation"] = (
        ("stock conserved" if ok else "STOCK NOT CONSERVED") +
        f" (per product stock + ordered units unchanged: {'yes' if totals_kept else 'NO'}; "
        f"{sold:,} units sold; stock after: " +
        ", ".join(f"#{k} {a[k][0]:,}" for k in sorted(a, key=int)) +
        f"; orders written {int(orders_new):,} vs 201 answers {c201:,} (+ at most {in_flight} "
        f"in flight at the deadline): {'ok' if orders_ok else 'NO'}; orders without lines "
        f"{lines_bad}; negative stock {neg})")
    save_records(results, recs)
    print("   " + r["conservation"])



def ratio(results, base, text):
    recs = load_records(results)
    recs[-1]["note"] = "%.2f × %s" % (float(recs[-1]["rps"]) / float(base), text)
    save_records(results, recs)
    print("   " + recs[-1]["note"])

def big_scale(products, orders, scale):
    # rows per unit of scale, assuming the demo data grows linearly
    per_scale = max(1, min(int(products), int(orders)) / int(scale))
    print(max(2, math.ceil(1000000 / per_scale)))


def scale_ratio(results, dataset):
    recs = load_records(results)
    small = next(x["rps"] for x in reversed(recs) if x.get("step") == "small")
    r = recs[-1]
    r["step"] = "large"
    r["dataset"] = dataset
    r["ratio"] = r["rps"] / small if small else None
    m = re.search(r"(\d+) products, \d+ clients, \d+ categories, (\d+) orders", dataset)
    if m and (int(m.group(1)) < 1000000 or int(m.group(2)) < 1000000):
        r["note"] = "WARNING: fewer than 1M products or orders; set BENCH_BIG_SCALE"
    save_records(results, recs)
    print(f"   throughput ratio large / scale-1: {r['ratio']:.2f}")


META_KEYS = ["date", "commit", "pg_version", "workers", "scale", "dataset", "nproc", "cpu",
             "mem", "kernel", "loadavg", "duration", "warmup"]


def meta(out, *pairs):
    given = key_values(pairs)
    facts = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
             "nproc": str(len(os.sched_getaffinity(0))), "cpu": "", "mem": "",
             "kernel": os.uname().release}
    with open("/proc/cpuinfo") as f:
        facts["cpu"] = next((l.split(":", 1)[1].strip() for l in f
                             if l.startswith("model name")), "")
    with open("/proc/meminfo") as f:
        kib = next(int(l.split()[1]) for l in f if l.startswith("MemTotal"))
    facts["mem"] = f"{kib / 1048576:.0f} GiB RAM"
    facts.update(given)
    unknown = set(facts) - set(META_KEYS)
    if unknown:
        raise SystemExit(f"unknown meta keys: {', '.join(sorted(unknown))}")
    with open(out, "w") as f:
        json.dump({k: facts[k] for k in META_KEYS if k in facts}, f)


# ---------------------------------------------------------------- table

def fmt_ms(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_int(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_pct(v):
    return "–" if v is None else f"{v:.0f}%"


def verdict(r):
    """The issue's target for this row, and whether it was met."""
    s = r["scenario"]
    errors = (r.get("non2xx") or 0) + (r.get("socket_errors") or 0)
    if s == "point":
        ok = r["rps"] >= 15000 and errors == 0
        return ("≥ 15,000 req/s, 0 errors", ok)
    if s == "capacity":
        ok = r["rps"] >= 8000 and errors == 0
        return ("≥ 8,000 req/s, 0 errors", ok)
    if s == "reference":
        ok = r["p99"] is not None and r["p99"] <= 10 and r["failures"] == 0
        return ("p99 ≤ 10 ms, 0 failures", ok)
    if s == "connections":
        raw = r["raw"]
        ok = (raw["connected"] == raw["connections"] and raw["open_at_end"] == raw["connections"]
              and errors == 0 and r.get("unsent", 0) == 0)
        return (f"{raw['connections']:,} held, 0 errors", ok)
    if s == "checkout":
        ok = r.get("conserved") is True and (r.get("s5xx") or 0) == 0 and r["socket_errors"] == 0
        return ("0 5xx, stock conserved", ok)
    if s == "scale" and r.get("ratio") is not None:
        return ("large ≥ 0.5 × scale 1", r["ratio"] >= 0.5)
    return ("", None)


def notes(r):
    out = []
    s = r["scenario"]
    codes = r.get("codes") or {}
    if s == "checkout":
        out.append(f"{r.get('orders_per_s', 0):,.0f} orders/s "
                   f"(201: {codes.get('201', 0):,}, 409: {codes.get('409', 0):,})")
        out.append(r.get("conservation", ""))
    if s == "reference":
        out.append(f"failures {r['failure_pct']:.2f}% of {r['requests']:,}")
        ph = r.get("phases") or {}
        if ph.get("ramp", {}).get("count") and ph.get("whole", {}).get("count"):
            out.append(f"whole run, ramp included: {ph['whole']['count']:,} requests, "
                       f"p99 {fmt_ms(ph['whole']['p99'])} ms; the ramp and settling alone: "
                       f"{ph['ramp']['count']:,} requests, p99 {fmt_ms(ph['ramp']['p99'])} ms, "
                       f"max {fmt_ms(ph['ramp']['max'])} ms")
        out.extend(r.get("failure_list") or [])
    if s == "reference-probe":
        out.append("the server's latency during the whole Locust run, ramp included, measured "
                   "by a C client (Locust's own figures include its Python client's queueing)")
    if s in ("fixed", "connections"):
        raw = r["raw"]
        out.append(f"offered {raw['rate']:,.0f}/s on {raw['connections']:,} conns, "
                   f"p90 {fmt_ms(raw['p90_ms'])} ms, max {fmt_ms(raw['max_ms'])} ms, "
                   f"backlog max {raw['backlog_max']:,}, unsent {raw['unsent']:,}")
        if s == "connections":
            out.append(f"opened {raw['connected']:,} in {raw['connect_ms']:,.0f} ms, "
                       f"open at end {raw['open_at_end']:,}, lost {raw['conns_lost']}, "
                       f"min uses/conn {raw['min_uses_per_conn']}")
    if s == "scale":
        out.append(r.get("dataset", ""))
        if r.get("ratio") is not None:
            out.append(f"throughput ratio large/scale-1 = {r['ratio']:.2f}")
    if r.get("non2xx") and s != "checkout":
        bad = {c: n for c, n in codes.items() if not c.startswith("2")}
        if bad:
            out.append("non-2xx: " + ", ".join(f"{c}×{n}" for c, n in sorted(bad.items())))
    smp = r.get("sample") or {}
    if smp.get("http_established"):
        out.append(f"server-side established: {int(smp['http_established']):,}")
    if r.get("note"):
        out.append(r["note"])
    return "; ".join(x for x in out if x)


def footnotes(scenarios):
    out = []
    if "reference" in scenarios:
        out.append("reference: Locust's statistics are reset a settling time after the last of "
                   "the 400 users started (BENCH_LOCUST_SETTLE, 2 s), so the row is the steady "
                   "state; the notes give the whole run's figures too, ramp included (the ramp "
                   "starts 50 users in the same instant in one Python process: their first "
                   "requests queue in Locust); Locust rounds percentiles to whole ms; the CPU "
                   "columns cover the whole run")
    if scenarios & {"capacity", "point", "checkout", "scale", "health"}:
        out.append("wrk rows are closed-loop (a slow answer delays its connection's next request); "
                   "fixed and connections use bench/openloop.c, open-loop, latency counted from "
                   "the time each request was due (no coordinated omission)")
    if "checkout" in scenarios:
        out.append("checkout: 409 answers (stock short on the scarce product) are expected, not "
                   "errors (the non-2xx column counts them); stock conservation is checked in SQL "
                   "after the run")
    return out


COLUMNS = ["scenario", "load", "req/s", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms",
           "non-2xx", "sock err", "server CPU", "server µs/req", "loadgen CPU", "other CPU",
           "PG backends", "target", "notes"]


def rows_of(results):
    rows = []
    for r in results:
        target, ok = verdict(r)
        smp = r.get("sample") or {}
        backends = "–"
        if smp.get("backends"):
            backends = f"{smp['backends']} ({smp.get('http_workers', '?')} HTTP)"
        rows.append([
            r["scenario"], r["label"], fmt_int(r["rps"]), fmt_ms(r.get("p50")),
            fmt_ms(r.get("p95")), fmt_ms(r.get("p99")), fmt_ms(r.get("p999")),
            fmt_int(r.get("non2xx")), fmt_int(r.get("socket_errors")),
            fmt_pct(r.get("server_cpu")), fmt_int(r.get("cpu_us_per_req")),
            fmt_pct(r.get("loadgen_cpu")),
            fmt_pct(r.get("other_cpu")), backends,
            "" if ok is None else (("PASS " if ok else "MISS ") + target), notes(r),
        ])
    return rows


def render(results_path, meta_path, out_md):
    results = load_records(results_path)
    with open(meta_path) as f:
        meta = json.load(f)
    rows = rows_of(results)

    head = [
        f"# ecommerce_api benchmark — {meta.get('date', '')}",
        "",
        f"- commit `{meta.get('commit', '?')}`; PostgreSQL {meta.get('pg_version', '?')}; "
        f"{meta.get('workers', '?')} HTTP workers; dataset {meta.get('dataset', '')}",
        f"- machine: {meta.get('nproc', '?')} cores ({meta.get('cpu', '?')}), "
        f"{meta.get('mem', '?')}, kernel {meta.get('kernel', '?')}; "
        f"load average before the run: {meta.get('loadavg', '?')}",
        f"- load generators on the same machine, traffic on 127.0.0.1 only; "
        f"{meta.get('duration', '?')} s per scenario after a {meta.get('warmup', '?')} s warm-up",
        "- CPU columns are in % of one core (the machine has "
        f"{meta.get('nproc', '?')} cores = {100 * int(meta.get('nproc', 1))}%): server = the "
        "postmaster and all its children, loadgen = the load tool, other = the rest of the "
        "machine (other work running at the same time); server µs/req = server CPU time per "
        "answered request, the figure other work on the machine disturbs least",
        "- PG backends = rows of pg_stat_activity sampled mid-run (all kinds, HTTP workers in "
        "brackets); no client connection pool exists",
        "",
    ]
    md = list(head)
    md.append("| " + " | ".join(COLUMNS) + " |")
    md.append("|" + "|".join("---" for _ in COLUMNS) + "|")
    for row in rows:
        md.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    extra = footnotes({r["scenario"] for r in results})
    if extra:
        md.append("")
        md.extend(f"- {x}" for x in extra)
    # per-route figures of the reference scenario
    for r in results:
        if r["scenario"] == "reference" and r.get("per_route"):
            md += ["", "Reference scenario per route (Locust, ms):", "",
                   "| route | requests | failures | p50 | p99 |", "|---|---|---|---|---|"]
            for p in r["per_route"]:
                md.append(f"| {p['name']} | {p['requests']:,} | {p['failures']} | "
                          f"{p['p50']} | {p['p99']} |")
    with open(out_md, "w") as f:
        f.write("\n".join(md) + "\n")

    # plain text for the terminal: the numeric columns, notes below
    short = COLUMNS[:-1]
    table = [short] + [row[:-1] for row in rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(short))]
    print("\n".join(head[2:5]))
    print()
    for i, row in enumerate(table):
        print("  ".join(str(c).ljust(widths[j]) for j, c in enumerate(row)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for row in rows:
        if row[-1]:
            print(f"{row[0]} ({row[1]}): {row[-1]}")
    for x in extra:
        print(f"note: {x}")


README_COLUMNS = ["scenario", "load", "req/s", "p50 ms", "p99 ms", "non-2xx", "sock err",
                  "server CPU", "server µs/req", "other CPU", "target"]
# The README keeps the table short: the cache scenario's rows are summed up
# in its prose (ratios to nginx and to the uncached path); docs/benchmarks.md
# has them all.
README_SKIP_SCENARIOS = {"cache"}


def readme(latest_md, readme_md):
    lines = open(latest_md).read().split("\n")
    title = lines[0].lstrip("# ").strip()
    first = next((l[2:] for l in lines if l.startswith("- commit ")), "")
    start = next(i for i, l in enumerate(lines) if l.startswith("| scenario |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    keep = [header.index(c) for c in README_COLUMNS]
    block = [f"{title} — {first}", "",
             "| " + " | ".join(README_COLUMNS) + " |",
             "|" + "---|" * len(README_COLUMNS)]
    for l in lines[start + 2:]:
        if not l.startswith("|"):
            break
        cells = [c.strip() for c in l.strip().strip("|").split("|")]
        if cells[0] in README_SKIP_SCENARIOS:
            continue
        block.append("| " + " | ".join(cells[i] for i in keep) + " |")
    between_markers(readme_md, "bench table", block)


def docs(latest_md, page_md):
    """The whole of LATEST.md but its title, between a page's bench full markers."""
    lines = open(latest_md).read().rstrip("\n").split("\n")
    between_markers(page_md, "bench full", lines[1:])


def between_markers(path, name, block):
    """Replace what stands between path's "<!-- name -->" and "<!-- /name -->" lines."""
    text = open(path).read()
    head, rest = text.split(f"<!-- {name} -->\n", 1)
    _, tail = rest.split(f"<!-- /{name} -->", 1)
    while block and not block[0].strip():
        block = block[1:]
    with open(path, "w") as f:
        f.write(head + f"<!-- {name} -->\n" + "\n".join(block) + f"\n<!-- /{name} -->" + tail)


# name: (function, the argument counts it takes)
SUBCOMMANDS = {
    "cpu-snap": (cpu_snap, {2}),
    "add": (add, {8, 9}),
    "render": (render, {3}),
    "readme": (readme, {2}),
    "docs": (docs, {2}),
    "summary": (summary, {1}),
    "last": (last, {2}),
    "field": (field, {1}),
    "annotate": (annotate, range(2, 100)),
    "statuses": (statuses, {3}),
    "checkout": (checkout, {7}),
    "ratio": (ratio, {3}),
    "big-scale": (big_scale, {3}),
    "scale-ratio": (scale_ratio, {2}),
    "meta": (meta, range(1, 100)),
}


def main(argv):
    if not argv or argv[0] not in SUBCOMMANDS or len(argv) - 1 not in SUBCOMMANDS[argv[0]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    SUBCOMMANDS[argv[0]][0](*argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
