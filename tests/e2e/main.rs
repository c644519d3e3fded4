//! The workspace's end-to-end tests: one test binary, one module per concern. A file in this folder
//! that is not declared here would never run, so a test below fails when one is missing.

mod bad_inputs;
mod browser;
mod callers;
mod certificates;
mod common;
mod compile;
mod deploy;
mod drift;
mod encodings;
mod error_format;
mod explain;
mod firewall_inputs;
mod firewall_proof;
mod fleet;
mod formats;
mod golden;
mod help;
mod hostile;
mod multienv;
mod outdir;
mod pipeline;
mod pipeline_examples;
mod readme;
mod review;
mod review_expanded;
mod route_paths;
mod schema;
mod table_versions;
mod tag_features;
mod tag_files;
mod tags;
mod tags_env;
mod templates;
mod terminal;
mod ticket_commands;
mod verify;

#[test]
fn every_file_of_the_harness_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(module) = name.strip_suffix(".rs").filter(|m| *m != "main") {
            assert!(
                main.contains(&format!("mod {module};")),
                "tests/e2e/{name} is not declared in tests/e2e/main.rs: it would never run"
            );
        }
    }
}
