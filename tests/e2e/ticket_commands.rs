//! The commands of `change-ticket.md`: every block on the environment's cloud, the firewall policy's
//! resource group a placeholder, each `test-ip-flow` expectation the rule `explain` says decides
//! that packet, and a rollback that saves and undoes exactly what the ticket creates, in a safe
//! order.

use super::common::{envs_dir, file_name, isenet, json_files};
use super::pipeline::tempdir;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The reviewers' environment: an internal ISE in firewall mode, no declared callers.
fn firewall_internal() -> Value {
    json!({ "name": "contoso-ise", "cloud": "public", "location": "eastus",
        "subscriptionId": "00000000-0000-0000-0000-000000000000", "resourceGroup": "contoso-network",
        "accessEndpoint": "internal", "sku": { "name": "Premium", "capacity": 1 },
        "virtualNetwork": { "name": "contoso-vnet", "addressSpace": ["10.10.0.0/16"] },
        "subnets": [ { "name": "ise-1", "prefix": "10.10.1.0/27", "delegated": true },
            { "name": "ise-2", "prefix": "10.10.1.32/27" }, { "name": "ise-3", "prefix": "10.10.1.64/27" },
            { "name": "ise-4", "prefix": "10.10.1.96/27" } ],
        "forcedTunneling": { "mode": "firewall", "firewallPrivateIp": "10.10.0.4" } })
}

fn write_env(dir: &Path, name: &str, env: &Value) -> PathBuf {
    let p = dir.join(format!("{name}.json"));
    std::fs::write(&p, serde_json::to_string_pretty(env).unwrap()).unwrap();
    p
}

/// Compiles `env` into `dir/<name>` and returns the output folder.
fn compile(dir: &Path, name: &str, env: &Path) -> PathBuf {
    let out = dir.join(format!("out-{name}"));
    let run = isenet(&["compile", "--env", env.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
    out
}

fn ticket(out: &Path) -> String {
    std::fs::read_to_string(out.join("change-ticket.md")).unwrap()
}

fn json(out: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join(name)).unwrap()).unwrap()
}

/// The `sh` blocks of a Markdown text (fenced at any indentation), their lines unindented.
fn sh_blocks(text: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut open: Option<Vec<String>> = None;
    for line in text.lines() {
        let l = line.trim_start();
        match (&mut open, l) {
            (None, "```sh") => open = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(open.take()),
            (Some(b), _) => b.push(l.to_string()),
            _ => {}
        }
    }
    blocks
}

/// The text of a `## ` section.
fn section<'t>(text: &'t str, title: &str) -> &'t str {
    let start = text.find(&format!("## {title}\n")).unwrap_or_else(|| panic!("section {title}"));
    let rest = &text[start + 4..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// One `test-ip-flow` line: direction, local address and port, remote (an address or a tag), remote
/// port, and the expected access and rule.
#[derive(Debug)]
struct IpFlow {
    direction: String,
    local: String,
    local_port: String,
    remote: String,
    remote_port: String,
    access: String,
    rule: String,
    line: String,
}

fn ip_flows(ticket: &str) -> Vec<IpFlow> {
    ticket
        .lines()
        .filter(|l| l.starts_with("az network watcher test-ip-flow "))
        .map(|l| {
            let after = |flag: &str| l.split_once(flag).unwrap_or_else(|| panic!("{flag} in {l}")).1;
            let word = |flag: &str| after(flag).split(' ').next().unwrap().to_string();
            let (local, local_port) = word("--local ")
                .rsplit_once(':')
                .map(|(a, p)| (a.to_string(), p.to_string()))
                .unwrap();
            let (remote, rest) = after("--remote ").split_once(" # expect ").unwrap();
            let (remote, remote_port) = remote.rsplit_once(':').unwrap();
            // A pasteable address, a tag's too (the line names the tag).
            assert!(remote.parse::<std::net::Ipv4Addr>().is_ok(), "{l}");
            // "This network" (0.0.0.0/8) is no host's address: the Internet tag's lowest, 0.0.0.1,
            // is not what a probe from the Internet should name.
            assert!(!remote.starts_with("0."), "{l}");
            let remote = remote.to_string();
            let (access, rest) = rest.split_once(" by ").unwrap();
            IpFlow {
                direction: word("--direction "),
                local,
                local_port,
                remote,
                remote_port: remote_port.to_string(),
                access: access.to_string(),
                rule: rest.split(' ').next().unwrap().to_string(),
                line: l.to_string(),
            }
        })
        .collect()
}

/// What `explain` says decides the flow of `f` in its direction: (access, rule) per decision.
fn explained(env: &Path, f: &IpFlow) -> Vec<(String, String)> {
    let (from, to, port) = match f.direction.as_str() {
        "Inbound" => (&f.remote, &f.local, &f.local_port),
        _ => (&f.local, &f.remote, &f.remote_port),
    };
    let run = isenet(&[
        "explain",
        "--env",
        env.to_str().unwrap(),
        "--from",
        from,
        "--to",
        to,
        "--port",
        port,
        "--protocol",
        "tcp",
        "--format",
        "json",
    ]);
    assert!(matches!(run.code, Some(0 | 1)), "{}: {}{}", f.line, run.stdout, run.stderr);
    run.json()["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["direction"] == f.direction.as_str() && d.get("unfiltered").is_none())
        .map(|d| {
            (
                d["access"].as_str().unwrap().to_string(),
                d["rule"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Network Watcher reports the rule that decides the packet: each line must expect exactly that
/// one, for every environment of tests/envs and the reviewers' internal firewall-mode ISE.
#[test]
fn every_test_ip_flow_line_expects_the_rule_explain_says_decides_it() {
    let dir = tempdir("ticket-ip-flows");
    let mut envs = json_files(&envs_dir());
    envs.push(write_env(&dir, "firewall-internal", &firewall_internal()));
    for env in envs {
        let name = file_name(&env);
        let out = compile(&dir, &name, &env);
        let flows = ip_flows(&ticket(&out));
        assert!(!flows.is_empty(), "{name}: no test-ip-flow line");
        for f in &flows {
            assert_eq!(explained(&env, f), [(f.access.clone(), f.rule.clone())], "{name}: {}", f.line);
        }
    }
}

/// In firewall (or ExpressRoute) mode `in-intersubnet` admits the whole address space first; the
/// trigger rule is checked with a declared internal caller, which only it admits, and without one
/// the line names `in-intersubnet`.
#[test]
fn the_internal_trigger_rule_is_checked_from_an_internal_caller() {
    let dir = tempdir("ticket-ip-flow-caller");
    let mut env = firewall_internal();
    let without = compile(&dir, "without", &write_env(&dir, "without", &env));
    let line = ticket(&without)
        .lines()
        .find(|l| l.contains("--local 10.10.1.4:443 "))
        .unwrap()
        .to_string();
    assert!(
        line.ends_with(
            "--remote 10.10.0.1:60000 # expect Allow by in-intersubnet (it decides this packet before in-triggers-443-internal)"
        ),
        "{line}"
    );
    env["internalCallers"] = json!(["172.16.0.0/16"]);
    let with = compile(&dir, "with", &write_env(&dir, "with", &env));
    let line = ticket(&with)
        .lines()
        .find(|l| l.contains("--local 10.10.1.4:443 "))
        .unwrap()
        .to_string();
    assert!(
        line.ends_with("--remote 172.16.0.1:60000 # expect Allow by in-triggers-443-internal"),
        "{line}"
    );
}

/// Commands pasted into a shell left on another cloud, or in another subscription holding
/// resources of the same names, go to the environment's: every block starts with the Azure CLI's
/// name of its cloud, then selects its subscription.
#[test]
fn every_command_block_starts_on_the_environments_cloud() {
    let dir = tempdir("ticket-cloud");
    let mut seen = std::collections::BTreeSet::new();
    for env in json_files(&envs_dir()) {
        let name = file_name(&env);
        let doc = serde_json::from_str::<Value>(&std::fs::read_to_string(&env).unwrap()).unwrap();
        let cloud = doc["cloud"].as_str().unwrap_or("public").to_string();
        let subscription = format!("az account set --subscription {}", doc["subscriptionId"].as_str().unwrap());
        let az = match cloud.as_str() {
            "public" => "AzureCloud",
            "usgovernment" => "AzureUSGovernment",
            "china" => "AzureChinaCloud",
            other => panic!("{other}"),
        };
        seen.insert(az);
        let blocks = sh_blocks(&ticket(&compile(&dir, &name, &env)));
        assert!(blocks.len() >= 4, "{name}: {blocks:?}");
        for b in blocks {
            assert_eq!(
                b.first().map(String::as_str),
                Some(format!("az cloud set --name {az}").as_str()),
                "{name}: {b:?}"
            );
            assert_eq!(b.iter().filter(|l| l.starts_with("az cloud set")).count(), 1, "{name}: {b:?}");
            assert_eq!(b.get(1), Some(&subscription), "{name}: {b:?}");
        }
    }
    assert_eq!(seen.len(), 3, "tests/envs has each cloud");
}

/// The rule collection group lives in the firewall policy's resource group, which the environment
/// does not name: the ticket's commands leave it a placeholder, beside `<policy>`.
#[test]
fn firewall_commands_name_the_policys_resource_group_as_a_placeholder() {
    let dir = tempdir("ticket-policy-rg");
    let out = compile(&dir, "fw", &write_env(&dir, "fw", &firewall_internal()));
    let text = ticket(&out);
    let group_commands: Vec<&str> = text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("az network firewall policy rule-collection-group "))
        .collect();
    assert_eq!(
        group_commands.len(),
        3,
        "validation show, rollback show and delete: {group_commands:?}"
    );
    for l in group_commands {
        assert!(
            l.contains(" -g <policy-resource-group> --policy-name <policy> -n contoso-ise-dependencies "),
            "{l}"
        );
    }
    assert!(!text.contains("-g contoso-network --policy-name"));
    assert!(section(&text, "Validation").contains("`<policy-resource-group>`"));
}

/// The rollback's commands, in order, from the Rollback section.
fn rollback_commands(text: &str) -> Vec<String> {
    sh_blocks(section(text, "Rollback"))
        .into_iter()
        .flatten()
        .filter(|l| !l.starts_with("az cloud set") && !l.starts_with("az account set"))
        .collect()
}

fn position(commands: &[String], what: impl Fn(&str) -> bool) -> Vec<usize> {
    commands.iter().enumerate().filter(|(_, c)| what(c)).map(|(i, _)| i).collect()
}

/// Firewall mode: step 1 saves the NSG, the route table, every subnet and the rule collection
/// group; the undo detaches the route table first, deletes the group, every NSG rule the ticket
/// creates (deny rules first), restores every subnet's service endpoints and deletes every route.
#[test]
fn the_rollback_saves_and_undoes_exactly_what_the_ticket_creates() {
    let dir = tempdir("ticket-rollback");
    let out = compile(&dir, "fw", &write_env(&dir, "fw", &firewall_internal()));
    let commands = rollback_commands(&ticket(&out));
    let subnets = ["ise-1", "ise-2", "ise-3", "ise-4"];
    let rg = "-g contoso-network";
    let mut saves = vec![
        format!("az network nsg show {rg} -n contoso-ise-nsg -o json > before-nsg.json"),
        format!("az network route-table show {rg} -n contoso-ise-routes -o json > before-route-table.json"),
    ];
    saves.extend(
        subnets
            .iter()
            .map(|s| format!("az network vnet subnet show {rg} --vnet-name contoso-vnet -n {s} -o json > before-subnet-{s}.json")),
    );
    saves.push(
        "az network firewall policy rule-collection-group show -g <policy-resource-group> --policy-name <policy> -n contoso-ise-dependencies -o json > before-firewall.json"
            .into(),
    );
    assert_eq!(commands[..saves.len()], saves[..]);

    let detach: Vec<String> = subnets
        .iter()
        .map(|s| format!("az network vnet subnet update {rg} --vnet-name contoso-vnet -n {s} --route-table null"))
        .collect();
    assert_eq!(
        commands[saves.len()..saves.len() + 4],
        detach[..],
        "the route table is detached first"
    );
    let group_delete = position(&commands, |c| {
        c == "az network firewall policy rule-collection-group delete -g <policy-resource-group> --policy-name <policy> -n contoso-ise-dependencies --yes"
    });
    assert_eq!(group_delete, [saves.len() + 4], "then the firewall rules go");

    // Every NSG rule of nsg.json, once, deny rules before allow rules.
    let rules = json(&out, "nsg.json")["properties"]["securityRules"].as_array().unwrap().clone();
    let delete_of = |name: &str| format!("az network nsg rule delete {rg} --nsg-name contoso-ise-nsg -n {name}");
    let mut last_deny = 0;
    let mut first_allow = usize::MAX;
    for r in &rules {
        let at = position(&commands, |c| c == delete_of(r["name"].as_str().unwrap()));
        assert_eq!(at.len(), 1, "{}", r["name"]);
        assert!(at[0] > group_delete[0]);
        match r["properties"]["access"].as_str().unwrap() {
            "Deny" => last_deny = last_deny.max(at[0]),
            _ => first_allow = first_allow.min(at[0]),
        }
    }
    assert!(last_deny < first_allow, "deny rules are deleted before allow rules");
    assert_eq!(
        position(&commands, |c| c.starts_with("az network nsg rule delete")).len(),
        rules.len()
    );

    // Every subnet's service endpoints, after the NSG rules.
    let subnets_json = json(&out, "subnets.json");
    for s in subnets_json["resources"].as_array().unwrap() {
        assert!(!s["properties"]["serviceEndpoints"].as_array().unwrap().is_empty());
    }
    for s in subnets {
        let at = position(&commands, |c| {
            c == format!("az network vnet subnet update {rg} --vnet-name contoso-vnet -n {s} --service-endpoints null")
        });
        assert_eq!(at.len(), 1, "{s}");
        assert!(at[0] > first_allow, "{s}");
    }

    // Every route of route-table.json, last.
    let routes = json(&out, "route-table.json")["properties"]["routes"].as_array().unwrap().clone();
    let route_deletes = position(&commands, |c| c.starts_with("az network route-table route delete"));
    assert_eq!(route_deletes.len(), routes.len());
    for r in &routes {
        let name = r["name"].as_str().unwrap();
        assert!(
            commands.contains(&format!(
                "az network route-table route delete {rg} --route-table-name contoso-ise-routes -n {name}"
            )),
            "{name}"
        );
    }
    assert_eq!(route_deletes.last(), Some(&(commands.len() - 2)));
    // Last, the delegation subnets.json sets on one subnet is removed from it.
    let delegated: Vec<&str> = subnets_json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["properties"]["delegations"].as_array().is_none_or(Vec::is_empty))
        .map(|s| s["name"].as_str().unwrap().rsplit('/').next().unwrap().trim_end_matches("')]"))
        .collect();
    assert_eq!(delegated.len(), 1, "{subnets_json}");
    assert_eq!(
        commands.last().unwrap(),
        &format!(
            "az network vnet subnet update {rg} --vnet-name contoso-vnet -n {} --remove delegations",
            delegated[0]
        )
    );
    assert_eq!(
        commands.len(),
        saves.len() + 4 + 1 + rules.len() + 4 + routes.len() + 1,
        "nothing but these: {commands:#?}"
    );
}

/// Without tunneling nothing is routed or sent through a firewall: the rollback neither saves nor
/// touches a route table or a rule collection group; names the shell would read are quoted.
#[test]
fn without_tunneling_the_rollback_has_no_routes_or_firewall_and_quotes_names() {
    let dir = tempdir("ticket-rollback-none");
    let env = envs_dir().join("multi-space-named-resources-pem.json");
    let out = compile(&dir, "none", &env);
    let subnets = json(&out, "subnets.json");
    assert!(subnets["resources"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["properties"]["serviceEndpoints"].as_array().unwrap().is_empty()));
    let commands = rollback_commands(&ticket(&out));
    assert!(
        commands.iter().all(|c| !c.contains("route-table") && !c.contains("firewall")),
        "{commands:#?}"
    );
    assert!(commands.contains(
        &"az network vnet subnet show -g contoso-network --vnet-name contoso-vnet -n 'ise apim' -o json > 'before-subnet-ise apim.json'"
            .to_string()
    ));
    // Service endpoints come with forced tunneling: none here, none to remove.
    assert!(commands.iter().all(|c| !c.contains("--service-endpoints")), "{commands:#?}");
    assert!(commands
        .iter()
        .any(|c| c == "az network nsg rule delete -g contoso-network --nsg-name ise-nsg_01 -n deny-all-inbound"));
}

/// A compile from a service-tag file other than isenet's own snapshot is proved with that file:
/// every `isenet verify` of the Validation section passes `--service-tags`, with a comment naming
/// the file's change number; a compile from the snapshot passes none.
#[test]
fn the_validation_proves_with_the_tag_file_the_artifacts_came_from() {
    let dir = tempdir("ticket-tag-file");
    let snapshot = workspace_file("data/servicetags/ServiceTags_Public_20251028.json");
    let mut tags: Value = serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let embedded = tags["changeNumber"].as_u64().unwrap();
    tags["changeNumber"] = json!(embedded + 1);
    let tag_file = dir.join("tags.json");
    std::fs::write(&tag_file, tags.to_string()).unwrap();
    let env = write_env(&dir, "fw", &firewall_internal());
    for (given, expect_flag) in [(Some(&tag_file), true), (None, false)] {
        let out = dir.join(format!("out-{expect_flag}"));
        let mut args = vec!["compile", "--env", env.to_str().unwrap(), "--out-dir", out.to_str().unwrap()];
        if let Some(t) = given {
            args.extend(["--service-tags", t.to_str().unwrap()]);
        }
        let run = isenet(&args);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let text = ticket(&out);
        let block = &sh_blocks(section(&text, "Validation"))[0];
        let verifies: Vec<&String> = block.iter().filter(|l| l.starts_with("isenet verify ")).collect();
        assert_eq!(verifies.len(), 3, "nsg, routes, firewall: {block:?}");
        for v in verifies {
            assert_eq!(v.contains(" --service-tags service-tags.json "), expect_flag, "{v}");
        }
        let comment = format!("# service-tags.json: the service-tag file these artifacts were compiled from (change {}; isenet's own snapshot is change {embedded})", embedded + 1);
        assert_eq!(block.contains(&comment), expect_flag, "{block:?}");
    }
}

fn workspace_file(path: &str) -> PathBuf {
    super::common::workspace().join(path)
}

/// Azure allows a resource group named `-rg(prod)`; az's argument parser takes a value starting
/// with `-` after a space for an option, so every command gives it as `--resource-group=VALUE`.
#[test]
fn a_resource_group_starting_with_a_dash_is_given_with_an_equals_sign() {
    let dir = tempdir("ticket-dash-group");
    let mut env = firewall_internal();
    env["resourceGroup"] = json!("-rg(prod)");
    let env_file = write_env(&dir, "dash", &env);
    let out = compile(&dir, "dash", &env_file);
    // A deployed NSG without one of its rules: the diff ticket re-creates it.
    let mut nsg = json(&out, "nsg.json");
    nsg["properties"]["securityRules"].as_array_mut().unwrap().remove(1);
    let deployed = dir.join("deployed-nsg.json");
    std::fs::write(&deployed, nsg.to_string()).unwrap();
    let drift = isenet(&[
        "diff",
        "--env",
        env_file.to_str().unwrap(),
        "--deployed",
        deployed.to_str().unwrap(),
        "--format",
        "ticket",
    ]);
    for text in [ticket(&out), drift.stdout] {
        let commands: Vec<&str> = text.lines().map(str::trim_start).filter(|l| l.starts_with("az ")).collect();
        assert!(commands.iter().any(|c| c.contains(" --resource-group='-rg(prod)' ")), "{text}");
        for c in commands {
            assert!(!c.contains(" -g '-rg") && !c.contains("--resource-group '-rg"), "{c}");
        }
    }
}
