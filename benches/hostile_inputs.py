#!/usr/bin/env python3
"""Wall time and peak memory of `isenet` on every catalogue input and on the hostile inputs of
issue 9 at x1 and x10 size, one run each under /usr/bin/time -v. Prints a Markdown table for
BENCHMARKS.md. Usage: python3 benches/hostile_inputs.py [path/to/isenet] (default target/release)."""

import json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/isenet")


def run(args):
    p = subprocess.run(["/usr/bin/time", "-v", BIN] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stats = dict(l.strip().rsplit(": ", 1) for l in p.stderr.splitlines() if l.startswith("\t") and ": " in l)
    wall = stats["Elapsed (wall clock) time (h:mm:ss or m:ss)"]
    m, s = wall.split(":")[-2:]
    seconds = int(m) * 60 + float(s)
    return p.returncode, seconds, int(stats["Maximum resident set size (kbytes)"]) / 1024


def example():
    return json.loads(subprocess.run([BIN, "example"], capture_output=True, text=True).stdout)


def main():
    tmp = tempfile.mkdtemp(prefix="isenet-hostile-")
    rows = []

    def measure(name, args):
        code, secs, mib = run(args)
        rows.append((name, code, secs, mib))

    def env_file(name, change):
        e = example()
        change(e)
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            json.dump(e, f)
        return path

    # Every catalogue file, each as the command that reads it; the slowest and largest reported.
    for folder, cmd in [("bad-inputs", ["validate", "--env"]), ("bad-nsg", ["verify", "--nsg"]), ("bad-tags", ["tags", "show", "Storage", "--service-tags"])]:
        d = os.path.join(ROOT, "tests", folder)
        results = [run(cmd + [os.path.join(d, f)]) for f in sorted(os.listdir(d)) if f.endswith(".json")]
        rows.append((f"catalogue {folder} ({len(results)} files, slowest / largest)", "2" if all(r[0] == 2 for r in results) else "0-2",
                     max(r[1] for r in results), max(r[2] for r in results)))

    for scale in (1, 10):
        x = f"x{scale}"
        loc = env_file(f"location-{x}.json", lambda e: e.update(location="westus2" * 1_500_000 * scale))
        measure(f"location of {10 * scale} MB ({x})", ["validate", "--env", loc])
        if scale == 1:  # Linux caps one argument at 128 KiB: the x10 name is in the divan bench only.
            measure("tag name of 100,000 characters (x1)", ["tags", "show", "Storage" * 14_286])
        ov = env_file(f"overlaps-{x}.json", lambda e: e["virtualNetwork"].update(addressSpace=["10.10.0.0/16"] * (4001 * scale)))
        measure(f"{4001 * scale:,} overlapping address-space prefixes ({x})", ["validate", "--env", ov])
        dests = env_file(f"dests-{x}.json", lambda e: e.update(outboundDestinations=[
            {"name": f"d{i}", "prefixes": [f"203.0.113.{i % 256}/32"], "ports": ["22"]} for i in range(201 * scale)]))
        measure(f"{201 * scale:,} outbound destinations ({x})", ["validate", "--env", dests])
        dup = os.path.join(tmp, f"dup-{x}.json")
        with open(dup, "w") as f:
            f.write("{" + '"a": 0,' * (4001 * scale) + '"a": 0}')
        measure(f"{4001 * scale:,} repeated keys in an NSG file ({x})", ["verify", "--nsg", dup])
        deep = os.path.join(tmp, f"deep-{x}.json")
        with open(deep, "w") as f:
            f.write("[" * (100_000 * scale) + "]" * (100_000 * scale))
        measure(f"{100_000 * scale:,} nested arrays as an environment ({x})", ["validate", "--env", deep])
        # Templates (an exported resource group): thousands of NSGs none of which is the
        # environment's, and an NSG whose rules the export writes twice (inline and as children).
        schema = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
        nsgs = os.path.join(tmp, f"nsgs-{x}.json")
        with open(nsgs, "w") as f:
            json.dump({"$schema": schema, "contentVersion": "1.0.0.0", "resources": [
                {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-11-01", "name": f"nsg-{i}",
                 "properties": {"securityRules": []}} for i in range(2000 * scale)]}, f)
        measure(f"template of {2000 * scale:,} other NSGs ({x})", ["verify", "--nsg", nsgs])
        measure(f"same, diff --deployed ({x})", ["diff", "--deployed", nsgs])
        groups = os.path.join(tmp, f"groups-{x}.json")
        with open(groups, "w") as f:
            json.dump([{"name": f"g{i}", "priority": 1000 + i, "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
                        "ruleCollections": []} for i in range(2000 * scale)], f)
        measure(f"list of {2000 * scale:,} rule collection groups ({x})",
                ["verify", "--env", os.path.join(ROOT, "tests/envs/firewall-tunneling.json"), "--firewall", groups])
        rules = [{"name": f"r{i}", "properties": {"priority": 100 + i % 4000, "direction": "Inbound", "access": "Deny",
                  "protocol": "Tcp", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*",
                  "sourcePortRange": "*", "destinationPortRange": str(1 + i)}} for i in range(1000 * scale)]
        twice = os.path.join(tmp, f"twice-{x}.json")
        with open(twice, "w") as f:
            json.dump({"$schema": schema, "contentVersion": "1.0.0.0", "resources": [
                {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-11-01", "name": "contoso-ise-nsg",
                 "properties": {"securityRules": rules}}] + [
                {"type": "Microsoft.Network/networkSecurityGroups/securityRules", "apiVersion": "2023-11-01",
                 "name": "contoso-ise-nsg/" + r["name"], "properties": r["properties"]} for r in rules]}, f)
        measure(f"template of {1000 * scale:,} rules written twice ({x})", ["verify", "--nsg", twice])
    def flows_file(name, n):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write("from,to,port,protocol,expect\n")
            f.writelines(f"10.10.1.5,Storage,{1 + i % 65000},tcp,\n" for i in range(n))
        return path
    # Flows to a service tag, each explanation holding the tag's prefixes: at the limit, and a
    # 57 MB file refused at its 10,001st row (E1815).
    measure("10,000 flows to Storage (explain --flows, at the limit)", ["explain", "--flows", flows_file("flows-10k.csv", 10_000)])
    measure("same, --format json (323 MB written)", ["explain", "--flows", os.path.join(tmp, "flows-10k.csv"), "--format", "json"])
    measure("2,000,000 flows (57 MB, refused)", ["explain", "--flows", flows_file("flows-2m.csv", 2_000_000)])
    dense = env_file("dense.json", lambda e: e.update(externalCallers=[0] * 5_000_000))
    measure("5,000,000 malformed callers (10 MB)", ["validate", "--env", dense])
    big = os.path.join(tmp, "big.json")
    with open(big, "wb") as f:
        f.truncate(65 * 1024 * 1024 * 10)
    measure("650 MiB environment file (over the 64 MiB ceiling)", ["validate", "--env", big])

    print("| input | exit | wall time | peak memory |")
    print("|---|---|---|---|")
    for name, code, secs, mib in rows:
        print(f"| {name} | {code} | {secs * 1000:.0f} ms | {mib:.0f} MiB |")


if __name__ == "__main__":
    main()
