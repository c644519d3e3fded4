//! Every port-table version end to end: compile with `--table-version`, prove with the same
//! version (`verify`, `explain` and `diff` take it too), and the version-specific rows: the
//! Redis FAQ's outbound ports in the 2021 table (seed 002: "6379 - 6383, plus see Notes"), the
//! firewall's web dependencies through a restricted NSG, firewall mode only from the table that
//! has the forced tunneling requirements, service endpoints only for a firewall.

use super::common::{isenet, workspace};
use super::pipeline::tempdir;
use serde_json::Value;
use std::path::{Path, PathBuf};

const VERSIONS: [&str; 5] = ["2020-06-03", "2020-09-25", "2021", "2022-08-20", "2023-09-27"];

fn env_with(dir: &Path, source: &str, name: &str, edit: impl Fn(&mut Value)) -> PathBuf {
    let text = std::fs::read_to_string(workspace().join("tests/envs").join(format!("{source}.json"))).unwrap();
    let mut env: Value = serde_json::from_str(&text).unwrap();
    edit(&mut env);
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&env).unwrap()).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn requirement_ids(env: &Path, version: &str) -> Vec<String> {
    let run = isenet(&["requirements", "--env", s(env), "--table-version", version, "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn each_table_version_compiles_to_artifacts_its_own_proof_accepts_in_every_mode() {
    let dir = tempdir("table-versions-proved");
    for (source, policy, endpoint) in [
        ("firewall-tunneling", "restricted", "internal"),
        ("firewall-tunneling", "restricted", "external"),
        ("firewall-tunneling", "open", "internal"),
        ("restricted-outbound", "restricted", "internal"),
        ("expressroute-tunneling", "restricted", "external"),
    ] {
        let name = format!("{source}-{policy}-{endpoint}");
        let env = env_with(&dir, source, &name, |e| {
            e["outboundPolicy"] = policy.into();
            e["accessEndpoint"] = endpoint.into();
            // An external ISE's callers are declared: in firewall mode their replies need routes
            // to the Internet (the whole Internet cannot have them: W0505).
            e["externalCallers"] = match endpoint {
                "external" => serde_json::json!(["198.51.100.0/24"]),
                _ => serde_json::json!([]),
            };
        });
        let firewall = source.starts_with("firewall");
        for version in VERSIONS {
            let out = dir.join(format!("{name}-{version}"));
            let run = isenet(&["compile", "-q", "--env", s(&env), "--table-version", version, "--out-dir", s(&out)]);
            if firewall && version == "2020-06-03" {
                // That table has no forced tunneling section: no route to the firewall.
                assert_eq!(run.code, Some(2), "{name} {version}: {}", run.stderr);
                assert!(
                    run.stderr.contains("E1005") && run.stderr.contains("forcedTunneling.mode"),
                    "{}",
                    run.stderr
                );
                assert!(!out.exists(), "no partial output");
                continue;
            }
            assert_eq!(run.code, Some(0), "{name} {version}: {}", run.stderr);
            let mut args = vec!["verify", "--env", s(&env), "--table-version", version];
            let (nsg, routes, fw) = (out.join("nsg.json"), out.join("route-table.json"), out.join("firewall-policy.json"));
            args.extend(["--nsg", s(&nsg)]);
            if source != "restricted-outbound" {
                args.extend(["--routes", s(&routes)]);
            }
            if firewall {
                args.extend(["--firewall", s(&fw)]);
            }
            let v = isenet(&args);
            assert_eq!(v.code, Some(0), "{name} {version}:\n{}{}", v.stdout, v.stderr);
            // Every review row is proved when the proof holds.
            let review = std::fs::read_to_string(out.join("review.csv")).unwrap();
            assert!(review.lines().skip(1).all(|l| l.ends_with(",yes")), "{name} {version}");
            // The ticket's validation commands prove with the table the artifacts came from.
            let ticket = std::fs::read_to_string(out.join("change-ticket.md")).unwrap();
            let latest = version == VERSIONS[VERSIONS.len() - 1];
            assert_eq!(
                ticket.contains(&format!(
                    "isenet verify --env env.json --table-version {version} --nsg deployed-nsg.json"
                )),
                !latest,
                "{name} {version}"
            );
            let d = isenet(&["diff", "--env", s(&env), "--table-version", version, "--deployed", s(&nsg)]);
            assert_eq!(d.code, Some(0), "{name} {version}: {}{}", d.stdout, d.stderr);
        }
    }
}

#[test]
fn artifacts_of_an_older_table_fail_the_latest_tables_proof_and_pass_their_own() {
    let dir = tempdir("table-versions-mismatch");
    let env = workspace().join("tests/envs/firewall-tunneling.json");
    let out = dir.join("out");
    assert_eq!(
        isenet(&["compile", "-q", "--env", s(&env), "--table-version", "2021", "--out-dir", s(&out)]).code,
        Some(0)
    );
    let routes = out.join("route-table.json");
    // The 2022-08-20 table added routes for the API Management control plane.
    let latest = isenet(&["verify", "--env", s(&env), "--routes", s(&routes)]);
    assert_eq!(latest.code, Some(1), "{}", latest.stdout);
    assert!(latest.stdout.contains("route-apim-control-plane"), "{}", latest.stdout);
    let own = isenet(&["verify", "--env", s(&env), "--routes", s(&routes), "--table-version", "2021"]);
    assert_eq!(own.code, Some(0), "{}", own.stdout);
    let bad = isenet(&["verify", "--env", s(&env), "--routes", s(&routes), "--table-version", "1999"]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("unknown table version `1999`"), "{}", bad.stderr);
    let nsg = out.join("nsg.json");
    for cmd in [
        &["explain", "--from", "10.10.1.5", "--to", "Storage"][..],
        &["diff", "--deployed", s(&nsg)][..],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--env", s(&env), "--table-version", "1999"]);
        let run = isenet(&args);
        assert_eq!(run.code, Some(2), "{args:?}");
        assert!(run.stderr.contains("E0104"), "{}", run.stderr);
    }
}

#[test]
fn the_redis_faq_ports_apply_from_the_2021_table_until_certificate_verification_covers_them() {
    let env = workspace().join("tests/envs/restricted-outbound.json");
    let has = |version: &str, id: &str| requirement_ids(&env, version).iter().any(|r| r == id);
    // Seed 002 (the 2021 table) asks for the Redis FAQ's ports; the older tables do not.
    assert!(!has("2020-09-25", "out-redis-deps-80-443"));
    assert!(has("2021", "out-redis-deps-80-443"));
    // From 2022-08-20, out-cert-verify-80-443 (Internet 80 and 443) admits the same flows.
    for version in ["2022-08-20", "2023-09-27"] {
        assert!(!has(version, "out-redis-deps-80-443"), "{version}");
        assert!(has(version, "out-cert-verify-80-443"), "{version}");
    }
    let dir = tempdir("table-versions-redis");
    let out = dir.join("out");
    assert_eq!(
        isenet(&["compile", "-q", "--env", s(&env), "--table-version", "2021", "--out-dir", s(&out)]).code,
        Some(0)
    );
    // redis-vnet-ports.csv: Key Vault and Azure Monitor on 443, Storage/PKI on 80 and 443.
    for (to, port) in [
        ("AzureKeyVault", "443"),
        ("AzureMonitor", "443"),
        ("23.216.55.1", "80"),
        ("23.216.55.1", "443"),
    ] {
        let e = isenet(&[
            "explain",
            "--env",
            s(&env),
            "--table-version",
            "2021",
            "--nsg",
            s(&out.join("nsg.json")),
            "--from",
            "10.10.1.5",
            "--to",
            to,
            "--port",
            port,
            "--expect",
            "allow",
        ]);
        assert_eq!(e.code, Some(0), "{to}:{port}\n{}{}", e.stdout, e.stderr);
    }
}

#[test]
fn the_firewalls_web_dependencies_pass_a_restricted_nsg_in_the_2020_09_25_table() {
    let dir = tempdir("table-versions-fw-web");
    let env = env_with(&dir, "firewall-tunneling", "fw", |e| e["outboundPolicy"] = "restricted".into());
    let has = |version: &str, id: &str| requirement_ids(&env, version).iter().any(|r| r == id);
    assert!(has("2020-09-25", "out-fw-web-80-443"));
    assert!(!has("2021", "out-fw-web-80-443"), "the Redis row admits the same flows from 2021");
    let out = dir.join("out");
    assert_eq!(
        isenet(&[
            "compile",
            "-q",
            "--env",
            s(&env),
            "--table-version",
            "2020-09-25",
            "--out-dir",
            s(&out)
        ])
        .code,
        Some(0)
    );
    let e = isenet(&[
        "explain",
        "--env",
        s(&env),
        "--table-version",
        "2020-09-25",
        "--nsg",
        s(&out.join("nsg.json")),
        "--routes",
        s(&out.join("route-table.json")),
        "--firewall",
        s(&out.join("firewall-policy.json")),
        "--from",
        "10.10.1.5",
        "--to",
        "login.live.com",
        "--port",
        "443",
        "--expect",
        "allow",
    ]);
    assert_eq!(e.code, Some(0), "{}{}", e.stdout, e.stderr);
}

#[test]
fn service_endpoints_are_enabled_for_a_firewall_only() {
    // Seed 002 asks for them under "forced tunneling through your firewall": the services cannot
    // go through a firewall. ExpressRoute mode sends the ISE's traffic to the Internet directly.
    let dir = tempdir("table-versions-endpoints");
    for (source, expected) in [("expressroute-tunneling", 0), ("firewall-tunneling", 5), ("public-internal", 0)] {
        let out = dir.join(source);
        let env = workspace().join("tests/envs").join(format!("{source}.json"));
        assert_eq!(
            isenet(&["compile", "-q", "--env", s(&env), "--out-dir", s(&out), "--only", "subnets"]).code,
            Some(0)
        );
        let subnets: Value = serde_json::from_str(&std::fs::read_to_string(out.join("subnets.json")).unwrap()).unwrap();
        let text = subnets.to_string();
        for service in [
            "Microsoft.Sql",
            "Microsoft.Storage",
            "Microsoft.ServiceBus",
            "Microsoft.KeyVault",
            "Microsoft.EventHub",
        ] {
            assert_eq!(
                text.matches(&format!("\"{service}\"")).count(),
                if expected > 0 { 4 } else { 0 },
                "{source} {service}"
            );
        }
    }
}
