#!/usr/bin/env python3
"""Times `isenet compile` end to end against a plain Python parse of the public service-tag file,
in the same run, interleaved so machine load hits both alike. Prints medians and the ratio
(isenet / python; below 1 means compiling is faster than merely parsing the tag file in Python).

Usage: benches/compile_vs_python.py [RUNS]   (builds the release binary first)
"""
import os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAGS = os.path.join(ROOT, "data", "servicetags", "ServiceTags_Public_20251028.json")
BIN = os.path.join(ROOT, "target", "release", "isenet")

def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start

def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "isenet"], cwd=ROOT, check=True)
    out = os.path.join(tempfile.mkdtemp(), "out")
    isenet_cmd = [BIN, "compile", "--out-dir", out]
    python_cmd = [sys.executable, "-c", f"import json; json.load(open({TAGS!r}))"]
    timed(isenet_cmd), timed(python_cmd)  # warm the page cache
    isenet_t, python_t = [], []
    for _ in range(runs):
        isenet_t.append(timed(isenet_cmd))
        python_t.append(timed(python_cmd))
    i, p = statistics.median(isenet_t), statistics.median(python_t)
    print(f"runs: {runs}")
    print(f"isenet compile (embedded example, public tags): median {i*1000:.1f} ms")
    print(f"python3 json.load(ServiceTags_Public_20251028.json): median {p*1000:.1f} ms")
    print(f"ratio isenet/python: {i/p:.2f}")

if __name__ == "__main__":
    main()
