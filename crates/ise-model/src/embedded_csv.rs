//! Reading the CSV tables embedded in the binary (requirements, table versions, locations, the
//! firewall dependencies, the published address lists): RFC 4180 records, rows deserialised by
//! header name as the `csv` crate deserialises them, and the plain address tables' columns.
//!
//! Why not `csv::Reader`: each reader builds its parsing automaton when created, about 270,000
//! instructions, and a compile reads three such tables before it can plan: an eighth of the work
//! of a compile of the embedded example on its critical path. These tables are a few dozen rows
//! of our own data; tests check that every one of them reads exactly as `csv` reads it, and that
//! any record `csv` writes reads back. Files users give (flows) are still read with `csv`.

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use std::borrow::Cow;

/// The records of `text`, the header first: fields separated by commas, a record ended by `\n`,
/// `\r\n` or `\r`, a field in double quotes holding commas, line breaks and doubled quotes. An
/// empty line is no record (as `csv` skips it).
pub fn records(text: &str) -> Records<'_> {
    Records { rest: text }
}

pub struct Records<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Records<'a> {
    type Item = Vec<Cow<'a, str>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            if let Some(after) = line_end(self.rest) {
                self.rest = after;
                continue;
            }
            let mut fields = Vec::new();
            loop {
                let (field, after) = field(self.rest);
                fields.push(field);
                self.rest = after;
                if let Some(after) = self.rest.strip_prefix(',') {
                    self.rest = after;
                    continue;
                }
                // A line end, or the end of the text (`field` stops at nothing else).
                self.rest = line_end(self.rest).unwrap_or("");
                return Some(fields);
            }
        }
    }
}

/// What follows a line end (`\r\n`, `\n` or `\r`, as `csv` reads them) at the start of `text`.
fn line_end(text: &str) -> Option<&str> {
    text.strip_prefix("\r\n").or_else(|| text.strip_prefix(['\n', '\r']))
}

/// The field at the start of `text` and what follows it (a comma, a line end or nothing).
fn field(text: &str) -> (Cow<'_, str>, &str) {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find([',', '\n', '\r']).unwrap_or(text.len());
        return (Cow::Borrowed(&text[..end]), &text[end..]);
    };
    let mut value = String::new();
    let mut rest = quoted;
    loop {
        let Some(at) = rest.find('"') else {
            // Unclosed: the rest of the text is the field, as `csv` reads it.
            value.push_str(rest);
            return (Cow::Owned(value), "");
        };
        value.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        match rest.strip_prefix('"') {
            Some(after) => {
                value.push('"');
                rest = after;
            }
            None => break,
        }
    }
    // Text between the closing quote and the next separator belongs to the field too.
    let end = rest.find([',', '\n', '\r']).unwrap_or(rest.len());
    value.push_str(&rest[..end]);
    (Cow::Owned(value), &rest[end..])
}

/// The named columns of each data row of a table of plain comma-separated fields (no quotes, no
/// comma inside a field, one line per row: the published address tables, tested against `csv`),
/// in the order asked, borrowed from the text. Tests only: a compile reads those tables from
/// build.rs's index (`iplists`), and tests check that index against this reading of the text.
#[cfg(test)]
pub fn plain_columns<const N: usize>(text: &'static str, columns: [&str; N]) -> impl Iterator<Item = [&'static str; N]> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let at = columns.map(|c| {
        header
            .iter()
            .position(|h| *h == c)
            .expect("embedded table has its columns (tested)")
    });
    lines.filter(|l| !l.is_empty()).map(move |line| {
        let mut out = [""; N];
        for (i, field) in line.split(',').enumerate() {
            for (slot, &wanted) in out.iter_mut().zip(&at) {
                if wanted == i {
                    *slot = field;
                }
            }
        }
        out
    })
}

/// The rows of `text` (a header line, then data) as `T`s, fields matched to `T`'s by header name,
/// an empty field read as `None` by an `Option`, enums read by variant name: as
/// `csv::Reader::deserialize` reads them. An error names the row (counting the header as 1).
pub fn deserialize<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, String> {
    let mut rows = records(text);
    let header = rows.next().unwrap_or_default();
    rows.enumerate()
        .map(|(i, row)| {
            // A stray separator shifts every later field: refused, never read into the wrong column.
            if row.len() != header.len() {
                return Err(format!("row {}: {} fields, the header has {}", i + 2, row.len(), header.len()));
            }
            let pairs = header.iter().map(|h| h.as_ref()).zip(row.iter().map(|f| Field(f.as_ref())));
            T::deserialize(de::value::MapDeserializer::<_, de::value::Error>::new(pairs)).map_err(|e| format!("row {}: {e}", i + 2))
        })
        .collect()
}

/// One field's text as a value of any type the rows hold.
struct Field<'a>(&'a str);

impl<'de> IntoDeserializer<'de, de::value::Error> for Field<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Field<'de> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.0.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(StrDeserializer::new(self.0))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the `csv` crate reads: every record, the header included, as strings.
    fn by_csv(text: &str) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    fn by_us(text: &str) -> Vec<Vec<String>> {
        records(text).map(|r| r.into_iter().map(Cow::into_owned).collect()).collect()
    }

    #[test]
    fn every_embedded_table_reads_as_csv_reads_it() {
        use crate::data::*;
        for (name, text) in [
            ("requirements.csv", REQUIREMENTS_CSV),
            ("table-versions.csv", TABLE_VERSIONS_CSV),
            ("locations.csv", LOCATIONS_CSV),
            ("firewall-dependencies.csv", FIREWALL_DEPENDENCIES_CSV),
            ("logicapps-ips.csv", LOGICAPPS_IPS_CSV),
            ("ase-management-addresses.csv", ASE_MANAGEMENT_CSV),
            ("apim-control-plane-ips.csv", APIM_CONTROL_PLANE_CSV),
        ] {
            assert_eq!(by_us(text), by_csv(text), "{name}");
        }
        // The tables with quoted fields are among them.
        assert!(REQUIREMENTS_CSV.contains('"') && FIREWALL_DEPENDENCIES_CSV.contains('"'));
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Pair {
        a: String,
        b: Option<String>,
    }

    /// A row with a stray separator (or one missing) is an error naming the row, never fields read
    /// into their neighbours' columns.
    #[test]
    fn a_row_with_more_or_fewer_fields_than_the_header_is_refused() {
        assert!(deserialize::<Pair>("a,b\nx,y\n").is_ok());
        assert_eq!(
            deserialize::<Pair>("a,b\nx,y\nx,y,z\n").unwrap_err(),
            "row 3: 3 fields, the header has 2"
        );
        assert_eq!(deserialize::<Pair>("a,b\nx\n").unwrap_err(), "row 2: 1 fields, the header has 2");
        for (name, text) in [
            ("requirements.csv", crate::data::REQUIREMENTS_CSV),
            ("firewall-dependencies.csv", crate::data::FIREWALL_DEPENDENCIES_CSV),
        ] {
            let widths: std::collections::BTreeSet<usize> = records(text).map(|r| r.len()).collect();
            assert_eq!(widths.len(), 1, "{name}: {widths:?}");
        }
    }

    /// The quote-free tables read by `plain_columns` as `csv` reads them, every column, in any
    /// order asked.
    #[test]
    fn plain_tables_read_as_csv_reads_them() {
        use crate::data::*;
        for text in [LOGICAPPS_IPS_CSV, APIM_CONTROL_PLANE_CSV, ASE_MANAGEMENT_CSV] {
            assert!(!text.contains('"'), "a plain table");
            let theirs = by_csv(text);
            let header: Vec<&str> = theirs[0].iter().map(String::as_str).collect();
            let rows: Vec<Vec<String>> = theirs[1..].to_vec();
            match header[..] {
                [a, b] => {
                    let ours: Vec<[&str; 2]> = plain_columns(text, [b, a]).collect();
                    assert_eq!(ours.len(), rows.len());
                    for (o, t) in ours.iter().zip(&rows) {
                        assert_eq!(o, &[t[1].as_str(), t[0].as_str()]);
                    }
                }
                [a, b, c, d] => {
                    let ours: Vec<[&str; 4]> = plain_columns(text, [d, b, a, c]).collect();
                    assert_eq!(ours.len(), rows.len());
                    for (o, t) in ours.iter().zip(&rows) {
                        assert_eq!(o, &[t[3].as_str(), t[1].as_str(), t[0].as_str(), t[2].as_str()]);
                    }
                }
                _ => panic!("unexpected width {header:?}"),
            }
        }
    }

    #[test]
    fn rows_deserialise_by_header_name() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        #[serde(rename_all = "lowercase")]
        enum Side {
            In,
            Out,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Row {
            b: Option<Side>,
            a: String,
        }
        let rows: Vec<Row> = deserialize("a,b\n\"x, y\",in\nz,\n").unwrap();
        assert_eq!(
            rows,
            [
                Row {
                    b: Some(Side::In),
                    a: "x, y".into()
                },
                Row { b: None, a: "z".into() }
            ]
        );
        let bad = deserialize::<Row>("a,b\nx,sideways\n").unwrap_err();
        assert!(bad.starts_with("row 2: ") && bad.contains("sideways"), "{bad}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Any text at all (stray quotes, lone carriage returns, empty lines) reads as `csv` reads it.
        #[test]
        fn any_text_reads_as_csv_reads_it(text in "[a,\"\n\r ]{0,24}") {
            prop_assert_eq!(by_us(&text), by_csv(&text));
        }

        /// Any records `csv` writes (commas, quotes, line breaks, empty fields) read back as
        /// written, and as `csv` reads them.
        #[test]
        fn what_csv_writes_reads_back(rows in prop::collection::vec(prop::collection::vec("[a,\"\n\r é]{0,6}", 1..5), 1..6), crlf in any::<bool>()) {
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
                .from_writer(Vec::new());
            for r in &rows {
                w.write_record(r).unwrap();
            }
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            prop_assert_eq!(by_us(&text), by_csv(&text));
            prop_assert_eq!(by_us(&text), rows);
        }
    }
}
