//! The files of `data/`, embedded so `isenet` runs with no files around it.

pub const REQUIREMENTS_CSV: &str = include_str!("../../../data/requirements.csv");
pub const TABLE_VERSIONS_CSV: &str = include_str!("../../../data/table-versions.csv");
pub const CLOUDS_JSON: &str = include_str!("../../../data/clouds.json");
pub const LOCATIONS_CSV: &str = include_str!("../../../data/locations.csv");
pub const LOGICAPPS_IPS_CSV: &str = include_str!("../../../data/logicapps-ips.csv");
pub const ASE_MANAGEMENT_CSV: &str = include_str!("../../../data/ase-management-addresses.csv");
pub const APIM_CONTROL_PLANE_CSV: &str = include_str!("../../../data/apim-control-plane-ips.csv");
pub const FIREWALL_DEPENDENCIES_CSV: &str = include_str!("../../../data/firewall-dependencies.csv");
pub const EXAMPLE_ENVIRONMENT: &str = include_str!("../../../data/example-environment.json");

pub const SERVICE_TAGS_PUBLIC: &str = include_str!("../../../data/servicetags/ServiceTags_Public_20251028.json");
pub const SERVICE_TAGS_GOVERNMENT: &str = include_str!("../../../data/servicetags/ServiceTags_AzureGovernment.json");
pub const SERVICE_TAGS_CHINA: &str = include_str!("../../../data/servicetags/ServiceTags_China.json");

/// The publication date (`YYYY-MM-DD`) of each embedded service-tag snapshot, as recorded in
/// data/SOURCES.md: `isenet --version` prints it and notes a stale snapshot.
pub const SERVICE_TAGS_DATES: [(crate::cloud::CloudId, &str); 3] = [
    (crate::cloud::CloudId::Public, "2025-10-28"),
    (crate::cloud::CloudId::UsGovernment, "2026-07-13"),
    (crate::cloud::CloudId::China, "2026-07-20"),
];
