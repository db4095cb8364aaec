#!/usr/bin/env python3
"""A bursty latency-sensitive "server" for the demo: requests arrive as a Poisson process; each request keeps
two worker processes busy for WORK_MS of CPU (like a request fanned out to 2 threads). Every REPORT seconds it
prints the request latency p50/p99 — CFS throttling of its cgroup shows up directly in p99."""
import multiprocessing as mp
import os
import random
import sys
import time

WORK_MS = float(os.environ.get("WORK_MS", "20"))
GAP_MS = float(os.environ.get("GAP_MS", "100"))
REPORT = float(os.environ.get("REPORT", "10"))


def spin(ms):
    end = time.thread_time() + ms / 1000.0
    while time.thread_time() < end:
        pass


def worker(q_in, q_out):
    while True:
        ms = q_in.get()
        if ms is None:
            return
        spin(ms)
        q_out.put(1)


def main():
    ins = [mp.Queue() for _ in range(2)]
    out = mp.Queue()
    procs = [mp.Process(target=worker, args=(q, out), daemon=True) for q in ins]
    for p in procs:
        p.start()
    lat = []
    last = time.monotonic()
    while True:
        time.sleep(random.expovariate(1000.0 / GAP_MS))
        t0 = time.monotonic()
        for q in ins:
            q.put(WORK_MS)
        for _ in ins:
            out.get()
        lat.append((time.monotonic() - t0) * 1000.0)
        if time.monotonic() - last >= REPORT and lat:
            lat.sort()
            p50 = lat[len(lat) // 2]
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(f"[web] {len(lat)} requests of {WORK_MS:.0f} ms x2: p50 {p50:.1f} ms  p99 {p99:.1f} ms", flush=True)
            lat.clear()
            last = time.monotonic()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
