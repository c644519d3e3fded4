//! Hostile input: every file of the three catalogues (bad environments, NSGs, tag files) through
//! the same library calls the CLI makes, and the inputs that used to take seconds to minutes, at
//! the size reported (x1) and ten times it (x10). Goal: each under 1 s (BENCHMARKS.md has the
//! table, with peak memory measured on the binary by benches/hostile_inputs.py).

use ise_model::codes::E_SYNTAX;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::env;
use ise_model::servicetags::ServiceTags;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn main() {
    divan::main();
}

const SCALES: [usize; 2] = [1, 10];

fn catalogue(dir: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

/// Environment load and, when it loads, the plan (what `validate` does), for every catalogue file.
#[divan::bench]
fn every_bad_environment(bencher: divan::Bencher) {
    let files = catalogue("bad-inputs");
    let tags = ServiceTags::embedded(ise_model::cloud::CloudId::Public);
    bencher.bench(|| {
        for text in &files {
            if let Some(env) = env::load(text, "f").env {
                let _ = rules_compiler::plan::build(&env, ServiceTags::embedded(env.cloud), None);
            }
        }
        tags.change_number
    });
}

#[divan::bench]
fn every_bad_nsg(bencher: divan::Bencher) {
    let files = catalogue("bad-nsg");
    bencher.bench(|| files.iter().filter(|t| rules_compiler::read::nsg::parse(t, "f").is_err()).count());
}

#[divan::bench]
fn every_bad_tag_file(bencher: divan::Bencher) {
    let files = catalogue("bad-tags");
    bencher.bench(|| files.iter().filter(|t| ServiceTags::parse(t).is_err()).count());
}

/// The example with one change.
fn example_with(change: impl FnOnce(&mut Value)) -> String {
    let mut env: Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    change(&mut env);
    env.to_string()
}

/// A 10 MB location (x1) and 100 MB (x10, over the 64 MiB ceiling: refused by size).
#[divan::bench(args = SCALES)]
fn huge_location(bencher: divan::Bencher, scale: usize) {
    let text = example_with(|e| e["location"] = Value::String("westus2".repeat(1_500_000 * scale)));
    bencher.bench(|| env::load(&text, "f").diagnostics.len());
}

/// A tag name of 100,000 (x1) and 1,000,000 characters (x10) looked up with "did you mean".
#[divan::bench(args = SCALES)]
fn huge_tag_name(bencher: divan::Bencher, scale: usize) {
    let tags = ServiceTags::embedded(ise_model::cloud::CloudId::Public);
    let name = "Storage".repeat(14_286 * scale);
    bencher.bench(|| tags.get(&name).is_none() && tags.suggest(&name).is_none());
}

/// 4,001 (x1) and 40,010 (x10) identical address-space prefixes.
#[divan::bench(args = SCALES)]
fn overlapping_prefixes(bencher: divan::Bencher, scale: usize) {
    let text = example_with(|e| {
        e["virtualNetwork"]["addressSpace"] = Value::Array(vec![Value::String("10.10.0.0/16".into()); 4001 * scale]);
    });
    bencher.bench(|| env::load(&text, "f").diagnostics.len());
}

/// 201 (x1) and 2,010 (x10) outbound destinations: loaded, then refused by the plan (E1002).
#[divan::bench(args = SCALES)]
fn destinations_over_the_limit(bencher: divan::Bencher, scale: usize) {
    let text = example_with(|e| {
        e["outboundDestinations"] = (0..201 * scale)
            .map(|i| serde_json::json!({"name": format!("d{i}"), "prefixes": [format!("203.0.113.{}/32", i % 256)], "ports": ["22"]}))
            .collect();
    });
    let tags = ServiceTags::embedded(ise_model::cloud::CloudId::Public);
    bencher.bench(|| {
        let env = env::load(&text, "f").env.unwrap();
        rules_compiler::plan::build(&env, tags, None).is_err()
    });
}

/// 4,001 (x1) and 40,010 (x10) keys repeated in one object.
#[divan::bench(args = SCALES)]
fn duplicate_keys(bencher: divan::Bencher, scale: usize) {
    let text = format!("{{{}\"a\": 0}}", "\"a\": 0,".repeat(4001 * scale));
    bencher.bench(|| ise_model::jsondoc::parse::<Value>(&text, "f", E_SYNTAX).unwrap_err().len());
}

/// 100,000 (x1) and 1,000,000 (x10) nested arrays.
#[divan::bench(args = SCALES)]
fn deep_nesting(bencher: divan::Bencher, scale: usize) {
    let n = 100_000 * scale;
    let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
    bencher.bench(|| ise_model::jsondoc::parse::<Value>(&text, "f", E_SYNTAX).unwrap_err().len());
}
