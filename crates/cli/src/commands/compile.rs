//! `isenet compile`: environment -> plan -> artifacts, written atomically.

use crate::args::{Cli, ErrorFormat};
use crate::{input, outdir, output, Exit};
use rules_compiler::verify::Direction;
use std::path::Path;

pub fn run(cli: &Cli, env_path: Option<&Path>, out_dir: &Path, tags_path: Option<&Path>, table_version: Option<&str>) -> Exit {
    let fail = |diags: Vec<ise_model::Diagnostic>| {
        output::diagnostics(cli.error_format, &diags);
        Exit::BadInput
    };
    if let Err(d) = super::check_table_version(table_version) {
        return fail(vec![d]);
    }
    let (env, warnings) = match input::environment(env_path, cli.deny_warnings) {
        Ok(x) => x,
        Err(diags) => return fail(diags),
    };
    let tags = match input::service_tags(tags_path, env.cloud) {
        Ok(t) => t,
        Err(d) => return fail(vec![d]),
    };
    let plan = match rules_compiler::plan::build(&env, &tags, table_version) {
        Ok(p) => p,
        Err(diags) => return fail(diags),
    };
    let artifacts = rules_compiler::backends::render_all(&plan);
    if let Err(d) = outdir::write(out_dir, &artifacts) {
        return fail(vec![d]);
    }
    if cli.error_format == ErrorFormat::Text {
        output::diagnostics(cli.error_format, &warnings);
    }
    let count = |dir| plan.security_rules.iter().filter(|r| r.rule.direction == dir).count();
    let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
    println!(
        "compiled {} ({} {}, {} access endpoint, forced tunneling {})",
        env.name,
        env.cloud,
        env.location,
        name(serde_json::json!(env.access_endpoint)),
        name(serde_json::json!(env.forced_tunneling.mode))
    );
    println!("  requirements: {} (table version {})", plan.requirements.len(), plan.table_version);
    println!(
        "  nsg.json: {} inbound and {} outbound rules",
        count(Direction::Inbound),
        count(Direction::Outbound)
    );
    println!(
        "  route-table.json: {} route(s); subnets.json: {} subnets, {} service endpoint(s) each",
        plan.routes.len(),
        plan.subnets.len(),
        plan.subnets.first().map_or(0, |s| s.service_endpoints.len())
    );
    println!(
        "  wrote {}: {}",
        out_dir.display(),
        artifacts.iter().map(|a| a.file_name).collect::<Vec<_>>().join(", ")
    );
    if !warnings.is_empty() {
        println!("  warnings: {}", warnings.len());
    }
    Exit::Ok
}
