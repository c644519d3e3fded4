//! The review files for `compile --expand-tags`: review.csv, change-ticket.md and review.html list
//! the expanded NSG exactly as nsg.json writes it (its `-v6` rules and split rules included, with
//! their own priorities and prefixes), for every named environment.

use super::common::{isenet, workspace};
use super::pipeline::tempdir;
use serde_json::Value;
use std::collections::BTreeSet;

/// The prefixes or tag of one side of a rule as nsg.json writes it.
fn side(props: &Value, side: &str) -> BTreeSet<String> {
    match props[format!("{side}AddressPrefixes")].as_array().filter(|a| !a.is_empty()) {
        Some(list) => list.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        None => BTreeSet::from([props[format!("{side}AddressPrefix")].as_str().unwrap().to_string()]),
    }
}

/// A review.csv address cell: prefixes in full, or a tag with its note (`Storage [service tag: ...]`).
fn cell_addresses(cell: &str) -> BTreeSet<String> {
    match cell.split_once(" [") {
        Some((tag, _)) => BTreeSet::from([tag.to_string()]),
        None => cell.split(' ').map(str::to_string).collect(),
    }
}

#[test]
fn review_files_list_the_expanded_nsg_rule_for_rule() {
    let dir = tempdir("review-expanded");
    let mut envs: Vec<_> = std::fs::read_dir(workspace().join("tests/golden"))
        .unwrap()
        .map(|e| e.unwrap().path().join("env.json"))
        .collect();
    envs.sort();
    assert!(!envs.is_empty());
    for env in envs {
        let name = env.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        let out = dir.join(&name);
        let o = isenet(&[
            "compile",
            "--expand-tags",
            "--env",
            env.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.code, Some(0), "{name}: {}", o.stderr);
        let nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
        let rules = nsg["properties"]["securityRules"].as_array().unwrap();
        let csv_text = std::fs::read_to_string(out.join("review.csv")).unwrap();
        let rows: Vec<std::collections::BTreeMap<String, String>> = csv::Reader::from_reader(csv_text.as_bytes())
            .deserialize()
            .map(Result::unwrap)
            .filter(|r: &std::collections::BTreeMap<String, String>| r["artifact"] == "nsg")
            .collect();
        assert_eq!(rows.len(), rules.len(), "{name}: one review.csv row per rule of nsg.json");
        let ticket = std::fs::read_to_string(out.join("change-ticket.md")).unwrap();
        let html = std::fs::read_to_string(out.join("review.html")).unwrap();
        assert_eq!(
            html.matches("data-artifact=\"nsg\"").count(),
            rules.len(),
            "{name}: review.html rows"
        );
        for rule in rules {
            let (rule_name, props) = (rule["name"].as_str().unwrap(), &rule["properties"]);
            let row = rows
                .iter()
                .find(|r| r["name"] == rule_name)
                .unwrap_or_else(|| panic!("{name}: {rule_name}"));
            assert_eq!(row["priority"], props["priority"].to_string(), "{name} {rule_name}");
            assert_eq!(row["direction"], props["direction"].as_str().unwrap());
            assert_eq!(row["access"], props["access"].as_str().unwrap());
            assert_eq!(cell_addresses(&row["source"]), side(props, "source"), "{name} {rule_name}");
            assert_eq!(
                cell_addresses(&row["destination"]),
                side(props, "destination"),
                "{name} {rule_name}"
            );
            let line = format!("| `{rule_name}` | {} |", props["priority"]);
            assert!(ticket.contains(&line), "{name}: change-ticket.md has no line {line}");
            let cells = format!("<td>{rule_name}</td><td>{}</td>", props["priority"]);
            assert!(html.contains(&cells), "{name}: review.html has no row {cells}");
        }
        // --expand-tags writes prefixes where the tags were: some rule of every environment lists them.
        let listed = |r: &Value, side: &str| {
            r["properties"][format!("{side}AddressPrefixes")]
                .as_array()
                .is_some_and(|a| a.len() > 1)
        };
        assert!(rules.iter().any(|r| listed(r, "source") || listed(r, "destination")), "{name}");
    }
}
