//! `isenet compile`: environment -> plan -> artifacts, written atomically.

use crate::args::{Cli, ErrorFormat};
use crate::{input, outdir, output, Exit};
use ise_model::codes::E_TAG_MISSING;
use rules_compiler::azure::nsg::Direction;
use std::path::Path;

pub struct Args<'a> {
    pub env: Option<&'a Path>,
    pub out_dir: &'a Path,
    pub service_tags: Option<&'a Path>,
    pub table_version: Option<&'a str>,
    /// Replace service tags by their prefixes (`rules_compiler::plan::expand`).
    pub expand_tags: bool,
}

pub fn run(cli: &Cli, args: &Args) -> Exit {
    let Args {
        env: env_path,
        out_dir,
        service_tags: tags_path,
        table_version,
        expand_tags,
    } = *args;
    let fail = |diags: Vec<ise_model::Diagnostic>| output::bad_input(cli.error_format, &diags);
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
    // A tag missing from the user's file is that file's problem: name it.
    let tag_file = |diags: Vec<ise_model::Diagnostic>| -> Vec<ise_model::Diagnostic> {
        let Some(path) = tags_path else { return diags };
        let file = input::display_name(path);
        diags
            .into_iter()
            .map(|d| {
                if d.code == E_TAG_MISSING && d.file.is_empty() {
                    d.in_file(&file)
                } else {
                    d
                }
            })
            .collect()
    };
    let plan = match rules_compiler::plan::build(&env, &tags, table_version) {
        Ok(p) => p,
        Err(diags) => return fail(tag_file(diags)),
    };
    let plan = if expand_tags {
        match rules_compiler::plan::expand::expand(&plan, &tags) {
            Ok(p) => p,
            Err(diags) => return fail(diags),
        }
    } else {
        plan
    };
    let artifacts = rules_compiler::render::render_all(&plan);
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
    if expand_tags {
        println!(
            "  service tags expanded to prefixes (change {}; VirtualNetwork, Internet, AzureLoadBalancer kept)",
            plan.service_tags_change_number
        );
    }
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
