//! What the deployable backends (ARM template, Bicep, ISE REST request) need beyond the network
//! rules: whether the ISE itself is deployed, the cloud's ARM host and the resource ids the ISE
//! refers to.

use ise_model::env::Environment;
use serde::Serialize;

/// The ISE's resource type and the one api-version that defines it (seed 000).
pub const ISE_TYPE: &str = "Microsoft.Logic/integrationServiceEnvironments";
pub const ISE_API_VERSION: &str = "2019-05-01";
/// The api-version of every network resource isenet writes.
pub const NETWORK_API_VERSION: &str = "2023-11-01";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDeployment {
    /// `false` under `compile --network-only`: the templates leave the ISE out for teams that
    /// deploy it separately (the REST request is still written for them).
    pub include_ise: bool,
    /// Azure Resource Manager host of the environment's cloud (`management.azure.com`).
    pub arm_host: String,
    pub ise_id: String,
    /// Resource ids of the four subnets, in the environment file's order.
    pub subnet_ids: Vec<String>,
}

fn group_id(env: &Environment) -> String {
    format!("/subscriptions/{}/resourceGroups/{}", env.subscription_id, env.resource_group)
}

pub fn build(env: &Environment) -> PlanDeployment {
    let vnet = format!(
        "{}/providers/Microsoft.Network/virtualNetworks/{}",
        group_id(env),
        env.virtual_network.name
    );
    PlanDeployment {
        include_ise: true,
        arm_host: env.cloud.facts().arm_host.clone(),
        ise_id: format!("{}/providers/{ISE_TYPE}/{}", group_id(env), env.name),
        subnet_ids: env.subnets.iter().map(|s| format!("{vnet}/subnets/{}", s.name)).collect(),
    }
}
