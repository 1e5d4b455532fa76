#!/usr/bin/python3
"""Load test of `sluice serve` (issue 6): the card-fraud pipeline under wrk at fixed rates.

    /usr/bin/python3 bench/serve/run_serve_bench.py [--reps 3] [--duration 8]

Card-fraud events from examples/card_fraud/generate.py (seeded; 100,000
events over 100,000 cards by default) become request bodies without the
event-time field `ts`; `sluice serve examples/card_fraud/card_fraud.yaml
--stamp-time` (release build) decides them: 27 windowed features per card,
the 150-tree GBT model, the champion's rules with reasons (declines by the
model name its top three inputs: TreeSHAP) and the challenger in shadow.

wrk (Debian's 4.1.0, keep-alive, bench/serve/decide.lua) offers each target
rate in turn, paced by delay() (see decide.lua), and once unthrottled
(closed loop); each --reps times, in rounds (every rate once, then again),
medians reported. Every wrk run replays the bodies on fresh card ids (a
suffix per run and pass, decide.lua), so the windowed state grows by every
run's cards: the live keys reach several hundred thousand. For every run: the achieved rate, wrk's p50 / p99 / p99.9
/ max latency, non-2xx answers and socket errors, the CPU seconds sluice
used (user + sys from /proc/PID/stat) per request, wrk's own CPU, the
machine's CPU use by others (/proc/stat) and load, and from sluice's
/metrics the server-side view: request-duration and batch-time histograms
(differences over the run), events per batch, answers by status code.

The floor: the same wrk settings against GET /healthz (HTTP only, no
decision), at the same rates, in the same rounds.

Checked: sample answers carry action, rule, fraud.score and reasons; after
the runs, sluice_decisions_total equals every decide request answered 200
(wrk's count plus warm-up and samples), and sluice_late_events_total is 0.

Prints a table, writes bench/results/serve.json, states whether the target
(p99 <= 1 ms at an achieved >= 10,000 requests/s: the lowest offered rate
whose median achieved rate reaches 10,000/s) is met and the highest
achieved rate with p99 <= 1 ms. Exit status: 0 when every check held and no
run had errors or non-200 answers, 1 when not, 2 when a step failed; a
missed target is reported, not an error.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"  # Debian's, with numpy (the generator needs it)
GENERATOR = os.path.join(ROOT, "examples", "card_fraud", "generate.py")
PIPELINE = os.path.join(ROOT, "examples", "card_fraud", "card_fraud.yaml")
LUA = os.path.join(HERE, "decide.lua")

TARGET_RATE = 10_000
TARGET_P99_US = 1000
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------
# Data


def make_bodies(args, work):
    """Generates the events and writes them, without `ts`, one JSON object a line."""
    events = os.path.join(work, "events.jsonl")
    subprocess.run([PYTHON, GENERATOR, "--events", str(args.events), "--cards", str(args.cards),
                    "--seed", str(args.seed), "--output", events,
                    "--labels", os.path.join(work, "labels.csv")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bodies = os.path.join(work, "bodies.jsonl")
    n = 0
    with open(events) as f, open(bodies, "w") as out:
        for line in f:
            e = json.loads(line)
            del e["ts"]  # the service stamps its clock (--stamp-time)
            out.write(json.dumps(e, separators=(",", ":")) + "\n")
            n += 1
    return bodies, n


# --------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, args, threads, batch_size, log_path):
        argv = [args.sluice, "serve", args.pipeline, "--stamp-time", "--listen", "127.0.0.1:0",
                "--threads", str(threads), "--batch-size", str(batch_size)]
        if args.queue:
            argv += ["--queue", str(args.queue)]
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sluice serve exited with {self.proc.returncode}: "
                                   + open(log_path, errors="replace").read()[-2000:])
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)",
                          open(log_path, errors="replace").read())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError("sluice serve did not say where it listens within 30 s")
        self.url = f"http://127.0.0.1:{self.port}"

    def cpu_s(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime

    def thread_cpu_s(self):
        """{thread id: user + sys seconds} of every thread of the server."""
        out = {}
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[tid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
            except OSError:
                pass
        return out

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return None

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.status, r.read().decode()

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=body.encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        return parse_metrics(self.get("/metrics")[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of a Prometheus text page."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$", line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric_sum(metrics, name, **labels):
    want = set(labels.items())
    return sum(v for (n, l), v in metrics.items() if n == name and want <= set(l))


def histogram(before, after, name, **labels):
    """A histogram's difference over a run: count, mean, share of observations per bound."""
    want = set(labels.items())
    buckets = {}
    for (n, l), v in after.items():
        if n == name + "_bucket" and want <= set(l):
            le = dict(l)["le"]
            buckets[le] = v - before.get((n, l), 0.0)
    count = metric_sum(after, name + "_count", **labels) - metric_sum(before, name + "_count", **labels)
    total = metric_sum(after, name + "_sum", **labels) - metric_sum(before, name + "_sum", **labels)
    bounds = sorted((float(le), c) for le, c in buckets.items() if le != "+Inf")
    return {"count": count, "mean": total / count if count else None,
            "cumulative_share": {f"{b:g}": (c / count if count else None) for b, c in bounds}}


def histogram_quantile(h, q):
    """Upper bound of the bucket holding quantile q (the histograms' resolution is coarse)."""
    for bound, share in h["cumulative_share"].items():
        if share is not None and share >= q:
            return float(bound)
    return float("inf")


# --------------------------------------------------------------------------
# Machine


def cpu_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def machine_info():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "loadavg_at_start": os.getloadavg()}


# --------------------------------------------------------------------------
# One wrk run


RUN_COUNTER = [0]
DECIDE_SENT = [0]  # decide requests sent so far: where the population cycle goes on


def run_wrk(args, server, path, rate, connections, bodies, duration):
    RUN_COUNTER[0] += 1
    env = dict(os.environ, SERVE_BENCH_BODIES=bodies, SERVE_BENCH_PATH=path,
               SERVE_BENCH_RUN=str(RUN_COUNTER[0]),
               SERVE_BENCH_RATE=str(rate), SERVE_BENCH_THREADS=str(args.wrk_threads),
               SERVE_BENCH_POPULATION=str(args.population_cycles),
               SERVE_BENCH_START=str(DECIDE_SENT[0]))
    argv = [args.wrk, "-t", str(args.wrk_threads), "-c", str(connections), "-d", f"{duration}s",
            "--timeout", "5s", "-s", LUA, server.url + path]
    m0 = server.metrics()
    cpu0, busy0, load0 = server.cpu_s(), cpu_jiffies(), os.getloadavg()[0]
    threads0 = server.thread_cpu_s()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    cpu1, busy1 = server.cpu_s(), cpu_jiffies()
    threads1 = server.thread_cpu_s()
    # The busiest thread: under POST /v1/decide, the decision thread (the
    # one thread that runs the engine, so the ceiling of the service).
    busiest = max((threads1[t] - threads0.get(t, 0.0) for t in threads1), default=0.0)
    m1 = server.metrics()
    if os.waitstatus_to_exitcode(status) != 0 or "SERVE_BENCH_RESULT" not in out:
        raise RuntimeError(f"wrk failed: {' '.join(argv)}\n{out}\n{err}")
    r = json.loads(out.split("SERVE_BENCH_RESULT", 1)[1].strip().splitlines()[0])
    if path == "/v1/decide":
        DECIDE_SENT[0] += r["requests"]
    secs = r["duration_us"] / 1e6
    handler = "decide" if path == "/v1/decide" else "healthz"
    codes = {}
    for (n, l), v in m1.items():
        d = dict(l)
        if n == "sluice_http_requests_total" and d.get("handler") == handler:
            c = v - m0.get((n, l), 0.0)
            if c:
                codes[d["code"]] = int(c)
    sluice_cpu = cpu1 - cpu0
    wrk_cpu = usage.ru_utime + usage.ru_stime
    machine_busy = (busy1[0] - busy0[0]) / CLK_TCK  # CPU seconds used on the machine, all processes
    run = {
        "path": path, "target_rate": rate, "connections": connections, "duration_s": secs,
        "requests": r["requests"], "achieved_rate": r["requests"] / secs,
        "p50_us": r["latency_p50_us"], "p90_us": r["latency_p90_us"], "p99_us": r["latency_p99_us"],
        "p99_9_us": r["latency_p99.9_us"], "max_us": r["latency_max_us"],
        "mean_us": r["latency_mean_us"],
        "non2xx": r["errors_status"],
        "socket_errors": r["errors_connect"] + r["errors_read"] + r["errors_write"]
        + r["errors_timeout"],
        "wrk_errors": {k: r[k] for k in r if k.startswith("errors_")},
        "server_codes": codes,
        "non200_server": sum(c for k, c in codes.items() if k != "200"),
        "sluice_cpu_s": sluice_cpu,
        "sluice_cpu_us_per_request": sluice_cpu / r["requests"] * 1e6 if r["requests"] else None,
        "sluice_cores": sluice_cpu / wall,
        "busiest_thread_cpu_s": busiest,
        "busiest_thread_us_per_request": busiest / r["requests"] * 1e6 if r["requests"] else None,
        "busiest_thread_cores": busiest / wall,
        "wrk_cpu_s": wrk_cpu, "wrk_cores": wrk_cpu / wall,
        "others_cores": max(0.0, machine_busy - sluice_cpu - wrk_cpu) / wall,
        "loadavg_1m_before": load0, "loadavg_1m_after": os.getloadavg()[0],
        "server_latency": histogram(m0, m1, "sluice_http_request_duration_seconds", handler=handler),
    }
    if path == "/v1/decide":
        run["batch_seconds"] = histogram(m0, m1, "sluice_decision_batch_seconds")
        events = histogram(m0, m1, "sluice_decision_batch_events")
        run["events_per_batch"] = events["mean"]
        run["batches"] = events["count"]
        run["actions"] = {dict(l)["action"]: int(v - m0.get((n, l), 0.0)) for (n, l), v in m1.items()
                          if n == "sluice_decisions_total"}
        run["live_keys_after"] = metric_sum(m1, "sluice_live_keys")
    return run


# --------------------------------------------------------------------------
# Checks


def sample_answers(server, bodies, count=20):
    """POSTs a few bodies one by one; every answer must be a decision with a score and reasons."""
    problems, actions = [], {}
    with open(bodies) as f:
        lines = [f.readline().strip() for _ in range(count)]
    for i, line in enumerate(lines):
        body = line.replace('"card_id":"', '"card_id":"sample-', 1)  # cards no run uses
        status, text = server.post("/v1/decide", body)
        if status != 200:
            problems.append(f"sample {i}: HTTP {status}: {text[:200]}")
            continue
        d = json.loads(text)
        for key in ("action", "rule", "fraud.score", "reasons", "ts", "card_txn_1h"):
            if key not in d:
                problems.append(f"sample {i}: no '{key}' in {text[:200]}")
        if not isinstance(d.get("fraud.score"), float) or not isinstance(d.get("reasons"), list):
            problems.append(f"sample {i}: fraud.score or reasons of the wrong type: {text[:200]}")
        actions[d.get("action")] = actions.get(d.get("action"), 0) + 1
    # One event that the model declines, with its top reasons: a card testing burst.
    burst = {"txn_id": "probe", "card_id": "sample-burst", "merchant_id": "m00001", "amount": 1.5,
             "country": "RO", "channel": "ecom", "mcc": 5816}
    last = None
    for k in range(4):
        burst["txn_id"] = f"probe{k}"
        last = server.post("/v1/decide", json.dumps(burst))
    d = json.loads(last[1]) if last[0] == 200 else {}
    if d.get("action") != "decline" or not d.get("reasons") or "code" not in d["reasons"][0]:
        problems.append(f"the card-testing probe was not declined with reasons: {last}")
    return {"samples": count + 4, "actions": actions, "probe": d, "problems": problems}


# --------------------------------------------------------------------------
# Report


def fmt_us(v):
    return "-" if v is None else (f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} us")


def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarise(runs):
    s = {k: med(runs, k) for k in ("achieved_rate", "p50_us", "p99_us", "p99_9_us", "max_us",
                                   "sluice_cpu_us_per_request", "sluice_cores", "wrk_cores",
                                   "busiest_thread_us_per_request", "busiest_thread_cores",
                                   "others_cores", "events_per_batch")}
    s["non2xx_total"] = sum(r["non2xx"] for r in runs)
    s["non200_server_total"] = sum(r["non200_server"] for r in runs)
    s["socket_errors_total"] = sum(r["socket_errors"] for r in runs)
    s["requests_total"] = sum(r["requests"] for r in runs)
    s["server_p50_bucket_s"] = med([{"v": histogram_quantile(r["server_latency"], 0.5)}
                                    for r in runs], "v")
    s["server_p99_bucket_s"] = med([{"v": histogram_quantile(r["server_latency"], 0.99)}
                                    for r in runs], "v")
    s["server_mean_us"] = med([{"v": r["server_latency"]["mean"] * 1e6} for r in runs
                               if r["server_latency"]["mean"]], "v")
    if "batch_seconds" in runs[0]:
        s["batch_mean_us"] = med([{"v": r["batch_seconds"]["mean"] * 1e6} for r in runs
                                  if r["batch_seconds"]["mean"]], "v")
        s["batch_p99_bucket_s"] = med([{"v": histogram_quantile(r["batch_seconds"], 0.99)}
                                       for r in runs], "v")
    s["reps"] = len(runs)
    s["clean"] = s["non2xx_total"] == 0 and s["socket_errors_total"] == 0 \
        and s["non200_server_total"] == 0
    return s


def print_table(title, rows):
    print(title)
    head = ("target/s", "achieved/s", "p50", "p99", "p99.9", "max", "sluice CPU/req",
            "sluice cores", "busiest thread CPU/req", "wrk cores", "others", "ev/batch",
            "srv mean", "errors")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for target, s in rows:
        err = "none" if s["clean"] else (f"non-2xx {s['non2xx_total']}, socket "
                                         f"{s['socket_errors_total']}, non-200 (server) "
                                         f"{s['non200_server_total']}")
        print("| " + " | ".join([
            "closed loop" if target == 0 else f"{target:,}", f"{s['achieved_rate']:,.0f}",
            fmt_us(s["p50_us"]), fmt_us(s["p99_us"]), fmt_us(s["p99_9_us"]), fmt_us(s["max_us"]),
            fmt_us(s["sluice_cpu_us_per_request"]), f"{s['sluice_cores']:.2f}",
            fmt_us(s["busiest_thread_us_per_request"]),
            f"{s['wrk_cores']:.2f}", f"{s['others_cores']:.2f}",
            "-" if s.get("events_per_batch") is None else f"{s['events_per_batch']:.1f}",
            fmt_us(s["server_mean_us"]), err]) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", default=os.path.join(ROOT, "build", "release", "src", "cli", "sluice"))
    ap.add_argument("--pipeline", default=PIPELINE,
                    help="pipeline to serve (default: examples/card_fraud/card_fraud.yaml)")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    ap.add_argument("--rates", default="1000,2000,5000,10000,10500,15000,20000,0",
                    help="target requests/s, comma-separated; 0 = closed loop")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=8,
                    help="wrk -c (8 gave the best p99 at 10,000/s of 8, 16 and 32)")
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk -t")
    ap.add_argument("--threads", type=int, default=1,
                    help="sluice --threads: HTTP event loops (default 1)")
    ap.add_argument("--batch-size", type=int, default=256, help="sluice --batch-size")
    ap.add_argument("--queue", type=int, default=0, help="sluice --queue (default: its own)")
    ap.add_argument("--no-floor", action="store_true", help="skip the GET /healthz runs")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--cards", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5, help="seconds of warm-up at 5,000/s")
    ap.add_argument("--population", type=int, default=0,
                    help="a fixed population of about this many cards (a multiple of --events), "
                         "each visited once by a closed-loop warm-up, so that the state stops "
                         "growing; 0 (default): fresh cards in every run, the state grows")
    ap.add_argument("--json", default=os.path.join(ROOT, "bench", "results", "serve.json"),
                    help="results file ('' for none)")
    args = ap.parse_args()
    threads = args.threads
    args.population_cycles = (0 if args.population <= 0
                              else max(1, -(-args.population // args.events)))
    rates = [int(x) for x in args.rates.split(",") if x.strip()]
    for tool in (args.sluice, args.wrk):
        if not os.access(tool, os.X_OK):
            sys.stderr.write(f"{tool} is missing: scripts/build.sh release; apt-get install wrk\n")
            return 2

    info = machine_info()
    work = tempfile.mkdtemp(prefix="sluice-serve-bench-")
    server = None
    try:
        bodies, n_bodies = make_bodies(args, work)
        server = Server(args, threads, args.batch_size, os.path.join(work, "serve.log"))
        print(f"sluice serve on {server.url} (--threads {threads} --batch-size {args.batch_size}); "
              f"{n_bodies:,} bodies; wrk -t {args.wrk_threads} -c {args.connections}; "
              f"load {info['loadavg_at_start'][0]:.2f}", flush=True)
        samples = sample_answers(server, bodies)
        for p in samples["problems"]:
            print("CHECK FAILED:", p)
        warm = run_wrk(args, server, "/v1/decide", 5000, args.connections, bodies, args.warmup)
        extra_decided = samples["samples"] + warm["requests"]
        if args.population_cycles:
            # Visit every card of the population once (closed loop).
            cards = n_bodies * args.population_cycles
            while DECIDE_SENT[0] < cards:
                fill = run_wrk(args, server, "/v1/decide", 0, args.connections, bodies, 10)
                extra_decided += fill["requests"]
            print(f"population: {cards:,} cards, all visited once ({DECIDE_SENT[0]:,} requests); "
                  f"live keys {metric_sum(server.metrics(), 'sluice_live_keys'):,.0f}",
                  flush=True)

        paths = ["/v1/decide"] + ([] if args.no_floor else ["/healthz"])
        runs = {p: {rate: [] for rate in rates} for p in paths}
        for rep in range(args.reps):
            for rate in rates:
                for path in paths:
                    r = run_wrk(args, server, path, rate, args.connections, bodies, args.duration)
                    r["rep"] = rep
                    runs[path][rate].append(r)
                    print(f"  rep {rep + 1} {path:11} target {rate or 'closed':>6}: "
                          f"{r['achieved_rate']:8,.0f}/s p50 {fmt_us(r['p50_us']):>8} p99 "
                          f"{fmt_us(r['p99_us']):>8} p99.9 {fmt_us(r['p99_9_us']):>8} "
                          f"max {fmt_us(r['max_us']):>8} sluice {r['sluice_cores']:.2f} cores, "
                          f"others {r['others_cores']:.2f}"
                          + ("" if r["non2xx"] + r["socket_errors"] + r["non200_server"] == 0 else
                             f"  ERRORS non-2xx {r['non2xx']} socket {r['socket_errors']} "
                             f"server codes {r['server_codes']}"), flush=True)

        final = server.metrics()
        decided = metric_sum(final, "sluice_decisions_total")
        decide_200 = metric_sum(final, "sluice_http_requests_total", handler="decide", code="200")
        wrk_decide = sum(r["requests"] for rs in runs["/v1/decide"].values() for r in rs)
        late = metric_sum(final, "sluice_late_events_total")
        actions = {dict(l)["action"]: int(v) for (n, l), v in final.items()
                   if n == "sluice_decisions_total"}
        checks = {
            "sample_problems": samples["problems"],
            "decisions_total": decided, "decide_answers_200": decide_200,
            "wrk_decide_requests_plus_warmup_and_samples": wrk_decide + extra_decided,
            "late_events_total": late, "actions": actions,
            "live_keys": metric_sum(final, "sluice_live_keys"), "sluice_rss_mib": server.rss_mib(),
        }
        # wrk counts answers read before its clock stopped; a few more may be
        # answered after. Each must be a decision, and none late.
        diff = decided - (wrk_decide + extra_decided)
        checks["decisions_minus_wrk"] = diff
        checks["ok"] = (not samples["problems"] and late == 0 and decided == decide_200
                        and 0 <= diff <= args.connections * (len(rates) * args.reps + 1))

        summary = {p: {rate: summarise(rs) for rate, rs in by_rate.items()}
                   for p, by_rate in runs.items()}
        print()
        print_table(f"POST /v1/decide, card_fraud, medians of {args.reps} ({args.duration} s runs, "
                    f"wrk -t {args.wrk_threads} -c {args.connections}; sluice --threads {threads} "
                    f"--batch-size {args.batch_size})",
                    list(summary["/v1/decide"].items()))
        if "/healthz" in summary:
            print()
            print_table("GET /healthz (the HTTP floor: no decision), same settings",
                        list(summary["/healthz"].items()))
        print()
        ok_rates = [s["achieved_rate"] for s in summary["/v1/decide"].values()
                    if s["p99_us"] is not None and s["p99_us"] <= TARGET_P99_US and s["clean"]]
        best = max(ok_rates) if ok_rates else None
        # Met when some offered rate was achieved at 10,000/s or more (medians)
        # with p99 within 1 ms and no errors. wrk's pacing loses a slot when an
        # answer comes back after its connection's next one, so the achieved
        # rate falls 1-3% short of the offer: the default rates offer 10,500/s
        # as well.
        at_target = None
        for offered, row in sorted(summary["/v1/decide"].items()):
            if (offered and row["clean"] and row["p99_us"] is not None
                    and row["achieved_rate"] >= TARGET_RATE):
                at_target = dict(row, offered=offered)
                break
        met = at_target is not None and at_target["p99_us"] <= TARGET_P99_US
        target = {"rate": TARGET_RATE, "p99_us": TARGET_P99_US,
                  "met": met if at_target else None, "measured": at_target,
                  "highest_rate_with_p99_within_1ms": best}
        if at_target:
            print(f"target: p99 <= 1 ms at >= 10,000 requests/s: {'MET' if met else 'MISSED'} "
                  f"(offered {at_target['offered']:,}/s, achieved {at_target['achieved_rate']:,.0f}/s, "
                  f"p99 {fmt_us(at_target['p99_us'])})")
        else:
            print("target: p99 <= 1 ms at >= 10,000 requests/s: no offered rate achieved "
                  "10,000/s")
        print("highest sustained throughput (achieved rate with p99 <= 1 ms, no errors): "
              + ("none" if best is None else f"{best:,.0f} requests/s"))
        print(f"checks: decisions {decided:,.0f}, decide answers 200 {decide_200:,.0f}, wrk "
              f"requests + warm-up + samples {wrk_decide + extra_decided:,} (difference {diff:+,.0f}); "
              f"late events {late:.0f}; actions {actions}; live keys "
              f"{checks['live_keys']:,.0f}; sluice RSS {checks['sluice_rss_mib']:.0f} MiB: "
              f"{'ok' if checks['ok'] else 'FAILED'}")
        clean = all(s["clean"] for by_rate in summary.values() for s in by_rate.values())
        if not clean:
            print("SOME RUNS HAD ERRORS OR NON-200 ANSWERS (see the tables)")
        info["loadavg_at_end"] = os.getloadavg()

        if args.json:
            result = {
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "machine": info,
                "sluice": args.sluice, "sluice_argv": server.argv,
                "wrk": subprocess.run([args.wrk, "-v"], capture_output=True, text=True).stdout.strip()
                or "wrk", "wrk_threads": args.wrk_threads, "connections": args.connections,
                "duration_s": args.duration, "reps": args.reps,
                "events": args.events, "cards": args.cards, "seed": args.seed,
                "population": args.population_cycles * args.events,
                "git_head": subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"],
                                           capture_output=True, text=True).stdout.strip(),
                "median": {p: {str(k): v for k, v in by.items()} for p, by in summary.items()},
                "target": target, "checks": checks, "samples": samples, "warmup": warm,
                "runs": {p: {str(k): v for k, v in by.items()} for p, by in runs.items()},
            }
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2)
            print(f"wrote {args.json}")
        return 0 if checks["ok"] and clean else 1
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        sys.stderr.write(f"run_serve_bench: {e}\n")
        return 2
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
