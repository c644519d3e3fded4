//! `plan.json`: the plan with provenance, for review and for diffing compiles.

use super::template;
use crate::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol};
use crate::plan::{Plan, PlanDeployment, PlanFirewall, PlanRoute, PlanRule, PlanSubnet};
use ise_model::env::Environment;
use ise_model::resolve::Resolved;
use serde::Serialize;

const COMMENT: &str = "isenet plan: the requirements resolved for this environment and the rules that serve them. Every other artifact is rendered from this.";

/// The plan's fields and a `$comment`, declared in key order: `canonical` writes a struct whose
/// keys come sorted in place, while the plan's own (flattened, unsorted) form made it reorder the
/// text of every rule and of the whole document, thousands of prefixes each time. A test holds
/// this view to the plan's own serialisation, so a field added to the plan cannot be missed here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    #[serde(rename = "$comment")]
    comment: &'static str,
    deployment: &'a PlanDeployment,
    environment: &'a Environment,
    firewall: &'a PlanFirewall,
    requirements: &'a [Resolved],
    routes: &'a [PlanRoute],
    security_rules: Vec<Rule<'a>>,
    service_tags_change_number: u64,
    subnets: &'a [PlanSubnet],
    table_version: &'a str,
}

/// A rule of the plan (its security rule's fields and the plan's), in key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    access: Access,
    description: &'a str,
    destination: &'a AddressMatch,
    destination_ports: &'a [PortRange],
    direction: Direction,
    is_default: bool,
    name: &'a str,
    priority: u32,
    protocol: Protocol,
    requirements: &'a [String],
    source: &'a AddressMatch,
    source_ports: &'a [PortRange],
}

fn rule(r: &PlanRule) -> Rule<'_> {
    let s = &r.rule;
    Rule {
        access: s.access,
        description: &r.description,
        destination: &s.destination,
        destination_ports: &s.destination_ports,
        direction: s.direction,
        is_default: s.is_default,
        name: &s.name,
        priority: s.priority,
        protocol: s.protocol,
        requirements: &r.requirements,
        source: &s.source,
        source_ports: &s.source_ports,
    }
}

fn document(plan: &Plan) -> Document<'_> {
    Document {
        comment: COMMENT,
        deployment: &plan.deployment,
        environment: &plan.environment,
        firewall: &plan.firewall,
        requirements: &plan.requirements,
        routes: &plan.routes,
        security_rules: plan.security_rules.iter().map(rule).collect(),
        service_tags_change_number: plan.service_tags_change_number,
        subnets: &plan.subnets,
        table_version: &plan.table_version,
    }
}

pub fn render(plan: &Plan) -> String {
    template::json_file(&document(plan))
}

#[cfg(test)]
mod tests {
    /// The view is the plan's own serialisation with the comment: every field, none invented.
    #[test]
    fn the_view_is_the_plan_with_its_comment() {
        for (text, name) in [(ise_model::data::EXAMPLE_ENVIRONMENT, "example")] {
            let env = ise_model::env::load(text, name).env.unwrap();
            let tags = ise_model::servicetags::ServiceTags::embedded(env.cloud);
            for expand in [false, true] {
                let mut plan = crate::plan::build(&env, tags, None).unwrap();
                if expand {
                    plan = crate::plan::expand::expand(&plan, tags).unwrap_or_else(|_| panic!("expands"));
                }
                let mut expected = serde_json::to_value(&plan).unwrap();
                expected["$comment"] = super::COMMENT.into();
                assert_eq!(serde_json::to_value(super::document(&plan)).unwrap(), expected);
            }
        }
    }
}
