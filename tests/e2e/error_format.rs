//! `--error-format json` on every path, and a `--format json` report on bad input: stdout is one
//! JSON document holding every diagnostic (`errors`, `warnings`, `diagnostics`), never empty and
//! never a text table, whether the run takes one environment or several.

use super::common::{isenet, workspace, Run};
use super::pipeline::tempdir;
use crate::common::Scratch;
use ise_model::codes::{E_DEPLOYED_KIND, E_ENUM, E_FLEET_ONE_FILE, E_NSG_FILE, E_SYNTAX, E_TAGS_SYNTAX, E_TAG_UNKNOWN, E_USAGE_UNKNOWN};
use serde_json::Value;
use std::path::{Path, PathBuf};

const EXAMPLE: &str = "data/example-environment.json";
const TAGS: &str = "data/servicetags/ServiceTags_Public_20251028.json";
const OLD_TAGS: &str = "tests/fixtures/ServiceTags_Public_20240506.json";

/// An empty file (not JSON: `E0002` as an environment) and the example environment with its cloud
/// spelt `Public` (the clouds are lower case: `E0104` at `cloud`), named `bad`.
fn inputs(name: &str) -> (Scratch, PathBuf, PathBuf) {
    let dir = tempdir(name);
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let example = std::fs::read_to_string(workspace().join(EXAMPLE)).unwrap();
    let mut env: Value = serde_json::from_str(&example).unwrap();
    env["cloud"] = "Public".into();
    env["name"] = "bad".into();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, serde_json::to_string_pretty(&env).unwrap()).unwrap();
    (dir, empty, bad)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The run exited 2 and its stdout is one JSON document whose top-level `diagnostics` are exactly
/// `expected` (code, file), with `errors` counting them; the document.
fn refused_with(run: &Run, expected: &[(&str, &str)]) -> Value {
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let found: Vec<(String, String)> = doc["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("no top-level diagnostics: {doc}"))
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["file"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> = expected.iter().map(|(c, f)| (c.to_string(), f.to_string())).collect();
    assert_eq!(found, expected, "{doc}");
    assert_eq!(doc["errors"].as_u64(), Some(expected.len() as u64), "{doc}");
    doc
}

#[test]
fn a_json_report_of_one_environment_still_prints_json_on_bad_input() {
    let (_dir, empty, bad) = inputs("json-report-bad-input");
    let (empty, bad) = (s(&empty), s(&bad));
    // validate's report is its diagnostics: --error-format json asks for it as JSON too.
    let doc = refused_with(&isenet(&["validate", "--env", bad, "--error-format", "json"]), &[(E_ENUM, bad)]);
    assert_eq!(doc["diagnostics"][0]["path"], "cloud");
    let cases: &[(&[&str], &str, &str)] = &[
        (&["verify", "--env", EXAMPLE, "--nsg", empty, "--format", "json"], E_NSG_FILE, empty),
        (
            &[
                "explain",
                "--env",
                empty,
                "--from",
                "10.10.1.5",
                "--to",
                "Storage",
                "--port",
                "443",
                "--format",
                "json",
            ],
            E_SYNTAX,
            empty,
        ),
        (&["requirements", "--env", empty, "--format", "json"], E_SYNTAX, empty),
        (&["tags", "diff", empty, TAGS, "--format", "json"], E_TAGS_SYNTAX, empty),
        (&["diff", "--deployed", empty, "--format", "json"], E_DEPLOYED_KIND, empty),
        (
            &["tags", "show", "NoSuchTag", "--format", "json"],
            E_TAG_UNKNOWN,
            "<embedded public service tags>",
        ),
        (&["verify", "--format", "json", "--no-such-flag"], E_USAGE_UNKNOWN, "<command line>"),
    ];
    for (args, code, file) in cases {
        refused_with(&isenet(args), &[(code, file)]);
    }
}

#[test]
fn every_fleet_path_honours_the_error_format_with_one_json_document() {
    let (_dir, empty, bad) = inputs("json-errors-fleet");
    let (empty, bad) = (s(&empty), s(&bad));
    let results = |doc: &Value| -> Vec<String> {
        doc["environments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["result"].as_str().unwrap().to_string())
            .collect()
    };

    let run = isenet(&["validate", bad, EXAMPLE, "--error-format", "json"]);
    let doc = refused_with(&run, &[(E_ENUM, bad)]);
    assert_eq!(results(&doc), ["invalid", "valid"]);

    let run = isenet(&["verify", EXAMPLE, empty, "--error-format", "json"]);
    let doc = refused_with(&run, &[(E_SYNTAX, empty)]);
    assert_eq!(results(&doc), ["ok", "bad input"], "the proved environment keeps its result");
    assert!(!run.stderr.contains("environment(s)"), "no text table anywhere: {}", run.stderr);

    // The JSON report holds them at its top level without --error-format as well.
    let doc = refused_with(&isenet(&["verify", EXAMPLE, empty, "--format", "json"]), &[(E_SYNTAX, empty)]);
    assert_eq!(doc["environments"][1]["diagnostics"][0]["code"], E_SYNTAX);

    let run = isenet(&[
        "tags",
        "diff",
        OLD_TAGS,
        TAGS,
        "--env",
        EXAMPLE,
        "--env",
        empty,
        "--error-format",
        "json",
    ]);
    let doc = refused_with(&run, &[(E_SYNTAX, empty)]);
    assert_eq!(results(&doc).len(), 2);
    assert_eq!(results(&doc)[1], "invalid");

    // Refused before any environment is loaded: the same document.
    let run = isenet(&["verify", EXAMPLE, bad, "--nsg", empty, "--format", "json"]);
    refused_with(&run, &[(E_FLEET_ONE_FILE, "<command line>")]);
    let out_dir = tempdir("json-errors-fleet-out");
    let out = out_dir.join("out");
    let run = isenet(&["compile", EXAMPLE, bad, "--out-dir", s(&out), "--error-format", "json"]);
    refused_with(&run, &[(E_ENUM, bad)]);
}

/// A successful compile with `--error-format json`: stdout is the diagnostics' one document, with
/// or without warnings, and the human summary goes to stderr. With `--stdout`, stdout is the
/// artifact and the warnings still reach stderr.
#[test]
fn a_successful_compile_keeps_stdout_to_its_json_document() {
    let dir = tempdir("compile-json-ok");
    let warned = workspace().join("tests/bad-inputs/046-subnet-larger-than-27-warning.json");
    for (env, warnings) in [(workspace().join(EXAMPLE), 0), (warned.clone(), 1)] {
        let out = dir.join(format!("out-{warnings}"));
        let run = isenet(&["--error-format", "json", "compile", "--env", s(&env), "--out-dir", s(&out)]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let doc = run.json();
        assert_eq!(doc["warnings"], warnings, "{}", run.stdout);
        assert_eq!(doc["errors"], 0);
        assert!(run.stderr.contains("compiled ") && run.stderr.contains("proof: "), "{}", run.stderr);
    }
    let run = isenet(&["compile", "--env", s(&warned), "--only", "nsg", "--stdout"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let nsg: Value = serde_json::from_str(&run.stdout).expect("stdout is nsg.json");
    assert_eq!(nsg["type"], "Microsoft.Network/networkSecurityGroups");
    assert!(run.stderr.contains("warning[W0203]"), "{}", run.stderr);
}

/// `verify --error-format json`: stdout is the JSON report whether or not the environment has
/// warnings (it switched from text to JSON on the first warning), so a pipeline parses every run;
/// `explain` answers in JSON too, and no longer drops the environment's warnings.
#[test]
fn verify_and_explain_under_json_errors_print_their_json_reports_with_or_without_warnings() {
    let dir = tempdir("verify-json-always");
    let out = dir.join("out");
    assert_eq!(isenet(&["compile", "--only", "nsg", "--out-dir", s(&out)]).code, Some(0));
    let nsg = out.join("nsg.json");
    let warned = workspace().join("tests/bad-inputs/046-subnet-larger-than-27-warning.json");
    for (env, warnings) in [(workspace().join(EXAMPLE), 0), (warned, 1)] {
        let run = isenet(&["--error-format", "json", "verify", "--env", s(&env), "--nsg", s(&nsg)]);
        let doc = run.json();
        assert!(doc["proofs"].is_array(), "{}", run.stdout);
        assert_eq!(doc["warnings"], warnings, "{}", run.stdout);
        // explain likewise: its JSON answer, the environment's warnings on stderr as text.
        let run = isenet(&[
            "--error-format",
            "json",
            "explain",
            "--env",
            s(&env),
            "--from",
            "10.10.1.5",
            "--to",
            "Storage",
            "--port",
            "443",
        ]);
        assert_eq!(run.json()["to"], "Storage", "{}", run.stdout);
        assert_eq!(run.stderr.contains("warning[W0203]"), warnings == 1, "{}", run.stderr);
    }
}
