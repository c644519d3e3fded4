//! Render: one backend module per artifact. Each reads only the plan.

mod firewall_classic;
mod firewall_policy;
mod ids;
mod nsg;
mod plan_json;
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
    "firewall-classic.json",
    "firewall-policy.json",
    "nsg.json",
    "plan.json",
    "route-table.json",
    "subnets.json",
];

/// One backend of `compile --only NAME`: the files it writes and how it renders them. A new
/// artifact is a row here (and its names in `ARTIFACT_NAMES`); the CLI takes its selectors from
/// this table.
pub struct Backend {
    pub name: &'static str,
    pub files: &'static [&'static str],
    pub render: fn(&Plan) -> Vec<Artifact>,
}

fn one(file_name: &'static str, contents: String) -> Vec<Artifact> {
    vec![Artifact { file_name, contents }]
}

/// Every backend, sorted by name.
pub const BACKENDS: &[Backend] = &[
    Backend {
        name: "firewall",
        files: &["firewall-classic.json", "firewall-policy.json"],
        render: |p| {
            let mut v = one("firewall-classic.json", firewall_classic::render(p));
            v.extend(one("firewall-policy.json", firewall_policy::render(p)));
            v
        },
    },
    Backend {
        name: "nsg",
        files: &["nsg.json"],
        render: |p| one("nsg.json", nsg::render(p)),
    },
    Backend {
        name: "plan",
        files: &["plan.json"],
        render: |p| one("plan.json", plan_json::render(p)),
    },
    Backend {
        name: "routes",
        files: &["route-table.json"],
        render: |p| one("route-table.json", route_table::render(p)),
    },
    Backend {
        name: "subnets",
        files: &["subnets.json"],
        render: |p| one("subnets.json", subnets::render(p)),
    },
];

/// The backend called `name`.
pub fn backend(name: &str) -> Option<&'static Backend> {
    BACKENDS.iter().find(|b| b.name == name)
}

/// The artifacts of the given backends, sorted by file name (each once, however often named).
pub fn render_selected(plan: &Plan, backends: &[&Backend]) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = backends.iter().flat_map(|b| (b.render)(plan)).collect();
    out.sort_by_key(|a| a.file_name);
    out.dedup_by_key(|a| a.file_name);
    out
}

/// Every artifact of the plan, sorted by file name.
pub fn render_all(plan: &Plan) -> Vec<Artifact> {
    render_selected(plan, &BACKENDS.iter().collect::<Vec<_>>())
}

pub use nsg::security_rule_json;

#[cfg(test)]
mod tests {
    #[test]
    fn artifact_names_are_exactly_what_render_all_writes() {
        let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        let plan = crate::plan::build(&env, ise_model::servicetags::ServiceTags::embedded(env.cloud), None).unwrap();
        let written: Vec<&str> = super::render_all(&plan).iter().map(|a| a.file_name).collect();
        assert_eq!(written, super::ARTIFACT_NAMES);
    }

    #[test]
    fn each_backend_writes_exactly_its_files_and_the_table_is_sorted() {
        let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        let plan = crate::plan::build(&env, ise_model::servicetags::ServiceTags::embedded(env.cloud), None).unwrap();
        let names: Vec<&str> = super::BACKENDS.iter().map(|b| b.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        for b in super::BACKENDS {
            let files: Vec<&str> = (b.render)(&plan).iter().map(|a| a.file_name).collect();
            assert_eq!(files, b.files, "backend {}", b.name);
            assert_eq!(
                super::render_selected(&plan, &[b, b]).len(),
                b.files.len(),
                "named twice, written once"
            );
        }
    }
}
