//! Output for people: `--color auto|always|never` with `NO_COLOR` and `CLICOLOR_FORCE`, and
//! `--quiet`. Machine formats never hold an escape code, whatever the colour settings: checked
//! exhaustively over the commands, their machine formats and the colour settings.

use super::common::workspace;
use super::pipeline::tempdir;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ESC: char = '\u{1b}';

/// Colour settings of a run: command-line flags and environment variables.
type Setting<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);

/// Runs isenet with stdout and stderr piped (not terminals), the colour variables cleared and
/// then `vars` set: (exit code, stdout, stderr).
fn run(args: &[&str], vars: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isenet"));
    cmd.args(args)
        .current_dir(workspace())
        .stdin(Stdio::null())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run isenet");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The example compiled into `dir/out`, and a copy of its NSG with the rule of `in-intersubnet`
/// removed (an uncovered requirement).
fn artifacts(dir: &Path) -> (PathBuf, PathBuf) {
    let out = dir.join("out");
    assert_eq!(run(&["compile", "--out-dir", out.to_str().unwrap()], &[]).0, 0);
    let mut nsg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "in-intersubnet");
    let broken = dir.join("broken-nsg.json");
    std::fs::write(&broken, serde_json::to_string_pretty(&nsg).unwrap()).unwrap();
    (out, broken)
}

/// The inputs of the runs below, as arguments: the example's compiled output folder, its broken
/// NSG, and two environments of different names (contoso-ise, fabrikam-ise).
struct Fixture {
    out: String,
    broken: String,
    e1: String,
    e2: String,
}

impl Fixture {
    fn new(dir: &Path) -> Fixture {
        let (out, broken) = artifacts(dir);
        let arg = |p: PathBuf| p.to_str().unwrap().to_string();
        let envs = workspace().join("tests/envs");
        Fixture {
            out: arg(out),
            broken: arg(broken),
            e1: arg(envs.join("public-internal.json")),
            e2: arg(envs.join("public-external-callers.json")),
        }
    }
}

const BAD_ENV: &str = "tests/bad-inputs/007-unknown-top-level-field.json";

#[test]
fn colour_follows_the_flag_no_color_and_clicolor_force() {
    let dir = tempdir("colour");
    let (_, broken) = artifacts(&dir);
    let b = broken.to_str().unwrap();
    // Findings (stdout) and diagnostics (stderr) of text output, piped.
    let cases: [(Setting, bool); 10] = [
        ((&["--color", "always"], &[]), true),
        // CLICOLOR's convention: set and not 0 forces colour; 0 (however written) or blank does not.
        ((&[], &[("CLICOLOR_FORCE", "0")]), false),
        ((&[], &[("CLICOLOR_FORCE", "00")]), false),
        ((&[], &[("CLICOLOR_FORCE", " ")]), false),
        ((&["--color", "never"], &[("CLICOLOR_FORCE", "1")]), false),
        ((&[], &[]), false), // auto, and not a terminal
        ((&["--color", "auto"], &[("CLICOLOR_FORCE", "1")]), true),
        ((&[], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]), false),
        ((&[], &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]), true), // an empty NO_COLOR is unset
        ((&["--color", "always"], &[("NO_COLOR", "1")]), true),      // the flag beats the variable
    ];
    for ((flags, vars), coloured) in cases {
        let mut verify: Vec<&str> = flags.to_vec();
        verify.extend(["verify", "--nsg", b]);
        let (code, out, _) = run(&verify, vars);
        assert_eq!(code, 1);
        assert_eq!(out.contains(ESC), coloured, "verify {flags:?} {vars:?}:\n{out}");
        let mut validate: Vec<&str> = flags.to_vec();
        validate.extend(["validate", "--env", BAD_ENV]);
        let (code, _, err) = run(&validate, vars);
        assert_eq!(code, 2);
        assert_eq!(err.contains(ESC), coloured, "validate {flags:?} {vars:?}:\n{err}");
        // Colour changes nothing but the escape codes.
        let (_, plain, _) = run(&[&["--color", "never"][..], &verify[flags.len()..]].concat(), &[]);
        assert_eq!(strip(&out), plain);
    }
    // The colours mean something: an error finding in red, a passing result in green.
    let (_, out, _) = run(&["--color", "always", "verify", "--nsg", b], &[]);
    assert!(out.contains("\u{1b}[1m\u{1b}[31merror\u{1b}[0m"), "{out}");
    let (_, out, _) = run(&["--color", "always", "validate"], &[]);
    assert!(out.contains("\u{1b}[1m\u{1b}[32mvalid\u{1b}[0m"), "{out}");
    let (_, _, err) = run(&["--color", "always", "compile", "--bogus"], &[]);
    assert!(
        err.starts_with("\u{1b}[1m\u{1b}[31merror\u{1b}[0m\u{1b}[1m[E1800"),
        "usage errors too: {err:?}"
    );
}

/// Removes SGR escape sequences (`ESC [ ... m`).
fn strip(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == ESC {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn machine_formats_never_hold_an_escape_code_whatever_the_colour_settings() {
    let dir = tempdir("machine");
    let f = Fixture::new(&dir);
    let (b, o, e1, e2) = (f.broken.as_str(), f.out.as_str(), f.e1.as_str(), f.e2.as_str());
    let tags_old = "tests/fixtures/ServiceTags_Public_20240506.json";
    let tags_new = "data/servicetags/ServiceTags_Public_20251028.json";
    let mut commands: Vec<Vec<&str>> = Vec::new();
    for format in ["json", "sarif", "junit", "github", "azure-devops"] {
        commands.push(vec!["verify", "--nsg", b, "--format", format]);
        // --verbose: the notes too, so that a passing run's annotations are a document as well.
        commands.push(vec!["verify", "--env", e1, "--env", e2, "--format", format, "--verbose"]);
        commands.push(vec!["verify", "--env", BAD_ENV, "--env", e2, "--format", format]);
    }
    commands.extend([
        vec!["validate", "--format", "json"],
        vec!["validate", "--env", BAD_ENV, "--format", "json"],
        vec!["validate", e1, BAD_ENV, "--format", "json"],
        vec!["tags", "diff", tags_old, tags_new, "--env", e1, "--format", "json"],
        vec!["tags", "diff", tags_old, tags_new, "--env", e1, "--env", e2, "--format", "json"],
        vec!["--error-format", "json", "compile", e1, e2, "--out-dir", o, "--check"],
        vec!["--error-format", "json", "compile", "--env", BAD_ENV],
        vec!["--error-format", "json", "compile", "--bogus"],
        vec!["--error-format", "json", "compile", "--check", "--out-dir", o],
        vec!["requirements", "--format", "json"],
        vec!["requirements", "--format", "csv"],
        vec!["compile", "--only", "nsg", "--stdout"],
    ]);
    let settings: [Setting; 5] = [
        (&["--color", "always"], &[]),
        (&["--color", "always"], &[("CLICOLOR_FORCE", "1")]),
        (&["--color", "never"], &[]),
        (&["--color", "auto"], &[("CLICOLOR_FORCE", "1")]),
        (&[], &[("NO_COLOR", "1")]),
    ];
    for args in &commands {
        for (flags, vars) in settings {
            let all = [flags, &args[..]].concat();
            let (code, stdout, _) = run(&all, vars);
            assert!(code >= 0, "{all:?} ended by a signal");
            assert!(!stdout.is_empty(), "{all:?} printed a document");
            assert!(
                !stdout.contains(ESC),
                "{all:?} {vars:?}: an escape code in a machine format:\n{stdout}"
            );
        }
    }
}

#[test]
fn quiet_prints_nothing_on_success_and_only_findings_on_failure() {
    let dir = tempdir("quiet");
    let f = Fixture::new(&dir);
    let (b, o, e1, e2) = (f.broken.as_str(), f.out.as_str(), f.e1.as_str(), f.e2.as_str());
    let same = "data/servicetags/ServiceTags_Public_20251028.json";
    let old = "tests/fixtures/ServiceTags_Public_20240506.json";
    let fresh = dir.join("fresh");
    let fr = fresh.to_str().unwrap();
    let fleet_out = format!("{fr}-fleet");
    // Success: nothing at all on either stream, and the work is done.
    for args in [
        vec!["validate"],
        vec!["validate", e1, e2],
        vec!["compile", "--out-dir", fr],
        vec!["compile", e1, e2, "--out-dir", &fleet_out],
        vec!["compile", "--check", "--out-dir", o],
        vec!["verify", "--nsg", &format!("{o}/nsg.json")],
        vec!["verify", e1, e2],
        vec!["tags", "diff", same, same, "--env", e1],
        vec!["tags", "diff", same, same, "--env", e1, "--env", e2],
    ] {
        let all = [&["--quiet"][..], &args[..]].concat();
        let (code, stdout, stderr) = run(&all, &[]);
        assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""), "{all:?}");
    }
    assert!(fresh.join("nsg.json").is_file(), "compile --quiet still writes");
    assert!(Path::new(&fleet_out).join("fabrikam-ise/nsg.json").is_file(), "a fleet too");

    // Failure: the findings, one per line, and nothing else; the exit code is unchanged.
    let (code, stdout, stderr) = run(&["-q", "verify", "--nsg", b], &[]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        !lines.is_empty() && lines.iter().all(|l| l.starts_with("nsg: error F0101 ")),
        "{stdout}"
    );
    assert!(stdout.contains("in-intersubnet"));

    let (code, stdout, stderr) = run(&["-q", "validate", "--env", BAD_ENV], &[]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(stderr.starts_with("error[E0101]"), "{stderr}");
    assert!(!stderr.contains("error(s)"), "no count summary: {stderr}");

    let (code, stdout, _) = run(&["-q", "tags", "diff", old, same, "--env", e1, "--expand-tags"], &[]);
    assert_eq!(code, 1);
    // One line per changed item of an artifact: `nsg.json rule in-apim-mgmt-3443 changed (...)`.
    let item = |l: &str| {
        let file = l.split(' ').next().unwrap();
        file.contains('.') && [" changed", " added", " removed"].iter().any(|w| l.contains(w))
    };
    assert!(stdout.lines().all(item), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("nsg.json rule ")), "{stdout}");
    assert!(!stdout.contains("service tags Public"), "no whole-cloud summary: {stdout}");

    let (code, stdout, _) = run(&["-q", "tags", "diff", old, same, "--env", e1, "--env", e2, "--expand-tags"], &[]);
    assert_eq!(code, 1);
    for l in stdout.lines() {
        let rest = l.strip_prefix("contoso-ise: ").or_else(|| l.strip_prefix("fabrikam-ise: "));
        assert!(rest.is_some_and(item), "{l}");
    }
    assert!(stdout.contains("fabrikam-ise: nsg.json rule "), "{stdout}");

    // compile --check: the stale files only.
    std::fs::write(Path::new(o).join("nsg.json"), "{}").unwrap();
    let (code, stdout, stderr) = run(&["-q", "compile", "--check", "--out-dir", o], &[]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    assert_eq!(stdout, format!("stale: {o}/nsg.json\n"));
}
