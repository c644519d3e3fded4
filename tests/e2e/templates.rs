//! ARM templates given to `verify`, `explain` and `diff`: a template that deploys more than the one
//! NSG, route table or rule collection group the proof reads (a child rule or route, a nested
//! deployment, a second NSG) is refused by all three alike (exit 2, coded, at the resource's path),
//! never proved without what it deploys.

use super::common::{envs_dir, isenet, Run};
use super::pipeline::tempdir;
use serde_json::{json, Value};
use std::path::Path;

/// `azuredeploy.json` compiled from tests/envs/`env`.
fn template(dir: &Path, env: &str) -> Value {
    let out = dir.join("out");
    let env = envs_dir().join(env);
    let run = isenet(&[
        "compile",
        "--env",
        &env.to_string_lossy(),
        "--out-dir",
        &out.to_string_lossy(),
        "-q",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    serde_json::from_str(&std::fs::read_to_string(out.join("azuredeploy.json")).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

/// RDP from anywhere: what a rule the proof does not see opens.
fn rdp() -> Value {
    json!({"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "*", "access": "Allow", "priority": 300, "direction": "Inbound"})
}

/// (code, path) of every diagnostic of a run with `--error-format json`.
fn diagnostics(run: &Run) -> Vec<(String, String)> {
    assert_eq!(run.code, Some(2), "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["path"].as_str().unwrap().to_string()))
        .collect()
}

/// The three commands on `file` as the artifact of `flag`: each refuses it with `expected`.
fn refused_by_verify_explain_and_diff(env: &str, flag: &str, file: &str, expected: &[(&str, &str)]) {
    let env = envs_dir().join(env).to_string_lossy().into_owned();
    let expected: Vec<(String, String)> = expected.iter().map(|(c, p)| (c.to_string(), p.to_string())).collect();
    let verify = isenet(&["--error-format", "json", "verify", "--env", &env, flag, file]);
    assert_eq!(diagnostics(&verify), expected, "verify {flag}");
    let explain = isenet(&[
        "--error-format",
        "json",
        "explain",
        "--env",
        &env,
        flag,
        file,
        "--from",
        "203.0.113.5",
        "--to",
        "10.10.1.5",
        "--port",
        "3389",
    ]);
    assert_eq!(diagnostics(&explain), expected, "explain {flag}");
    let diff = isenet(&["--error-format", "json", "diff", "--env", &env, "--deployed", file]);
    assert_eq!(diagnostics(&diff), expected, "diff");
}

fn add_resource(t: &mut Value, resource: Value) -> String {
    let resources = t["resources"].as_array_mut().unwrap();
    resources.push(resource);
    format!("resources[{}]", resources.len() - 1)
}

/// ARM deploys a child `securityRules` resource into its NSG: the RDP it opens was proved away
/// before (verify ok, diff in sync).
#[test]
fn a_child_security_rule_is_refused() {
    let dir = tempdir("template-child-rule");
    let mut t = template(&dir, "minimal-defaults.json");
    let at = add_resource(
        &mut t,
        json!({"type": "Microsoft.Network/networkSecurityGroups/securityRules", "apiVersion": "2023-11-01",
            "name": "[format('{0}/{1}', parameters('nsgName'), 'allow-rdp')]",
            "dependsOn": ["[resourceId('Microsoft.Network/networkSecurityGroups', parameters('nsgName'))]"],
            "properties": rdp()}),
    );
    let file = write(&dir, "child-rule.json", &t);
    refused_by_verify_explain_and_diff("minimal-defaults.json", "--nsg", &file, &[("E1215", &at)]);
    // The message names the resource's type and name and says how to get a file to prove.
    let run = isenet(&[
        "verify",
        "--env",
        &envs_dir().join("minimal-defaults.json").to_string_lossy(),
        "--nsg",
        &file,
    ]);
    assert!(
        run.stderr
            .contains("`Microsoft.Network/networkSecurityGroups/securityRules` `[format('{0}/{1}', parameters('nsgName'), 'allow-rdp')]`")
            && run.stderr.contains("az network nsg show -g RG -n NAME -o json"),
        "{}",
        run.stderr
    );
}

/// The same rule nested in the NSG resource with its short type.
#[test]
fn a_rule_nested_in_its_nsg_is_refused() {
    let dir = tempdir("template-nested-rule");
    let mut t = template(&dir, "minimal-defaults.json");
    let nsg = t["resources"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["type"] == "Microsoft.Network/networkSecurityGroups")
        .unwrap();
    t["resources"][nsg]["resources"] =
        json!([{"type": "securityRules", "apiVersion": "2023-11-01", "name": "allow-rdp", "properties": rdp()}]);
    let file = write(&dir, "nested-rule.json", &t);
    let at = format!("resources[{nsg}].resources[0]");
    refused_by_verify_explain_and_diff("minimal-defaults.json", "--nsg", &file, &[("E1215", &at)]);
}

/// A child route sends traffic past the firewall the proof assumes.
#[test]
fn a_child_route_is_refused() {
    let dir = tempdir("template-child-route");
    let mut t = template(&dir, "firewall-tunneling.json");
    let at = add_resource(
        &mut t,
        json!({"type": "Microsoft.Network/routeTables/routes", "apiVersion": "2023-11-01",
            "name": "[format('{0}/{1}', parameters('routeTableName'), 'bypass')]",
            "properties": {"addressPrefix": "0.0.0.0/1", "nextHopType": "Internet"}}),
    );
    let file = write(&dir, "child-route.json", &t);
    refused_by_verify_explain_and_diff("firewall-tunneling.json", "--routes", &file, &[("E1215", &at)]);
}

/// A nested deployment deploys what its template holds: inline, it is read through and the RDP
/// rule it adds is refused where it is; linked, what it deploys is not there to read.
#[test]
fn a_nested_deployment_is_refused() {
    let dir = tempdir("template-deployment");
    let mut t = template(&dir, "minimal-defaults.json");
    let base = t.clone();
    let at = add_resource(
        &mut t,
        json!({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "more-rules",
            "properties": {"mode": "Incremental", "template": {"resources": [
                {"type": "Microsoft.Network/networkSecurityGroups/securityRules", "apiVersion": "2023-11-01",
                 "name": "contoso-ise-nsg/allow-rdp", "properties": rdp()}]}}}),
    );
    let file = write(&dir, "nested-deployment.json", &t);
    let inner = format!("{at}.properties.template.resources[0]");
    refused_by_verify_explain_and_diff("minimal-defaults.json", "--nsg", &file, &[("E1215", &inner)]);
    let mut t = base;
    let at = add_resource(
        &mut t,
        json!({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "more-rules",
            "properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.com/more-rules.json"}}}),
    );
    let file = write(&dir, "linked-deployment.json", &t);
    refused_by_verify_explain_and_diff("minimal-defaults.json", "--nsg", &file, &[("E1215", &at)]);
}

/// Two NSGs: the proof once took the first, an unused copy, and passed the RDP rule of the one on
/// the subnets. The environment's is read by its name (here the template parameter's default),
/// so the RDP rule is an opening; where the template does not say the names plainly, neither is
/// guessed.
#[test]
fn of_two_nsgs_the_environments_is_proved_and_unknown_names_are_refused() {
    let dir = tempdir("template-two-nsgs");
    let mut t = template(&dir, "minimal-defaults.json");
    let resources = t["resources"].as_array_mut().unwrap();
    let nsg = resources
        .iter()
        .position(|r| r["type"] == "Microsoft.Network/networkSecurityGroups")
        .unwrap();
    let mut unused = resources[nsg].clone();
    unused["name"] = json!("unused-nsg");
    resources[nsg]["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "allow-rdp", "properties": rdp()}));
    resources.insert(0, unused);
    let file = write(&dir, "two-nsgs.json", &t);
    let env = envs_dir().join("minimal-defaults.json").to_string_lossy().into_owned();
    let run = isenet(&["verify", "--env", &env, "--nsg", &file, "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let report = run.json();
    let openings: Vec<&str> = report["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "F0102")
        .map(|f| f["rule"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(openings, ["allow-rdp"], "{report}");

    // Names the template computes (`toLower`) say nothing: two NSGs that may both be the
    // environment's are refused by all three commands.
    t["resources"][0]["name"] = json!("[toLower('Unused-NSG')]");
    t["resources"][nsg + 1]["name"] = json!("[toLower(parameters('nsgName'))]");
    let file = write(&dir, "two-unnamed-nsgs.json", &t);
    let second = format!("resources[{}]", nsg + 1);
    refused_by_verify_explain_and_diff("minimal-defaults.json", "--nsg", &file, &[("E1216", &second)]);
    let run = isenet(&["verify", "--env", &env, "--nsg", &file]);
    assert!(
        run.stderr
            .contains("`[toLower(parameters('nsgName'))]`: a second NSG, besides `[toLower('Unused-NSG')]` at resources[0]"),
        "{}",
        run.stderr
    );
}

/// An exported resource group lists each rule inline and again as a child resource: a child equal
/// to an inline rule is that rule, one that differs is refused.
#[test]
fn exported_children_repeating_inline_rules_are_read_and_others_refused() {
    let fixture = super::common::workspace().join("tests/fixtures/deployed/exported-template.json");
    let ok = isenet(&["verify", "--nsg", &fixture.to_string_lossy(), "--format", "json"]);
    assert_ne!(ok.code, Some(2), "{}", ok.stderr);
    let dir = tempdir("template-exported");
    let mut t: Value = serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let resources = t["resources"].as_array_mut().unwrap();
    let child = resources
        .iter()
        .position(|r| r["type"] == "Microsoft.Network/networkSecurityGroups/securityRules")
        .unwrap();
    resources[child]["properties"]["sourceAddressPrefix"] = json!("*");
    let file = write(&dir, "exported-edited.json", &t);
    let run = isenet(&["--error-format", "json", "verify", "--nsg", &file]);
    assert_eq!(diagnostics(&run), [("E1215".to_string(), format!("resources[{child}]"))]);
}
