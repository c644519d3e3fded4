#!/usr/bin/env python3
"""Writes N generated environments (variations of data/example-environment.json) into a folder,
for the fleet benchmark: `isenet compile --env-dir DIR --out-dir OUT`.

Each environment has its own name, one of four regions, an internal or external endpoint, its own
/16 address space with the four ISE /27 subnets at its start, and its own outbound destination, so
no two compile to the same artifacts. Deterministic: the same N gives the same files.

Usage: benches/gen_fleet.py N DIR
"""
import copy, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGIONS = ["westus2", "eastus", "westeurope", "northeurope"]


def environment(base, i):
    env = copy.deepcopy(base)
    a, b = 10 + (i // 256) % 100, i % 256  # 10.0.0.0/8 to 109.255.0.0/16: valid private-style /16s
    env["name"] = f"ise-{i:05d}"
    env["location"] = REGIONS[i % len(REGIONS)]
    env["accessEndpoint"] = "internal" if i % 2 == 0 else "external"
    env["virtualNetwork"] = {"name": f"vnet-{i:05d}", "addressSpace": [f"{a}.{b}.0.0/16"]}
    for k, s in enumerate(env["subnets"]):
        s["prefix"] = f"{a}.{b}.1.{32 * k}/27"
    env["customDnsServers"] = [f"{a}.{b}.0.4"]
    env["outboundDestinations"] = [
        {"name": "partner-sftp", "prefixes": [f"203.0.113.{i % 256}/32"], "protocol": "Tcp", "ports": [str(22 + i % 3)]}
    ]
    return env


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    base = json.load(open(os.path.join(ROOT, "data", "example-environment.json")))
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        with open(os.path.join(out, f"ise-{i:05d}.json"), "w") as f:
            json.dump(environment(base, i), f, indent=2)


if __name__ == "__main__":
    main()
