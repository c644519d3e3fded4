//! `isenet --version`: the version, and the date and change number of each embedded service-tag
//! snapshot, with a note on stderr (not a failure) when a snapshot is older than 90 days; the same
//! note from a run that expands service tags from a stale snapshot.

use ise_model::cloud::CloudId;
use ise_model::data::SERVICE_TAGS_DATES;
use ise_model::servicetags::ServiceTags;

/// Older than this, a snapshot is likely to miss prefixes Azure has added since.
pub const STALE_AFTER_DAYS: i64 = 90;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` as days since the epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
}

fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (secs / 86_400) as i64
}

/// The note for stderr when `cloud`'s embedded snapshot is older than [`STALE_AFTER_DAYS`] on day
/// `today`, with the command that fetches a current file.
pub fn stale_note(cloud: CloudId, today: i64) -> Option<String> {
    let (_, date) = SERVICE_TAGS_DATES.iter().find(|(c, _)| *c == cloud)?;
    let age = parse_date(date).map_or(0, |d| today - d);
    (age > STALE_AFTER_DAYS).then(|| {
        format!(
            "note: the embedded {} service tags are {age} days old; fetch current ones with `az network list-service-tags --location <location> -o json > tags.json` (or the weekly download) and pass --service-tags tags.json",
            ServiceTags::embedded(cloud).cloud
        )
    })
}

/// The text of `--version`, and the stale notes for stderr, given today's day number.
pub fn text(today: i64) -> (String, Vec<String>) {
    let mut out = format!("isenet {}\n", env!("CARGO_PKG_VERSION"));
    let mut notes = Vec::new();
    for (cloud, date) in SERVICE_TAGS_DATES {
        let tags = ServiceTags::embedded(cloud);
        out.push_str(&format!(
            "embedded service tags {}: change {}, published {date}\n",
            tags.cloud, tags.change_number
        ));
        notes.extend(stale_note(cloud, today));
    }
    (out, notes)
}

/// For a run that writes prefixes taken from the embedded snapshots of `clouds` (`--expand-tags`
/// without `--service-tags`): the stale note of each, on stderr, once. A stale snapshot there
/// means an NSG that misses addresses Azure added since, so the run says so, not only --version.
pub fn note_stale_expansion(clouds: impl IntoIterator<Item = CloudId>) {
    let mut seen = Vec::new();
    for cloud in clouds {
        if !seen.contains(&cloud) {
            seen.push(cloud);
            if let Some(note) = stale_note(cloud, today()) {
                eprintln!("{note}");
            }
        }
    }
}

pub fn print() {
    let (out, notes) = text(today());
    print!("{out}");
    for n in notes {
        eprintln!("{n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_date("2024-02-29").unwrap() + 1, parse_date("2024-03-01").unwrap());
        assert_eq!(parse_date("2025-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn a_snapshot_is_stale_only_after_ninety_days() {
        let public = parse_date(SERVICE_TAGS_DATES[0].1).unwrap();
        // The public snapshot is the oldest; the others are newer, so younger than it on any day.
        let (text_now, fresh) = text(public + STALE_AFTER_DAYS);
        assert!(fresh.is_empty(), "{fresh:?}");
        assert!(text_now.contains("published 2025-10-28"), "{text_now}");
        let (_, stale) = text(public + STALE_AFTER_DAYS + 1);
        assert_eq!(stale.len(), 1, "only the public snapshot is 91 days old: {stale:?}");
        assert!(stale[0].contains("Public") && stale[0].contains("az network list-service-tags"));
        // The note a run that expands tags prints is the same, per cloud.
        for (cloud, date) in SERVICE_TAGS_DATES {
            let day = parse_date(date).unwrap();
            assert_eq!(stale_note(cloud, day + STALE_AFTER_DAYS), None);
            let note = stale_note(cloud, day + STALE_AFTER_DAYS + 1).unwrap();
            assert!(
                note.starts_with(&format!(
                    "note: the embedded {} service tags are 91 days old;",
                    ServiceTags::embedded(cloud).cloud
                )),
                "{note}"
            );
        }
        assert_eq!(stale_note(CloudId::Public, public + STALE_AFTER_DAYS + 1).as_ref(), stale.first());
    }

    #[test]
    fn the_dates_are_those_data_sources_records() {
        let sources = include_str!("../../../data/SOURCES.md");
        for (_, date) in SERVICE_TAGS_DATES {
            assert!(sources.contains(&format!("weekly file of {date}")), "{date} not in data/SOURCES.md");
        }
    }
}
