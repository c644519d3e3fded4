//! Declared callers end to end, by `isenet explain` on the compiled NSG: on both access endpoints
//! and in every tunneling mode, internal and external callers reach 443 through the caller rows;
//! under forced tunneling they reach nothing else (Redis 6379 included), inbound or outbound. And
//! `requirements` shows the source and destination nsg.json writes.

use super::tags::{isenet, path_str, scratch, stdout_json, write};
use crate::common::Scratch;
use serde_json::{json, Value};
use std::path::Path;

const INTERNAL: &str = "172.16.5.9";
const EXTERNAL: &str = "198.18.0.9";
const SUBNET: &str = "10.10.1.5";

fn env(endpoint: &str, mode: &str) -> Value {
    let mut e: Value = serde_json::from_slice(&isenet(&["example"]).stdout).unwrap();
    e["accessEndpoint"] = json!(endpoint);
    e["outboundPolicy"] = json!("restricted");
    e["internalCallers"] = json!(["172.16.5.0/24"]);
    if endpoint == "external" {
        e["externalCallers"] = json!(["198.18.0.0/24"]);
    }
    e["forcedTunneling"] = match mode {
        "firewall" => json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"}),
        m => json!({ "mode": m }),
    };
    e
}

/// (access, deciding rule) of `explain` for one flow; the flow must have one decision.
fn explain(env: &str, from: &str, to: &str, port: u16) -> (String, String) {
    let port = port.to_string();
    let o = isenet(&[
        "explain", "--env", env, "--from", from, "--to", to, "--port", &port, "--format", "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let d = stdout_json(&o);
    let decisions = d["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{d}");
    (
        decisions[0]["access"].as_str().unwrap().to_string(),
        decisions[0]["rule"].as_str().unwrap_or("(none)").to_string(),
    )
}

fn allowed_by(rule: &str) -> (String, String) {
    ("Allow".into(), rule.into())
}

fn denied_by(rule: &str) -> (String, String) {
    ("Deny".into(), rule.into())
}

/// Every (endpoint, mode) with its environment file written into a scratch folder (returned
/// too: it lasts as long as the caller keeps it).
fn cases(name: &str) -> (Scratch, Vec<(&'static str, &'static str, String)>) {
    let dir = scratch(name);
    let mut out = Vec::new();
    for endpoint in ["internal", "external"] {
        for mode in ["none", "expressRoute", "firewall"] {
            out.push((
                endpoint,
                mode,
                write(&dir, &format!("{endpoint}-{mode}.json"), &env(endpoint, mode)),
            ));
        }
    }
    (dir, out)
}

#[test]
fn callers_reach_443_on_the_caller_rows_and_nothing_else_under_tunneling() {
    let (_dir, cases) = cases("callers");
    for (endpoint, mode, e) in cases {
        let case = format!("{endpoint} {mode}");
        // Internal callers: the internal caller row on both endpoints (an external ISE's
        // Internet row does not include peered or on-premises networks).
        assert_eq!(explain(&e, INTERNAL, SUBNET, 443), allowed_by("in-triggers-443-internal"), "{case}");
        if endpoint == "external" {
            assert_eq!(explain(&e, EXTERNAL, SUBNET, 443), allowed_by("in-triggers-443-external"), "{case}");
            assert_eq!(explain(&e, EXTERNAL, SUBNET, 6379), denied_by("deny-all-inbound"), "{case}");
        }
        if mode == "none" {
            // Without tunneling the published Redis rows name VirtualNetwork, which Azure
            // defines to include peered and on-premises networks.
            assert_eq!(explain(&e, INTERNAL, SUBNET, 6379), allowed_by("in-redis-6379-6383"), "{case}");
        } else {
            assert_eq!(explain(&e, INTERNAL, SUBNET, 6379), denied_by("deny-all-inbound"), "{case}");
            assert_eq!(explain(&e, INTERNAL, SUBNET, 454), denied_by("deny-all-inbound"), "{case}");
            assert_eq!(explain(&e, SUBNET, INTERNAL, 6379), denied_by("deny-all-outbound"), "{case}");
        }
        // The ISE's own subnets still reach Redis among themselves (outbound, then inbound).
        let o = isenet(&[
            "explain",
            "--env",
            &e,
            "--from",
            "10.10.1.40",
            "--to",
            SUBNET,
            "--port",
            "6379",
            "--format",
            "json",
        ]);
        let d = stdout_json(&o);
        let access: Vec<&str> = d["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["access"].as_str().unwrap())
            .collect();
        assert_eq!(access, ["Allow", "Allow"], "{case}: {d}");
    }
}

/// The addresses one side of an nsg.json rule names, as text.
fn side(r: &Value, side: &str) -> Vec<String> {
    let p = &r["properties"];
    match p[format!("{side}AddressPrefix")].as_str() {
        Some(a) => vec![a.to_string()],
        None => p[format!("{side}AddressPrefixes")]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect(),
    }
}

/// The addresses of a resolved requirement's peer, as text.
fn peer(p: &Value) -> Vec<String> {
    match p["type"].as_str().unwrap() {
        "tag" => vec![p["name"].as_str().unwrap().to_string()],
        _ => p["prefixes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect(),
    }
}

#[test]
fn requirements_show_the_source_and_destination_the_nsg_writes() {
    let (_dir, cases) = cases("callers-reqs");
    for (endpoint, mode, e) in cases {
        let out = Path::new(&e).with_extension("out");
        let o = isenet(&["compile", "--env", &e, "--out-dir", &path_str(&out)]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let nsg: Value = serde_json::from_str(&std::fs::read_to_string(Path::new(&out).join("nsg.json")).unwrap()).unwrap();
        let reqs = stdout_json(&isenet(&["requirements", "--env", &e, "--format", "json"]));
        let mut checked = 0;
        for r in reqs
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| ["inbound", "outbound"].contains(&r["kind"].as_str().unwrap()))
        {
            let id = r["id"].as_str().unwrap();
            let rule = nsg["properties"]["securityRules"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == id)
                .unwrap_or_else(|| panic!("{endpoint} {mode}: no rule {id}"));
            assert_eq!(side(rule, "source"), peer(&r["source"]), "{endpoint} {mode} {id} source");
            assert_eq!(
                side(rule, "destination"),
                peer(&r["destination"]),
                "{endpoint} {mode} {id} destination"
            );
            checked += 1;
        }
        assert!(checked > 15, "{endpoint} {mode}");
    }
}

/// An external ISE in firewall mode whose callers are the whole Internet (`0.0.0.0/0` among them,
/// W0503) is answered past the firewall no better than one with none: the 0.0.0.0/0 route sends
/// every reply to the firewall (asymmetric routing). Both get W0505 and fail the callers' route
/// requirement (F0201), and the firewall's default route is the table's only 0.0.0.0/0 route.
#[test]
fn internet_wide_callers_in_firewall_mode_are_refused_like_none() {
    let dir = scratch("callers-internet-firewall");
    for (name, callers) in [
        ("none", json!([])),
        ("all", json!(["0.0.0.0/0"])),
        ("all-and-one", json!(["198.18.0.0/24", "0.0.0.0/0"])),
    ] {
        let mut e = env("external", "firewall");
        e["externalCallers"] = callers;
        let file = write(&dir, &format!("{name}.json"), &e);
        let out = dir.path().join(format!("out-{name}"));
        let o = isenet(&["compile", "--env", &file, "--out-dir", &path_str(&out)]);
        assert_eq!(o.status.code(), Some(0), "{name}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("warning[W0505]"),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let table: Value = serde_json::from_str(&std::fs::read_to_string(out.join("route-table.json")).unwrap()).unwrap();
        let defaults: Vec<&Value> = table["properties"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["properties"]["addressPrefix"] == "0.0.0.0/0")
            .collect();
        assert_eq!(defaults.len(), 1, "{name}: {defaults:?}");
        assert_eq!(
            (
                &defaults[0]["properties"]["nextHopType"],
                &defaults[0]["properties"]["nextHopIpAddress"]
            ),
            (&json!("VirtualAppliance"), &json!("10.10.2.4")),
            "{name}"
        );
        let o = isenet(&["verify", "--env", &file, "--format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        let report = stdout_json(&o);
        // Without artifacts, verify proves the environment's compiled ones (one row of a fleet).
        let proofs = report["environments"][0]["verification"]["proofs"].as_array().unwrap();
        let routes = proofs.iter().find(|p| p["artifact"] == "routes").unwrap();
        let failed: Vec<&Value> = routes["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "F0201" && f["requirements"] == json!(["route-external-callers"]))
            .collect();
        assert_eq!(failed.len(), 1, "{name}: {routes:#}");
    }
}
