//! `review.csv`: one row per generated NSG rule, route, firewall rule and service endpoint for a
//! security reviewer to sign off, with provenance and proof status (see `review`), as spreadsheet-safe
//! CSV (`views::csv_safe`).

use std::borrow::Cow;

use super::review::{Review, Written};
use crate::views::csv_safe;

/// The columns after the rule's own (`Written::COLUMNS`).
const WHY: [&str; 9] = [
    "requirements",
    "purpose",
    "reference",
    "table_version",
    "url",
    "condition",
    "internet",
    "proof",
    "proved",
];

pub fn render(review: &Review) -> String {
    let header: Vec<&str> = Written::COLUMNS.iter().chain(&WHY).copied().collect();
    let rows: Vec<Vec<Cow<str>>> = review
        .rows
        .iter()
        .map(|r| {
            let why = [
                Cow::Owned(r.requirements.join(" ")),
                Cow::Borrowed(r.purpose.as_str()),
                Cow::Borrowed(r.reference.as_str()),
                Cow::Borrowed(r.table_version.as_str()),
                Cow::Borrowed(r.url.as_str()),
                Cow::Borrowed(r.condition.as_str()),
                Cow::Borrowed(r.internet.as_str()),
                Cow::Borrowed(r.proof.as_str()),
                Cow::Borrowed(if r.proved { "yes" } else { "no" }),
            ];
            r.written.cells().into_iter().map(Cow::Borrowed).chain(why).collect()
        })
        .collect();
    csv_safe::render(&header, &rows)
}

#[cfg(test)]
mod tests {
    use crate::render::review;
    use ise_model::servicetags::ServiceTags;

    /// A plan whose texts carry spreadsheet formulas (as a hostile requirement purpose or rule name
    /// would): no cell of review.csv reads back as a formula, and the text survives behind the `'`.
    #[test]
    fn formulas_in_the_plan_are_neutralised_in_review_csv() {
        let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        let tags = ServiceTags::embedded(env.cloud);
        let mut plan = crate::plan::build(&env, tags, None).unwrap();
        let evil = "=HYPERLINK(\"http://evil.example\",\"click\")";
        plan.requirements[0].purpose = evil.into();
        plan.security_rules[0].rule.name = "-2+3".into();
        plan.security_rules[1].rule.name = "@SUM(1)".into();
        let text = super::render(&review::review(&plan, tags));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().len(), review::Written::COLUMNS.len() + super::WHY.len());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        for rec in &records {
            for cell in rec {
                assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?}");
            }
        }
        let cells: Vec<&str> = records.iter().flat_map(|r| r.iter()).collect();
        assert!(cells.contains(&format!("'{evil}").as_str()));
        assert!(cells.contains(&"'-2+3") && cells.contains(&"'@SUM(1)"));
    }
}
