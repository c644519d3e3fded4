//! Hostile and unusual input end to end, for every kind of input file (environment, service tags,
//! NSG, route table, firewall rules): a byte-order mark is accepted, duplicate keys and files over
//! the size ceiling are coded errors naming the file, and the inputs that used to cost seconds to
//! minutes (a 10 MB location, a 100,000-character tag name, 4,001 overlapping prefixes) end in a
//! coded error. Their time and memory are measured by benches/hostile_inputs.py and recorded in
//! BENCHMARKS.md, not asserted here.

use crate::common::Scratch;
use crate::common::{isenet, Run};
use ise_model::codes;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> Scratch {
    crate::common::scratch("hostile", name)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The (code, file) of every diagnostic of a JSON report.
fn codes_and_files(run: &Run) -> Vec<(String, String)> {
    run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["file"].as_str().unwrap().to_string()))
        .collect()
}

/// A scratch folder holding the example (`env.json`) and its compiled artifacts (`out/`): returns
/// the folder, the artifacts' folder and the example's path.
fn compiled(name: &str) -> (Scratch, PathBuf, PathBuf) {
    let dir = scratch(name);
    let out = dir.join("out");
    let run = isenet(&["compile", "--out-dir", &s(&out)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let env = dir.join("env.json");
    std::fs::write(&env, isenet(&["example"]).stdout).unwrap();
    (dir, out, env)
}

fn public_tag_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/servicetags/ServiceTags_Public_20251028.json")
}

fn with_bom(src: &Path, dst: &Path) {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(std::fs::read(src).unwrap());
    std::fs::write(dst, bytes).unwrap();
}

#[test]
fn every_input_kind_accepts_a_byte_order_mark() {
    let (_dir, out, example) = compiled("bom");
    let dir = out.parent().unwrap().to_path_buf();
    let tags = public_tag_file();
    let files = [
        ("env", example),
        ("nsg", out.join("nsg.json")),
        ("routes", out.join("route-table.json")),
        ("firewall", out.join("firewall-policy.json")),
        ("tags", tags),
    ];
    let args = |f: &dyn Fn(&str) -> String| {
        vec![
            "verify".to_string(),
            "--env".into(),
            f("env"),
            "--nsg".into(),
            f("nsg"),
            "--routes".into(),
            f("routes"),
            "--firewall".into(),
            f("firewall"),
            "--service-tags".into(),
            f("tags"),
        ]
    };
    let plain = |k: &str| s(&files.iter().find(|(n, _)| *n == k).unwrap().1);
    let marked = |k: &str| {
        let (_, src) = files.iter().find(|(n, _)| *n == k).unwrap();
        let dst = dir.join(format!("bom-{k}.json"));
        with_bom(src, &dst);
        s(&dst)
    };
    let a = args(&plain);
    let b = args(&marked);
    let without = isenet(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let with = isenet(&b.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(without.code, Some(0), "{}", without.stderr);
    // The proofs name the file they read: the same report, but for the file names.
    let renamed = ["routes", "firewall"].iter().fold(with.stdout.clone(), |out, k| {
        out.replace(&b[a.iter().position(|x| *x == plain(k)).unwrap()], &plain(k))
    });
    assert_eq!((with.code, &renamed), (without.code, &without.stdout), "{}", with.stderr);
}

#[test]
fn duplicate_keys_are_refused_in_every_input_kind_naming_the_file() {
    let (_dir, out, env) = compiled("dup");
    let dir = out.parent().unwrap().to_path_buf();
    // The first key of each file, repeated at the start of its top-level object.
    let duplicate_first_key = |src: &Path, name: &str| {
        let text = std::fs::read_to_string(src).unwrap();
        let open = text.find('{').unwrap();
        let first: Value = serde_json::from_str(&text).unwrap();
        let (k, v) = first
            .as_object()
            .unwrap()
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap();
        let dst = dir.join(name);
        std::fs::write(&dst, format!("{}{{{}: {v},{}", &text[..open], Value::String(k), &text[open + 1..])).unwrap();
        s(&dst)
    };
    let good_env = s(&env);
    let cases = [
        (
            "env",
            vec![
                "validate".to_string(),
                "--format".into(),
                "json".into(),
                "--env".into(),
                duplicate_first_key(&env, "env-dup.json"),
            ],
        ),
        (
            "nsg",
            vec![
                "verify".into(),
                "--env".into(),
                good_env.clone(),
                "--nsg".into(),
                duplicate_first_key(&out.join("nsg.json"), "nsg-dup.json"),
            ],
        ),
        (
            "routes",
            vec![
                "verify".into(),
                "--env".into(),
                good_env.clone(),
                "--routes".into(),
                duplicate_first_key(&out.join("route-table.json"), "routes-dup.json"),
            ],
        ),
        (
            "firewall",
            vec![
                "verify".into(),
                "--env".into(),
                good_env.clone(),
                "--firewall".into(),
                duplicate_first_key(&out.join("firewall-policy.json"), "fw-dup.json"),
            ],
        ),
    ];
    for (kind, args) in cases {
        let file = args.last().unwrap().clone();
        let mut full = vec!["--error-format".to_string(), "json".into()];
        full.extend(args);
        let run = isenet(&full.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(run.code, Some(2), "{kind}: {run:?}");
        let doc = run.json();
        let d = &doc["diagnostics"][0];
        assert_eq!(
            (d["code"].as_str(), d["file"].as_str()),
            (Some(codes::E_DUPLICATE_KEY), Some(file.as_str())),
            "{kind}: {doc}"
        );
        assert!(d["message"].as_str().unwrap().contains(" and again at "), "{kind}: {doc}");
    }
    // The tag file (its reader reports the first problem).
    let dup_tags = duplicate_first_key(&public_tag_file(), "tags-dup.json");
    let run = isenet(&["validate", "--format", "json", "--service-tags", &dup_tags]);
    assert_eq!(codes_and_files(&run), vec![(codes::E_DUPLICATE_KEY.to_string(), dup_tags)]);
}

#[test]
fn files_over_the_ceiling_are_refused_without_being_read() {
    let dir = scratch("big");
    let big = dir.join("big.json");
    // Sparse: 65 MiB on paper, no disk or time to write it.
    std::fs::File::create(&big).unwrap().set_len(65 * 1024 * 1024).unwrap();
    let big = s(&big);
    for args in [
        vec!["validate", "--format", "json", "--env", &big],
        vec!["--error-format", "json", "verify", "--nsg", &big],
        vec!["--error-format", "json", "verify", "--routes", &big],
        vec!["--error-format", "json", "verify", "--firewall", &big],
        vec!["--error-format", "json", "tags", "show", "Storage", "--service-tags", &big],
    ] {
        let run = isenet(&args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert_eq!(
            codes_and_files(&run),
            vec![(codes::E_TOO_LARGE.to_string(), big.clone())],
            "{args:?}"
        );
    }
}

/// The example with one change, written to `dir/name`.
fn example_with(dir: &Path, name: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut env: Value = serde_json::from_str(ise_model::data::EXAMPLE_ENVIRONMENT).unwrap();
    change(&mut env);
    let p = dir.join(name);
    std::fs::write(&p, env.to_string()).unwrap();
    s(&p)
}

#[test]
fn a_ten_megabyte_location_is_refused_and_not_echoed() {
    let dir = scratch("location");
    let file = example_with(&dir, "env.json", |e| e["location"] = Value::String("westus2".repeat(1_500_000)));
    let run = isenet(&["validate", "--format", "json", "--env", &file]);
    assert_eq!(codes_and_files(&run), vec![(codes::E_TOO_LONG.to_string(), file)]);
    assert!(
        run.stdout.len() < 2_000,
        "the report quotes an excerpt, not the value: {} bytes",
        run.stdout.len()
    );
}

#[test]
fn a_hundred_thousand_character_tag_name_is_answered_with_a_coded_error() {
    let name = "Storage".repeat(14_286);
    let run = isenet(&["--error-format", "json", "tags", "show", &name]);
    assert_eq!(run.code, Some(2));
    assert_eq!(run.json()["diagnostics"][0]["code"], codes::E_TAG_UNKNOWN);
}

#[test]
fn four_thousand_and_one_overlapping_prefixes_are_one_finding_each_and_printed_bounded() {
    let dir = scratch("overlaps");
    let file = example_with(&dir, "env.json", |e| {
        e["virtualNetwork"]["addressSpace"] = Value::Array(vec![Value::String("10.10.0.0/16".into()); 4001]);
    });
    let run = isenet(&["validate", "--format", "json", "--env", &file]);
    let found = codes_and_files(&run);
    // Each prefix after the first overlaps the first: 4,000 findings, not 4,001 x 4,000 / 2 pairs.
    assert_eq!(found.len(), 4000);
    assert!(found.iter().all(|(c, f)| c == codes::E_SPACE_OVERLAP && *f == file));
    let text = isenet(&["validate", "--env", &file]);
    let printed = text.stderr.lines().filter(|l| l.starts_with("error[E0210]")).count();
    assert_eq!(printed, 50, "{}", text.stderr);
    assert!(text.stderr.contains("... and 3950 more E0210"), "{}", text.stderr);
    assert!(text.stderr.contains("4000 error(s)"));
}

#[test]
fn plan_limits_name_the_environment_file_in_compile_validate_requirements_and_fleets() {
    let dir = scratch("limits");
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/bad-inputs/103-outbound-destinations-over-the-limit.json")
        .canonicalize()
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().position(|l| l.contains("\"outboundDestinations\"")).unwrap() + 1;
    let file = s(&file);
    let out = s(&dir.join("out"));
    // The same file in fleets: beside a valid environment, and in a folder (`--env-dir`).
    let good = example_with(&dir, "good.json", |e| e["name"] = Value::from("other-ise"));
    let folder = dir.join("fleet");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(&good, folder.join("good.json")).unwrap();
    std::fs::copy(&file, folder.join("limits.json")).unwrap();
    let in_folder = s(&folder.join("limits.json"));
    let folder = s(&folder);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let old_tags = s(&repo.join("tests/fixtures/ServiceTags_Public_20240506.json"));
    let new_tags = s(&repo.join("data/servicetags/ServiceTags_Public_20251028.json"));
    for (args, named) in [
        (vec!["--error-format", "json", "compile", "--env", &file, "--out-dir", &out], &file),
        (vec!["validate", "--format", "json", "--env", &file], &file),
        (vec!["--error-format", "json", "requirements", "--env", &file], &file),
        (vec!["--error-format", "json", "compile", &good, &file, "--out-dir", &out], &file),
        (
            vec!["--error-format", "json", "compile", "--env-dir", &folder, "--out-dir", &out],
            &in_folder,
        ),
        // Compiled under both tag files, it is still one problem.
        (
            vec!["--error-format", "json", "tags", "diff", &old_tags, &new_tags, "--env", &file],
            &file,
        ),
    ] {
        let run = isenet(&args);
        assert_eq!(run.code, Some(2), "{args:?}");
        assert_eq!(
            codes_and_files(&run),
            vec![(codes::E_NSG_DESTINATIONS.to_string(), named.clone())],
            "{args:?}"
        );
        let d = &run.json()["diagnostics"][0];
        assert_eq!(d["line"], line, "{args:?}: {d}");
        assert!(d["column"].is_u64(), "{d}");
    }
    assert!(!dir.join("out").exists(), "no output on exit 2");
}

/// 400 destinations overflow the 200-slot band by 200, and that is one problem, not 200 copies of
/// the same message.
#[test]
fn destinations_past_the_priority_band_are_one_error() {
    let dir = scratch("destinations-400");
    let env = example_with(&dir, "env.json", |e| {
        e["outboundDestinations"] = (0..400)
            .map(|i| serde_json::json!({"name": format!("d{i}"), "prefixes": [format!("203.0.113.{}/32", i % 256)], "ports": ["22"]}))
            .collect();
    });
    let run = isenet(&["validate", "--format", "json", "--env", &env]);
    assert_eq!(run.code, Some(2));
    assert_eq!(codes_and_files(&run), vec![(codes::E_NSG_DESTINATIONS.to_string(), env.clone())]);
    let message = run.json()["diagnostics"][0]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("400 outbound destinations exceed the 200"), "{message}");
}

#[test]
fn millions_of_list_items_are_refused_before_any_is_checked() {
    let dir = scratch("dense");
    // 10 MB of `0,`: five million malformed callers used to cost 80 s and 2 GB, one diagnostic each.
    let env = example_with(&dir, "env.json", |e| {
        e["externalCallers"] = Value::Array(vec![Value::from(0); 5_000_000])
    });
    let run = isenet(&["validate", "--format", "json", "--env", &env]);
    assert_eq!(codes_and_files(&run), vec![(codes::E_TOO_MANY.to_string(), env)]);
    // Below the file's value ceiling but above any environment's lists: refused the same way.
    let env = example_with(&dir, "env2.json", |e| {
        e["internalCallers"] = Value::Array(vec![Value::from(0); 50_001])
    });
    let run = isenet(&["validate", "--format", "json", "--env", &env]);
    assert_eq!(run.json()["diagnostics"][0]["path"], "internalCallers");
    assert_eq!(codes_and_files(&run), vec![(codes::E_TOO_MANY.to_string(), env)]);
    // The same through a reader.
    let nsg = dir.join("nsg.json");
    std::fs::write(&nsg, format!("{{\"securityRules\": [{}0]}}", "0,".repeat(1_000_000))).unwrap();
    let run = isenet(&["--error-format", "json", "verify", "--nsg", &s(&nsg)]);
    assert_eq!(codes_and_files(&run), vec![(codes::E_TOO_MANY.to_string(), s(&nsg))]);
}
