//! A service tag is only written into an NSG where the cloud's tag file marks it usable in NSGs
//! (`networkFeatures` has `NSG`); otherwise its IPv4 prefixes are written, as routes (`UDR`) and
//! firewall rules (`FW`) already do. China publishes `LogicApps` and `LogicAppsManagement` with no
//! network features at all.

use super::common::{isenet, workspace};
use super::pipeline::tempdir;
use ipnet::Ipv4Net;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const PLATFORM: [&str; 4] = ["VirtualNetwork", "Internet", "AzureLoadBalancer", "*"];

fn tag_file(cloud_file: &str) -> Value {
    let text = std::fs::read_to_string(workspace().join("data/servicetags").join(cloud_file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// name -> (usable in NSGs, aggregated IPv4 prefixes), read straight from a tag file.
fn tags_of(file: &Value) -> BTreeMap<String, (bool, Vec<Ipv4Net>)> {
    file["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let p = &v["properties"];
            let nsg = p["networkFeatures"].as_array().is_some_and(|f| f.iter().any(|x| x == "NSG"));
            let v4: Vec<Ipv4Net> = p["addressPrefixes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|a| a.as_str().unwrap().parse().ok())
                .collect();
            let mut agg = Ipv4Net::aggregate(&v4);
            agg.sort();
            (v["name"].as_str().unwrap().to_string(), (nsg, agg))
        })
        .collect()
}

fn rules(nsg: &Path) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(nsg).unwrap()).unwrap();
    doc["properties"]["securityRules"].as_array().unwrap().clone()
}

fn named_tags(rule: &Value) -> Vec<String> {
    ["sourceAddressPrefix", "destinationAddressPrefix"]
        .iter()
        .filter_map(|k| rule["properties"][k].as_str())
        .filter(|t| !PLATFORM.contains(t) && t.parse::<Ipv4Net>().is_err())
        .map(str::to_string)
        .collect()
}

fn prefixes(rule: &Value, key: &str) -> Vec<Ipv4Net> {
    rule["properties"][key]
        .as_array()
        .map(|a| a.iter().map(|p| p.as_str().unwrap().parse().unwrap()).collect())
        .unwrap_or_default()
}

#[test]
fn every_sample_environment_names_only_tags_its_cloud_marks_usable_in_nsgs() {
    let dir = tempdir("tag-features-all");
    let files = [
        ("public", "ServiceTags_Public_20251028.json"),
        ("usgovernment", "ServiceTags_AzureGovernment.json"),
        ("china", "ServiceTags_China.json"),
    ];
    let mut checked = 0;
    for entry in std::fs::read_dir(workspace().join("tests/envs")).unwrap() {
        let path = entry.unwrap().path();
        let env: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let cloud = env["cloud"].as_str().unwrap_or("public");
        let file = files.iter().find(|(c, _)| *c == cloud).unwrap().1;
        let tags = tags_of(&tag_file(file));
        let out = dir.join(path.file_stem().unwrap());
        let run = isenet(&[
            "compile",
            "-q",
            "--env",
            path.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
            "--only",
            "nsg",
        ]);
        assert_eq!(run.code, Some(0), "{}: {}", path.display(), run.stderr);
        for rule in rules(&out.join("nsg.json")) {
            for tag in named_tags(&rule) {
                let (usable, _) = tags.get(&tag).unwrap_or_else(|| panic!("{tag} not in {file}"));
                assert!(
                    usable,
                    "{}: rule {} names {tag}, which {file} does not mark usable in NSGs",
                    path.display(),
                    rule["name"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} tag uses checked");
}

#[test]
fn china_writes_the_logic_apps_tags_as_their_ipv4_prefixes_and_says_so() {
    let dir = tempdir("tag-features-china");
    let env = workspace().join("tests/envs/china-north2.json");
    let out = dir.join("out");
    let run = isenet(&["compile", "-q", "--env", env.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let tags = tags_of(&tag_file("ServiceTags_China.json"));
    let all = rules(&out.join("nsg.json"));
    // Seed 002: the health check comes from LogicApps, the designer from LogicAppsManagement, both
    // to port 454; China's file gives neither tag the NSG feature.
    for (rule, tag) in [("in-health-454", "LogicApps"), ("in-designer-454", "LogicAppsManagement")] {
        let (usable, v4) = &tags[tag];
        assert!(!usable);
        let r = all.iter().find(|r| r["name"] == rule).unwrap();
        assert_eq!(prefixes(r, "sourceAddressPrefixes"), *v4, "{rule}");
        assert_eq!(r["properties"]["destinationPortRange"], "454");
        assert!(all.iter().all(|r| r["name"] != format!("{rule}-v6")), "the ISE subnets are IPv4");
    }
    let review = std::fs::read_to_string(out.join("review.csv")).unwrap();
    let health = review.lines().find(|l| l.starts_with("nsg,in-health-454,")).unwrap();
    assert!(health.contains("does not list NSG among its networkFeatures"), "{health}");
    let ticket = std::fs::read_to_string(out.join("change-ticket.md")).unwrap();
    assert!(
        ticket.contains("Service tags written as addresses: `in-designer-454`, `in-health-454`"),
        "{ticket}"
    );
    // What is written is exactly the tag's IPv4 part, so the proof with the same file holds.
    let v = isenet(&[
        "verify",
        "--env",
        env.to_str().unwrap(),
        "--nsg",
        out.join("nsg.json").to_str().unwrap(),
    ]);
    assert_eq!(v.code, Some(0), "{}{}", v.stdout, v.stderr);
}

#[test]
fn a_tag_file_that_drops_the_nsg_feature_of_a_tag_moves_that_rule_to_prefixes_only() {
    let dir = tempdir("tag-features-public");
    let mut file = tag_file("ServiceTags_Public_20251028.json");
    for v in file["values"].as_array_mut().unwrap() {
        if v["name"] == "Sql" {
            v["properties"]["networkFeatures"] = serde_json::json!(["API", "UDR", "FW"]);
        }
    }
    let tags_path = dir.join("tags.json");
    std::fs::write(&tags_path, serde_json::to_string(&file).unwrap()).unwrap();
    let env = workspace().join("tests/envs/public-internal.json");
    let out = dir.join("out");
    let run = isenet(&[
        "compile",
        "-q",
        "--env",
        env.to_str().unwrap(),
        "--service-tags",
        tags_path.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
        "--only",
        "nsg",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let all = rules(&out.join("nsg.json"));
    let changed: BTreeSet<String> = all
        .iter()
        .filter(|r| !r["properties"]["destinationAddressPrefixes"].is_null())
        .filter(|r| prefixes(r, "destinationAddressPrefixes") == tags_of(&file)["Sql"].1)
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(changed, BTreeSet::from(["out-sql-1433".to_string()]));
    assert!(all.iter().all(|r| named_tags(r).iter().all(|t| t != "Sql")));
    assert!(
        all.iter().any(|r| r["properties"]["destinationAddressPrefix"] == "Storage"),
        "other tags stay tags"
    );
}
