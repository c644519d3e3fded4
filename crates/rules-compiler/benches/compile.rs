//! Compile of one environment: tag-file parse, requirement resolution, plan, every artifact.

use ise_model::data::{EXAMPLE_ENVIRONMENT, SERVICE_TAGS_PUBLIC};
use ise_model::env;
use ise_model::servicetags::ServiceTags;

fn main() {
    divan::main();
}

/// Parsing the 4 MB public service-tag file (what every compile does once).
#[divan::bench]
fn parse_public_service_tags() -> ServiceTags {
    ServiceTags::parse(divan::black_box(SERVICE_TAGS_PUBLIC)).unwrap()
}

/// Decoding the embedded public snapshot from its build-time index (what every compile without
/// --service-tags does once instead of the JSON parse above).
#[divan::bench]
fn decode_embedded_public_service_tags() -> ServiceTags {
    ServiceTags::decode_embedded(divan::black_box(ise_model::cloud::CloudId::Public))
}

/// Environment load, plan and rendering, with the tag file already parsed.
#[divan::bench]
fn plan_and_render(bencher: divan::Bencher) {
    let tags = ServiceTags::embedded(ise_model::cloud::CloudId::Public);
    bencher.bench(|| {
        let env = env::load(divan::black_box(EXAMPLE_ENVIRONMENT), "example").env.unwrap();
        let plan = rules_compiler::plan::build(&env, tags, None).unwrap();
        rules_compiler::render::render_all(&plan)
    });
}

/// The whole compile of one environment, tag-file parse included.
#[divan::bench]
fn compile_end_to_end() -> usize {
    let tags = ServiceTags::parse(SERVICE_TAGS_PUBLIC).unwrap();
    let env = env::load(divan::black_box(EXAMPLE_ENVIRONMENT), "example").env.unwrap();
    let plan = rules_compiler::plan::build(&env, &tags, None).unwrap();
    rules_compiler::render::render_all(&plan).len()
}
