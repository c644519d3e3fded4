//! The catalogue of bad environment files (tests/bad-inputs/, expectations in expected.csv) run
//! through the real `isenet validate`: exit codes, the exact multiset of codes and JSON paths, the
//! shape of every diagnostic in JSON and text mode, warnings under `--deny-warnings`; and a property
//! test that the loader never panics on mutated input and fails exactly when it reports an error.

use crate::common::{self, isenet, manifest, Row, SchemaExpectation};
use ise_model::codes;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every failure of a check over many files, reported together.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
    fn assert_none(self) {
        assert!(self.0.is_empty(), "{} problem(s):\n{}", self.0.len(), self.0.join("\n"));
    }
}

fn is_code(s: &str) -> bool {
    s.len() == 5 && (s.starts_with('E') || s.starts_with('W')) && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// `NNN-short-description.json`.
fn well_named(file: &str) -> bool {
    let Some(stem) = file.strip_suffix(".json") else { return false };
    let (num, desc) = stem.split_at(stem.len().min(3));
    num.len() == 3
        && num.bytes().all(|b| b.is_ascii_digit())
        && desc.starts_with('-')
        && desc.len() > 1
        && desc[1..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[test]
fn catalogue_and_manifest_list_the_same_files() {
    let files: Vec<String> = common::json_files(&common::bad_inputs_dir())
        .iter()
        .map(|p| common::file_name(p))
        .collect();
    assert!(files.len() >= 30, "the catalogue needs at least 30 bad files, has {}", files.len());
    let rows = manifest();
    let listed: Vec<&str> = rows.iter().map(|r| r.file.as_str()).collect();
    let listed_set: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(listed.len(), listed_set.len(), "a file is listed twice in expected.csv");
    let on_disk: BTreeSet<&str> = files.iter().map(String::as_str).collect();
    let missing_rows: Vec<_> = on_disk.difference(&listed_set).collect();
    let missing_files: Vec<_> = listed_set.difference(&on_disk).collect();
    assert!(missing_rows.is_empty(), "files without a row in expected.csv: {missing_rows:?}");
    assert!(missing_files.is_empty(), "rows of expected.csv without a file: {missing_files:?}");

    let mut f = Failures::default();
    let mut numbers = BTreeSet::new();
    for row in &rows {
        f.check(well_named(&row.file), || {
            format!("{}: name it NNN-short-description.json", row.file)
        });
        f.check(numbers.insert(row.file[..3.min(row.file.len())].to_string()), || {
            format!("{}: number used twice", row.file)
        });
        let mut sorted = row.diagnostics.clone();
        sorted.sort();
        f.check(sorted == row.diagnostics, || {
            format!("{}: codes (and their paths) must be sorted", row.file)
        });
        for (code, _) in &row.diagnostics {
            f.check(is_code(code) && codes::ALL.iter().any(|c| c.code == code), || {
                format!("{}: `{code}` is not a registered code", row.file)
            });
        }
        if row.diagnostics.iter().any(|(c, _)| c == codes::E_SYNTAX) {
            f.check(row.schema == SchemaExpectation::NotApplicable, || {
                format!("{}: a file that is not JSON cannot be refused by the schema: n/a", row.file)
            });
        }
    }
    f.assert_none();
}

/// Whether a registered code is one the environment validator reports. The registry is grouped by
/// hundreds: 00xx-08xx are the environment file's (syntax, fields, network, location, tunneling,
/// callers, ports, certificates, DNS); 09xx are service-tag files, 10xx and up later stages (NSG
/// plan, output directory, NSG files), of which `validate` reports the plan limit an environment
/// alone decides (E1002, too many outbound destinations; E1006, a destination named like another's
/// split rules, which E1007, over 4,000 addresses on one side of the NSG, comes with; E1003, more
/// routes than a table holds, as too many external callers in firewall mode make), and 1600-1649: the identity and
/// encryption fields of the environment. E0001 (unreadable file), E0004 (file over 64 MiB),
/// E0007 (more values or items than any valid file) and E0008 (not UTF-8 text) are exercised by
/// `a_missing_file_is_reported_with_e0001`, the hostile-input tests and `tests/e2e/encodings.rs`,
/// as a catalogue file can be neither missing nor that large, and is read as UTF-8 by its tests.
fn is_environment_code(code: &str) -> bool {
    let generated = [codes::E_READ, codes::E_TOO_LARGE, codes::E_TOO_MANY, codes::E_ENCODING];
    (!generated.contains(&code) && code[1..].parse::<u32>().is_ok_and(|n| n < 900 || (1600..1650).contains(&n)))
        || code == codes::E_NSG_DESTINATIONS
        || code == codes::E_NSG_RULE_NAMES
        || code == codes::E_ROUTE_LIMIT
        || code == codes::E_NSG_ADDRESSES
}

#[test]
fn catalogue_covers_every_environment_code() {
    let covered: BTreeSet<String> = manifest()
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(|(c, _)| c.clone()))
        .collect();
    let env_codes: Vec<&str> = codes::ALL.iter().map(|c| c.code).filter(|c| is_environment_code(c)).collect();
    assert!(env_codes.len() >= 30, "the environment codes of the registry: {env_codes:?}");
    let missing: Vec<&str> = env_codes.iter().copied().filter(|c| !covered.contains(*c)).collect();
    assert!(missing.is_empty(), "codes no catalogue file triggers: {missing:?}");
    let foreign: Vec<&String> = covered.iter().filter(|c| !is_environment_code(c)).collect();
    assert!(foreign.is_empty(), "codes the environment validator should not report: {foreign:?}");
    assert!(missing.is_empty(), "codes no catalogue file triggers: {missing:?}");
    let rows = manifest();
    assert!(
        rows.iter().filter(|r| r.is_warning_only()).count() >= 5,
        "warning-only files are part of the catalogue"
    );
    assert!(
        rows.iter().filter(|r| r.diagnostics.len() >= 3).count() >= 5,
        "files with several problems at once are part of the catalogue"
    );
}

/// Whether the reported position points at the value at `path` in `text`: the line holds the field
/// name (when the path ends in one) and the column is where a JSON value starts.
fn position_points_at(text: &str, path: &str, line: usize, column: usize) -> Result<(), String> {
    let line_text = text
        .lines()
        .nth(line.wrapping_sub(1))
        .ok_or_else(|| format!("line {line} is past the end of the file"))?;
    if let Some(common::Step::Field(name)) = common::steps(path).last() {
        if !line_text.contains(&format!("\"{name}\"")) {
            return Err(format!("line {line} (`{}`) does not hold `\"{name}\"`", line_text.trim()));
        }
    }
    match line_text.chars().nth(column.wrapping_sub(1)) {
        Some(c) if "\"{[-0123456789tfn".contains(c) => Ok(()),
        other => Err(format!(
            "{line}:{column} is `{other:?}`, not the start of a value, in `{}`",
            line_text.trim()
        )),
    }
}

/// Checks one `validate --format json` (or `--error-format json`) document against a row.
fn check_json_report(f: &mut Failures, row: &Row, passed: &str, text: &str, doc: &Value, deny_warnings: bool) {
    let name = &row.file;
    let Some(diags) = doc["diagnostics"].as_array() else {
        f.check(false, || format!("{name}: no `diagnostics` array in {doc}"));
        return;
    };
    let mut got: Vec<(String, String)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("?").to_string(),
                d["path"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    got.sort();
    f.check(got == row.diagnostics, || {
        format!("{name}: expected {:?}\n    got {got:?}", row.diagnostics)
    });
    // Under --deny-warnings a warning refuses the file and counts as the error it was (README).
    let errors = row.diagnostics.iter().filter(|(c, _)| deny_warnings || c.starts_with('E')).count();
    let warnings = row.diagnostics.len() - errors;
    f.check(doc["errors"] == errors && doc["warnings"] == warnings, || {
        format!(
            "{name}: counts {} errors {} warnings, expected {errors} and {warnings}",
            doc["errors"], doc["warnings"]
        )
    });
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    for d in diags {
        let code = d["code"].as_str().unwrap_or_default();
        let path = d["path"].as_str().unwrap_or_default();
        let what = format!("{name}: {code} at `{path}`");
        let severity = if deny_warnings || code.starts_with('E') {
            "error"
        } else {
            "warning"
        };
        f.check(d["severity"] == severity, || {
            format!("{what}: severity {} (deny_warnings={deny_warnings})", d["severity"])
        });
        f.check(d["file"] == passed, || {
            format!("{what}: file {} is not the path passed ({passed})", d["file"])
        });
        f.check(d["message"].as_str().is_some_and(|m| !m.trim().is_empty()), || {
            format!("{what}: empty message")
        });
        f.check(d["help"].as_str().is_some_and(|h| !h.trim().is_empty()), || {
            format!("{what}: no help (say how to fix it)")
        });
        let (line, column) = (d["line"].as_u64(), d["column"].as_u64());
        if code == codes::E_SYNTAX {
            f.check(line.is_some() && column.is_some(), || {
                format!("{what}: a syntax error needs line:column")
            });
            f.check(d["message"].as_str().is_some_and(|m| m.contains("line")), || {
                format!("{what}: the message should say where: {}", d["message"])
            });
        } else if let Some(doc) = &parsed {
            if common::lookup(doc, path).is_some() {
                match (line, column) {
                    (Some(l), Some(c)) => {
                        if let Err(e) = position_points_at(text, path, l as usize, c as usize) {
                            f.check(false, || format!("{what}: {e}"));
                        }
                    }
                    _ => f.check(false, || format!("{what}: the path exists in the file but no line:column is given")),
                }
            }
        }
    }
}

#[test]
fn every_bad_input_reports_exactly_its_expected_diagnostics_as_json() {
    let mut f = Failures::default();
    for row in manifest() {
        let path = row.path();
        let passed = path.display().to_string();
        let raw = std::fs::read_to_string(&path).expect("fixture");
        // Positions count from the character after a byte-order mark, as editors do.
        let text = ise_model::jsondoc::strip_bom(&raw);
        let run = isenet(&["validate", "--env", &passed, "--format", "json"]);
        f.check(run.code == Some(row.expected_exit()), || {
            format!("{}: exit {:?}, expected {}", row.file, run.code, row.expected_exit())
        });
        f.check(!run.stderr.contains("panicked"), || {
            format!("{}: panicked:\n{}", row.file, run.stderr)
        });
        match serde_json::from_str::<Value>(&run.stdout) {
            Ok(doc) => check_json_report(&mut f, &row, &passed, text, &doc, false),
            Err(e) => f.check(false, || format!("{}: stdout is not JSON ({e}): {}", row.file, run.stdout)),
        }
    }
    f.assert_none();
}

/// A relative path is reported as given, too.
#[test]
fn diagnostics_name_the_file_as_it_was_passed() {
    let row = manifest()
        .into_iter()
        .find(|r| r.diagnostics.len() >= 3)
        .expect("a file with several problems");
    let relative = format!("tests/bad-inputs/{}", row.file);
    let run = isenet(&["validate", "--env", &relative, "--format", "json"]);
    assert_eq!(run.code, Some(2));
    let doc = run.json();
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), row.diagnostics.len());
    assert!(diags.iter().all(|d| d["file"] == relative.as_str()), "{doc}");
}

#[test]
fn text_mode_prints_each_problem_on_stderr_and_never_panics() {
    let mut f = Failures::default();
    for row in manifest() {
        let passed = row.path().display().to_string();
        let run = isenet(&["validate", "--env", &passed]);
        let name = &row.file;
        f.check(run.code == Some(row.expected_exit()), || {
            format!("{name}: exit {:?}, expected {}", run.code, row.expected_exit())
        });
        f.check(!run.stderr.contains("panicked") && !run.stdout.contains("panicked"), || {
            format!("{name}: panicked:\n{}", run.stderr)
        });
        // `error[E0108]: FILE:12:17: subnets[2].prefix: message`, one per diagnostic.
        let mut got: Vec<(String, String)> = Vec::new();
        for line in run.stderr.lines() {
            let Some((severity, rest)) = line.split_once('[') else { continue };
            if severity != "error" && severity != "warning" {
                continue;
            }
            let Some((code, rest)) = rest.split_once("]: ") else { continue };
            f.check((severity == "error") == code.starts_with('E'), || {
                format!("{name}: `{line}` has the wrong severity")
            });
            f.check(rest.starts_with(&passed), || format!("{name}: `{line}` does not name the file"));
            let after_file = &rest[passed.len().min(rest.len())..];
            // Skip the optional `:line:column`, then the path (if any) precedes `: message`.
            let after_pos = after_file.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit());
            let expected_path = row
                .diagnostics
                .iter()
                .find(|(c, p)| c == code && !p.is_empty() && after_pos.starts_with(&format!(" {p}: ")))
                .map(|(_, p)| p.clone());
            got.push((code.to_string(), expected_path.unwrap_or_default()));
        }
        got.sort();
        let mut expected = row.diagnostics.clone();
        expected.sort();
        f.check(got == expected, || {
            format!("{name}: stderr lists {got:?}, expected {expected:?}\n{}", run.stderr)
        });
        let helps = run.stderr.lines().filter(|l| l.starts_with("  help: ")).count();
        f.check(helps == row.diagnostics.len(), || {
            format!("{name}: {helps} help lines for {} problems", row.diagnostics.len())
        });
        if row.is_warning_only() {
            f.check(run.stdout.contains(": valid"), || {
                format!("{name}: a warning-only file is valid: {}", run.stdout)
            });
        } else {
            let summary = format!("{} error(s)", row.diagnostics.iter().filter(|(c, _)| c.starts_with('E')).count());
            f.check(run.stderr.contains(&summary), || format!("{name}: no `{summary}` summary"));
            f.check(run.stdout.is_empty(), || {
                format!("{name}: nothing goes to stdout when the file is invalid: {}", run.stdout)
            });
        }
    }
    f.assert_none();
}

#[test]
fn warnings_pass_unless_denied() {
    let mut f = Failures::default();
    let rows = manifest();
    for row in &rows {
        let passed = row.path().display().to_string();
        let text = std::fs::read_to_string(row.path()).expect("fixture");
        let run = isenet(&["--deny-warnings", "validate", "--env", &passed, "--format", "json"]);
        // Under --deny-warnings any diagnostic fails the run, and the same diagnostics are reported.
        f.check(run.code == Some(2), || {
            format!("{}: exit {:?} under --deny-warnings, expected 2", row.file, run.code)
        });
        match serde_json::from_str::<Value>(&run.stdout) {
            Ok(doc) => check_json_report(&mut f, row, &passed, &text, &doc, true),
            Err(e) => f.check(false, || format!("{}: stdout is not JSON ({e}): {}", row.file, run.stdout)),
        }
        if row.is_warning_only() {
            let text_run = isenet(&["validate", "--env", &passed, "--deny-warnings"]);
            f.check(text_run.code == Some(2), || {
                format!("{}: text mode under --deny-warnings exits {:?}", row.file, text_run.code)
            });
            f.check(!text_run.stdout.contains("valid"), || {
                format!("{}: denied warnings are not `valid`", row.file)
            });
        }
    }
    f.assert_none();
}

/// `requirements` reads the environment through the same checks: a bad file stops it with the same
/// diagnostics, printed as JSON under the global `--error-format json`.
#[test]
fn requirements_refuses_bad_inputs_with_the_same_diagnostics() {
    let mut f = Failures::default();
    for row in manifest().into_iter().filter(Row::has_errors) {
        let passed = row.path().display().to_string();
        let text = std::fs::read_to_string(row.path()).expect("fixture");
        let run = isenet(&["--error-format", "json", "requirements", "--env", &passed]);
        f.check(run.code == Some(2), || {
            format!("{}: requirements exit {:?}, expected 2", row.file, run.code)
        });
        match serde_json::from_str::<Value>(&run.stdout) {
            Ok(doc) => check_json_report(&mut f, &row, &passed, &text, &doc, false),
            Err(e) => f.check(false, || format!("{}: stdout is not JSON ({e}): {}", row.file, run.stdout)),
        }
    }
    f.assert_none();
}

#[test]
fn a_missing_file_is_reported_with_e0001() {
    let passed = common::bad_inputs_dir().join("000-does-not-exist.json").display().to_string();
    let run = isenet(&["validate", "--env", &passed, "--format", "json"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    let doc = run.json();
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{doc}");
    assert_eq!(diags[0]["code"], codes::E_READ);
    assert_eq!(diags[0]["file"], passed.as_str());
    assert!(diags[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(doc["errors"], 1);

    let text = isenet(&["validate", "--env", &passed]);
    assert_eq!(text.code, Some(2));
    assert!(text.stderr.contains(&format!("error[E0001]: {passed}")), "{}", text.stderr);
    assert!(!text.stderr.contains("panicked"));
}

// --- the loader on mutated input ---------------------------------------------------------------

/// Strings a field of an environment might plausibly hold, and some that it should not.
fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[0-9./:*-]{0,20}",
        prop::sample::select(vec![
            "",
            "10.10.1.0/27",
            "10.10.1.1/27",
            "0.0.0.0/0",
            "10.10.0.0/16",
            "fd00::/8",
            "fd00::1",
            "100.64.0.1",
            "127.0.0.1/8",
            "168.63.129.16",
            "*",
            "22",
            "0-65535",
            "65536",
            "1-0",
            "none",
            "firewall",
            "expressRoute",
            "external",
            "internal",
            "Developer",
            "Premium",
            "usgovernment",
            "china",
            "public",
            "usgovvirginia",
            "usdodeast",
            "chinanorth2",
            "West US 2",
            "westus3",
            "MAUwAwIBAQ==",
            "-----BEGIN CERTIFICATE-----",
            "Tcp",
            "Udp",
            "é",
            "\u{0}",
            "ise-1",
        ])
        .prop_map(str::to_string),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-3i64..30).prop_map(Value::from),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(prop_oneof!["[a-zA-Z]{1,16}", arb_string()], inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The JSON pointer of every value in a document, the root (``) first.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| pointers(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        _ => {}
    }
}

fn example() -> Value {
    serde_json::from_str(EXAMPLE_ENVIRONMENT).expect("example parses")
}

/// The loader's contract: no panic, `env` exactly when no error, every diagnostic complete.
fn check_loader(text: &str) -> Result<(), TestCaseError> {
    let loaded = match common::load_within_deadline(text, "mutant.json") {
        Ok(loaded) => loaded,
        Err(e) => return Err(TestCaseError::fail(format!("{e}:\n{text}"))),
    };
    let has_error = loaded.diagnostics.iter().any(|d| d.is_error());
    prop_assert_eq!(
        loaded.env.is_none(),
        has_error,
        "env is {:?} with diagnostics {:?}",
        loaded.env.is_some(),
        loaded.diagnostics
    );
    for d in &loaded.diagnostics {
        prop_assert_eq!(&d.file, "mutant.json");
        prop_assert!(!d.message.is_empty(), "{:?}", d);
        prop_assert!(codes::ALL.iter().any(|c| c.code == d.code), "unregistered code {}", d.code);
    }
    Ok(())
}

fn config() -> Config {
    // Fixed seed: the run is the same every time; no regression files are written.
    Config {
        cases: 400,
        rng_seed: RngSeed::Fixed(0x15e_2026),
        failure_persistence: None,
        // A failing case is reported as found: shrinking could abandon many hung loader threads.
        max_shrink_iters: 0,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn loader_survives_replaced_values(target in any::<prop::sample::Index>(), replacement in arb_json(), pretty in any::<bool>()) {
        let mut doc = example();
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let at = target.get(&all).clone();
        *doc.pointer_mut(&at).expect("pointer from the document") = replacement;
        let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
        check_loader(&text)?;
    }

    #[test]
    fn loader_survives_removed_and_added_fields(target in any::<prop::sample::Index>(), key in "[a-zA-Z$]{1,16}", value in arb_json(), remove in any::<bool>()) {
        let mut doc = example();
        let mut objects = Vec::new();
        pointers(&doc, String::new(), &mut objects);
        objects.retain(|p| doc.pointer(p).is_some_and(Value::is_object));
        let at = target.get(&objects).clone();
        let map = doc.pointer_mut(&at).and_then(Value::as_object_mut).expect("an object");
        if remove && !map.is_empty() {
            let k = map.keys().nth(key.len() % map.len()).cloned().unwrap();
            map.remove(&k);
        } else {
            map.insert(key, value);
        }
        check_loader(&serde_json::to_string_pretty(&doc).unwrap())?;
    }

    #[test]
    fn loader_survives_truncation(cut in any::<prop::sample::Index>()) {
        // Cut before the closing brace at the latest (cutting only trailing whitespace leaves valid JSON).
        let body = EXAMPLE_ENVIRONMENT.trim_end();
        let bounds: Vec<usize> = body.char_indices().map(|(i, _)| i).collect();
        let text = &body[..*cut.get(&bounds)];
        check_loader(text)?;
        // A truncated document is never valid JSON, so it is never an environment.
        prop_assert!(ise_model::env::load(text, "t").env.is_none());
    }

    #[test]
    fn loader_survives_character_edits(edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec!["", "{", "}", "[", "]", ",", ":", "\"", "\\", "0", "-", " ", "\n", "é", "null"])), 1..4)) {
        let mut text = EXAMPLE_ENVIRONMENT.to_string();
        for (at, insert) in edits {
            let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let i = *at.get(&bounds);
            // Replace the character at `i` with `insert` (an empty string deletes it).
            let len = text[i..].chars().next().map_or(0, char::len_utf8);
            text.replace_range(i..i + len, insert);
        }
        check_loader(&text)?;
    }
}
