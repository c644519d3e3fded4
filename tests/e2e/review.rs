//! The review exports end to end: `compile` writes review.csv (one row per NSG rule, route, firewall
//! rule and service endpoint, with provenance and proof status) and `requirements --format csv`
//! gives full addresses, the condition and the published reference. Expected values come from the
//! artifacts' own files, the embedded data and the seeds, not from the review itself.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn isenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isenet")).args(args).output().unwrap()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn golden_envs() -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("tests/golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p.join("env.json")))
        .collect();
    v.sort();
    v
}

/// Compiles `env` into a folder of its own for `test` (tests run in parallel: two sharing a folder
/// would replace each other's output mid-read).
fn compile(test: &str, name: &str, env: &Path) -> crate::common::Scratch {
    let out = crate::common::scratch("review", &format!("{test}-{name}"));
    let o = isenet(&["compile", "--env", env.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

type Record = std::collections::BTreeMap<String, String>;

fn csv_rows(text: &str) -> Vec<Record> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .map(|r| r.unwrap())
        .collect()
}

fn names_of(rows: &[Record], artifact: &str) -> BTreeSet<String> {
    rows.iter()
        .filter(|r| r["artifact"] == artifact)
        .map(|r| r["name"].clone())
        .collect()
}

#[test]
fn review_csv_has_one_row_per_generated_rule_route_firewall_rule_and_endpoint() {
    for (name, env) in golden_envs() {
        let out = compile("csv", &name, &env);
        let rows = csv_rows(&std::fs::read_to_string(out.join("review.csv")).unwrap());
        let nsg = json(&out.join("nsg.json"));
        let nsg_names: BTreeSet<String> = nsg["properties"]["securityRules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names_of(&rows, "nsg"), nsg_names, "{name}");
        let routes = json(&out.join("route-table.json"));
        let route_names: BTreeSet<String> = routes["properties"]["routes"]
            .as_array()
            .map(|a| a.iter().map(|r| r["name"].as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        assert_eq!(names_of(&rows, "route"), route_names, "{name}");
        let classic = json(&out.join("firewall-classic.json"));
        let mut fw_names = BTreeSet::new();
        for (key, kind) in [
            ("networkRuleCollections", "firewall-network"),
            ("applicationRuleCollections", "firewall-application"),
        ] {
            let want: BTreeSet<String> = classic[key]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|c| {
                    let cname = c["name"].as_str().unwrap().to_string();
                    c["properties"]["rules"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(move |r| format!("{cname}/{}", r["name"].as_str().unwrap()))
                })
                .collect();
            assert_eq!(names_of(&rows, kind), want, "{name} {kind}");
            fw_names.extend(want);
        }
        let subnets = json(&out.join("subnets.json"));
        let endpoints: usize = subnets["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["properties"]["serviceEndpoints"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(names_of(&rows, "service-endpoint").len(), endpoints, "{name}");
        assert_eq!(
            rows.len(),
            nsg_names.len() + route_names.len() + fw_names.len() + endpoints,
            "{name}"
        );

        for r in &rows {
            // A published reference a reviewer can open, never isenet's internal seed names.
            assert!(!r["reference"].contains("seed-"), "{name} {}: {}", r["name"], r["reference"]);
            assert!(
                r["url"].split(' ').all(|u| u.starts_with("https://learn.microsoft.com/")),
                "{name} {}",
                r["name"]
            );
            assert!(!r["proof"].is_empty() && !r["condition"].is_empty(), "{name} {}", r["name"]);
            // The compiled artifacts prove: nothing open beyond the requirements, no wrong hop.
            assert_eq!(r["proved"], "yes", "{name} {}: {}", r["name"], r["proof"]);
        }
        // Priorities and access as nsg.json has them.
        for rule in nsg["properties"]["securityRules"].as_array().unwrap() {
            let row = rows
                .iter()
                .find(|r| r["artifact"] == "nsg" && r["name"] == rule["name"].as_str().unwrap())
                .unwrap();
            assert_eq!(row["priority"], rule["properties"]["priority"].to_string());
            assert_eq!(row["access"], rule["properties"]["access"].as_str().unwrap());
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn review_csv_names_internet_exposure_conditions_and_government_substitutions() {
    let envs: std::collections::BTreeMap<String, PathBuf> = golden_envs().into_iter().collect();
    // External ISE without declared callers: the 443 rule admits the whole Internet (seed 002:
    // source Internet for an external ISE).
    let out = compile("conditions", "china", &envs["china-expressroute"]);
    let rows = csv_rows(&std::fs::read_to_string(out.join("review.csv")).unwrap());
    let row = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(row("in-triggers-443-external")["internet"], "yes: any Internet address");
    // Under forced tunneling its destination, VirtualNetwork in the table, is the address space.
    assert_eq!(
        row("in-triggers-443-external")["condition"],
        "external access endpoint; forced tunneling: VirtualNetwork would include 0.0.0.0/0, the address space is named instead"
    );
    assert_eq!(row("in-intersubnet")["internet"], "no");
    assert!(row("route-expressroute-default")["condition"].starts_with("ExpressRoute"));
    assert!(rows.iter().filter(|r| r["internet"].starts_with("yes")).count() == 1);

    // Government: LogicAppsManagement is replaced by the published Logic Apps inbound list of US
    // Gov Virginia (data/logicapps-ips.csv), written out in full.
    let out = compile("conditions", "gov", &envs["usgov-firewall"]);
    let rows = csv_rows(&std::fs::read_to_string(out.join("review.csv")).unwrap());
    let designer = rows.iter().find(|r| r["name"] == "in-designer-454").unwrap();
    let mut published: Vec<String> = csv_rows(&std::fs::read_to_string(root().join("data/logicapps-ips.csv")).unwrap())
        .into_iter()
        .filter(|r| r["cloud"] == "AzureUSGovernment" && r["region"] == "US Gov Virginia" && r["kind"] == "logicapps-inbound")
        .map(|r| r["prefix"].clone())
        .collect();
    published.sort_by_key(|p| p.parse::<ipnet::Ipv4Net>().unwrap());
    assert!(!published.is_empty());
    assert_eq!(designer["source"], published.join(" "));
    assert!(
        designer["condition"].contains("does not work in NSGs in Azure"),
        "{}",
        designer["condition"]
    );
    let ntp = rows
        .iter()
        .find(|r| r["name"] == "ise-network-dependencies/fw-net-ntp-123")
        .unwrap();
    assert!(
        ntp["url"].contains("app-service/environment/firewall-integration"),
        "{}",
        ntp["url"]
    );
    assert_eq!(ntp["condition"], "firewall mode");
}

#[test]
fn requirements_csv_gives_full_addresses_tag_counts_conditions_and_learn_references() {
    let o = isenet(&["requirements", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0));
    let rows = csv_rows(&String::from_utf8(o.stdout).unwrap());
    let storage: Value = serde_json::from_slice(&isenet(&["tags", "show", "Storage", "--format", "json"]).stdout).unwrap();
    let (v4, v6) = (&storage["tag"]["ipv4"]["count"], &storage["tag"]["ipv6"]["count"]);
    let row = rows.iter().find(|r| r["id"] == "out-storage-80-443-445").unwrap();
    assert_eq!(
        row["destination"],
        format!("Storage [service tag: {v4} IPv4 + {v6} IPv6 prefixes, change 375]")
    );
    // The example has custom DNS 10.10.0.4 (isenet example): the DNS row names it and its condition.
    let dns = rows.iter().find(|r| r["id"] == "out-dns-53").unwrap();
    assert_eq!(
        (dns["destination"].as_str(), dns["condition"].as_str()),
        ("10.10.0.4/32", "custom DNS")
    );
    for r in &rows {
        assert!(!r["reference"].contains("seed-"));
        assert_eq!(
            r["table_version"].is_empty(),
            r["reference"].contains("default security rules"),
            "{}",
            r["id"]
        );
        assert!(r["url"].starts_with("https://learn.microsoft.com/en-us/azure/"));
        assert!(
            !r["source"].contains("prefixes)"),
            "no `label (N prefixes)` shorthand: {}",
            r["source"]
        );
    }
    // --table-version picks the article that published that table (data/SOURCES.md).
    let o = isenet(&["requirements", "--format", "csv", "--table-version", "2021"]);
    let rows = csv_rows(&String::from_utf8(o.stdout).unwrap());
    let intersubnet = rows.iter().find(|r| r["id"] == "in-intersubnet").unwrap();
    assert_eq!(intersubnet["table_version"], "2021");
    assert_eq!(
        intersubnet["url"],
        "https://learn.microsoft.com/en-us/azure/logic-apps/connect-virtual-network-vnet-isolated-environment"
    );
}

/// The table and JSON cite the same published source as the CSV, never the model's own note of
/// where a row came from (`seed-002 ...`, `ise-ports-latest.csv: ...`), under each table version.
#[test]
fn requirements_table_and_json_cite_microsoft_learn_as_the_csv_does() {
    for version in [&[][..], &["--table-version", "2021"][..]] {
        let run = |format: &str| {
            let o = isenet(&[&["requirements", "--format", format][..], version].concat());
            assert_eq!(o.status.code(), Some(0));
            String::from_utf8(o.stdout).unwrap()
        };
        let csv = csv_rows(&run("csv"));
        let json: Value = serde_json::from_str(&run("json")).unwrap();
        let table = run("table");
        for (r, j) in csv.iter().zip(json.as_array().unwrap()) {
            assert_eq!(j["id"], r["id"].as_str());
            assert_eq!(j["reference"], r["reference"].as_str(), "{version:?}");
            assert_eq!(j["url"], r["url"].as_str());
            let line = table.lines().find(|l| l.starts_with(&format!("{} ", r["id"]))).unwrap();
            assert!(line.trim_end().ends_with(r["reference"].as_str()), "{line}");
        }
        for text in [&table, &json.to_string()] {
            assert!(!text.contains("seed-") && !text.contains(".csv"), "{version:?}: {text}");
        }
    }
}

#[test]
fn change_ticket_lists_every_change_with_its_reference_and_the_risks_of_the_environment() {
    for (name, env) in golden_envs() {
        let out = compile("ticket", &name, &env);
        let ticket = std::fs::read_to_string(out.join("change-ticket.md")).unwrap();
        let nsg = json(&out.join("nsg.json"));
        for rule in nsg["properties"]["securityRules"].as_array().unwrap() {
            let line = format!("| `{}` | {} |", rule["name"].as_str().unwrap(), rule["properties"]["priority"]);
            assert!(ticket.contains(&line), "{name}: no line for {line}");
        }
        assert_eq!(ticket.matches("```mermaid\nflowchart LR\n").count(), 1, "{name}");
        assert!(ticket.contains("isenet verify --env env.json --nsg deployed-nsg.json"), "{name}");
        assert!(ticket.contains("az network watcher test-ip-flow"), "{name}");
        assert!(ticket.contains("## Rollback"), "{name}");
        let env_doc = json(&env);
        let tunneled = env_doc["forcedTunneling"]["mode"].as_str().is_some_and(|m| m != "none");
        assert_eq!(ticket.contains("VirtualNetwork/UDR trap"), tunneled, "{name}");
        let gov = env_doc["cloud"] == "usgovernment";
        assert_eq!(ticket.contains("Government substitutions"), gov, "{name}");
        // An external ISE without callers admits the whole Internet on 443: the ticket says so.
        let open_443 = env_doc["accessEndpoint"] == "external" && env_doc["externalCallers"].as_array().is_none_or(Vec::is_empty);
        assert_eq!(
            ticket.contains("`in-triggers-443-external` admits **any Internet address**"),
            open_443,
            "{name}"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// The cells of a GFM table row: split at every `|` not escaped by a backslash (GFM splits cells
/// before reading code spans, so a `|` inside one splits it too).
fn gfm_cells(line: &str) -> Vec<String> {
    let inner = line.trim().strip_prefix('|').unwrap().strip_suffix('|').unwrap();
    let mut cells = vec![String::new()];
    let mut escaped = false;
    for c in inner.chars() {
        if c == '|' && !escaped {
            cells.push(String::new());
        } else {
            cells.last_mut().unwrap().push(c);
        }
        escaped = c == '\\' && !escaped;
    }
    cells
}

/// The contents of the CommonMark code spans of a cell's text (after GFM's `\|` unescaping): a
/// span opens at a backtick run and closes at the next run of the same length; one space is
/// stripped from both sides when both have one and the content is not all spaces.
fn code_spans(cell: &str) -> Vec<String> {
    let text: Vec<char> = cell.replace("\\|", "|").chars().collect();
    let run_at = |i: usize| text[i..].iter().take_while(|&&c| c == '`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if text[i] != '`' {
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let close = loop {
            if j >= text.len() {
                break None;
            }
            if text[j] == '`' {
                let m = run_at(j);
                if m == n {
                    break Some(j);
                }
                j += m;
            } else {
                j += 1;
            }
        };
        let Some(j) = close else {
            i += n;
            continue;
        };
        let mut content: String = text[i + n..j].iter().collect();
        if content.len() >= 2 && content.starts_with(' ') && content.ends_with(' ') && content.trim() != "" {
            content = content[1..content.len() - 1].to_string();
        }
        spans.push(content);
        i = j + n;
    }
    spans
}

#[test]
fn change_ticket_tables_keep_their_cells_when_names_hold_pipes_and_backticks() {
    // Subnet names may hold `|` and backticks (only < > % & \ ? / are refused).
    let names = ["app|db", "a`b|c", "_`x`", "d``e|`"];
    let mut env = json(&root().join("tests/golden/public-internal/env.json"));
    for (subnet, name) in env["subnets"].as_array_mut().unwrap().iter_mut().zip(names) {
        subnet["name"] = name.into();
    }
    let dir = crate::common::scratch("review", "ticket-pipes");
    let env_path = dir.join("env.json");
    std::fs::write(&env_path, env.to_string()).unwrap();
    let out = compile("ticket-pipes", "env", &env_path);
    let ticket = std::fs::read_to_string(out.join("change-ticket.md")).unwrap();
    // Every row of every table has its header's cell count.
    let mut header: Option<usize> = None;
    let mut tables = 0;
    for line in ticket.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let n = gfm_cells(line).len();
        match header {
            None => {
                header = Some(n);
                tables += 1;
            }
            Some(h) => assert_eq!(n, h, "row splits differently from its header: {line}"),
        }
    }
    assert!(tables >= 2, "{ticket}");
    // The subnets' cell holds each name, whole, as a code span (subnets in name order).
    let row = ticket.lines().find(|l| l.starts_with("| ISE subnets |")).unwrap();
    let cells = gfm_cells(row);
    let mut sorted = names;
    sorted.sort_unstable();
    assert_eq!(code_spans(&cells[1]), sorted, "{row}");
    // NSG rule rows: the first cell's code span is the rule's name in nsg.json.
    let nsg = json(&out.join("nsg.json"));
    for rule in nsg["properties"]["securityRules"].as_array().unwrap() {
        let name = rule["name"].as_str().unwrap();
        assert!(
            ticket.lines().any(|l| l.starts_with('|') && code_spans(&gfm_cells(l)[0]) == [name]),
            "no row for {name}"
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every `attr="..."` value in `text`.
fn attribute_values<'t>(text: &'t str, attr: &str) -> Vec<&'t str> {
    let needle = format!(" {attr}=\"");
    text.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &text[at + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn diagram_ids_are_valid_unique_and_every_flow_ends_at_a_node() {
    // HTML and SVG ids: unique in the page; Mermaid node ids: letters and digits. Each flow's
    // `data-from`/`data-to` names a node of the drawing.
    for (name, env) in golden_envs() {
        let out = compile("ids", &name, &env);
        for file in ["review.html", "flows.svg"] {
            let text = std::fs::read_to_string(out.join(file)).unwrap();
            let ids = attribute_values(&text, "id");
            let unique: BTreeSet<&str> = ids.iter().copied().collect();
            assert_eq!(unique.len(), ids.len(), "{name}/{file}: an id twice in {ids:?}");
            for id in &ids {
                assert!(
                    id.starts_with(|c: char| c.is_ascii_alphabetic()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                    "{name}/{file}: id `{id}`"
                );
            }
            for end in attribute_values(&text, "data-from")
                .into_iter()
                .chain(attribute_values(&text, "data-to"))
            {
                assert!(unique.contains(end), "{name}/{file}: a flow ends at `{end}`, no node");
            }
        }
        let ticket = std::fs::read_to_string(out.join("change-ticket.md")).unwrap();
        let mermaid = ticket.split("```mermaid\n").nth(1).and_then(|m| m.split("```").next()).unwrap();
        for line in mermaid
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| l.contains("[\"") && !l.starts_with("subgraph"))
        {
            let id = line.split("[\"").next().unwrap();
            assert!(
                id.chars().all(|c| c.is_ascii_alphanumeric()) && id != "end",
                "{name}: Mermaid id `{id}`"
            );
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// The review agrees with the verifier: where `verify` of the compiled artifacts passes, every
/// row of review.csv is proved `yes` and review.html marks none unproved. Over every named
/// environment and two whose destination rules other rules decide around: the restricted outbound
/// policy's 443 to the Internet (`out-cert-verify-80-443`) decides a destination's 443 first,
/// in the NSG and, in firewall mode, in the firewall.
#[test]
fn every_row_is_proved_where_verify_passes() {
    let dir = crate::common::scratch("review", "proved-where-verify-passes");
    let mut envs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/envs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    envs.sort();
    let example: Value = serde_json::from_slice(&isenet(&["example"]).stdout).unwrap();
    for (name, firewall) in [("restricted-443", false), ("restricted-443-firewall", true)] {
        let mut e = example.clone();
        e["outboundPolicy"] = "restricted".into();
        e["outboundDestinations"] = serde_json::json!([{"name": "api", "prefixes": ["8.8.8.8"], "protocol": "Tcp", "ports": ["443"]}]);
        if firewall {
            e["forcedTunneling"] = serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.0.5"});
        }
        let p = dir.join(format!("{name}.json"));
        std::fs::write(&p, e.to_string()).unwrap();
        envs.push(p);
    }
    let mut checked = Vec::new();
    for env in envs {
        let name = env.file_stem().unwrap().to_string_lossy().into_owned();
        let out = dir.join(format!("out-{name}"));
        let o = isenet(&["compile", "--env", env.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let verified = isenet(&["verify", "--env", env.to_str().unwrap(), "-q"]);
        if verified.status.code() != Some(0) {
            continue;
        }
        let rows = csv_rows(&std::fs::read_to_string(out.join("review.csv")).unwrap());
        let unproved: Vec<(&String, &String)> = rows
            .iter()
            .filter(|r| r["proved"] != "yes")
            .map(|r| (&r["name"], &r["proof"]))
            .collect();
        assert!(unproved.is_empty(), "{name}: verify passes, the review says {unproved:?}");
        let html = std::fs::read_to_string(out.join("review.html")).unwrap();
        assert!(!html.contains("class=\"unproved\""), "{name}");
        checked.push(name);
    }
    for name in ["restricted-443", "restricted-443-firewall", "public-internal"] {
        assert!(checked.iter().any(|c| c == name), "{name} verifies: {checked:?}");
    }
}
