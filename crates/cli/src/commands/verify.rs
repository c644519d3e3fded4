//! `isenet verify` and `isenet explain`: load the environment, the NSG (a file, or the compiled
//! one), the routes, then ask the proof or the explanation.

use crate::args::{Cli, ErrorFormat, ExplainProtocol, VerifyFormat};
use crate::report::{self, adapter};
use crate::{input, output, Exit};
use ipnet::Ipv4Net;
use ise_model::diag::Diagnostic;
use ise_model::env::Environment;
use ise_model::servicetags::ServiceTags;
use rules_compiler::azure::nsg::SecurityRule;
use rules_compiler::azure::route::RouteEntry;
use rules_compiler::engine::PacketProtocol;
use rules_compiler::plan::{self, Plan};
use rules_compiler::prove::explain::{self, Query};
use rules_compiler::prove::firewall as firewall_proof;
use rules_compiler::prove::nsg::{self as proof, Subject};
use rules_compiler::prove::resolver::EnvResolver;
use rules_compiler::prove::routes as route_proof;
use rules_compiler::read::{firewall as firewallfile, nsg as nsgfile, routes as routefile};
use rules_compiler::views::proof_report;
use std::borrow::Cow;
use std::path::Path;

pub struct Inputs<'a> {
    pub env: Option<&'a Path>,
    pub routes: Option<&'a Path>,
    pub service_tags: Option<&'a Path>,
}

struct Loaded {
    env: Environment,
    tags: Cow<'static, ServiceTags>,
    udr: Vec<Ipv4Net>,
    /// The route table given with --routes, and its text.
    routes: Option<Vec<RouteEntry>>,
    routes_text: Option<String>,
    plan: Plan,
}

fn load(cli: &Cli, inputs: &Inputs) -> Result<Loaded, Vec<Diagnostic>> {
    let (env, _warnings) = input::environment(inputs.env, cli.deny_warnings)?;
    let tags = input::service_tags(inputs.service_tags, env.cloud).map_err(|d| vec![d])?;
    let plan = plan::build(&env, &tags, None)?;
    let routes_text = inputs.routes.map(input::read_text).transpose().map_err(|d| vec![d])?;
    let routes = match (inputs.routes, &routes_text) {
        (Some(p), Some(text)) => Some(routefile::parse(text, &input::display_name(p))?),
        _ => None,
    };
    // The given route table, or the one the plan puts on the subnets: its prefixes join VirtualNetwork.
    let planned: Vec<RouteEntry> = plan.routes.iter().map(|r| r.entry()).collect();
    let file = inputs.routes.map(|p| input::display_name(p)).unwrap_or_default();
    let udr = routefile::entries_prefixes(routes.as_deref().unwrap_or(&planned), &file, &tags).map_err(|d| vec![d])?;
    Ok(Loaded {
        env,
        tags,
        udr,
        routes,
        routes_text,
        plan,
    })
}

/// The NSG's name, rules and text.
fn nsg_rules(path: &Path) -> Result<(String, Vec<SecurityRule>, String), Vec<Diagnostic>> {
    let text = input::read_text(path).map_err(|d| vec![d])?;
    let file = nsgfile::parse(&text, &input::display_name(path))?;
    Ok((file.name, file.rules, text))
}

pub fn run(cli: &Cli, inputs: &Inputs, nsg: Option<&Path>, firewall: Option<&Path>, format: VerifyFormat) -> Exit {
    let fail = |diags: Vec<Diagnostic>| output::bad_input(cli.error_format, &diags);
    let loaded = match load(cli, inputs) {
        Ok(l) => l,
        Err(d) => return fail(d),
    };
    let nsg = match nsg.map(|p| nsg_rules(p).map(|r| (p, r))).transpose() {
        Ok(n) => n,
        Err(d) => return fail(d),
    };
    let firewall = match firewall
        .map(|p| input::read_text(p).and_then(|t| firewallfile::parse(&t, &input::display_name(p)).map(|f| (f, t, p))))
        .transpose()
    {
        Ok(f) => f,
        Err(d) => return fail(vec![d]),
    };
    let nsg_report = nsg.as_ref().map(|(path, (name, rules, _))| {
        let report = proof::prove(&Subject {
            env: &loaded.env,
            tags: &loaded.tags,
            rules,
            udr_prefixes: &loaded.udr,
            requirements: &loaded.plan.requirements,
        });
        (if name.is_empty() { input::display_name(path) } else { name.clone() }, report)
    });
    let route_report = loaded
        .routes
        .as_ref()
        .map(|r| route_proof::prove(r, &loaded.env, &loaded.tags, &loaded.plan.requirements));
    // The firewall's traffic crosses the NSG first: the given one, or the environment's compiled one.
    let compiled: Vec<SecurityRule> = loaded.plan.security_rules.iter().map(|r| r.rule.clone()).collect();
    let firewall_report = firewall.as_ref().map(|(f, _, _)| {
        firewall_proof::prove(&firewall_proof::Subject {
            env: &loaded.env,
            tags: &loaded.tags,
            network_rule_collections: &f.network,
            application_rule_collections: &f.application,
            dependencies: &loaded.plan.firewall.dependencies,
            nsg: Some(firewall_proof::NsgSubject {
                rules: nsg.as_ref().map_or(&compiled, |(_, (_, r, _))| r),
                udr_prefixes: &loaded.udr,
            }),
        })
    });
    let proofs = || {
        adapter::proofs(&adapter::Reports {
            env: inputs.env.map(input::display_name),
            nsg: nsg.as_ref().zip(nsg_report.as_ref()).map(|((p, (_, _, text)), (_, r))| {
                (
                    adapter::Source {
                        file: input::display_name(p),
                        text,
                    },
                    r,
                )
            }),
            routes: inputs
                .routes
                .zip(loaded.routes_text.as_deref())
                .zip(route_report.as_ref())
                .map(|((p, text), r)| {
                    (
                        adapter::Source {
                            file: input::display_name(p),
                            text,
                        },
                        r,
                    )
                }),
            firewall: firewall.as_ref().zip(firewall_report.as_ref()).map(|((_, text, p), r)| {
                (
                    adapter::Source {
                        file: input::display_name(p),
                        text,
                    },
                    r,
                )
            }),
        })
    };
    match format {
        VerifyFormat::Sarif => {
            let cwd = std::env::current_dir().unwrap_or_default();
            print!("{}", report::sarif::render(&proofs(), &cwd));
        }
        VerifyFormat::Junit => print!("{}", report::junit::render(&proofs())),
        VerifyFormat::Github => print!("{}", report::annotations::github(&proofs())),
        VerifyFormat::AzureDevops => print!("{}", report::annotations::azure_devops(&proofs())),
        VerifyFormat::Text => {
            if let Some((name, report)) = &nsg_report {
                print!("{}", proof_report::render_text(name, report));
            }
            if let Some(report) = &route_report {
                print!("{}", proof_report::render_routes_text(report));
            }
            if let Some(report) = &firewall_report {
                print!("{}", proof_report::render_firewall_text(report));
            }
        }
        VerifyFormat::Json => {
            let doc =
                serde_json::json!({ "nsg": nsg_report.as_ref().map(|(_, r)| r), "routes": route_report, "firewall": firewall_report });
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
    }
    let ok = nsg_report.as_ref().is_none_or(|(_, r)| r.ok)
        && route_report.as_ref().is_none_or(|r| r.ok)
        && firewall_report.as_ref().is_none_or(|r| r.ok);
    if ok {
        Exit::Ok
    } else {
        Exit::Findings
    }
}

#[allow(clippy::too_many_arguments)]
pub fn explain(
    cli: &Cli,
    inputs: &Inputs,
    nsg: Option<&Path>,
    from: &str,
    to: &str,
    port: u16,
    protocol: ExplainProtocol,
    format: ErrorFormat,
) -> Exit {
    let fail = |diags: Vec<Diagnostic>| output::bad_input(cli.error_format, &diags);
    let loaded = match load(cli, inputs) {
        Ok(l) => l,
        Err(d) => return fail(d),
    };
    let rules = match nsg {
        Some(p) => match nsg_rules(p) {
            Ok((_, r, _)) => r,
            Err(d) => return fail(d),
        },
        None => loaded.plan.security_rules.iter().map(|r| r.rule.clone()).collect(),
    };
    let resolver = EnvResolver::new(&loaded.env, &loaded.tags, &loaded.udr);
    let protocol = match protocol {
        ExplainProtocol::Tcp => PacketProtocol::Tcp,
        ExplainProtocol::Udp => PacketProtocol::Udp,
    };
    let query = Query {
        plan: &loaded.plan,
        rules: &rules,
        resolver: &resolver,
        from,
        to,
        port,
        protocol,
    };
    match explain::explain(&query) {
        Ok(e) => {
            match format {
                ErrorFormat::Text => print!("{}", explain::render_text(&e)),
                ErrorFormat::Json => println!("{}", serde_json::to_string_pretty(&e).expect("serialisable")),
            }
            Exit::Ok
        }
        Err(d) => fail(vec![d]),
    }
}
