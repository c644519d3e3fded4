//! The four ISE subnets: prefix, the NSG and (when tunneling) route-table association, service
//! endpoints, and the one delegation.
//!
//! Service endpoints: the forced-tunneling section requires Microsoft.Sql, Storage, ServiceBus,
//! KeyVault and EventHub because their traffic cannot go through a firewall. In mode `none` isenet
//! adds none: nothing is tunneled, and enabling them would change the source address these
//! services see (to the private address), which breaks IP firewall rules on existing accounts.

use ise_model::env::Environment;
use ise_model::requirement::Kind;
use ise_model::resolve::Resolved;
use serde::Serialize;

/// Delegation service name. The 2021 ISE article's prose (see README, "How requirements become rules") writes `Microsoft.integrationServiceEnvironment`;
/// Azure accepts `Microsoft.Logic/integrationServiceEnvironments` (the resource type), as the
/// azurerm provider's acceptance test for azurerm_integration_service_environment delegates it,
/// with the action Microsoft.Network/virtualNetworks/subnets/action.
pub const DELEGATION_SERVICE: &str = "Microsoft.Logic/integrationServiceEnvironments";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSubnet {
    pub name: String,
    pub prefix: String,
    pub delegated: bool,
    pub route_table: bool,
    /// Service names (`Microsoft.Sql`), sorted, with the requirements behind them.
    pub service_endpoints: Vec<String>,
    pub requirements: Vec<String>,
}

pub fn build(env: &Environment, reqs: &[Resolved], route_table: bool) -> Vec<PlanSubnet> {
    let services = ise_model::resolve::service_endpoints(reqs);
    let endpoints: Vec<&Resolved> = reqs.iter().filter(|r| r.kind == Kind::ServiceEndpoint).collect();
    let mut ids: Vec<String> = endpoints.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    env.subnets
        .iter()
        .map(|s| PlanSubnet {
            name: s.name.clone(),
            prefix: s.prefix.to_string(),
            delegated: s.delegated,
            route_table,
            service_endpoints: services.clone(),
            requirements: ids.clone(),
        })
        .collect()
}
