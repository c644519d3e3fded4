#!/usr/bin/env python3
"""Times `isenet compile --expand-tags` of the example environment against Aerleon (`aclgen`)
compiling the equivalent policy, interleaved in the same run, with wall time, CPU time and peak
memory per process (os.wait4). Skips (exit 0, says why) when Aerleon is not installed.

The equivalent policy is built from isenet's own nsg.json (compiled without --expand-tags, so the
rules still name service tags) and the public tag file: one Aerleon network definition per tag
(its prefixes from the file, IPv4 and IPv6), one service per destination port list, one term per
NSG rule in a Juniper `mixed` filter per direction (Aerleon has no NSG target; Juniper mixed is
the closest address-family-complete one). VirtualNetwork is the environment's address space,
Internet and `*` are "any" (Aerleon has no complement), AzureLoadBalancer is 168.63.129.16/32.

Usage: benches/aerleon/aerleon_vs_isenet.py [RUNS] [--aclgen PATH]
  Install Aerleon with: python3 -m venv /tmp/aerleon && /tmp/aerleon/bin/pip install aerleon
  (then pass --aclgen /tmp/aerleon/bin/aclgen, or have aclgen on PATH).
"""
import json, os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TAGS = os.path.join(ROOT, "data", "servicetags", "ServiceTags_Public_20251028.json")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "isenet")
PLATFORM = {"azureloadbalancer": ["168.63.129.16/32"]}
ANY = {"*", "internet", "any", "0.0.0.0/0"}


def token(name):
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def run(cmd):
    """Wall seconds, CPU seconds (user + system) and peak RSS in MB of one process."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def listed(props, one, many):
    v = props.get(many) or [props.get(one)]
    return [x for x in v if x]


def build_policy(nsg, tags, vnet, work):
    defs, pols = os.path.join(work, "defs"), os.path.join(work, "pols")
    os.makedirs(defs), os.makedirs(pols)
    networks, services, terms = {}, {}, {"Inbound": [], "Outbound": []}
    prefixes_of = {v["name"].lower(): v["properties"]["addressPrefixes"] for v in tags["values"]}
    prefixes_of["virtualnetwork"] = vnet
    prefixes_of.update(PLATFORM)

    def address(items):
        if any(x.lower() in ANY for x in items):
            return None
        name = "N_" + token("_".join(items))[:60] + f"_{len(networks)}"
        nets = []
        for x in items:
            nets += [x] if "/" in x or re.match(r"^[0-9.]+$", x) else prefixes_of[x.lower()]
        networks[name] = nets
        return name

    for rule in nsg["properties"]["securityRules"]:
        p = rule["properties"]
        lines = [f"term {token(rule['name']).lower().replace('_', '-')} {{"]
        src = address(listed(p, "sourceAddressPrefix", "sourceAddressPrefixes"))
        dst = address(listed(p, "destinationAddressPrefix", "destinationAddressPrefixes"))
        if src:
            lines.append(f"  source-address:: {src}")
        if dst:
            lines.append(f"  destination-address:: {dst}")
        ports = listed(p, "destinationPortRange", "destinationPortRanges")
        protos = ["tcp", "udp"] if p["protocol"] == "*" else [p["protocol"].lower()]
        if ports != ["*"]:
            svc = "P_" + token("_".join(ports))
            services[svc] = [f"{r}/{pr}" for r in ports for pr in protos if pr in ("tcp", "udp")]
            lines.append(f"  destination-port:: {svc}")
            lines.append(f"  protocol:: {' '.join(x for x in protos if x in ('tcp', 'udp'))}")
        elif p["protocol"] != "*":
            lines.append(f"  protocol:: {p['protocol'].lower()}")
        lines.append(f"  action:: {'accept' if p['access'] == 'Allow' else 'deny'}")
        lines.append("}")
        terms[p["direction"]].append("\n".join(lines))

    with open(os.path.join(defs, "NETWORK.net"), "w") as f:
        for name, nets in networks.items():
            f.write(f"{name} = " + "\n    ".join(nets) + "\n\n")
    with open(os.path.join(defs, "SERVICES.svc"), "w") as f:
        for name, svcs in services.items():
            f.write(f"{name} = " + "\n    ".join(svcs) + "\n\n")
    with open(os.path.join(pols, "ise-nsg.pol"), "w") as f:
        for direction, ts in terms.items():
            f.write(f"header {{\n  target:: juniper ise-nsg-{direction.lower()} mixed\n}}\n\n")
            f.write("\n\n".join(ts) + "\n\n")
    return defs, pols, sum(len(n) for n in networks.values())


def main():
    args = sys.argv[1:]
    aclgen = shutil.which("aclgen")
    if "--aclgen" in args:
        i = args.index("--aclgen")
        aclgen = args[i + 1]
        del args[i : i + 2]
    if not aclgen or not os.path.exists(aclgen):
        print("Aerleon not installed (no aclgen): skipped. See this script's docstring to install it.")
        return
    runs = int(args[0]) if args else 10
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "isenet"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp()
    plain = os.path.join(work, "plain")
    subprocess.run([BIN, "compile", "--out-dir", plain], check=True, stdout=subprocess.DEVNULL)
    nsg = json.load(open(os.path.join(plain, "nsg.json")))
    env = json.load(open(os.path.join(ROOT, "data", "example-environment.json")))
    defs, pols, count = build_policy(nsg, json.load(open(TAGS)), env["virtualNetwork"]["addressSpace"], work)
    isenet_cmd = [BIN, "compile", "--expand-tags", "--out-dir", os.path.join(work, "expanded")]
    # --policy_file: without it aclgen 1.18 found the policy but wrote nothing.
    aerleon_cmd = [aclgen, f"--base_directory={pols}", f"--definitions_directory={defs}",
                   f"--policy_file={os.path.join(pols, 'ise-nsg.pol')}",
                   f"--output_directory={os.path.join(work, 'aerleon-out')}"]
    run(isenet_cmd), run(aerleon_cmd)  # warm the page cache
    res = {"isenet": [], "aerleon": []}
    for _ in range(runs):
        res["isenet"].append(run(isenet_cmd))
        res["aerleon"].append(run(aerleon_cmd))
    print(f"runs: {runs}; Aerleon policy: {len(nsg['properties']['securityRules'])} terms, {count} prefixes")
    med = {}
    for name, rs in res.items():
        wall, cpu, rss = (statistics.median(x[i] for x in rs) for i in range(3))
        med[name] = (wall, cpu)
        print(f"{name}: median wall {wall*1000:.1f} ms, cpu {cpu*1000:.1f} ms, peak RSS {max(x[2] for x in rs):.1f} MB")
    print(f"aerleon/isenet: wall {med['aerleon'][0]/med['isenet'][0]:.1f}x, cpu {med['aerleon'][1]/med['isenet'][1]:.1f}x")


if __name__ == "__main__":
    main()
