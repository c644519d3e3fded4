#!/usr/bin/env python3
"""Times `isenet verify --nsg FILE` end to end (release binary, whole process: start, embedded tag
decode, NSG read, both directions' proofs, report) on the realistic NSG shape of the verify
benches at 250 to 4,000 rules, the runs interleaved so machine load hits every size alike. Each
run goes through /usr/bin/time -v for its peak resident memory. Prints a Markdown table for
BENCHMARKS.md: median, fastest and slowest wall time, growth per doubling, peak memory.

The NSG files come from `crates/rules-compiler/examples/realistic_nsg.rs` (fixed seed, the same
rules as the `prove_realistic_nsg` bench). The first row is the floor every run pays: `isenet
verify` of the example's own compiled NSG.

Usage: python3 benches/verify_goal.py [RUNS] [--harsh] [--no-build]
  RUNS        interleaved runs per size (default 15)
  --harsh     also the harsher shape (remote prefixes nesting over the ISE's network) at 125-500
  --no-build  use target/release as it is
"""
import json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "isenet")
GEN = os.path.join(ROOT, "target", "release", "examples", "realistic_nsg")
SIZES = [250, 500, 1000, 2000, 4000]
HARSH_SIZES = [125, 250, 500]


def run(args):
    """Wall seconds and peak resident MiB of one `isenet` run; exit 0 or 1 (findings) expected."""
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", BIN] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if p.returncode not in (0, 1):
        sys.exit(f"isenet {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    rss = [l for l in p.stderr.splitlines() if "Maximum resident set size" in l]
    return wall, int(rss[-1].rsplit(":", 1)[1]) / 1024


def main():
    args = sys.argv[1:]
    runs = int(next((a for a in args if a.isdigit()), 15))
    if "--no-build" not in args:
        cargo = ["cargo", "build", "--release", "-q"]
        subprocess.run(cargo + ["-p", "isenet"], cwd=ROOT, check=True)
        subprocess.run(cargo + ["-p", "rules-compiler", "--example", "realistic_nsg"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="isenet-verify-goal-")
    example = os.path.join(tmp, "example-nsg.json")
    with open(example, "w") as f:
        subprocess.run([BIN, "compile", "--only", "nsg", "--stdout"], stdout=f, check=True)
    with open(example) as f:
        example_rules = len(json.load(f)["properties"]["securityRules"])
    cases = [("compiled example NSG (floor)", example_rules, ["verify", "--nsg", example])]
    shapes = [("realistic", "", SIZES)] + ([("harsh", "harsh", HARSH_SIZES)] if "--harsh" in args else [])
    for label, shape, sizes in shapes:
        for n in sizes:
            path = os.path.join(tmp, f"{label}-{n}.json")
            subprocess.run([GEN, str(n), path] + ([shape] if shape else []), check=True)
            cases.append((label, n, ["verify", "--nsg", path]))

    for _, _, cmd in cases:  # warm the page cache
        run(cmd)
    walls = {i: [] for i in range(len(cases))}
    peak = {i: 0.0 for i in range(len(cases))}
    for _ in range(runs):
        for i, (_, _, cmd) in enumerate(cases):
            w, m = run(cmd)
            walls[i].append(w)
            peak[i] = max(peak[i], m)

    print(f"runs per size: {runs}, interleaved; load average at the end: {os.getloadavg()[0]:.1f}")
    print()
    print("| NSG | rules | median | fastest | slowest | median / previous size | peak memory |")
    print("|---|---|---|---|---|---|---|")
    prev = {}
    for i, (label, n, _) in enumerate(cases):
        med = statistics.median(walls[i])
        growth = f"{med / prev[label][1]:.2f}x" if label in prev else ""
        prev[label] = (n, med)
        print(f"| {label} | {n:,} | {med*1000:.1f} ms | {min(walls[i])*1000:.1f} ms | {max(walls[i])*1000:.1f} ms "
              f"| {growth} | {peak[i]:.1f} MiB |")


if __name__ == "__main__":
    main()
