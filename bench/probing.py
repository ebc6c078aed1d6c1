#!/usr/bin/env python3
"""What observed health costs: consoled with the exec driver keeping N clusters' health
URLs probed every --health-interval, measured as the server's CPU (share of one core) and
resident memory while it does nothing else.

The driver is a small script that reports five health URLs per cluster, all answered by a
local HTTP server that counts the requests (so the run also checks that every cluster is
probed once per interval). The reference is the same server with the same clusters under
the simulated driver, which probes nothing, measured the same way in the same run.

    python3 bench/probing.py            # 1,000 clusters, 10 s interval, 60 s measured, release
    python3 bench/probing.py --smoke    # 40 clusters, 1 s interval, 5 s, debug: checks it runs
"""

import argparse
import http.server
import json
import os
import stat
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (the main suite's server and client helpers)

DRIVER = """#!/usr/bin/env python3
import json, sys
doc = json.load(sys.stdin)
base = "http://127.0.0.1:{port}/health/" + doc["cluster"]["uuid"]
if sys.argv[1] in ("create", "update", "upgrade", "wake"):
    print(json.dumps({{"health": {{c: base + "/" + c for c in
        ("zeebe", "operate", "tasklist", "optimize", "connectors")}}}}))
"""


class Counter(http.server.BaseHTTPRequestHandler):
    # Keep-alive, as a cluster's health endpoint would.
    protocol_version = "HTTP/1.1"
    requests = 0
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 (http.server's naming)
        with Counter.lock:
            Counter.requests += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(server, seconds):
    """CPU share of one core and RSS of `server` over `seconds` of idleness."""
    start_cpu, start = cpu_seconds(server.process.pid), time.time()
    before = Counter.requests
    time.sleep(seconds)
    cpu = (cpu_seconds(server.process.pid) - start_cpu) / (time.time() - start)
    return {"cpu_percent_of_one_core": round(100 * cpu, 2),
            "rss_mib": round(server.memory_mib("VmRSS"), 1),
            "health_requests": Counter.requests - before}


def wait_healthy(server, count, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        clusters = json.loads(server.api.call("GET", "/clusters", token=server.token))
        healthy = sum(1 for c in clusters if c["status"]["ready"] == "Healthy")
        if healthy >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"only {healthy} of {count} clusters became Healthy")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=str(suite.ROOT / "bench" / "results" / "probing.json"))
    args = parser.parse_args()
    count, interval, seconds = (40, 1, 5) if args.smoke else (1000, 10, 60)
    profile = "debug" if args.smoke else "release"
    consoled_bin, _, _ = suite.build(profile)

    # A backlog for 64 probes connecting at once (the default of 5 refuses most of them).
    http.server.ThreadingHTTPServer.request_queue_size = 1024
    health = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=health.serve_forever, daemon=True).start()
    scratch = tempfile.mkdtemp(prefix="bench-probing-")
    driver = Path(scratch) / "driver.py"
    driver.write_text(DRIVER.format(port=health.server_address[1]))
    driver.chmod(driver.stat().st_mode | stat.S_IXUSR)

    results = {}
    for name, extra in (
        ("simulated (no probing)", []),
        ("exec driver, probing", ["--driver", "exec", "--driver-command", str(driver),
                                  "--health-interval", f"{interval}s"]),
    ):
        server = suite.Consoled(str(consoled_bin), ["--provision-delay", "0s", *extra],
                                name="probing")
        try:
            suite.log(f"{name}: creating {count} clusters")
            server.create_clusters(server.token, count)
            wait_healthy(server, count, timeout=max(120, count / 5))
            # Let the first probes (and the reconciler's catch-up) pass.
            time.sleep(interval + 1)
            results[name] = measure(server, seconds)
            suite.log(f"{name}: {results[name]}")
        finally:
            server.stop()
    health.shutdown()

    probed = results["exec driver, probing"]
    expected = count * 5 * seconds / interval
    report = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "smoke": args.smoke,
              "profile": profile, "clusters": count, "health_interval_s": interval,
              "measured_s": seconds, "cpus": os.cpu_count(), "results": results,
              "expected_health_requests": expected,
              # The window's edges may each catch or miss one round (5 per cluster).
              "probed_once_per_interval": 0.9 * expected - 5 * count
              <= probed["health_requests"] <= 1.1 * expected + 5 * count}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("| server | CPU (% of one core) | RSS MiB | health requests |")
    print("| --- | ---: | ---: | ---: |")
    for name, r in results.items():
        print(f"| {name} | {r['cpu_percent_of_one_core']} | {r['rss_mib']} | {r['health_requests']} |")
    print(f"expected about {expected:.0f} health requests while probing; "
          f"once per interval: {report['probed_once_per_interval']}")
    if not report["probed_once_per_interval"]:
        sys.exit("the clusters were not probed once per interval")


if __name__ == "__main__":
    main()
