//! Published address lists (data/logicapps-ips.csv, apim-control-plane-ips.csv,
//! ase-management-addresses.csv), looked up per cloud and location.

use crate::cloud::{normalise_location, CloudId};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// The lists a requirement can name as `ips:<kind>`.
pub const KINDS: [&str; 4] = [
    "logicapps-inbound",
    "logicapps-outbound",
    "connector-outbound",
    "apim-control-plane",
];

/// One row of the published lists, from the tables build.rs generates (`address_lists`).
#[derive(Debug, Clone, Copy)]
struct Row {
    /// Index into `LOCATIONS` (normalised: `usgovvirginia`).
    location: u16,
    /// Index into `CLOUDS`.
    cloud: u8,
    /// Index into `KIND_NAMES`.
    kind: u8,
    /// The address as published, and its prefix length.
    address: u32,
    length: u8,
}

impl Row {
    fn prefix(&self) -> Ipv4Net {
        Ipv4Net::new(Ipv4Addr::from(self.address), self.length).expect("build.rs checks lengths")
    }
}

include!(concat!(env!("OUT_DIR"), "/iplists.rs"));

/// The rows of a cloud's list of `kind`: its index in the tables, or `None` when no list of it
/// is published anywhere.
fn wanted(cloud: CloudId, kind: &str) -> Option<(u8, u8)> {
    let list_cloud = cloud.facts().ip_list_cloud.as_str();
    let cloud = CLOUDS.iter().position(|c| *c == list_cloud)?;
    let kind = KIND_NAMES.iter().position(|k| *k == kind)?;
    Some((cloud as u8, kind as u8))
}

/// The rows published for a location (of every cloud and kind): a run of the sorted `ROWS`.
fn rows_at(location: &str) -> &'static [Row] {
    let Ok(at) = LOCATIONS.binary_search(&normalise_location(location).as_str()) else {
        return &[];
    };
    let at = at as u16;
    let first = ROWS.partition_point(|r| r.location < at);
    let end = ROWS.partition_point(|r| r.location <= at);
    &ROWS[first..end]
}

/// The published prefixes of `kind` for a location, sorted and deduplicated; empty when the
/// documentation publishes none for that location.
pub fn published(cloud: CloudId, location: &str, kind: &str) -> Vec<Ipv4Net> {
    let Some((cloud, kind)) = wanted(cloud, kind) else {
        return Vec::new();
    };
    let mut v: Vec<Ipv4Net> = rows_at(location)
        .iter()
        .chain(GLOBALS)
        .filter(|r| r.cloud == cloud && r.kind == kind)
        .map(Row::prefix)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether the location has its own (non-global) entries of `kind`.
pub fn has_published(cloud: CloudId, location: &str, kind: &str) -> bool {
    wanted(cloud, kind).is_some_and(|(cloud, kind)| rows_at(location).iter().any(|r| r.cloud == cloud && r.kind == kind))
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

    use crate::data;
    use crate::embedded_csv::plain_columns;

    /// Every row of the embedded CSV text, read at run time as `published` read it before
    /// build.rs indexed it: (cloud, normalised location, kind, prefix, global).
    fn csv_rows() -> Vec<(&'static str, String, &'static str, Ipv4Net, bool)> {
        let logicapps = plain_columns(data::LOGICAPPS_IPS_CSV, ["cloud", "region", "kind", "prefix"])
            .map(|[cloud, region, kind, prefix]| (cloud, region, kind, prefix, false));
        let apim = plain_columns(data::APIM_CONTROL_PLANE_CSV, ["cloud", "region", "prefix", "global"])
            .map(|[cloud, region, prefix, global]| (cloud, region, "apim-control-plane", prefix, global == "yes"));
        logicapps
            .chain(apim)
            .map(|(cloud, region, kind, prefix, global)| {
                (cloud, normalise_location(region), kind, prefix.parse().expect("a prefix"), global)
            })
            .collect()
    }

    /// The hand split of `plain_columns` holds for the embedded tables (compared with `csv` in
    /// `embedded_csv`), and every row has a known kind.
    #[test]
    fn embedded_lists_are_plain_tables_of_known_kinds() {
        for (text, width) in [(data::LOGICAPPS_IPS_CSV, 4), (data::APIM_CONTROL_PLANE_CSV, 4)] {
            assert!(!text.contains('"'), "no quoted fields");
            for line in text.lines().filter(|l| !l.is_empty()) {
                assert_eq!(line.split(',').count(), width, "{line}");
            }
        }
        let rows = csv_rows();
        assert_eq!(rows.len(), 2041, "every data row read (1,982 + 59)");
        assert_eq!(ROWS.len(), rows.len());
        assert!(rows.iter().all(|r| KINDS.contains(&r.2)), "known kinds");
        assert!(KIND_NAMES.iter().all(|k| KINDS.contains(k)));
    }

    /// build.rs's tables answer every lookup as the CSV text does: each cloud, each location of
    /// the model (spelled as users write them too) and unknown ones, each kind.
    #[test]
    fn build_time_tables_answer_as_the_csv_text() {
        let rows = csv_rows();
        let mut places: Vec<String> = crate::cloud::locations().iter().map(|l| l.name.clone()).collect();
        places.extend(["West US 2", "USGov Virginia", "China North 2", "nowhere", ""].map(String::from));
        for cloud in CloudId::ALL {
            let list_cloud = cloud.facts().ip_list_cloud.as_str();
            for place in &places {
                let key = normalise_location(place);
                for kind in KINDS.into_iter().chain(["unknown-kind"]) {
                    let of = |r: &&(&str, String, &str, Ipv4Net, bool)| r.0 == list_cloud && r.2 == kind;
                    let mut expected: Vec<Ipv4Net> = rows.iter().filter(of).filter(|r| r.1 == key || r.4).map(|r| r.3).collect();
                    expected.sort();
                    expected.dedup();
                    assert_eq!(published(cloud, place, kind), expected, "{cloud:?} {place} {kind}");
                    let own = rows.iter().filter(of).any(|r| r.1 == key);
                    assert_eq!(has_published(cloud, place, kind), own, "{cloud:?} {place} {kind}");
                }
            }
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
