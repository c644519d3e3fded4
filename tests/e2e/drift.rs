//! `isenet diff --deployed` end to end, on az and ARM outputs written by hand in Azure's documented
//! shapes (tests/fixtures/deployed/): properties lifted to the top level, `etag`, `id`,
//! `provisioningState`, `resourceGroup`, `type`, `defaultSecurityRules`, plural fields empty when
//! the singular is set. Expected changes are the edits each fixture's comment in this file names;
//! expected missing requirements are the seed-002 rows those edits break.

use super::common::{envs_dir, isenet, workspace, Run};
use super::pipeline::tempdir;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const EXPRESSROUTE_ENV: &str = "tests/envs/expressroute-tunneling.json";
const FIREWALL_ENV: &str = "tests/envs/firewall-tunneling.json";

fn fixture(name: &str) -> String {
    format!("tests/fixtures/deployed/{name}")
}

fn diff(env: Option<&str>, files: &[&str], format: &str) -> Run {
    let mut args = vec!["diff".to_string(), "--format".into(), format.into()];
    if let Some(e) = env {
        args.extend(["--env".into(), e.into()]);
    }
    for f in files {
        args.extend(["--deployed".into(), f.to_string()]);
    }
    isenet(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn report(env: Option<&str>, files: &[&str]) -> (Option<i32>, Value) {
    let run = diff(env, files, "json");
    (run.code, run.json())
}

/// (action, name, deployed name, changed fields) of each change.
fn changes(report: &Value) -> Vec<(String, String, Option<String>, Vec<String>)> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
                c["deployedName"].as_str().map(str::to_string),
                c["fields"]
                    .as_array()
                    .map(|f| f.iter().map(|x| x["field"].as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn change<'r>(report: &'r Value, name: &str) -> &'r Value {
    report["changes"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()
}

fn field<'c>(change: &'c Value, name: &str) -> (&'c Value, &'c Value) {
    let f = change["fields"].as_array().unwrap().iter().find(|f| f["field"] == name).unwrap();
    (&f["deployed"], &f["desired"])
}

fn missing(report: &Value) -> BTreeSet<String> {
    report["missing"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["requirements"].as_array().unwrap())
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn opening_rules(report: &Value) -> BTreeSet<String> {
    report["openings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn an_nsg_in_sync_exits_0_in_every_format() {
    let file = fixture("nsg-in-sync.json");
    let text = diff(None, &[&file], "text");
    assert_eq!(text.code, Some(0), "{}{}", text.stdout, text.stderr);
    assert_eq!(
        text.stdout,
        format!("nsg `contoso-ise-nsg` in {file} (az network nsg show output): 0 to add, 0 to remove, 0 to change, 0 renamed\nresult: in sync\n")
    );
    let (code, r) = report(None, &[&file]);
    assert_eq!(code, Some(0));
    assert_eq!(r["inSync"], true);
    assert_eq!(r["changes"], json!([]));
    assert_eq!(r["compared"][0]["format"], "az-cli");
    assert_eq!(
        r["compared"][0]["target"],
        json!({"resourceGroup": "contoso-network", "name": "contoso-ise-nsg"})
    );
    // The 22 rules of the example's requirements and deny-all-inbound; Azure's six defaults are not rules to compare.
    assert_eq!(
        (
            r["compared"][0]["deployedItems"].as_u64(),
            r["compared"][0]["desiredItems"].as_u64()
        ),
        (Some(23), Some(23))
    );
    let ticket = diff(None, &[&file], "ticket");
    assert_eq!(ticket.code, Some(0));
    assert!(ticket.stdout.contains("No change is needed."), "{}", ticket.stdout);
    assert!(!ticket.stdout.contains("```sh"));
}

#[test]
fn service_tags_that_differ_only_in_case_are_no_drift() {
    // Azure compares service tags case-insensitively: `internet` in a deployed rule is `Internet`.
    let text = std::fs::read_to_string(workspace().join(fixture("nsg-in-sync.json"))).unwrap();
    let lowered = ["Internet", "VirtualNetwork", "LogicApps"].iter().fold(text.clone(), |t, tag| {
        t.replace(&format!("\"{tag}\""), &format!("\"{}\"", tag.to_lowercase()))
    });
    assert_ne!(lowered, text, "the fixture names these tags");
    let dir = tempdir("drift-tag-case");
    let file = dir.join("nsg-lower-case-tags.json");
    std::fs::write(&file, lowered).unwrap();
    let (code, r) = report(None, &[file.to_str().unwrap()]);
    assert_eq!((code, &r["changes"]), (Some(0), &json!([])), "{r}");
    // A tag that is really another one is still a change (the last `Internet` is a rule's; the
    // first is Azure's default rule, which is not compared).
    let at = text.rfind("\"Internet\"").unwrap();
    let other = format!("{}\"AzureCloud\"{}", &text[..at], &text[at + "\"Internet\"".len()..]);
    std::fs::write(&file, other).unwrap();
    assert_eq!(report(None, &[file.to_str().unwrap()]).0, Some(1));
}

/// A deployed NSG without the deny-all lets Azure's AllowVnetInBound admit undeclared
/// VirtualNetwork members (F0109): drift that opens something, counted among the openings.
#[test]
fn a_deleted_deny_all_is_drift_and_an_opening() {
    let text = std::fs::read_to_string(workspace().join(fixture("nsg-in-sync.json"))).unwrap();
    let mut nsg: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rules = nsg["securityRules"].as_array_mut().unwrap();
    let before = rules.len();
    rules.retain(|r| r["name"] != "deny-all-inbound");
    assert_eq!(rules.len(), before - 1, "the fixture has deny-all-inbound");
    let dir = tempdir("drift-no-deny-all");
    let file = dir.join("nsg-no-deny-all.json");
    std::fs::write(&file, serde_json::to_string_pretty(&nsg).unwrap()).unwrap();
    let (code, r) = report(None, &[file.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let openings: Vec<(&str, &str)> = r["openings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["rule"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(openings, [("F0109", "AllowVnetInBound")], "{r}");
    let text = diff(None, &[file.to_str().unwrap()], "text");
    assert!(
        text.stdout
            .ends_with("result: drift: 1 change(s), 0 missing requirement(s), 1 opening(s), 0 other finding(s)\n"),
        "{}",
        text.stdout
    );
}

/// nsg-drifted.json: in-health-454's port changed to 8080, in-apim-mgmt-3443 deleted,
/// `allow-rdp-internet` (Internet to 3389) added.
#[test]
fn a_drifted_nsg_names_each_change_the_missing_requirements_and_the_openings() {
    let (code, r) = report(None, &[&fixture("nsg-drifted.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(r["inSync"], false);
    assert_eq!(
        changes(&r),
        [
            ("remove".into(), "allow-rdp-internet".into(), None, vec![]),
            ("add".into(), "in-apim-mgmt-3443".into(), None, vec![]),
            ("change".into(), "in-health-454".into(), None, s(&["destinationPortRanges"])),
        ]
    );
    assert_eq!(
        field(change(&r, "in-health-454"), "destinationPortRanges"),
        (&json!(["8080"]), &json!(["454"]))
    );
    // Seed 002: ApiManagement to the ISE on 3443 and LogicApps to the ISE on 454 are required.
    assert_eq!(missing(&r), set(&["in-apim-mgmt-3443", "in-health-454"]));
    assert_eq!(opening_rules(&r), set(&["allow-rdp-internet", "in-health-454"]));
    let rdp = r["openings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"]["name"] == "allow-rdp-internet")
        .unwrap();
    assert_eq!(
        (rdp["code"].as_str(), rdp["file"].as_str()),
        (Some("F0102"), Some(fixture("nsg-drifted.json").as_str()))
    );
    // The finding points at the rule in the file (line:column of securityRules[10]).
    assert!(rdp["rule"]["line"].as_u64().is_some());

    let text = diff(None, &[&fixture("nsg-drifted.json")], "text");
    assert_eq!(text.code, Some(1));
    assert!(
        text.stdout
            .contains("  ~ change in-health-454: destinationPortRanges 8080 -> 454\n"),
        "{}",
        text.stdout
    );
    assert!(text
        .stdout
        .ends_with("result: drift: 3 change(s), 2 missing requirement(s), 2 opening(s), 0 other finding(s)\n"));

    // --quiet: the three changes (each naming its artifact), the missing requirements and the two
    // openings, one line each; no header, no result line.
    let quiet = isenet(&["--quiet", "diff", "--deployed", &fixture("nsg-drifted.json")]);
    assert_eq!(quiet.code, Some(1));
    let lines: Vec<&str> = quiet.stdout.lines().collect();
    assert_eq!(lines.len(), 3 + 1 + 2, "{}", quiet.stdout);
    assert!(
        lines.contains(&"nsg ~ change in-health-454: destinationPortRanges 8080 -> 454"),
        "{}",
        quiet.stdout
    );
    assert!(
        lines.iter().all(|l| !l.starts_with("result:") && !l.contains(" to add, ")),
        "{}",
        quiet.stdout
    );
}

/// nsg-renamed.json: in-designer-454 recreated as `AllowTagCustom454Inbound` (description kept) and
/// out-sql-1433 as `AllowSqlOutbound` (no description), nothing else changed.
#[test]
fn renamed_rules_are_matched_by_meaning() {
    let (code, r) = report(None, &[&fixture("nsg-renamed.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        changes(&r),
        [
            (
                "rename".into(),
                "in-designer-454".into(),
                Some("AllowTagCustom454Inbound".into()),
                vec![]
            ),
            (
                "rename".into(),
                "out-sql-1433".into(),
                Some("AllowSqlOutbound".into()),
                s(&["description"])
            ),
        ]
    );
    assert!(missing(&r).is_empty() && opening_rules(&r).is_empty());
    let ticket = diff(None, &[&fixture("nsg-renamed.json")], "ticket").stdout;
    // Azure cannot rename a rule, nor hold two rules at one priority: the new name is created at a
    // free priority beside the old one's (130 is taken, 129 free), the old name deleted, and the
    // new rule moved to 130, so no step is without the rule's decision.
    let rule = "az network nsg rule ";
    let at = |command: &str| {
        ticket
            .find(&format!("{rule}{command}"))
            .unwrap_or_else(|| panic!("{command}:\n{ticket}"))
    };
    let create = at("create --resource-group contoso-network --nsg-name contoso-ise-nsg --name in-designer-454 ");
    let delete = at("delete --resource-group contoso-network --nsg-name contoso-ise-nsg --name AllowTagCustom454Inbound\n");
    let moved = at("update --resource-group contoso-network --nsg-name contoso-ise-nsg --name in-designer-454 ");
    assert!(create < delete && delete < moved, "{ticket}");
    let line = |i: usize| ticket[i..].lines().next().unwrap();
    assert!(line(create).contains(" --priority 129 "), "{}", line(create));
    assert!(line(moved).contains(" --priority 130 "), "{}", line(moved));
}

/// nsg-portal-edited.json: `Port_8080` (any to any, TCP 8080) added in the portal, out-sql-1433's
/// description removed, in-redis-6379-6383 moved to 205 and out-monitor-1886 to 185.
#[test]
fn portal_edits_are_changes_of_the_properties_touched() {
    let (code, r) = report(None, &[&fixture("nsg-portal-edited.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        changes(&r),
        [
            ("remove".into(), "Port_8080".into(), None, vec![]),
            ("change".into(), "in-redis-6379-6383".into(), None, s(&["priority"])),
            ("change".into(), "out-monitor-1886".into(), None, s(&["priority"])),
        ]
    );
    assert_eq!(field(change(&r, "in-redis-6379-6383"), "priority"), (&json!(205), &json!(200)));
    // A description decides no traffic: a metadata difference, apart from the changes.
    let metadata = json!({"changes": r["metadata"]});
    assert_eq!(
        changes(&metadata),
        [("change".into(), "out-sql-1433".into(), None, s(&["description"]))]
    );
    assert_eq!(
        field(change(&metadata, "out-sql-1433"), "description"),
        (&json!(""), &json!("out-sql-1433: The ISE keeps its runtime data in Azure SQL"))
    );
    let text = diff(None, &[&fixture("nsg-portal-edited.json")], "text").stdout;
    assert!(
        text.contains(" 1 to remove, 2 to change, 0 renamed, 1 description differs\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  = metadata out-sql-1433: description \"\" -> out-sql-1433: The ISE keeps its runtime data in Azure SQL\n"),
        "{text}"
    );
    assert!(text.ends_with("other finding(s); 1 description differs\n"), "{text}");
    assert_eq!(opening_rules(&r), set(&["Port_8080"]));
    assert!(missing(&r).is_empty());
    let ticket = diff(None, &[&fixture("nsg-portal-edited.json")], "ticket").stdout;
    assert!(ticket.contains("az network nsg rule update --resource-group contoso-network --nsg-name contoso-ise-nsg --name in-redis-6379-6383 --destination-address-prefixes VirtualNetwork --priority 200 --source-address-prefixes VirtualNetwork\n"), "{ticket}");
    // The description is set in place, as an optional command after the ones that converge.
    let optional = ticket.find("## Description differences").unwrap();
    let set_description = ticket.find(
        "az network nsg rule update --resource-group contoso-network --nsg-name contoso-ise-nsg --name out-sql-1433 --description 'out-sql-1433: The ISE keeps its runtime data in Azure SQL' --destination-address-prefixes Sql --source-address-prefixes VirtualNetwork\n"
    ).unwrap();
    assert!(
        optional < set_description && set_description < ticket.find("## Commands").unwrap(),
        "{ticket}"
    );
    assert_eq!(ticket.matches("--name out-sql-1433 ").count(), 1, "{ticket}");
    assert!(ticket.contains("az network nsg rule delete --resource-group contoso-network --nsg-name contoso-ise-nsg --name Port_8080\n"));
}

/// exported-template.json: an exported resource group (names as parameters, rules inline and as
/// child resources, a virtual network beside the NSG); out-dns-53 points at 10.10.0.5.
#[test]
fn an_exported_arm_template_is_compared_by_its_nsg_resource() {
    let (code, r) = report(None, &[&fixture("exported-template.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(r["compared"][0]["format"], "arm-template");
    // The template names its NSG by a parameter: the commands use the environment's name.
    assert_eq!(r["compared"][0]["target"]["name"], "contoso-ise-nsg");
    assert_eq!(
        changes(&r),
        [("change".into(), "out-dns-53".into(), None, s(&["destinationAddressPrefixes"]))]
    );
    assert_eq!(
        field(change(&r, "out-dns-53"), "destinationAddressPrefixes"),
        (&json!(["10.10.0.5/32"]), &json!(["10.10.0.4/32"]))
    );
    let ticket = diff(None, &[&fixture("exported-template.json")], "ticket").stdout;
    assert!(ticket.contains(
        "az network nsg rule update --resource-group contoso-network --nsg-name contoso-ise-nsg --name out-dns-53 --destination-address-prefixes 10.10.0.4/32 --source-address-prefixes VirtualNetwork\n"
    ));
}

/// routes-drifted.json (ExpressRoute environment): the default route sent to an appliance at
/// 10.20.0.4, and a `to-onprem` route added.
#[test]
fn route_tables_in_sync_and_drifted() {
    let ok = diff(Some(EXPRESSROUTE_ENV), &[&fixture("routes-in-sync.json")], "text");
    assert_eq!(ok.code, Some(0), "{}{}", ok.stdout, ok.stderr);
    let (code, r) = report(Some(EXPRESSROUTE_ENV), &[&fixture("routes-drifted.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        changes(&r),
        [
            (
                "change".into(),
                "route-expressroute-default".into(),
                None,
                s(&["nextHopIpAddress", "nextHopType"])
            ),
            ("remove".into(), "to-onprem".into(), None, vec![]),
        ]
    );
    assert_eq!(
        field(change(&r, "route-expressroute-default"), "nextHopType"),
        (&json!("VirtualAppliance"), &json!("Internet"))
    );
    // The 2021 ISE article: under ExpressRoute everything outside the network must reach Internet.
    assert!(missing(&r).contains("other-traffic-to-internet"), "{:?}", missing(&r));
    let ticket = diff(Some(EXPRESSROUTE_ENV), &[&fixture("routes-drifted.json")], "ticket").stdout;
    assert!(ticket.contains("az network route-table route update --resource-group contoso-network --route-table-name contoso-ise-routes --name route-expressroute-default --next-hop-ip-address null --next-hop-type Internet\n"), "{ticket}");
    assert!(ticket.contains(
        "az network route-table route delete --resource-group contoso-network --route-table-name contoso-ise-routes --name to-onprem\n"
    ));
}

/// firewall-rcg-drifted.json (firewall environment): the network collection deployed with port 445
/// dropped from fw-net-storage and an `allow-all-out` rule added; the application collection never
/// created. It also holds the rule an earlier isenet wrote for the environment's DNS servers, which
/// sit inside the VNet (10.10.2.4, 10.10.2.5) and never meet the firewall: it is to be removed.
#[test]
fn a_rule_collection_group_gets_rule_and_collection_changes() {
    let (code, r) = report(Some(FIREWALL_ENV), &[&fixture("firewall-rcg-drifted.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(r["compared"][0]["target"]["policy"], "contoso-fw-policy");
    let all = changes(&r);
    let of = |action: &str| all.iter().filter(|c| c.0 == action).map(|c| c.1.clone()).collect::<Vec<_>>();
    assert_eq!(of("remove"), ["allow-all-out", "fw-net-custom-dns-53"]);
    assert_eq!(of("change"), ["fw-net-storage"]);
    assert!(of("rename").is_empty());
    let storage = change(&r, "fw-net-storage");
    assert_eq!(storage["collection"], "ise-network-dependencies");
    assert_eq!(
        field(storage, "destinationPorts"),
        (&json!(["443", "80"]), &json!(["443", "445", "80"]))
    );
    let compiled = compiled_firewall_policy(&tempdir("drift-fw"));
    let app = compiled["resources"][0]["properties"]["ruleCollections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ise-application-dependencies")
        .unwrap();
    let app_rules: Vec<String> = app["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_string())
        .collect();
    // The collection and every one of its rules are to add, nothing else.
    let mut added = of("add");
    added.sort();
    let mut want = app_rules.clone();
    want.push("ise-application-dependencies".into());
    want.sort();
    assert_eq!(added, want);
    assert_eq!(opening_rules(&r), set(&["allow-all-out"]));
    let ticket = diff(Some(FIREWALL_ENV), &[&fixture("firewall-rcg-drifted.json")], "ticket").stdout;
    let base = "az network firewall policy rule-collection-group collection";
    let target = "--resource-group contoso-network --policy-name contoso-fw-policy --rule-collection-group-name contoso-ise-dependencies";
    assert!(ticket.contains(&format!(
        "{base} rule remove {target} --collection-name ise-network-dependencies --name allow-all-out\n"
    )));
    // A changed firewall rule is updated in place (its traffic never cut), with every property:
    // az keeps what the command leaves out.
    assert!(!ticket.contains("--name fw-net-storage\n"), "{ticket}");
    assert!(ticket.contains(&format!("{base} rule update {target} --collection-name ise-network-dependencies --name fw-net-storage --description 'fw-net-storage: Azure Storage beyond the regional service endpoint (ISE table, Redis storage 80/443, API Management 443/445)' --destination-addresses Storage --destination-ports 443 445 80 --ip-protocols TCP UDP --source-addresses 10.10.1.0/27 10.10.1.32/27 10.10.1.64/27 10.10.1.96/27\n")), "{ticket}");
    // The new collection comes with its first rule; each other rule is added to it.
    let first = &app_rules.iter().min().unwrap();
    assert!(ticket.contains(&format!(
        "{base} add-filter-collection {target} --name ise-application-dependencies --collection-priority 300 --action Allow --rule-name {first} "
    )));
    for rule in app_rules.iter().filter(|n| n != first) {
        assert!(
            ticket.contains(&format!(
                "{base} rule add {target} --collection-name ise-application-dependencies --name {rule} "
            )),
            "{rule}"
        );
    }
}

/// Splits a command line as a POSIX shell does for the quoting `diff` uses (single quotes, `\'`).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => out.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    out
}

/// The values following `option` up to the next option.
fn option_values(words: &[String], option: &str) -> Vec<String> {
    let Some(i) = words.iter().position(|w| w == option) else {
        return Vec::new();
    };
    words[i + 1..].iter().take_while(|w| !w.starts_with("--")).cloned().collect()
}

#[test]
fn each_nsg_create_carries_the_whole_rule_it_adds() {
    for file in ["nsg-drifted.json", "nsg-renamed.json"] {
        let (_, r) = report(None, &[&fixture(file)]);
        let ticket = diff(None, &[&fixture(file)], "ticket").stdout;
        let forward = ticket.split("## Rollback").next().unwrap();
        let creates: Vec<Vec<String>> = forward
            .lines()
            .filter(|l| l.starts_with("az network nsg rule create "))
            .map(words)
            .collect();
        let added: Vec<&Value> = r["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] != "remove" && c["action"] != "change")
            .collect();
        assert_eq!(creates.len(), added.len(), "{file}");
        for c in added {
            let name = c["name"].as_str().unwrap();
            let cmd = creates.iter().find(|w| option_values(w, "--name") == [name]).unwrap();
            let rule = &c["desired"];
            for (option, property) in [
                ("--priority", "priority"),
                ("--direction", "direction"),
                ("--access", "access"),
                ("--protocol", "protocol"),
                ("--source-address-prefixes", "sourceAddressPrefixes"),
                ("--source-port-ranges", "sourcePortRanges"),
                ("--destination-address-prefixes", "destinationAddressPrefixes"),
                ("--destination-port-ranges", "destinationPortRanges"),
                ("--description", "description"),
            ] {
                let want: Vec<String> = match &rule[property] {
                    Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
                    Value::String(s) => vec![s.clone()],
                    v => vec![v.to_string()],
                };
                // A rule renamed in place is created at a free priority beside its place and
                // moved in once the deployed rule is gone (no step without either rule).
                if option == "--priority" && option_values(cmd, option) != want {
                    let moved = forward.lines().map(words).find(|w| {
                        w.starts_with(&["az".into(), "network".into(), "nsg".into(), "rule".into(), "update".into()])
                            && option_values(w, "--name") == [name]
                    });
                    let moved = moved.unwrap_or_else(|| panic!("{file} {name}: created at a temporary priority, never moved"));
                    assert_eq!(option_values(&moved, option), want, "{file} {name} moved");
                    assert!(c["action"] == "rename", "{file} {name}: only a rename waits");
                    continue;
                }
                assert_eq!(option_values(cmd, option), want, "{file} {name} {option}");
            }
        }
    }
}

#[test]
fn the_compiled_artifacts_of_every_named_environment_are_in_sync_with_themselves() {
    let dir = tempdir("drift-self");
    for env in super::common::json_files(&super::common::envs_dir()) {
        let name = super::common::file_name(&env);
        let out = dir.join(&name);
        let o = isenet(&["compile", "--env", env.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);
        assert_eq!(o.code, Some(0), "{name}: {}", o.stderr);
        let files: Vec<String> = ["nsg.json", "route-table.json", "firewall-policy.json"]
            .iter()
            .map(|f| out.join(f).to_string_lossy().into_owned())
            .collect();
        let run = diff(
            Some(env.to_str().unwrap()),
            &files.iter().map(String::as_str).collect::<Vec<_>>(),
            "json",
        );
        assert_eq!(run.code, Some(0), "{name}: {}{}", run.stdout, run.stderr);
        let r = run.json();
        assert_eq!(
            (r["inSync"].as_bool(), r["compared"].as_array().map(Vec::len)),
            (Some(true), Some(3)),
            "{name}"
        );
        // The deployable template holds the same NSG (and route table and group when tunneled).
        let template = out.join("azuredeploy.json");
        let run = diff(Some(env.to_str().unwrap()), &[template.to_str().unwrap()], "text");
        assert_eq!(run.code, Some(0), "{name}: {}{}", run.stdout, run.stderr);
    }
}

#[test]
fn bad_inputs_are_coded_with_file_path_and_position_and_all_reported() {
    let dir = tempdir("drift-bad");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let nothing = write(
        "vnet.json",
        r#"{"name": "contoso-vnet", "type": "Microsoft.Network/virtualNetworks"}"#,
    );
    let classic = write(
        "classic.json",
        r#"{"name": "fw", "type": "Microsoft.Network/azureFirewalls", "networkRuleCollections": []}"#,
    );
    let broken = write(
        "broken.json",
        "{\"securityRules\": [\n  {\"name\": \"a\",\n   \"priority\": \"high\"}\n]}",
    );
    let syntax = write("syntax.json", "{\"routes\": [}");
    let run = isenet(&[
        "--error-format",
        "json",
        "diff",
        "--deployed",
        &nothing,
        "--deployed",
        &classic,
        "--deployed",
        &broken,
        "--deployed",
        &syntax,
        "--deployed",
        "tests/fixtures/deployed/no-such-file.json",
    ]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let diags = doc["diagnostics"].as_array().unwrap();
    let by_file = |f: &str| diags.iter().filter(|d| d["file"] == f).collect::<Vec<_>>();
    assert_eq!(by_file(&nothing)[0]["code"], "E1700");
    assert_eq!(by_file(&classic)[0]["code"], "E1702");
    let b = by_file(&broken);
    assert!(
        b.iter()
            .any(|d| d["code"] == "E1202" && d["path"] == "securityRules[0].priority" && d["line"] == 3),
        "{b:?}"
    );
    // Every other missing field of the rule is reported too, not only the first.
    assert!(b.iter().any(|d| d["path"] == "securityRules[0].access"));
    let s = by_file(&syntax);
    assert!(s.iter().all(|d| d["line"] == 1 && d["column"].as_u64().is_some()), "{s:?}");
    assert_eq!(by_file("tests/fixtures/deployed/no-such-file.json")[0]["code"], "E0001");
    // Two NSGs in one run: refused, naming both files.
    let twice = diff(None, &[&fixture("nsg-in-sync.json"), &fixture("exported-template.json")], "text");
    assert_eq!(twice.code, Some(2));
    assert!(
        twice.stderr.contains("E1701") && twice.stderr.contains("nsg-in-sync.json"),
        "{}",
        twice.stderr
    );
    assert!(twice.stdout.is_empty());
}

#[test]
fn the_fixtures_have_azs_documented_shape() {
    // az prints the rule's properties beside its name, Azure's default rules beside the user's, and
    // the plural field empty when the singular one is set.
    let nsg: Value = serde_json::from_str(&std::fs::read_to_string(workspace().join(fixture("nsg-in-sync.json"))).unwrap()).unwrap();
    assert_eq!(nsg["defaultSecurityRules"].as_array().unwrap().len(), 6);
    for rule in nsg["securityRules"].as_array().unwrap() {
        for key in ["etag", "id", "provisioningState", "resourceGroup", "type", "priority", "access"] {
            assert!(rule.get(key).is_some(), "{key}");
        }
        assert!(rule.get("properties").is_none());
        let single = rule["destinationPortRange"].is_string();
        assert_eq!(rule["destinationPortRanges"].as_array().unwrap().is_empty(), single);
    }
}

#[test]
fn a_deployed_expanded_nsg_is_compared_with_the_expanded_compile() {
    let dir = tempdir("drift-expanded");
    let o = isenet(&[
        "compile",
        "--expand-tags",
        "--out-dir",
        dir.join("out").to_str().unwrap(),
        "--only",
        "nsg",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let nsg = dir.join("out/nsg.json").to_string_lossy().into_owned();
    // No change to make; but the expanded example names more than Azure's 4,000 addresses per
    // NSG side, which the verifier reports of the "deployed" file (F0107): drift, exit 1.
    let same = isenet(&["diff", "--expand-tags", "--deployed", &nsg, "--format", "json"]);
    assert_eq!(same.code, Some(1), "{}{}", same.stdout, same.stderr);
    let same = same.json();
    assert_eq!(same["changes"], json!([]), "{same}");
    let others: Vec<&Value> = same["otherFindings"].as_array().unwrap().iter().map(|f| &f["code"]).collect();
    assert_eq!(others, [&json!("F0107"), &json!("F0107")], "{same}");
    // Against the compile with tags, the expanded rules' prefixes and the `-v6` rules differ.
    let (code, r) = report(None, &[&nsg]);
    assert_eq!(code, Some(1));
    let all = changes(&r);
    assert!(all.iter().any(|c| c.0 == "remove" && c.1.ends_with("-v6")), "{all:?}");
    assert!(all.iter().all(|c| c.0 != "add"), "{all:?}");
}

/// The firewall environment compiled, and its rule collection group in az's shape with `priority`
/// (`None`: without it) plus its route table (ARM resource) with `disableBgpRoutePropagation`.
fn group_and_table(dir: &std::path::Path, priority: Option<u32>, disable_bgp: Value) -> (String, String) {
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", FIREWALL_ENV, "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let read = |name: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(out.join(name)).unwrap()).unwrap() };
    let policy = read("firewall-policy.json");
    let mut group = json!({
        "name": "contoso-ise-dependencies",
        "ruleCollections": policy["resources"][0]["properties"]["ruleCollections"],
        "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
        "provisioningState": "Succeeded"
    });
    if let Some(p) = priority {
        group["priority"] = json!(p);
    }
    let mut table = read("route-table.json");
    match disable_bgp {
        Value::Null => {
            table["properties"].as_object_mut().unwrap().remove("disableBgpRoutePropagation");
        }
        v => table["properties"]["disableBgpRoutePropagation"] = v,
    }
    let write = |name: &str, v: &Value| {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_str().unwrap().to_string()
    };
    (write("rcg.json", &group), write("rt.json", &table))
}

#[test]
fn the_group_priority_and_bgp_propagation_are_drift_in_every_format() {
    let dir = tempdir("drift-resource-props");
    let (rcg, rt) = group_and_table(&dir, Some(100), json!(true));
    let (code, r) = report(Some(FIREWALL_ENV), &[&rcg, &rt]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["inSync"], false);
    let doc = |artifact: &str| {
        r["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["artifact"] == artifact && c["kind"] == "document")
            .unwrap_or_else(|| panic!("no {artifact} document change in {r}"))
    };
    assert_eq!(doc("routes")["action"], "change");
    assert_eq!(field(doc("routes"), "disableBgpRoutePropagation"), (&json!(true), &json!(false)));
    assert_eq!(doc("firewall")["action"], "change");
    assert_eq!(field(doc("firewall"), "priority"), (&json!(100), &json!(500)));
    // The only changes: the rules and routes themselves are as compiled.
    assert_eq!(r["changes"].as_array().unwrap().len(), 2, "{r}");

    let text = diff(Some(FIREWALL_ENV), &[&rcg, &rt], "text");
    assert_eq!(text.code, Some(1));
    assert!(
        text.stdout
            .contains("  ~ change route table: disableBgpRoutePropagation true -> false\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("  ~ change rule collection group: priority 100 -> 500\n"),
        "{}",
        text.stdout
    );

    let ticket = diff(Some(FIREWALL_ENV), &[&rcg, &rt], "ticket");
    assert_eq!(ticket.code, Some(1));
    let t = &ticket.stdout;
    assert!(
        t.contains("| routes | change | route table | disableBgpRoutePropagation true -> false |"),
        "{t}"
    );
    assert!(
        t.contains("| firewall | change | rule collection group | priority 100 -> 500 |"),
        "{t}"
    );
    // Neither file names its resource group; the environment's is used, as for the other commands.
    let rg = r["compared"][0]["target"]["resourceGroup"].as_str().unwrap();
    let table = r["compared"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["artifact"] == "routes")
        .unwrap()["target"]["name"]
        .as_str()
        .unwrap();
    assert!(
        t.contains(&format!(
            "az network route-table update --resource-group {rg} --name {table} --disable-bgp-route-propagation false\n"
        )),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "az network firewall policy rule-collection-group update --resource-group {rg} --policy-name '<firewall-policy-name>' --name contoso-ise-dependencies --priority 500\n"
        )),
        "{t}"
    );
}

#[test]
fn unstated_resource_properties_are_azures_default_or_not_compared() {
    // No disableBgpRoutePropagation: Azure's default, false, as compiled. No group priority: Azure
    // has no default, so there is nothing to compare.
    let dir = tempdir("drift-resource-defaults");
    let (rcg, rt) = group_and_table(&dir, None, Value::Null);
    let run = diff(Some(FIREWALL_ENV), &[&rcg, &rt], "text");
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.ends_with("result: in sync\n"), "{}", run.stdout);
    // The compiled values stated are in sync too.
    let (rcg, rt) = group_and_table(&dir, Some(500), json!(false));
    assert_eq!(diff(Some(FIREWALL_ENV), &[&rcg, &rt], "text").code, Some(0));
}

#[test]
fn bgp_propagation_is_read_from_az_output_and_exported_templates() {
    let dir = tempdir("drift-bgp-shapes");
    // az output: the property at the top level.
    let az = std::fs::read_to_string(workspace().join(fixture("routes-in-sync.json"))).unwrap();
    let az = az.replacen("\"disableBgpRoutePropagation\": false", "\"disableBgpRoutePropagation\": true", 1);
    let az_file = dir.join("az.json");
    std::fs::write(&az_file, az).unwrap();
    let (code, r) = report(Some(EXPRESSROUTE_ENV), &[az_file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(
        changes(&r),
        [("change".into(), String::new(), None, s(&["disableBgpRoutePropagation"]))]
    );
    let ticket = diff(Some(EXPRESSROUTE_ENV), &[az_file.to_str().unwrap()], "ticket").stdout;
    assert!(ticket.contains("az network route-table update --resource-group contoso-network --name contoso-ise-routes --disable-bgp-route-propagation false\n"), "{ticket}");

    // An exported template: the route table resource's properties.
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", FIREWALL_ENV, "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut table: Value = serde_json::from_str(&std::fs::read_to_string(out.join("route-table.json")).unwrap()).unwrap();
    table["properties"]["disableBgpRoutePropagation"] = json!(true);
    table["type"] = json!("Microsoft.Network/routeTables");
    let template = json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": [table]});
    let template_file = dir.join("template.json");
    std::fs::write(&template_file, template.to_string()).unwrap();
    let (code, r) = report(Some(FIREWALL_ENV), &[template_file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["compared"][0]["format"], "arm-template");
    assert_eq!(
        changes(&r),
        [("change".into(), String::new(), None, s(&["disableBgpRoutePropagation"]))]
    );
}

#[test]
fn rules_that_trade_priorities_pass_through_a_free_temporary_one_in_the_ticket() {
    // Azure refuses two rules of one direction at one priority at every step, so a swap cannot be
    // two plain updates: one rule steps aside first, and the ticket says why.
    let dir = tempdir("drift-swap");
    let mut env: Value =
        serde_json::from_str(&std::fs::read_to_string(workspace().join("data/example-environment.json")).unwrap()).unwrap();
    env["outboundDestinations"] = json!([
        {"name": "alpha", "prefixes": ["203.0.113.1"], "ports": ["22"]},
        {"name": "bravo", "prefixes": ["203.0.113.2"], "ports": ["22"]}
    ]);
    let env_file = dir.join("env.json");
    std::fs::write(&env_file, env.to_string()).unwrap();
    let env_file = env_file.to_str().unwrap();
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", env_file, "--only", "nsg", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    let at = |rules: &[Value], name: &str| rules.iter().position(|r| r["name"] == name).unwrap();
    let (a, b) = (at(rules, "out-dest-alpha"), at(rules, "out-dest-bravo"));
    let (pa, pb) = (
        rules[a]["properties"]["priority"].clone(),
        rules[b]["properties"]["priority"].clone(),
    );
    rules[a]["properties"]["priority"] = pb.clone();
    rules[b]["properties"]["priority"] = pa.clone();
    let swapped = dir.join("swapped.json");
    std::fs::write(&swapped, nsg.to_string()).unwrap();
    let ticket = diff(Some(env_file), &[swapped.to_str().unwrap()], "ticket");
    assert_eq!(ticket.code, Some(1), "{}", ticket.stderr);
    let lines: Vec<&str> = ticket
        .stdout
        .split("## Rollback")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("az network") || l.starts_with("# out-dest"))
        .collect();
    assert!(
        ticket.stdout.contains("```sh\naz cloud set --name AzureCloud\n"),
        "{}",
        ticket.stdout
    );
    let base = "az network nsg rule update --resource-group contoso-network --nsg-name contoso-ise-nsg";
    assert_eq!(lines.len(), 4, "{}", ticket.stdout);
    let parked = lines[0]
        .strip_prefix("# out-dest-alpha waits at temporary priority ")
        .and_then(|rest| rest.split_once(' '))
        .map(|(p, _)| p.to_string())
        .unwrap_or_else(|| panic!("{}", ticket.stdout));
    assert!(
        lines[0].ends_with(&format!(
            "its priority {pa} is held by out-dest-bravo, which waits for its own new place"
        )),
        "{}",
        lines[0]
    );
    assert_ne!(parked, pa.to_string());
    assert_ne!(parked, pb.to_string());
    // Parked with the addresses it has: only its priority moves.
    assert_eq!(
        lines[1],
        format!("{base} --name out-dest-alpha --destination-address-prefixes 203.0.113.1/32 --priority {parked} --source-address-prefixes VirtualNetwork")
    );
    assert!(
        lines[2].starts_with(&format!("{base} --name out-dest-bravo")) && lines[2].contains(&format!("--priority {pb}")),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with(&format!("{base} --name out-dest-alpha")) && lines[3].contains(&format!("--priority {pa}")),
        "{}",
        lines[3]
    );
}

#[test]
fn a_missing_ipv6_rule_is_recreated_with_its_ipv6_sources() {
    // The `-v6` rule of `--expand-tags` lists IPv6 prefixes only; re-created without them, az
    // would take `*` for its source and open port 3443 to every address.
    let dir = tempdir("drift-v6");
    let env = "tests/envs/restricted-outbound.json";
    let out = dir.join("out");
    let o = isenet(&[
        "compile",
        "--env",
        env,
        "--expand-tags",
        "--only",
        "nsg",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    let at = rules.iter().position(|r| r["name"] == "in-apim-mgmt-3443-v6").unwrap();
    let gone = rules.remove(at);
    let sources: Vec<String> = gone["properties"]["sourceAddressPrefixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert!(sources.len() > 8 && sources.iter().all(|p| p.contains(':')), "{sources:?}");
    let deployed = dir.join("deployed.json");
    std::fs::write(&deployed, nsg.to_string()).unwrap();
    let deployed = deployed.to_str().unwrap();

    let text = isenet(&["diff", "--env", env, "--expand-tags", "--deployed", deployed]);
    assert_eq!(text.code, Some(1), "{}", text.stderr);
    let line = text.stdout.lines().find(|l| l.contains("+ add    in-apim-mgmt-3443-v6")).unwrap();
    assert!(
        line.contains(&format!("from {},... ({} in all", sources[..8].join(","), sources.len())),
        "{line}"
    );
    assert!(!line.contains("from []"), "{line}");

    let ticket = isenet(&["diff", "--env", env, "--expand-tags", "--deployed", deployed, "--format", "ticket"]);
    let creates: Vec<Vec<String>> = ticket
        .stdout
        .lines()
        .filter(|l| l.starts_with("az network nsg rule create "))
        .map(words)
        .collect();
    assert_eq!(creates.len(), 1, "{}", ticket.stdout);
    let mut want = sources.clone();
    want.sort_by_key(|p| p.parse::<ipnet::Ipv6Net>().unwrap());
    assert_eq!(option_values(&creates[0], "--source-address-prefixes"), want);
    assert_eq!(option_values(&creates[0], "--destination-address-prefixes"), ["VirtualNetwork"]);
    assert_eq!(option_values(&creates[0], "--destination-port-ranges"), ["3443"]);
}

/// The firewall environment's NSG and route table compiled, each with one item deleted (so both
/// artifacts have a change to report), as ARM resources.
fn drifted_nsg_and_table(dir: &std::path::Path) -> (Value, Value) {
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", FIREWALL_ENV, "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let read = |name: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(out.join(name)).unwrap()).unwrap() };
    let (mut nsg, mut table) = (read("nsg.json"), read("route-table.json"));
    for (doc, list) in [(&mut nsg, "securityRules"), (&mut table, "routes")] {
        let items = doc["properties"][list].as_array_mut().unwrap();
        assert!(!items.is_empty(), "{list}");
        items.remove(0);
    }
    (nsg, table)
}

/// `v` without the line and column of each location.
fn without_positions(v: Value) -> Value {
    match v {
        Value::Object(o) => o
            .into_iter()
            .filter(|(k, _)| k != "line" && k != "column")
            .map(|(k, v)| (k, without_positions(v)))
            .collect(),
        Value::Array(a) => a.into_iter().map(without_positions).collect(),
        other => other,
    }
}

#[test]
fn the_report_is_in_kind_order_whatever_order_the_resources_come_in() {
    let dir = tempdir("drift-order");
    let (nsg, table) = drifted_nsg_and_table(&dir);
    let write = |name: &str, v: &Value| {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_str().unwrap().to_string()
    };
    let template = |resources: Value| json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": resources});
    // One file name for both orders, so the reports can be compared whole.
    let runs = |files: &[&str]| -> Vec<Run> {
        ["text", "json", "ticket"]
            .iter()
            .map(|f| diff(Some(FIREWALL_ENV), files, f))
            .collect()
    };
    let in_order = {
        let file = write("export.json", &template(json!([nsg, table])));
        runs(&[&file])
    };
    let reversed = {
        let file = write("export.json", &template(json!([table, nsg])));
        runs(&[&file])
    };
    let (nsg_file, table_file) = (write("nsg.json", &nsg), write("rt.json", &table));
    let two_files = runs(&[&nsg_file, &table_file]);
    let two_files_reversed = runs(&[&table_file, &nsg_file]);
    for (a, b) in in_order.iter().zip(&reversed).chain(two_files.iter().zip(&two_files_reversed)) {
        assert_eq!(a.code, Some(1), "{}{}", a.stdout, a.stderr);
        assert_eq!(b.code, Some(1), "{}{}", b.stdout, b.stderr);
        // Where a finding's rule sits in its file moves with the file's layout; nothing else may.
        match serde_json::from_str::<Value>(&a.stdout) {
            Ok(json) => assert_eq!(without_positions(json), without_positions(b.json())),
            Err(_) => assert_eq!(a.stdout, b.stdout),
        }
    }
    // nsg, then routes: in the text's headers, in JSON `compared` and `changes`, in the ticket.
    for runs in [&in_order, &two_files] {
        let headers: Vec<&str> = runs[0]
            .stdout
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert_eq!(headers[..2], ["nsg", "routes"], "{}", runs[0].stdout);
        let r = runs[1].json();
        let compared: Vec<&str> = r["compared"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["artifact"].as_str().unwrap())
            .collect();
        assert_eq!(compared, ["nsg", "routes"]);
        let artifacts: Vec<&str> = r["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["artifact"].as_str().unwrap())
            .collect();
        assert_eq!(artifacts, ["nsg", "routes"]);
        let ticket = &runs[2].stdout;
        let (n, t) = (
            ticket.find("\n| nsg | contoso-ise-nsg |").unwrap(),
            ticket.find("\n| routes | contoso-ise-routes |").unwrap(),
        );
        assert!(n < t, "{ticket}");
    }
}

/// The rule of `collection` named `name` in a rule collection group (az's shape).
fn group_rule<'g>(group: &'g mut Value, collection: &str, name: &str) -> &'g mut Value {
    group["ruleCollections"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == collection)
        .unwrap()["rules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["name"] == name)
        .unwrap()
}

/// The firewall environment's ISE subnets are 10.10.1.0/27, .32/27, .64/27 and .96/27: the 128
/// addresses 10.10.1.0-10.10.1.127, which a deployed rule may write in any of Azure Firewall's
/// address forms (IP, CIDR, range a-b) in any order. Ports likewise (`1433-1433` is port 1433),
/// and Azure reads service tags, FQDNs and FQDN tags without case.
#[test]
fn firewall_rules_written_differently_with_the_same_meaning_are_in_sync() {
    let dir = tempdir("drift-fw-equivalent");
    let (rcg, _) = group_and_table(&dir, Some(500), json!(false));
    let mut group: Value = serde_json::from_str(&std::fs::read_to_string(&rcg).unwrap()).unwrap();
    let net = "ise-network-dependencies";
    group_rule(&mut group, net, "fw-net-entra")["sourceAddresses"] = json!(["10.10.1.64/26", "10.10.1.0/26"]);
    group_rule(&mut group, net, "fw-net-keyvault-443")["sourceAddresses"] = json!(["10.10.1.0-10.10.1.127"]);
    group_rule(&mut group, net, "fw-net-storage")["sourceAddresses"] =
        json!(["10.10.1.0-10.10.1.63", "10.10.1.64/27", "10.10.1.96/27", "10.10.1.7"]);
    group_rule(&mut group, net, "fw-net-sql-1433")["destinationPorts"] = json!(["1433-1433"]);
    group_rule(&mut group, net, "fw-net-azure-monitor")["destinationPorts"] = json!(["1886", "443", "80", "443"]);
    group_rule(&mut group, net, "fw-net-eventhub")["destinationPorts"] = json!(["5671", "5672", "443"]);
    group_rule(&mut group, net, "fw-net-storage")["destinationAddresses"] = json!(["storage"]);
    let app = "ise-application-dependencies";
    group_rule(&mut group, app, "fw-ase-fqdn-tag-windows-update")["fqdnTags"] = json!(["windowsupdate"]);
    group_rule(&mut group, app, "fw-fqdn-crl-microsoft-com")["targetFqdns"] = json!(["CRL.Microsoft.com", "crl.microsoft.com"]);
    std::fs::write(&rcg, group.to_string()).unwrap();

    let verify = isenet(&["verify", "--env", FIREWALL_ENV, "--firewall", &rcg, "-q"]);
    assert_eq!(verify.code, Some(0), "{}{}", verify.stdout, verify.stderr);
    let text = diff(Some(FIREWALL_ENV), &[&rcg], "text");
    assert_eq!(text.code, Some(0), "{}{}", text.stdout, text.stderr);
    assert!(
        text.stdout.contains(": 0 to add, 0 to remove, 0 to change, 0 renamed\n"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.ends_with("result: in sync\n"), "{}", text.stdout);
    let (code, r) = report(Some(FIREWALL_ENV), &[&rcg]);
    assert_eq!((code, &r["inSync"], &r["changes"]), (Some(0), &json!(true), &json!([])));
    let ticket = diff(Some(FIREWALL_ENV), &[&rcg], "ticket").stdout;
    assert!(!ticket.contains("rule remove") && !ticket.contains("rule add"), "{ticket}");

    // One address short of the subnets, a port more, another FQDN: each is drift, shown as written.
    group_rule(&mut group, net, "fw-net-keyvault-443")["sourceAddresses"] = json!(["10.10.1.0-10.10.1.126"]);
    group_rule(&mut group, net, "fw-net-sql-1433")["destinationPorts"] = json!(["1433-1434"]);
    group_rule(&mut group, app, "fw-fqdn-crl-microsoft-com")["targetFqdns"] = json!(["crl2.microsoft.com"]);
    std::fs::write(&rcg, group.to_string()).unwrap();
    let (code, r) = report(Some(FIREWALL_ENV), &[&rcg]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(
        changes(&r),
        [
            ("change".into(), "fw-fqdn-crl-microsoft-com".into(), None, s(&["targetFqdns"])),
            ("change".into(), "fw-net-keyvault-443".into(), None, s(&["sourceAddresses"])),
            ("change".into(), "fw-net-sql-1433".into(), None, s(&["destinationPorts"])),
        ]
    );
    let subnets = json!(["10.10.1.0/27", "10.10.1.32/27", "10.10.1.64/27", "10.10.1.96/27"]);
    assert_eq!(
        field(change(&r, "fw-net-keyvault-443"), "sourceAddresses"),
        (&json!(["10.10.1.0-10.10.1.126"]), &subnets)
    );
    assert_eq!(
        field(change(&r, "fw-net-sql-1433"), "destinationPorts"),
        (&json!(["1433-1434"]), &json!(["1433"]))
    );
}

/// isenet once wrote a firewall rule for custom DNS servers inside the VNet (10.10.2.4 and .5 in
/// 10.10.0.0/16): Azure's VnetLocal route keeps that traffic off the firewall, so the rule allowed
/// nothing and is no longer compiled. The diff removes it and says why, in every format; a removal
/// with no such reason (a rule of the user's own) gets no note.
#[test]
fn removing_an_old_rule_for_dns_servers_inside_the_vnet_says_why() {
    let dir = tempdir("drift-fw-dns-inside");
    let (rcg, _) = group_and_table(&dir, Some(500), json!(false));
    let mut group: Value = serde_json::from_str(&std::fs::read_to_string(&rcg).unwrap()).unwrap();
    let net = "ise-network-dependencies";
    let mut old = group_rule(&mut group, net, "fw-net-ntp-123").clone();
    old["name"] = json!("fw-net-custom-dns-53");
    old["destinationAddresses"] = json!(["10.10.2.4", "10.10.2.5"]);
    old["destinationPorts"] = json!(["53"]);
    fn rules<'g>(g: &'g mut Value, collection: &str) -> &'g mut Vec<Value> {
        let collections = g["ruleCollections"].as_array_mut().unwrap();
        collections.iter_mut().find(|c| c["name"] == collection).unwrap()["rules"]
            .as_array_mut()
            .unwrap()
    }
    rules(&mut group, net).push(old);
    std::fs::write(&rcg, group.to_string()).unwrap();

    let why = "Inside the virtual network, so not through the firewall: the custom DNS servers 10.10.2.4, 10.10.2.5. Azure's VnetLocal route keeps their traffic in the network, so the firewall has no rule for them; the NSG does.";
    let (code, r) = report(Some(FIREWALL_ENV), &[&rcg]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(changes(&r), [("remove".into(), "fw-net-custom-dns-53".into(), None, vec![])]);
    assert_eq!(r["firewallNote"], json!(why));
    let text = diff(Some(FIREWALL_ENV), &[&rcg], "text").stdout;
    assert!(text.contains(&format!("\nnote: {why}\n")), "{text}");
    let ticket = diff(Some(FIREWALL_ENV), &[&rcg], "ticket").stdout;
    let changes_section = &ticket[ticket.find("## Changes").unwrap()..ticket.find("## Commands").unwrap()];
    assert!(
        changes_section.contains("| firewall | remove | ise-network-dependencies/fw-net-custom-dns-53 |"),
        "{ticket}"
    );
    assert!(changes_section.contains(why), "{ticket}");

    // A rule of the user's own to an address outside the VNet: removed, with no note.
    let last = rules(&mut group, net).last_mut().unwrap();
    last["name"] = json!("partner-dns");
    last["destinationAddresses"] = json!(["192.0.2.53"]);
    std::fs::write(&rcg, group.to_string()).unwrap();
    let (code, r) = report(Some(FIREWALL_ENV), &[&rcg]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(changes(&r), [("remove".into(), "partner-dns".into(), None, vec![])]);
    assert!(r.get("firewallNote").is_none(), "{r}");
}

/// An application rule deployed with `destinationAddresses: ["*"]` matches every destination on
/// its protocols, and one with `terminateTLS` has the firewall inspect its TLS: isenet compiles
/// neither, so each is drift in the rule's field, re-created as compiled by the ticket.
#[test]
fn application_rule_destination_addresses_and_tls_inspection_are_drift() {
    let dir = tempdir("drift-fw-app-fields");
    let (rcg, _) = group_and_table(&dir, Some(500), json!(false));
    let mut group: Value = serde_json::from_str(&std::fs::read_to_string(&rcg).unwrap()).unwrap();
    let app = "ise-application-dependencies";
    group_rule(&mut group, app, "fw-fqdn-crl-microsoft-com")["destinationAddresses"] = json!(["*"]);
    group_rule(&mut group, app, "fw-ase-fqdn-tag-windows-update")["terminateTLS"] = json!(true);
    // Their defaults, written out, are no drift.
    group_rule(&mut group, app, "fw-ase-fqdn-tag-windows-update")["destinationAddresses"] = json!([]);
    std::fs::write(&rcg, group.to_string()).unwrap();
    let (code, r) = report(Some(FIREWALL_ENV), &[&rcg]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(
        changes(&r),
        [
            ("change".into(), "fw-ase-fqdn-tag-windows-update".into(), None, s(&["terminateTLS"])),
            (
                "change".into(),
                "fw-fqdn-crl-microsoft-com".into(),
                None,
                s(&["destinationAddresses"])
            ),
        ]
    );
    assert_eq!(
        field(change(&r, "fw-fqdn-crl-microsoft-com"), "destinationAddresses"),
        (&json!(["*"]), &Value::Null)
    );
    assert_eq!(
        field(change(&r, "fw-ase-fqdn-tag-windows-update"), "terminateTLS"),
        (&json!(true), &Value::Null)
    );
    let ticket = diff(Some(FIREWALL_ENV), &[&rcg], "ticket").stdout;
    assert!(ticket.contains("fw-fqdn-crl-microsoft-com"), "{ticket}");
    assert!(ticket.contains("fw-ase-fqdn-tag-windows-update"), "{ticket}");
}

/// The firewall environment's default route deployed under another name: Azure cannot rename a
/// route and refuses two routes for one prefix, so the ticket deletes it and creates it again.
/// In between, 0.0.0.0/0 would fall to the system route to the Internet, past the firewall:
/// two bridge routes for 0.0.0.0/1 and 128.0.0.0/1 to the firewall come first and go last.
#[test]
fn a_renamed_default_route_is_bridged_so_traffic_never_skips_the_firewall() {
    let dir = tempdir("drift-route-bridge");
    let (_, rt) = group_and_table(&dir, None, json!(false));
    let mut table: Value = serde_json::from_str(&std::fs::read_to_string(&rt).unwrap()).unwrap();
    let routes = table["properties"]["routes"].as_array_mut().unwrap();
    let default = routes.iter_mut().find(|r| r["name"] == "route-firewall-default").unwrap();
    assert_eq!(default["properties"]["addressPrefix"], "0.0.0.0/0");
    default["name"] = json!("to-hub-fw");
    // A /32 route renamed too: no halves, so a comment tells of the gap.
    let host = routes
        .iter_mut()
        .find(|r| r["properties"]["addressPrefix"].as_str().unwrap().ends_with("/32"))
        .unwrap();
    let host_prefix = host["properties"]["addressPrefix"].as_str().unwrap().to_string();
    host["name"] = json!("one-host");
    std::fs::write(&rt, table.to_string()).unwrap();

    let ticket = diff(Some(FIREWALL_ENV), &[&rt], "ticket").stdout;
    let lines: Vec<&str> = ticket
        .lines()
        .filter(|l| l.starts_with("az network route-table") || l.starts_with("# between"))
        .collect();
    // The first line ending with `needle` (a deletion's name ends its line).
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.ends_with(needle))
            .unwrap_or_else(|| panic!("{needle} not in {lines:#?}"))
    };
    let bridge_1 = at("route create --resource-group contoso-network --route-table-name contoso-ise-routes --name to-hub-fw-bridge-1 --address-prefix 0.0.0.0/1 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance");
    let bridge_2 =
        at("--name to-hub-fw-bridge-2 --address-prefix 128.0.0.0/1 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance");
    let delete_old = at("route delete --resource-group contoso-network --route-table-name contoso-ise-routes --name to-hub-fw");
    let create_new = at("route create --resource-group contoso-network --route-table-name contoso-ise-routes --name route-firewall-default --address-prefix 0.0.0.0/0 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance");
    let unbridge_1 = at("route delete --resource-group contoso-network --route-table-name contoso-ise-routes --name to-hub-fw-bridge-1");
    let unbridge_2 = at("route delete --resource-group contoso-network --route-table-name contoso-ise-routes --name to-hub-fw-bridge-2");
    assert!(bridge_1 < delete_old && bridge_2 < delete_old, "{lines:#?}");
    assert!(delete_old < create_new, "{lines:#?}");
    assert!(create_new < unbridge_1 && create_new < unbridge_2, "{lines:#?}");
    let gap = at(&format!(
        "# between deleting route one-host and creating its successor, traffic to {host_prefix} follows the next longest route"
    ));
    assert!(gap < at("route delete --resource-group contoso-network --route-table-name contoso-ise-routes --name one-host"));
    assert!(!ticket.contains("one-host-bridge"), "{ticket}");

    // A deployed route the change deletes holds a half: on the same next hop it serves as that
    // half's bridge and goes last; on another it goes first, so that the bridge can take its place.
    let base = "az network route-table route";
    let target = "--resource-group contoso-network --route-table-name contoso-ise-routes";
    let routes = table["properties"]["routes"].as_array_mut().unwrap();
    routes.push(json!({"name": "upper-half", "properties": {"addressPrefix": "128.0.0.0/1", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.10.0.4"}}));
    std::fs::write(&rt, table.to_string()).unwrap();
    let ticket = diff(Some(FIREWALL_ENV), &[&rt], "ticket").stdout;
    let forward = ticket.split("## Rollback").next().unwrap();
    let lines: Vec<&str> = forward.lines().filter(|l| l.starts_with(base)).collect();
    let at = |l: &str| lines.iter().position(|x| *x == l).unwrap_or_else(|| panic!("{l}\n{ticket}"));
    assert!(!forward.contains("to-hub-fw-bridge-2"), "{ticket}");
    let bridge = at(&format!("{base} create {target} --name to-hub-fw-bridge-1 --address-prefix 0.0.0.0/1 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance"));
    let old = at(&format!("{base} delete {target} --name to-hub-fw"));
    let new = at(&format!("{base} create {target} --name route-firewall-default --address-prefix 0.0.0.0/0 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance"));
    let upper = at(&format!("{base} delete {target} --name upper-half"));
    assert!(bridge < old && old < new && new < upper, "{ticket}");

    // Bridge names another route has are skipped.
    routes_of(&mut table)
        .push(json!({"name": "to-hub-fw-bridge-1", "properties": {"addressPrefix": "10.99.0.0/16", "nextHopType": "None"}}));
    std::fs::write(&rt, table.to_string()).unwrap();
    let ticket = diff(Some(FIREWALL_ENV), &[&rt], "ticket").stdout;
    assert!(
        ticket.contains(&format!(
            "{base} create {target} --name to-hub-fw-bridge-3 --address-prefix 0.0.0.0/1 "
        )),
        "{ticket}"
    );
    routes_of(&mut table).retain(|r| r["name"] != "to-hub-fw-bridge-1");
    routes_of(&mut table).last_mut().unwrap()["properties"] = json!({"addressPrefix": "128.0.0.0/1", "nextHopType": "Internet"});
    std::fs::write(&rt, table.to_string()).unwrap();
    let ticket = diff(Some(FIREWALL_ENV), &[&rt], "ticket").stdout;
    let forward = ticket.split("## Rollback").next().unwrap();
    let lines: Vec<&str> = forward.lines().filter(|l| l.starts_with(base)).collect();
    let at = |l: &str| lines.iter().position(|x| *x == l).unwrap_or_else(|| panic!("{l}\n{ticket}"));
    let upper = at(&format!("{base} delete {target} --name upper-half"));
    let bridge = at(&format!("{base} create {target} --name to-hub-fw-bridge-2 --address-prefix 128.0.0.0/1 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance"));
    let old = at(&format!("{base} delete {target} --name to-hub-fw"));
    assert!(upper < bridge && bridge < old, "{ticket}");
}

fn routes_of(table: &mut Value) -> &mut Vec<Value> {
    table["properties"]["routes"].as_array_mut().unwrap()
}

/// 0.0.0.0/0 deployed as `default`, and the compiled route's name holding 0.0.0.0/1: the update
/// that moves `route-firewall-default` to 0.0.0.0/0 must wait for `default` to go (one prefix, one
/// route), and in between 128.0.0.0/1 would fall to the system route to the Internet. It is
/// bridged; 0.0.0.0/1 needs no bridge, the route holding it already goes to the firewall.
#[test]
fn a_prefix_an_update_takes_over_is_bridged_too() {
    let dir = tempdir("drift-route-takeover");
    let (_, rt) = group_and_table(&dir, None, json!(false));
    let mut table: Value = serde_json::from_str(&std::fs::read_to_string(&rt).unwrap()).unwrap();
    let routes = table["properties"]["routes"].as_array_mut().unwrap();
    let default = routes.iter_mut().find(|r| r["name"] == "route-firewall-default").unwrap();
    default["properties"]["addressPrefix"] = json!("0.0.0.0/1");
    routes.push(json!({"name": "default", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.10.0.4"}}));
    std::fs::write(&rt, table.to_string()).unwrap();
    let ticket = diff(Some(FIREWALL_ENV), &[&rt], "ticket").stdout;
    let base = "az network route-table route";
    let target = "--resource-group contoso-network --route-table-name contoso-ise-routes";
    let (forward, rollback) = ticket.split_once("## Rollback").unwrap_or_else(|| panic!("{ticket}"));
    let block = |text: &str| -> Vec<String> { text.lines().filter(|l| l.starts_with(base)).map(str::to_string).collect() };
    assert_eq!(
        block(forward),
        [
            format!("{base} create {target} --name default-bridge-2 --address-prefix 128.0.0.0/1 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance"),
            format!("{base} delete {target} --name default"),
            format!("{base} update {target} --name route-firewall-default --address-prefix 0.0.0.0/0"),
            format!("{base} delete {target} --name default-bridge-2"),
        ],
        "{ticket}"
    );
    // The rollback goes back the same careful way: the route moving off 0.0.0.0/0 takes one half
    // itself, a bridge holds the other until `default` is back.
    assert!(rollback.contains("```sh\naz cloud set --name AzureCloud\n"), "{ticket}");
    assert_eq!(
        block(rollback),
        [
            format!("{base} create {target} --name route-firewall-default-bridge-2 --address-prefix 128.0.0.0/1 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance"),
            format!("{base} update {target} --name route-firewall-default --address-prefix 0.0.0.0/1"),
            format!("{base} create {target} --name default --address-prefix 0.0.0.0/0 --next-hop-ip-address 10.10.0.4 --next-hop-type VirtualAppliance"),
            format!("{base} delete {target} --name route-firewall-default-bridge-2"),
        ],
        "{ticket}"
    );
}

/// The minimal environment's path and its compiled NSG (compiled into `dir/out`).
fn minimal_nsg(dir: &std::path::Path) -> (&'static str, Value) {
    let env = "tests/envs/minimal-defaults.json";
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", env, "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    (
        env,
        serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap(),
    )
}

/// A deployed NSG whose in-health-454 admits every source on 454, with a deny rule at 135 holding
/// the Internet off: deleting the deny rule before narrowing the allow rule would open 454 to the
/// Internet for a step, which neither state does. A deny rule whose priority nothing needs goes
/// last.
#[test]
fn a_deny_rule_is_deleted_after_the_rules_it_held_back_are_narrowed() {
    let dir = tempdir("drift-deny-last");
    let (env, mut nsg) = minimal_nsg(&dir);
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    let health = rules.iter_mut().find(|r| r["name"] == "in-health-454").unwrap();
    let props = health["properties"].as_object_mut().unwrap();
    props.remove("sourceAddressPrefixes");
    props.insert("sourceAddressPrefix".into(), json!("*"));
    assert!(rules.iter().all(|r| r["properties"]["priority"] != 135));
    rules.push(
        json!({"name": "deny-internet-454", "properties": {"priority": 135, "direction": "Inbound", "access": "Deny", "protocol": "*",
        "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "454"}}),
    );
    let path = dir.join("nsg.json");
    std::fs::write(&path, nsg.to_string()).unwrap();
    let ticket = diff(Some(env), &[path.to_str().unwrap()], "ticket").stdout;
    let lines: Vec<&str> = ticket.lines().collect();
    let at = |f: &dyn Fn(&str) -> bool| lines.iter().position(|l| f(l)).unwrap_or_else(|| panic!("{ticket}"));
    let narrow =
        at(&|l| l.contains(" rule update ") && l.contains("--name in-health-454 ") && l.contains("--source-address-prefixes LogicApps"));
    let delete = at(&|l| l.contains(" rule delete ") && l.ends_with("--name deny-internet-454"));
    assert!(narrow < delete, "{ticket}");
}

/// Two /32 routes deployed with their prefixes swapped: updating either first asks for a prefix
/// the other holds (Azure: RouteConflict). One is deleted, the other moves, then the first is
/// created again; a comment names the gap. A route moving to a prefix another route leaves waits
/// for it.
#[test]
fn routes_that_trade_prefixes_are_untangled() {
    let dir = tempdir("drift-route-swap");
    let (_, rt) = group_and_table(&dir, None, json!(false));
    let mut table: Value = serde_json::from_str(&std::fs::read_to_string(&rt).unwrap()).unwrap();
    let routes = table["properties"]["routes"].as_array_mut().unwrap();
    let hosts: Vec<usize> = routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r["properties"]["addressPrefix"].as_str().unwrap().ends_with("/32"))
        .map(|(i, _)| i)
        .take(2)
        .collect();
    let (a, b) = (hosts[0], hosts[1]);
    let prefix = |i: usize, routes: &Vec<Value>| routes[i]["properties"]["addressPrefix"].as_str().unwrap().to_string();
    let (pa, pb) = (prefix(a, routes), prefix(b, routes));
    let (na, nb) = (
        routes[a]["name"].as_str().unwrap().to_string(),
        routes[b]["name"].as_str().unwrap().to_string(),
    );
    routes[a]["properties"]["addressPrefix"] = json!(pb);
    routes[b]["properties"]["addressPrefix"] = json!(pa);
    std::fs::write(&rt, table.to_string()).unwrap();
    let ticket = diff(Some(FIREWALL_ENV), &[&rt], "ticket").stdout;
    let base = "az network route-table route";
    let target = "--resource-group contoso-network --route-table-name contoso-ise-routes";
    let block: Vec<&str> = ticket
        .split("## Rollback")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(base) || l.starts_with("# route "))
        .collect();
    assert_eq!(block.len(), 4, "{ticket}");
    assert!(
        block[0].starts_with(&format!("# route {na} trades prefixes with another route")),
        "{ticket}"
    );
    assert_eq!(block[1], format!("{base} delete {target} --name {na}"));
    assert_eq!(block[2], format!("{base} update {target} --name {nb} --address-prefix {pb}"));
    assert_eq!(
        block[3],
        format!("{base} create {target} --name {na} --address-prefix {pa} --next-hop-type Internet")
    );
}

/// The deny rule at 130 holds the Internet off an over-wide in-apim-mgmt-3443, and a missing rule
/// is to be created at 130: the deny rule goes after the narrowing update, just before the
/// creation that needs its priority.
#[test]
fn a_deny_rule_a_new_rule_displaces_waits_for_the_updates() {
    let dir = tempdir("drift-deny-before-create");
    let (env, mut nsg) = minimal_nsg(&dir);
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    let designer = rules.iter().position(|r| r["name"] == "in-designer-454").unwrap();
    let priority = rules[designer]["properties"]["priority"].clone();
    rules.remove(designer);
    let apim = rules.iter_mut().find(|r| r["name"] == "in-apim-mgmt-3443").unwrap();
    apim["properties"]["sourceAddressPrefix"] = json!("Internet");
    rules.push(
        json!({"name": "deny-x", "properties": {"priority": priority, "direction": "Inbound", "access": "Deny", "protocol": "*",
        "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "3443"}}),
    );
    let path = dir.join("nsg.json");
    std::fs::write(&path, nsg.to_string()).unwrap();
    let ticket = diff(Some(env), &[path.to_str().unwrap()], "ticket").stdout;
    let forward = ticket.split("## Rollback").next().unwrap();
    let lines: Vec<&str> = forward.lines().collect();
    let at = |f: &dyn Fn(&str) -> bool| lines.iter().position(|l| f(l)).unwrap_or_else(|| panic!("{ticket}"));
    let narrow = at(&|l| l.contains(" rule update ") && l.contains("--name in-apim-mgmt-3443 "));
    let delete = at(&|l| l.contains(" rule delete ") && l.ends_with("--name deny-x"));
    let create = at(&|l| l.contains(" rule create ") && l.contains("--name in-designer-454 "));
    assert!(narrow < delete && delete < create, "{ticket}");
}

/// The default route to the firewall and a firewall rule both missing: the rule comes first, so
/// the route never sends NTP to a firewall that denies it (both the deployed state, NTP straight to
/// the Internet, and the compiled one allow it). Deleting goes the other way: a route stops
/// sending traffic to the firewall before the firewall rules go.
#[test]
fn firewall_rules_are_in_place_before_a_route_sends_traffic_to_the_firewall() {
    let dir = tempdir("drift-cross-order");
    let (rcg, rt) = group_and_table(&dir, Some(500), json!(false));
    let mut group: Value = serde_json::from_str(&std::fs::read_to_string(&rcg).unwrap()).unwrap();
    for c in group["ruleCollections"].as_array_mut().unwrap() {
        c["rules"].as_array_mut().unwrap().retain(|r| r["name"] != "fw-net-ntp-123");
    }
    std::fs::write(&rcg, group.to_string()).unwrap();
    let mut table: Value = serde_json::from_str(&std::fs::read_to_string(&rt).unwrap()).unwrap();
    table["properties"]["routes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "route-firewall-default");
    std::fs::write(&rt, table.to_string()).unwrap();
    // A route updated to the firewall waits for the rule too (updates and creations of one
    // resource finish before the next resource's begin).
    routes_of(&mut table)
        .iter_mut()
        .find(|r| r["name"] == "route-logicapps-ips-4-156-25-14-32")
        .unwrap()["properties"] =
        json!({"addressPrefix": "4.156.25.14/32", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.10.0.5"});
    std::fs::write(&rt, table.to_string()).unwrap();
    for files in [[&rt, &rcg], [&rcg, &rt]] {
        let ticket = diff(Some(FIREWALL_ENV), &[files[0].as_str(), files[1].as_str()], "ticket").stdout;
        let rule = ticket
            .find("rule add ")
            .and_then(|_| ticket.find("--name fw-net-ntp-123 "))
            .unwrap_or_else(|| panic!("{ticket}"));
        let route = ticket.find("route create ").unwrap_or_else(|| panic!("{ticket}"));
        assert!(rule < route, "{ticket}");
        let update = ticket.find("route update ").unwrap_or_else(|| panic!("{ticket}"));
        assert!(rule < update, "{ticket}");
    }
}

/// A Government environment's diff ticket runs its commands on Azure US Government: a shell left
/// on the public cloud would send them there (README: every command block starts with
/// `az cloud set`).
#[test]
fn a_government_diff_ticket_sets_the_government_cloud_first() {
    let dir = tempdir("drift-gov-cloud");
    let env = "tests/envs/usgov-virginia.json";
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", env, "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    rules.retain(|r| r["name"] != "out-dns-53");
    let path = dir.join("nsg.json");
    std::fs::write(&path, nsg.to_string()).unwrap();
    let ticket = diff(Some(env), &[path.to_str().unwrap()], "ticket").stdout;
    let block = ticket.split("```sh\n").nth(1).unwrap_or_else(|| panic!("{ticket}"));
    assert!(
        block.starts_with(
            "az cloud set --name AzureUSGovernment\naz account set --subscription 00000000-0000-0000-0000-000000000000\naz network nsg rule create "
        ),
        "{ticket}"
    );
}

/// Descriptions decide no traffic: a rule collection group deployed without them (as the firewall
/// team's was) is in sync, its rules never removed and added again for them (an optional
/// in-place update sets them); a rule whose traffic also differs is a change, updated in place
/// with its description.
#[test]
fn description_differences_are_metadata_not_drift() {
    let dir = tempdir("drift-descriptions");
    let (rcg, _) = group_and_table(&dir, Some(500), json!(false));
    let mut group: Value = serde_json::from_str(&std::fs::read_to_string(&rcg).unwrap()).unwrap();
    let mut rules = 0;
    for c in group["ruleCollections"].as_array_mut().unwrap() {
        for r in c["rules"].as_array_mut().unwrap() {
            assert!(r.as_object_mut().unwrap().remove("description").is_some());
            rules += 1;
        }
    }
    std::fs::write(&rcg, group.to_string()).unwrap();
    assert!(rules > 1);

    let text = diff(Some(FIREWALL_ENV), &[&rcg], "text");
    assert_eq!(text.code, Some(0), "{}{}", text.stdout, text.stderr);
    assert!(
        text.stdout.contains(&format!(
            ": 0 to add, 0 to remove, 0 to change, 0 renamed, {rules} descriptions differ\n"
        )),
        "{}",
        text.stdout
    );
    assert_eq!(text.stdout.matches("\n  = metadata ").count(), rules, "{}", text.stdout);
    assert!(
        text.stdout
            .contains("\n  = metadata ise-network-dependencies/fw-net-sql-1433: description \"\" -> fw-net-sql-1433: "),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.ends_with(&format!("result: in sync ({rules} descriptions differ)\n")),
        "{}",
        text.stdout
    );
    let (code, r) = report(Some(FIREWALL_ENV), &[&rcg]);
    assert_eq!((code, &r["inSync"], &r["changes"]), (Some(0), &json!(true), &json!([])));
    let metadata = r["metadata"].as_array().unwrap();
    assert_eq!(metadata.len(), rules);
    assert!(
        metadata.iter().all(|m| m["artifact"] == "firewall"
            && m["fields"].as_array().unwrap().len() == 1
            && m["fields"][0]["field"] == "description"
            && m["fields"][0]["deployed"] == ""),
        "{metadata:?}"
    );
    let ticket = diff(Some(FIREWALL_ENV), &[&rcg], "ticket");
    assert_eq!(ticket.code, Some(0));
    assert!(ticket.stdout.contains("No change is needed."), "{}", ticket.stdout);
    assert!(ticket.stdout.contains("## Description differences"), "{}", ticket.stdout);
    // Optional, in place: `rule update` sets the description and keeps the traffic as it is (every
    // property given as desired, which here is what is deployed).
    assert!(!ticket.stdout.contains("## Commands"), "{}", ticket.stdout);
    let updates: Vec<&str> = ticket.stdout.lines().filter(|l| l.contains(" rule update ")).collect();
    assert_eq!(updates.len(), rules, "{}", ticket.stdout);
    // The file names no policy: the optional block says to fill in the placeholder it uses.
    assert!(
        updates.iter().all(|l| l.contains("--policy-name '<firewall-policy-name>'")),
        "{}",
        ticket.stdout
    );
    assert!(
        ticket.stdout.contains("replace `<firewall-policy-name>` before running"),
        "{}",
        ticket.stdout
    );
    assert!(
        !ticket.stdout.contains(" rule remove ") && !ticket.stdout.contains(" rule add "),
        "{}",
        ticket.stdout
    );
    assert!(
        updates
            .iter()
            .any(|l| l.contains("--name fw-net-sql-1433 --description 'fw-net-sql-1433: ") && l.contains(" --destination-ports 1433 ")),
        "{}",
        ticket.stdout
    );

    // fw-net-sql-1433 also loses its port: that rule is drift, the others still metadata.
    group_rule(&mut group, "ise-network-dependencies", "fw-net-sql-1433")["destinationPorts"] = json!(["1434"]);
    std::fs::write(&rcg, group.to_string()).unwrap();
    let (code, r) = report(Some(FIREWALL_ENV), &[&rcg]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(
        changes(&r),
        [(
            "change".into(),
            "fw-net-sql-1433".into(),
            None,
            s(&["description", "destinationPorts"])
        )]
    );
    assert_eq!(r["metadata"].as_array().unwrap().len(), rules - 1);
    let text = diff(Some(FIREWALL_ENV), &[&rcg], "text").stdout;
    assert!(text.ends_with(&format!("; {} descriptions differ\n", rules - 1)), "{text}");
    let ticket = diff(Some(FIREWALL_ENV), &[&rcg], "ticket").stdout;
    let section = ticket.split("## Commands").nth(1).unwrap_or_else(|| panic!("{ticket}"));
    let section = section.split("## Rollback").next().unwrap();
    let commands: Vec<&str> = section.lines().filter(|l| l.starts_with("az ")).collect();
    // The block starts on the environment's cloud.
    assert_eq!(commands[0], "az cloud set --name AzureCloud", "{ticket}");
    assert_eq!(
        commands[1], "az account set --subscription 00000000-0000-0000-0000-000000000000",
        "{ticket}"
    );
    let commands = &commands[2..];
    assert_eq!(commands.len(), 1, "{ticket}");
    assert!(
        commands[0].contains(" rule update ") && commands[0].contains(" --name fw-net-sql-1433 --description 'fw-net-sql-1433: "),
        "{ticket}"
    );
    // A deployed rule with TLS inspection on cannot have it turned off by `rule update` (az keeps
    // a property it is not given): removed and added again.
    group_rule(&mut group, "ise-application-dependencies", "fw-fqdn-crl-microsoft-com")["terminateTLS"] = json!(true);
    std::fs::write(&rcg, group.to_string()).unwrap();
    let ticket = diff(Some(FIREWALL_ENV), &[&rcg], "ticket").stdout;
    let commands = ticket.split("## Commands").nth(1).unwrap_or_else(|| panic!("{ticket}"));
    assert!(
        commands.contains(" rule remove ") && commands.contains("--name fw-fqdn-crl-microsoft-com\n"),
        "{ticket}"
    );
    assert!(
        commands.contains(" rule add ") && commands.contains("--name fw-fqdn-crl-microsoft-com --description "),
        "{ticket}"
    );
}

/// A rule renamed to a place of its own: the new rule is created before the old one is deleted,
/// so no step lacks it (for a deny, Azure's AllowVnetInBound would otherwise admit every port in
/// between). A firewall rule likewise: added before the old name is removed. An NSG rule name that
/// differs only in case is the same name to Azure: no drift, or one update of what else differs.
#[test]
fn a_renamed_rule_exists_at_every_step() {
    let dir = tempdir("drift-rename-order");
    let compiled = dir.join("out");
    let run = isenet(&["compile", "--env", FIREWALL_ENV, "--out-dir", compiled.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let read = |f: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(compiled.join(f)).unwrap()).unwrap() };
    let forward = |deployed: &Value, file: &str| -> Vec<String> {
        let path = dir.join(file);
        std::fs::write(&path, serde_json::to_string_pretty(deployed).unwrap()).unwrap();
        let ticket = diff(Some(FIREWALL_ENV), &[path.to_str().unwrap()], "ticket").stdout;
        let forward = ticket.split("## Rollback").next().unwrap().to_string();
        // The commands and the comments among them (not the ticket's `# ` title).
        forward
            .lines()
            .skip(1)
            .filter(|l| l.starts_with("az network") || l.starts_with("# "))
            .map(String::from)
            .collect()
    };
    let position = |lines: &[String], start: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("{start}: {lines:#?}"))
    };
    // The deny of all inbound, renamed and moved to 4000.
    let mut nsg = read("nsg.json");
    for r in nsg["properties"]["securityRules"].as_array_mut().unwrap() {
        if r["name"] == "deny-all-inbound" {
            r["name"] = json!("DenyAllIn");
            r["properties"]["priority"] = json!(4000);
        }
    }
    let lines = forward(&nsg, "renamed-deny.json");
    let create = position(
        &lines,
        "az network nsg rule create --resource-group contoso-network --nsg-name contoso-ise-nsg --name deny-all-inbound ",
    );
    let delete = position(
        &lines,
        "az network nsg rule delete --resource-group contoso-network --nsg-name contoso-ise-nsg --name DenyAllIn",
    );
    assert!(create < delete, "{lines:#?}");
    // Only the case differs.
    let mut nsg = read("nsg.json");
    for r in nsg["properties"]["securityRules"].as_array_mut().unwrap() {
        if r["name"] == "deny-all-inbound" {
            r["name"] = json!("Deny-All-Inbound");
        }
    }
    let path = dir.join("renamed-case.json");
    std::fs::write(&path, serde_json::to_string_pretty(&nsg).unwrap()).unwrap();
    let (code, r) = report(Some(FIREWALL_ENV), &[path.to_str().unwrap()]);
    assert_eq!((code, changes(&r)), (Some(0), vec![]), "Azure takes them as one name: {r}");
    // ... and with another difference, one change of that rule.
    for rule in nsg["properties"]["securityRules"].as_array_mut().unwrap() {
        if rule["name"] == "Deny-All-Inbound" {
            rule["properties"]["priority"] = json!(4090);
        }
    }
    let lines = forward(&nsg, "renamed-case-moved.json");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0]
            .starts_with("az network nsg rule update --resource-group contoso-network --nsg-name contoso-ise-nsg --name deny-all-inbound ")
            && lines[0].contains(" --priority 4096"),
        "{lines:#?}"
    );
    // A firewall network rule renamed.
    let mut policy = read("firewall-policy.json");
    let mut renamed = None;
    for c in policy["resources"][0]["properties"]["ruleCollections"].as_array_mut().unwrap() {
        for r in c["rules"].as_array_mut().unwrap() {
            if renamed.is_none() && r["ruleType"] == "NetworkRule" {
                renamed = Some(r["name"].as_str().unwrap().to_string());
                r["name"] = json!("renamed-by-hand");
            }
        }
    }
    let renamed = renamed.expect("a network rule");
    let lines = forward(&policy, "renamed-rule.json");
    let add = position(&lines, "az network firewall policy rule-collection-group collection rule add ");
    let remove = position(&lines, "az network firewall policy rule-collection-group collection rule remove ");
    assert!(lines[add].contains(&format!("--name {renamed} ")), "{}", lines[add]);
    assert!(lines[remove].ends_with("--name renamed-by-hand"), "{}", lines[remove]);
    assert!(add < remove, "{lines:#?}");
}

/// An exported resource group names each resource by a parameter whose default value holds the
/// deployed name (`[parameters('networkSecurityGroups_legacy_ise_nsg_name')]`). An NSG of another
/// name than the environment's is not taken for the ISE's (it may be a jump box's): the ISE's is
/// not deployed there, and the report names what the template holds and the field that would
/// name it. Named in the environment (`nsgName`), it is compared, and the commands that converge
/// it address it by that name.
#[test]
fn an_exported_templates_parameter_defaults_name_the_resources() {
    let dir = tempdir("drift-export-names");
    let mut nsg = compiled_example_nsg(&dir);
    nsg["name"] = json!("[parameters('networkSecurityGroups_legacy_ise_nsg_name')]");
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    let health = rules.iter_mut().find(|r| r["name"] == "in-health-454").unwrap();
    health["properties"]["destinationPortRange"] = json!("455");
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"networkSecurityGroups_legacy_ise_nsg_name": {"type": "String", "defaultValue": "legacy-ise-nsg"}},
        "resources": [nsg]
    });
    let file = dir.join("export.json");
    std::fs::write(&file, template.to_string()).unwrap();
    let run = diff(None, &[file.to_str().unwrap()], "text");
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("not deployed: NSG `contoso-ise-nsg` is not in")
            && run.stdout.contains("it holds NSG `legacy-ise-nsg`")
            && run.stdout.contains("(`nsgName`)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("1 not deployed\n"), "{}", run.stdout);
    let (_, report) = report(None, &[file.to_str().unwrap()]);
    assert_eq!(report["absent"][0]["passedOver"], json!(["legacy-ise-nsg"]), "{report}");
    assert_eq!(report["changes"], json!([]));
    // Of thousands of others the line names twelve and counts the rest (the JSON lists them all).
    let many: Vec<Value> = (0..2000)
        .map(|i| {
            json!({"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-11-01", "name": format!("nsg-{i}"),
                        "properties": {"securityRules": []}})
        })
        .collect();
    let many_file = dir.join("many.json");
    std::fs::write(
        &many_file,
        json!({"$schema": template["$schema"], "contentVersion": "1.0.0.0", "resources": many}).to_string(),
    )
    .unwrap();
    let run = diff(None, &[many_file.to_str().unwrap()], "text");
    assert!(
        run.stdout.contains("it holds NSG `nsg-0`, `nsg-1`,") && run.stdout.contains("`nsg-11` and 1,988 more)"),
        "{}",
        run.stdout
    );
    let (_, many_report) = self::report(None, &[many_file.to_str().unwrap()]);
    assert_eq!(many_report["absent"][0]["passedOver"].as_array().unwrap().len(), 2000);

    let mut env: Value = isenet(&["example"]).json();
    env["nsgName"] = json!("legacy-ise-nsg");
    let env_file = dir.join("env.json");
    std::fs::write(&env_file, env.to_string()).unwrap();
    let run = diff(Some(env_file.to_str().unwrap()), &[file.to_str().unwrap()], "ticket");
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("--nsg-name legacy-ise-nsg --name in-health-454"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Not deployed"), "{}", run.stdout);
}

/// An exported resource group holds a jump box's NSG beside the ISE's, and a shared hub policy
/// another spoke's rule collection group: the environment's are compared and converged, the
/// others never touched; one without the ISE's NSG says so (exit 1) instead of "in sync".
#[test]
fn an_exported_resource_group_is_compared_by_the_environments_resources() {
    let dir = tempdir("drift-export-others");
    let out = dir.join("out");
    let fw = envs_dir().join("firewall-tunneling.json");
    let o = isenet(&["compile", "--env", fw.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let read = |f: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap() };
    let mut ise_nsg = read("nsg.json");
    ise_nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "in-health-454");
    let mut jumpbox = read("nsg.json");
    jumpbox["name"] = json!("jumpbox-nsg");
    jumpbox["properties"]["securityRules"] = json!([{"name": "allow-ssh-corp", "properties": {
        "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22", "sourceAddressPrefix": "192.0.2.0/24",
        "destinationAddressPrefix": "*", "access": "Allow", "priority": 100, "direction": "Inbound"}}]);
    let ssh_child = json!({"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "jumpbox-nsg/allow-rdp",
        "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "*", "access": "Allow", "priority": 110, "direction": "Inbound"}});
    let routes = read("route-table.json");
    let policy = read("firewall-policy.json");
    let mut group = policy["resources"][0].clone();
    group["name"] = json!("hub-policy/contoso-ise-dependencies");
    let mut spoke = group.clone();
    spoke["name"] = json!("hub-policy/spoke2-dependencies");
    spoke["properties"]["priority"] = json!(300);
    let export = |resources: Vec<Value>| {
        json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": resources})
    };
    let file = dir.join("rg.json");
    let all = vec![
        jumpbox.clone(),
        ssh_child.clone(),
        ise_nsg,
        routes.clone(),
        spoke.clone(),
        group.clone(),
    ];
    std::fs::write(&file, export(all).to_string()).unwrap();
    let (code, report) = report(Some(fw.to_str().unwrap()), &[file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        changes(&report),
        [("add".to_string(), "in-health-454".to_string(), None, vec![])],
        "{report}"
    );
    let compared: Vec<(&str, &str)> = report["compared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["artifact"].as_str().unwrap(), c["target"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        compared,
        [
            ("nsg", "contoso-ise-nsg"),
            ("routes", "contoso-ise-routes"),
            ("firewall", "contoso-ise-dependencies")
        ]
    );
    let run = diff(Some(fw.to_str().unwrap()), &[file.to_str().unwrap()], "ticket");
    assert!(!run.stdout.contains("jumpbox") && !run.stdout.contains("spoke2"), "{}", run.stdout);

    // Without the ISE's NSG, the jump box's is not diffed in its place.
    let file = dir.join("rg-without-ise-nsg.json");
    std::fs::write(&file, export(vec![jumpbox, ssh_child, routes, spoke, group]).to_string()).unwrap();
    let run = diff(Some(fw.to_str().unwrap()), &[file.to_str().unwrap()], "text");
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("not deployed: NSG `contoso-ise-nsg`"), "{}", run.stdout);
    assert!(!run.stdout.contains("allow-ssh-corp"), "{}", run.stdout);
}

/// Converging deletes what the environment does not compile; where that may admit or reroute
/// traffic another team relies on (a Deny rule, a route to a gateway), every view says so.
#[test]
fn removing_a_foreign_deny_or_gateway_route_carries_a_caution() {
    let dir = tempdir("drift-caution");
    let out = dir.join("out");
    let o = isenet(&[
        "compile",
        "--env",
        EXPRESSROUTE_ENV,
        "--only",
        "nsg,routes",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "secops-block-c2", "properties": {
        "priority": 105, "direction": "Outbound", "access": "Deny", "protocol": "*", "sourceAddressPrefix": "*",
        "sourcePortRange": "*", "destinationAddressPrefix": "198.51.100.0/24", "destinationPortRange": "*"}}));
    let mut routes: Value = serde_json::from_str(&std::fs::read_to_string(out.join("route-table.json")).unwrap()).unwrap();
    routes["properties"]["routes"].as_array_mut().unwrap().push(json!({"name": "onprem",
        "properties": {"addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualNetworkGateway"}}));
    let (nsg_file, routes_file) = (dir.join("nsg.json"), dir.join("routes.json"));
    std::fs::write(&nsg_file, nsg.to_string()).unwrap();
    std::fs::write(&routes_file, routes.to_string()).unwrap();
    let files = [nsg_file.to_str().unwrap(), routes_file.to_str().unwrap()];
    let (code, report) = report(Some(EXPRESSROUTE_ENV), &files);
    assert_eq!(code, Some(1));
    let caution = |name: &str| change(&report, name)["caution"].as_str().unwrap_or_default().to_string();
    assert!(
        caution("secops-block-c2").starts_with("a Deny rule the environment does not compile"),
        "{report}"
    );
    assert!(
        caution("onprem")
            .starts_with("a route to VirtualNetworkGateway the environment does not compile: deleting it sends 192.168.0.0/16"),
        "{report}"
    );
    let text = diff(Some(EXPRESSROUTE_ENV), &files, "text");
    assert!(
        text.stdout.contains("- remove secops-block-c2:") && text.stdout.contains("\n      caution: a Deny rule"),
        "{}",
        text.stdout
    );
    let ticket = diff(Some(EXPRESSROUTE_ENV), &files, "ticket");
    assert!(
        ticket.stdout.contains("**Caution:** a route to VirtualNetworkGateway"),
        "{}",
        ticket.stdout
    );
}

/// `az network nsg show` and `az network route-table show` list the subnets the resource is on
/// (none when Azure's output leaves the list out):
/// an ISE subnet without it is drift (its rules or routes do not apply there), and the ticket
/// associates it after the rules converge and dissociates it in the rollback. Names compare
/// case-insensitively; a resource of another resource group is associated by its id; a file
/// that lists no subnets (an exported template) is not judged.
#[test]
fn an_ise_subnet_without_the_nsg_or_route_table_is_drift() {
    let dir = tempdir("drift-associations");
    let subnet = |vnet: &str, name: &str| json!({"id": format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-network/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}")});
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(workspace().join(fixture("nsg-in-sync.json"))).unwrap()).unwrap();
    nsg["subnets"] = json!([
        subnet("CONTOSO-VNET", "ise-1"),
        subnet("contoso-vnet", "ISE-2"),
        subnet("contoso-vnet", "ise-4"),
        subnet("other-vnet", "ise-3")
    ]);
    let file = dir.join("nsg.json");
    std::fs::write(&file, nsg.to_string()).unwrap();
    let run = diff(None, &[file.to_str().unwrap()], "text");
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("not associated")).collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].contains("NSG `contoso-ise-nsg` is not associated with subnet `ise-3` of `contoso-vnet`"),
        "{}",
        lines[0]
    );
    assert!(run.stdout.ends_with(", 1 subnet association(s) missing\n"), "{}", run.stdout);
    let ticket = diff(None, &[file.to_str().unwrap()], "ticket");
    assert!(
        ticket.stdout.contains(
            "az network vnet subnet update --resource-group contoso-network --vnet-name contoso-vnet --name ise-3 --network-security-group contoso-ise-nsg\n"
        ),
        "{}",
        ticket.stdout
    );
    let rollback = &ticket.stdout[ticket.stdout.find("## Rollback").unwrap()..];
    assert!(rollback.contains("--name ise-3 --remove networkSecurityGroup"), "{rollback}");

    // On every subnet: in sync. In another resource group: named by its id.
    nsg["subnets"] = json!(["ise-1", "ise-2", "ise-3", "ise-4"].map(|s| subnet("contoso-vnet", s)));
    std::fs::write(&file, nsg.to_string()).unwrap();
    assert_eq!(diff(None, &[file.to_str().unwrap()], "text").code, Some(0));
    nsg["subnets"] = json!([]);
    nsg["resourceGroup"] = json!("security-rg");
    nsg["id"] = json!(nsg["id"].as_str().unwrap().replace("/contoso-network/", "/security-rg/"));
    std::fs::write(&file, nsg.to_string()).unwrap();
    let (code, elsewhere) = report(None, &[file.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let unassociated = elsewhere["unassociated"].as_array().unwrap();
    assert_eq!(unassociated.len(), 4, "{elsewhere}");
    assert_eq!(
        unassociated[0]["resource"],
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/security-rg/providers/Microsoft.Network/networkSecurityGroups/contoso-ise-nsg"
    );
    // Azure's output (it states its provisioningState) leaves an empty list out: on no subnet.
    nsg.as_object_mut().unwrap().remove("subnets");
    std::fs::write(&file, nsg.to_string()).unwrap();
    let (code, report) = report(None, &[file.to_str().unwrap()]);
    assert_eq!(
        (code, report["unassociated"].as_array().map(Vec::len)),
        (Some(1), Some(4)),
        "{report}"
    );
    // A file that is not Azure's output says nothing of its subnets.
    nsg.as_object_mut().unwrap().remove("provisioningState");
    std::fs::write(&file, nsg.to_string()).unwrap();
    assert_eq!(diff(None, &[file.to_str().unwrap()], "text").code, Some(0));
}

/// An exported resource group writes the association on the subnet: the virtual network's inline
/// `subnets` and its child subnet resources name their NSG and route table with
/// `[resourceId(...)]`. Those of the environment's virtual network are read: an ISE subnet
/// without the NSG is `F0111` for `verify` and a missing association for `diff` (the ticket
/// associates it); a template without that network (or naming it by what it does not say
/// plainly) says nothing.
#[test]
fn an_exported_virtual_networks_subnets_say_where_the_nsg_is() {
    let dir = tempdir("drift-template-subnets");
    let mut nsg = compiled_example_nsg(&dir);
    nsg["name"] = json!("[parameters('networkSecurityGroups_contoso_ise_nsg_name')]");
    let nsg_id = "[resourceId('Microsoft.Network/networkSecurityGroups', parameters('networkSecurityGroups_contoso_ise_nsg_name'))]";
    let subnet = |name: &str, nsg: Option<&str>| {
        let mut s = json!({"name": name, "properties": {"addressPrefix": "10.10.1.0/27"}});
        if let Some(id) = nsg {
            s["properties"]["networkSecurityGroup"] = json!({"id": id});
        }
        s
    };
    let export = |vnet_name: &str, ise_3: Option<&str>| {
        json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "networkSecurityGroups_contoso_ise_nsg_name": {"defaultValue": "contoso-ise-nsg", "type": "String"},
            "virtualNetworks_name": {"defaultValue": vnet_name, "type": "String"}
        },
        "resources": [
            nsg.clone(),
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-11-01",
             "name": "[parameters('virtualNetworks_name')]", "location": "westeurope",
             "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}, "subnets": [
                subnet("ise-1", Some(nsg_id)), subnet("ise-2", Some(nsg_id)), subnet("ise-3", ise_3),
                subnet("jumpbox", Some("[resourceId('Microsoft.Network/networkSecurityGroups', 'jumpbox-nsg')]"))]}},
            // The export repeats each subnet as a child resource.
            {"type": "Microsoft.Network/virtualNetworks/subnets", "apiVersion": "2023-11-01",
             "name": "[concat(parameters('virtualNetworks_name'), '/ise-4')]",
             "properties": {"addressPrefix": "10.10.1.96/27", "networkSecurityGroup": {"id": nsg_id}}}
        ]})
    };
    let file = dir.join("rg.json");
    let path = file.to_str().unwrap();
    std::fs::write(&file, export("contoso-vnet", None).to_string()).unwrap();
    let verify = isenet(&["verify", "--nsg", path, "--format", "json"]);
    assert_eq!(verify.code, Some(1), "{}", verify.stdout);
    let failing: Vec<(String, String)> = verify.json()["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "note")
        .map(|f| (f["code"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        failing,
        [(
            "F0111".to_string(),
            "the NSG is not on subnet `ise-3` of `contoso-vnet` (resource group `contoso-network`): its traffic meets none of these rules"
                .to_string()
        )]
    );
    let ticket = diff(None, &[path], "ticket");
    assert_eq!(ticket.code, Some(1), "{}", ticket.stdout);
    assert!(
        ticket.stdout.contains(
            "az network vnet subnet update --resource-group contoso-network --vnet-name contoso-vnet --name ise-3 --network-security-group contoso-ise-nsg\n"
        ),
        "{}",
        ticket.stdout
    );
    assert_eq!(
        ticket.stdout.matches("az network vnet subnet update").count(),
        2,
        "association and rollback: {}",
        ticket.stdout
    );

    // On every ISE subnet (one by an id naming its resource group): in sync.
    let with_group = "[resourceId('contoso-network', 'Microsoft.Network/networkSecurityGroups', 'contoso-ise-nsg')]";
    std::fs::write(&file, export("contoso-vnet", Some(with_group)).to_string()).unwrap();
    assert_eq!(isenet(&["verify", "--nsg", path]).code, Some(0));
    assert_eq!(diff(None, &[path], "text").code, Some(0));
    // Another NSG on ise-3, or no word of the environment's network: judged, or not judged.
    std::fs::write(
        &file,
        export(
            "contoso-vnet",
            Some("[resourceId('Microsoft.Network/networkSecurityGroups', 'jumpbox-nsg')]"),
        )
        .to_string(),
    )
    .unwrap();
    let verify = isenet(&["verify", "--nsg", path]);
    assert_eq!(verify.code, Some(1));
    assert!(
        verify
            .stdout
            .contains("not on subnet `ise-3` of `contoso-vnet` (resource group `contoso-network`), which is on `jumpbox-nsg`"),
        "{}",
        verify.stdout
    );
    // The rollback puts the subnet back on the NSG the export shows it on.
    let ticket = diff(None, &[path], "ticket").stdout;
    let rollback = &ticket[ticket.find("## Rollback").unwrap()..];
    assert!(
        rollback.contains("az network vnet subnet update --resource-group contoso-network --vnet-name contoso-vnet --name ise-3 --network-security-group jumpbox-nsg\n"),
        "{rollback}"
    );
    assert!(!rollback.contains("--remove") && !rollback.contains("left with none"), "{rollback}");
    std::fs::write(&file, export("spoke-vnet", None).to_string()).unwrap();
    assert_eq!(isenet(&["verify", "--nsg", path]).code, Some(0));
    // A subnet naming the NSG by what the template does not say plainly is taken to be on it.
    std::fs::write(
        &file,
        export(
            "contoso-vnet",
            Some("[resourceId('Microsoft.Network/networkSecurityGroups', toLower('X'))]"),
        )
        .to_string(),
    )
    .unwrap();
    assert_eq!(isenet(&["verify", "--nsg", path]).code, Some(0));

    let verdict = |name: &str, template: &Value| {
        let file = dir.join(name);
        std::fs::write(&file, template.to_string()).unwrap();
        let path = file.to_str().unwrap();
        let (verify, diff) = (isenet(&["verify", "--nsg", path]), diff(None, &[path], "text"));
        assert_eq!(
            verify.code, diff.code,
            "{name}: verify and diff agree: {}{}",
            verify.stdout, diff.stdout
        );
        (verify.code, verify.stdout.contains("F0111"))
    };
    // Ids built from the deployment's own resource group and subscription (`resourceGroup()`,
    // `subscription()`): the environment's, the file being its export.
    for (name, id, expected) in [
        (
            "own-place-other-nsg.json",
            "[concat('/subscriptions/', subscription().subscriptionId, '/resourceGroups/', resourceGroup().name, '/providers/Microsoft.Network/networkSecurityGroups/jumpbox-nsg')]",
            (Some(1), true),
        ),
        (
            "own-place-our-nsg.json",
            "[concat(resourceGroup().id, '/providers/Microsoft.Network/networkSecurityGroups/contoso-ise-nsg')]",
            (Some(0), false),
        ),
        (
            "own-subscription-other-rg.json",
            "[resourceId(subscription().subscriptionId, 'other-rg', 'Microsoft.Network/networkSecurityGroups', 'contoso-ise-nsg')]",
            (Some(1), true),
        ),
        // A name with control characters is none Azure could have (nor one to print in a
        // message or a command): taken to be the NSG's, as anything not said plainly.
        (
            "control-characters.json",
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-network/providers/Microsoft.Network/networkSecurityGroups/jump\nbox\u{1b}[31mRED",
            (Some(0), false),
        ),
        (
            "mark-character.json",
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/\u{2}resourceGroup\u{2}x/providers/Microsoft.Network/networkSecurityGroups/jumpbox-nsg",
            (Some(0), false),
        ),
        // A place built partly from the deployment's says nothing: taken to be the NSG's.
        (
            "partly-own-place.json",
            "[concat('/subscriptions/x/resourceGroups/', resourceGroup().name, '-old/providers/Microsoft.Network/networkSecurityGroups/jumpbox-nsg')]",
            (Some(0), false),
        ),
    ] {
        assert_eq!(verdict(name, &export("contoso-vnet", Some(id))), expected, "{name}");
    }
    // A resource named after the deployment's own resource group is named so, never by the
    // evaluator's mark.
    let named_after_group = "[resourceId('Microsoft.Network/networkSecurityGroups', resourceGroup().name)]";
    let file = dir.join("named-after-group.json");
    std::fs::write(&file, export("contoso-vnet", Some(named_after_group)).to_string()).unwrap();
    let r = isenet(&["verify", "--nsg", file.to_str().unwrap()]);
    assert!(
        r.stdout
            .contains("`ise-3` of `contoso-vnet` (resource group `contoso-network`), which is on `contoso-network`")
            && !r.stdout.contains('\u{2}'),
        "{}",
        r.stdout
    );
    let ticket = diff(None, &[file.to_str().unwrap()], "ticket").stdout;
    assert!(
        ticket.contains("--network-security-group contoso-network\n") && !ticket.contains('\u{2}'),
        "{ticket}"
    );
    // An id naming another resource group or provider names another resource.
    for (name, id) in [
        ("other-rg.json", "[resourceId('other-rg', 'Microsoft.Network/networkSecurityGroups', 'contoso-ise-nsg')]"),
        ("literal-other-rg.json", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/other-rg/providers/Microsoft.Network/networkSecurityGroups/contoso-ise-nsg"),
        ("other-provider.json", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-network/providers/Microsoft.Evil/networkSecurityGroups/contoso-ise-nsg"),
    ] {
        assert_eq!(verdict(name, &export("contoso-vnet", Some(id))), (Some(1), true), "{name}");
    }
    // A child subnet deployed after its network without the NSG takes it off.
    let mut child_without = export("contoso-vnet", Some(nsg_id));
    child_without["resources"][2]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("networkSecurityGroup");
    assert_eq!(verdict("child-without.json", &child_without), (Some(1), true));
    // ... unless a `copy` of no iteration deploys it not at all.
    for count in [json!(0), json!("[parameters('copies')]")] {
        let mut no_copies = child_without.clone();
        no_copies["parameters"]["copies"] = json!({"type": "Int", "defaultValue": 0});
        no_copies["resources"][2]["copy"] = json!({"name": "subnets", "count": count});
        assert_eq!(verdict("child-no-copies.json", &no_copies), (Some(0), false), "{count}");
    }
    // The network's name deployed into another resource group is another network; so is one
    // deployed only on a condition.
    let mut elsewhere = export("contoso-vnet", None);
    let resources = elsewhere["resources"].as_array_mut().unwrap();
    let network = resources.remove(1);
    resources.push(
        json!({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "spoke",
        "resourceGroup": "spoke-rg", "properties": {"mode": "Incremental", "template": {
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": [network]}}}),
    );
    assert_eq!(verdict("elsewhere.json", &elsewhere), (Some(0), false));
    // A nested deployment into `[resourceGroup().name]` deploys into the top's own resource
    // group, the environment's: its network is judged (ise-3 without the NSG).
    elsewhere["resources"][2]["resourceGroup"] = json!("[resourceGroup().name]");
    assert_eq!(verdict("nested-own-group.json", &elsewhere), (Some(1), true));
    elsewhere["resources"][2]["resourceGroup"] = json!("[concat(resourceGroup().name, '-spoke')]");
    assert_eq!(verdict("nested-derived-group.json", &elsewhere), (Some(0), false));
    let mut conditional = export("contoso-vnet", None);
    conditional["resources"][1]["condition"] = json!(false);
    conditional["resources"].as_array_mut().unwrap().remove(2);
    assert_eq!(verdict("conditional.json", &conditional), (Some(0), false));
    // A condition the template says holds deploys it; so is one it does not say plainly taken.
    for condition in ["[equals('new', 'new')]", "[reference('x').enabled]"] {
        conditional["resources"][1]["condition"] = json!(condition);
        assert_eq!(verdict("conditional.json", &conditional), (Some(1), true), "{condition}");
    }
}

/// The nsg.json the embedded example compiles to, compiled into `dir/out`.
fn compiled_example_nsg(dir: &std::path::Path) -> Value {
    let out = dir.join("out");
    let o = isenet(&["compile", "--only", "nsg", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap()
}

/// The firewall-policy.json the firewall environment compiles to, compiled into `dir/out`.
fn compiled_firewall_policy(dir: &std::path::Path) -> Value {
    let out = dir.join("out");
    let o = isenet(&[
        "compile",
        "--env",
        FIREWALL_ENV,
        "--out-dir",
        out.to_str().unwrap(),
        "--only",
        "firewall",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    serde_json::from_str(&std::fs::read_to_string(out.join("firewall-policy.json")).unwrap()).unwrap()
}

/// A rule collection renamed by hand: removing it before the compiled one is added would cut the
/// ISE's dependencies for as long as the policy updates take. A bridge collection holding its
/// rules goes in first, at the free priority next to it, and out last; the rollback bridges the
/// compiled collection the same way.
#[test]
fn a_renamed_collection_is_bridged_so_its_traffic_is_never_cut() {
    let dir = tempdir("drift-collection-bridge");
    let mut policy = compiled_firewall_policy(&dir);
    let collections = policy["resources"][0]["properties"]["ruleCollections"].as_array_mut().unwrap();
    let network = collections.iter_mut().find(|c| c["name"] == "ise-network-dependencies").unwrap();
    network["name"] = json!("ise-net-deps");
    let priority = network["priority"].as_u64().unwrap();
    let rules: Vec<String> = network["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    let file = dir.join("renamed.json");
    std::fs::write(&file, policy.to_string()).unwrap();
    let run = diff(Some(FIREWALL_ENV), &[file.to_str().unwrap()], "ticket");
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let block = |from: &str| -> Vec<String> {
        let start = run.stdout.find(from).unwrap();
        let body = &run.stdout[start..];
        let open = body.find("```sh\n").unwrap() + 6;
        body[open..open + body[open..].find("```").unwrap()]
            .lines()
            .map(str::to_string)
            .collect()
    };
    let forward = block("## Commands");
    let at = |needle: &str| {
        forward
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle}: {forward:#?}"))
    };
    let bridge_add = at("--rule-collection-group-name contoso-ise-dependencies --name ise-net-deps-bridge --collection-priority");
    assert!(
        forward[bridge_add].contains("collection add-filter-collection"),
        "{}",
        forward[bridge_add]
    );
    assert!(
        forward[bridge_add].contains(&format!("--collection-priority {} --action Allow", priority - 1)),
        "{}",
        forward[bridge_add]
    );
    let bridged: Vec<&String> = forward
        .iter()
        .filter(|l| l.contains("--collection-name ise-net-deps-bridge "))
        .collect();
    assert_eq!(bridged.len() + 1, rules.len(), "{forward:#?}");
    let ends = |suffix: &str| {
        forward
            .iter()
            .position(|l| l.ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix}: {forward:#?}"))
    };
    let old_removed = ends("--rule-collection-group-name contoso-ise-dependencies --name ise-net-deps");
    let new_added = at("--name ise-network-dependencies --collection-priority");
    let bridge_removed = ends("--name ise-net-deps-bridge");
    assert!(forward[bridge_removed].contains("collection remove"), "{}", forward[bridge_removed]);
    assert!(
        bridge_add < old_removed && old_removed < new_added && new_added < bridge_removed,
        "{forward:#?}"
    );
    assert_eq!(bridge_removed, forward.len() - 1, "{forward:#?}");
    let rollback = block("## Rollback");
    assert!(
        rollback
            .iter()
            .any(|l| l.contains("--name ise-network-dependencies-bridge --collection-priority")),
        "{rollback:#?}"
    );
}

/// The deployed file names its NSG: one named otherwise than the environment's (a jump box's) is
/// refused, not rewritten into the ISE's. One in another subscription is addressed there: every
/// command block selects the environment's subscription first, and the commands for a resource in
/// another one say so; an association counts only in the environment's subscription and resource
/// group.
#[test]
fn diff_addresses_only_the_environments_resources_in_their_subscription() {
    let dir = tempdir("drift-names-subscriptions");
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(workspace().join(fixture("nsg-drifted.json"))).unwrap()).unwrap();
    nsg["name"] = json!("jumpbox-nsg");
    let file = dir.join("jumpbox.json");
    std::fs::write(&file, nsg.to_string()).unwrap();
    let run = isenet(&["--error-format", "json", "diff", "--deployed", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    let d = &run.json()["diagnostics"][0];
    assert_eq!((d["code"].as_str(), d["path"].as_str()), (Some("E1703"), Some("name")), "{d}");

    let hub = "/subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/hub-rg/providers/Microsoft.Network";
    nsg["name"] = json!("contoso-ise-nsg");
    nsg["id"] = json!(format!("{hub}/networkSecurityGroups/contoso-ise-nsg"));
    nsg["resourceGroup"] = json!("hub-rg");
    let subnet = |sub: &str, rg: &str, name: &str| json!({"id": format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/contoso-vnet/subnets/{name}")});
    let own = "00000000-0000-0000-0000-000000000000";
    nsg["subnets"] = json!([
        subnet(own, "contoso-network", "ise-1"),
        subnet(own, "contoso-network", "ise-2"),
        subnet(own, "other-rg", "ise-3"),
        subnet("44444444-4444-4444-4444-444444444444", "contoso-network", "ise-4")
    ]);
    let file = dir.join("hub.json");
    std::fs::write(&file, nsg.to_string()).unwrap();
    let ticket = diff(None, &[file.to_str().unwrap()], "ticket").stdout;
    let commands: Vec<&str> = ticket.lines().filter(|l| l.starts_with("az network nsg rule ")).collect();
    assert!(!commands.is_empty(), "{ticket}");
    assert!(
        commands
            .iter()
            .all(|c| c.contains(" --subscription 33333333-3333-3333-3333-333333333333 --resource-group hub-rg ")),
        "{commands:#?}"
    );
    assert!(
        ticket.contains(&format!(
            "```sh\naz cloud set --name AzureCloud\naz account set --subscription {own}\n"
        )),
        "{ticket}"
    );
    let forward = &ticket[..ticket.find("## Rollback").unwrap()];
    // ise-3 and ise-4 are on other networks; an NSG of another subscription cannot be associated
    // with them (Azure takes one of the virtual network's subscription): a comment says so.
    assert!(!forward.contains("az network vnet subnet update"), "{forward}");
    let notes: Vec<&str> = forward.lines().filter(|l| l.contains("Azure associates subnet")).collect();
    assert_eq!(notes.len(), 2, "{forward}");
    assert!(
        notes[0].starts_with(&format!("# {hub}/networkSecurityGroups/contoso-ise-nsg is in subscription 33333333-3333-3333-3333-333333333333: Azure associates subnet ise-3 only")),
        "{}",
        notes[0]
    );
    assert!(
        !ticket[ticket.find("## Rollback").unwrap()..].contains("--remove networkSecurityGroup"),
        "{ticket}"
    );
}

/// A nested deployment deploys where it says: its subscription and resource group are the
/// commands' (one it names by what the template does not say is left for the reader to fill
/// in); its template's names are evaluated in ARM's scope (the parent's parameters by default,
/// its own and the values passed with `expressionEvaluationOptions.scope` `inner`). An NSG also
/// on subnets that are not the ISE's says that every change reaches them too.
#[test]
fn nested_deployments_deploy_where_they_say_and_shared_nsgs_carry_a_caution() {
    let dir = tempdir("drift-nested-places");
    let mut nsg = compiled_example_nsg(&dir);
    nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "in-health-454");
    nsg["name"] = json!("[parameters('nsgName')]");
    let nested = |scope: &str, group: &str, inner_default: &str| {
        json!({
            "parameters": {"nsgName": {"type": "String", "defaultValue": "contoso-ise-nsg"}, "rg": {"type": "String"}},
            "resources": [{
                "type": "Microsoft.Resources/deployments", "name": "nsg", "subscriptionId": "44444444-4444-4444-4444-444444444444",
                "resourceGroup": group,
                "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": scope},
                    "parameters": {"nsgName": {"value": "[parameters('nsgName')]"}},
                    "template": {"parameters": {"nsgName": {"type": "String", "defaultValue": inner_default}}, "resources": [nsg.clone()]}}
            }]
        })
    };
    let run = |name: &str, template: Value| {
        let file = dir.join(name);
        std::fs::write(&file, template.to_string()).unwrap();
        diff(None, &[file.to_str().unwrap()], "ticket")
    };
    // Inner scope: the value passed (the parent's default) names it; the deployment's places.
    let ticket = run("inner.json", nested("inner", "spoke-rg", "jumpbox-nsg")).stdout;
    assert!(
        ticket.contains("az network nsg rule create --subscription 44444444-4444-4444-4444-444444444444 --resource-group spoke-rg --nsg-name contoso-ise-nsg --name in-health-454 "),
        "{ticket}"
    );
    // Outer scope (ARM's default): the parent's parameter, not the nested template's default.
    let ticket = run("outer.json", nested("outer", "spoke-rg", "jumpbox-nsg")).stdout;
    assert!(ticket.contains("--nsg-name contoso-ise-nsg --name in-health-454 "), "{ticket}");
    // A resource group named by a parameter without a value: a placeholder, said so.
    let ticket = run("unknown-rg.json", nested("inner", "[parameters('rg')]", "x")).stdout;
    assert!(
        ticket.contains("--resource-group '<resource-group-or-subscription>' --nsg-name contoso-ise-nsg"),
        "{ticket}"
    );
    assert!(
        ticket.contains("replace `<resource-group-or-subscription>` before running"),
        "{ticket}"
    );

    // Shared with a jump box subnet: a caution in text and ticket.
    let mut az: Value = serde_json::from_str(&std::fs::read_to_string(workspace().join(fixture("nsg-drifted.json"))).unwrap()).unwrap();
    let subnet = |name: &str| json!({"id": format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-network/providers/Microsoft.Network/virtualNetworks/contoso-vnet/subnets/{name}")});
    az["subnets"] = json!([
        subnet("ise-1"),
        subnet("ise-2"),
        subnet("ise-3"),
        subnet("ise-4"),
        subnet("jumpbox")
    ]);
    let file = dir.join("shared.json");
    std::fs::write(&file, az.to_string()).unwrap();
    let text = diff(None, &[file.to_str().unwrap()], "text").stdout;
    assert!(
        text.contains("  caution: NSG `contoso-ise-nsg` is also on `contoso-vnet/jumpbox`, which are not the ISE's"),
        "{text}"
    );
    let ticket = diff(None, &[file.to_str().unwrap()], "ticket").stdout;
    assert!(
        ticket.contains("**Caution:** NSG 'contoso-ise-nsg' is also on 'contoso-vnet/jumpbox'"),
        "{ticket}"
    );
}

/// A firewall rule deployed in another collection (here a hand-made one) is added where the
/// environment compiles it before the old one goes: rule names are per collection, so both may
/// stand at once, and the traffic is not cut for the minutes a policy update takes.
#[test]
fn a_rule_moving_between_collections_is_added_before_the_old_one_goes() {
    let dir = tempdir("drift-rule-moves");
    let mut policy = compiled_firewall_policy(&dir);
    let collections = policy["resources"][0]["properties"]["ruleCollections"].as_array_mut().unwrap();
    let network = collections.iter_mut().find(|c| c["name"] == "ise-network-dependencies").unwrap();
    let rules = network["rules"].as_array_mut().unwrap();
    let at = rules.iter().position(|r| r["name"] == "fw-net-ntp-123").unwrap();
    let ntp = rules.remove(at);
    let mut old = network.clone();
    old["name"] = json!("old-ntp");
    old["priority"] = json!(205);
    old["rules"] = json!([ntp]);
    collections.push(old);
    let file = dir.join("moved.json");
    std::fs::write(&file, policy.to_string()).unwrap();
    let ticket = diff(Some(FIREWALL_ENV), &[file.to_str().unwrap()], "ticket").stdout;
    let forward = &ticket[ticket.find("## Commands").unwrap()..ticket.find("## Rollback").unwrap()];
    let at = |needle: &str| forward.find(needle).unwrap_or_else(|| panic!("{needle}: {forward}"));
    let added = at("rule add --resource-group contoso-network --policy-name '<firewall-policy-name>' --rule-collection-group-name contoso-ise-dependencies --collection-name ise-network-dependencies --name fw-net-ntp-123 ");
    let removed = at("collection remove --resource-group contoso-network --policy-name '<firewall-policy-name>' --rule-collection-group-name contoso-ise-dependencies --name old-ntp\n");
    assert!(added < removed, "{forward}");
}

/// Names and descriptions read from a file reach the terminal with their control characters and
/// bidirectional overrides written as codes: a newline does not break a line of the report or a
/// command of the ticket, and an escape sequence is not obeyed.
#[test]
fn control_characters_from_files_are_printed_as_codes() {
    let dir = tempdir("drift-control-characters");
    let mut nsg = compiled_example_nsg(&dir);
    nsg["name"] = json!("contoso-ise\u{1b}[31mnsg");
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    rules[0]["properties"]["description"] = json!("line\nbreak\u{202e}");
    let file = dir.join("names.json");
    let template = json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "resources": [nsg.clone()]});
    std::fs::write(&file, template.to_string()).unwrap();
    for format in ["text", "ticket"] {
        let run = diff(None, &[file.to_str().unwrap()], format);
        assert!(
            run.stdout.contains("contoso-ise\\u{1b}[31mnsg") && !run.stdout.contains('\u{1b}'),
            "{format}: {}",
            run.stdout
        );
    }
    // Named as the environment's, the description differs: shown with its codes, on one line.
    nsg["name"] = json!("contoso-ise-nsg");
    std::fs::write(
        &file,
        json!({"$schema": template["$schema"], "contentVersion": "1.0.0.0", "resources": [nsg]}).to_string(),
    )
    .unwrap();
    let run = diff(None, &[file.to_str().unwrap()], "text");
    assert!(run.stdout.contains("description line\\u{a}break\\u{202e} ->"), "{}", run.stdout);
    assert!(!run.stdout.contains('\u{202e}'), "{}", run.stdout);
}
