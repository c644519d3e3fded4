//! Render: one backend module per artifact. Each reads only the plan.

mod arm_parameters;
mod arm_template;
mod bicep;
mod change_ticket;
mod deploy_params;
mod firewall_classic;
mod firewall_policy;
pub mod flows;
mod flows_svg;
mod ids;
mod ise_http;
mod ise_request;
mod nsg;
mod plan_json;
pub mod review;
mod review_csv;
mod review_html;
mod route_table;
mod subnets;
mod template;

use crate::plan::Plan;

/// A rendered file: its name in the output directory and its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub file_name: &'static str,
    pub contents: String,
}

/// The file name of every artifact `render_all` writes, sorted (what an output directory may hold).
pub const ARTIFACT_NAMES: &[&str] = &[
    "azuredeploy.json",
    "azuredeploy.parameters.json",
    "change-ticket.md",
    "firewall-classic.json",
    "firewall-policy.json",
    "flows.svg",
    "ise-request.http",
    "ise-request.json",
    "main.bicep",
    "main.bicepparam",
    "modules/firewall-rules.bicep",
    "modules/ise.bicep",
    "modules/nsg.bicep",
    "modules/route-table.bicep",
    "modules/subnets.bicep",
    "nsg.json",
    "plan.json",
    "review.csv",
    "review.html",
    "route-table.json",
    "subnets.json",
];

/// Every artifact of the plan, sorted by file name.
pub fn render_all(plan: &Plan) -> Vec<Artifact> {
    let mut out = vec![
        Artifact {
            file_name: "firewall-classic.json",
            contents: firewall_classic::render(plan),
        },
        Artifact {
            file_name: "firewall-policy.json",
            contents: firewall_policy::render(plan),
        },
        Artifact {
            file_name: "nsg.json",
            contents: nsg::render(plan),
        },
        Artifact {
            file_name: "plan.json",
            contents: plan_json::render(plan),
        },
        Artifact {
            file_name: "route-table.json",
            contents: route_table::render(plan),
        },
        Artifact {
            file_name: "subnets.json",
            contents: subnets::render(plan),
        },
    ];
    out.extend(deployable(plan));
    out.sort_by_key(|a| a.file_name);
    out
}

/// The deployable forms: ARM template and parameters, Bicep, the ISE REST requests.
fn deployable(plan: &Plan) -> Vec<Artifact> {
    let mut out = vec![
        Artifact {
            file_name: "azuredeploy.json",
            contents: arm_template::render(plan),
        },
        Artifact {
            file_name: "azuredeploy.parameters.json",
            contents: arm_parameters::render(plan),
        },
        Artifact {
            file_name: "ise-request.http",
            contents: ise_http::render(plan),
        },
        Artifact {
            file_name: "ise-request.json",
            contents: ise_request::render(plan),
        },
        Artifact {
            file_name: "main.bicep",
            contents: bicep::render_main(plan),
        },
        Artifact {
            file_name: "main.bicepparam",
            contents: bicep::render_params(plan),
        },
    ];
    out.extend(bicep::MODULES.iter().map(|m| Artifact {
        file_name: m,
        contents: bicep::render_module(m),
    }));
    out
}

pub use nsg::security_rule_json;

/// The review artifacts (review.csv, ...): the plan with its proof, for people who sign it off.
/// They need the service-tag file the plan was built with (prefix counts, the proofs).
pub fn render_review(plan: &Plan, tags: &ise_model::servicetags::ServiceTags) -> Vec<Artifact> {
    let review = review::review(plan, tags);
    let mut out = vec![
        Artifact {
            file_name: "change-ticket.md",
            contents: change_ticket::render(&review),
        },
        Artifact {
            file_name: "flows.svg",
            contents: flows_svg::render(&flows::graph(plan)),
        },
        Artifact {
            file_name: "review.csv",
            contents: review_csv::render(&review),
        },
        Artifact {
            file_name: "review.html",
            contents: review_html::render(&review),
        },
    ];
    out.sort_by_key(|a| a.file_name);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn artifact_names_are_exactly_what_render_all_writes() {
        let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        let plan = crate::plan::build(&env, ise_model::servicetags::ServiceTags::embedded(env.cloud), None).unwrap();
        let tags = ise_model::servicetags::ServiceTags::embedded(env.cloud);
        let mut written: Vec<&str> = super::render_all(&plan).iter().map(|a| a.file_name).collect();
        written.extend(super::render_review(&plan, tags).iter().map(|a| a.file_name));
        written.sort();
        assert_eq!(written, super::ARTIFACT_NAMES);
    }
}
