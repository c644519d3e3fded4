//! Azure service-tag files (the weekly JSON download per cloud): parsed once, indexed by tag name.
//! `VirtualNetwork`, `Internet` and `AzureLoadBalancer` are not in the files; the platform defines
//! them (see the verifier).

use crate::cloud::CloudId;
use crate::data;
use crate::diag::Diagnostic;
use ipnet::{IpNet, Ipv4Net};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEntry {
    pub name: String,
    /// Region id (`westus2`), empty for global tags.
    pub region: String,
    pub system_service: String,
    pub prefixes: Vec<IpNet>,
    pub network_features: Vec<String>,
}

impl TagEntry {
    pub fn ipv4(&self) -> Vec<Ipv4Net> {
        self.prefixes
            .iter()
            .filter_map(|p| match p {
                IpNet::V4(v4) => Some(*v4),
                IpNet::V6(_) => None,
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct ServiceTags {
    /// `Public`, `AzureGovernment` or `China`.
    pub cloud: String,
    pub change_number: u64,
    pub tags: BTreeMap<String, TagEntry>,
    /// Lower-cased name -> name: Azure treats tag names case-insensitively.
    folded: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    change_number: u64,
    cloud: String,
    values: Vec<RawTag>,
}

#[derive(Deserialize)]
struct RawTag {
    name: String,
    properties: RawProperties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProperties {
    #[serde(default)]
    region: String,
    #[serde(default)]
    system_service: String,
    address_prefixes: Vec<IpNet>,
    #[serde(default)]
    network_features: Option<Vec<String>>,
}

/// Codes of tag-file problems.
pub const E_TAGS_SYNTAX: &str = "E0901";
pub const E_TAGS_WRONG_CLOUD: &str = "E0902";
pub const E_TAGS_DUPLICATE: &str = "E0903";

impl ServiceTags {
    /// Parses a service-tag file. Errors carry the code, the position and what is wrong; the caller
    /// sets the file name.
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        let raw: RawFile = serde_json::from_str(text).map_err(|e| {
            Diagnostic::error(E_TAGS_SYNTAX, "", format!("not a service-tag file: {e}"))
                .at(e.line(), e.column())
                .with_help("expected the weekly JSON download: {\"changeNumber\", \"cloud\", \"values\": [{\"name\", \"properties\": {\"addressPrefixes\": [...]}}]}")
        })?;
        let mut tags = BTreeMap::new();
        let mut folded = BTreeMap::new();
        for (i, v) in raw.values.into_iter().enumerate() {
            let entry = TagEntry {
                name: v.name.clone(),
                region: v.properties.region,
                system_service: v.properties.system_service,
                prefixes: v.properties.address_prefixes,
                network_features: v.properties.network_features.unwrap_or_default(),
            };
            if tags.insert(v.name.clone(), entry).is_some() {
                return Err(Diagnostic::error(
                    E_TAGS_DUPLICATE,
                    format!("values[{i}].name"),
                    format!("tag `{}` appears twice", v.name),
                ));
            }
            folded.insert(v.name.to_lowercase(), v.name);
        }
        Ok(ServiceTags {
            cloud: raw.cloud,
            change_number: raw.change_number,
            tags,
            folded,
        })
    }

    /// The embedded snapshot for a cloud, parsed on first use.
    pub fn embedded(cloud: CloudId) -> &'static ServiceTags {
        static FILES: [OnceLock<ServiceTags>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let (slot, text) = match cloud {
            CloudId::Public => (&FILES[0], data::SERVICE_TAGS_PUBLIC),
            CloudId::UsGovernment => (&FILES[1], data::SERVICE_TAGS_GOVERNMENT),
            CloudId::China => (&FILES[2], data::SERVICE_TAGS_CHINA),
        };
        slot.get_or_init(|| ServiceTags::parse(text).expect("embedded service-tag files parse (tested)"))
    }

    /// Checks the file belongs to `cloud`.
    pub fn check_cloud(&self, cloud: CloudId) -> Result<(), Diagnostic> {
        let expected = &cloud.facts().service_tag_cloud;
        if &self.cloud == expected {
            Ok(())
        } else {
            Err(Diagnostic::error(
                E_TAGS_WRONG_CLOUD,
                "cloud",
                format!(
                    "this service-tag file is for cloud `{}`, but the environment's cloud is `{cloud}` (file cloud `{expected}`)",
                    self.cloud
                ),
            )
            .with_help(format!(
                "download the {} service tags file, or fix `cloud` in the environment",
                cloud.facts().display_name
            )))
        }
    }

    pub fn get(&self, name: &str) -> Option<&TagEntry> {
        self.tags
            .get(name)
            .or_else(|| self.folded.get(&name.to_lowercase()).and_then(|n| self.tags.get(n)))
    }

    /// Region ids named in `properties.region`.
    pub fn regions(&self) -> BTreeSet<&str> {
        self.tags.values().map(|t| t.region.as_str()).filter(|r| !r.is_empty()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_parse_and_belong_to_their_cloud() {
        for cloud in CloudId::ALL {
            let tags = ServiceTags::embedded(cloud);
            tags.check_cloud(cloud).unwrap();
            // The tags the ISE tables name exist in every cloud's file.
            for t in [
                "LogicApps",
                "LogicAppsManagement",
                "AzureConnectors",
                "AppServiceManagement",
                "AzureTrafficManager",
                "ApiManagement",
                "AzureActiveDirectory",
                "Storage",
                "AppService",
                "AzureMonitor",
                "Sql",
                "EventHub",
            ] {
                assert!(tags.get(t).is_some(), "{cloud}: {t}");
            }
        }
        assert!(ServiceTags::embedded(CloudId::Public).check_cloud(CloudId::China).is_err());
    }

    #[test]
    fn lookup_is_case_insensitive_and_regional_variants_exist() {
        let tags = ServiceTags::embedded(CloudId::Public);
        assert_eq!(tags.get("sql").unwrap().name, "Sql");
        assert_eq!(tags.get("LogicApps.WestUS2").unwrap().region, "westus2");
        assert!(tags.regions().contains("germanywc"));
    }

    #[test]
    fn malformed_files_are_coded_errors() {
        assert_eq!(ServiceTags::parse("{").unwrap_err().code, E_TAGS_SYNTAX);
        let bad_prefix = r#"{"changeNumber":1,"cloud":"Public","values":[{"name":"X","properties":{"addressPrefixes":["10.0.0.0/33"]}}]}"#;
        assert_eq!(ServiceTags::parse(bad_prefix).unwrap_err().code, E_TAGS_SYNTAX);
    }
}
