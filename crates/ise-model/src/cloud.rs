//! Per-cloud facts (ARM host, service-tag file, tags that do not work in NSGs) and the locations of
//! each cloud, from data/clouds.json and data/locations.csv.

use crate::data;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudId {
    Public,
    UsGovernment,
    China,
}

impl CloudId {
    pub const ALL: [CloudId; 3] = [CloudId::Public, CloudId::UsGovernment, CloudId::China];
    pub const NAMES: [&'static str; 3] = ["public", "usgovernment", "china"];

    pub fn as_str(self) -> &'static str {
        match self {
            CloudId::Public => "public",
            CloudId::UsGovernment => "usgovernment",
            CloudId::China => "china",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
    pub fn facts(self) -> &'static CloudFacts {
        clouds()
            .iter()
            .find(|c| c.id == self)
            .expect("data/clouds.json lists every cloud (tested)")
    }
}

impl fmt::Display for CloudId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloudFacts {
    pub id: CloudId,
    pub display_name: String,
    /// Cloud name used by the published address CSVs (`AzureCloud`, `AzureUSGovernment`, ...).
    pub ip_list_cloud: String,
    /// The Azure CLI's name of the cloud (`az cloud set --name AzureUSGovernment`): commands
    /// pasted from the change ticket must go to the environment's cloud, not the shell's last one.
    pub az_cli_cloud: String,
    /// The `cloud` field of this cloud's service-tag file.
    pub service_tag_cloud: String,
    pub arm_host: String,
    pub service_tag_file: String,
    /// Tags that do not work in NSGs here, mapped to the published IP lists that replace them.
    pub nsg_tag_replacements: BTreeMap<String, Vec<String>>,
}

pub fn clouds() -> &'static [CloudFacts] {
    static CLOUDS: OnceLock<Vec<CloudFacts>> = OnceLock::new();
    CLOUDS.get_or_init(|| serde_json::from_str(data::CLOUDS_JSON).expect("embedded data/clouds.json parses (tested)"))
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub cloud: CloudId,
    /// ARM location name (`westus2`).
    pub name: String,
    /// Display name (`West US 2`).
    pub display_name: String,
    /// Region id in the service-tag file's `properties.region` (`westus2`, `germanywc`).
    pub tag_region: String,
}

impl Location {
    /// Suffix of regional service tags: `LogicApps.WestUS2`.
    pub fn tag_suffix(&self) -> String {
        self.display_name.replace(' ', "")
    }
}

pub fn locations() -> &'static [Location] {
    static LOCATIONS: OnceLock<Vec<Location>> = OnceLock::new();
    LOCATIONS.get_or_init(|| crate::embedded_csv::deserialize(data::LOCATIONS_CSV).expect("embedded data/locations.csv parses (tested)"))
}

/// `West US 2`, `westus2`, `WestUS2` -> `westus2`. Also the key used to match region names of the
/// published address CSVs (`US Gov Virginia`, `USGov Virginia`).
pub fn normalise_location(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

pub fn find_location(cloud: CloudId, name: &str) -> Option<&'static Location> {
    let key = normalise_location(name);
    locations().iter().find(|l| l.cloud == cloud && l.name == key)
}

/// The cloud a location belongs to, for a better error when the cloud is wrong.
pub fn cloud_of_location(name: &str) -> Option<CloudId> {
    let key = normalise_location(name);
    locations().iter().find(|l| l.name == key).map(|l| l.cloud)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cloud_has_facts_and_locations() {
        for c in CloudId::ALL {
            assert_eq!(c.facts().id, c);
            assert!(locations().iter().any(|l| l.cloud == c));
        }
        assert_eq!(CloudId::Public.facts().arm_host, "management.azure.com");
        assert_eq!(CloudId::UsGovernment.facts().arm_host, "management.usgovcloudapi.net");
        assert_eq!(CloudId::China.facts().arm_host, "management.chinacloudapi.cn");
        // The names of the Azure CLI's built-in clouds (`az cloud list`).
        assert_eq!(CloudId::Public.facts().az_cli_cloud, "AzureCloud");
        assert_eq!(CloudId::UsGovernment.facts().az_cli_cloud, "AzureUSGovernment");
        assert_eq!(CloudId::China.facts().az_cli_cloud, "AzureChinaCloud");
    }

    #[test]
    fn display_names_normalise() {
        assert_eq!(find_location(CloudId::Public, "West US 2").unwrap().name, "westus2");
        assert_eq!(
            find_location(CloudId::Public, "germanywestcentral").unwrap().tag_region,
            "germanywc"
        );
        assert_eq!(
            find_location(CloudId::UsGovernment, "US Gov Virginia").unwrap().tag_suffix(),
            "USGovVirginia"
        );
        assert!(find_location(CloudId::Public, "usgovvirginia").is_none());
        assert_eq!(cloud_of_location("chinanorth2"), Some(CloudId::China));
    }

    #[test]
    fn government_replaces_the_three_logic_apps_tags_only() {
        let gov = &CloudId::UsGovernment.facts().nsg_tag_replacements;
        assert_eq!(gov["LogicAppsManagement"], ["logicapps-inbound"]);
        assert_eq!(gov["LogicApps"], ["logicapps-inbound", "logicapps-outbound"]);
        assert_eq!(gov["AzureConnectors"], ["connector-outbound"]);
        assert_eq!(gov.len(), 3);
        assert!(CloudId::Public.facts().nsg_tag_replacements.is_empty());
    }
}
