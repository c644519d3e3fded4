//! Loader tests on small inline documents; the catalogue in tests/bad-inputs covers every code
//! end to end through the CLI.

use super::*;
use crate::data::EXAMPLE_ENVIRONMENT;

fn codes(text: &str) -> Vec<&'static str> {
    load(text, "t.json").diagnostics.iter().map(|d| d.code).collect()
}

fn example_with(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    edit(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn example_loads_with_normalised_values() {
    let loaded = load(EXAMPLE_ENVIRONMENT, "example.json");
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let env = loaded.env.unwrap();
    assert_eq!(env.location, "westus2");
    assert_eq!(env.nsg_name, "contoso-ise-nsg");
    assert_eq!(env.subnets.iter().filter(|s| s.delegated).count(), 1);
    assert_eq!(env.outbound_destinations[0].ports, vec![crate::ports::PortRange::single(22)]);
}

#[test]
fn display_location_is_normalised() {
    let text = example_with(|v| v["location"] = "West US 2".into());
    assert_eq!(load(&text, "t").env.unwrap().location, "westus2");
}

#[test]
fn syntax_error_has_line_and_column() {
    let d = &load("{\n  \"name\": \"x\",\n}", "bad.json").diagnostics[0];
    assert_eq!(d.code, "E0002");
    assert_eq!((d.line, d.column), (Some(3), Some(1)));
    assert_eq!(d.file, "bad.json");
}

#[test]
fn all_problems_are_reported_not_only_the_first() {
    let text = example_with(|v| {
        v["accessEndpoint"] = "internl".into();
        v["subnets"][2]["prefix"] = "10.10.1.65/27".into();
        v["cloudd"] = "public".into();
    });
    let found = codes(&text);
    assert!(found.contains(&"E0104"), "{found:?}");
    assert!(found.contains(&"E0108"), "{found:?}");
    assert!(found.contains(&"E0101"), "{found:?}");
    let loaded = load(&text, "t");
    assert!(loaded.env.is_none());
    let host_bits = loaded.diagnostics.iter().find(|d| d.code == "E0108").unwrap();
    assert_eq!(host_bits.path, "subnets[2].prefix");
    assert_eq!(host_bits.help.as_deref(), Some("did you mean `10.10.1.64/27`?"));
    let unknown = loaded.diagnostics.iter().find(|d| d.code == "E0101").unwrap();
    assert_eq!(unknown.help.as_deref(), Some("did you mean `cloud`?"));
}

#[test]
fn network_rules_from_the_seed() {
    // /28 is too small, /26 only warns.
    let small = example_with(|v| v["subnets"][0]["prefix"] = "10.10.1.0/28".into());
    assert!(codes(&small).contains(&"E0202"));
    let large = example_with(|v| v["subnets"][3]["prefix"] = "10.10.2.0/26".into());
    let l = load(&large, "t");
    assert_eq!(l.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(), vec!["W0203"]);
    assert!(l.env.is_some(), "warnings do not fail");
    // Each forbidden range is refused.
    for r in [
        "0.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "168.63.129.16/32",
        "169.254.169.254/32",
        "169.254.0.0/24",
        "224.0.0.0/16",
        "239.1.0.0/16",
        "255.255.255.255/32",
    ] {
        let t = example_with(|v| v["virtualNetwork"]["addressSpace"] = serde_json::json!(["10.10.0.0/16", r]));
        assert!(codes(&t).contains(&"E0206"), "{r}");
    }
    let digit_name = example_with(|v| v["subnets"][1]["name"] = "2nd".into());
    assert!(codes(&digit_name).contains(&"E0207"));
    let slash_name = example_with(|v| v["subnets"][1]["name"] = "a/b".into());
    assert!(codes(&slash_name).contains(&"E0207"));
}

#[test]
fn government_location_without_published_addresses_is_refused() {
    let t = example_with(|v| {
        v["cloud"] = "usgovernment".into();
        v["location"] = "usdodeast".into();
    });
    assert!(codes(&t).contains(&"E0302"));
    // data/logicapps-ips.csv publishes none of the three lists for US DoD East: each is named.
    let loaded = load(&t, "t");
    let d = loaded.diagnostics.iter().find(|d| d.code == "E0302").unwrap();
    for kind in ["`connector-outbound`", "`logicapps-inbound`", "`logicapps-outbound`"] {
        assert!(d.message.contains(kind), "{}", d.message);
    }
    let ok = example_with(|v| {
        v["cloud"] = "usgovernment".into();
        v["location"] = "US Gov Virginia".into();
    });
    assert!(codes(&ok).is_empty(), "{:?}", codes(&ok));
    let wrong_cloud = example_with(|v| v["location"] = "chinanorth2".into());
    let d = load(&wrong_cloud, "t").diagnostics;
    assert!(d[0].help.as_deref().unwrap().contains("\"cloud\": \"china\""), "{d:?}");
}

#[test]
fn an_unknown_location_lists_the_clouds_locations_when_no_name_is_close() {
    let text = example_with(|v| {
        v["cloud"] = "usgovernment".into();
        v["location"] = "antarctica".into();
    });
    let loaded = load(&text, "t");
    let d = loaded.diagnostics.iter().find(|d| d.code == "E0301").expect("E0301");
    let help = d.help.as_deref().unwrap();
    assert!(help.starts_with("the locations of cloud `usgovernment`: "), "{help}");
    for name in ["usgovvirginia", "usgovarizona", "usgovtexas"] {
        assert!(help.contains(name), "{help}");
    }
    assert!(!help.contains("westus2"), "{help}");
}

#[test]
fn port_zero_is_refused_only_where_it_becomes_a_firewall_rule() {
    let firewall = |ports: serde_json::Value, ip: &str| {
        example_with(|v| {
            v["forcedTunneling"] = serde_json::json!({ "mode": "firewall", "firewallPrivateIp": ip });
            v["outboundDestinations"][0]["ports"] = ports;
        })
    };
    // Azure Firewall rules take ports 1-65535 (data/azure-limits.csv).
    let loaded = load(&firewall(serde_json::json!(["0", "0-80", 0, "1-80", "*"]), "10.10.0.4"), "t");
    let found: Vec<(&str, &str)> = loaded.diagnostics.iter().map(|d| (d.code, d.path.as_str())).collect();
    assert_eq!(
        found,
        [
            ("E0601", "outboundDestinations[0].ports[0]"),
            ("E0601", "outboundDestinations[0].ports[1]"),
            ("E0601", "outboundDestinations[0].ports[2]"),
        ]
    );
    assert_eq!(
        loaded.diagnostics[1].help.as_deref(),
        Some("start at port 1 (\"1-80\"), or use \"*\" for every port")
    );
    // A malformed firewall IP does not hide the port.
    let both: Vec<_> = codes(&firewall(serde_json::json!(["0"]), "10.10.0"));
    assert_eq!(both, ["E0402", "E0601"]);
    // An NSG takes ports 0-65535: outside firewall mode port 0 is a valid (if idle) port.
    for mode in ["none", "expressRoute"] {
        let t = example_with(|v| {
            v["forcedTunneling"] = serde_json::json!({ "mode": mode });
            v["outboundDestinations"][0]["ports"] = serde_json::json!(["0", "0-80"]);
        });
        assert!(codes(&t).is_empty(), "{mode}: {:?}", codes(&t));
    }
}

#[test]
fn unordered_lists_are_canonical_once_valid_and_errors_keep_the_files_indices() {
    let reordered = |v: &mut serde_json::Value| {
        v["virtualNetwork"]["addressSpace"] = serde_json::json!(["10.20.0.0/16", "10.10.0.0/16"]);
        v["internalCallers"] = serde_json::json!(["192.168.10.0/24", "172.20.5.4"]);
        v["subnets"].as_array_mut().unwrap().rotate_left(1);
        v["outboundDestinations"] = serde_json::json!([
            {"name": "zz", "prefixes": ["203.0.113.9", "198.51.100.0/24"], "ports": ["8443-8445", "443", "8444"]},
            {"name": "aa", "prefixes": ["192.0.2.1"], "ports": ["22"]}
        ]);
    };
    let env = load(&example_with(reordered), "t").env.unwrap();
    let text = |items: Vec<String>| items.join(" ");
    assert_eq!(
        text(env.virtual_network.address_space.iter().map(ToString::to_string).collect()),
        "10.10.0.0/16 10.20.0.0/16"
    );
    assert_eq!(
        text(env.internal_callers.iter().map(ToString::to_string).collect()),
        "172.20.5.4/32 192.168.10.0/24"
    );
    assert_eq!(
        text(env.subnets.iter().map(|s| s.name.clone()).collect()),
        "ise-1 ise-2 ise-3 ise-4"
    );
    assert!(env.subnets[0].delegated);
    assert_eq!(text(env.outbound_destinations.iter().map(|d| d.name.clone()).collect()), "aa zz");
    let zz = &env.outbound_destinations[1];
    assert_eq!(
        text(zz.prefixes.iter().map(ToString::to_string).collect()),
        "198.51.100.0/24 203.0.113.9/32"
    );
    assert_eq!(crate::ports::format_list(&zz.ports), "443,8443-8445");
    // An error in the rotated subnets names the index the file has.
    let broken = example_with(|v| {
        reordered(v);
        v["subnets"][3]["prefix"] = "10.10.1.1/27".into();
    });
    let loaded = load(&broken, "t");
    assert!(loaded.env.is_none());
    assert!(
        loaded.diagnostics.iter().any(|d| d.path == "subnets[3].prefix"),
        "{:?}",
        loaded.diagnostics
    );
}

#[test]
fn the_rule_collection_group_is_the_ises_own_in_firewall_mode_only() {
    let with = |forced: serde_json::Value| {
        let loaded = load(&example_with(|v| v["forcedTunneling"] = forced.clone()), "t");
        let codes: Vec<(&str, String)> = loaded.diagnostics.iter().map(|d| (d.code, d.path.clone())).collect();
        (loaded.env.map(|e| e.forced_tunneling.rule_collection_group), codes)
    };
    let group = |name: &str, priority: u32| {
        Some(Some(RuleCollectionGroup {
            name: name.into(),
            priority,
        }))
    };
    // Firewall mode: `<name>-dependencies` at 500 unless given.
    let (got, codes) = with(serde_json::json!({ "mode": "firewall", "firewallPrivateIp": "10.10.0.4" }));
    assert_eq!((got, codes), (group("contoso-ise-dependencies", 500), vec![]));
    let (got, _) = with(serde_json::json!({ "mode": "firewall", "firewallPrivateIp": "10.10.0.4",
        "ruleCollectionGroupName": "a_b.c-d", "ruleCollectionGroupPriority": 65000 }));
    assert_eq!(got, group("a_b.c-d", 65000));
    // Azure's bounds: names end with a letter, digit or `_`; priorities 100-65000, whole numbers.
    for (name, priority, want) in [
        (
            serde_json::json!("rules."),
            serde_json::json!(500),
            vec![("E0105", "forcedTunneling.ruleCollectionGroupName")],
        ),
        (
            serde_json::json!("rules"),
            serde_json::json!(99),
            vec![("E0110", "forcedTunneling.ruleCollectionGroupPriority")],
        ),
        (
            serde_json::json!("rules"),
            serde_json::json!(100.5),
            vec![("E0110", "forcedTunneling.ruleCollectionGroupPriority")],
        ),
        (
            serde_json::json!(7),
            serde_json::json!("500"),
            vec![
                ("E0102", "forcedTunneling.ruleCollectionGroupName"),
                ("E0102", "forcedTunneling.ruleCollectionGroupPriority"),
            ],
        ),
    ] {
        let (got, codes) = with(serde_json::json!({ "mode": "firewall", "firewallPrivateIp": "10.10.0.4",
            "ruleCollectionGroupName": name, "ruleCollectionGroupPriority": priority }));
        assert_eq!(got, None);
        let want: Vec<(&str, String)> = want.into_iter().map(|(c, p)| (c, p.to_string())).collect();
        assert_eq!(codes, want);
    }
    // Other modes write no group: a given one is ignored with W0407.
    let (got, codes) = with(serde_json::json!({ "mode": "expressRoute", "ruleCollectionGroupPriority": 700 }));
    assert_eq!(
        (got, codes),
        (
            Some(None),
            vec![("W0407", "forcedTunneling.ruleCollectionGroupPriority".to_string())]
        )
    );
    let (got, codes) = with(serde_json::json!({ "mode": "none" }));
    assert_eq!((got, codes), (Some(None), vec![]));
}

#[test]
fn other_tools_names_of_a_field_suggest_this_files_name() {
    let help_at = |edit: &dyn Fn(&mut serde_json::Value), path: &str| -> Option<String> {
        let loaded = load(&example_with(|v| edit(v)), "t");
        loaded
            .diagnostics
            .iter()
            .find(|d| d.code == "E0101" && d.path == path)
            .and_then(|d| d.help.clone())
    };
    let renamed = |from: &'static str, to: &'static str| {
        move |v: &mut serde_json::Value| {
            let value = v.as_object_mut().unwrap().remove(to).unwrap();
            v[from] = value;
        }
    };
    assert_eq!(
        help_at(&renamed("dnsServers", "customDnsServers"), "dnsServers").as_deref(),
        Some("did you mean `customDnsServers`?")
    );
    assert_eq!(
        help_at(&renamed("Region", "location"), "Region").as_deref(),
        Some("did you mean `location`?")
    );
    assert_eq!(
        help_at(&renamed("accessEndpointType", "accessEndpoint"), "accessEndpointType").as_deref(),
        Some("did you mean `accessEndpoint`?")
    );
    // Inside an object, only that object's fields: a subnet's `addressPrefix` is its `prefix`.
    let subnet = |v: &mut serde_json::Value| {
        let prefix = v["subnets"][0].as_object_mut().unwrap().remove("prefix").unwrap();
        v["subnets"][0]["addressPrefix"] = prefix;
    };
    assert_eq!(
        help_at(&subnet, "subnets[0].addressPrefix").as_deref(),
        Some("did you mean `prefix`?")
    );
}
