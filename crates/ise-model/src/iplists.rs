//! Published address lists (data/logicapps-ips.csv, apim-control-plane-ips.csv,
//! ase-management-addresses.csv), looked up per cloud and location.

use crate::cloud::{normalise_location, CloudId};
use crate::data;
use ipnet::Ipv4Net;
use serde::Deserialize;
use std::sync::OnceLock;

/// The lists a requirement can name as `ips:<kind>`.
pub const KINDS: [&str; 4] = [
    "logicapps-inbound",
    "logicapps-outbound",
    "connector-outbound",
    "apim-control-plane",
];

#[derive(Debug, Clone)]
struct Entry {
    cloud: String,
    /// Normalised location (`usgovvirginia`), or empty for cloud-wide lists.
    location: String,
    kind: String,
    prefix: Ipv4Net,
    /// APIM "(Global)" addresses apply to every region of the cloud.
    global: bool,
}

#[derive(Deserialize)]
struct LogicAppsRow {
    cloud: String,
    region: String,
    kind: String,
    prefix: Ipv4Net,
}

#[derive(Deserialize)]
struct ApimRow {
    cloud: String,
    region: String,
    prefix: Ipv4Net,
    global: String,
}

fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut out = Vec::new();
        for row in csv::Reader::from_reader(data::LOGICAPPS_IPS_CSV.as_bytes()).deserialize::<LogicAppsRow>() {
            let row = row.expect("embedded logicapps-ips.csv parses (tested)");
            out.push(Entry {
                cloud: row.cloud,
                location: normalise_location(&row.region),
                kind: row.kind,
                prefix: row.prefix,
                global: false,
            });
        }
        for row in csv::Reader::from_reader(data::APIM_CONTROL_PLANE_CSV.as_bytes()).deserialize::<ApimRow>() {
            let row = row.expect("embedded apim-control-plane-ips.csv parses (tested)");
            out.push(Entry {
                cloud: row.cloud,
                location: normalise_location(&row.region),
                kind: "apim-control-plane".into(),
                prefix: row.prefix,
                global: row.global == "yes",
            });
        }
        out
    })
}

/// The published prefixes of `kind` for a location, sorted and deduplicated; empty when the
/// documentation publishes none for that location.
pub fn published(cloud: CloudId, location: &str, kind: &str) -> Vec<Ipv4Net> {
    let list_cloud = &cloud.facts().ip_list_cloud;
    let key = normalise_location(location);
    let mut v: Vec<Ipv4Net> = entries()
        .iter()
        .filter(|e| &e.cloud == list_cloud && e.kind == kind && (e.location == key || e.global))
        .map(|e| e.prefix)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether the location has its own (non-global) entries of `kind`.
pub fn has_published(cloud: CloudId, location: &str, kind: &str) -> bool {
    let list_cloud = &cloud.facts().ip_list_cloud;
    let key = normalise_location(location);
    entries()
        .iter()
        .any(|e| &e.cloud == list_cloud && e.kind == kind && e.location == key)
}

/// The first published list a location lacks among those that replace tags the cloud's NSGs
/// cannot use (`None`: every requirement can be met there).
pub fn missing_replacement(cloud: CloudId, location: &str) -> Option<&'static str> {
    cloud
        .facts()
        .nsg_tag_replacements
        .values()
        .flatten()
        .find(|kind| !has_published(cloud, location, kind))
        .map(|k| {
            KINDS
                .iter()
                .copied()
                .find(|x| x == k)
                .expect("replacement kinds are address-list kinds (tested)")
        })
}

/// Every location of every cloud where an ISE's requirements can be met.
pub fn deployable_locations() -> Vec<&'static crate::cloud::Location> {
    crate::cloud::locations()
        .iter()
        .filter(|l| missing_replacement(l.cloud, &l.name).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
