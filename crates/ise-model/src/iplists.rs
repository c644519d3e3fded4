//! Published address lists (data/logicapps-ips.csv, apim-control-plane-ips.csv,
//! ase-management-addresses.csv), looked up per cloud and location.

use crate::cloud::{normalise_location, CloudId};
use crate::data;
use crate::embedded_csv::plain_columns;
use ipnet::Ipv4Net;
use std::sync::OnceLock;

/// The lists a requirement can name as `ips:<kind>`.
pub const KINDS: [&str; 4] = [
    "logicapps-inbound",
    "logicapps-outbound",
    "connector-outbound",
    "apim-control-plane",
];

/// One row of the published lists, its text borrowed from the embedded tables.
#[derive(Debug, Clone)]
struct Entry {
    cloud: &'static str,
    /// Index into [`Lists::locations`].
    location: usize,
    kind: &'static str,
    /// Parsed when asked for: a compile needs the few rows of its location.
    prefix: &'static str,
    /// APIM "(Global)" addresses apply to every region of the cloud.
    global: bool,
}

struct Lists {
    /// Normalised locations (`usgovvirginia`).
    locations: Vec<String>,
    entries: Vec<Entry>,
}

impl Lists {
    fn location(&self, location: &str) -> Option<usize> {
        let key = normalise_location(location);
        self.locations.iter().position(|l| *l == key)
    }
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| {
        let mut lists = Lists {
            locations: Vec::new(),
            entries: Vec::new(),
        };
        // Rows come grouped by region: normalise each region once.
        let mut last: Option<(&str, usize)> = None;
        let mut location = |lists: &mut Lists, region: &'static str| -> usize {
            if let Some((_, at)) = last.filter(|(seen, _)| *seen == region) {
                return at;
            }
            let key = normalise_location(region);
            let at = lists.locations.iter().position(|l| *l == key).unwrap_or_else(|| {
                lists.locations.push(key);
                lists.locations.len() - 1
            });
            last = Some((region, at));
            at
        };
        for [cloud, region, kind, prefix] in plain_columns(data::LOGICAPPS_IPS_CSV, ["cloud", "region", "kind", "prefix"]) {
            let at = location(&mut lists, region);
            lists.entries.push(Entry {
                cloud,
                location: at,
                kind,
                prefix,
                global: false,
            });
        }
        for [cloud, region, prefix, global] in plain_columns(data::APIM_CONTROL_PLANE_CSV, ["cloud", "region", "prefix", "global"]) {
            let at = location(&mut lists, region);
            lists.entries.push(Entry {
                cloud,
                location: at,
                kind: "apim-control-plane",
                prefix,
                global: global == "yes",
            });
        }
        lists
    })
}

fn parse_prefix(e: &Entry) -> Ipv4Net {
    e.prefix.parse().expect("embedded address lists' prefixes parse (tested)")
}

/// The published prefixes of `kind` for a location, sorted and deduplicated; empty when the
/// documentation publishes none for that location.
pub fn published(cloud: CloudId, location: &str, kind: &str) -> Vec<Ipv4Net> {
    let list_cloud = &cloud.facts().ip_list_cloud;
    let lists = lists();
    let at = lists.location(location);
    let mut v: Vec<Ipv4Net> = lists
        .entries
        .iter()
        .filter(|e| e.cloud == list_cloud && e.kind == kind && (Some(e.location) == at || e.global))
        .map(parse_prefix)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether the location has its own (non-global) entries of `kind`.
pub fn has_published(cloud: CloudId, location: &str, kind: &str) -> bool {
    let list_cloud = &cloud.facts().ip_list_cloud;
    let lists = lists();
    let Some(at) = lists.location(location) else {
        return false;
    };
    lists
        .entries
        .iter()
        .any(|e| e.cloud == list_cloud && e.kind == kind && e.location == at)
}

/// The published lists a location lacks among those that replace tags the cloud's NSGs cannot
/// use, sorted (empty: every requirement can be met there).
pub fn missing_replacements(cloud: CloudId, location: &str) -> Vec<&'static str> {
    let mut missing: Vec<&'static str> = cloud
        .facts()
        .nsg_tag_replacements
        .values()
        .flatten()
        .filter(|kind| !has_published(cloud, location, kind))
        .map(|k| {
            KINDS
                .iter()
                .copied()
                .find(|x| x == k)
                .expect("replacement kinds are address-list kinds (tested)")
        })
        .collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// Every location of every cloud where an ISE's requirements can be met.
pub fn deployable_locations() -> Vec<&'static crate::cloud::Location> {
    crate::cloud::locations()
        .iter()
        .filter(|l| missing_replacements(l.cloud, &l.name).is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand split of `plain_columns` holds for the embedded tables (compared with `csv` in
    /// `embedded_csv`): plain fields, the header's count on every row, a parseable prefix and a
    /// known kind on each.
    #[test]
    fn embedded_lists_are_plain_tables_of_valid_rows() {
        for (text, width) in [(data::LOGICAPPS_IPS_CSV, 4), (data::APIM_CONTROL_PLANE_CSV, 4)] {
            assert!(!text.contains('"'), "no quoted fields");
            for line in text.lines().filter(|l| !l.is_empty()) {
                assert_eq!(line.split(',').count(), width, "{line}");
            }
        }
        let lists = lists();
        assert_eq!(lists.entries.len(), 2041, "every data row read (1,982 + 59)");
        for e in &lists.entries {
            parse_prefix(e);
            assert!(KINDS.contains(&e.kind), "{e:?}");
            assert!(!e.cloud.is_empty() && !lists.locations[e.location].is_empty(), "{e:?}");
        }
    }

    #[test]
    fn government_lists_come_from_the_published_tables() {
        // Addresses of the published Logic Apps tables (data/logicapps-ips.csv, provenance in data/SOURCES.md).
        let inbound = published(CloudId::UsGovernment, "usgovarizona", "logicapps-inbound");
        assert!(inbound.contains(&"52.244.67.164/32".parse().unwrap()), "{inbound:?}");
        assert!(has_published(CloudId::UsGovernment, "usgovvirginia", "connector-outbound"));
        assert!(!has_published(CloudId::UsGovernment, "usdodeast", "logicapps-inbound"));
    }

    #[test]
    fn every_public_and_china_location_is_deployable_but_us_dod_east() {
        let deployable = deployable_locations();
        assert!(deployable.iter().any(|l| l.name == "usgovvirginia"));
        assert!(!deployable.iter().any(|l| l.name == "usdodeast"));
        let public = crate::cloud::locations()
            .iter()
            .filter(|l| l.cloud != CloudId::UsGovernment)
            .count();
        assert_eq!(deployable.iter().filter(|l| l.cloud != CloudId::UsGovernment).count(), public);
    }

    #[test]
    fn apim_global_addresses_apply_to_every_region() {
        let westus2 = published(CloudId::Public, "westus2", "apim-control-plane");
        // West US 2's own address plus the two (Global) ones.
        assert_eq!(westus2.len(), 3);
        assert!(westus2.contains(&"104.214.19.224/32".parse().unwrap()));
        assert!(westus2.contains(&"51.143.127.203/32".parse().unwrap()));
    }
}
