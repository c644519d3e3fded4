//! ARM resource ids of the environment's resources.

use ise_model::env::Environment;

fn network(env: &Environment, kind: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/{kind}/{name}",
        env.subscription_id, env.resource_group
    )
}

pub fn nsg(env: &Environment) -> String {
    network(env, "networkSecurityGroups", &env.nsg_name)
}

pub fn route_table(env: &Environment) -> String {
    network(env, "routeTables", &env.route_table_name)
}
