//! Where a requirement is published, for people who sign it off: the Microsoft Learn article and
//! table, the table version and the article's public URL, instead of the internal seed and data-file
//! names `data/requirements.csv` and `data/firewall-dependencies.csv` cite (see data/SOURCES.md).

use crate::requirement::Kind;
use serde::Serialize;

const LEARN: &str = "https://learn.microsoft.com/en-us/azure/";

/// A published source: article and table (with the row's detail), version, public URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    /// `Microsoft Learn, <article>: <table> (<detail>)`.
    pub reference: String,
    /// The table version for rows of the ISE tables; empty for other sources.
    pub version: String,
    /// Public URLs, space separated when a row cites several articles.
    pub url: String,
}

/// Data files of data/SOURCES.md and the Learn article each was taken from.
const ARTICLES: &[(&str, &str, &str)] = &[
    (
        "ase-firewall-dependencies.csv",
        "app-service/environment/firewall-integration",
        "Locking down an App Service Environment",
    ),
    (
        "redis-vnet-ports.csv",
        "azure-cache-for-redis/cache-how-to-premium-vnet",
        "Configure virtual network support for a Premium Azure Cache for Redis",
    ),
    (
        "apim-vnet-ports.csv",
        "api-management/virtual-network-reference",
        "Virtual network configuration reference: API Management",
    ),
    (
        "apim-vnet-fqdns.csv",
        "api-management/virtual-network-reference",
        "Virtual network configuration reference: API Management",
    ),
    ("azure-firewall-fqdn-tags.csv", "firewall/fqdn-tags", "FQDN tags overview"),
];

const NSG_DEFAULTS: (&str, &str) = (
    "virtual-network/network-security-groups-overview#default-security-rules",
    "Network security groups: default security rules",
);

/// The ISE article that published table `version` (data/table-versions.csv), without `.md`.
fn ise_article(version: &str) -> String {
    crate::requirement::table_article(version).to_string()
}

fn table_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Inbound => "Inbound security rules",
        Kind::Outbound => "Outbound security rules",
        Kind::Route | Kind::ServiceEndpoint | Kind::FirewallApplication => "Forced tunneling requirements",
    }
}

/// The detail without isenet's internal data-file names (`ase-firewall-dependencies.csv:`), which
/// mean nothing to a reader of the article.
fn scrub(detail: &str) -> String {
    detail
        .split(' ')
        .filter_map(|word| {
            let bare = word.trim_start_matches('(').trim_end_matches(':');
            if bare.ends_with(".csv") {
                word.starts_with('(').then_some("(")
            } else {
                Some(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
}

/// The published source of a requirement (`reference` as data/requirements.csv writes it), under
/// the table version the plan used.
pub fn requirement(reference: &str, kind: Kind, table_version: &str) -> Published {
    // What follows `;` is the model's own note of the data rows behind it (data/SOURCES.md), not
    // part of the citation.
    let reference = reference.split(';').next().unwrap_or(reference).trim();
    if reference.starts_with("Azure default rule") {
        return Published {
            reference: format!("Microsoft Learn, {}: {reference}", NSG_DEFAULTS.1),
            version: String::new(),
            url: format!("{LEARN}{}", NSG_DEFAULTS.0),
        };
    }
    let article = ise_article(table_version);
    // `seed-002 <table>: <detail>` names the table; other rows (added in later versions) are in
    // the table of their kind.
    let (table, detail) = match reference.strip_prefix("seed-002 ") {
        Some(rest) => match rest.split_once(':') {
            Some((t, d)) => (t.trim().trim_end_matches(" step").to_string(), d.trim().to_string()),
            None => (rest.to_string(), String::new()),
        },
        None => (
            table_of(kind).to_string(),
            reference.split_once(':').map_or(reference, |(_, d)| d).trim().to_string(),
        ),
    };
    let detail = scrub(&detail);
    let detail = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
    Published {
        reference: format!("Microsoft Learn, {article}: {table}{detail}"),
        version: table_version.to_string(),
        url: format!("{LEARN}logic-apps/{article}"),
    }
}

/// The published sources of a firewall dependency (`reference` of data/firewall-dependencies.csv:
/// `file:rows; file:rows`); rows that point back at requirements.csv take the ISE article.
pub fn firewall_dependency(reference: &str, table_version: &str) -> Published {
    let mut titles: Vec<String> = Vec::new();
    let mut urls: Vec<String> = Vec::new();
    for part in reference.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let file = part.split(':').next().unwrap_or(part);
        let (url, title) = match ARTICLES.iter().find(|(f, ..)| *f == file) {
            Some((_, path, title)) => (format!("{LEARN}{path}"), (*title).to_string()),
            None => {
                let article = ise_article(table_version);
                (format!("{LEARN}logic-apps/{article}"), article)
            }
        };
        if !urls.contains(&url) {
            urls.push(url);
            titles.push(title);
        }
    }
    Published {
        reference: format!("Microsoft Learn, {}", titles.join("; ")),
        version: String::new(),
        url: urls.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_requirement_gets_a_learn_url_and_no_seed_name() {
        for version in crate::requirement::table_versions() {
            for r in crate::requirement::model() {
                let p = requirement(&r.reference, r.kind, version);
                assert!(p.url.starts_with(LEARN), "{}: {}", r.id, p.url);
                assert!(!p.reference.contains("seed-"), "{}: {}", r.id, p.reference);
                assert!(!p.reference.contains(".csv"), "{}: {}", r.id, p.reference);
            }
        }
    }

    #[test]
    fn the_2023_table_is_in_the_manage_article_and_older_ones_in_the_connect_article() {
        // data/SOURCES.md: in 2023 the tables moved to ise-manage-integration-service-environment.md.
        let r = requirement(
            "seed-002 Inbound security rules: Logic Apps designer - dynamic properties",
            Kind::Inbound,
            "2023-09-27",
        );
        assert_eq!(
            r.url,
            "https://learn.microsoft.com/en-us/azure/logic-apps/ise-manage-integration-service-environment"
        );
        assert_eq!(
            r.reference,
            "Microsoft Learn, ise-manage-integration-service-environment: Inbound security rules (Logic Apps designer - dynamic properties)"
        );
        let old = requirement("seed-002 Inbound security rules: x", Kind::Inbound, "2021");
        assert_eq!(
            old.url,
            "https://learn.microsoft.com/en-us/azure/logic-apps/connect-virtual-network-vnet-isolated-environment"
        );
        assert_eq!(old.version, "2021");
    }

    #[test]
    fn firewall_rows_cite_each_article_once() {
        let p = firewall_dependency(
            "apim-vnet-fqdns.csv:2; ase-firewall-dependencies.csv:57+58; apim-vnet-ports.csv:5; requirements.csv:out-sql-1433",
            "2023-09-27",
        );
        assert_eq!(p.url.split(' ').count(), 3, "{}", p.url);
        assert!(p.url.contains("firewall-integration") && p.url.contains("virtual-network-reference"));
        assert!(p.url.contains("logic-apps/ise-manage-integration-service-environment"));
        let mut rows = csv::Reader::from_reader(crate::data::FIREWALL_DEPENDENCIES_CSV.as_bytes());
        let column = rows.headers().unwrap().iter().position(|h| h == "reference").unwrap();
        for row in rows.records() {
            let p = firewall_dependency(&row.unwrap()[column], "2021");
            assert!(!p.url.is_empty() && p.url.split(' ').all(|u| u.starts_with(LEARN)), "{p:?}");
        }
    }
}
