//! `compile --only`, `--stdout`, `--check` and fleets (`compile ENV...`, `--env-dir`) end to end.

use super::common::{isenet, isenet_in, workspace};
use super::pipeline::tempdir;
use crate::common::Scratch;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The files under `dir`, as paths relative to it (`modules/nsg.bicep`), sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            v.extend(names(&e.path()).into_iter().map(|n| format!("{name}/{n}")));
        } else {
            v.push(name);
        }
    }
    v.sort();
    v
}

/// The example as `dir/a.json` and, named `second-ise`, as `dir/b.json`: a fleet of two.
fn two_examples(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let example = dir.join("a.json");
    std::fs::write(&example, isenet(&["example"]).stdout).unwrap();
    let mut second: serde_json::Value = serde_json::from_str(&isenet(&["example"]).stdout).unwrap();
    second["name"] = "second-ise".into();
    let other = dir.join("b.json");
    std::fs::write(&other, second.to_string()).unwrap();
    (example, other)
}

#[test]
fn only_writes_the_selected_artifacts() {
    let dir = tempdir("only");
    let out = dir.join("out");
    let run = isenet(&["compile", "--only", "nsg,firewall", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(names(&out), ["firewall-classic.json", "firewall-policy.json", "nsg.json"]);
    let run = isenet(&["compile", "--only", "routes", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(names(&out), ["route-table.json"], "the directory holds exactly what was compiled");
}

/// A file name selects that file of its backend alone, beside whole backends; a fleet keeps the
/// same selection in each environment's folder.
#[test]
fn only_takes_file_names_too() {
    let dir = tempdir("only-files");
    let out = dir.join("out");
    let run = isenet(&[
        "compile",
        "--only",
        "firewall-policy.json,review.csv,nsg",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(names(&out), ["firewall-policy.json", "nsg.json", "review.csv"]);
    let all = dir.join("all");
    assert_eq!(isenet(&["compile", "--out-dir", all.to_str().unwrap()]).code, Some(0));
    for file in ["firewall-policy.json", "firewall-classic.json", "review.html", "modules/nsg.bicep"] {
        let run = isenet(&["compile", "--only", file, "--stdout"]);
        assert_eq!(run.code, Some(0), "{file}: {}", run.stderr);
        assert_eq!(run.stdout, std::fs::read_to_string(all.join(file)).unwrap(), "{file}");
    }
    let fleet = dir.join("fleet");
    let (env, other) = two_examples(&dir);
    let run = isenet(&[
        "compile",
        env.to_str().unwrap(),
        other.to_str().unwrap(),
        "--only",
        "main.bicep",
        "--out-dir",
        fleet.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for name in ["contoso-ise", "second-ise"] {
        assert_eq!(names(&fleet.join(name)), ["main.bicep"], "{name}");
    }
}

#[test]
fn stdout_prints_the_same_bytes_compile_writes() {
    let dir = tempdir("stdout");
    let out = dir.join("out");
    assert_eq!(isenet(&["compile", "--out-dir", out.to_str().unwrap()]).code, Some(0));
    for (name, file) in [
        ("nsg", "nsg.json"),
        ("routes", "route-table.json"),
        ("subnets", "subnets.json"),
        ("plan", "plan.json"),
    ] {
        let run = isenet(&["compile", "--only", name, "--stdout"]);
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        assert_eq!(run.stdout, std::fs::read_to_string(out.join(file)).unwrap(), "{name}");
    }
}

/// `--env` repeated is a fleet: with `--stdout` it is refused like `ENV... --stdout`, and nothing
/// is written (not even to the default `out`).
#[test]
fn stdout_with_env_repeated_is_a_usage_error_that_writes_nothing() {
    let dir = tempdir("stdout-fleet");
    let (example, other) = two_examples(&dir);
    let (a, b) = (example.to_str().unwrap(), other.to_str().unwrap());
    let run = isenet_in(
        &dir,
        &[
            "--error-format",
            "json",
            "compile",
            "--env",
            a,
            "--env",
            b,
            "--only",
            "nsg",
            "--stdout",
        ],
    );
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["diagnostics"][0]["code"], "E1803");
    assert_eq!(names(&dir), ["a.json", "b.json"], "nothing written");
    let text = isenet_in(&dir, &["compile", "--env", a, "--env", b, "--only", "nsg", "--stdout"]);
    assert_eq!(text.code, Some(2));
    assert!(
        text.stdout.is_empty() && text.stderr.contains("error[E1803]") && text.stderr.contains("--stdout"),
        "{}",
        text.stderr
    );
}

#[test]
fn unknown_or_ambiguous_selections_are_coded_errors_and_write_nothing() {
    let dir = tempdir("only-bad");
    let out = dir.join("out");
    for args in [
        &["compile", "--only", "nsg,nope", "--out-dir", out.to_str().unwrap()][..],
        &["compile", "--only", "firewall", "--stdout"][..],
    ] {
        let mut a = vec!["--error-format", "json"];
        a.extend_from_slice(args);
        let run = isenet(&a);
        assert_eq!(run.code, Some(2), "{args:?}");
        assert_eq!(run.json()["diagnostics"][0]["code"], "E1805", "{args:?}");
    }
    assert!(!out.exists());
}

#[test]
fn check_reports_stale_missing_and_extra_files_and_writes_nothing() {
    let dir = tempdir("check");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let missing = isenet(&["compile", "--check", "--out-dir", o]);
    assert_eq!(missing.code, Some(1));
    assert!(missing.stdout.contains("missing: "), "{}", missing.stdout);
    assert!(!out.exists(), "--check writes nothing");
    assert_eq!(isenet(&["compile", "--out-dir", o]).code, Some(0));
    let fresh = isenet(&["compile", "--check", "--out-dir", o]);
    assert_eq!(fresh.code, Some(0), "{}", fresh.stdout);
    assert!(fresh.stdout.contains("up to date"));
    // A hand edit makes nsg.json stale; compiling only the NSG would drop the other files.
    let nsg = out.join("nsg.json");
    let edited = std::fs::read_to_string(&nsg).unwrap().replace("\"Allow\"", "\"Deny\"");
    std::fs::write(&nsg, edited).unwrap();
    let run = isenet(&["--error-format", "json", "compile", "--check", "--out-dir", o]);
    assert_eq!(run.code, Some(1));
    let doc = run.json();
    assert_eq!(doc["upToDate"], false);
    assert_eq!(doc["differences"], serde_json::json!([{ "file": "nsg.json", "status": "stale" }]));
    let run = isenet(&["--error-format", "json", "compile", "--only", "routes", "--check", "--out-dir", o]);
    let statuses: Vec<(String, String)> = run.json()["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["file"].as_str().unwrap().to_string(), d["status"].as_str().unwrap().to_string()))
        .collect();
    assert!(statuses.contains(&("nsg.json".into(), "extra".into())), "{statuses:?}");
    assert!(
        !statuses.iter().any(|(f, _)| f == "route-table.json"),
        "route-table.json is up to date: {statuses:?}"
    );
}

/// Copies of tests/envs/*.json, each renamed `fleet-<stem>` so the names are unique.
fn fleet(dir: &Path, count: usize) -> Vec<PathBuf> {
    let envs = workspace().join("tests/envs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&envs).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .take(count)
        .map(|f| {
            let mut env: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            let stem = f.file_stem().unwrap().to_string_lossy().replace('_', "-");
            env["name"] = Value::String(format!("fleet-{stem}"));
            let to = dir.join(f.file_name().unwrap());
            std::fs::write(&to, serde_json::to_string_pretty(&env).unwrap()).unwrap();
            to
        })
        .collect()
}

/// A temporary folder `name` with `envs/` holding a fleet of `count` and the path of `out/`.
fn fleet_in(name: &str, count: usize) -> (Scratch, PathBuf, Vec<PathBuf>, PathBuf) {
    let dir = tempdir(name);
    let envs_dir = dir.join("envs");
    std::fs::create_dir(&envs_dir).unwrap();
    let files = fleet(&envs_dir, count);
    let out = dir.join("out");
    (dir, envs_dir, files, out)
}

/// `out/<name>/` holds the bytes a single compile of `file` writes (into `dir/single-<name>`).
fn assert_single_compile_bytes(dir: &Path, out: &Path, name: &str, file: &Path) {
    let single = dir.join(format!("single-{name}"));
    let o = isenet(&["compile", "--env", file.to_str().unwrap(), "--out-dir", single.to_str().unwrap()]);
    assert_eq!(o.code, Some(0));
    for f in names(&single) {
        assert_eq!(
            std::fs::read(out.join(name).join(&f)).unwrap(),
            std::fs::read(single.join(&f)).unwrap(),
            "{name}/{f}"
        );
    }
}

#[test]
fn a_fleet_compiles_each_environment_into_its_own_folder_with_the_bytes_of_a_single_compile() {
    let (dir, envs_dir, files, out) = fleet_in("fleet", 6);
    let run = isenet(&[
        "compile",
        "--env-dir",
        envs_dir.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("environment"), "a summary table: {}", run.stdout);
    assert!(run.stdout.contains("6 environment(s): 0 with proof findings"), "{}", run.stdout);
    for f in &files {
        let env: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let name = env["name"].as_str().unwrap();
        assert!(run.stdout.lines().any(|l| l.starts_with(name)), "{name} in the table");
        assert_single_compile_bytes(&dir, &out, name, f);
    }
    // Positional files and --check over the fleet.
    let args: Vec<&str> = ["compile", "--check", "--out-dir", out.to_str().unwrap()]
        .into_iter()
        .chain(files.iter().map(|f| f.to_str().unwrap()))
        .collect();
    let check = isenet(&args);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    assert!(check.stdout.contains("0 not up to date"));
    // --env repeated, as validate and verify take it, beside a positional file: a fleet of the
    // three, still up to date.
    let (first, second) = (files[0].to_str().unwrap(), files[1].to_str().unwrap());
    let mixed = isenet(&[
        "compile",
        "--check",
        "--out-dir",
        out.to_str().unwrap(),
        "--env",
        first,
        "--env",
        second,
        files[2].to_str().unwrap(),
    ]);
    assert_eq!(mixed.code, Some(0), "{}{}", mixed.stdout, mixed.stderr);
    assert!(mixed.stdout.contains("3 environment(s)"), "{}", mixed.stdout);
}

#[test]
fn a_fleet_refuses_two_environments_of_one_name_naming_both_files_and_writes_nothing() {
    let dir = tempdir("fleet-dup");
    let a = workspace().join("tests/envs/public-internal.json");
    let b = dir.join("copy.json");
    std::fs::copy(&a, &b).unwrap();
    let out = dir.join("out");
    // Of two files of one name, the later by file name is refused, in whichever order they come.
    let (first, later) = if a < b { (&a, &b) } else { (&b, &a) };
    for (x, y) in [(&a, &b), (&b, &a)] {
        let run = isenet(&[
            "--error-format",
            "json",
            "compile",
            x.to_str().unwrap(),
            y.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.code, Some(2));
        let d = &run.json()["diagnostics"][0];
        assert_eq!(d["code"], "E1806");
        assert!(d["help"].as_str().unwrap().contains("compile writes OUT/<name>/"), "{d}");
        assert_eq!(d["file"], later.to_str().unwrap());
        assert!(d["message"].as_str().unwrap().contains(first.to_str().unwrap()), "{d}");
        assert!(!out.exists());
    }
    // One file named twice is said to be that, not two environments to rename.
    let twice = isenet(&[
        "--error-format",
        "json",
        "compile",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(twice.code, Some(2));
    let d = &twice.json()["diagnostics"][0];
    assert_eq!((&d["code"], &d["file"]), (&Value::from("E1806"), &Value::from(a.to_str().unwrap())));
    assert!(d["message"].as_str().unwrap().ends_with("this file is named twice"), "{d}");
    assert!(!out.exists());
    // Named by two spellings of one path, it is still one file named twice.
    let parent = a.parent().unwrap();
    let dotted = parent.join(".").join(a.file_name().unwrap());
    let twice = isenet(&[
        "--error-format",
        "json",
        "compile",
        a.to_str().unwrap(),
        dotted.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(twice.code, Some(2));
    let d = &twice.json()["diagnostics"][0];
    assert!(d["message"].as_str().unwrap().ends_with("this file is named twice"), "{d}");
    assert!(!out.exists());
}

#[test]
fn a_fleets_reports_do_not_depend_on_the_order_its_files_are_named_in() {
    // File names and environment names in opposite orders: a.json holds `zulu-ise`, b.json
    // `alpha-ise`; rows follow the environment names.
    let dir = tempdir("fleet-order");
    let write = |file: &str, name: &str| {
        let mut env: Value =
            serde_json::from_str(&std::fs::read_to_string(workspace().join("tests/envs/public-internal.json")).unwrap()).unwrap();
        env["name"] = Value::String(name.into());
        let to = dir.join(file);
        std::fs::write(&to, env.to_string()).unwrap();
        to.to_str().unwrap().to_string()
    };
    let (a, b) = (write("a.json", "zulu-ise"), write("b.json", "alpha-ise"));
    let out = dir.join("out").to_str().unwrap().to_string();
    let runs = |order: [&str; 2]| -> Vec<String> {
        let _ = std::fs::remove_dir_all(&out);
        let mut got = Vec::new();
        for args in [
            vec!["compile", "--out-dir", &out],
            vec!["compile", "--check", "--out-dir", &out],
            vec!["--error-format", "json", "compile", "--check", "--out-dir", &out],
            vec!["validate"],
            vec!["validate", "--format", "json"],
            vec!["verify"],
            vec!["verify", "--format", "json"],
        ] {
            let run = isenet(&args.iter().copied().chain(order).collect::<Vec<_>>());
            assert!(matches!(run.code, Some(0 | 1)), "{args:?}: {}{}", run.stdout, run.stderr);
            got.push(run.stdout);
        }
        got
    };
    let forward = runs([&a, &b]);
    assert_eq!(runs([&b, &a]), forward);
    let rows: Vec<&str> = forward[0]
        .lines()
        .skip(1)
        .take(2)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(rows, ["alpha-ise", "zulu-ise"], "{}", forward[0]);
}

#[cfg(unix)]
#[test]
fn a_fleet_rerun_over_unchanged_output_touches_nothing_and_a_changed_environment_only_its_folder() {
    use super::outdir::stamps;
    let (dir, envs_dir, files, out) = fleet_in("fleet-rerun", 4);
    let (envs, o) = (envs_dir.to_str().unwrap(), out.to_str().unwrap());
    let args = ["--error-format", "json", "compile", "--env-dir", envs, "--out-dir", o];
    let written = |run: &super::common::Run| -> Vec<bool> {
        run.json()["environments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["written"].as_bool().unwrap())
            .collect()
    };
    let first = isenet(&args);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(written(&first), [true; 4]);
    let before = stamps(&dir);
    let again = isenet(&args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(written(&again), [false; 4]);
    assert_eq!(stamps(&dir), before, "nothing touched: every inode and mtime, nothing beside");
    let text = isenet(&args[2..]);
    assert!(
        text.stdout
            .contains("4 environment(s): 0 with proof findings, 0 written, 4 up to date"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains(" (up to date)\n"), "{}", text.stdout);
    // One environment changes: its folder alone is replaced, whole.
    let mut env: Value = serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    env["customDnsServers"] = serde_json::json!(["10.9.9.9"]);
    std::fs::write(&files[1], serde_json::to_string_pretty(&env).unwrap()).unwrap();
    let name = env["name"].as_str().unwrap().to_string();
    let run = isenet(&args);
    assert_eq!(written(&run), [false, true, false, false]);
    let after = stamps(&dir);
    for (path, stamp) in &after {
        // OUT itself changes (the swap); the environments folder was edited.
        let mine = path.starts_with(&format!("out/{name}"));
        if path != "out" && !path.starts_with("envs") {
            assert_eq!(before.get(path) == Some(stamp), !mine, "{path}");
        }
    }
    assert_single_compile_bytes(&dir, &out, &name, &files[1]);
}

/// A fleet whose second pass fails for one environment (as a full disk would; here its lock file
/// beside OUT/zzz-second/ is a folder, which nothing checks before the writes) still replaced the
/// folders of the others: the report lists those written and the failed one, beside the E1101
/// diagnostic, in text, JSON and --quiet, and exits 2.
#[test]
fn a_fleet_that_fails_writing_part_way_reports_what_it_wrote_and_what_failed() {
    let dir = tempdir("fleet-partial");
    let envs = dir.join("envs");
    std::fs::create_dir(&envs).unwrap();
    let example: Value =
        serde_json::from_str(&std::fs::read_to_string(workspace().join("data/example-environment.json")).unwrap()).unwrap();
    for name in ["aaa-first", "zzz-second"] {
        let mut env = example.clone();
        env["name"] = Value::String(name.into());
        std::fs::write(envs.join(format!("{name}.json")), serde_json::to_string_pretty(&env).unwrap()).unwrap();
    }
    let out_with_a_broken_target = |name: &str| {
        let out = dir.join(name);
        std::fs::create_dir_all(out.join(".zzz-second.isenet-lock")).unwrap();
        out
    };
    let s = |p: &Path| p.to_str().unwrap().to_string();

    let out = out_with_a_broken_target("out");
    let run = isenet(&["compile", "--env-dir", &s(&envs), "--out-dir", &s(&out)]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!("error[E1101]: {}", s(&out.join("zzz-second")))),
        "{}",
        run.stderr
    );
    let row = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row: {}", run.stdout))
    };
    assert!(row("aaa-first").ends_with(&s(&out.join("aaa-first"))), "{}", run.stdout);
    assert!(row("zzz-second").ends_with("(failed: not written)"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("2 environment(s): 0 with proof findings, 1 written, 0 up to date, 1 failed"),
        "{}",
        run.stdout
    );
    assert_single_compile_bytes(&dir, &out, "aaa-first", &envs.join("aaa-first.json"));
    assert!(
        !out.join("zzz-second").exists(),
        "the failed environment's folder is left as it was"
    );

    let out = out_with_a_broken_target("out-json");
    let run = isenet(&["--error-format", "json", "compile", "--env-dir", &s(&envs), "--out-dir", &s(&out)]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let doc = run.json();
    let rows: Vec<(&str, bool, bool)> = doc["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["environment"].as_str().unwrap(),
                r["written"].as_bool().unwrap(),
                r["failed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("aaa-first", true, false), ("zzz-second", false, true)], "{doc}");
    assert_eq!(doc["diagnostics"][0]["code"], "E1101", "{doc}");
    assert_eq!(doc["diagnostics"][0]["file"], s(&out.join("zzz-second")), "{doc}");

    let out = out_with_a_broken_target("out-quiet");
    let run = isenet(&["--quiet", "compile", "--env-dir", &s(&envs), "--out-dir", &s(&out)]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stdout, format!("aaa-first: written to {}\n", s(&out.join("aaa-first"))));
}

/// OUT/<name>/ of an environment no longer in the fleet: `--check` of the whole `--env-dir`
/// reports it as a row that differs (exit 1: the committed artifacts of a removed environment are
/// stale); named files and a compile note it on stderr and leave it alone. Folders without a compile's `plan.json` are not the fleet's
/// business and go unmentioned.
#[test]
fn a_fleet_reports_output_folders_that_no_environment_of_the_run_claims() {
    let (_dir, envs_dir, files, out) = fleet_in("fleet-unclaimed", 3);
    let (envs, o) = (envs_dir.to_str().unwrap(), out.to_str().unwrap());
    assert_eq!(isenet(&["compile", "--env-dir", envs, "--out-dir", o]).code, Some(0));
    let quiet = isenet(&["compile", "--env-dir", envs, "--out-dir", o]);
    assert!(!quiet.stderr.contains("note:"), "every folder is claimed: {}", quiet.stderr);
    let removed: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let removed = removed["name"].as_str().unwrap().to_string();
    std::fs::remove_file(&files[0]).unwrap();
    std::fs::create_dir(out.join("docs")).unwrap();
    std::fs::write(out.join("docs").join("readme.txt"), "not isenet's").unwrap();
    let folder = out.join(&removed).to_string_lossy().into_owned();

    let check = isenet(&["--error-format", "json", "compile", "--env-dir", envs, "--out-dir", o, "--check"]);
    assert_eq!(check.code, Some(1), "{}", check.stdout);
    let doc = check.json();
    let rows = doc["environments"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "two environments and the unclaimed folder");
    let unclaimed: Vec<&Value> = rows.iter().filter(|r| !r["differences"].as_array().unwrap().is_empty()).collect();
    assert_eq!(unclaimed.len(), 1, "{rows:?}");
    assert_eq!(unclaimed[0]["environment"], removed.as_str());
    assert!(unclaimed[0]["differences"][0].as_str().unwrap().contains(&folder));
    let text = isenet(&["compile", "--env-dir", envs, "--out-dir", o, "--check"]);
    assert!(
        text.stdout
            .contains("2 environment(s): 0 with proof findings, 0 not up to date, 1 unclaimed output(s)"),
        "{}",
        text.stdout
    );
    // Named files may be part of a fleet: the folder gets a note, the check passes.
    let named: Vec<&str> = ["compile", "--check", "--out-dir", o]
        .into_iter()
        .chain(files[1..].iter().map(|f| f.to_str().unwrap()))
        .collect();
    let named = isenet(&named);
    assert_eq!(named.code, Some(0), "{}", named.stdout);
    assert!(named.stderr.contains(&format!("note: {folder} holds")), "{}", named.stderr);

    let run = isenet(&["--error-format", "json", "compile", "--env-dir", envs, "--out-dir", o]);
    assert_eq!(run.code, Some(0), "a note is no finding: {}", run.stderr);
    let doc = run.json();
    assert_eq!(
        doc["environments"].as_array().unwrap().len(),
        2,
        "the written rows are the environments'"
    );
    assert_eq!(
        (&doc["errors"], &doc["warnings"], &doc["diagnostics"]),
        (&json!(0), &json!(0), &json!([])),
        "{doc}"
    );
    let notes: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 1, "{}", run.stderr);
    assert!(notes[0].contains(&folder), "{}", notes[0]);
    assert!(out.join(&removed).join("plan.json").is_file(), "the folder is left alone");
}

/// The compiled artifacts' own proof is reported by `compile`, never its exit code, for one
/// environment and a fleet alike, so `--check` exits 1 only for files that differ. The
/// environment: an external ISE in firewall mode without declared callers, whose replies to
/// callers the route table sends to the firewall (W0505; the route proof fails).
#[test]
fn compile_reports_its_proof_without_exiting_on_it_single_or_fleet() {
    let dir = tempdir("proof-exit");
    let mut env: Value = serde_json::from_str(&isenet(&["example"]).stdout).unwrap();
    env["name"] = Value::String("warn-ise".into());
    env["accessEndpoint"] = Value::String("external".into());
    env["forcedTunneling"] = serde_json::json!({ "mode": "firewall", "firewallPrivateIp": "10.10.0.4" });
    let file = dir.join("env.json");
    std::fs::write(&file, serde_json::to_string_pretty(&env).unwrap()).unwrap();
    let (f, single, fleet) = (file.to_str().unwrap(), dir.join("single"), dir.join("fleet"));
    assert_eq!(
        isenet(&["verify", "--env", f]).code,
        Some(1),
        "the compiled artifacts have findings"
    );
    let one = isenet(&["compile", "--env", f, "--out-dir", single.to_str().unwrap()]);
    assert_eq!(one.code, Some(0), "{}", one.stderr);
    assert!(one.stdout.contains("  proof: findings ("), "{}", one.stdout);
    let check = isenet(&["compile", "--env", f, "--out-dir", single.to_str().unwrap(), "--check"]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    let many = isenet(&["compile", f, "--out-dir", fleet.to_str().unwrap()]);
    assert_eq!(many.code, Some(0), "{}", many.stdout);
    assert!(many.stdout.contains("1 environment(s): 1 with proof findings"), "{}", many.stdout);
    // The environment's warning, reported by a fleet as by a single compile (text on stderr, JSON
    // beside the rows), without failing either.
    for run in [&one, &many] {
        assert!(
            run.stderr.contains("warning[W0505]: ") && run.stderr.contains("0 error(s), 1 warning(s)"),
            "{}",
            run.stderr
        );
    }
    let json = isenet(&[
        "--error-format",
        "json",
        "compile",
        f,
        "--out-dir",
        dir.join("json").to_str().unwrap(),
    ]);
    assert_eq!(json.code, Some(0), "{}", json.stdout);
    let doc = json.json();
    assert_eq!(
        (&doc["errors"], &doc["warnings"], &doc["diagnostics"][0]["code"]),
        (&Value::from(0), &Value::from(1), &Value::from("W0505"))
    );
    assert_eq!(doc["environments"][0]["environment"], "warn-ise");
    let check = isenet(&["compile", f, "--out-dir", fleet.to_str().unwrap(), "--check"]);
    assert_eq!(check.code, Some(0), "nothing differs: {}", check.stdout);
    let example = isenet(&["compile", "--out-dir", dir.join("example").to_str().unwrap()]);
    assert!(example.stdout.contains("  proof: ok ("), "{}", example.stdout);
}

/// `--error-format json` gives stdout one JSON document of one shape in every outcome: a fleet's
/// `{"environments", "errors", "warnings", "diagnostics"}` clean, with warnings and refused (no
/// rows then); a single compile with warnings their document instead of the text summary.
#[test]
fn error_format_json_keeps_one_shape_whatever_the_outcome() {
    let (dir, _envs, files, out) = fleet_in("fleet-json-shape", 2);
    let [a, b] = [&files[0], &files[1]].map(|f| f.to_str().unwrap().to_string());
    let mut warned: Value = serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    // W0403: a firewall address outside firewall mode is ignored.
    warned["forcedTunneling"] = json!({"mode": "none", "firewallPrivateIp": "10.10.5.4"});
    let warned_file = dir.join("warned.json");
    std::fs::write(&warned_file, serde_json::to_string_pretty(&warned).unwrap()).unwrap();
    let bad_file = dir.join("bad.json");
    std::fs::write(&bad_file, "{}").unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (w, bad, o) = (s(&warned_file), s(&bad_file), s(&out));
    let cases: [(&[&str], i32, usize, u64); 3] = [(&[&a, &b], 0, 2, 0), (&[&a, &w], 0, 2, 1), (&[&a, &bad], 2, 0, 0)];
    for (envs, code, rows, warnings) in cases {
        let mut args = vec!["--error-format", "json", "compile", "--out-dir", &o];
        args.extend(envs);
        let run = isenet(&args);
        assert_eq!(run.code, Some(code), "{envs:?}: {}", run.stderr);
        let doc = run.json();
        assert_eq!(doc["environments"].as_array().map(Vec::len), Some(rows), "{envs:?}: {doc}");
        assert_eq!(doc["warnings"], json!(warnings), "{envs:?}: {doc}");
        assert!(doc["errors"].is_u64() && doc["diagnostics"].is_array(), "{envs:?}: {doc}");
        std::fs::remove_dir_all(&out).ok();
    }
    let single = isenet(&[
        "--error-format",
        "json",
        "compile",
        "--env",
        &w,
        "--out-dir",
        &s(&dir.join("single")),
    ]);
    assert_eq!(single.code, Some(0), "{}", single.stderr);
    let doc = single.json();
    assert_eq!(
        (&doc["errors"], &doc["warnings"], &doc["diagnostics"][0]["code"]),
        (&json!(0), &json!(1), &json!("W0403")),
        "{doc}"
    );
}

/// A single compile's artifacts left at the top of a fleet's folder (one environment compiled into
/// it before): `--check` of the `--env-dir` reports them as one extra row (exit 1), a compile notes
/// them on stderr and leaves them.
#[test]
fn a_single_compiles_artifacts_at_the_top_of_a_fleets_folder_are_extra() {
    let (_dir, envs_dir, files, out) = fleet_in("fleet-loose", 2);
    let (envs, o) = (envs_dir.to_str().unwrap(), out.to_str().unwrap());
    assert_eq!(
        isenet(&[
            "compile",
            "--env",
            files[0].to_str().unwrap(),
            "--only",
            "nsg,bicep",
            "--out-dir",
            o
        ])
        .code,
        Some(0)
    );
    let run = isenet(&["compile", "--env-dir", envs, "--out-dir", o]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "note: {o} holds a single compile's artifacts at its top (main.bicep, main.bicepparam, modules, nsg.json)"
        )),
        "{}",
        run.stderr
    );
    assert!(out.join("nsg.json").is_file(), "left alone");
    let check = isenet(&["--error-format", "json", "compile", "--env-dir", envs, "--out-dir", o, "--check"]);
    assert_eq!(check.code, Some(1), "{}", check.stdout);
    let rows = check.json()["environments"].as_array().unwrap().clone();
    let extra: Vec<&str> = rows
        .iter()
        .flat_map(|r| r["differences"].as_array().unwrap())
        .filter_map(|d| d.as_str())
        .collect();
    assert_eq!(extra.len(), 1, "{rows:?}");
    assert!(
        extra[0].starts_with(&format!("extra: {o} holds a single compile's artifacts")),
        "{}",
        extra[0]
    );
}
