//! docs/pipelines/, run: the smoke-test flows file gets the verdicts seed 002 gives on the embedded
//! example, and the steps of both pipeline examples that need no Azure login (validate, compile
//! --check, verify, explain --flows; one environment and a fleet) pass as written in a repository
//! laid out as the examples' header describes, and fail once the committed artifacts fall behind.
//! (crates/cli/src/pipelines_doc.rs checks that every command of the examples parses.)

use crate::common::{isenet, isenet_in, workspace, Run};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One flow of docs/pipelines/flows.csv and what seed 002's port tables say of it on the embedded
/// example (internal ISE, no forced tunneling, VNet 10.10.0.0/16, custom DNS 10.10.0.4).
struct SeedFlow {
    /// from, to, port, protocol, expect: the CSV row.
    row: [&'static str; 5],
    /// The published rows that admit the flow: one of them decides each part of it, whichever
    /// comes first (a tag may hold another's addresses: LogicApps holds LogicAppsManagement's
    /// inbound addresses; the 2022 table's certificate row opens 80 and 443 to the Internet, which
    /// holds the Azure services' addresses). Empty for a denied flow: the explicit deny-all decides.
    admitted_by: &'static [&'static str],
}

const fn flow(row: [&'static str; 5], admitted_by: &'static [&'static str]) -> SeedFlow {
    SeedFlow { row, admitted_by }
}

const ISE_HOST: &str = "10.10.1.70";
const CERT: &str = "out-cert-verify-80-443";

const SEED_FLOWS: [SeedFlow; 20] = [
    // Inbound security rules.
    flow(["LogicAppsManagement", ISE_HOST, "454", "Tcp", "allow"], &["in-designer-454"]),
    flow(
        ["LogicApps", ISE_HOST, "454", "Tcp", "allow"],
        &["in-health-454", "in-designer-454"],
    ),
    flow(["AzureConnectors", ISE_HOST, "454", "Tcp", "allow"], &["in-connector-deploy-454"]),
    flow(
        ["AppServiceManagement", ISE_HOST, "454-455", "Tcp", "allow"],
        &["in-appservice-mgmt-454-455"],
    ),
    // Internal ISE: Traffic Manager probes 454 (an external one 443).
    flow(
        ["AzureTrafficManager", ISE_HOST, "454", "Tcp", "allow"],
        &["in-traffic-manager-454"],
    ),
    flow(["ApiManagement", ISE_HOST, "3443", "Tcp", "allow"], &["in-apim-mgmt-3443"]),
    // Internal ISE: request triggers and run history from the virtual network, whose whole address
    // space the intersubnet row also admits.
    flow(
        ["10.10.2.4", ISE_HOST, "443", "Tcp", "allow"],
        &["in-triggers-443-internal", "in-intersubnet"],
    ),
    flow(
        ["10.10.1.5", ISE_HOST, "6379-6383", "Tcp", "allow"],
        &["in-intersubnet", "out-intersubnet", "in-redis-6379-6383", "out-redis-6379-6383"],
    ),
    // Outbound security rules.
    flow(["10.10.1.5", "Storage", "443", "Tcp", "allow"], &["out-storage-80-443-445", CERT]),
    flow(["10.10.1.5", "Storage", "445", "Tcp", "allow"], &["out-storage-80-443-445"]),
    flow(
        ["10.10.1.5", "AzureActiveDirectory", "443", "Tcp", "allow"],
        &["out-entra-80-443", CERT],
    ),
    flow(["10.10.1.5", "AppService", "443", "Tcp", "allow"], &["out-appservice-443", CERT]),
    flow(["10.10.1.5", "AzureMonitor", "1886", "Tcp", "allow"], &["out-monitor-1886"]),
    flow(["10.10.1.5", "Sql", "1433", "Tcp", "allow"], &["out-sql-1433"]),
    flow(["10.10.1.5", "EventHub", "5672", "Tcp", "allow"], &["out-eventhub-5672"]),
    // The custom DNS server sits in the VNet, so intersubnet admits it too.
    flow(["10.10.1.5", "10.10.0.4", "53", "Udp", "allow"], &["out-dns-53", "out-intersubnet"]),
    // Nothing else inbound from the Internet.
    flow(["203.0.113.0/24", ISE_HOST, "22", "Tcp", "deny"], &[]),
    flow(["203.0.113.0/24", ISE_HOST, "3389", "Tcp", "deny"], &[]),
    flow(["203.0.113.0/24", ISE_HOST, "443", "Tcp", "deny"], &[]),
    flow(["203.0.113.0/24", ISE_HOST, "454", "Tcp", "deny"], &[]),
];

const FLOWS_FILE: &str = "docs/pipelines/flows.csv";

#[test]
fn the_example_flows_file_gets_the_seed_verdicts() {
    // The file holds exactly the flows above, in order (comments and the header aside).
    let text = std::fs::read_to_string(workspace().join(FLOWS_FILE)).unwrap();
    let mut lines = text.lines().filter(|l| !l.is_empty() && !l.starts_with('#'));
    assert_eq!(lines.next(), Some("from,to,port,protocol,expect"));
    let rows: Vec<&str> = lines.collect();
    let expected: Vec<String> = SEED_FLOWS.iter().map(|f| f.row.join(",")).collect();
    assert_eq!(rows, expected, "{FLOWS_FILE} and the seed's flows differ");

    let r = isenet(&["explain", "--flows", FLOWS_FILE]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("20 flows, 20 with an expectation, 0 mismatches"), "{}", r.stdout);

    let r = isenet(&["explain", "--flows", FLOWS_FILE, "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let got = r.json();
    let got = got.as_array().expect("one explanation per flow");
    assert_eq!(got.len(), SEED_FLOWS.len());
    for (f, e) in SEED_FLOWS.iter().zip(got) {
        let [from, to, port, protocol, expect] = f.row;
        let what = format!("{from} -> {to} {protocol}/{port}: {e:#}");
        assert_eq!((&e["verdict"], &e["matches"]), (&json!(expect), &json!(true)), "{what}");
        let decisions = e["decisions"].as_array().unwrap();
        assert!(!decisions.is_empty(), "{what}");
        for d in decisions {
            assert_eq!(d["defaultRule"], false, "decided by an Azure default rule: {what}");
            let requirements: BTreeSet<&str> = d["requirements"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
            if expect == "allow" {
                assert_eq!(d["access"], "Allow", "{what}");
                let admitted: BTreeSet<&str> = f.admitted_by.iter().copied().collect();
                assert!(
                    !requirements.is_empty() && requirements.is_subset(&admitted),
                    "{what}: decided for {requirements:?}, the seed admits it by {admitted:?}"
                );
            } else {
                assert_eq!(
                    (d["access"].as_str(), d["rule"].as_str()),
                    (Some("Deny"), Some("deny-all-inbound")),
                    "{what}"
                );
                assert!(requirements.is_empty(), "{what}");
            }
        }
    }
}

const AZURE: &str = "azure-pipelines.yml";
const GITHUB: &str = "github-actions.yml";

/// The steps of the examples that need no Azure login, verbatim, and the files that hold them.
const OFFLINE_STEPS: [(&[&str], &str); 10] = [
    (&[AZURE, GITHUB], "isenet validate --env network/env.json --service-tags network/service-tags.json"),
    (
        &[AZURE, GITHUB],
        "isenet compile --env network/env.json --service-tags network/service-tags.json --check --out-dir network/out",
    ),
    (
        &[AZURE],
        "isenet verify --env network/env.json --service-tags network/service-tags.json --nsg network/out/nsg.json --format azure-devops",
    ),
    (
        &[GITHUB],
        "isenet verify --env network/env.json --service-tags network/service-tags.json --nsg network/out/nsg.json --format github",
    ),
    (
        &[AZURE, GITHUB],
        "isenet explain --env network/env.json --service-tags network/service-tags.json --nsg network/out/nsg.json --flows network/flows.csv",
    ),
    (&[AZURE, GITHUB], "isenet validate envs/*.json --service-tags network/service-tags.json"),
    (
        &[AZURE, GITHUB],
        "isenet compile --env-dir envs --service-tags network/service-tags.json --check --out-dir deploy",
    ),
    (
        &[AZURE],
        "isenet verify --env-dir envs --service-tags network/service-tags.json --artifacts-dir deploy --format junit",
    ),
    (
        &[GITHUB],
        "isenet verify --env-dir envs --service-tags network/service-tags.json --artifacts-dir deploy --format github",
    ),
    // After the examples export each environment's deployed NSG (and route table) to
    // deployed/<name>/ with `az ... show`.
    (
        &[AZURE, GITHUB],
        "isenet verify --env-dir envs --service-tags network/service-tags.json --artifacts-dir deployed --format sarif",
    ),
];

/// Runs one step in the repository `repo`, the shell's `envs/*.json` expanded as bash would.
fn run_step(repo: &Path, step: &str) -> Run {
    let mut args: Vec<String> = Vec::new();
    for word in step.split_whitespace().skip(1) {
        if word == "envs/*.json" {
            let mut files: Vec<String> = std::fs::read_dir(repo.join("envs"))
                .unwrap()
                .map(|e| format!("envs/{}", e.unwrap().file_name().to_string_lossy()))
                .filter(|f| f.ends_with(".json"))
                .collect();
            files.sort();
            args.extend(files);
        } else {
            args.push(word.to_string());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    isenet_in(repo, &args)
}

fn write_json(path: &Path, v: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// A user's repository as the examples' header describes it: network/ (one environment, its
/// committed artifacts, the smoke test and the tag file) and envs/ + deploy/ (a fleet of two, one
/// of them under ExpressRoute forced tunneling so that it has a route table), plus deployed/ as the
/// `az ... show` exports would fill it.
fn user_repository() -> PathBuf {
    let repo = std::env::temp_dir().join(format!("isenet-pipeline-examples-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(repo.join("network")).unwrap();
    std::fs::copy(
        workspace().join("data/servicetags/ServiceTags_Public_20251028.json"),
        repo.join("network/service-tags.json"),
    )
    .unwrap();
    std::fs::copy(workspace().join(FLOWS_FILE), repo.join("network/flows.csv")).unwrap();
    let example = isenet(&["example"]).json();
    write_json(&repo.join("network/env.json"), &example);
    write_json(&repo.join("envs/contoso.json"), &example);
    let mut other = example.clone();
    other["name"] = json!("fabrikam-ise");
    other["accessEndpoint"] = json!("external");
    other["forcedTunneling"] = json!({ "mode": "expressRoute" });
    write_json(&repo.join("envs/fabrikam.json"), &other);
    let tags = ["--service-tags", "network/service-tags.json"];
    for args in [
        &["compile", "--env", "network/env.json", "--out-dir", "network/out"][..],
        &["compile", "--env-dir", "envs", "--out-dir", "deploy"][..],
    ] {
        let r = isenet_in(&repo, &[args, &tags[..]].concat());
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
    }
    for name in ["contoso-ise", "fabrikam-ise"] {
        for file in ["nsg.json", "route-table.json"] {
            let from = repo.join("deploy").join(name).join(file);
            if from.exists() {
                std::fs::create_dir_all(repo.join("deployed").join(name)).unwrap();
                std::fs::copy(&from, repo.join("deployed").join(name).join(file)).unwrap();
            }
        }
    }
    assert!(repo.join("deployed/fabrikam-ise/route-table.json").exists());
    repo
}

#[test]
fn the_offline_steps_of_the_pipeline_examples_pass_as_written_and_catch_stale_artifacts() {
    let dir = workspace().join("docs/pipelines");
    for (files, step) in OFFLINE_STEPS {
        for file in files {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            assert!(text.contains(step), "docs/pipelines/{file} no longer runs `{step}`");
        }
    }
    let repo = user_repository();
    for (_, step) in OFFLINE_STEPS {
        let r = run_step(&repo, step);
        assert_eq!(r.code, Some(0), "`{step}`:\n{}{}", r.stdout, r.stderr);
        if step.ends_with("sarif") {
            let results: Vec<String> = r.json()["runs"][0]["results"]
                .as_array()
                .expect("SARIF results")
                .iter()
                .map(|r| r["message"]["text"].as_str().unwrap_or_default().to_string())
                .collect();
            // Both environments were proved (notes such as shadowed rules name their environment).
            for name in ["contoso-ise", "fabrikam-ise"] {
                assert!(results.iter().any(|m| m.starts_with(name)), "{name}: {results:?}");
            }
        }
    }

    // Outbound restricted in one environment of the fleet (and a destination added), without
    // recompiling: the committed artifacts are stale, and their NSG lacks the deny-all-outbound
    // that restricting needs, so Azure's default outbound rules open what nothing requires (exit 1).
    let path = repo.join("envs/fabrikam.json");
    let mut env: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    env["outboundPolicy"] = json!("restricted");
    env["outboundDestinations"].as_array_mut().unwrap().push(json!({
        "name": "partner-api", "prefixes": ["198.51.100.20/32"], "protocol": "Tcp", "ports": ["8443"]
    }));
    write_json(&path, &env);
    let stale = [
        (
            "isenet compile --env-dir envs --service-tags network/service-tags.json --check --out-dir deploy",
            "stale: nsg.json",
        ),
        (
            "isenet verify --env-dir envs --service-tags network/service-tags.json --artifacts-dir deploy --format junit",
            // Under ExpressRoute the VirtualNetwork tag holds the 0.0.0.0/0 route's addresses.
            "rule AllowVnetOutBound admits flows",
        ),
    ];
    for (step, says) in stale {
        let r = run_step(&repo, step);
        assert_eq!(r.code, Some(1), "`{step}` after an uncompiled change:\n{}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("fabrikam-ise") && r.stdout.contains(says), "{}", r.stdout);
    }
    let r = run_step(&repo, "isenet validate envs/*.json --service-tags network/service-tags.json");
    assert_eq!(r.code, Some(0), "the changed environment is still valid: {}", r.stderr);
    let _ = std::fs::remove_dir_all(&repo);
}
