"""Benchmark helpers for scripts/bench.sh: run commands N times, report medians and peak memory.

Timing lives here, outside the test suite, on purpose: performance targets are checked by
benchmarks that print ratios, never by timing assertions inside tests.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def measure(argv, runs, env=None):
    """Runs argv `runs` times; returns (median seconds, peak RSS in MiB over all runs)."""
    times, peak_kib = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"benchmark command failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
        proc.stderr.close()
        times.append(elapsed)
        peak_kib = max(peak_kib, usage.ru_maxrss)
    return statistics.median(times), peak_kib / 1024


def compare(name, ours, theirs, runs, target_ratio, env=None):
    """Prints one comparison line and returns True when the target ratio is met."""
    t_ours, m_ours = measure(ours, runs, env)
    t_theirs, m_theirs = measure(theirs, runs, env)
    ratio = t_theirs / t_ours if t_ours > 0 else float("inf")
    ok = ratio >= target_ratio
    print(f"{name}: eks-breakglass median {t_ours*1000:.1f} ms (peak {m_ours:.1f} MiB) | "
          f"reference median {t_theirs*1000:.1f} ms (peak {m_theirs:.1f} MiB) | "
          f"ratio {ratio:.1f}x (target >= {target_ratio}x) {'OK' if ok else 'BELOW TARGET'} "
          f"[{runs} runs each]")
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {what}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class LatencyProxy:
    """A TCP proxy that holds every chunk the client sends for `latency` seconds: each request to
    the world then costs about one round trip to a real AWS region, which is what bounded
    concurrency is for (on loopback a request costs a millisecond and serial is as fast)."""

    def __init__(self, target_port, latency):
        self.target_port, self.latency = target_port, latency
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.sock.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, self.latency), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, 0), daemon=True).start()

    @staticmethod
    def _pipe(src, dst, delay):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def start_world(root, sim_bin, scenario, tmp):
    """moto + eks-sim for `scenario`, as the tests start them; returns (procs, state)."""
    moto_port = free_port()
    moto = subprocess.Popen(
        [f"{root}/.venv/bin/moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: port_open(moto_port), 30, "moto")
    state_path = os.path.join(tmp, "state.json")
    sim = subprocess.Popen(
        [sim_bin, "--scenario", scenario, "--moto", f"http://127.0.0.1:{moto_port}",
         "--state", state_path],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(state_path), 300, "eks-sim")
    with open(state_path) as f:
        return [sim, moto], json.load(f)


def audit_bench(binary, sim_bin, root, latency_ms, concurrency, rate):
    """`audit` over the 200-cluster world: bounded concurrency against a serial run."""
    scenario = f"{root}/tests/fixtures/scenarios/fleet-200.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        procs, state = start_world(root, sim_bin, scenario, tmp)
        try:
            proxy = LatencyProxy(state["eksPort"], latency_ms / 1000)
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update(state["env"])
            slow = f"http://127.0.0.1:{proxy.port}"
            for k in ("AWS_ENDPOINT_URL_EKS", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS"):
                env[k] = slow
            env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
            results = {}
            for c in (concurrency, 1):
                argv = [binary, "audit", "--breakglass-role", "breakglass/breakglass",
                        "--concurrency", str(c), "--rate", str(rate), "--output", "json"]
                start = time.perf_counter()
                proc = subprocess.run(argv, env=env, capture_output=True, text=True)
                elapsed = time.perf_counter() - start
                if proc.returncode not in (0, 3):
                    sys.exit(f"audit failed ({proc.returncode}): {proc.stderr}")
                out = json.loads(proc.stdout)
                results[c] = (elapsed, out)
            t_par, out = results[concurrency]
            t_ser, out_ser = results[1]
            same = out["clusters"] == out_ser["clusters"]
            s = out["summary"]
            calls = sum(out["calls"].values())
            ok = t_par < 10 and same
            print(f"audit: {s['clusters']} clusters ({s['flagged']} flagged), {calls} AWS calls, "
                  f"{latency_ms} ms per request | --concurrency {concurrency}: {t_par:.2f} s | "
                  f"--concurrency 1: {t_ser:.2f} s | ratio {t_ser / t_par:.1f}x | "
                  f"same results: {same} | target < 10 s: {'OK' if t_par < 10 else 'MISSED'}")
            return ok
        finally:
            for p in procs:
                p.terminate()
                p.wait()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "audit":
        binary, sim_bin, root = sys.argv[2], sys.argv[3], sys.argv[4]
        latency = int(os.environ.get("LATENCY_MS", "50"))
        ok = audit_bench(binary, sim_bin, root, latency, int(os.environ.get("CONCURRENCY", "16")),
                         float(os.environ.get("RATE", "80")))
        sys.exit(0 if ok else 1)
    if mode == "token":
        binary, aws, runs = sys.argv[2], sys.argv[3], int(sys.argv[4])
        env = dict(os.environ)
        env.update({
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        for k in [k for k in env if k.startswith("AWS_ENDPOINT_URL")]:
            del env[k]
        ok = compare("token", [binary, "token", "--cluster", "prod"],
                     [aws, "eks", "get-token", "--cluster-name", "prod"], runs, 50, env)
        sys.exit(0 if ok else 1)
    sys.exit(f"unknown benchmark mode {mode}")
