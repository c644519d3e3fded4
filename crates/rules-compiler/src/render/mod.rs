//! Render: one backend module per artifact. Each reads only the plan.

mod arm_parameters;
mod arm_template;
mod bicep;
mod canonical;
mod change_ticket;
mod deploy_params;
mod firewall_classic;
mod firewall_policy;
pub mod flows;
mod flows_svg;
mod ids;
mod inserts;
mod ise_http;
mod ise_request;
mod nsg;
mod plan_json;
pub(crate) mod prefix_text;
pub mod review;
mod review_csv;
mod review_html;
mod route_table;
mod subnets;
mod substitute;
mod template;
mod template_compile;
mod template_direct;
pub(crate) mod text_cache;
mod ticket_commands;

use crate::plan::Plan;
use ise_model::servicetags::ServiceTags;

/// A rendered file: its name in the output directory and its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub file_name: &'static str,
    pub contents: String,
}

/// The file name of every artifact `compile` writes, sorted (what an output directory may hold).
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

/// How a backend renders: from the plan alone, or (the review artifacts) from the plan and the
/// service-tag file it was built with (prefix counts, the snapshot's date, the proofs).
#[derive(Clone, Copy)]
pub enum Render {
    Plan(fn(&Plan) -> Vec<Artifact>),
    /// From the review (the plan with its proofs) and the flow picture, each computed once for all
    /// review backends.
    Review(fn(&review::Review, &flows::Graph) -> Vec<Artifact>),
}

/// One backend of `compile --only NAME`: the files it writes and how it renders them. A new
/// artifact is a row here (and its names in `ARTIFACT_NAMES`); the CLI takes its selectors from
/// this table.
pub struct Backend {
    pub name: &'static str,
    pub files: &'static [&'static str],
    pub render: Render,
}

fn artifact(file_name: &'static str, contents: String) -> Artifact {
    Artifact { file_name, contents }
}

fn one(file_name: &'static str, contents: String) -> Vec<Artifact> {
    vec![artifact(file_name, contents)]
}

/// Every backend, sorted by name.
pub const BACKENDS: &[Backend] = &[
    Backend {
        name: "arm",
        files: &["azuredeploy.json", "azuredeploy.parameters.json"],
        render: Render::Plan(|p| {
            vec![
                artifact("azuredeploy.json", arm_template::render(p)),
                artifact("azuredeploy.parameters.json", arm_parameters::render(p)),
            ]
        }),
    },
    Backend {
        name: "bicep",
        files: &[
            "main.bicep",
            "main.bicepparam",
            "modules/firewall-rules.bicep",
            "modules/ise.bicep",
            "modules/nsg.bicep",
            "modules/route-table.bicep",
            "modules/subnets.bicep",
        ],
        render: Render::Plan(|p| {
            let mut v = one("main.bicep", bicep::render_main(p));
            v.extend(one("main.bicepparam", bicep::render_params(p)));
            let mut modules: Vec<Artifact> = bicep::MODULES
                .iter()
                .map(|m| Artifact {
                    file_name: m,
                    contents: bicep::render_module(m),
                })
                .collect();
            modules.sort_by_key(|a| a.file_name);
            v.extend(modules);
            v
        }),
    },
    Backend {
        name: "firewall",
        files: &["firewall-classic.json", "firewall-policy.json"],
        render: Render::Plan(|p| {
            vec![
                artifact("firewall-classic.json", firewall_classic::render(p)),
                artifact("firewall-policy.json", firewall_policy::render(p)),
            ]
        }),
    },
    Backend {
        name: "nsg",
        files: &["nsg.json"],
        render: Render::Plan(|p| one("nsg.json", nsg::render(p))),
    },
    Backend {
        name: "plan",
        files: &["plan.json"],
        render: Render::Plan(|p| one("plan.json", plan_json::render(p))),
    },
    Backend {
        name: "rest",
        files: &["ise-request.http", "ise-request.json"],
        render: Render::Plan(|p| {
            vec![
                artifact("ise-request.http", ise_http::render(p)),
                artifact("ise-request.json", ise_request::render(p)),
            ]
        }),
    },
    Backend {
        name: "review",
        files: &["flows.svg", "review.csv", "review.html"],
        render: Render::Review(|r, graph| {
            // review.html shows the drawing of flows.svg inline: drawn once for both.
            let svg = flows_svg::render(graph);
            vec![
                artifact("review.html", review_html::render(r, &svg)),
                artifact("flows.svg", svg),
                artifact("review.csv", review_csv::render(r)),
            ]
        }),
    },
    Backend {
        name: "routes",
        files: &["route-table.json"],
        render: Render::Plan(|p| one("route-table.json", route_table::render(p))),
    },
    Backend {
        name: "subnets",
        files: &["subnets.json"],
        render: Render::Plan(|p| one("subnets.json", subnets::render(p))),
    },
    Backend {
        name: "ticket",
        files: &["change-ticket.md"],
        render: Render::Review(|r, graph| one("change-ticket.md", change_ticket::render(r, graph))),
    },
];

/// The backend called `name`.
pub fn backend(name: &str) -> Option<&'static Backend> {
    BACKENDS.iter().find(|b| b.name == name)
}

/// The artifacts of those of `backends` that render from the plan alone, unsorted.
fn plan_artifacts<'a>(plan: &Plan, backends: impl Iterator<Item = &'a Backend>) -> Vec<Artifact> {
    // Several artifacts write the plan's prefix lists: their texts are written once.
    text_cache::with_cache(|| {
        backends
            .filter_map(|b| match b.render {
                Render::Plan(f) => Some(f(plan)),
                Render::Review(_) => None,
            })
            .flatten()
            .collect()
    })
}

/// Backends handed out one at a time to whichever thread asks next.
struct Queue<'a> {
    backends: Vec<&'a Backend>,
    next: std::sync::atomic::AtomicUsize,
}

impl<'a> Queue<'a> {
    /// Those of `backends` that render from the plan alone (`review` false) or from the review.
    fn of(backends: &[&'a Backend], review: bool) -> Self {
        Queue {
            backends: backends
                .iter()
                .copied()
                .filter(|b| matches!(b.render, Render::Review(_)) == review)
                .collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The backends this thread takes, until none is left.
    fn taken(&self) -> impl Iterator<Item = &'a Backend> + '_ {
        std::iter::from_fn(|| {
            self.backends
                .get(self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                .copied()
        })
    }
}

/// The backends that render from the plan alone, handed out by a [`Queue`].
struct PlanJobs<'a>(Queue<'a>);

impl<'a> PlanJobs<'a> {
    fn new(backends: &[&'a Backend]) -> Self {
        PlanJobs(Queue::of(backends, false))
    }

    /// The artifacts of the jobs this thread takes until none is left, unsorted.
    fn render(&self, plan: &Plan) -> Vec<Artifact> {
        plan_artifacts(plan, self.0.taken())
    }
}

/// The backends that render from the review, handed out like [`PlanJobs`] once the review is
/// published: the change ticket alone costs about as much as the review's three files, and the
/// helper, done with the plan's artifacts by then, takes one of them.
struct ReviewJobs<'a, 'p> {
    /// The review and the flow picture; `None` when the thread making them gave up (a panic).
    made: std::sync::OnceLock<Option<(review::Review<'p>, flows::Graph)>>,
    queue: Queue<'a>,
}

impl<'a, 'p> ReviewJobs<'a, 'p> {
    fn new(backends: &[&'a Backend]) -> Self {
        ReviewJobs {
            made: std::sync::OnceLock::new(),
            queue: Queue::of(backends, true),
        }
    }

    fn publish(&self, review: review::Review<'p>, graph: flows::Graph) {
        let _ = self.made.set(Some((review, graph)));
    }

    /// The artifacts of the jobs this thread takes until none is left, once the review is
    /// published (waiting for it), unsorted.
    fn render(&self) -> Vec<Artifact> {
        let Some((review, graph)) = self.made.wait() else {
            return Vec::new();
        };
        self.queue
            .taken()
            .flat_map(|b| match b.render {
                Render::Plan(_) => Vec::new(),
                Render::Review(f) => f(review, graph),
            })
            .collect()
    }

    fn into_review(self) -> Option<review::Review<'p>> {
        self.made.into_inner().flatten().map(|(review, _)| review)
    }
}

/// At its drop, publishes "no review" unless the review was published by then (a panic while
/// making it): the other thread does not wait for ever.
struct Unpublished<'r, 'a, 'p>(&'r ReviewJobs<'a, 'p>);

impl Drop for Unpublished<'_, '_, '_> {
    fn drop(&mut self) {
        let _ = self.0.made.set(None);
    }
}

/// Compiles the templates the given backends render, so that a caller can do it on a spare core
/// before rendering (see `template::prepare`); rendering compiles any not yet compiled itself.
pub fn prepare_templates(backends: &[&Backend]) {
    template::prepare(backends.iter().flat_map(|b| b.files.iter().copied()));
}

/// The artifacts of the given backends, sorted by file name (each once, however often named).
pub fn render_selected(plan: &Plan, tags: &ServiceTags, backends: &[&Backend]) -> Vec<Artifact> {
    render_and_prove(plan, tags, backends).0
}

/// [`render_selected`], and whether the compiled NSG, routes and firewall rules are proved when a
/// review backend ran the proofs (`None` otherwise): a caller that reports the proof reuses it.
pub fn render_and_prove(plan: &Plan, tags: &ServiceTags, backends: &[&Backend]) -> (Vec<Artifact>, Option<bool>) {
    render_and_prove_on(plan, tags, backends, true)
}

/// [`render_and_prove`] on the calling thread alone, for callers whose own threads keep every core
/// busy already (a fleet's workers): there a thread per environment only adds its start and stack.
pub fn render_and_prove_inline(plan: &Plan, tags: &ServiceTags, backends: &[&Backend]) -> (Vec<Artifact>, Option<bool>) {
    render_and_prove_on(plan, tags, backends, false)
}

fn render_and_prove_on(plan: &Plan, tags: &ServiceTags, backends: &[&Backend], spawn: bool) -> (Vec<Artifact>, Option<bool>) {
    // One cache of prefix-list texts for the whole compile, the proofs' thread included: the
    // review's rows and the flow picture join the lists that the artifacts write.
    text_cache::with_cache(|| {
        // The review runs the proofs: once, and only when a review backend is selected.
        let wants_review = backends.iter().any(|b| matches!(b.render, Render::Review(_)));
        let (mut out, proved) = if spawn && wants_review {
            // The proofs and the review artifacts cost about as much as all other backends
            // together, so a single compile shares the work with a second thread. This thread
            // takes the review (the longest chain: the NSG's inbound rules evaluated, the proofs,
            // the review artifacts); the helper evaluates the outbound rules (the larger half:
            // service tags of thousands of prefixes) and renders the plan's artifacts. Which
            // thread renders each of those is decided as they go: a helper that the kernel starts
            // late (1-2 ms at times on this project's runners) leaves them to this thread, which
            // would otherwise sit idle until the helper had rendered them. Each direction is
            // evaluated once, whichever thread asks first.
            let cache = text_cache::shared().expect("inside with_cache");
            let nsg = review::compiled_nsg(plan, tags);
            let jobs = PlanJobs::new(backends);
            let review_jobs = ReviewJobs::new(backends);
            let (helped, mut out) = crate::threads::join(
                || {
                    text_cache::with_shared(cache, || {
                        nsg.evaluate(crate::azure::nsg::Direction::Outbound);
                        let mut out = jobs.render(plan);
                        out.extend(review_jobs.render());
                        out
                    })
                },
                || {
                    let _unpublished = Unpublished(&review_jobs);
                    review_jobs.publish(review::review_with(plan, tags, &nsg), flows::graph(plan));
                    let mut out = review_jobs.render();
                    out.extend(jobs.render(plan));
                    out
                },
            );
            out.extend(helped);
            (out, review_jobs.into_review().map(|r| r.ok))
        } else {
            let mut out = plan_artifacts(plan, backends.iter().copied());
            let proved = wants_review.then(|| {
                let review = review::review(plan, tags);
                out.extend(review_artifacts(&review, backends));
                review.ok
            });
            (out, proved)
        };
        out.sort_by_key(|a| a.file_name);
        out.dedup_by_key(|a| a.file_name);
        (out, proved)
    })
}

/// The artifacts of those of `backends` that render from the review, unsorted.
fn review_artifacts(review: &review::Review, backends: &[&Backend]) -> Vec<Artifact> {
    // The flow picture (the ticket's Mermaid chart and flows.svg) needs only the plan: drawn once.
    let graph = flows::graph(review.plan);
    backends
        .iter()
        .filter_map(|b| match b.render {
            Render::Plan(_) => None,
            Render::Review(f) => Some(f(review, &graph)),
        })
        .flatten()
        .collect()
}

/// Every artifact made from the plan alone (what gets deployed, and plan.json), sorted by file
/// name. The review artifacts need the tag file too: `render_selected` with `BACKENDS`.
pub fn render_all(plan: &Plan) -> Vec<Artifact> {
    let mut out = plan_artifacts(plan, BACKENDS.iter());
    out.sort_by_key(|a| a.file_name);
    out
}

/// Every artifact `compile` writes, sorted by file name.
pub fn render_everything(plan: &Plan, tags: &ServiceTags) -> Vec<Artifact> {
    render_selected(plan, tags, &BACKENDS.iter().collect::<Vec<_>>())
}

pub use nsg::security_rule_json;

#[cfg(test)]
mod tests {
    use ise_model::servicetags::ServiceTags;

    fn example() -> (crate::plan::Plan, &'static ServiceTags) {
        let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        let tags = ServiceTags::embedded(env.cloud);
        (crate::plan::build(&env, tags, None).unwrap(), tags)
    }

    /// The program's thread hook (the CLI's heap advice) runs on the proofs' thread of a compile.
    #[test]
    fn the_proofs_thread_runs_the_thread_hook_first() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        ise_model::threads::on_start(|| {
            RUNS.fetch_add(1, Ordering::SeqCst);
        });
        let (plan, tags) = example();
        let before = RUNS.load(Ordering::SeqCst);
        let (_, proved) = super::render_and_prove(&plan, tags, &super::BACKENDS.iter().collect::<Vec<_>>());
        assert_eq!(proved, Some(true));
        // At least once: other tests' compiles, on other threads, run it too.
        assert!(RUNS.load(Ordering::SeqCst) > before);
    }

    /// A review that is never made (its thread panicked) leaves the other thread nothing to
    /// render, instead of waiting for it for ever.
    #[test]
    fn review_jobs_without_a_review_render_nothing() {
        let backends: Vec<&super::Backend> = super::BACKENDS.iter().collect();
        let jobs = super::ReviewJobs::new(&backends);
        drop(super::Unpublished(&jobs));
        assert!(jobs.render().is_empty());
        assert!(jobs.into_review().is_none());
    }

    /// Published, the review's jobs are each rendered once, by whichever thread asks.
    #[test]
    fn review_jobs_render_each_review_artifact_once() {
        let (plan, tags) = example();
        let backends: Vec<&super::Backend> = super::BACKENDS.iter().collect();
        let jobs = super::ReviewJobs::new(&backends);
        let nsg = super::review::compiled_nsg(&plan, tags);
        jobs.publish(super::review::review_with(&plan, tags, &nsg), super::flows::graph(&plan));
        let (mut a, b) = std::thread::scope(|s| {
            let other = s.spawn(|| jobs.render());
            (jobs.render(), other.join().unwrap())
        });
        a.extend(b);
        let mut names: Vec<&str> = a.iter().map(|x| x.file_name).collect();
        names.sort();
        assert_eq!(names, ["change-ticket.md", "flows.svg", "review.csv", "review.html"]);
        assert_eq!(jobs.into_review().map(|r| r.ok), Some(true));
    }

    /// A compile's two threads, whichever of them renders each plan artifact, write what one
    /// thread writes: every test environment, with every backend and with selections that leave
    /// the helper little or nothing to render.
    #[test]
    fn two_threads_render_what_one_renders() {
        let envs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/envs");
        let mut files: Vec<_> = std::fs::read_dir(&envs).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let by_name = |names: &[&str]| -> Vec<&super::Backend> { super::BACKENDS.iter().filter(|b| names.contains(&b.name)).collect() };
        let all: Vec<&super::Backend> = super::BACKENDS.iter().collect();
        let review_only: Vec<&super::Backend> = super::BACKENDS
            .iter()
            .filter(|b| matches!(b.render, super::Render::Review(_)))
            .collect();
        let selections = [all, review_only, by_name(&["nsg", "review"]), by_name(&["ticket"])];
        assert!(selections.iter().all(|s| !s.is_empty()), "every selection names backends");
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let env = ise_model::env::load(&text, "env.json").env.unwrap();
            let tags = ServiceTags::embedded(env.cloud);
            let plan = crate::plan::build(&env, tags, None).unwrap();
            for backends in &selections {
                let two = super::render_and_prove(&plan, tags, backends);
                let one = super::render_and_prove_inline(&plan, tags, backends);
                assert_eq!(two, one, "{}", file.display());
            }
        }
    }

    #[test]
    fn artifact_names_are_exactly_what_compile_writes() {
        let (plan, tags) = example();
        let written: Vec<&str> = super::render_everything(&plan, tags).iter().map(|a| a.file_name).collect();
        assert_eq!(written, super::ARTIFACT_NAMES);
    }

    #[test]
    fn each_backend_writes_exactly_its_files_and_the_table_is_sorted() {
        let (plan, tags) = example();
        let names: Vec<&str> = super::BACKENDS.iter().map(|b| b.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        for b in super::BACKENDS {
            let files: Vec<&str> = super::render_selected(&plan, tags, &[b]).iter().map(|a| a.file_name).collect();
            assert_eq!(files, b.files, "backend {}", b.name);
            assert_eq!(
                super::render_selected(&plan, tags, &[b, b]).len(),
                b.files.len(),
                "named twice, written once"
            );
        }
    }
}
