//! The environment file's JSON Schema (schemas/environment.schema.json): `isenet schema` prints it
//! unchanged, it is a valid draft 2020-12 schema, it accepts the example and every good environment
//! (tests/envs/), refuses every catalogue file whose broken rule it can express, and accepts the
//! ones it cannot (so the manifest's `schema` column stays honest).

use crate::common::{self, isenet, manifest, SchemaExpectation};
use ise_model::cloud::CloudId;
use serde_json::Value;

fn schema_text() -> String {
    std::fs::read_to_string(common::schema_path()).expect("schemas/environment.schema.json")
}

fn schema() -> Value {
    serde_json::from_str(&schema_text()).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema()).unwrap_or_else(|e| panic!("the schema does not compile: {e}"))
}

/// The schema's complaints about `instance`, one line each.
fn schema_errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn schema_command_prints_the_schema_file_byte_for_byte() {
    let run = isenet(&["schema"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout.as_bytes(),
        schema_text().as_bytes(),
        "`isenet schema` differs from schemas/environment.schema.json"
    );
    let printed: Value = serde_json::from_str(&run.stdout).expect("`isenet schema` prints JSON");
    assert_eq!(printed["$schema"], "https://json-schema.org/draft/2020-12/schema");
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    if let Err(e) = jsonschema::draft202012::meta::validate(&s) {
        panic!("the schema breaks the draft 2020-12 meta-schema: {e}");
    }
    // Compiling also checks every pattern is a valid regular expression.
    validator();
    // The check above can fail: a schema with a wrongly typed keyword is refused.
    let mut broken = s.clone();
    broken["properties"]["subnets"]["minItems"] = "four".into();
    assert!(jsonschema::draft202012::meta::validate(&broken).is_err());
}

#[test]
fn schema_enums_match_the_validator() {
    let s = schema();
    let clouds: Vec<&str> = s["properties"]["cloud"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(clouds, CloudId::NAMES);
}

#[test]
fn the_embedded_example_validates() {
    let run = isenet(&["example"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let example = run.json();
    let errors = schema_errors(&validator(), &example);
    assert!(errors.is_empty(), "the example breaks the schema:\n{}", errors.join("\n"));
    let checked = isenet(&["--deny-warnings", "validate", "--format", "json"]);
    assert_eq!(checked.code, Some(0), "{}", checked.stdout);
}

#[test]
fn every_good_environment_passes_the_schema_and_the_validator() {
    let files = common::json_files(&common::envs_dir());
    assert!(files.len() >= 8, "tests/envs needs at least 8 environments, has {}", files.len());
    let v = validator();
    let mut problems = Vec::new();
    let mut docs = Vec::new();
    for file in &files {
        let name = common::file_name(file);
        let text = std::fs::read_to_string(file).expect("fixture");
        let doc: Value = match serde_json::from_str(&text) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{name}: not JSON: {e}"));
                continue;
            }
        };
        for e in schema_errors(&v, &doc) {
            problems.push(format!("{name}: schema: {e}"));
        }
        let passed = file.display().to_string();
        let run = isenet(&["--deny-warnings", "validate", "--env", &passed, "--format", "json"]);
        let report = run.json();
        if run.code != Some(0) || !report["diagnostics"].as_array().is_some_and(Vec::is_empty) {
            problems.push(format!("{name}: isenet validate exit {:?}: {report}", run.code));
        }
        let text_run = isenet(&["validate", "--env", &passed]);
        if text_run.code != Some(0) || text_run.stdout.trim() != format!("{passed}: valid") || !text_run.stderr.is_empty() {
            problems.push(format!("{name}: text mode: {:?}", text_run));
        }
        let loaded = match common::load_within_deadline(&text, &name) {
            Ok(l) => l,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if loaded.env.is_none() || !loaded.diagnostics.is_empty() {
            problems.push(format!("{name}: ise_model::env::load: {:?}", loaded.diagnostics));
        }
        docs.push((name, doc));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The environments cover what users run: each kind below appears at least once.
    let has = |what: &str, pred: &dyn Fn(&Value) -> bool| {
        assert!(docs.iter().any(|(_, d)| pred(d)), "no good environment with {what}");
    };
    let s = |d: &Value, k: &str| d[k].as_str().map(str::to_string);
    let len = |d: &Value, k: &str| d[k].as_array().map_or(0, Vec::len);
    has("a public internal ISE", &|d| {
        matches!(s(d, "cloud").as_deref(), None | Some("public")) && matches!(s(d, "accessEndpoint").as_deref(), None | Some("internal"))
    });
    has("a public external ISE with externalCallers", &|d| {
        s(d, "accessEndpoint").as_deref() == Some("external") && len(d, "externalCallers") > 0
    });
    has("US Government in usgovvirginia", &|d| {
        s(d, "cloud").as_deref() == Some("usgovernment") && s(d, "location").as_deref() == Some("usgovvirginia")
    });
    has("China in chinanorth2", &|d| {
        s(d, "cloud").as_deref() == Some("china") && s(d, "location").as_deref() == Some("chinanorth2")
    });
    has("expressRoute tunneling", &|d| d["forcedTunneling"]["mode"] == "expressRoute");
    has("firewall tunneling with firewallPrivateIp", &|d| {
        d["forcedTunneling"]["mode"] == "firewall" && d["forcedTunneling"]["firewallPrivateIp"].is_string()
    });
    has("a restricted outbound policy with several destinations", &|d| {
        s(d, "outboundPolicy").as_deref() == Some("restricted") && len(d, "outboundDestinations") >= 3
    });
    has("the Developer SKU", &|d| d["sku"]["name"] == "Developer");
    has("a display-form location", &|d| s(d, "location").is_some_and(|l| l.contains(' ')));
    has("internalCallers", &|d| len(d, "internalCallers") > 0);
}

#[test]
fn catalogue_files_are_refused_by_the_schema_exactly_where_it_can_express_the_rule() {
    let v = validator();
    let rows = manifest();
    assert!(
        rows.iter().filter(|r| r.schema == SchemaExpectation::Refuse).count() >= 30,
        "most rules are expressible in the schema"
    );
    let mut problems = Vec::new();
    for row in &rows {
        let text = std::fs::read_to_string(row.path()).expect("fixture");
        let loaded = match common::load_within_deadline(&text, &row.file) {
            Ok(l) => l,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        // What `validate` refuses: the loader's errors, then the limits of the plan compile builds.
        let plan_refuses = loaded.env.as_ref().is_some_and(|env| {
            let tags = ise_model::servicetags::ServiceTags::embedded(env.cloud);
            rules_compiler::plan::build(env, tags, None).is_err()
        });
        let validator_refuses = loaded.diagnostics.iter().any(|d| d.is_error()) || plan_refuses;
        let doc: Option<Value> = serde_json::from_str(ise_model::jsondoc::strip_bom(&text)).ok();
        match (row.schema, &doc) {
            (SchemaExpectation::Refuse, None) => problems.push(format!("{}: `refuse`, but the file is not JSON: mark it n/a", row.file)),
            (SchemaExpectation::Refuse, Some(doc)) => {
                if v.is_valid(doc) {
                    problems.push(format!(
                        "{}: the schema accepts it, but it breaks a rule the schema can express",
                        row.file
                    ));
                }
                if !validator_refuses {
                    problems.push(format!("{}: the validator accepts it: {:?}", row.file, loaded.diagnostics));
                }
            }
            // The schema cannot see these problems (overlaps, locations, certificate content,
            // warnings): it must accept the file, else the manifest should say `refuse`.
            (SchemaExpectation::NotApplicable, Some(doc)) => {
                let errors = schema_errors(&v, doc);
                if !errors.is_empty() {
                    problems.push(format!(
                        "{}: `n/a`, but the schema refuses it (mark it refuse?):\n    {}",
                        row.file,
                        errors.join("\n    ")
                    ));
                }
            }
            (SchemaExpectation::NotApplicable, None) => {
                if !validator_refuses {
                    problems.push(format!("{}: not JSON, yet the validator accepts it", row.file));
                }
            }
        }
        if row.has_errors() != validator_refuses {
            problems.push(format!(
                "{}: the validator's verdict ({validator_refuses}) differs from the manifest",
                row.file
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What both sides must do with one edited example.
enum Verdict {
    Accept,
    /// Refused by the schema, and by validate with this code and a message containing this text.
    Refuse(&'static str, &'static str),
}

/// Numbers, port texts and subnet names where validate and the schema once disagreed (or could): JSON Schema 2020-12
/// counts `1.0`, `1e0` and `-0` as integers, and the schema's port pattern has no room for spaces.
/// Each case is checked on both sides.
#[test]
fn validate_and_the_schema_agree_on_whole_numbers_and_port_text() {
    use Verdict::*;
    let example = ise_model::data::EXAMPLE_ENVIRONMENT;
    let capacity = |raw: &str| example.replace("\"capacity\": 1", &format!("\"capacity\": {raw}"));
    let ports = |raw: &str| example.replace("\"ports\": [\"22\"]", &format!("\"ports\": [{raw}]"));
    let firewall_ports = |raw: &str| {
        ports(raw).replace(
            "\"forcedTunneling\": { \"mode\": \"none\" }",
            "\"forcedTunneling\": { \"mode\": \"firewall\", \"firewallPrivateIp\": \"10.10.0.4\" }",
        )
    };
    let subnet = |raw: &str| example.replace("\"name\": \"ise-2\"", &format!("\"name\": {raw}"));
    let cases: Vec<(String, String, Verdict)> = vec![
        // A line break in a subnet name would end the change ticket's code blocks.
        (
            "subnet name with a line break".into(),
            subnet(r#""ise\n```\n# hidden""#),
            Refuse("E0207", "the control character U+000A"),
        ),
        (
            "subnet name with a tab".into(),
            subnet(r#""ise\t2""#),
            Refuse("E0207", "the control character U+0009"),
        ),
        ("subnet name with a space".into(), subnet(r#""ise 2""#), Accept),
        ("capacity 1.0".into(), capacity("1.0"), Accept),
        ("capacity 1e0".into(), capacity("1e0"), Accept),
        ("capacity 10.000".into(), capacity("10.000"), Accept),
        ("capacity -0".into(), capacity("-0"), Accept),
        (
            "capacity 1.5".into(),
            capacity("1.5"),
            Refuse("E0102", "expected a whole number, found 1.5"),
        ),
        (
            "capacity \"1\"".into(),
            capacity("\"1\""),
            Refuse("E0102", "expected a whole number, found a string"),
        ),
        ("capacity 11".into(), capacity("11"), Refuse("E0110", "capacity 11 is outside 0-10")),
        (
            "capacity 11.0".into(),
            capacity("11.0"),
            Refuse("E0110", "capacity 11 is outside 0-10"),
        ),
        ("capacity -1".into(), capacity("-1"), Refuse("E0110", "capacity -1 is outside 0-10")),
        // Past 2^53 a float is no longer the integer written: the message shows the number, not
        // i128::MAX (1e308) or a rounding artefact (10^30).
        (
            "capacity 1e308".into(),
            capacity("1e308"),
            Refuse("E0110", "capacity 1e+308 is outside 0-10"),
        ),
        (
            "capacity 10^30".into(),
            capacity("1000000000000000000000000000000"),
            Refuse("E0110", "capacity 1e+30 is outside 0-10"),
        ),
        ("port 443.0".into(), ports("443.0"), Accept),
        ("port 1e2".into(), ports("1e2"), Accept),
        ("port 443.5".into(), ports("443.5"), Refuse("E0601", "`443.5` is not a port number")),
        (
            "port 70000.0".into(),
            ports("70000.0"),
            Refuse("E0601", "port 70000 is outside 0-65535"),
        ),
        (
            "port 1e308".into(),
            ports("1e308"),
            Refuse("E0601", "`1e+308` is not a port number"),
        ),
        ("port \" 80\"".into(), ports("\" 80\""), Refuse("E0601", "contains whitespace")),
        ("port \"80 \"".into(), ports("\"80 \""), Refuse("E0601", "contains whitespace")),
        (
            "port \"80- 90\"".into(),
            ports("\"80- 90\""),
            Refuse("E0601", "contains whitespace"),
        ),
        (
            "port \"80 -90\"".into(),
            ports("\"80 -90\""),
            Refuse("E0601", "contains whitespace"),
        ),
        ("port \"80-90\"".into(), ports("\"80-90\""), Accept),
        ("port 0 outside firewall mode".into(), ports("\"0\""), Accept),
        (
            "port 0 in firewall mode".into(),
            firewall_ports("\"0\""),
            Refuse("E0601", "Azure Firewall's ports 1-65535"),
        ),
        (
            "port -0 in firewall mode".into(),
            firewall_ports("-0"),
            Refuse("E0601", "Azure Firewall's ports 1-65535"),
        ),
        (
            "port \"0-80\" in firewall mode".into(),
            firewall_ports("\"0-80\""),
            Refuse("E0601", "Azure Firewall's ports 1-65535"),
        ),
        ("port \"1-80\" in firewall mode".into(), firewall_ports("\"1-80\""), Accept),
    ];
    let v = validator();
    let dir = super::pipeline::tempdir("schema-agreement");
    let mut problems = Vec::new();
    for (label, text, verdict) in &cases {
        assert_ne!(text, example, "{label}: the edit did not apply");
        let doc: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{label}: {e}"));
        let schema_accepts = v.is_valid(&doc);
        let file = dir.join("env.json");
        std::fs::write(&file, text).unwrap();
        let run = isenet(&["validate", "--env", file.to_str().unwrap(), "--format", "json"]);
        let diags = run.json()["diagnostics"].as_array().cloned().unwrap_or_default();
        let found: Vec<(String, String)> = diags
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap_or("").to_string(),
                    d["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        match verdict {
            Accept => {
                if !schema_accepts {
                    problems.push(format!("{label}: the schema refuses it: {:?}", schema_errors(&v, &doc)));
                }
                if run.code != Some(0) || !found.is_empty() {
                    problems.push(format!("{label}: validate exit {:?}: {found:?}", run.code));
                }
            }
            Refuse(code, message) => {
                if schema_accepts {
                    problems.push(format!("{label}: the schema accepts it"));
                }
                let expected = found.len() == 1 && found[0].0 == *code && found[0].1.contains(message);
                if run.code != Some(2) || !expected {
                    problems.push(format!(
                        "{label}: validate exit {:?}: {found:?}, expected one {code} saying `{message}`",
                        run.code
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
