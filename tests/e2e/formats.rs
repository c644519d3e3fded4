//! `verify --format sarif|junit|github|azure-devops`: each written from the same findings, SARIF
//! validated against the SARIF 2.1.0 schema (the copy serde-sarif ships, in tests/fixtures).

use super::common::{isenet, workspace};
use super::pipeline::{isenet_with_stdin, isenet_with_stdin_in, tempdir};
use serde_json::{json, Value};
use std::path::Path;

const ENV: &str = "data/example-environment.json";

/// The example's compiled NSG with one requirement's rule deleted (`in-apim-mgmt-3443` uncovered)
/// and RDP opened to the Internet (`allow-rdp`), pretty-printed; its path relative to the
/// workspace, and the line and column where the rule's `"name": "allow-rdp"` starts, found here by
/// reading the file.
fn broken_nsg(dir: &Path) -> (String, usize, usize) {
    let mut nsg = compiled_example_nsg(dir);
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

/// The example's compiled NSG (compiled into `dir/out`).
fn compiled_example_nsg(dir: &Path) -> Value {
    let out = dir.join("out");
    assert_eq!(isenet(&["compile", "--env", ENV, "--out-dir", out.to_str().unwrap()]).code, Some(0));
    serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap()
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

/// The errors of a SARIF document against the SARIF 2.1.0 schema, and against what GitHub code
/// scanning requires beyond it: every result has a location in a file with a start line (it
/// rejects the whole upload otherwise: "expected at least one location"). None when valid.
pub(super) fn sarif_errors(doc: &Value) -> Vec<String> {
    let mut errors = schema_errors(doc);
    let results = doc["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["results"].as_array().into_iter().flatten());
    for r in results {
        let locations = r["locations"].as_array().map(Vec::as_slice).unwrap_or_default();
        if locations.is_empty() {
            errors.push(format!("result without a location: {r}"));
        }
        for l in locations {
            let physical = &l["physicalLocation"];
            let uri = physical["artifactLocation"]["uri"].as_str().unwrap_or_default();
            if uri.is_empty() || physical["region"]["startLine"].as_u64().unwrap_or(0) < 1 {
                errors.push(format!("location without a file or a start line >= 1: {r}"));
            }
        }
    }
    errors
}

fn schema_errors(doc: &Value) -> Vec<String> {
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
    assert!(opening["message"]["text"].as_str().unwrap().ends_with(" port 3389"), "{opening}");
    let loc = &opening["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], sarif_uri(&nsg));
    assert_eq!(
        (loc["region"]["startLine"].as_u64(), loc["region"]["startColumn"].as_u64()),
        (Some(line as u64), Some(column as u64))
    );
    // Named too (a logical location): the rule, or the requirement nothing covers.
    let named = |r: &Value| {
        let l = &r["locations"][0]["logicalLocations"][0];
        (l["name"].clone(), l["fullyQualifiedName"].clone(), l["kind"].clone())
    };
    assert_eq!(
        named(opening),
        (json!("allow-rdp"), json!("nsg/securityRules/allow-rdp"), json!("object"))
    );
    let uncovered = find("F0101", "in-apim-mgmt-3443");
    assert_eq!(
        named(uncovered),
        (
            json!("in-apim-mgmt-3443"),
            json!("nsg/requirements/in-apim-mgmt-3443"),
            json!("object")
        )
    );
    assert_eq!(
        uncovered["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], ENV,
        "an uncovered requirement points at the environment"
    );
    // A row every ISE has comes from no key of the environment: its first line.
    assert_eq!(uncovered["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "ruleIndex points at the rule's metadata");
        assert!(rules[index]["help"]["text"].as_str().is_some_and(|h| !h.is_empty()));
        assert!(rules[index]["defaultConfiguration"]["level"].is_string());
    }
}

/// An NSG piped in and checked against the embedded example: no file holds either, so each
/// result is placed by name alone (SARIF's logical locations), and the document stays valid.
#[test]
fn sarif_of_an_nsg_piped_with_the_embedded_example_names_each_rule() {
    let dir = tempdir("sarif-piped-embedded");
    let (nsg, _, _) = broken_nsg(&dir);
    let text = std::fs::read(&nsg).unwrap();
    let (code, stdout, stderr) = isenet_with_stdin_in(&workspace(), &["verify", "--nsg", "-", "--format", "sarif"], &text);
    assert_eq!(code, Some(1), "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "SARIF schema errors: {errors:?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let names: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            let locations = r["locations"].as_array().unwrap();
            assert_eq!(locations.len(), 1, "{r}");
            assert!(locations[0].get("physicalLocation").is_none(), "no file holds it: {r}");
            let l = &locations[0]["logicalLocations"][0];
            (r["ruleId"].as_str().unwrap(), l["fullyQualifiedName"].as_str().unwrap())
        })
        .collect();
    assert!(names.contains(&("F0102", "nsg/securityRules/allow-rdp")), "{names:?}");
    assert!(names.contains(&("F0101", "nsg/requirements/in-apim-mgmt-3443")), "{names:?}");
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
    // With the flows it admits, so the annotation alone says what to close.
    assert!(
        gh.lines()
            .any(|l| l.starts_with(&expected) && l.contains(": tcp ") && l.ends_with(" port 3389")),
        "{expected}\n{gh}"
    );
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

/// Bad input found before the command runs (an unknown option, stdin given to two inputs) still
/// leaves each CI format its document on stdout, holding the usage error's code: the upload step
/// of a pipeline must not meet an empty file.
#[test]
fn usage_errors_still_give_each_machine_format_its_document() {
    let env_text = std::fs::read(workspace().join(ENV)).unwrap();
    let cases: [(&[&str], &str); 2] = [(&["--bogus"], "E1800"), (&["--env", "-", "--nsg", "-"], "E1804")];
    for (args, code) in cases {
        let run = |format: &str| {
            let mut all = vec!["verify", "--format", format];
            all.extend(args);
            let (status, stdout, stderr) = isenet_with_stdin(&all, &env_text);
            assert_eq!(status, Some(2), "{args:?} {format}: {stderr}");
            assert!(stderr.contains(code), "{args:?} {format}: the diagnostic on stderr: {stderr}");
            stdout
        };
        let sarif: Value = serde_json::from_str(&run("sarif")).unwrap();
        assert_eq!(sarif_errors(&sarif), Vec::<String>::new());
        let invocation = &sarif["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false, "{sarif}");
        assert_eq!(invocation["toolExecutionNotifications"][0]["descriptor"]["id"], code);
        let junit = run("junit");
        assert!(junit.contains("<failure") && junit.contains(code), "{junit}");
        let github = run("github");
        assert!(github.starts_with("::error title=") && github.contains(code), "{github}");
        let ado = run("azure-devops");
        assert!(ado.contains(&format!("code={code}]")), "{ado}");
        assert!(
            ado.ends_with("##vso[task.complete result=Failed;]isenet verify: bad input\n"),
            "{ado}"
        );
    }
}

/// Files given as `./x` or by an absolute path under the working directory are annotated by
/// their path from it, as SARIF gives them: GitHub matches annotations to a pull request's files
/// by that path alone.
#[test]
fn annotations_name_files_from_the_working_directory_however_they_were_given() {
    let dir = tempdir("formats-annotation-paths");
    let (nsg, _, _) = broken_nsg(&dir);
    let nsg_name = Path::new(&nsg).file_name().unwrap().to_str().unwrap().to_string();
    let absolute = dir.join(&nsg_name).to_str().unwrap().to_string();
    let env = workspace().join(ENV).to_str().unwrap().to_string();
    for given in [format!("./{nsg_name}"), absolute, format!("sub/../{nsg_name}")] {
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let github = super::common::isenet_in(&dir, &["verify", "--env", &env, "--nsg", &given, "--format", "github"]).stdout;
        let expected = format!("::error file={nsg_name},line=");
        assert!(github.lines().any(|l| l.starts_with(&expected)), "{given}: {expected}\n{github}");
        let ado = super::common::isenet_in(&dir, &["verify", "--env", &env, "--nsg", &given, "--format", "azure-devops"]).stdout;
        let expected = format!(";sourcepath={nsg_name};linenumber=");
        assert!(ado.lines().any(|l| l.contains(&expected)), "{given}: {expected}\n{ado}");
    }
}

/// A copy of the example in `dir` (as `env.json`, pretty-printed) in firewall mode with outbound
/// traffic restricted and these custom DNS servers, so that its outbound destination and its DNS
/// servers each need their own NSG rule (and firewall rule, for servers beyond the firewall);
/// compiled into `dir/out`. Returns where (line, column) the values of
/// `outboundDestinations[0]` and `customDnsServers` start, found by reading the file.
fn restricted_firewall_env(dir: &Path, dns_servers: &[&str]) -> [(usize, usize); 2] {
    let mut env: Value = serde_json::from_str(&std::fs::read_to_string(workspace().join(ENV)).unwrap()).unwrap();
    env["outboundPolicy"] = json!("restricted");
    env["forcedTunneling"] = json!({"mode": "firewall", "firewallPrivateIp": "10.10.0.4"});
    env["customDnsServers"] = json!(dns_servers);
    let text = serde_json::to_string_pretty(&env).unwrap();
    std::fs::write(dir.join("env.json"), &text).unwrap();
    let compiled = super::common::isenet_in(dir, &["compile", "--env", "env.json", "--out-dir", "out"]);
    assert_eq!(compiled.code, Some(0), "{}", compiled.stderr);
    let lines: Vec<&str> = text.lines().collect();
    // Pretty-printed, the destination's `{` is on the line below the key, a list's `[` beside it.
    let key = |k: &str| lines.iter().position(|l| l.contains(&format!("\"{k}\": "))).unwrap();
    let destinations = key("outboundDestinations");
    let dns = key("customDnsServers");
    [
        (destinations + 2, lines[destinations + 1].find('{').unwrap() + 1),
        (dns + 1, lines[dns].find('[').unwrap() + 1),
    ]
}

/// `file` of `dir/out` as JSON with the rules named in `drop` removed (wherever they stand).
fn without_rules(dir: &Path, file: &str, drop: &[&str]) -> String {
    fn prune(v: &mut Value, drop: &[&str]) {
        match v {
            Value::Array(items) => {
                items.retain(|i| !i["name"].as_str().is_some_and(|n| drop.contains(&n)));
                items.iter_mut().for_each(|i| prune(i, drop));
            }
            Value::Object(fields) => fields.values_mut().for_each(|f| prune(f, drop)),
            _ => {}
        }
    }
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out").join(file)).unwrap()).unwrap();
    prune(&mut doc, drop);
    serde_json::to_string_pretty(&doc).unwrap()
}

/// (ruleId, uri, startLine, startColumn) of each SARIF result whose message mentions `needle`.
fn located(doc: &Value, needle: &str) -> Vec<(String, String, u64, u64)> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["message"]["text"].as_str().unwrap().contains(needle))
        .map(|r| {
            let l = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                l["artifactLocation"]["uri"].as_str().unwrap_or_default().to_string(),
                l["region"]["startLine"].as_u64().unwrap_or_default(),
                l["region"]["startColumn"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn sarif_of_piped_artifacts_points_at_the_environment_key_each_finding_is_about() {
    let dir = tempdir("sarif-stdin");
    // A DNS server on premises, beyond the firewall (one inside the VNet needs no firewall rule).
    let [destination, dns] = restricted_firewall_env(&dir, &["192.168.50.4"]);
    let files = [
        "--env",
        "env.json",
        "--nsg",
        "out/nsg.json",
        "--routes",
        "out/route-table.json",
        "--firewall",
        "out/firewall-policy.json",
    ];
    let piped = |option: &str, text: String| {
        let mut args: Vec<&str> = vec!["verify", "--format", "sarif"];
        for pair in files.chunks(2) {
            args.extend([pair[0], if pair[0] == option { "-" } else { pair[1] }]);
        }
        let (code, out, err) = isenet_with_stdin_in(&dir, &args, text.as_bytes());
        assert_eq!(code, Some(1), "{option} -: findings\n{err}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(sarif_errors(&doc), Vec::<String>::new(), "{option} -");
        doc
    };
    let at = |(line, column): (usize, usize)| ("env.json".to_string(), line as u64, column as u64);
    // The NSG on stdin: the destination's requirement uncovered, RDP opened to the Internet.
    let mut nsg: Value = serde_json::from_str(&without_rules(&dir, "nsg.json", &["out-dest-partner-sftp"])).unwrap();
    nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "allow-rdp", "properties": {
        "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "Internet",
        "destinationAddressPrefix": "*", "access": "Allow", "priority": 300, "direction": "Inbound"}}));
    let doc = piped("--nsg", nsg.to_string());
    let (uri, line, column) = at(destination);
    assert!(
        located(&doc, "out-dest-partner-sftp").contains(&("F0101".into(), uri, line, column)),
        "{doc:#}"
    );
    // An opening that serves no requirement comes from no key: the environment file's first line.
    assert_eq!(located(&doc, "allow-rdp"), [("F0102".to_string(), "env.json".to_string(), 1, 1)]);
    // The firewall rules on stdin, without the destination's and the DNS server's rules.
    let doc = piped(
        "--firewall",
        without_rules(&dir, "firewall-policy.json", &["out-dest-partner-sftp", "fw-net-custom-dns-53"]),
    );
    let (uri, line, column) = at(destination);
    assert!(
        located(&doc, "dependency out-dest-partner-sftp").contains(&("F0301".into(), uri, line, column)),
        "{doc:#}"
    );
    let (uri, line, column) = at(dns);
    assert!(
        located(&doc, "dependency fw-net-custom-dns-53").contains(&("F0301".into(), uri, line, column)),
        "{doc:#}"
    );
    // The environment on stdin: what it would locate falls back to the NSG file, so that every
    // result has a location (GitHub code scanning refuses an upload with one that has none).
    std::fs::write(dir.join("out/nsg-open.json"), nsg.to_string()).unwrap();
    let env_text = std::fs::read_to_string(dir.join("env.json")).unwrap();
    let args = ["verify", "--format", "sarif", "--env", "-", "--nsg", "out/nsg-open.json"];
    let (code, out, err) = isenet_with_stdin_in(&dir, &args, env_text.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 2, "{doc:#}");
    for r in results {
        let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert_eq!(uri, "out/nsg-open.json", "{r:#}");
    }
    // The route table on stdin, without the firewall's default route: the tunneling mode's check.
    let doc = piped("--routes", without_rules(&dir, "route-table.json", &["route-firewall-default"]));
    let env: String = std::fs::read_to_string(dir.join("env.json")).unwrap();
    let mode_line = env.lines().position(|l| l.contains("\"mode\": \"firewall\"")).unwrap() + 1;
    let found = located(&doc, "other-traffic-to-firewall");
    assert!(
        !found.is_empty()
            && found
                .iter()
                .all(|(code, uri, line, _)| code == "F0201" && uri == "env.json" && *line == mode_line as u64),
        "{found:?}"
    );
}

#[test]
fn sarif_of_compiled_artifacts_points_at_the_environment_file() {
    let dir = tempdir("sarif-compiled");
    // The DNS server inside the VNet, where the rule for it decides no packet.
    let [_, dns] = restricted_firewall_env(&dir, &["10.10.0.4"]);
    // `--verbose` keeps the notes on isenet's own rules (kept to document requirements).
    for args in [
        &["verify", "--env", "env.json", "--format", "sarif", "--verbose"][..],
        &["verify", "env.json", "--format", "sarif", "--verbose"],
    ] {
        let run = super::common::isenet_in(&dir, args);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        let doc = run.json();
        assert_eq!(sarif_errors(&doc), Vec::<String>::new(), "{args:?}");
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert!(!results.is_empty(), "{args:?}: notes on the compiled NSG");
        for r in results {
            assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "env.json", "{r}");
        }
        // The DNS rule is kept to document its requirement: it points where the servers are declared.
        let dns_rule = located(&doc, "rule out-dns-53 ");
        assert_eq!(dns_rule.len(), 1, "{args:?}: {doc:#}");
        assert_eq!((dns_rule[0].2, dns_rule[0].3), (dns.0 as u64, dns.1 as u64), "{args:?}");
    }
}

/// The failed cases of the suite `suite` of a JUnit report, with their failure text.
fn failed_cases(xml: &str, suite: &str) -> Vec<(String, String)> {
    let report = quick_junit::Report::deserialize_from_str(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = report.test_suites.iter().find(|s| s.name.as_str() == suite).expect("the suite");
    suite
        .test_cases
        .iter()
        .filter_map(|c| match &c.status {
            quick_junit::TestCaseStatus::NonSuccess { description, .. } => {
                Some((c.name.to_string(), description.as_deref().unwrap_or_default().to_string()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn junit_files_an_opening_under_what_lies_beyond_the_requirements_not_under_one_its_rule_serves() {
    let dir = tempdir("junit-opening");
    // SSH from anywhere: `*` takes in the load balancer's 168.63.129.16 too, which the
    // in-azure-load-balancer requirement admits on every port, so the rule also serves it (and
    // that requirement stays met); everything else it admits is an opening.
    let mut nsg = compiled_example_nsg(&dir);
    nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "open-ssh", "properties": {
        "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22", "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "*", "access": "Allow", "priority": 205, "direction": "Inbound"}}));
    let path = dir.join("open.json");
    std::fs::write(&path, nsg.to_string()).unwrap();
    let xml = verify(path.to_str().unwrap(), "junit").stdout;
    let failed = failed_cases(&xml, "nsg");
    let names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["nothing open or unknown beyond the requirements"], "{xml}");
    assert!(failed[0].1.contains("open-ssh"), "{xml}");
}

/// An external ISE in firewall mode without externalCallers (validate's W0505: the callers'
/// replies would go to the firewall), as `dir/env.json`, compiled into `dir/out`; the line and
/// column of its `externalCallers` value, which the warning is about.
fn warning_env(dir: &Path) -> (usize, usize) {
    let mut env: Value = serde_json::from_str(&std::fs::read_to_string(workspace().join(ENV)).unwrap()).unwrap();
    env["accessEndpoint"] = json!("external");
    env["forcedTunneling"] = json!({"mode": "firewall", "firewallPrivateIp": "10.10.0.4"});
    assert_eq!(env["externalCallers"], json!([]));
    let text = serde_json::to_string_pretty(&env).unwrap();
    std::fs::write(dir.join("env.json"), &text).unwrap();
    let compiled = super::common::isenet_in(dir, &["compile", "--env", "env.json", "--out-dir", "out"]);
    assert_eq!(compiled.code, Some(0), "{}", compiled.stderr);
    let line = text.lines().position(|l| l.contains("\"externalCallers\": ")).unwrap();
    (line + 1, text.lines().nth(line).unwrap().find('[').unwrap() + 1)
}

#[test]
fn verify_reports_the_environments_warnings_in_every_format() {
    let dir = tempdir("verify-warnings");
    let (line, column) = warning_env(&dir);
    // Against a given NSG, and against the compiled artifacts (the fleet's way).
    for given in [&["--nsg", "out/nsg.json"][..], &[]] {
        let run = |format: &str| {
            let mut args = vec!["verify", "--env", "env.json", "--format", format];
            args.extend(given);
            let r = super::common::isenet_in(&dir, &args);
            assert!(
                matches!(r.code, Some(0 | 1)),
                "{given:?} {format}: a warning is no bad input\n{}",
                r.stderr
            );
            r
        };
        let text = run("text");
        let expected = format!("warning[W0505]: env.json:{line}:{column}: externalCallers: ");
        assert!(text.stderr.contains(&expected), "{given:?}: {expected}\n{}", text.stderr);
        let json = run("json").json();
        assert_eq!((&json["errors"], &json["warnings"]), (&json!(0), &json!(1)), "{given:?}: {json:#}");
        assert_eq!(json["diagnostics"][0]["code"], "W0505", "{given:?}");
        let expected = format!("::warning file=env.json,line={line},col={column},title=W0505::");
        let github = run("github").stdout;
        assert!(github.lines().any(|l| l.starts_with(&expected)), "{given:?}: {expected}\n{github}");
        let expected = format!("##vso[task.logissue type=warning;sourcepath=env.json;linenumber={line};columnnumber={column};code=W0505]");
        let ado = run("azure-devops").stdout;
        assert!(ado.lines().any(|l| l.starts_with(&expected)), "{given:?}: {expected}\n{ado}");
        let sarif = run("sarif").json();
        assert_eq!(sarif_errors(&sarif), Vec::<String>::new(), "{given:?}");
        let found = located(&sarif, "asymmetric routing");
        assert_eq!(
            found,
            [("W0505".to_string(), "env.json".to_string(), line as u64, column as u64)],
            "{given:?}"
        );
        let junit = run("junit").stdout;
        let report = quick_junit::Report::deserialize_from_str(&junit).unwrap();
        let case = report
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .find(|c| c.name.as_str().ends_with("environment and artifacts load"))
            .unwrap_or_else(|| panic!("{given:?}: no environment case\n{junit}"));
        assert!(
            matches!(case.status, quick_junit::TestCaseStatus::Success { .. }),
            "{given:?}: {junit}"
        );
        assert!(
            case.system_out.as_ref().is_some_and(|o| o.as_str().contains("W0505")),
            "{given:?}: {junit}"
        );
    }
}

#[test]
fn under_deny_warnings_the_environments_warnings_are_errors_in_every_machine_format() {
    let dir = tempdir("verify-deny-warnings");
    let (line, column) = warning_env(&dir);
    for given in [&["--nsg", "out/nsg.json"][..], &[]] {
        let run = |format: &str| {
            let mut args = vec!["--deny-warnings", "verify", "--env", "env.json", "--format", format];
            args.extend(given);
            let r = super::common::isenet_in(&dir, &args);
            assert_eq!(r.code, Some(2), "{given:?} {format}\n{}", r.stderr);
            r
        };
        let expected = format!("::error file=env.json,line={line},col={column},title=W0505::");
        let github = run("github").stdout;
        assert!(github.lines().any(|l| l.starts_with(&expected)), "{given:?}: {expected}\n{github}");
        let expected = format!("##vso[task.logissue type=error;sourcepath=env.json;linenumber={line};columnnumber={column};code=W0505]");
        let ado = run("azure-devops").stdout;
        assert!(ado.lines().any(|l| l.starts_with(&expected)), "{given:?}: {expected}\n{ado}");
        assert!(
            ado.ends_with("##vso[task.complete result=Failed;]isenet verify: bad input\n"),
            "{ado}"
        );
        let sarif = run("sarif").json();
        assert_eq!(sarif_errors(&sarif), Vec::<String>::new(), "{given:?}");
        let invocation = &sarif["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false, "{given:?}: {sarif:#}");
        let notification = &invocation["toolExecutionNotifications"][0];
        assert_eq!(
            (&notification["descriptor"]["id"], &notification["level"]),
            (&json!("W0505"), &json!("error")),
            "{given:?}"
        );
        let junit = run("junit").stdout;
        assert!(junit.contains("<failure") && junit.contains("W0505"), "{given:?}: {junit}");
        // JSON counts it as the error it was, as the text's count line does.
        let json = run("json").json();
        let diagnostic = &json["diagnostics"][0];
        assert_eq!(
            (&json["errors"], &json["warnings"], &diagnostic["code"], &diagnostic["severity"]),
            (&json!(1), &json!(0), &json!("W0505"), &json!("error")),
            "{given:?}: {json:#}"
        );
        let text = run("text").stderr;
        assert!(
            text.contains("error[W0505]") && text.contains("1 error(s), 0 warning(s)"),
            "{given:?}: {text}"
        );
    }
}

#[test]
fn notes_are_left_out_of_the_ci_formats_unless_verbose() {
    // isenet's own NSG keeps rules that decide nothing to document a requirement: each is a note
    // (F0103, F0104) on every run, and the run passes.
    let json = isenet(&["verify", "--env", ENV, "--format", "json"]);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let notes = json.json()["environments"][0]["verification"]["proofs"][0]["summary"]["notes"]
        .as_u64()
        .unwrap() as usize;
    assert!(notes > 0, "the example's NSG has notes");
    let run = |format: &str, verbose: bool| {
        let mut args = vec!["verify", "--env", ENV, "--format", format];
        if verbose {
            args.push("--verbose");
        }
        let r = isenet(&args);
        assert_eq!(r.code, Some(0), "{format}: {}", r.stderr);
        r.stdout
    };
    // A passing run annotates nothing: Azure Pipelines has no notice level (a note would be a
    // warning of a passing build), and GitHub would show each note on every run.
    assert_eq!(run("azure-devops", false), "");
    assert_eq!(run("github", false), "");
    let ado = run("azure-devops", true);
    assert_eq!(
        ado.lines().filter(|l| l.starts_with("##vso[task.logissue type=warning;")).count(),
        notes,
        "{ado}"
    );
    let github = run("github", true);
    assert_eq!(github.lines().filter(|l| l.starts_with("::notice ")).count(), notes, "{github}");
    // Code scanning keeps every result as an alert until it goes away: none for notes.
    let sarif: Value = serde_json::from_str(&run("sarif", false)).unwrap();
    assert_eq!(sarif_errors(&sarif), Vec::<String>::new());
    assert_eq!(sarif["runs"][0]["results"], json!([]), "{sarif:#}");
    let verbose: Value = serde_json::from_str(&run("sarif", true)).unwrap();
    let results = verbose["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), notes);
    assert!(results.iter().all(|r| r["level"] == "note"), "{verbose:#}");
    // Failing findings are reported whatever the flag.
    let dir = tempdir("notes-and-errors");
    let (nsg, _, _) = broken_nsg(&dir);
    let github = verify(&nsg, "github").stdout;
    assert!(
        github.lines().any(|l| l.starts_with("::error ")) && !github.contains("::notice "),
        "{github}"
    );
}

/// An uncovered outbound destination points at its own entry of the file, in the file's order:
/// the plan holds the destinations sorted by name, and locating by the plan's index put each
/// finding on another destination's entry.
#[test]
fn an_uncovered_destination_points_at_its_own_entry_whatever_the_files_order() {
    let dir = tempdir("sarif-destination-order");
    let mut env: Value = serde_json::from_str(&std::fs::read_to_string(workspace().join(ENV)).unwrap()).unwrap();
    let dest = |name: &str, prefix: &str, port: &str| json!({"name": name, "prefixes": [prefix], "protocol": "Tcp", "ports": [port]});
    env["outboundDestinations"] = json!([dest("zeta", "203.0.113.10/32", "22"), dest("alpha", "198.51.100.7/32", "8443")]);
    // Restricted: only the destinations' own rules let their traffic out.
    env["outboundPolicy"] = json!("restricted");
    let text = serde_json::to_string_pretty(&env).unwrap();
    std::fs::write(dir.join("env.json"), &text).unwrap();
    let compiled = super::common::isenet_in(&dir, &["compile", "--env", "env.json", "--out-dir", "out"]);
    assert_eq!(compiled.code, Some(0), "{}", compiled.stderr);
    // Where each entry's `{` stands: the line above its `"name"` (pretty-printed).
    let lines: Vec<&str> = text.lines().collect();
    let entry = |name: &str| {
        let at = lines.iter().position(|l| l.contains(&format!("\"name\": \"{name}\""))).unwrap() - 1;
        assert!(lines[at].trim_end().ends_with('{'), "{}", lines[at]);
        (at as u64 + 1, lines[at].find('{').unwrap() as u64 + 1)
    };
    for (name, other) in [("zeta", "alpha"), ("alpha", "zeta")] {
        std::fs::write(
            dir.join("nsg.json"),
            without_rules(&dir, "nsg.json", &[&format!("out-dest-{name}")]),
        )
        .unwrap();
        let run = super::common::isenet_in(&dir, &["verify", "--env", "env.json", "--nsg", "nsg.json", "--format", "sarif"]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        let found = located(&run.json(), &format!("out-dest-{name}"));
        let (line, column) = entry(name);
        assert_eq!(
            found,
            [("F0101".to_string(), "env.json".to_string(), line, column)],
            "not at {other}'s entry"
        );
    }
}

/// Azure's default rules are named as the NSG resource lists them (`defaultSecurityRules`), apart
/// from the rules someone wrote.
#[test]
fn sarif_names_azure_s_default_rules_as_the_nsg_lists_them() {
    let dir = tempdir("sarif-default-rule");
    let mut nsg = compiled_example_nsg(&dir);
    nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "deny-all-inbound");
    let path = dir.join("no-deny-all.json");
    std::fs::write(&path, serde_json::to_string_pretty(&nsg).unwrap()).unwrap();
    let doc = verify(path.to_str().unwrap(), "sarif").json();
    assert!(schema_errors(&doc).is_empty());
    let names: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "F0109")
        .map(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nsg/defaultSecurityRules/AllowVnetInBound"]);
}
