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
/// `destinations` names the file's outbound destinations in its own order: the plan's are sorted
/// by name, and a path must index the file's list.
pub fn environment_keys(plan: &Plan, destinations: &[String]) -> Vec<(String, String)> {
    let env = &plan.environment;
    let mut keys: Vec<(String, String)> = plan
        .requirements
        .iter()
        .filter_map(|r| requirement_key(r, env, destinations).map(|k| (r.id.clone(), k)))
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

fn requirement_key(r: &Resolved, env: &Environment, destinations: &[String]) -> Option<String> {
    let row = requirement::model().iter().find(|m| m.id == r.requirement)?;
    if row.destination == EndpointSpec::Destinations {
        let i = destinations.iter().position(|name| r.id == format!("out-dest-{name}"));
        return Some(i.map_or_else(|| OUTBOUND_DESTINATIONS.to_string(), |i| index(OUTBOUND_DESTINATIONS, i)));
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
        // Firewall mode brings it in first; else the restricted outbound policy.
        Condition::FirewallOrRestricted => match env.forced_tunneling.mode {
            ise_model::env::TunnelingMode::Firewall => Some(TUNNELING_MODE),
            _ => Some("outboundPolicy"),
        },
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

    fn names(plan: &Plan) -> Vec<String> {
        plan.environment.outbound_destinations.iter().map(|d| d.name.clone()).collect()
    }

    #[test]
    fn rows_are_traced_to_the_key_that_brings_them_in() {
        let example = plan(|_| {});
        let keys = environment_keys(&example, &names(&example));
        // The example: one outbound destination, custom DNS, an internal access endpoint.
        assert_eq!(key(&keys, "out-dest-partner-sftp"), Some("outboundDestinations[0]"));
        assert_eq!(key(&keys, "out-dns-53"), Some("customDnsServers"));
        assert_eq!(key(&keys, INTERNAL_CALLERS_ROW), Some("accessEndpoint"));
        // Rows every ISE has (the load balancer's probes) come from no key.
        assert_eq!(key(&keys, "in-azure-load-balancer"), None);
    }

    /// The plan's destinations are sorted by name; a path indexes the file's list, in its order.
    #[test]
    fn a_destination_is_traced_to_its_entry_in_the_files_order() {
        let two = plan(|env| {
            let mut zeta = env.outbound_destinations[0].clone();
            zeta.name = "zeta".into();
            let mut alpha = zeta.clone();
            alpha.name = "alpha".into();
            env.outbound_destinations = vec![zeta, alpha];
        });
        let in_file = ["zeta".to_string(), "alpha".to_string()];
        let keys = environment_keys(&two, &in_file);
        assert_eq!(key(&keys, "out-dest-zeta"), Some("outboundDestinations[0]"));
        assert_eq!(key(&keys, "out-dest-alpha"), Some("outboundDestinations[1]"));
        // A name the file does not hold (never, for the plan of that file): the whole list.
        let keys = environment_keys(&two, &in_file[..1]);
        assert_eq!(key(&keys, "out-dest-alpha"), Some("outboundDestinations"));
    }

    #[test]
    fn callers_and_tunneling_rows_point_at_their_keys() {
        let tunneled = plan(|env| {
            env.internal_callers = vec!["192.168.0.0/24".parse().unwrap()];
            env.forced_tunneling.mode = TunnelingMode::Firewall;
            env.forced_tunneling.firewall_private_ip = Some("10.10.0.4".parse().unwrap());
        });
        let keys = environment_keys(&tunneled, &names(&tunneled));
        assert_eq!(key(&keys, INTERNAL_CALLERS_ROW), Some("internalCallers"));
        assert_eq!(key(&keys, "route-firewall-default"), Some(TUNNELING_MODE));
        assert_eq!(key(&keys, super::super::routes::OTHER_TRAFFIC_TO_FIREWALL), Some(TUNNELING_MODE));
    }
}
