//! `validate`, `verify` and `tags diff` over several environments (`ENV...`, repeated `--env`,
//! `--env-dir`): good, bad (exit 2, naming the file) and drifted (exit 1) members, names that
//! must be unique, one document per machine format covering every environment.

use super::common::{isenet, workspace, Run};
use super::pipeline::tempdir;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A copy of tests/envs/`source`.json named `name` (the environment's `name` and the file's stem).
fn env_copy(dir: &Path, source: &str, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(workspace().join("tests/envs").join(format!("{source}.json"))).unwrap();
    let mut env: Value = serde_json::from_str(&text).unwrap();
    env["name"] = json!(name);
    let to = dir.join(format!("{name}.json"));
    std::fs::write(&to, serde_json::to_string_pretty(&env).unwrap()).unwrap();
    to
}

/// [`env_copy`] with `edit` applied to the environment.
fn edited_copy(dir: &Path, source: &str, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let to = env_copy(dir, source, name);
    let mut env: Value = serde_json::from_str(&std::fs::read_to_string(&to).unwrap()).unwrap();
    edit(&mut env);
    std::fs::write(&to, serde_json::to_string_pretty(&env).unwrap()).unwrap();
    to
}

/// A folder `envs` of three valid environments of different modes: alpha (no tunneling), bravo
/// (firewall), charlie (ExpressRoute).
fn good_fleet(dir: &Path) -> PathBuf {
    let envs = dir.join("envs");
    std::fs::create_dir_all(&envs).unwrap();
    env_copy(&envs, "public-internal", "alpha");
    env_copy(&envs, "firewall-tunneling", "bravo");
    env_copy(&envs, "expressroute-tunneling", "charlie");
    envs
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The row of `name` in a summary table, split into cells.
fn row<'a>(run: &'a Run, name: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in\n{}", run.stdout))
        .split_whitespace()
        .collect()
}

/// Each environment's `result` in a fleet's JSON document, in order.
fn results(doc: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    doc["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (text(&e["environment"]), text(&e["result"])))
        .collect()
}

/// Asserts the run's exit code, and that each of `names` has `cells` from the result column on.
fn assert_rows(run: &Run, code: i32, names: &[&str], cells: &[&str]) {
    assert_eq!(run.code, Some(code), "{}{}", run.stdout, run.stderr);
    for name in names {
        assert_eq!(row(run, name)[2..2 + cells.len()], *cells, "{name}: {}", run.stdout);
    }
}

/// An environment file that breaks a rule: the catalogue's unknown top-level field (E0101).
fn bad_env() -> PathBuf {
    workspace().join("tests/bad-inputs/007-unknown-top-level-field.json")
}

#[test]
fn validate_of_several_environments_reports_each_and_exits_with_the_worst() {
    let dir = tempdir("multi-validate");
    let envs = good_fleet(&dir);
    let good = isenet(&["validate", "--env-dir", s(&envs)]);
    assert_rows(&good, 0, &["alpha", "bravo", "charlie"], &["valid"]);
    assert!(good.stdout.contains("3 environment(s): 3 valid, 0 invalid"), "{}", good.stdout);

    // Positional files and repeated --env are the same selection.
    let bad = bad_env();
    let mixed = isenet(&[
        "validate",
        s(&envs.join("alpha.json")),
        "--env",
        s(&bad),
        "--env",
        s(&envs.join("bravo.json")),
    ]);
    assert_eq!(mixed.code, Some(2), "one invalid member: exit 2");
    assert_eq!(row(&mixed, "alpha")[2], "valid");
    assert_eq!(row(&mixed, "007-unknown-top-level-field")[2], "invalid");
    assert!(
        mixed.stderr.contains(&format!("error[E0101]: {}", s(&bad))),
        "the diagnostic names the file: {}",
        mixed.stderr
    );

    let json = isenet(&["validate", "--env-dir", s(&envs), "--env", s(&bad), "--format", "json"]).json();
    let named = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    assert_eq!(
        results(&json),
        named(&[
            ("007-unknown-top-level-field", "invalid"),
            ("alpha", "valid"),
            ("bravo", "valid"),
            ("charlie", "valid")
        ]),
        "by environment name (the file's stem for one that does not load), then file"
    );
    assert_eq!(json["environments"][0]["diagnostics"][0]["file"], s(&bad));
    assert_eq!((json["valid"].as_u64(), json["invalid"].as_u64()), (Some(3), Some(1)));
}

#[test]
fn validate_refuses_an_environment_whose_name_another_has_naming_both_files() {
    let dir = tempdir("multi-dup");
    let a = env_copy(&dir, "public-internal", "same");
    let b = dir.join("other.json");
    std::fs::copy(&a, &b).unwrap();
    for args in [
        vec!["validate", s(&a), s(&b), "--format", "json"],
        vec!["--error-format", "json", "verify", s(&a), s(&b), "--format", "json"],
    ] {
        let run = isenet(&args);
        assert_eq!(run.code, Some(2), "{args:?}");
        let doc = run.json();
        // Environments run by name, then file: other.json before same.json, whatever the order
        // they are named in, so same.json is the one refused.
        let d = &doc["environments"][1]["diagnostics"][0];
        assert_eq!(d["code"], "E1806", "{args:?}: {doc}");
        assert_eq!(d["file"], s(&a));
        assert!(d["message"].as_str().unwrap().contains(s(&b)), "names the first file too: {d}");
        // Said for every command, not only compile's output folders.
        let help = d["help"].as_str().unwrap();
        assert!(
            help.contains("apart by name") && !help.contains("is written to"),
            "{args:?}: {help}"
        );
        assert_eq!(doc["environments"][0]["result"], if args[0] == "validate" { "valid" } else { "ok" });
    }
    let o = workspace().join("tests/fixtures/ServiceTags_Public_20240506.json");
    let n = workspace().join("data/servicetags/ServiceTags_Public_20251028.json");
    let run = isenet(&["tags", "diff", s(&o), s(&n), "--env", s(&a), "--env", s(&b), "--format", "json"]);
    assert_eq!(run.code, Some(2));
    let d = &run.json()["environments"][1]["diagnostics"][0];
    assert_eq!(d["code"], "E1806");
    assert!(d["help"].as_str().unwrap().contains("apart by name"), "{d}");
}

/// Compiles the fleet into `dir/out` and drifts two of its NSGs: alpha loses the rule of
/// `in-intersubnet` (an uncovered requirement, located at alpha's environment file), bravo gains
/// RDP from the Internet (an opening, located at the rule in bravo's nsg.json). Returns the
/// output folder and the line of bravo's added rule.
fn drifted_fleet(dir: &Path, envs: &Path) -> (PathBuf, usize) {
    let out = dir.join("out");
    let run = isenet(&[
        "compile",
        "--env-dir",
        s(envs),
        "--out-dir",
        s(&out),
        "--only",
        "nsg,routes,firewall",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let edit = |name: &str, f: &dyn Fn(&mut Vec<Value>)| -> String {
        let path = out.join(name).join("nsg.json");
        let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        f(nsg["properties"]["securityRules"].as_array_mut().unwrap());
        let text = serde_json::to_string_pretty(&nsg).unwrap();
        std::fs::write(&path, &text).unwrap();
        text
    };
    edit("alpha", &|rules| rules.retain(|r| r["name"] != "in-intersubnet"));
    let text = edit("bravo", &|rules| {
        rules.push(json!({"name": "allow-rdp", "properties": {
            "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "Internet",
            "destinationAddressPrefix": "*", "access": "Allow", "priority": 300, "direction": "Inbound"}}))
    });
    // The rule's object starts on the line above its name (lines count from 1).
    let line = text.lines().position(|l| l.contains("\"name\": \"allow-rdp\"")).unwrap();
    (out, line)
}

#[test]
fn verify_of_several_environments_proves_each_against_its_compiled_or_deployed_artifacts() {
    let dir = tempdir("multi-verify");
    let envs = good_fleet(&dir);
    // Without files: each against what compile writes for it, rendered and read back.
    let compiled = isenet(&["verify", "--env-dir", s(&envs)]);
    assert_rows(&compiled, 0, &["alpha", "bravo", "charlie"], &["ok", "0"]);
    // bravo is in firewall mode: its routes and firewall rules are proved too.
    assert!(
        compiled
            .stdout
            .contains("firewall <compiled bravo>/firewall-policy.json: 100 rules"),
        "{}",
        compiled.stdout
    );

    let (out, _) = drifted_fleet(&dir, &envs);
    let drifted = isenet(&["verify", "--env-dir", s(&envs), "--artifacts-dir", s(&out)]);
    assert_eq!(drifted.code, Some(1), "drift is findings: {}{}", drifted.stdout, drifted.stderr);
    assert_eq!(row(&drifted, "alpha")[2], "findings");
    assert_eq!(row(&drifted, "bravo")[2], "findings");
    assert_eq!(row(&drifted, "charlie")[2], "ok");
    assert!(drifted.stdout.contains("3 environment(s): 1 ok, 2 with findings, 0 bad input"));
    assert!(drifted
        .stdout
        .contains(&format!("routes {}: ", s(&out.join("bravo/route-table.json")))));

    // A member without artifacts is bad input (exit 2 beats 1), naming its folder; the others run.
    let extra = env_copy(&dir, "public-internal", "delta");
    let run = isenet(&["verify", "--env-dir", s(&envs), "--env", s(&extra), "--artifacts-dir", s(&out)]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(&format!("error[E1821]: {}", s(&out.join("delta")))),
        "{}",
        run.stderr
    );
    assert_eq!(row(&run, "delta")[2..4], ["bad", "input"]);
    assert_eq!(row(&run, "charlie")[2], "ok");
    // A bad environment file: exit 2 naming it.
    let run = isenet(&["verify", "--env-dir", s(&envs), "--env", s(&bad_env())]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains(&format!("error[E0101]: {}", s(&bad_env()))), "{}", run.stderr);
}

/// An artifacts folder missing a file the environment's mode needs is bad input naming that path,
/// not a pass: an NSG that is not there proves nothing. Files a mode does not need may be absent.
#[test]
fn verify_artifacts_dir_needs_each_file_the_mode_needs() {
    let dir = tempdir("multi-needed");
    let envs = good_fleet(&dir);
    let out = dir.join("out");
    let compile = || {
        let run = isenet(&[
            "compile",
            "--env-dir",
            s(&envs),
            "--out-dir",
            s(&out),
            "--only",
            "nsg,routes,firewall",
        ]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
    };
    compile();
    // alpha (no tunneling) needs its NSG only; bravo (firewall) all three; charlie
    // (ExpressRoute) its NSG and route table.
    for gone in [
        "alpha/route-table.json",
        "alpha/firewall-policy.json",
        "charlie/firewall-policy.json",
    ] {
        std::fs::remove_file(out.join(gone)).unwrap();
    }
    let run = isenet(&["verify", "--env-dir", s(&envs), "--artifacts-dir", s(&out)]);
    assert_rows(&run, 0, &["alpha", "bravo", "charlie"], &["ok"]);
    // Compiled again (every file back), then one needed file of each taken away.
    compile();
    let mut missing = Vec::new();
    for gone in ["alpha/nsg.json", "bravo/firewall-policy.json", "charlie/route-table.json"] {
        std::fs::remove_file(out.join(gone)).unwrap();
        missing.push(s(&out.join(gone)).to_string());
    }
    let run = isenet(&[
        "verify",
        "--env-dir",
        s(&envs),
        "--artifacts-dir",
        s(&out),
        "--error-format",
        "json",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    let mut named: Vec<String> = run.json()["environments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["diagnostics"].as_array().cloned().unwrap_or_default())
        .map(|d| {
            assert_eq!(d["code"], "E1823", "{d}");
            d["file"].as_str().unwrap().to_string()
        })
        .collect();
    named.sort();
    assert_eq!(named, missing);
}

#[test]
fn verify_machine_formats_cover_every_environment_in_one_document() {
    let dir = tempdir("multi-formats");
    let envs = good_fleet(&dir);
    let (out, line) = drifted_fleet(&dir, &envs);
    let run = |format: &str| {
        let r = isenet(&["verify", "--env-dir", s(&envs), "--artifacts-dir", s(&out), "--format", format]);
        assert_eq!(r.code, Some(1), "{format}: {}", r.stderr);
        r
    };
    // SARIF: one run; each result's message names its environment, its location that
    // environment's files (the environment file for an uncovered requirement, the rule otherwise).
    let sarif = run("sarif").json();
    assert_eq!(super::formats::sarif_errors(&sarif), Vec::<String>::new());
    assert_eq!(sarif["runs"].as_array().unwrap().len(), 1);
    let found = sarif["runs"][0]["results"].as_array().unwrap();
    let find = |code: &str, env: &str| {
        found
            .iter()
            .find(|r| r["ruleId"] == code && r["message"]["text"].as_str().unwrap().starts_with(&format!("{env}: ")))
            .unwrap_or_else(|| panic!("no {code} result of {env}: {found:#?}"))
    };
    let uncovered = &find("F0101", "alpha")["locations"][0]["physicalLocation"];
    assert_eq!(
        uncovered["artifactLocation"]["uri"],
        format!("file://{}", s(&envs.join("alpha.json")))
    );
    // Named with the environment first: two environments' rules may share a name.
    let requirement = find("F0101", "alpha")["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap();
    assert!(requirement.starts_with("alpha/nsg/requirements/"), "{requirement}");
    let rule = find("F0102", "bravo")["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap();
    assert!(rule.starts_with("bravo/nsg/securityRules/"), "{rule}");
    let opening = &find("F0102", "bravo")["locations"][0]["physicalLocation"];
    assert_eq!(
        opening["artifactLocation"]["uri"],
        format!("file://{}", s(&out.join("bravo/nsg.json")))
    );
    assert_eq!(opening["region"]["startLine"], line);
    assert!(
        !found
            .iter()
            .any(|r| r["message"]["text"].as_str().unwrap().starts_with("charlie: ") && r["level"] == "error"),
        "charlie has no failing finding"
    );

    // JUnit: a test suite per environment, failures where the drift is.
    let junit = run("junit").stdout;
    for (name, failing) in [("alpha", true), ("bravo", true), ("charlie", false)] {
        let open = format!("<testsuite name=\"{name}\"");
        let start = junit.find(&open).unwrap_or_else(|| panic!("no suite {name}: {junit}"));
        let suite = &junit[start..start + junit[start..].find("</testsuite>").unwrap()];
        assert!(
            suite.contains("classname=\"isenet.") && suite.contains(&format!("isenet.{name}.nsg")),
            "{suite}"
        );
        assert_eq!(!suite.contains("failures=\"0\""), failing, "{name}: {suite}");
    }
    assert_eq!(junit.matches("<testsuite ").count(), 3);

    // Annotations: each environment's findings, once over the run.
    let github = run("github").stdout;
    assert!(github
        .lines()
        .any(|l| l.starts_with("::error ") && l.contains("::alpha: requirement in-intersubnet")));
    assert!(
        github.contains(&format!("file={},line={line}", s(&out.join("bravo/nsg.json")))),
        "{github}"
    );
    let ado = run("azure-devops").stdout;
    assert!(ado.contains("##vso[task.logissue type=error;") && ado.contains("bravo: "), "{ado}");
    assert_eq!(ado.matches("##vso[task.complete result=Failed;]").count(), 1);

    // JSON: one document, each environment's verification.
    let doc = run("json").json();
    let words: Vec<String> = results(&doc).into_iter().map(|(e, r)| format!("{e} {r}")).collect();
    assert_eq!(words, ["alpha findings", "bravo findings", "charlie ok"]);
    assert_eq!(doc["environments"][2]["verification"]["ok"], true);
    assert_eq!((doc["ok"].as_u64(), doc["findings"].as_u64()), (Some(1), Some(2)));
}

#[test]
fn one_file_for_several_environments_and_an_empty_folder_are_coded_errors() {
    let dir = tempdir("multi-usage");
    let envs = good_fleet(&dir);
    let nsg = workspace().join("tests/golden");
    let run = isenet(&["--error-format", "json", "verify", "--env-dir", s(&envs), "--nsg", s(&nsg)]);
    assert_eq!(run.code, Some(2));
    assert_eq!(run.json()["diagnostics"][0]["code"], "E1820");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for args in [
        vec!["validate", "--env-dir", s(&empty), "--format", "json"],
        vec!["--error-format", "json", "verify", "--env-dir", s(&empty)],
        vec![
            "--error-format",
            "json",
            "compile",
            "--env-dir",
            s(&empty),
            "--out-dir",
            s(&dir.join("o")),
        ],
    ] {
        let run = isenet(&args);
        assert_eq!(run.code, Some(2), "{args:?}");
        let d = &run.json()["diagnostics"][0];
        assert_eq!(
            (d["code"].as_str(), d["file"].as_str()),
            (Some("E1822"), Some(s(&empty))),
            "{args:?}"
        );
    }
}

/// A deployed NSG opened to SSH from the Internet (priority 300, inbound): Azure admits what no
/// ISE requirement asks for, so verify must report it.
fn nsg_open_to_ssh(dir: &Path, env: &Path) -> PathBuf {
    let out = dir.join("compiled");
    let run = isenet(&["compile", "--env", s(env), "--only", "nsg", "--out-dir", s(&out)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    nsg["properties"]["securityRules"].as_array_mut().unwrap().push(json!({
        "name": "open-ssh",
        "properties": {"access": "Allow", "direction": "Inbound", "priority": 300, "protocol": "Tcp",
            "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*",
            "destinationPortRange": "22"}
    }));
    let file = dir.join("deployed-nsg.json");
    std::fs::write(&file, serde_json::to_string_pretty(&nsg).unwrap()).unwrap();
    file
}

#[test]
fn deployed_files_of_one_environment_are_verified_however_the_environment_is_named() {
    let dir = tempdir("multi-one");
    let envs = dir.join("envs");
    std::fs::create_dir_all(&envs).unwrap();
    let env = env_copy(&envs, "public-internal", "alpha");
    let nsg = nsg_open_to_ssh(&dir, &env);
    // --env, a bare ENV and a folder of one: the same single-environment report of the file given.
    for selection in [vec!["--env", s(&env)], vec![s(&env)], vec!["--env-dir", s(&envs)]] {
        let args: Vec<&str> = [&["verify", "--quiet"][..], &selection, &["--nsg", s(&nsg)]].concat();
        let run = isenet(&args);
        assert_eq!(run.code, Some(1), "{selection:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("open-ssh"), "{selection:?}: {}", run.stdout);
    }
    // A file that does not exist is read, not skipped.
    let run = isenet(&["verify", s(&env), "--nsg", s(&dir.join("missing.json"))]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
}

#[test]
fn tags_diff_of_several_environments_reads_the_tag_files_once_and_reports_each() {
    let dir = tempdir("multi-tags");
    let envs = good_fleet(&dir);
    let o = workspace().join("tests/fixtures/ServiceTags_Public_20240506.json");
    let n = workspace().join("data/servicetags/ServiceTags_Public_20251028.json");
    // The same file twice: nothing changes anywhere.
    let same = isenet(&["tags", "diff", s(&n), s(&n), "--env-dir", s(&envs)]);
    assert_rows(&same, 0, &["alpha", "bravo", "charlie"], &["unchanged", "0", "0"]);
    // Expanded tags write prefixes: a year of tag changes changes the NSGs (exit 1).
    let (alpha, charlie) = (envs.join("alpha.json"), envs.join("charlie.json"));
    let changed = isenet(&[
        "tags",
        "diff",
        s(&o),
        s(&n),
        "--env",
        s(&alpha),
        "--env",
        s(&charlie),
        "--expand-tags",
    ]);
    assert_rows(&changed, 1, &["alpha", "charlie"], &["changed"]);
    assert_eq!(
        changed.stdout.matches("service tags Public: change").count(),
        1,
        "the cloud diff once"
    );
    // bravo (firewall mode) cannot be expanded: its routes exceed Azure's 400 (E1003), bad input
    // that beats the others' changes, naming bravo's file.
    let all = isenet(&["tags", "diff", s(&o), s(&n), "--env-dir", s(&envs), "--expand-tags"]);
    assert_eq!(all.code, Some(2));
    assert!(
        all.stderr.contains(&format!("error[E1003]: {}", s(&envs.join("bravo.json")))),
        "{}",
        all.stderr
    );
    assert_eq!(row(&all, "bravo")[2], "invalid");
    assert_eq!(row(&all, "alpha")[2], "changed");
    // A bad member: exit 2, naming it; the JSON document still covers every environment.
    let bad = bad_env();
    let run = isenet(&[
        "tags",
        "diff",
        s(&o),
        s(&n),
        "--env-dir",
        s(&envs),
        "--env",
        s(&bad),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(2));
    let doc = run.json();
    let words: Vec<String> = results(&doc).into_iter().map(|(_, r)| r).collect();
    assert_eq!(words, ["invalid", "effective", "effective", "effective"], "{doc}");
    assert_eq!(doc["environments"][0]["diagnostics"][0]["file"], s(&bad));
    assert_eq!(doc["summary"]["cloud"], "Public");
}

#[test]
fn an_environment_that_does_not_load_is_in_every_machine_format_too() {
    let dir = tempdir("multi-refused");
    let envs = good_fleet(&dir);
    let bad = bad_env();
    let run = |format: &str| {
        let r = isenet(&["verify", "--env-dir", s(&envs), "--env", s(&bad), "--format", format]);
        assert_eq!(r.code, Some(2), "{format}: bad input beats the rest");
        assert!(r.stderr.contains("error[E0101]"), "{format}: and is on stderr: {}", r.stderr);
        r
    };
    // SARIF: the run's invocation did not succeed, with a notification at the file.
    let sarif = run("sarif").json();
    assert_eq!(super::formats::sarif_errors(&sarif), Vec::<String>::new());
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let n = &invocation["toolExecutionNotifications"][0];
    assert_eq!(
        (n["descriptor"]["id"].as_str(), n["level"].as_str()),
        (Some("E0101"), Some("error"))
    );
    assert_eq!(
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "tests/bad-inputs/007-unknown-top-level-field.json",
        "relative to the working directory"
    );
    // Annotations name the file (from the working directory, as SARIF) and the code; Azure
    // Pipelines fails the task.
    let relative = "tests/bad-inputs/007-unknown-top-level-field.json";
    let github = run("github").stdout;
    assert!(
        github.contains(&format!("::error file={relative},line=")) && github.contains("title=E0101::"),
        "{github}"
    );
    let ado = run("azure-devops").stdout;
    assert!(
        ado.contains(&format!("sourcepath={relative};")) && ado.contains("code=E0101]"),
        "{ado}"
    );
    assert!(
        ado.ends_with("##vso[task.complete result=Failed;]isenet verify: bad input\n"),
        "{ado}"
    );
    // JUnit: one failing case in the environment's suite.
    let junit = run("junit").stdout;
    assert!(
        junit.contains("<testsuite name=\"007-unknown-top-level-field\" tests=\"1\""),
        "{junit}"
    );
    assert!(junit.contains("error[E0101]"), "{junit}");
}

/// In one report of several environments, every message says whose it is: the findings did,
/// and so do an environment's warnings and the diagnostics of one that does not load.
#[test]
fn a_fleets_warnings_and_refusals_name_their_environment_in_sarif_and_annotations() {
    let dir = tempdir("multi-named-diagnostics");
    let envs = dir.join("envs");
    std::fs::create_dir_all(&envs).unwrap();
    env_copy(&envs, "public-internal", "alpha");
    // An external ISE in firewall mode without declared callers: W0505 (replies to callers go
    // through the firewall).
    edited_copy(&envs, "firewall-tunneling", "warned", |env| {
        env["accessEndpoint"] = json!("external");
        env.as_object_mut().unwrap().remove("callers");
    });
    let bad = bad_env();
    let run = |format: &str| isenet(&["verify", "--env-dir", s(&envs), "--env", s(&bad), "--format", format]);
    let sarif = run("sarif").json();
    let w = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "W0505")
        .unwrap_or_else(|| panic!("a W0505 result: {sarif}"));
    assert!(w["message"]["text"].as_str().unwrap().starts_with("warned: "), "{w}");
    let n = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert!(
        n["message"]["text"].as_str().unwrap().starts_with("007-unknown-top-level-field: "),
        "{n}"
    );
    let github = run("github").stdout;
    assert!(github.contains("title=W0505::warned: "), "{github}");
    assert!(github.contains("title=E0101::007-unknown-top-level-field: "), "{github}");
    let ado = run("azure-devops").stdout;
    assert!(ado.contains("code=W0505]warned: "), "{ado}");
    assert!(ado.contains("code=E0101]007-unknown-top-level-field: "), "{ado}");
}

#[test]
fn an_empty_deployed_file_is_located_at_line_1_column_1_in_sarif_and_annotations() {
    let dir = tempdir("multi-empty-file");
    let envs = dir.join("envs");
    std::fs::create_dir_all(&envs).unwrap();
    env_copy(&envs, "public-internal", "alpha");
    let deployed = dir.join("deployed");
    std::fs::create_dir_all(deployed.join("alpha")).unwrap();
    std::fs::write(deployed.join("alpha/nsg.json"), "").unwrap();
    let run = |format: &str| {
        let r = isenet(&["verify", "--env-dir", s(&envs), "--artifacts-dir", s(&deployed), "--format", format]);
        assert_eq!(r.code, Some(2), "{format}: {}", r.stderr);
        r
    };
    // SARIF columns count from 1 (its schema's minimum): the end of an empty file is column 1.
    let sarif = run("sarif").json();
    assert_eq!(super::formats::sarif_errors(&sarif), Vec::<String>::new());
    let region = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(1), Some(1)),
        "{sarif}"
    );
    let github = run("github").stdout;
    assert!(github.contains("line=1,col=1"), "{github}");
}

#[test]
fn a_tag_file_of_another_cloud_names_each_environment_it_does_not_fit() {
    let dir = tempdir("multi-tag-cloud");
    let envs = good_fleet(&dir);
    env_copy(&envs, "china-north2", "delta");
    let public = workspace().join("data/servicetags/ServiceTags_Public_20251028.json");
    let run = isenet(&["verify", "--env-dir", s(&envs), "--service-tags", s(&public), "--format", "json"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let doc = run.json();
    let delta = doc["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["environment"] == "delta")
        .unwrap();
    let d = &delta["diagnostics"][0];
    assert_eq!(d["code"], "E0902");
    assert!(d["message"].as_str().unwrap().starts_with("environment `delta`: "), "{d}");
    assert!(d["file"].as_str().unwrap().ends_with("ServiceTags_Public_20251028.json"), "{d}");
    // tags diff of the fleet: each of the two files' errors names the environment too.
    let old = workspace().join("tests/fixtures/ServiceTags_Public_20240506.json");
    let run = isenet(&["--error-format", "json", "tags", "diff", s(&old), s(&public), "--env-dir", s(&envs)]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let doc = run.json();
    let messages: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{doc}");
    assert!(
        messages
            .iter()
            .all(|m| m.starts_with("environment `delta`: this service-tag file is for cloud `Public`")),
        "{doc}"
    );
}

/// Every `*.json` entry of an `--env-dir` is a member: one that cannot be read as a file (a broken
/// symbolic link, a folder, a link to a folder) is refused with `E0001` naming it, never left out
/// of the fleet (it used to be skipped, and the run passed without it).
#[test]
#[cfg(unix)]
fn an_env_dir_entry_that_is_not_a_readable_file_is_refused_not_skipped() {
    let dir = tempdir("multi-unreadable");
    let envs = dir.join("envs");
    std::fs::create_dir_all(&envs).unwrap();
    env_copy(&envs, "public-internal", "alpha");
    std::os::unix::fs::symlink("/nonexistent/prod.json", envs.join("prod.json")).unwrap();
    std::fs::create_dir(envs.join("folder.json")).unwrap();
    std::os::unix::fs::symlink(envs.join("folder.json"), envs.join("linked.json")).unwrap();
    std::fs::write(envs.join("notes.txt"), "not an environment").unwrap();
    let unreadable = ["folder", "linked", "prod"];

    let run = isenet(&["validate", "--env-dir", s(&envs)]);
    assert_rows(&run, 2, &unreadable, &["invalid"]);
    assert_eq!(row(&run, "alpha")[2], "valid");
    assert!(run.stdout.contains("4 environment(s): 1 valid, 3 invalid"), "{}", run.stdout);
    for name in unreadable {
        let head = format!("error[E0001]: {}: cannot read file: ", s(&envs.join(format!("{name}.json"))));
        assert!(run.stderr.contains(&head), "{name}: {}", run.stderr);
    }
    assert!(
        run.stderr
            .contains("a symbolic link to `/nonexistent/prod.json`, which does not exist"),
        "{}",
        run.stderr
    );

    let json = isenet(&["validate", "--env-dir", s(&envs), "--format", "json"]);
    assert_eq!(json.code, Some(2));
    let doc = json.json();
    assert_eq!((doc["valid"].as_u64(), doc["invalid"].as_u64()), (Some(1), Some(3)), "{doc}");

    let verify = isenet(&["verify", "--env-dir", s(&envs)]);
    assert_rows(&verify, 2, &unreadable, &["bad", "input"]);

    let out = dir.join("out");
    let compile = isenet(&["compile", "--env-dir", s(&envs), "--out-dir", s(&out)]);
    assert_eq!(compile.code, Some(2), "{}", compile.stderr);
    assert!(
        compile.stderr.contains(&format!("error[E0001]: {}", s(&envs.join("prod.json")))),
        "{}",
        compile.stderr
    );
    assert!(!out.exists(), "bad input writes nothing");
}

/// An environment refused for its warnings alone (`--deny-warnings`) parsed: reports still call it
/// by its name, as without the flag, so CI keys its row alike either way. One that does not parse
/// is called by its file's stem.
#[test]
fn an_environment_refused_for_its_warnings_keeps_its_name() {
    let dir = tempdir("multi-deny-warnings-name");
    let envs = dir.join("envs");
    std::fs::create_dir_all(&envs).unwrap();
    env_copy(&envs, "public-internal", "alpha");
    // The file's stem differs from the name; its internal caller lies inside the VNet (W0502).
    let warned = edited_copy(&envs, "public-internal", "warned-name", |env| {
        env["internalCallers"] = json!([env["virtualNetwork"]["addressSpace"][0].clone()]);
    });
    std::fs::rename(&warned, envs.join("stem.json")).unwrap();
    for command in ["validate", "verify"] {
        let plain = isenet(&[command, "--env-dir", s(&envs), "--format", "json"]);
        let denied = isenet(&["--deny-warnings", command, "--env-dir", s(&envs), "--format", "json"]);
        assert_eq!(denied.code, Some(2), "{command}: {}", denied.stderr);
        for run in [&plain, &denied] {
            let names: Vec<String> = results(&run.json()).into_iter().map(|(name, _)| name).collect();
            assert_eq!(names, ["alpha", "warned-name"], "{command}: {}", run.stdout);
        }
    }
    let bad = isenet(&["validate", "--env-dir", s(&envs), "--env", s(&bad_env()), "--format", "json"]);
    let names: Vec<String> = results(&bad.json()).into_iter().map(|(name, _)| name).collect();
    assert!(names.contains(&"007-unknown-top-level-field".to_string()), "{names:?}");
}
