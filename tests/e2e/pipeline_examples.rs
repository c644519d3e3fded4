//! docs/pipelines/, run: the smoke-test flows file gets the verdicts seed 002 gives on the embedded
//! example, and the steps of both pipeline examples that need no Azure login (validate, compile
//! --check, verify, explain --flows; one environment and a fleet) pass as written in a repository
//! laid out as the examples' header describes, and fail once the committed artifacts fall behind.
//! (crates/cli/src/pipelines_doc.rs checks that every command of the examples parses.)

use crate::common::{isenet, isenet_in, workspace, Run};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

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
                // The rule serves the seed's requirement (and any other whose addresses the
                // tags share: LogicApps and LogicAppsManagement overlap).
                assert!(
                    !requirements.is_disjoint(&admitted),
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
/// committed artifacts, the smoke test and the tag file) and envs/ + deploy/ (a fleet of three: one
/// under ExpressRoute forced tunneling so that it has a route table, one in firewall mode so that it
/// also has firewall rules), plus deployed/ as the `az ... show` exports would fill it. `test` keeps
/// the folders of tests running at once apart.
fn user_repository(test: &str) -> crate::common::Scratch {
    let repo = crate::common::scratch("pipeline-examples", test);
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
    let mut firewalled = example.clone();
    firewalled["name"] = json!("northwind-ise");
    firewalled["forcedTunneling"] = json!({ "mode": "firewall", "firewallPrivateIp": FIREWALL_IP });
    write_json(&repo.join("envs/northwind.json"), &firewalled);
    let tags = ["--service-tags", "network/service-tags.json"];
    for args in [
        &["compile", "--env", "network/env.json", "--out-dir", "network/out"][..],
        &["compile", "--env-dir", "envs", "--out-dir", "deploy"][..],
    ] {
        let r = isenet_in(&repo, &[args, &tags[..]].concat());
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
    }
    for name in FLEET {
        for file in ["nsg.json", "route-table.json", "firewall-policy.json"] {
            let from = repo.join("deploy").join(name).join(file);
            if from.exists() {
                std::fs::create_dir_all(repo.join("deployed").join(name)).unwrap();
                std::fs::copy(&from, repo.join("deployed").join(name).join(file)).unwrap();
            }
        }
    }
    assert!(repo.join("deployed/fabrikam-ise/route-table.json").exists());
    assert!(repo.join("deployed/northwind-ise/firewall-policy.json").exists());
    repo
}

const FLEET: [&str; 3] = ["contoso-ise", "fabrikam-ise", "northwind-ise"];

/// A SARIF upload of a fleet whose artifacts hold: valid, and nothing code scanning would keep as
/// an alert (the notes on isenet's own rules are left out without --verbose).
fn assert_no_alerts(sarif: &Value, what: &str) {
    assert_eq!(super::formats::sarif_errors(sarif), Vec::<String>::new(), "{what}");
    assert_eq!(sarif["runs"][0]["results"], json!([]), "{what}: {sarif:#}");
    assert!(sarif["runs"][0].get("invocations").is_none(), "{what}: {sarif:#}");
}
const FIREWALL_IP: &str = "10.20.0.4";

#[test]
fn the_offline_steps_of_the_pipeline_examples_pass_as_written_and_catch_stale_artifacts() {
    let dir = workspace().join("docs/pipelines");
    for (files, step) in OFFLINE_STEPS {
        for file in files {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            assert!(text.contains(step), "docs/pipelines/{file} no longer runs `{step}`");
        }
    }
    let repo = user_repository("offline");
    for (_, step) in OFFLINE_STEPS {
        let r = run_step(&repo, step);
        assert_eq!(r.code, Some(0), "`{step}`:\n{}{}", r.stdout, r.stderr);
        if step.ends_with("sarif") {
            assert_no_alerts(&r.json(), step);
        }
        if step.ends_with("junit") {
            // Every environment was proved: a test suite each.
            for name in FLEET {
                assert!(r.stdout.contains(&format!("<testsuite name=\"{name}\"")), "{name}: {}", r.stdout);
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

/// Stands in for the Azure CLI in the fleet's export step: serves deploy/<name>/ as the deployed
/// resources (the rule collection group in the shape `az ... show` prints, properties flattened),
/// logs every call, and fails on anything else so a wrong name or resource group shows.
const AZ_STUB: &str = r#"#!/bin/bash
echo "$*" >> az.log
arg() { local want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
POLICY=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub-network/providers/Microsoft.Network/firewallPolicies/hub-policy
case "$*" in
  "network nsg show "*) cat "deploy/$(arg -n "$@" | sed 's/-nsg$//')/nsg.json" ;;
  "network route-table show "*) cat "deploy/$(arg -n "$@" | sed 's/-routes$//')/route-table.json" ;;
  "network firewall list "*)
    echo '[{"name": "other-fw", "ipConfigurations": [{"privateIPAddress": "10.99.0.4"}], "firewallPolicy": {"id": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/firewallPolicies/other"}},'
    echo ' {"name": "hub-fw", "ipConfigurations": [{"privateIPAddress": "10.20.0.4"}], "firewallPolicy": {"id": "'$POLICY'"}}]' ;;
  "network firewall policy rule-collection-group show "*)
    [ "$(arg --subscription "$@")" = 00000000-0000-0000-0000-000000000000 ] && [ "$(arg -g "$@")" = hub-network ] \
      && [ "$(arg --policy-name "$@")" = hub-policy ] && [ "$(arg -n "$@")" = northwind-ise-dependencies ] || exit 3
    jq '.resources[0] | {name: "northwind-ise-dependencies", priority: .properties.priority, ruleCollections: .properties.ruleCollections}' \
      deploy/northwind-ise/firewall-policy.json ;;
  *) echo "az stub: unexpected call: $*" >&2; exit 3 ;;
esac
"#;

/// The script of the step whose name (GitHub) or displayName (Azure) starts with `name`.
fn step_script(v: &serde_norway::Value, name: &str) -> Option<String> {
    use serde_norway::Value as Y;
    match v {
        Y::Mapping(m) => {
            let named = ["name", "displayName"]
                .iter()
                .any(|k| m.get(*k).and_then(Y::as_str).is_some_and(|n| n.starts_with(name)));
            if named {
                let script = m.get("run").or_else(|| m.get("inputs").and_then(|i| i.get("inlineScript")));
                return script.and_then(Y::as_str).map(str::to_string);
            }
            m.values().find_map(|v| step_script(v, name))
        }
        Y::Sequence(s) => s.iter().find_map(|v| step_script(v, name)),
        _ => None,
    }
}

// The step is a bash script; it runs where bash and Unix permissions do.
#[cfg(unix)]
#[test]
fn the_deployed_fleet_step_exports_what_each_mode_needs_and_verify_passes() {
    let jq = std::process::Command::new("jq").arg("--version").output();
    assert!(jq.is_ok_and(|o| o.status.success()), "this test needs jq, as the step it runs does");
    let repo = user_repository("deployed");
    let bin = repo.join("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("az"), AZ_STUB).unwrap();
    let mut perms = std::fs::metadata(bin.join("az")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(bin.join("az"), perms).unwrap();
    let isenet_dir = Path::new(env!("CARGO_BIN_EXE_isenet")).parent().unwrap();
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        isenet_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for file in [AZURE, GITHUB] {
        let text = std::fs::read_to_string(workspace().join("docs/pipelines").join(file)).unwrap();
        let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
        let script = step_script(&doc, "Prove the deployed NSGs").unwrap_or_else(|| panic!("{file}: no deployed fleet step"));
        // Azure Pipelines expands its macro before bash runs the script.
        let script = script.replace("$(Build.ArtifactStagingDirectory)", ".");
        let _ = std::fs::remove_dir_all(repo.join("deployed"));
        let _ = std::fs::remove_file(repo.join("az.log"));
        let out = std::process::Command::new("bash")
            .args(["-e", "-o", "pipefail", "-c", &script])
            .current_dir(&repo)
            .env("PATH", &path)
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{file}: the step fails:\n{stdout}{stderr}");
        let log = std::fs::read_to_string(repo.join("az.log")).unwrap();
        assert!(log.contains("network firewall policy rule-collection-group show"), "{file}: {log}");
        // Only the firewall-mode environment has firewall rules fetched, and each mode its files.
        for (name, files) in [
            ("contoso-ise", &["nsg.json"][..]),
            ("fabrikam-ise", &["nsg.json", "route-table.json"][..]),
            ("northwind-ise", &["firewall-policy.json", "nsg.json", "route-table.json"][..]),
        ] {
            let mut got: Vec<String> = std::fs::read_dir(repo.join("deployed").join(name))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            got.sort();
            assert_eq!(got, files, "{file}: deployed/{name}/");
        }
        let sarif: Value = serde_json::from_str(&std::fs::read_to_string(repo.join("isenet-fleet.sarif")).unwrap()).unwrap();
        assert_no_alerts(&sarif, file);
        // Every environment was proved against what was exported.
        let proved = isenet_in(
            &repo,
            &[
                "verify",
                "--env-dir",
                "envs",
                "--service-tags",
                "network/service-tags.json",
                "--artifacts-dir",
                "deployed",
                "--format",
                "json",
            ],
        );
        let report = proved.json();
        let results: Vec<(&str, &str)> = report["environments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["environment"].as_str().unwrap(), e["result"].as_str().unwrap()))
            .collect();
        assert_eq!(results, FLEET.map(|n| (n, "ok")), "{file}");
    }
    let _ = std::fs::remove_dir_all(&repo);
}
