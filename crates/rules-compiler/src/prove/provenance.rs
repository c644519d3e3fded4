//! Where in the environment file each requirement, firewall dependency and route check of a plan
//! comes from: the key that brings it in (an outbound destination, the declared callers, the
//! access endpoint, the custom DNS servers, the tunneling mode). A finding about an artifact that
//! is no file of the repository (compiled in memory, piped on stdin) points there, since code
//! scanning and CI annotations need a file and line.

use crate::plan::Plan;
use ise_model::env::Environment;
use ise_model::jsonpos::{field, index};
use ise_model::requirement::{self, Condition, EndpointSpec};
use ise_model::resolve::{Resolved, EXTERNAL_CALLERS_ROW, INTERNAL_CALLERS_ROW};

const OUTBOUND_DESTINATIONS: &str = "outboundDestinations";
const TUNNELING_MODE: &str = "forcedTunneling.mode";

/// (id, JSON path of the environment key it comes from) for every requirement, dependency and
/// route check of the plan that one key brings in; the rows every ISE has come from none.
pub fn environment_keys(plan: &Plan) -> Vec<(String, String)> {
    let env = &plan.environment;
    let mut keys: Vec<(String, String)> = plan
        .requirements
        .iter()
        .filter_map(|r| requirement_key(r, env).map(|k| (r.id.clone(), k)))
        .collect();
    // The firewall's own dependencies (the others are requirements, above) exist in firewall mode.
    for d in &plan.firewall.dependencies {
        if keys.iter().all(|(id, _)| *id != d.id) {
            let key = match crate::plan::serves_custom_dns(&d.id) {
                true => "customDnsServers",
                false => TUNNELING_MODE,
            };
            keys.push((d.id.clone(), key.to_string()));
        }
    }
    if env.forced_tunneling.mode.is_tunneled() {
        for check in [super::routes::OTHER_TRAFFIC_TO_FIREWALL, super::routes::OTHER_TRAFFIC_TO_INTERNET] {
            keys.push((check.to_string(), TUNNELING_MODE.to_string()));
        }
    }
    keys.sort();
    keys
}

fn requirement_key(r: &Resolved, env: &Environment) -> Option<String> {
    let row = requirement::model().iter().find(|m| m.id == r.requirement)?;
    if row.destination == EndpointSpec::Destinations {
        let i = env
            .outbound_destinations
            .iter()
            .position(|d| r.id == format!("out-dest-{}", d.name))?;
        return Some(index(OUTBOUND_DESTINATIONS, i));
    }
    let callers = match r.requirement.as_str() {
        INTERNAL_CALLERS_ROW if !env.internal_callers.is_empty() => Some("internalCallers"),
        EXTERNAL_CALLERS_ROW | super::routes::EXTERNAL_CALLERS_ROUTE if !env.external_callers.is_empty() => Some("externalCallers"),
        _ => None,
    };
    let key = callers.or(match row.condition {
        Condition::Always => None,
        Condition::Internal | Condition::External => Some("accessEndpoint"),
        Condition::CustomDns => Some("customDnsServers"),
        Condition::ForcedTunneling | Condition::Expressroute | Condition::Firewall | Condition::FirewallExternal => Some(TUNNELING_MODE),
    })?;
    Some(field("", key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ise_model::env::TunnelingMode;

    fn plan(edit: impl Fn(&mut Environment)) -> Plan {
        let mut env: Environment = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "env.json").env.unwrap();
        edit(&mut env);
        let tags = ise_model::servicetags::ServiceTags::embedded(env.cloud);
        crate::plan::build(&env, tags, None).unwrap()
    }

    fn key<'a>(keys: &'a [(String, String)], id: &str) -> Option<&'a str> {
        keys.iter().find(|(i, _)| i == id).map(|(_, k)| k.as_str())
    }

    #[test]
    fn rows_are_traced_to_the_key_that_brings_them_in() {
        let keys = environment_keys(&plan(|_| {}));
        // The example: one outbound destination, custom DNS, an internal access endpoint.
        assert_eq!(key(&keys, "out-dest-partner-sftp"), Some("outboundDestinations[0]"));
        assert_eq!(key(&keys, "out-dns-53"), Some("customDnsServers"));
        assert_eq!(key(&keys, INTERNAL_CALLERS_ROW), Some("accessEndpoint"));
        // Rows every ISE has (the load balancer's probes) come from no key.
        assert_eq!(key(&keys, "in-azure-load-balancer"), None);
    }

    #[test]
    fn callers_and_tunneling_rows_point_at_their_keys() {
        let keys = environment_keys(&plan(|env| {
            env.internal_callers = vec!["192.168.0.0/24".parse().unwrap()];
            env.forced_tunneling.mode = TunnelingMode::Firewall;
            env.forced_tunneling.firewall_private_ip = Some("10.10.0.4".parse().unwrap());
        }));
        assert_eq!(key(&keys, INTERNAL_CALLERS_ROW), Some("internalCallers"));
        assert_eq!(key(&keys, "route-firewall-default"), Some(TUNNELING_MODE));
        assert_eq!(key(&keys, super::super::routes::OTHER_TRAFFIC_TO_FIREWALL), Some(TUNNELING_MODE));
    }
}
