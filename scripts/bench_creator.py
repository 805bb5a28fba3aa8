"""Benchmark: `eks-breakglass creator` against the naive CloudTrail search, on 100,000 events.

    .venv/bin/python scripts/bench_creator.py [BINARY] [RUNS]

Starts moto and eks-sim with sim/scenarios/noise-100k.yaml (100,080 background events over 90
days, throttle off so that both sides are measured on equal terms), then compares:

* ours:  `eks-breakglass creator --cluster prod` (one LookupEvents window around createdAt);
* naive: `aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,
          AttributeValue=CreateCluster`, paging through the whole 90 days, then keeping the
          successful eks.amazonaws.com event for `prod` on the client side.

Prints LookupEvents calls (from the sim's call log), median wall time, the ratio, and what the
naive call count costs under CloudTrail's real limit of 2 requests/second.
Timing is printed, never asserted: tests check call counts, not clocks.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def wait(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {what}")


def timed(argv, env):
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    return elapsed, out


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/eks-breakglass")
    if not os.path.exists(binary):
        binary = os.path.join(ROOT, "target/debug/eks-breakglass")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    sim_bin = os.path.join(ROOT, "target/debug/eks-sim")
    if not os.path.exists(sim_bin):
        sys.exit("build the simulator first: cargo build -p eks-sim")
    aws = os.path.join(ROOT, ".venv/bin/aws")
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            port = free_port()
            procs.append(subprocess.Popen(
                [os.path.join(ROOT, ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            moto = f"http://127.0.0.1:{port}"
            wait(lambda: urllib.request.urlopen(moto + "/moto-api/", timeout=2), 30, "moto")
            state_path = os.path.join(d, "state.json")
            procs.append(subprocess.Popen(
                [sim_bin, "--scenario", os.path.join(ROOT, "sim/scenarios/noise-100k.yaml"),
                 "--moto", moto, "--port", "0", "--state", state_path],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait(lambda: os.path.exists(state_path), 180, "eks-sim")
            with open(state_path) as f:
                state = json.load(f)
            admin = state["adminEndpoint"]
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update(state["env"])
            env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                        "AWS_EC2_METADATA_DISABLED": "true"})

            def lookups():
                return http("GET", admin + "/calls?service=cloudtrail&action=LookupEvents")["count"]

            ours_t, ours_calls = [], []
            for _ in range(runs):
                http("DELETE", admin + "/calls")
                t, out = timed([binary, "creator", "--cluster", "prod", "--output", "json"], env)
                if out.returncode != 0:
                    sys.exit(f"creator failed ({out.returncode}): {out.stderr.decode()}")
                arn = json.loads(out.stdout)["creator"]["arn"]
                ours_t.append(t)
                ours_calls.append(lookups())

            http("DELETE", admin + "/calls")
            t_naive, out = timed([aws, "cloudtrail", "lookup-events", "--lookup-attributes",
                                  "AttributeKey=EventName,AttributeValue=CreateCluster",
                                  "--output", "json"], env)
            if out.returncode != 0:
                sys.exit(f"aws cloudtrail lookup-events failed: {out.stderr.decode()}")
            events = json.loads(out.stdout)["Events"]
            found = None
            for e in events:
                rec = json.loads(e["CloudTrailEvent"])
                if (rec.get("eventSource") == "eks.amazonaws.com" and "errorCode" not in rec
                        and (rec.get("requestParameters") or {}).get("name") == "prod"):
                    found = rec["userIdentity"].get("arn")
                    break
            naive_calls = lookups()
            t_ours = statistics.median(ours_t)
            print(f"creator on {state['cloudtrail']['events']} CloudTrail events "
                  f"(creator found: {arn}; naive found: {found})")
            print(f"  eks-breakglass creator: {max(ours_calls)} LookupEvents call(s), "
                  f"median {t_ours * 1000:.0f} ms over {runs} runs")
            print(f"  naive aws cloudtrail lookup-events: {naive_calls} LookupEvents calls, "
                  f"{t_naive * 1000:.0f} ms, {len(events)} CreateCluster events read")
            print(f"  ratio: {t_naive / t_ours:.1f}x faster, {naive_calls / max(1, max(ours_calls)):.0f}x fewer calls; "
                  f"at CloudTrail's 2 requests/second the naive way needs >= {naive_calls / 2:.0f} s")
            ok = max(ours_calls) <= 2 and t_ours < 2.0
            print("  target (<= 2 calls, < 2 s):", "OK" if ok else "MISSED")
            return 0 if ok else 1
        finally:
            for p in reversed(procs):
                p.terminate()
                p.wait()


if __name__ == "__main__":
    sys.exit(main())
