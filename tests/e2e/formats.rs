//! `verify --format sarif|junit|github|azure-devops`: each written from the same findings, SARIF
//! validated against the SARIF 2.1.0 schema (the copy serde-sarif ships, in tests/fixtures).

use super::common::{isenet, workspace};
use super::pipeline::tempdir;
use serde_json::{json, Value};
use std::path::Path;

const ENV: &str = "data/example-environment.json";

/// The example's compiled NSG with one requirement's rule deleted (`in-apim-mgmt-3443` uncovered)
/// and RDP opened to the Internet (`allow-rdp`), pretty-printed; its path relative to the
/// workspace, and the line and column where the rule's `"name": "allow-rdp"` starts, found here by
/// reading the file.
fn broken_nsg(dir: &Path) -> (String, usize, usize) {
    let out = dir.join("out");
    assert_eq!(isenet(&["compile", "--env", ENV, "--out-dir", out.to_str().unwrap()]).code, Some(0));
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    rules.retain(|r| r["name"] != "in-apim-mgmt-3443");
    rules.push(json!({"name": "allow-rdp", "properties": {
        "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "Internet",
        "destinationAddressPrefix": "*", "access": "Allow", "priority": 300, "direction": "Inbound"}}));
    let text = serde_json::to_string_pretty(&nsg).unwrap();
    let path = dir.join("broken-nsg.json");
    std::fs::write(&path, &text).unwrap();
    // Findings point where the rule's object starts: pretty-printed, the `{` on the line above its
    // name (lines and columns count from 1).
    let lines: Vec<&str> = text.lines().collect();
    let name_line = lines.iter().position(|l| l.contains("\"name\": \"allow-rdp\"")).unwrap();
    let column = lines[name_line - 1].find('{').unwrap() + 1;
    (path.to_str().unwrap().to_string(), name_line, column)
}

fn verify(nsg: &str, format: &str) -> super::common::Run {
    let run = isenet(&["verify", "--env", ENV, "--nsg", nsg, "--format", format]);
    assert_eq!(run.code, Some(1), "{format}: findings exit 1\n{}", run.stderr);
    run
}

/// The SARIF URI of a file: relative to the working directory (the workspace) when under it, else
/// a `file://` URI.
fn sarif_uri(path: &str) -> String {
    Path::new(path)
        .strip_prefix(workspace())
        .map_or(format!("file://{path}"), |p| p.to_string_lossy().into_owned())
}

/// The errors of a SARIF document against the SARIF 2.1.0 schema (none when valid).
pub(super) fn sarif_errors(doc: &Value) -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join("tests/fixtures/sarif-schema-2.1.0.json")).unwrap();
    // The published schema's `language` pattern (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`) has a
    // stray `]` that fails the draft-7 meta-schema's `regex` check; it is read as the intended
    // `xx` or `xx-XX` (isenet never writes `language`), the rest of the schema is used as shipped.
    let broken = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(broken), "the schema copy changed: revisit this patch");
    let schema: Value = serde_json::from_str(&text.replace(broken, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#)).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn sarif_is_valid_and_locates_each_finding() {
    let dir = tempdir("sarif");
    let (nsg, line, column) = broken_nsg(&dir);
    let doc = verify(&nsg, "sarif").json();
    let errors = sarif_errors(&doc);
    assert!(errors.is_empty(), "SARIF schema errors: {errors:?}");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "isenet");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let find = |code: &str, needle: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == code && r["message"]["text"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no {code} result mentioning {needle}: {results:#?}"))
    };
    let opening = find("F0102", "allow-rdp");
    assert_eq!(opening["level"], "error");
    let loc = &opening["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], sarif_uri(&nsg));
    assert_eq!(
        (loc["region"]["startLine"].as_u64(), loc["region"]["startColumn"].as_u64()),
        (Some(line as u64), Some(column as u64))
    );
    let uncovered = find("F0101", "in-apim-mgmt-3443");
    assert_eq!(
        uncovered["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], ENV,
        "an uncovered requirement points at the environment"
    );
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "ruleIndex points at the rule's metadata");
        assert!(rules[index]["help"]["text"].as_str().is_some_and(|h| !h.is_empty()));
        assert!(rules[index]["defaultConfiguration"]["level"].is_string());
    }
}

#[test]
fn junit_has_a_case_per_requirement_and_fails_the_broken_ones() {
    let dir = tempdir("junit");
    let (nsg, _, _) = broken_nsg(&dir);
    let xml = verify(&nsg, "junit").stdout;
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = report.test_suites.iter().find(|s| s.name.as_str() == "nsg").expect("an nsg suite");
    let failed: Vec<&str> = suite
        .test_cases
        .iter()
        .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Success { .. }))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        failed,
        ["requirement in-apim-mgmt-3443", "nothing open or unknown beyond the requirements"]
    );
    let ok = isenet(&[
        "verify",
        "--env",
        ENV,
        "--nsg",
        &format!("{}/out/nsg.json", dir.display()),
        "--format",
        "junit",
    ]);
    assert_eq!(ok.code, Some(0));
    let report = quick_junit::Report::deserialize_from_str(&ok.stdout).unwrap();
    assert_eq!(report.failures, 0);
    assert!(report.tests > 10, "one case per requirement: {}", report.tests);
}

#[test]
fn annotation_commands_point_at_the_offending_rule() {
    let dir = tempdir("annotations");
    let (nsg, line, column) = broken_nsg(&dir);
    let gh = verify(&nsg, "github").stdout;
    let expected = format!("::error file={nsg},line={line},col={column},title=F0102 opening::rule allow-rdp");
    assert!(gh.lines().any(|l| l.starts_with(&expected)), "{expected}\n{gh}");
    assert!(
        gh.lines()
            .all(|l| l.starts_with("::error ") || l.starts_with("::warning ") || l.starts_with("::notice ")),
        "{gh}"
    );
    let ado = verify(&nsg, "azure-devops").stdout;
    let expected = format!("##vso[task.logissue type=error;sourcepath={nsg};linenumber={line};columnnumber={column};code=F0102]");
    assert!(ado.lines().any(|l| l.starts_with(&expected)), "{expected}\n{ado}");
    assert!(
        ado.ends_with("##vso[task.complete result=Failed;]isenet verify: findings\n"),
        "{ado}"
    );
}

/// Three broken inputs of one verify run: a file that is not JSON, an empty one, a cut-off one.
fn three_bad_files(dir: &Path) -> [String; 3] {
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    [
        write("nonjson.json", "hello\n"),
        write("empty.json", ""),
        write("cut.json", "{\n  \"properties\": {\n"),
    ]
}

#[test]
fn every_bad_input_file_is_reported_in_one_run() {
    let dir = tempdir("formats-all-bad");
    let [nsg, routes, firewall] = three_bad_files(&dir);
    let run = isenet(&[
        "--error-format",
        "json",
        "verify",
        "--env",
        ENV,
        "--nsg",
        &nsg,
        "--routes",
        &routes,
        "--firewall",
        &firewall,
    ]);
    assert_eq!(run.code, Some(2));
    let files: std::collections::BTreeSet<String> = run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(files, [nsg, routes, firewall].into_iter().collect(), "{}", run.stdout);
}

#[test]
fn bad_input_of_one_environment_still_gives_each_machine_format_its_document() {
    let dir = tempdir("formats-bad-one");
    let [_, empty, _] = three_bad_files(&dir);
    let run = |format: &str| {
        let r = isenet(&["verify", "--env", ENV, "--nsg", &empty, "--format", format]);
        assert_eq!(r.code, Some(2), "{format}: {}", r.stderr);
        assert!(r.stderr.contains("E1201"), "{format}: the diagnostic on stderr: {}", r.stderr);
        r
    };
    let sarif = run("sarif").json();
    assert_eq!(sarif_errors(&sarif), Vec::<String>::new());
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{sarif}");
    assert_eq!(invocation["toolExecutionNotifications"][0]["descriptor"]["id"], "E1201");
    let junit = run("junit").stdout;
    assert!(junit.contains("<failure") && junit.contains("E1201"), "{junit}");
    let github = run("github").stdout;
    assert!(github.starts_with("::error file=") && github.contains("E1201"), "{github}");
    let ado = run("azure-devops").stdout;
    assert!(
        ado.contains("##vso[task.logissue type=error;") && ado.contains("code=E1201"),
        "{ado}"
    );
}
