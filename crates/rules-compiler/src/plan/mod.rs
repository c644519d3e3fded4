//! The plan: everything the backends render, with provenance. Built once from the model, the
//! environment and the service tags; every backend reads only the plan, none re-derives
//! requirements.

mod deployment;
pub mod expand;
mod firewall;
mod nsg_rules;
mod priorities;
mod routes;
mod subnets;

pub use deployment::{PlanDeployment, ISE_API_VERSION, ISE_TYPE, NETWORK_API_VERSION};
pub(crate) use firewall::{inside_the_vnet, not_through_the_firewall, serves_custom_dns};
pub use firewall::{
    ApplicationDestination, DependencyTarget, FirewallDependency, NetworkDestination, PlanFirewall, APPLICATION_COLLECTION,
    APPLICATION_PRIORITY, DESTINATIONS_COLLECTION, DESTINATIONS_PRIORITY, NETWORK_COLLECTION, NETWORK_PRIORITY,
};
pub use routes::PlanRoute;
pub use subnets::{PlanSubnet, DELEGATION_SERVICE};

pub(crate) use nsg_rules::protocol;
pub use nsg_rules::{expanded_address_warning, trusted_network, DENY_ALL_INBOUND, DENY_ALL_OUTBOUND};

use crate::azure::nsg::SecurityRule;
use ise_model::diag::Diagnostic;
use ise_model::env::{Environment, TunnelingMode};
use ise_model::resolve::{self, Resolved};
use ise_model::servicetags::ServiceTags;
use serde::Serialize;

/// A security rule of the NSG, with why it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRule {
    #[serde(flatten)]
    pub rule: SecurityRule,
    /// At most 140 characters: requirement id and purpose.
    pub description: String,
    /// Ids of the resolved requirements this rule serves (empty for the deny-all rules).
    pub requirements: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub environment: Environment,
    /// Table version the requirements were taken from.
    pub table_version: String,
    /// Change number of the service-tag file used.
    pub service_tags_change_number: u64,
    pub requirements: Vec<Resolved>,
    pub security_rules: Vec<PlanRule>,
    /// Routes of the route table on the four subnets; empty (and no route table) in mode `none`.
    pub routes: Vec<PlanRoute>,
    /// The four subnets with their associations, service endpoints and delegation.
    pub subnets: Vec<PlanSubnet>,
    /// Azure Firewall dependencies and rule collections; empty collections unless mode `firewall`.
    pub firewall: PlanFirewall,
    /// What the ARM template, Bicep and ISE request need besides the network resources.
    pub deployment: PlanDeployment,
}

/// Firewall mode under a table that predates the forced tunneling requirements would compile to
/// firewall rules without the route that sends traffic to the firewall, and without the routes
/// that keep management traffic symmetric: refused rather than compiled half.
fn firewall_table_version(env: &Environment, version: &str) -> Result<(), Diagnostic> {
    if env.forced_tunneling.mode != TunnelingMode::Firewall {
        return Ok(());
    }
    let versions = ise_model::requirement::table_versions();
    let at = |v: &str| versions.iter().position(|x| x == v);
    let first = ise_model::requirement::model()
        .iter()
        .find(|r| r.id == "route-firewall-default")
        .map(|r| r.since.as_str())
        .expect("the table has the firewall's default route");
    if at(version) >= at(first) {
        return Ok(());
    }
    Err(Diagnostic::error(
        ise_model::codes::E_FIREWALL_TABLE_VERSION,
        "forcedTunneling.mode",
        format!("firewall mode needs table version {first} or later: table {version} has no forced tunneling requirements (no route to the firewall, no routes for the management addresses)"),
    )
    .with_help(format!("compile with --table-version {first} or later, or without --table-version (the latest)")))
}

impl Plan {
    /// The names of the NSG, route table and rule collection group the environment deploys: what
    /// a reader takes from a deployed file holding several of a kind.
    pub fn deployed_names(&self) -> crate::read::template::Wanted<'_> {
        crate::read::template::Wanted {
            nsg: Some(&self.environment.nsg_name),
            route_table: Some(&self.environment.route_table_name),
            group: Some(&self.firewall.rule_collection_group),
            environment: Some(&self.environment),
        }
    }
}

/// Builds the plan; errors are coded diagnostics (limits exceeded, tags missing from the file).
pub fn build(env: &Environment, tags: &ServiceTags, table_version: Option<&str>) -> Result<Plan, Vec<Diagnostic>> {
    let version = table_version
        .map(str::to_string)
        .unwrap_or_else(ise_model::requirement::latest_table_version);
    firewall_table_version(env, &version).map_err(|d| vec![d])?;
    let mut requirements = resolve::resolve(env, Some(&version));
    nsg_rules::write_out_tags_nsgs_refuse(&mut requirements, tags);
    let (security_rules, routes, firewall) = match (
        nsg_rules::build(env, &requirements, tags),
        routes::build(env, &requirements, tags),
        firewall::build(env, &requirements, tags),
    ) {
        (Ok(s), Ok(r), Ok(f)) => (s, r, f),
        (s, r, f) => return Err(s.err().into_iter().chain(r.err()).chain(f.err()).flatten().collect()),
    };
    let subnets = subnets::build(env, &requirements, !routes.is_empty());
    Ok(Plan {
        environment: env.clone(),
        table_version: version,
        service_tags_change_number: tags.change_number,
        requirements,
        security_rules,
        routes,
        subnets,
        firewall,
        deployment: deployment::build(env),
    })
}
