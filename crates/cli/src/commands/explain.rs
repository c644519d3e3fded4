//! `isenet explain`: load the environment and the artifacts to ask about (the NSG, route table and
//! firewall rules given, or the compiled ones), explain one flow or a flows file, print, and exit 1
//! when an expectation fails.

use super::verify::{self, Inputs};
use crate::args::{Cli, ErrorFormat, ExpectArg};
use crate::{output, Exit};
use ise_model::codes::E_USAGE_MISSING;
use ise_model::diag::Diagnostic;
use ise_model::ports::PortRange;
use rules_compiler::azure::nsg::Protocol;
use rules_compiler::prove::explain::{self, Checked, Expect, Explainer, Flow};
use rules_compiler::prove::explain_path::FirewallDoubts;
use rules_compiler::prove::verify as verification;
use rules_compiler::read::{firewall as firewallfile, flows as flowsfile, nsg as nsgfile};
use rules_compiler::views::explain as view;
use rules_compiler::views::printable::printable;
use std::path::Path;

/// One flow (`--from`, `--to`, ...) or a flows file (`--flows`).
pub struct Query<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub ports: PortRange,
    pub protocol: Protocol,
    pub expect: Option<ExpectArg>,
    pub flows: Option<&'a Path>,
    /// `--as-member`: undeclared addresses taken as VirtualNetwork members.
    pub members: &'a [ipnet::Ipv4Net],
}

pub fn run(cli: &Cli, inputs: &Inputs, nsg: Option<&Path>, firewall: Option<&Path>, query: &Query, format: ErrorFormat) -> Exit {
    // Under `--error-format json` stdout is one JSON document in every run, as verify's.
    let format = if cli.error_format == ErrorFormat::Json {
        ErrorFormat::Json
    } else {
        format
    };
    let fail = |diags: Vec<Diagnostic>| output::bad_input(output::error_format(cli.error_format, format == ErrorFormat::Json), &diags);
    // Every input is read, so that all their problems are reported in one run.
    let loaded = verify::load(cli, inputs);
    let wanted = loaded.as_ref().map(|l| l.plan.deployed_names()).unwrap_or_default();
    let rules = nsg
        .map(|p| verify::read(p, |t, f| nsgfile::parse_wanted(t, f, &wanted)))
        .transpose();
    let firewall = firewall
        .map(|p| verify::read(p, |t, f| firewallfile::parse_wanted(t, f, &wanted)))
        .transpose();
    let (loaded, (rules, firewall)) = match verify::both(loaded, verify::both(rules, firewall)) {
        Ok(all) => all,
        Err(mut diags) => {
            // The flows file's own problems too; its addresses need the environment.
            if let Some(Err(more)) = query.flows.map(|p| verify::read(p, flowsfile::parse)) {
                diags.extend(more);
            }
            return fail(diags);
        }
    };
    // The environment's warnings, on stderr: the report has no place for them.
    output::diagnostics(ErrorFormat::Text, &loaded.warnings);
    let rules = rules.map_or_else(|| verification::compiled_rules(&loaded.plan), |(_, _, n)| n.rules);
    // A shared policy's file: its groups in Azure's order, as `verify` proves them.
    let firewall = firewall.as_ref().map(|(_, _, f)| f.policy_rules());
    let unproved = firewall.as_ref().map(|f| f.warnings()).unwrap_or_default();
    output::diagnostics(ErrorFormat::Text, &unproved);
    let explainer = Explainer::new(&explain::Inputs {
        plan: &loaded.plan,
        tags: &loaded.tags,
        rules: &rules,
        udr_prefixes: &loaded.udr,
        routes: loaded.routes.as_ref().map(|(_, _, r)| r.routes.as_slice()),
        firewall: firewall.as_ref().map(|f| (f.network.as_slice(), f.application.as_slice())),
        firewall_doubts: firewall.as_ref().map_or_else(Default::default, |f| FirewallDoubts {
            set_aside: &f.unresolved,
            ties: &f.ties,
        }),
    })
    .with_members(query.members);
    // The flows file is read before anything is printed, so bad input prints nothing but problems:
    // its fields and its addresses, every row's, in one run.
    let endpoints = |from: Option<&str>, to: Option<&str>, fields| explainer.endpoint_problems(from, to, fields);
    let flows = match query
        .flows
        .map(|p| verify::read(p, |text, file| flowsfile::parse_checked(text, file, &endpoints)))
        .transpose()
    {
        Ok(f) => f,
        Err(d) => return fail(d),
    };
    let names = verification::names(&loaded.plan);
    if let Some((_, _, file)) = &flows {
        let results = match explainer.explain_rows(file) {
            Ok(r) => r,
            Err(d) => return fail(d),
        };
        match format {
            ErrorFormat::Text => print!("{}", printable(&view::render_table(&results, output::quiet()))),
            // Written as serialised: thousands of flows to service tags make hundreds of MB.
            ErrorFormat::Json => output::json_to_stdout(&results),
        }
        return exit(&results);
    }
    let (Some(from), Some(to)) = (query.from, query.to) else {
        let missing =
            Diagnostic::error(E_USAGE_MISSING, "", "explain needs --from and --to, or --flows FILE").in_file(crate::usage::COMMAND_LINE);
        return fail(vec![missing]);
    };
    let flow = Flow {
        from: from.to_string(),
        to: to.to_string(),
        protocol: query.protocol,
        ports: query.ports,
    };
    let checked = match explainer.explain(&flow) {
        Ok(e) => {
            let expect = query.expect.map(|e| match e {
                ExpectArg::Allow => Expect::Allow,
                ExpectArg::Deny => Expect::Deny,
            });
            Checked::new(None, e, expect)
        }
        Err(diags) => {
            // A port given for ICMP, ESP or AH is the --port option's problem.
            let diags = diags.into_iter().map(|d| if d.file.is_empty() { d.in_file("--port") } else { d });
            return fail(diags.collect());
        }
    };
    match format {
        ErrorFormat::Text => print!("{}", printable(&view::render_text(&checked, &names))),
        ErrorFormat::Json => println!("{}", serde_json::to_string_pretty(&checked).expect("serialisable")),
    }
    exit(std::slice::from_ref(&checked))
}

fn exit(results: &[Checked]) -> Exit {
    if results.iter().any(Checked::failed) {
        Exit::Findings
    } else {
        Exit::Ok
    }
}
