#!/usr/bin/env python3
"""Measures issue 12's whole-process speed goals, each against its baseline in the same run, and
prints the BENCHMARKS.md table. Runs are interleaved (isenet, baseline, isenet, ...) so machine
load hits both alike; times are medians; peak memory is the largest resident set of any run
(os.wait4's ru_maxrss), CPU time user + system of the process.

Goals (issue 12, "Speed"):
  1. `isenet compile` of the embedded example, embedded tags, every artifact:
     <= 0.05x one `python3 json.load` of the public tag file.
  2. The same with `--service-tags FILE` (the public file): <= 0.2x.
  3. `compile --expand-tags` against Aerleon's `aclgen` on the equivalent policy
     (benches/aerleon/aerleon_vs_isenet.py builds it): >= 50x less CPU. Skipped without Aerleon.
     For the record (no goal): the same compile with `--only nsg`, aclgen's one artifact alone.
  4. A fleet of 1,000 generated environments (benches/gen_fleet.py, `compile --env-dir`):
     <= 10x one json.load in total, and linear from 10 to 10,000 (time per environment); timed
     into an empty folder and re-run over its own unchanged output (which writes nothing).
  5. Peak memory of each under 64 MB.
  Also: size and required glibc of the `dist` binary, when built.

Outputs go under the system temp folder: `TMPDIR=/dev/shm` times the program without the disk's
file system (on this runner's ext4, creating files right after a fleet's worth were removed is
slow in the kernel; see BENCHMARKS.md, session 6).

Usage: benches/goals.py [--runs N] [--fleet 10,100,1000,10000] [--aclgen PATH] [--no-build]
                        [--profile dist|static|release]
  Builds and times the `dist` binary (what `cargo install --profile dist` installs: LTO, one
  codegen unit), or with `--profile static` the same linked statically (README's install for
  x86_64 Linux), or with `--profile release` the incremental build `cargo test --release` uses.
  Aerleon: python3 -m venv target/aerleon-venv && target/aerleon-venv/bin/pip install aerleon
  (found there, on PATH, or by --aclgen).
"""
import argparse, functools, importlib.util, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DIST = os.path.join(TARGET, "dist", "isenet")
# The static `dist` binary of README's install on x86_64 Linux: glibc linked in, so no loader
# and no shared libraries at start-up (nothing to resolve, nothing required of the host).
STATIC_TARGET = "x86_64-unknown-linux-gnu"
STATIC_FLAGS = f'target.{STATIC_TARGET}.rustflags=["-C", "target-feature=+crt-static"]'
STATIC = os.path.join(TARGET, STATIC_TARGET, "dist", "isenet")
BIN = DIST  # the timed binary; `--profile` sets it
TAGS = os.path.join(ROOT, "data", "servicetags", "ServiceTags_Public_20251028.json")
PYTHON = [sys.executable, "-c", f"import json; json.load(open({TAGS!r}))"]
MB = 1024 * 1024


def run(cmd):
    """(wall s, cpu s, peak RSS bytes) of one process, which must succeed (the Aerleon script's)."""
    wall, cpu, rss_mb = aerleon_module().run(cmd)
    return wall, cpu, rss_mb * MB


def medians(samples):
    """Per key: median wall, median CPU and largest peak RSS of its (wall, cpu, rss) samples."""
    return {
        k: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v), max(s[2] for s in v))
        for k, v in samples.items()
    }


# The sorted wall times of each single-process command, printed under the table: on a machine
# whose kernel reports free memory to its host, a run that draws reported memory for a huge page
# takes milliseconds longer, and the median alone hides how often that happened (BENCHMARKS.md,
# session 23).
SPREAD = {}


def interleaved(cmds, runs):
    """Median wall, median CPU and largest peak RSS of each command, runs interleaved."""
    for c in cmds.values():
        run(c)  # warm the page cache
    samples = {k: [] for k in cmds}
    for _ in range(runs):
        for k, c in cmds.items():
            samples[k].append(run(c))
    for k, v in samples.items():
        SPREAD[k] = sorted(s[0] for s in v)
    return medians(samples)


def fleet_runs(cmd, out, runs):
    """Median wall, median CPU and largest peak RSS of a fleet compile into an empty folder
    (`first`: `out` removed before each run, untimed), of the same compile again over that
    unchanged output (`again`), and of json.load (`python`), interleaved."""
    run(PYTHON)  # warm the page cache
    samples = {"first": [], "again": [], "python": []}
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        samples["first"].append(run(cmd))
        samples["again"].append(run(cmd))
        samples["python"].append(run(PYTHON))
    return medians(samples)


@functools.cache
def aerleon_module():
    path = os.path.join(ROOT, "benches", "aerleon", "aerleon_vs_isenet.py")
    spec = importlib.util.spec_from_file_location("aerleon_vs_isenet", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def find_aclgen(given):
    for c in [given, os.path.join(TARGET, "aerleon-venv", "bin", "aclgen"), shutil.which("aclgen")]:
        if c and os.path.exists(c):
            return c
    return None


def fmt_ms(s):
    return f"{s * 1000:.1f} ms" if s < 10 else f"{s:.2f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--fleet", default="10,100,1000,10000")
    ap.add_argument("--aclgen")
    ap.add_argument("--no-build", action="store_true", help="time the binary as it is")
    ap.add_argument("--profile", choices=["dist", "static", "release"], default="dist")
    args = ap.parse_args()
    global BIN
    if args.profile == "static":
        BIN = STATIC
        build = ["--profile", "dist", "--target", STATIC_TARGET, "--config", STATIC_FLAGS]
    else:
        BIN = os.path.join(TARGET, args.profile, "isenet")
        build = ["--profile", args.profile]
    if not args.no_build:
        subprocess.run(["cargo", "build", *build, "-q", "-p", "isenet"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="isenet-goals-")
    rows = []  # (goal, isenet, baseline, ratio, target, met, peak)

    # 1 and 2: one environment, embedded tags and --service-tags FILE, against json.load.
    # The baseline is the interpreter running this script, started directly (not through a
    # wrapper such as pyenv's `python3` shim, a shell script that adds about 50 ms here); its bare
    # start-up is timed alongside, for the record: it is about half of the baseline.
    res = interleaved({
        "embedded": [BIN, "compile", "--out-dir", os.path.join(work, "one")],
        "file": [BIN, "compile", "--service-tags", TAGS, "--out-dir", os.path.join(work, "one-file")],
        "python": PYTHON,
        "python-start": [sys.executable, "-c", "pass"],
    }, args.runs)
    py = res["python"][0]
    baseline = (f"baseline: {sys.executable} (Python {sys.version.split()[0]}): json.load {fmt_ms(py)}, "
                f"of which start-up {fmt_ms(res['python-start'][0])}")
    for key, what, goal in [("embedded", "compile, embedded tags", 0.05), ("file", "compile --service-tags FILE", 0.2)]:
        r = res[key][0] / py
        rows.append((what, fmt_ms(res[key][0]), f"json.load {fmt_ms(py)}", f"{r:.3f}x", f"<= {goal}x", r <= goal, res[key][2]))

    # 3: --expand-tags against Aerleon, CPU time.
    aclgen = find_aclgen(args.aclgen)
    if aclgen:
        mod = aerleon_module()
        plain = os.path.join(work, "plain")
        subprocess.run([BIN, "compile", "--out-dir", plain], check=True, stdout=subprocess.DEVNULL)
        nsg = json.load(open(os.path.join(plain, "nsg.json")))
        env = json.load(open(os.path.join(ROOT, "data", "example-environment.json")))
        aw = os.path.join(work, "aerleon")
        os.makedirs(aw)
        defs, pols, count = mod.build_policy(nsg, json.load(open(TAGS)), env["virtualNetwork"]["addressSpace"], aw)
        aerleon = [aclgen, f"--base_directory={pols}", f"--definitions_directory={defs}",
                   f"--policy_file={os.path.join(pols, 'ise-nsg.pol')}",
                   f"--output_directory={os.path.join(aw, 'out')}"]
        # Each isenet run right after an aclgen run: a run right after another isenet run finds
        # warm caches and measured 10-25 % faster (BENCHMARKS.md, session 12).
        res = interleaved({
            "isenet": [BIN, "compile", "--expand-tags", "--out-dir", os.path.join(work, "expanded")],
            "aerleon": aerleon,
            # For the record, not the goal: the one artifact aclgen writes, the NSG, alone (no
            # other artifact, no proof).
            "isenet-nsg": [BIN, "compile", "--expand-tags", "--only", "nsg", "--out-dir", os.path.join(work, "expanded-nsg")],
            "aerleon-again": aerleon,
        }, max(3, args.runs // 2))
        acl = f"aclgen {fmt_ms(res['aerleon'][1])} CPU ({fmt_ms(res['aerleon'][0])} wall, {res['aerleon'][2] / MB:.0f} MB)"
        r = res["aerleon"][1] / res["isenet"][1]
        rows.append((f"compile --expand-tags vs aclgen ({count:,} prefixes), CPU",
                     f"{fmt_ms(res['isenet'][1])} CPU ({fmt_ms(res['isenet'][0])} wall)",
                     acl, f"{r:.1f}x less CPU", ">= 50x", r >= 50, res["isenet"][2]))
        r = res["aerleon"][1] / res["isenet-nsg"][1]
        rows.append(("for the record: the same with `--only nsg` (aclgen's one artifact, no proofs)",
                     f"{fmt_ms(res['isenet-nsg'][1])} CPU ({fmt_ms(res['isenet-nsg'][0])} wall)",
                     acl, f"{r:.1f}x less CPU", "-", None, res["isenet-nsg"][2]))
    else:
        rows.append(("compile --expand-tags vs aclgen", "skipped: Aerleon not installed", "", "", ">= 50x", None, 0))

    # 4: fleets, each size against json.load in the same run (fewer runs for the big ones), in
    # both cases a pipeline meets: into an empty folder, and again over its own unchanged output.
    per_env = {"into an empty folder": [], "re-run, output unchanged": []}
    for n in [int(x) for x in args.fleet.split(",") if x]:
        envs = os.path.join(work, f"fleet-{n}")
        subprocess.run([sys.executable, os.path.join(ROOT, "benches", "gen_fleet.py"), str(n), envs], check=True)
        out = os.path.join(work, f"fleet-{n}-out")
        res = fleet_runs([BIN, "compile", "--env-dir", envs, "--out-dir", out], out,
                         5 if n <= 100 else 3 if n <= 1000 else 1)
        py = res["python"][0]
        for case, what in [("first", "into an empty folder"), ("again", "re-run, output unchanged")]:
            t = res[case][0]
            per_env[what].append((n, t / n))
            goal = "<= 10x" if n == 1000 else "linear"
            met = (t / py <= 10) if n == 1000 else None
            rows.append((f"fleet of {n:,} environments (`--env-dir`), {what}", f"{fmt_ms(t)} ({fmt_ms(t / n)} each)",
                         f"json.load {fmt_ms(py)}", f"{t / py:.1f}x", goal, met, res[case][2]))
        shutil.rmtree(out, ignore_errors=True)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; runs: {args.runs}; "
          f"binary: {args.profile} profile\n{baseline}\n")
    print("| goal | isenet | baseline (same run) | ratio | target | met | peak memory (< 64 MB) |")
    print("|---|---|---|---|---|---|---|")
    for what, a, b, r, goal, met, peak in rows:
        m = "-" if met is None else ("yes" if met else "no")
        pk = f"{peak / MB:.1f} MB {'ok' if peak < 64 * MB else 'OVER'}" if peak else "-"
        print(f"| {what} | {a} | {b} | {r} | {goal} | {m} | {pk} |")
    print("\nWall time of the single-process runs, fastest / median / slowest: " + "; ".join(
        f"{k} {fmt_ms(w[0])} / {fmt_ms(statistics.median(w))} / {fmt_ms(w[-1])}"
        for k, w in SPREAD.items() if not k.startswith("python")))
    for case, sizes in per_env.items():
        if len(sizes) > 1:
            print(f"\nTime per environment relative to the smallest fleet, {case} (1.0 = linear): " +
                  ", ".join(f"{n:,}: {t / sizes[0][1]:.2f}" for n, t in sizes))
    if os.path.exists(DIST):
        glibc = sorted(set(re.findall(r"GLIBC_([0-9.]+)", subprocess.run(
            ["objdump", "-T", DIST], capture_output=True, text=True).stdout)), key=lambda v: [int(x) for x in v.split(".")])
        print(f"\n`dist` binary: {os.path.getsize(DIST) / MB:.1f} MB, needs glibc >= {glibc[-1] if glibc else '?'}")
    if os.path.exists(STATIC):
        print(f"static `dist` binary: {os.path.getsize(STATIC) / MB:.1f} MB ({os.path.getsize(STATIC):,} bytes), "
              "needs no glibc (`ldd`: not a dynamic executable)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
