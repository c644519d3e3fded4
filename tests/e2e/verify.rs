//! `isenet verify` and `isenet explain` end to end: our nsg.json and `az network nsg show` output
//! are proved, mutations are caught with exit 1, malformed NSG files are coded errors with exit 2.

use crate::common::uncovered_ids;
use crate::common::Scratch;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn isenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isenet")).args(args).output().unwrap()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> Scratch {
    crate::common::scratch("verify", name)
}

/// Compiles the example (or `env`) and returns the nsg.json value.
fn compiled_nsg(dir: &Path, env: Option<&Path>) -> Value {
    let out = dir.join("out");
    let mut args = vec!["compile".to_string(), "--out-dir".into(), out.to_string_lossy().into()];
    if let Some(e) = env {
        args.extend(["--env".into(), e.to_string_lossy().into()]);
    }
    let o = Command::new(env!("CARGO_BIN_EXE_isenet")).args(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The rules of an nsg.json document, to mutate.
fn security_rules(nsg: &mut Value) -> &mut Vec<Value> {
    nsg["properties"]["securityRules"].as_array_mut().unwrap()
}

/// Every rule of a firewall-policy.json document, to mutate.
fn policy_rules(policy: &mut Value) -> impl Iterator<Item = &mut Value> {
    policy["resources"][0]["properties"]["ruleCollections"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|c| c["rules"].as_array_mut().unwrap().iter_mut())
}

/// `verify ARGS --format json`: the exit code and the report.
fn verify_json(args: &[&str]) -> (Option<i32>, Value) {
    let o = isenet(&[&["verify"], args, &["--format", "json"]].concat());
    (o.status.code(), serde_json::from_slice(&o.stdout).unwrap())
}

/// The first proof's first finding with `code`.
fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} finding: {report}"))
}

/// The shape `az network nsg show -o json` prints: rules flattened, defaults beside them.
fn as_az_output(nsg: &Value) -> Value {
    let flatten = |r: &Value| {
        let mut flat = r["properties"].as_object().unwrap().clone();
        flat.insert("name".into(), r["name"].clone());
        flat.insert("etag".into(), json!("W/\"00000000-0000-0000-0000-000000000000\""));
        flat.insert("provisioningState".into(), json!("Succeeded"));
        flat.insert("type".into(), json!("Microsoft.Network/networkSecurityGroups/securityRules"));
        Value::Object(flat)
    };
    let rules: Vec<Value> = nsg["properties"]["securityRules"].as_array().unwrap().iter().map(flatten).collect();
    let subnet = |name: &str| json!({"id": format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-network/providers/Microsoft.Network/virtualNetworks/contoso-vnet/subnets/{name}")});
    let subnets = ["ise-1", "ise-2", "ise-3", "ise-4"].map(subnet);
    json!({
        "name": nsg["name"], "location": nsg["location"], "provisioningState": "Succeeded",
        "securityRules": rules,
        "subnets": subnets,
        "defaultSecurityRules": [{"name": "AllowVnetInBound", "priority": 65000, "direction": "Inbound", "access": "Allow", "protocol": "*",
            "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationPortRange": "*"}]
    })
}

#[test]
fn compiled_nsg_verifies_in_both_formats() {
    let dir = scratch("ok");
    let nsg = compiled_nsg(&dir, None);
    for (name, doc) in [("nsg.json", nsg.clone()), ("az.json", as_az_output(&nsg))] {
        let o = isenet(&["verify", "--nsg", &write(&dir, name, &doc)]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{name}: {text}");
        assert!(text.contains("22 of 22 requirements covered; 0 opening(s); 0 error(s)"), "{text}");
        assert!(text.ends_with("result: ok\n"));
    }
}

/// A file's NSG or route table of another name than the environment's (a jump box's NSG, another
/// spoke's table) is proved, with a finding that fails the run: the environment names its own.
/// az output names it in `name`, REST output may give only its `id`.
#[test]
fn a_resource_named_otherwise_than_the_environments_is_a_finding() {
    let dir = scratch("named-otherwise");
    let nsg = compiled_nsg(&dir, None);
    // The findings that fail a run (the example's NSG has notes: shadowed and redundant rules).
    let codes = |report: &Value, i: usize| -> Vec<String> {
        report["proofs"][i]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "note")
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    let mut jumpbox = as_az_output(&nsg);
    jumpbox["name"] = json!("jumpbox-nsg");
    let (code, report) = verify_json(&["--nsg", &write(&dir, "jumpbox.json", &jumpbox)]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(codes(&report, 0), ["F0001"], "{report}");
    assert_eq!(
        finding(&report, "F0001")["message"],
        "the file's NSG is `jumpbox-nsg`; the environment's is `contoso-ise-nsg`: proved as the environment's"
    );
    assert_eq!(finding(&report, "F0001")["severity"], "error");
    // Azure compares names case-insensitively.
    let mut ours = as_az_output(&nsg);
    ours["name"] = json!("CONTOSO-ISE-NSG");
    let (code, report) = verify_json(&["--nsg", &write(&dir, "upper.json", &ours)]);
    assert_eq!((code, codes(&report, 0)), (Some(0), vec![]), "{report}");
    // REST output: the id's last part.
    let mut rest = nsg.clone();
    rest.as_object_mut().unwrap().remove("name");
    rest["id"] = json!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-network/providers/Microsoft.Network/networkSecurityGroups/jumpbox-nsg");
    let (code, report) = verify_json(&["--nsg", &write(&dir, "rest.json", &rest)]);
    assert_eq!((code, codes(&report, 0)), (Some(1), vec!["F0001".to_string()]), "{report}");
    // A name or id holding a template expression says no name.
    rest["name"] = json!("[parameters('nsgName')]");
    rest["id"] = json!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/[parameters('nsgName')]");
    let (code, report) = verify_json(&["--nsg", &write(&dir, "expression.json", &rest)]);
    assert_eq!((code, codes(&report, 0)), (Some(0), vec![]), "{report}");

    let mut routes = read_json(&dir.join("out/route-table.json"));
    routes["name"] = json!("spoke7-routes");
    let (code, report) = verify_json(&["--routes", &write(&dir, "routes.json", &routes)]);
    assert_eq!(code, Some(1), "{report}");
    let message = &finding(&report, "F0001")["message"];
    assert_eq!(
        message,
        "the file's route table is `spoke7-routes`; the environment's is `contoso-ise-routes`: proved as the environment's"
    );
}

/// The service tags the example's compiled inbound rules name as sources (AzureLoadBalancer, a
/// platform address, aside): an undeclared VirtualNetwork member is never in their ranges.
const EXAMPLE_INBOUND_TAGS: [&str; 6] = [
    "LogicAppsManagement",
    "LogicApps",
    "AzureConnectors",
    "AppServiceManagement",
    "AzureTrafficManager",
    "ApiManagement",
];

/// Every IPv4 address outside `prefixes` and the public ranges of `tags`, as the fewest
/// prefixes, in the form findings list them.
fn addresses_outside(prefixes: &[&str], tags: &[&str]) -> Vec<String> {
    use rules_compiler::engine::intervals::IntervalSet;
    let file = ise_model::servicetags::ServiceTags::embedded(ise_model::cloud::CloudId::Public);
    let tagged = tags.iter().flat_map(|t| file.get(t).unwrap_or_else(|| panic!("tag {t}")).ipv4());
    let inside = IntervalSet::from_prefixes(prefixes.iter().map(|p| p.parse::<ipnet::Ipv4Net>().unwrap()).chain(tagged));
    inside.complement().to_prefixes().iter().map(ToString::to_string).collect()
}

/// Whether a finding's list of prefixes (a flow's sources or destinations) holds address `ip`.
fn list_holds(prefixes: &Value, ip: &str) -> bool {
    let ip: std::net::Ipv4Addr = ip.parse().unwrap();
    prefixes
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p.as_str().unwrap().parse::<ipnet::Ipv4Net>().unwrap().contains(&ip))
}

/// The F0109 findings of a report, by rule name.
fn undeclared_openings(report: &Value) -> Vec<(String, Value)> {
    report["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "F0109")
        .map(|f| (f["rule"]["name"].as_str().unwrap().to_string(), f.clone()))
        .collect()
}

/// VirtualNetwork also holds peered networks and on-premises space behind a gateway, which the
/// environment need not declare (azure-semantics.md). Without the explicit deny-all, Azure's
/// AllowVnetInBound (65000) admits them on every port: an error, not a pass. What the example's
/// requirements grant all of VirtualNetwork (triggers on 443, Redis on 6379-6383, both any
/// protocol) is not part of it. With the deny-all in place it is no redundant rule, while a deny
/// of Internet traffic in front of it still is.
#[test]
fn without_the_deny_all_azure_admits_undeclared_virtual_network_members() {
    let dir = scratch("deny-all-undeclared");
    let mut nsg = compiled_nsg(&dir, None);
    security_rules(&mut nsg).retain(|r| r["name"] != "deny-all-inbound");
    let (code, report) = verify_json(&["--nsg", &write(&dir, "no-deny.json", &nsg)]);
    assert_eq!(code, Some(1), "{report}");
    let found = undeclared_openings(&report);
    assert_eq!(found.len(), 1, "{report}");
    let (rule, f) = &found[0];
    assert_eq!(rule, "AllowVnetInBound");
    assert_eq!(f["rule"]["isDefault"], true);
    assert_eq!(f["rule"]["priority"], 65000);
    assert_eq!(f["direction"], "Inbound");
    // The four /27 subnets of the example are 10.10.1.0/25; the members may have any address but
    // the declared VNet's, the platform's (DNS/health 168.63.129.16, metadata 169.254.169.254)
    // and those of the service tags the rules name (Microsoft's).
    let anywhere_undeclared = json!(addresses_outside(
        &["10.10.0.0/16", "168.63.129.16/32", "169.254.169.254/32"],
        &EXAMPLE_INBOUND_TAGS
    ));
    assert_eq!(
        f["flows"],
        json!([
            {"protocols": ["Tcp", "Udp"], "sources": anywhere_undeclared, "sourcePorts": ["*"], "destinations": ["10.10.1.0/25"],
             "ports": ["0-442", "444-6378", "6384-65535"]},
            {"protocols": ["Icmp", "Esp", "Ah", "Other"], "sources": anywhere_undeclared, "sourcePorts": ["*"], "destinations": ["10.10.1.0/25"], "ports": ["*"]}
        ]),
        "{report}"
    );
    let text = String::from_utf8_lossy(&isenet(&["verify", "--nsg", &write(&dir, "no-deny.json", &nsg)]).stdout).to_string();
    assert!(
        text.contains("error   F0109 rule AllowVnetInBound (Azure's default, with no rule above it denying all of VirtualNetwork) admits VirtualNetwork members the environment does not declare")
            && text.contains("tcp,udp any undeclared address -> 10.10.1.0/25 ports 0-442,444-6378,6384-65535"),
        "{text}"
    );

    let mut nsg = compiled_nsg(&dir, None);
    security_rules(&mut nsg).push(json!({"name": "deny-ssh-internet", "properties": {
        "priority": 4000, "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
        "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}}));
    let (code, report) = verify_json(&["--nsg", &write(&dir, "nsg.json", &nsg)]);
    assert_eq!(code, Some(0), "{report}");
    let redundant: Vec<&str> = report["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "F0104" && f["direction"] == "Inbound")
        .map(|f| f["rule"]["name"].as_str().unwrap())
        .collect();
    assert!(redundant.contains(&"deny-ssh-internet"), "{report}");
    assert!(!redundant.contains(&"deny-all-inbound"), "{report}");
}

#[test]
fn a_deleted_rule_is_a_finding_naming_its_requirement() {
    let dir = scratch("deleted");
    let mut nsg = compiled_nsg(&dir, None);
    security_rules(&mut nsg).retain(|r| r["name"] != "in-apim-mgmt-3443");
    let (code, report) = verify_json(&["--nsg", &write(&dir, "nsg.json", &nsg)]);
    assert_eq!(code, Some(1));
    let proof = &report["proofs"][0];
    assert_eq!(proof["artifact"], "nsg");
    let missing = uncovered_ids(&proof["coverage"]);
    assert_eq!(missing, ["in-apim-mgmt-3443"]);
    // The finding, typed: TCP 3443 from the ApiManagement tag to the subnets, as exact lists.
    let finding = finding(&report, "F0101");
    assert_eq!(finding["kind"], "uncovered-requirement");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["direction"], "Inbound");
    assert_eq!(finding["requirements"], json!(["in-apim-mgmt-3443"]));
    let flows = finding["flows"].as_array().unwrap();
    assert!(!flows.is_empty());
    for flow in flows {
        assert_eq!(flow["ports"], json!(["3443"]));
        // The published rows say protocol `*`: of the port-carrying protocols, TCP and UDP.
        assert_eq!(flow["protocols"], json!(["Tcp", "Udp"]));
        assert!(flow["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.as_str().unwrap().contains('/')));
    }
    assert_eq!(report["ok"], false);
    assert_eq!(proof["summary"]["covered"], 21);
}

/// Seed 002: in Azure Government "the AzureConnectors service tag won't work" in NSGs (nor
/// LogicApps, LogicAppsManagement): a rule naming it admits nothing there, so it covers no
/// requirement. The compiled Government NSG names the published list; a hand-written one that
/// names the tag is the requirement uncovered (F0101) and the tag named as the cause (F0108), and
/// `explain` does not count the rule either.
#[test]
fn a_tag_the_cloud_does_not_let_nsgs_use_covers_nothing() {
    let dir = scratch("tag-not-usable");
    let env = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/envs/usgov-virginia.json");
    let env = env.to_str().unwrap();
    let mut nsg = compiled_nsg(&dir, Some(Path::new(env)));
    let rule = security_rules(&mut nsg)
        .iter_mut()
        .find(|r| r["name"] == "in-connector-deploy-454")
        .unwrap();
    let props = rule["properties"].as_object_mut().unwrap();
    let published = props.remove("sourceAddressPrefixes").expect("the published list");
    props.insert("sourceAddressPrefix".into(), json!("AzureConnectors"));
    let path = write(&dir, "nsg.json", &nsg);
    let (code, report) = verify_json(&["--env", env, "--nsg", &path]);
    assert_eq!(code, Some(1));
    assert_eq!(uncovered_ids(&report["proofs"][0]["coverage"]), ["in-connector-deploy-454"]);
    let f = finding(&report, "F0108");
    assert_eq!(f["kind"], "tag-not-usable-in-nsg");
    assert_eq!(f["rule"]["name"], "in-connector-deploy-454");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("does not work in NSGs in Azure US Government"),
        "{f}"
    );
    let first = published.as_array().unwrap()[0].as_str().unwrap();
    let host = first.split('/').next().unwrap();
    let o = isenet(&[
        "explain",
        "--env",
        env,
        "--nsg",
        &path,
        "--from",
        host,
        "--to",
        "10.10.1.4",
        "--port",
        "454",
        "--protocol",
        "tcp",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("allowed by rule in-connector-deploy-454"), "{text}");
    assert!(text.contains("F0108"), "{text}");
}

/// China's tag file lists AppServiceManagement without UDR among its networkFeatures, so compile
/// routes its prefixes; a route table naming the tag has that route ignored (F0204) and the
/// addresses it was for go to the firewall (F0201).
#[test]
fn a_route_naming_a_tag_without_udr_is_ignored() {
    let dir = scratch("route-tag-not-usable");
    let mut env: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/envs/china-north2.json")).unwrap(),
    )
    .unwrap();
    env["forcedTunneling"] = json!({"mode": "firewall", "firewallPrivateIp": "172.16.0.100"});
    let env_path = write(&dir, "env.json", &env);
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", &env_path, "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut table: Value = serde_json::from_str(&std::fs::read_to_string(out.join("route-table.json")).unwrap()).unwrap();
    let routes = table["properties"]["routes"].as_array_mut().unwrap();
    routes.retain(|r| !r["name"].as_str().unwrap().starts_with("route-ase-mgmt"));
    routes.push(json!({"name": "route-ase-mgmt", "properties": {"addressPrefix": "AppServiceManagement", "nextHopType": "Internet"}}));
    let path = write(&dir, "routes.json", &table);
    let (code, report) = verify_json(&["--env", &env_path, "--routes", &path]);
    assert_eq!(code, Some(1));
    let f = finding(&report, "F0204");
    assert_eq!(f["rule"]["name"], "route-ase-mgmt");
    assert!(
        f["message"].as_str().unwrap().contains("UDR is not among its networkFeatures"),
        "{f}"
    );
    let wrong = finding(&report, "F0201");
    assert_eq!(wrong["requirements"], json!(["route-ase-mgmt"]));
}

#[test]
fn a_widened_rule_is_an_opening_beyond_its_requirement() {
    let dir = scratch("widened");
    let mut nsg = compiled_nsg(&dir, None);
    let rule = security_rules(&mut nsg)
        .iter_mut()
        .find(|r| r["name"] == "in-apim-mgmt-3443")
        .unwrap();
    rule["properties"]["destinationPortRange"] = json!("3443-3444");
    let o = isenet(&["verify", "--nsg", &write(&dir, "nsg.json", &nsg)]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    // One requirement, so "needs"; the extra port is the opening.
    let line = text.lines().find(|l| l.contains("F0102")).expect("an opening");
    assert!(line.contains("in-apim-mgmt-3443 (Inbound "), "{line}");
    assert!(line.contains("port 3444"), "{line}");
    assert!(line.ends_with(", beyond what in-apim-mgmt-3443 needs"), "{line}");
}

/// `verify --format json` of the compiled NSG with `added` appended: exit code and report.
fn verify_with_rule(dir: &Path, env: &str, compiled: &Value, added: Value) -> (Option<i32>, Value) {
    let name = added["name"].as_str().unwrap().to_string();
    let mut nsg = compiled.clone();
    security_rules(&mut nsg).push(added);
    verify_json(&["--env", env, "--nsg", &write(dir, &format!("{name}.json"), &nsg)])
}

/// (code, severity) of the report's NSG findings about rule `name`.
fn findings_about<'r>(report: &'r Value, name: &str) -> Vec<(&'r str, &'r str)> {
    report["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"]["name"] == name)
        .map(|f| (f["code"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect()
}

#[test]
fn an_internet_opening_is_a_finding() {
    let dir = scratch("open");
    let mut nsg = compiled_nsg(&dir, None);
    security_rules(&mut nsg).push(json!({"name": "allow-rdp", "properties": {
        "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "Internet",
        "destinationAddressPrefix": "*", "access": "Allow", "priority": 300, "direction": "Inbound"}}));
    let path = write(&dir, "nsg.json", &nsg);
    let o = isenet(&["verify", "--nsg", &path]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    // One line: the Internet on 3389 (the load balancer's 168.63.129.16 is in VirtualNetwork, not
    // Internet: azure-semantics.md).
    assert!(
        text.contains("error   F0102 allow-rdp (Inbound 300): tcp Internet -> 10.10.1.0/25 port 3389, serves no requirement"),
        "{text}"
    );
    // JSON points at the rule in the file: its index and where its object starts (the line just
    // above its name, as serde_json pretty-prints it).
    let (_, report) = verify_json(&["--nsg", &path]);
    let f = finding(&report, "F0102");
    let count = security_rules(&mut nsg).len();
    assert_eq!(f["rule"]["name"], "allow-rdp");
    assert_eq!(f["rule"]["index"], count - 1);
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().position(|l| l.contains("\"name\": \"allow-rdp\"")).unwrap() + 1;
    assert_eq!(f["rule"]["line"], line - 1);
}

#[test]
fn routes_file_widens_virtual_network() {
    // Mode none compiles VirtualNetwork sources; a 0.0.0.0/0 route deployed anyway turns them into openings.
    let dir = scratch("routes");
    let nsg = compiled_nsg(&dir, None);
    let nsg_path = write(&dir, "nsg.json", &nsg);
    let routes =
        json!({"properties": {"routes": [{"name": "default", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}}]}});
    let o = isenet(&["verify", "--nsg", &nsg_path, "--routes", &write(&dir, "routes.json", &routes)]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("F0102 in-triggers-443-internal (Inbound"));
}

/// NSGs do not filter traffic to the platform's 168.63.129.16 and 169.254.169.254
/// (azure-semantics.md): in restricted outbound mode a rule allowing (or denying) only those opens
/// (or blocks) nothing, so it is a note that it has no effect, not an F0102 opening. The same rule
/// to any other address is still an opening.
#[test]
fn outbound_rules_to_unfiltered_platform_addresses_have_no_effect() {
    let dir = scratch("platform");
    let env = root().join("tests/envs/restricted-outbound.json");
    let env_arg = env.to_string_lossy().into_owned();
    let compiled = compiled_nsg(&dir, Some(&env));
    let rule = |name: &str, priority: u32, access: &str, destination: &str, port: &str| {
        json!({"name": name, "properties": {"priority": priority, "direction": "Outbound", "access": access, "protocol": "*",
            "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationAddressPrefix": destination,
            "destinationPortRange": port}})
    };
    for (added, no_effect) in [
        (rule("allow-azure-dns", 3000, "Allow", "168.63.129.16", "53"), true),
        (rule("allow-imds", 3010, "Allow", "169.254.169.254", "*"), true),
        (rule("allow-platform", 3020, "Allow", "AzureLoadBalancer", "*"), true),
        (rule("deny-imds", 105, "Deny", "169.254.169.254/32", "*"), true),
        (rule("allow-other-dns", 3000, "Allow", "203.0.113.53", "53"), false),
    ] {
        let name = added["name"].as_str().unwrap().to_string();
        let (code, report) = verify_with_rule(&dir, &env_arg, &compiled, added);
        let about = findings_about(&report, &name);
        if no_effect {
            assert_eq!(code, Some(0), "{name}: {report}");
            assert_eq!(about, [("F0104", "note")], "{name}: {report}");
            let said = report["proofs"][0]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"]["name"] == name.as_str() && f["message"].as_str().unwrap().contains("has no effect"));
            assert!(said, "{name}: {report}");
        } else {
            assert_eq!(code, Some(1), "{name}: {report}");
            assert_eq!(about, [("F0102", "error")], "{name}: {report}");
        }
    }
}

/// Only TCP and UDP have ports. An allow rule for Icmp, Esp or Ah with ports is an unproved
/// admission (`F0110`, exit 1), not a rule that matches nothing (Azure does not document it, and an
/// ICMP rule's port has been observed to match the ICMP type); with `*` ports the same rule is the
/// opening it is (`F0102`), and a deny with ports stays a note.
#[test]
fn ports_on_icmp_esp_and_ah_allow_rules_are_unproved() {
    let dir = scratch("portless");
    let env = root().join("data/example-environment.json");
    let env_arg = env.to_string_lossy().into_owned();
    let compiled = compiled_nsg(&dir, Some(&env));
    let rule = |name: &str, access: &str, protocol: &str, port: &str| {
        json!({"name": name, "properties": {"priority": 300, "direction": "Inbound", "access": access, "protocol": protocol,
            "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*",
            "destinationPortRange": port}})
    };
    for (added, want_code, want) in [
        (rule("icmp-type-8", "Allow", "Icmp", "8"), 1, vec![("F0110", "error")]),
        (rule("esp-500", "Allow", "Esp", "500"), 1, vec![("F0110", "error")]),
        (rule("ah-any-port", "Allow", "Ah", "0-65535"), 1, vec![("F0102", "error")]),
        (rule("icmp-any-port", "Allow", "Icmp", "*"), 1, vec![("F0102", "error")]),
        (rule("icmp-deny-8", "Deny", "Icmp", "8"), 0, vec![("F0103", "note")]),
    ] {
        let name = added["name"].as_str().unwrap().to_string();
        let (code, report) = verify_with_rule(&dir, &env_arg, &compiled, added);
        let about = findings_about(&report, &name);
        assert_eq!(code, Some(want_code), "{name}: {report}");
        assert_eq!(about, want, "{name}: {report}");
    }
}

/// Walks a catalogue of malformed files (`expected.csv`: file, codes, paths; `;` separates the
/// diagnostics of a file with several problems): each is exit 2 with exactly the listed
/// diagnostics, each naming the file and located at line:column.
fn catalogue_is_refused(folder: &str, flag: &str) -> usize {
    let dir = root().join("tests").join(folder);
    let manifest = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let mut n = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let file = cols[0];
        let mut expected: Vec<(&str, &str)> = cols[1].split(';').zip(cols[2].split(';')).collect();
        expected.sort();
        let p = dir.join(file).to_string_lossy().into_owned();
        let o = isenet(&["--error-format", "json", "verify", flag, &p]);
        assert_eq!(o.status.code(), Some(2), "{folder}/{file}: {}", String::from_utf8_lossy(&o.stdout));
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{file}: {e}"));
        let diags = doc["diagnostics"].as_array().unwrap();
        let mut found: Vec<(&str, &str)> = diags
            .iter()
            .map(|d| (d["code"].as_str().unwrap(), d["path"].as_str().unwrap()))
            .collect();
        found.sort();
        assert_eq!(found, expected, "{folder}/{file}: {doc}");
        for d in diags {
            assert_eq!(d["file"], p.as_str(), "{folder}/{file}");
            assert!(
                d["line"].as_u64().is_some() && d["column"].as_u64().is_some(),
                "{folder}/{file}: unlocated {d}"
            );
        }
        n += 1;
    }
    n
}

#[test]
fn malformed_nsg_files_are_coded_errors() {
    assert!(catalogue_is_refused("bad-nsg", "--nsg") >= 26);
}

#[test]
fn malformed_route_tables_are_coded_errors() {
    assert!(catalogue_is_refused("bad-routes", "--routes") >= 20);
}

#[test]
fn malformed_firewall_files_are_coded_errors() {
    assert!(catalogue_is_refused("bad-firewall", "--firewall") >= 46);
}

/// Azure's limits are findings for the proofs, not input errors: a deployed file beyond them is read.
#[test]
fn files_beyond_azure_limits_are_read_not_refused() {
    let dir = scratch("limits");
    let rule = |i: usize, source: Value| {
        json!({"name": format!("deny-{i}"), "properties": {"protocol": "Tcp", "sourcePortRange": "*",
            "destinationPortRange": "22", "sourceAddressPrefixes": source, "destinationAddressPrefix": "*",
            "access": "Deny", "priority": 100 + i, "direction": "Inbound"}})
    };
    let many: Vec<String> = (0..4001u32)
        .map(|i| std::net::Ipv4Addr::from(0x0b00_0000 + i * 4).to_string())
        .collect();
    let mut rules = vec![rule(0, json!(many))];
    rules.extend((1..1001).map(|i| rule(i, json!(["192.0.2.1"]))));
    let nsg = json!({"name": "big", "properties": {"securityRules": rules}});
    let (code, report) = verify_json(&["--nsg", &write(&dir, "nsg.json", &nsg)]);
    assert_eq!(code, Some(1));
    // Each limit is an F0107 finding at the place in the file that exceeds it.
    let limits: Vec<&Value> = report["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "F0107")
        .collect();
    assert_eq!(limits.len(), 2, "{limits:?}");
    assert!(limits.iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .starts_with("rules per NSG: 1001 where Azure allows at most 1000")));
    assert!(limits.iter().any(
        // Azure counts a security group's sources together: rule 0's 4,001 and the 1,000 others'
        // one each, placed at the field that crosses the limit.
        |f| f["message"]
            .as_str()
            .unwrap()
            .contains(" source (all its rules' sources): 5001 where Azure allows at most 4000")
            && f["rule"]["name"] == "properties.securityRules[0].properties.sourceAddressPrefixes"
    ));
    let mut routes: Vec<Value> = (0..401u32)
        .map(|i| json!({"name": format!("r{i}"), "properties": {"addressPrefix": format!("10.{}.{}.0/24", 100 + i / 256, i % 256), "nextHopType": "None"}}))
        .collect();
    let regions = [
        "AustraliaCentral",
        "AustraliaCentral2",
        "AustraliaEast",
        "AustraliaSoutheast",
        "AustriaEast",
        "BelgiumCentral",
        "BrazilSouth",
        "BrazilSoutheast",
        "CanadaCentral",
        "CanadaEast",
        "CentralIndia",
        "CentralUS",
        "ChileCentral",
        "EastAsia",
        "EastUS",
        "EastUS2",
        "FranceCentral",
        "FranceSouth",
        "GermanyNorth",
        "GermanyWestCentral",
        "IndonesiaCentral",
        "IsraelCentral",
        "JapanEast",
        "JapanWest",
        "KoreaCentral",
        "KoreaSouth",
    ];
    for (i, region) in regions.iter().enumerate() {
        let tag = format!("Storage.{region}");
        routes[i] = json!({"name": format!("r{i}"), "properties": {"addressPrefix": tag, "nextHopType": "Internet"}});
    }
    let table = json!({"properties": {"routes": routes}});
    let o = isenet(&["verify", "--routes", &write(&dir, "routes.json", &table)]);
    assert_ne!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn explain_names_the_deciding_rule_and_requirement() {
    let o = isenet(&["explain", "--from", "ApiManagement", "--to", "10.10.1.70", "--port", "3443"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Inbound: allowed by rule in-apim-mgmt-3443 (priority 190)"), "{text}");
    assert!(text.contains("requirements: in-apim-mgmt-3443"));
    let o = isenet(&[
        "explain",
        "--from",
        "203.0.113.9",
        "--to",
        "10.10.1.70",
        "--port",
        "22",
        "--format",
        "json",
    ]);
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["decisions"][0]["rule"], "deny-all-inbound");
    assert_eq!(e["decisions"][0]["access"], "Deny");
    let o = isenet(&["explain", "--from", "NoSuchTag", "--to", "10.10.1.70", "--port", "22"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E1301"));
    // A leading zero is refused in a prefix as in an address (010 is octal 8 to inet_aton), with
    // the decimal reading only suggested.
    for from in ["010.10.1.5", "010.10.1.0/24", "10.10.1.0/024"] {
        let o = isenet(&["explain", "--from", from, "--to", "10.10.1.70", "--port", "443"]);
        assert_eq!(o.status.code(), Some(2), "{from}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("E1301") && err.contains("without leading zeros"), "{from}: {err}");
    }
    let o = isenet(&["explain", "--from", "192.0.2.1", "--to", "198.51.100.1", "--port", "22"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E1302"));
}

/// A scratch folder with the example in firewall mode (and the fields of `extra`) compiled into
/// `out/`: the folder and the environment file.
fn compiled_firewall(name: &str, extra: Value) -> (Scratch, String) {
    let dir = scratch(name);
    let mut env: Value = serde_json::from_slice(&isenet(&["example"]).stdout).unwrap();
    env["forcedTunneling"] = json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"});
    for (key, value) in extra.as_object().unwrap() {
        env[key] = value.clone();
    }
    let env_path = write(&dir, "env.json", &env);
    compiled_nsg(&dir, Some(Path::new(&env_path)));
    (dir, env_path)
}

#[test]
fn compiled_route_table_is_proved_and_a_broken_one_is_not() {
    let (dir, env) = compiled_firewall("routes-proof", json!({}));
    let table = dir.join("out/route-table.json");
    let o = isenet(&["verify", "--env", &env, "--routes", table.to_str().unwrap(), "--verbose"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("ok      route-ase-mgmt") && text.contains("ok      other-traffic-to-firewall"),
        "{text}"
    );
    // The appliance address is wrong: other traffic no longer reaches the firewall.
    let mut broken = read_json(&table);
    broken["properties"]["routes"][0]["properties"]["nextHopIpAddress"] = json!("10.10.2.5");
    let o = isenet(&["verify", "--env", &env, "--routes", &write(&dir, "broken.json", &broken)]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("error   F0201") && text.contains("of other-traffic-to-firewall go to VirtualAppliance 10.10.2.5 via route-firewall-default instead of VirtualAppliance 10.10.2.4"),
        "{text}"
    );
}

#[test]
fn malformed_route_files_are_coded_errors() {
    let dir = scratch("routes-bad");
    for (name, text) in [
        ("not-json.json", "{"),
        ("no-routes.json", "{\"properties\": {}}"),
        ("no-prefix.json", "{\"routes\": [{\"name\": \"r\", \"nextHopType\": \"Internet\"}]}"),
        (
            "unknown-tag.json",
            "{\"routes\": [{\"name\": \"r\", \"addressPrefix\": \"NoSuchTag\", \"nextHopType\": \"Internet\"}]}",
        ),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        let o = isenet(&["--error-format", "json", "verify", "--routes", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(doc["diagnostics"][0]["code"], "E1206", "{name}: {doc}");
    }
}

#[test]
fn firewall_files_are_proved_and_mutations_caught() {
    let (dir, env) = compiled_firewall("firewall", json!({}));
    let env = env.as_str();
    for file in ["firewall-policy.json", "firewall-classic.json"] {
        let path = dir.join("out").join(file);
        let o = isenet(&["verify", "--env", env, "--firewall", path.to_str().unwrap(), "--verbose"]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{file}: {text}");
        assert!(text.contains("ok      fw-ase-fqdn-tag") && text.ends_with("result: ok\n"), "{text}");
    }
    // Classic: drop the Storage rule and add an allow-anything rule.
    let mut classic = read_json(&dir.join("out/firewall-classic.json"));
    let rules = classic["networkRuleCollections"][0]["properties"]["rules"].as_array_mut().unwrap();
    rules.retain(|r| r["name"] != "fw-net-storage");
    rules.push(json!({"name": "allow-all", "protocols": ["Any"], "sourceAddresses": ["*"], "destinationAddresses": ["*"], "destinationPorts": ["*"]}));
    let o = isenet(&["verify", "--env", env, "--firewall", &write(&dir, "mutated.json", &classic)]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error   F0303 network rule allow-all admits flows no dependency needs: tcp 10.10.1.0/25 -> "),
        "{text}"
    );
    // allow-all admits Storage's flows too, so only the opening is reported.
    assert!(!text.contains("F0301"), "{text}");
    let o = isenet(&[
        "--error-format",
        "json",
        "verify",
        "--env",
        env,
        "--firewall",
        &write(&dir, "bad.json", &json!({"name": "x"})),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["diagnostics"][0]["code"],
        "E1207"
    );
}

/// A rule collection group whose `properties` (or `ruleCollections`, or `priority`) has the wrong
/// type, or a collection without a type, is bad input: read as a group without rules it gave 120
/// F0301 findings (and `diff` proposed adding every rule), or passed as ok.
#[test]
fn a_firewall_group_of_the_wrong_shape_is_bad_input_not_an_empty_group() {
    let (dir, env) = compiled_firewall("firewall-shape", json!({}));
    let policy = read_json(&dir.join("out/firewall-policy.json"));
    // (case, JSON pointer of the field changed, its new value or `None` to remove it, the path refused)
    let group = "/resources/0/properties";
    let cases = [
        ("properties-list", group.to_string(), Some(json!([1, 2])), "resources[0].properties"),
        ("properties-null", group.to_string(), Some(Value::Null), "resources[0].properties"),
        ("properties-text", group.to_string(), Some(json!("x")), "resources[0].properties"),
        ("properties-number", group.to_string(), Some(json!(1)), "resources[0].properties"),
        (
            "collections-null",
            format!("{group}/ruleCollections"),
            Some(Value::Null),
            "resources[0].properties.ruleCollections",
        ),
        (
            "priority-null",
            format!("{group}/priority"),
            Some(Value::Null),
            "resources[0].properties.priority",
        ),
        (
            "collection-untyped",
            format!("{group}/ruleCollections/0/ruleCollectionType"),
            None,
            "resources[0].properties.ruleCollections[0].ruleCollectionType",
        ),
    ];
    for (name, pointer, value, path) in cases {
        let mut broken = policy.clone();
        match value {
            Some(v) => *broken.pointer_mut(&pointer).unwrap() = v,
            None => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                broken.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
            }
        }
        let file = write(&dir, &format!("{name}.json"), &broken);
        for args in [
            vec!["--error-format", "json", "verify", "--env", &env, "--firewall", &file],
            vec!["--error-format", "json", "diff", "--env", &env, "--deployed", &file],
        ] {
            let o = isenet(&args);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{name} {}: {}",
                args[2],
                String::from_utf8_lossy(&o.stdout)
            );
            let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
            let found: Vec<(&str, &str)> = doc["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| (d["code"].as_str().unwrap(), d["path"].as_str().unwrap()))
                .collect();
            assert_eq!(found, [("E1210", path)], "{name} {}", args[2]);
        }
    }
}

/// A DNAT rule forwarding to an address of the ISE subnets (the example's 10.10.1.0/25) opens the
/// ISE to whatever reaches the firewall: a finding at that rule, in the policy and the classic
/// shape. One forwarding outside the ISE subnets is not the ISE's business.
#[test]
fn dnat_into_the_ise_subnets_is_an_opening_at_its_rule() {
    let (dir, env) = compiled_firewall("firewall-dnat", json!({}));
    let nat = |name: &str, port: &str, to: &str, policy: bool| {
        let mut rule = json!({"name": name, "sourceAddresses": ["*"], "destinationAddresses": ["20.1.1.1"],
            "destinationPorts": [port], "translatedAddress": to, "translatedPort": "443"});
        if policy {
            rule["ruleType"] = json!("NatRule");
            rule["ipProtocols"] = json!(["TCP"]);
        } else {
            rule["protocols"] = json!(["TCP"]);
        }
        rule
    };
    let mut policy = read_json(&dir.join("out/firewall-policy.json"));
    policy["resources"][0]["properties"]["ruleCollections"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "name": "dnat", "priority": 100, "action": {"type": "DNAT"}, "ruleCollectionType": "FirewallPolicyNatRuleCollection",
            "rules": [nat("expose-ise", "443", "10.10.1.5", true), nat("elsewhere", "8443", "10.20.0.5", true)]
        }));
    let mut classic = read_json(&dir.join("out/firewall-classic.json"));
    classic["natRuleCollections"] = json!([{"name": "dnat", "properties": {"priority": 100, "action": {"type": "Dnat"},
        "rules": [nat("expose-ise", "443", "10.10.1.5", false), nat("elsewhere", "8443", "10.20.0.5", false)]}}]);
    for (file, doc) in [("policy-dnat.json", policy), ("classic-dnat.json", classic)] {
        let path = write(&dir, file, &doc);
        let (code, report) = verify_json(&["--env", &env, "--firewall", &path]);
        assert_eq!(code, Some(1), "{file}: {report}");
        let openings: Vec<&Value> = report["proofs"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "F0303")
            .collect();
        assert_eq!(openings.len(), 1, "{file}: only the rule into the ISE: {report}");
        let f = openings[0];
        assert_eq!(f["rule"]["name"], "expose-ise", "{file}");
        assert!(f["message"].as_str().unwrap().contains("to 10.10.1.5:443"), "{file}: {f}");
        // Located at the rule in the file.
        let line = f["rule"]["line"].as_u64().unwrap() as usize;
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().nth(line - 1).unwrap().contains('{'), "{file}: line {line}");
        // The first name after that `{` is the rule's (keys are written sorted).
        let name = text.lines().skip(line - 1).find(|l| l.contains("\"name\":")).unwrap();
        assert!(name.contains("expose-ise"), "{file}: line {line}: {name}");
    }
}

/// Azure Firewall's limits from the command line: a file beyond them is read and each excess is an
/// F0107 finding (exit 1) at the collection list; an environment beyond them is not compiled (E1004).
#[test]
fn firewall_limits_are_findings_when_read_and_errors_when_compiled() {
    let (dir, env) = compiled_firewall("firewall-limits", json!({}));
    let env = env.as_str();
    let policy: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out/firewall-policy.json")).unwrap()).unwrap();
    let verify = |padding: usize| {
        let mut p = policy.clone();
        let group = p["resources"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["type"] == "Microsoft.Network/firewallPolicies/ruleCollectionGroups")
            .unwrap();
        let rule = &mut group["properties"]["ruleCollections"][0]["rules"][0];
        rule["description"] = json!(format!("{}{}", rule["description"].as_str().unwrap(), "x".repeat(padding)));
        let o = isenet(&[
            "verify",
            "--env",
            env,
            "--firewall",
            &write(&dir, "big.json", &p),
            "--format",
            "json",
        ]);
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        (o.status.code(), report["proofs"][0]["findings"].as_array().unwrap().clone())
    };
    // 2 MiB of padding is over the limit whatever the other rules weigh.
    let (code, findings) = verify(2 * 1024 * 1024);
    assert_eq!(code, Some(1), "{findings:?}");
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["code"], "F0107");
    assert_eq!(f["artifact"], "firewall");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("total size of rules in one rule collection group (bytes): "),
        "{f}"
    );
    assert!(
        f["message"].as_str().unwrap().ends_with(" where Azure allows at most 2097152"),
        "{f}"
    );
    assert!(f["rule"]["name"].as_str().unwrap().ends_with("properties.ruleCollections"), "{f}");
    assert!(f["rule"]["line"].as_u64().is_some(), "{f}");
    // A long description alone, well under the limit, changes nothing.
    let (code, findings) = verify(1000);
    assert_eq!((code, findings.len()), (Some(0), 0), "{findings:?}");

    // Compile: 4 subnets x (4,992 addresses + 9 platform destinations) = 20,004 pairs.
    let mut e: Value = serde_json::from_str(&std::fs::read_to_string(env).unwrap()).unwrap();
    let prefixes: Vec<String> = (0..4992u32)
        .map(|i| std::net::Ipv4Addr::from(0xc612_0000 + 2 * i).to_string())
        .collect();
    e["outboundDestinations"] = json!([{"name": "many", "prefixes": prefixes, "ports": ["443"]}]);
    let big = write(&dir, "big-env.json", &e);
    let out = dir.join("limit-out");
    let o = isenet(&["compile", "--env", &big, "--out-dir", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("E1004") && err.contains("big-env.json") && err.contains("20004 where Azure allows 20000"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_firewall_without_the_storage_rule_misses_that_dependency() {
    let (dir, env) = compiled_firewall("firewall-missing", json!({}));
    let mut policy = read_json(&dir.join("out/firewall-policy.json"));
    for c in policy["resources"][0]["properties"]["ruleCollections"].as_array_mut().unwrap() {
        c["rules"].as_array_mut().unwrap().retain(|r| r["name"] != "fw-net-storage");
    }
    let (code, report) = verify_json(&["--env", &env, "--firewall", &write(&dir, "policy.json", &policy)]);
    assert_eq!(code, Some(1));
    let missing = uncovered_ids(&report["proofs"][0]["coverage"]);
    assert_eq!(missing, ["fw-net-storage"]);
}

#[test]
fn application_rules_for_other_sources_do_not_count() {
    let (dir, env) = compiled_firewall("firewall-sources", json!({}));
    let mut policy = read_json(&dir.join("out/firewall-policy.json"));
    for r in policy_rules(&mut policy).filter(|r| r["ruleType"] == "ApplicationRule") {
        r["sourceAddresses"] = json!(["192.168.99.0/24"]);
    }
    let o = isenet(&["verify", "--env", &env, "--firewall", &write(&dir, "policy.json", &policy)]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("F0301 dependency fw-ase-fqdn-tag (fqdnTag AppServiceEnvironment): Https:443: no application rule allows it"),
        "{text}"
    );
}

#[test]
fn a_gateway_route_to_declared_internal_callers_is_right() {
    let (dir, env_path) = compiled_firewall("routes-callers", json!({"internalCallers": ["192.168.50.0/24"]}));
    let mut table = read_json(&dir.join("out/route-table.json"));
    table["properties"]["routes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "on-premises", "properties": {"addressPrefix": "192.168.50.0/24", "nextHopType": "VirtualNetworkGateway"}}));
    let o = isenet(&["verify", "--env", &env_path, "--routes", &write(&dir, "routes.json", &table)]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn an_unknown_tag_makes_the_proof_incomplete_and_suggests_the_near_miss() {
    let dir = scratch("unknown-tag");
    let mut nsg = compiled_nsg(&dir, None);
    let monitor = security_rules(&mut nsg)
        .iter_mut()
        .find(|r| r["name"] == "out-monitor-443")
        .unwrap();
    monitor["properties"]["destinationAddressPrefix"] = json!("AzureMonitr");
    let (code, report) = verify_json(&["--nsg", &write(&dir, "nsg.json", &nsg)]);
    assert_eq!(code, Some(1), "an unknown tag is never a silent pass");
    let f = finding(&report, "F0105");
    assert_eq!(f["rule"]["name"], "out-monitor-443");
    assert!(f["message"].as_str().unwrap().contains("did you mean `AzureMonitor`"), "{f}");
}

/// A verify given only some of the artifacts an environment's mode needs says which it did not
/// prove (text and JSON), and stays 0 when what it was given holds; given them all, it says nothing.
#[test]
fn verify_names_the_needed_artifacts_it_was_not_given() {
    let dir = scratch("unverified");
    let env = root().join("tests/envs/firewall-tunneling.json");
    let env = env.to_str().unwrap();
    let out = dir.join("out");
    let o = isenet(&["-q", "compile", "--env", env, "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let file = |name: &str| out.join(name).to_string_lossy().into_owned();
    let (routes, nsg, firewall) = (file("route-table.json"), file("nsg.json"), file("firewall-policy.json"));

    let partial = isenet(&["verify", "--env", env, "--routes", &routes]);
    assert_eq!(partial.status.code(), Some(0));
    let text = String::from_utf8_lossy(&partial.stdout);
    assert!(
        text.contains("not verified (not given; this environment's mode needs it): the NSG, the firewall rules\nresult: ok"),
        "{text}"
    );
    let (code, report) = verify_json(&["--env", env, "--routes", &routes]);
    assert_eq!(code, Some(0));
    assert_eq!(report["unverified"], json!(["nsg", "firewall"]));
    // JUnit: a skipped case for each, so a pipeline's test tab shows them as not run.
    let junit = isenet(&["verify", "--env", env, "--routes", &routes, "--format", "junit"]);
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(
        xml.contains(r#"<testsuites name="isenet verify" tests="18" skipped="2" failures="0""#),
        "{xml}"
    );
    for artifact in ["nsg", "firewall"] {
        assert!(
            xml.contains(&format!(
                r#"<testcase name="{artifact} proved" classname="isenet.{artifact}">
            <skipped message="not given; this environment&apos;s mode needs it proved too"/>"#
            )),
            "{xml}"
        );
    }

    let whole = isenet(&["verify", "--env", env, "--routes", &routes, "--nsg", &nsg, "--firewall", &firewall]);
    assert_eq!(whole.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&whole.stdout).contains("not verified"));
    let (_, report) = verify_json(&["--env", env, "--routes", &routes, "--nsg", &nsg, "--firewall", &firewall]);
    assert!(report.get("unverified").is_none(), "{report}");

    // Without tunneling the NSG is all an environment needs.
    let example = scratch("unverified-example");
    let nsg_only = write(&example, "nsg.json", &compiled_nsg(&example, None));
    let (code, report) = verify_json(&["--nsg", &nsg_only]);
    assert_eq!(code, Some(0));
    assert!(report.get("unverified").is_none(), "{report}");
}

/// An allow of VirtualNetwork that the declared networks' rules shadow still admits the members
/// the environment does not declare: an error (F0109) naming the rule and the flows, where an
/// allow of a declared prefix is only shadowed. `*` or 0.0.0.0/0 admits the same addresses as
/// Internet too: that is the main proof's opening (F0102), not said twice. A deny of some
/// addresses above (a bogon list's 0.0.0.0/8) leaves the others open, whatever their address.
/// The example's own rules for VirtualNetwork (triggers, Redis) serve their requirements for
/// those members: no note.
#[test]
fn an_allow_of_virtualnetwork_is_an_opening_for_undeclared_members() {
    let dir = scratch("shadowed-vnet-allow");
    let compiled = compiled_nsg(&dir, None);
    let rule = |name: &str, priority: u32, access: &str, source: &str, port: &str| {
        json!({"name": name, "properties": {"access": access, "direction": "Inbound", "priority": priority,
            "protocol": "Tcp", "sourceAddressPrefix": source, "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": port}})
    };
    let (code, report) = verify_json(&["--nsg", &write(&dir, "compiled.json", &compiled)]);
    assert_eq!(code, Some(0), "{report}");
    let noted: Vec<&str> = report["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"]["name"].as_str())
        .collect();
    assert!(
        !noted.contains(&"in-triggers-443-internal") && !noted.contains(&"in-redis-6379-6383"),
        "{report}"
    );
    let served_by = |id: &str| -> Value {
        report["proofs"][0]["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["rules"]
            .clone()
    };
    assert_eq!(
        served_by("in-triggers-443-internal"),
        json!(["in-intersubnet", "in-triggers-443-internal"])
    );

    let platform = ["10.10.0.0/16", "168.63.129.16/32", "169.254.169.254/32"];
    let with_bogons: Vec<&str> = platform.iter().copied().chain(["0.0.0.0/8"]).collect();
    for (source, bogon_deny, sources) in [
        ("VirtualNetwork", false, addresses_outside(&platform, &EXAMPLE_INBOUND_TAGS)),
        ("virtualnetwork", false, addresses_outside(&platform, &EXAMPLE_INBOUND_TAGS)),
        ("VirtualNetwork", true, addresses_outside(&with_bogons, &EXAMPLE_INBOUND_TAGS)),
    ] {
        let mut nsg = compiled.clone();
        security_rules(&mut nsg).extend([
            rule("ssh-wide", 300, "Allow", source, "22"),
            rule("ssh-from-subnet", 106, "Allow", "10.10.1.0/25", "22"),
        ]);
        if bogon_deny {
            security_rules(&mut nsg).push(rule("deny-bogons", 250, "Deny", "0.0.0.0/8", "*"));
        }
        let (code, report) = verify_json(&["--nsg", &write(&dir, "nsg.json", &nsg)]);
        assert_eq!(code, Some(1), "{source}: {report}");
        let found = undeclared_openings(&report);
        assert_eq!(found.len(), 1, "{source}: {report}");
        assert_eq!(found[0].0, "ssh-wide");
        assert_eq!(
            found[0].1["flows"],
            json!([{"protocols": ["Tcp"], "sources": sources, "sourcePorts": ["*"], "destinations": ["10.10.1.0/25"], "ports": ["22"]}]),
            "{source}"
        );
        assert_eq!(found[0].1["requirements"], json!([]));
        let shadowed = report["proofs"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"]["name"] == "ssh-from-subnet")
            .unwrap_or_else(|| panic!("a finding on ssh-from-subnet: {report}"));
        assert_eq!(shadowed["code"], "F0103");
        assert_eq!(
            shadowed["message"],
            "rule ssh-from-subnet decides no packet: in-intersubnet decides everything it matches"
        );
    }
    for source in ["*", "0.0.0.0/0"] {
        let mut nsg = compiled.clone();
        security_rules(&mut nsg).push(rule("ssh-any", 300, "Allow", source, "22"));
        let (code, report) = verify_json(&["--nsg", &write(&dir, "nsg.json", &nsg)]);
        assert_eq!(code, Some(1), "{source}: {report}");
        assert!(undeclared_openings(&report).is_empty(), "{source}: {report}");
        assert_eq!(finding(&report, "F0102")["rule"]["name"], "ssh-any", "{source}: {report}");
    }
}

/// Many deny rules above the allow (each host its own class of addresses, the main proof's
/// denied regions past the point where set operations index them by cell) change nothing: the
/// members the denies leave out are still reported, the denied hosts are not.
#[test]
fn many_denies_above_an_allow_of_virtualnetwork_hide_no_opening() {
    let dir = scratch("undeclared-many-denies");
    let mut nsg = compiled_nsg(&dir, None);
    for k in 1..=70u32 {
        security_rules(&mut nsg).push(
            json!({"name": format!("deny-host-{k}"), "properties": {"access": "Deny", "direction": "Inbound",
            "priority": 1000 + k, "protocol": "*", "sourceAddressPrefix": format!("198.18.0.{k}"), "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": "*"}}),
        );
    }
    security_rules(&mut nsg).push(
        json!({"name": "ssh-from-vnet", "properties": {"access": "Allow", "direction": "Inbound",
        "priority": 2000, "protocol": "Tcp", "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*",
        "destinationAddressPrefix": "*", "destinationPortRange": "22"}}),
    );
    let (code, report) = verify_json(&["--nsg", &write(&dir, "nsg.json", &nsg)]);
    assert_eq!(code, Some(1), "{report}");
    let found = undeclared_openings(&report);
    assert_eq!(
        found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["ssh-from-vnet"],
        "{report}"
    );
    let sources = &found[0].1["flows"][0]["sources"];
    let holds = |ip: &str| list_holds(sources, ip);
    assert!(holds("198.18.0.71") && holds("192.168.1.1") && holds("198.18.0.0"), "{sources}");
    assert!((1..=70).all(|k| !holds(&format!("198.18.0.{k}"))), "{sources}");
}

/// Allows of VirtualNetwork on one port each, between denies of a few /8s each: every allow is an
/// opening of its own (each admits the members outside the denies above it on its port), however
/// many regions the two evaluations have.
#[test]
fn each_allow_of_virtualnetwork_among_many_denies_is_reported() {
    let dir = scratch("undeclared-interleaved");
    let mut nsg = compiled_nsg(&dir, None);
    for k in 0..20u32 {
        let denied: Vec<String> = (0..8).map(|j| format!("{}.0.0.0/8", 20 + k * 8 + j)).collect();
        security_rules(&mut nsg).push(
            json!({"name": format!("deny-{k}"), "properties": {"access": "Deny", "direction": "Inbound",
            "priority": 300 + 2 * k, "protocol": "Tcp", "sourceAddressPrefixes": denied, "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": if k % 2 == 0 { "*" } else { "1000-60000" }}}),
        );
        security_rules(&mut nsg).push(
            json!({"name": format!("allow-{k}"), "properties": {"access": "Allow", "direction": "Inbound",
            "priority": 301 + 2 * k, "protocol": "Tcp", "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": (2000 + k).to_string()}}),
        );
    }
    let (code, report) = verify_json(&["--nsg", &write(&dir, "nsg.json", &nsg)]);
    assert_eq!(code, Some(1), "{report}");
    let found = undeclared_openings(&report);
    let ports: std::collections::BTreeMap<String, Value> = found.iter().map(|(n, f)| (n.clone(), f["flows"][0]["ports"].clone())).collect();
    let expected: std::collections::BTreeMap<String, Value> =
        (0..20).map(|k| (format!("allow-{k}"), json!([(2000 + k).to_string()]))).collect();
    assert_eq!(ports, expected, "{report}");
}

/// With a restricted outbound policy the NSG must not let the ISE reach undeclared members on
/// flows no requirement needs; the finding's destinations are the side left empty.
#[test]
fn a_restricted_nsg_reaching_undeclared_members_is_an_opening() {
    let dir = scratch("undeclared-outbound");
    let env = root().join("tests/envs/restricted-outbound.json");
    let mut nsg = compiled_nsg(&dir, Some(&env));
    let env = env.to_str().unwrap();
    let (code, report) = verify_json(&["--env", env, "--nsg", &write(&dir, "compiled.json", &nsg)]);
    assert_eq!(code, Some(0), "{report}");
    security_rules(&mut nsg).push(
        json!({"name": "sql-to-vnet", "properties": {"access": "Allow", "direction": "Outbound",
        "priority": 3000, "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*",
        "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": "1433"}}),
    );
    let (code, report) = verify_json(&["--env", env, "--nsg", &write(&dir, "nsg.json", &nsg)]);
    assert_eq!(code, Some(1), "{report}");
    let found = undeclared_openings(&report);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].0, "sql-to-vnet");
    let flow = &found[0].1["flows"][0];
    assert_eq!(found[0].1["direction"], "Outbound");
    assert_eq!(flow["ports"], json!(["1433"]));
    // Members anywhere but the declared VNet, and but the mainframe destination (192.0.2.128/25,
    // every port): its addresses get 1433 as Internet already, which is no member's opening.
    let destinations = &flow["destinations"];
    let holds = |ip: &str| list_holds(destinations, ip);
    assert!(holds("8.8.8.8") && holds("203.0.113.10") && holds("192.0.2.1"), "{destinations}");
    assert!(
        !holds("10.10.1.5") && !holds("192.0.2.200") && !holds("168.63.129.16"),
        "{destinations}"
    );
}

/// A deny of Internet in place of the deny-all, and an allow of VirtualNetwork port 22 behind a
/// deny of Internet port 22, in `nsg` (the compiled NSG of an environment).
fn members_behind_internet_denies(nsg: &mut Value) {
    let rules = security_rules(nsg);
    assert!(rules.iter().any(|r| r["name"] == "deny-all-inbound"));
    rules.retain(|r| r["name"] != "deny-all-inbound");
    let rule = |name: &str, priority: u32, access: &str, source: &str, (protocol, ports): (&str, &str)| {
        json!({"name": name, "properties": {
            "priority": priority, "direction": "Inbound", "access": access, "protocol": protocol,
            "sourceAddressPrefix": source, "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": ports}})
    };
    rules.push(rule("deny-internet-22", 250, "Deny", "Internet", ("Tcp", "22")));
    rules.push(rule("allow-vnet-22", 300, "Allow", "VirtualNetwork", ("Tcp", "22")));
    rules.push(rule("deny-internet-inbound", 4096, "Deny", "Internet", ("*", "*")));
}

/// A user route's prefix joins VirtualNetwork (azure-semantics.md: under forced tunneling that is
/// 0.0.0.0/0), while its addresses stay Internet, so a deny of Internet stops them in the main
/// proof. A peered or on-premises member is in VirtualNetwork and out of Internet: behind a deny
/// of Internet, a rule allowing VirtualNetwork, and Azure's AllowVnetInBound, admit it (F0109), as
/// in an environment without tunneling.
#[test]
fn a_deny_of_internet_stops_no_undeclared_member_under_forced_tunneling() {
    let env = root().join("tests/envs/expressroute-tunneling.json");
    let env = env.to_str().unwrap();
    let dir = scratch("tunneled-undeclared");
    let compiled = compiled_nsg(&dir, Some(Path::new(env)));
    let (code, report) = verify_json(&["--env", env, "--nsg", &write(&dir, "compiled.json", &compiled)]);
    assert_eq!(undeclared_openings(&report), [], "{code:?} {report}");
    let mut nsg = compiled.clone();
    members_behind_internet_denies(&mut nsg);
    let (code, report) = verify_json(&["--env", env, "--nsg", &write(&dir, "nsg.json", &nsg)]);
    let codes: Vec<&str> = report["proofs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!((code, codes), (Some(1), vec!["F0109", "F0109"]), "only the members' openings");
    let found = undeclared_openings(&report);
    let mut names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["AllowVnetInBound", "allow-vnet-22"]);
    for (name, f) in &found {
        let sources = &f["flows"][0]["sources"];
        // A peered network and on-premises space, never the declared VNet or the platform.
        for (ip, member) in [
            ("172.16.5.4", true),
            ("192.168.50.1", true),
            ("10.10.1.5", false),
            ("168.63.129.16", false),
        ] {
            assert_eq!(list_holds(sources, ip), member, "{name} {ip}: {f}");
        }
    }
    let ssh = found.iter().find(|(n, _)| n == "allow-vnet-22").map(|(_, f)| f);
    assert_eq!(ssh.map(|f| &f["flows"][0]["ports"]), Some(&json!(["22"])));
}

/// The same with a route to on-premises space (172.16.0.0/12 to the gateway) on an environment
/// without tunneling: the route's prefix is VirtualNetwork, and still undeclared.
#[test]
fn a_route_s_prefix_is_still_undeclared_for_the_member_proof() {
    let dir = scratch("route-prefix-undeclared");
    let mut nsg = compiled_nsg(&dir, None);
    members_behind_internet_denies(&mut nsg);
    let routes = json!({"name": "rt", "properties": {"routes": [
        {"name": "onprem", "properties": {"addressPrefix": "172.16.0.0/12", "nextHopType": "VirtualNetworkGateway"}}]}});
    let (code, report) = verify_json(&[
        "--nsg",
        &write(&dir, "nsg.json", &nsg),
        "--routes",
        &write(&dir, "routes.json", &routes),
    ]);
    assert_eq!(code, Some(1));
    let found = undeclared_openings(&report);
    let ssh = found
        .iter()
        .find(|(n, _)| n == "allow-vnet-22")
        .expect("allow-vnet-22 admits members");
    assert!(list_holds(&ssh.1["flows"][0]["sources"], "172.16.5.4"));
}
