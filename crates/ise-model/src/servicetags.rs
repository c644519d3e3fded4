//! Azure service-tag files (the weekly JSON download per cloud): parsed once, indexed by tag name.
//! `VirtualNetwork`, `Internet` and `AzureLoadBalancer` are not in the files; the platform defines
//! them (see the verifier).

use crate::aggregate;
use crate::cloud::CloudId;
use crate::diag::Diagnostic;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEntry {
    pub name: String,
    /// Region id (`westus2`), empty for global tags.
    pub region: String,
    pub system_service: String,
    /// The prefixes in file order (a `Vec<IpNet>` through `Deref`).
    pub prefixes: Prefixes,
    pub network_features: Vec<String>,
}

/// A tag's prefixes. A parsed file holds them decoded; the embedded snapshots hold build.rs's bytes
/// and decode a tag's prefixes on first use, so a compile decodes the dozen tags its environment
/// names, not all 3,039 of the public cloud (93,362 prefixes).
#[derive(Clone, Default)]
pub struct Prefixes {
    /// build.rs's encoding of the prefixes (family, length, address bytes each); empty when parsed.
    encoded: &'static [u8],
    decoded: OnceLock<Vec<IpNet>>,
}

impl Prefixes {
    fn encoded(encoded: &'static [u8], count: usize) -> Self {
        let p = Prefixes {
            encoded,
            decoded: OnceLock::new(),
        };
        if count == 0 {
            let _ = p.decoded.set(Vec::new());
        }
        p
    }

    fn decode(bytes: &[u8]) -> Vec<IpNet> {
        let mut out = Vec::with_capacity(bytes.len() / 6);
        let mut rest = bytes;
        while let [family, len, tail @ ..] = rest {
            let (p, tail) = if *family == 4 {
                let (a, tail) = tail.split_at(4);
                let a: [u8; 4] = a.try_into().expect("4 bytes");
                (IpNet::V4(Ipv4Net::new(a.into(), *len).expect("build.rs checked the length")), tail)
            } else {
                let (a, tail) = tail.split_at(16);
                let a: [u8; 16] = a.try_into().expect("16 bytes");
                (IpNet::V6(Ipv6Net::new(a.into(), *len).expect("build.rs checked the length")), tail)
            };
            out.push(p);
            rest = tail;
        }
        out
    }
}

impl From<Vec<IpNet>> for Prefixes {
    fn from(v: Vec<IpNet>) -> Self {
        Prefixes {
            encoded: &[],
            decoded: OnceLock::from(v),
        }
    }
}

impl std::ops::Deref for Prefixes {
    type Target = Vec<IpNet>;
    fn deref(&self) -> &Vec<IpNet> {
        self.decoded.get_or_init(|| Self::decode(self.encoded))
    }
}

impl<'a> IntoIterator for &'a Prefixes {
    type Item = &'a IpNet;
    type IntoIter = std::slice::Iter<'a, IpNet>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Prefixes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Prefixes {}

impl std::fmt::Debug for Prefixes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
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

    pub fn ipv6(&self) -> Vec<Ipv6Net> {
        aggregate::split_families(&self.prefixes).1
    }

    /// The IPv4 prefixes aggregated (adjacent merged, contained dropped), ascending.
    pub fn aggregated_ipv4(&self) -> Vec<Ipv4Net> {
        aggregate::aggregate_v4(&self.ipv4())
    }

    /// The IPv6 prefixes aggregated, ascending.
    pub fn aggregated_ipv6(&self) -> Vec<Ipv6Net> {
        aggregate::aggregate_v6(&self.ipv6())
    }
}

#[derive(Debug, Clone)]
pub struct ServiceTags {
    /// `Public`, `AzureGovernment` or `China`.
    pub cloud: String,
    pub change_number: u64,
    pub tags: BTreeMap<String, TagEntry>,
    /// Lower-cased name -> name: Azure treats tag names case-insensitively. Built on the first
    /// lookup whose case differs from the file's (an embedded snapshot's compile rarely needs it).
    folded: OnceLock<BTreeMap<String, String>>,
}

/// The weekly download and `az network list-service-tags -o json` (the Service Tags REST API) have
/// the same shape, except that the API gives `changeNumber` as a string ("375") and adds `id`,
/// `name`, `type`, `nextLink`, and `state`/`serviceTagChangeNumber` per tag (ignored here).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    #[serde(deserialize_with = "change_number")]
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
    address_prefixes: Vec<Prefix>,
    #[serde(default)]
    network_features: Option<Vec<String>>,
}

/// One entry of `addressPrefixes`. Deserialises exactly as `IpNet` does (same accepted strings,
/// same errors), but reads the canonical IPv4 form `a.b.c.d/n` with a direct scan: ipnet's
/// general parser took a quarter of a `--service-tags` run on the public file's 68,933 of them.
struct Prefix(IpNet);

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Prefix;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("IPv4 or IPv6 network address") // ipnet's wording
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Prefix, E> {
                match canonical_v4(s) {
                    Some(net) => Ok(Prefix(IpNet::V4(net))),
                    None => s.parse().map(Prefix).map_err(E::custom),
                }
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// `a.b.c.d/n` with decimal octets and length without leading zeros, or `None` for anything else
/// (which `IpNet`'s parser then accepts or refuses with its own message).
fn canonical_v4(s: &str) -> Option<Ipv4Net> {
    // One pass: four octets ended by `.`, `.`, `.`, `/`, then the length ended by the string's end.
    let b = s.as_bytes();
    let (mut fields, mut i) = ([0u32; 5], 0);
    for (field, end) in [Some(b'.'), Some(b'.'), Some(b'.'), Some(b'/'), None].into_iter().enumerate() {
        let start = i;
        while i < b.len() && i - start < 3 && b[i].is_ascii_digit() {
            fields[field] = fields[field] * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && b[start] == b'0') {
            return None;
        }
        if b.get(i) != end.as_ref() {
            return None;
        }
        i += 1;
    }
    let [a, b, c, d, len] = fields;
    if a.max(b).max(c).max(d) > 255 || len > 32 {
        return None;
    }
    Ipv4Net::new(std::net::Ipv4Addr::new(a as u8, b as u8, c as u8, d as u8), len as u8).ok()
}

/// `changeNumber` as the weekly download writes it (a number) or as the API does (a decimal string).
fn change_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    match Either::deserialize(d)? {
        Either::Number(n) => Ok(n),
        Either::Text(t) => t
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("changeNumber `{t}` is not a whole number"))),
    }
}

/// The embedded snapshots (data::SERVICE_TAGS_*), pre-indexed by build.rs.
const EMBEDDED_INDEX_PUBLIC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/servicetags-public.bin"));
const EMBEDDED_INDEX_GOVERNMENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/servicetags-government.bin"));
const EMBEDDED_INDEX_CHINA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/servicetags-china.bin"));

/// Reads build.rs's index (format in build.rs): names, regions and features of every tag, the
/// prefixes only located (decoded on first use). Only ever given the embedded indexes, which the
/// tests decode, so a malformed index is a bug, not an input error.
fn decode_index(bytes: &'static [u8]) -> ServiceTags {
    struct Cursor(&'static [u8]);
    impl Cursor {
        fn take(&mut self, n: usize) -> &'static [u8] {
            let (head, tail) = self.0.split_at(n);
            self.0 = tail;
            head
        }
        fn u32(&mut self) -> u32 {
            u32::from_le_bytes(self.take(4).try_into().expect("4 bytes"))
        }
        fn string(&mut self) -> String {
            let n = self.u32() as usize;
            std::str::from_utf8(self.take(n)).expect("build.rs writes UTF-8").to_string()
        }
    }
    let mut c = Cursor(bytes);
    assert_eq!(c.take(8), b"ISETAGS2", "service-tag index written by build.rs");
    let change_number = u64::from_le_bytes(c.take(8).try_into().expect("8 bytes"));
    let cloud = c.string();
    let count = c.u32() as usize;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let name = c.string();
        let region = c.string();
        let system_service = c.string();
        let network_features = (0..c.u32()).map(|_| c.string()).collect();
        let n = c.u32() as usize;
        let len = c.u32() as usize;
        let prefixes = Prefixes::encoded(c.take(len), n);
        entries.push(TagEntry {
            name,
            region,
            system_service,
            prefixes,
            network_features,
        });
    }
    assert!(c.0.is_empty(), "service-tag index fully read");
    // build.rs wrote the tags in name order, so collecting the tag map sorts an already sorted run.
    let tags = entries.into_iter().map(|e| (e.name.clone(), e)).collect();
    ServiceTags {
        cloud,
        change_number,
        tags,
        folded: OnceLock::new(),
    }
}

/// Tags the platform defines per virtual network; they are not in the files.
pub const PLATFORM_TAGS: [&str; 3] = ["VirtualNetwork", "Internet", "AzureLoadBalancer"];

/// Whether `tag` is one of [`PLATFORM_TAGS`] (tag names are case-insensitive).
pub fn is_platform_tag(tag: &str) -> bool {
    PLATFORM_TAGS.iter().any(|p| p.eq_ignore_ascii_case(tag))
}

/// Codes of tag-file problems.
pub const E_TAGS_SYNTAX: &str = "E0901";
pub const E_TAGS_WRONG_CLOUD: &str = "E0902";
pub const E_TAGS_DUPLICATE: &str = "E0903";

impl ServiceTags {
    /// Parses a service-tag file. Errors carry the code, the position and what is wrong; the caller
    /// sets the file name.
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        // Duplicate keys, nesting and size first (their own codes), then the file's shape.
        let text = crate::jsondoc::check(text).map_err(|mut diags| diags.swap_remove(0))?;
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
                prefixes: v.properties.address_prefixes.into_iter().map(|p| p.0).collect::<Vec<_>>().into(),
                network_features: v.properties.network_features.unwrap_or_default(),
            };
            // Azure treats tag names case-insensitively: `Storage` and `storage` are the same tag.
            if let Some(first) = folded.insert(v.name.to_lowercase(), v.name.clone()) {
                let what = if first == v.name {
                    format!("tag `{}` appears twice", v.name)
                } else {
                    format!("tags `{first}` and `{}` differ only in case; Azure treats them as one tag", v.name)
                };
                return Err(Diagnostic::error(E_TAGS_DUPLICATE, format!("values[{i}].name"), what)
                    .with_help("a service-tag file names each tag once: use the weekly download unedited"));
            }
            tags.insert(v.name.clone(), entry);
        }
        Ok(ServiceTags {
            cloud: raw.cloud,
            change_number: raw.change_number,
            tags,
            folded: OnceLock::from(folded),
        })
    }

    /// The embedded snapshot for a cloud, decoded on first use from the index build.rs made of it
    /// (no JSON parse at run time; a test checks it equals `parse` of the JSON).
    pub fn embedded(cloud: CloudId) -> &'static ServiceTags {
        static FILES: [OnceLock<ServiceTags>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = match cloud {
            CloudId::Public => &FILES[0],
            CloudId::UsGovernment => &FILES[1],
            CloudId::China => &FILES[2],
        };
        slot.get_or_init(|| Self::decode_embedded(cloud))
    }

    /// The embedded snapshot decoded afresh from its build-time index (what [`Self::embedded`] does
    /// once per process; public for the benchmarks).
    pub fn decode_embedded(cloud: CloudId) -> ServiceTags {
        decode_index(match cloud {
            CloudId::Public => EMBEDDED_INDEX_PUBLIC,
            CloudId::UsGovernment => EMBEDDED_INDEX_GOVERNMENT,
            CloudId::China => EMBEDDED_INDEX_CHINA,
        })
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
            .or_else(|| self.folded().get(&name.to_lowercase()).and_then(|n| self.tags.get(n)))
    }

    fn folded(&self) -> &BTreeMap<String, String> {
        self.folded
            .get_or_init(|| self.tags.keys().map(|name| (name.to_lowercase(), name.clone())).collect())
    }

    /// The cloud the file belongs to, when its `cloud` field names one of the three.
    pub fn cloud_id(&self) -> Option<CloudId> {
        CloudId::ALL.into_iter().find(|c| c.facts().service_tag_cloud == self.cloud)
    }

    /// Tag names, ascending.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tags.keys().map(String::as_str)
    }

    /// The closest tag name to a name the file does not have ("did you mean").
    pub fn suggest(&self, name: &str) -> Option<&str> {
        crate::fuzzy::did_you_mean(name, self.names())
    }

    /// One `E0904` per service tag the requirements name that the file does not have (platform tags
    /// aside), with the requirement that needs it.
    pub fn check_required(&self, reqs: &[crate::resolve::Resolved]) -> Vec<Diagnostic> {
        use crate::resolve::Peer;
        let mut out = Vec::new();
        for r in reqs {
            for peer in [&r.source, &r.destination] {
                let Peer::Tag { name } = peer else { continue };
                if is_platform_tag(name) || self.get(name).is_some() {
                    continue;
                }
                let mut d = Diagnostic::error(
                    crate::codes::E_TAG_MISSING,
                    "",
                    format!(
                        "requirement {} needs service tag `{name}`, which the service-tag file (cloud {}, change {}) does not have",
                        r.id, self.cloud, self.change_number
                    ),
                );
                d = match self.suggest(name) {
                    Some(s) => d.with_help(format!(
                        "the closest tag in the file is `{s}`; use a current service-tag file of the environment's cloud"
                    )),
                    None => d.with_help("use a current service-tag file of the environment's cloud"),
                };
                out.push(d);
            }
        }
        out
    }

    /// Region ids named in `properties.region`.
    pub fn regions(&self) -> BTreeSet<&str> {
        self.tags.values().map(|t| t.region.as_str()).filter(|r| !r.is_empty()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data;

    #[test]
    fn az_list_service_tags_output_parses_like_the_weekly_download() {
        // The documented shape of `az network list-service-tags --location westus2 -o json`.
        let az = include_str!("../../../tests/fixtures/servicetags/az-list-service-tags.json");
        let tags = ServiceTags::parse(az).unwrap();
        assert_eq!((tags.cloud.as_str(), tags.change_number), ("Public", 375));
        tags.check_cloud(CloudId::Public).unwrap();
        let logic = tags.get("logicapps").unwrap();
        assert_eq!(logic.ipv4().len(), 2);
        assert_eq!(logic.ipv6().len(), 1);
        assert_eq!(logic.network_features, ["API", "NSG", "UDR", "FW"]);
        let storage = tags.get("Storage.WestUS2").unwrap();
        assert_eq!(
            (storage.region.as_str(), storage.system_service.as_str()),
            ("westus2", "AzureStorage")
        );
        assert!(storage.network_features.is_empty());
        // The same tags in the weekly download's shape give the same result.
        let weekly = az.replace("\"changeNumber\": \"375\"", "\"changeNumber\": 375");
        assert_eq!(ServiceTags::parse(&weekly).unwrap().tags, tags.tags);
        let bad = az.replace("\"changeNumber\": \"375\"", "\"changeNumber\": \"3x\"");
        assert_eq!(ServiceTags::parse(&bad).unwrap_err().code, E_TAGS_SYNTAX);
    }

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
    fn embedded_indexes_decode_to_exactly_the_parsed_json() {
        for (cloud, json) in [
            (CloudId::Public, data::SERVICE_TAGS_PUBLIC),
            (CloudId::UsGovernment, data::SERVICE_TAGS_GOVERNMENT),
            (CloudId::China, data::SERVICE_TAGS_CHINA),
        ] {
            let parsed = ServiceTags::parse(json).unwrap();
            let embedded = ServiceTags::embedded(cloud);
            assert_eq!(embedded.cloud, parsed.cloud);
            assert_eq!(embedded.change_number, parsed.change_number);
            assert_eq!(embedded.tags.len(), parsed.tags.len(), "{cloud}");
            for (name, tag) in &parsed.tags {
                let e = &embedded.tags[name];
                assert_eq!(e.prefixes.len(), tag.prefixes.len(), "{cloud} {name}");
                for (a, b) in e.prefixes.iter().zip(&tag.prefixes) {
                    assert_eq!(a, b, "{cloud} {name}");
                }
                assert_eq!(e, tag, "{cloud} {name}");
            }
            assert_eq!(embedded.folded(), parsed.folded(), "{cloud}");
        }
    }

    #[test]
    fn embedded_prefixes_are_decoded_only_for_the_tags_asked_for() {
        let tags = ServiceTags::decode_embedded(CloudId::Public);
        assert!(tags
            .tags
            .values()
            .all(|t| t.prefixes.decoded.get().is_none() || t.prefixes.encoded.is_empty()));
        let sql = tags.get("Sql").unwrap();
        assert!(sql.prefixes.contains(&"4.144.9.64/27".parse().unwrap()));
        let decoded: Vec<&str> = tags
            .tags
            .values()
            .filter(|t| !t.prefixes.encoded.is_empty() && t.prefixes.decoded.get().is_some())
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(decoded, ["Sql"]);
    }

    proptest::proptest! {
        /// The fast path agrees with ipnet's parser on every string it accepts, and accepts every
        /// canonical IPv4 prefix.
        #[test]
        fn canonical_v4_agrees_with_ipnet(s in "[0-9./]{1,20}|(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}/(0|[1-9][0-9]?)") {
            if let Some(net) = canonical_v4(&s) {
                proptest::prop_assert_eq!(Ok(IpNet::V4(net)), s.parse::<IpNet>());
            }
        }

        #[test]
        fn canonical_v4_reads_every_canonical_prefix(a: [u8; 4], len in 0u8..=32) {
            let s = format!("{}.{}.{}.{}/{len}", a[0], a[1], a[2], a[3]);
            proptest::prop_assert_eq!(canonical_v4(&s), Some(Ipv4Net::new(a.into(), len).unwrap()));
        }
    }

    #[test]
    fn prefixes_off_the_fast_path_are_read_by_ipnet_with_its_result() {
        let odd = [
            "10.0.0.0/8\\u0000",
            "10.0.0.0/8 ",
            "10.0.0.0/33",
            "10.0.0.01/8",
            "256.0.0.0/8",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/08",
            "10.0.0.0.0/8",
            "::1/128",
            "1.2.3.4",
        ];
        for text in odd {
            let file =
                format!(r#"{{"changeNumber":1,"cloud":"Public","values":[{{"name":"X","properties":{{"addressPrefixes":["{text}"]}}}}]}}"#);
            let ours = ServiceTags::parse(&file);
            match serde_json::from_str::<Vec<IpNet>>(&format!(r#"["{text}"]"#)) {
                Ok(theirs) => assert_eq!(*ours.unwrap().get("X").unwrap().prefixes, theirs, "{text}"),
                Err(e) => {
                    let (ours, theirs) = (ours.unwrap_err(), e.to_string());
                    assert_eq!(ours.code, E_TAGS_SYNTAX, "{text}");
                    let theirs = theirs.split(" at line").next().unwrap();
                    assert!(ours.message.contains(theirs), "{text}: {} vs {theirs}", ours.message);
                }
            }
        }
    }

    #[test]
    fn duplicate_names_differing_in_case_are_refused() {
        let file = r#"{"changeNumber":1,"cloud":"Public","values":[
            {"name":"Storage","properties":{"addressPrefixes":["10.0.0.0/8"]}},
            {"name":"storage","properties":{"addressPrefixes":["10.0.0.0/8"]}}]}"#;
        let d = ServiceTags::parse(file).unwrap_err();
        assert_eq!((d.code, d.path.as_str()), (E_TAGS_DUPLICATE, "values[1].name"));
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
