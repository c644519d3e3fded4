//! CSV for spreadsheets: RFC 4180 (the `csv` crate quotes commas, quotes and line breaks), UTF-8,
//! a header row, and every cell a spreadsheet could take for a formula neutralised (OWASP "CSV
//! injection": a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front, so Excel,
//! LibreOffice and Google Sheets show the text instead of evaluating it), and every cell within the
//! 32,767 characters a spreadsheet cell holds (Excel cuts a longer one silently, or spills it into
//! the next rows; a review row of `--expand-tags` can list thousands of prefixes): a longer one is
//! cut between words and says how much is missing and where the whole of it is.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula (OWASP).
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// A cell as text a spreadsheet will not evaluate (borrowed when it is already).
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_START) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The most characters a spreadsheet cell holds (Excel's limit, counted in UTF-16 code units).
pub const CELL_LIMIT: usize = 32_767;

/// A cell a spreadsheet holds whole: `cell` when within [`CELL_LIMIT`], else its words up to the
/// limit and a note of what is cut.
pub fn within_limit(cell: &str) -> Cow<'_, str> {
    // A character takes at least as many UTF-8 bytes as UTF-16 units: most cells are counted by
    // their length alone.
    if cell.len() <= CELL_LIMIT {
        return Cow::Borrowed(cell);
    }
    let units = cell.encode_utf16().count();
    if units <= CELL_LIMIT {
        return Cow::Borrowed(cell);
    }
    // The note is at most this long (its count has at most 10 digits).
    const NOTE_ROOM: usize = 160;
    let mut end = 0;
    let mut used = 0;
    for (i, c) in cell.char_indices() {
        used += c.len_utf16();
        if used > CELL_LIMIT - NOTE_ROOM {
            break;
        }
        if c == ' ' || c == ',' {
            end = i;
        }
    }
    let kept = &cell[..end];
    let cut = units - kept.encode_utf16().count();
    Cow::Owned(format!(
        "{kept} ... [{cut} more characters cut: a spreadsheet cell holds {CELL_LIMIT}; the JSON artifacts hold the whole list]"
    ))
}

/// The header and rows as one CSV document, every cell neutralised and within the cell limit.
///
/// Written here rather than by `csv::Writer`, byte for byte as it writes (tested against it): its
/// writer passes every byte through a state machine and a buffer, and a review row's cell may
/// list thousands of prefixes (`--expand-tags`), where a cell needing no quotes is one copy.
pub fn render<C: AsRef<str>>(header: &[&str], rows: &[impl AsRef<[C]>]) -> String {
    let mut out = String::new();
    record(&mut out, header.iter().copied());
    for row in rows {
        record(
            &mut out,
            row.as_ref().iter().map(|cell| match neutralise(cell.as_ref()) {
                Cow::Borrowed(cell) => within_limit(cell),
                Cow::Owned(neutralised) => Cow::Owned(within_limit(&neutralised).into_owned()),
            }),
        );
    }
    out
}

/// One record as `csv::Writer` writes it by default: fields joined by commas, quoted when they
/// hold a comma, a quote or a line break (quotes doubled inside), a record of one empty field
/// written `""` (an empty line would be no record), ended by `\n`.
fn record<S: AsRef<str>>(out: &mut String, fields: impl Iterator<Item = S>) {
    let start = out.len();
    let mut count = 0;
    for field in fields {
        let field = field.as_ref();
        if count > 0 {
            out.push(',');
        }
        count += 1;
        if ise_model::bytesearch::find3(b',', b'"', b'\n', field.as_bytes()).is_none() && !field.contains('\r') {
            out.push_str(field);
            continue;
        }
        out.push('"');
        for (i, part) in field.split('"').enumerate() {
            if i > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    }
    if count == 1 && out.len() == start {
        out.push_str("\"\"");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a spreadsheet would do with a parsed cell: evaluate it when it starts like a formula.
    fn spreadsheet_evaluates(cell: &str) -> bool {
        cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
    }

    /// A cell past the limit keeps whole words up to it and says how many characters are cut; one
    /// within the limit, to the last character, is kept as it is.
    #[test]
    fn cells_past_a_spreadsheets_limit_are_cut_between_words() {
        let prefixes: Vec<String> = (0..4000).map(|i| format!("20.{}.{}.0/24", i / 256, i % 256)).collect();
        let cell = prefixes.join(" ");
        let cut = within_limit(&cell);
        assert!(cut.encode_utf16().count() <= CELL_LIMIT);
        let (kept, note) = cut.split_once(" ... [").unwrap();
        assert!(cell.starts_with(kept) && cell[kept.len()..].starts_with(' '), "cut inside a word");
        assert!(kept.len() > CELL_LIMIT - 200);
        assert_eq!(
            note,
            format!(
                "{} more characters cut: a spreadsheet cell holds 32767; the JSON artifacts hold the whole list]",
                cell.len() - kept.len()
            )
        );
        let full = "a".repeat(CELL_LIMIT);
        assert_eq!(within_limit(&full), full.as_str());
        // UTF-16 units, as Excel counts: 16,384 characters outside the basic plane are 32,768 units.
        let wide = "\u{1F600} ".repeat(16_384);
        assert!(within_limit(&wide).encode_utf16().count() <= CELL_LIMIT);
        // In the document too, and a cut cell starting like a formula is still neutralised.
        let doc = render(&["a"], &[vec![format!("={cell}")]]);
        let read: Vec<String> = csv::Reader::from_reader(doc.as_bytes())
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        assert!(
            read[0].starts_with("'=20.0.0.0/24 ") && read[0].encode_utf16().count() <= CELL_LIMIT,
            "{}",
            &read[0][..40]
        );
    }

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("\rx"), "'\rx");
        assert_eq!(neutralise("10.0.0.0/8"), "10.0.0.0/8");
        assert_eq!(neutralise("a=b"), "a=b");
        assert_eq!(neutralise(""), "");
    }

    /// What `csv::Writer` writes for the same rows: the reference `render` must equal.
    fn by_csv(header: &[&str], rows: &[Vec<String>]) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(header).unwrap();
        for row in rows {
            for cell in row {
                w.write_field(neutralise(cell).as_bytes()).unwrap();
            }
            w.write_record(None::<&[u8]>).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn one_empty_field_is_a_record_not_an_empty_line() {
        assert_eq!(render(&["a"], &[vec![String::new()], vec!["x".into()]]), "a\n\"\"\nx\n");
        assert_eq!(render(&["a"], &[vec![String::new()]]), by_csv(&["a"], &[vec![String::new()]]));
    }

    proptest! {
        /// Byte for byte what `csv::Writer` writes, whatever the cells (commas, quotes, line
        /// breaks, carriage returns, empty cells, any Unicode) and however many per row.
        #[test]
        fn writes_as_the_csv_crate_writes(
            (header, rows) in (1usize..4).prop_flat_map(|width| (
                prop::collection::vec("[a-z,\" ]{0,4}", width),
                prop::collection::vec(prop::collection::vec(prop_oneof![any::<String>(), "[a,\"\n\r =+ ]{0,8}"], width), 0..6),
            )),
        ) {
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            prop_assert_eq!(render(&header, &rows), by_csv(&header, &rows));
        }

        /// Whatever the cells (formulas, commas, quotes, line breaks, any Unicode), the document
        /// parses back (RFC 4180) to the same shape, no parsed cell is a formula, and removing the
        /// added quote gives the original cell.
        #[test]
        fn no_cell_reads_back_as_a_formula(rows in prop::collection::vec(prop::collection::vec(
            prop_oneof![any::<String>(), "[=+\\-@\t\r][a-zA-Z0-9(),\"\n ]{0,12}"], 3), 0..6)) {
            let text = render(&["a", "b", "c"], &rows);
            let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
            let parsed: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
            prop_assert_eq!(parsed.len(), rows.len());
            for (row, back) in rows.iter().zip(&parsed) {
                prop_assert_eq!(back.len(), 3);
                for (cell, got) in row.iter().zip(back.iter()) {
                    prop_assert!(!spreadsheet_evaluates(got), "{:?} reads back as {:?}", cell, got);
                    let original = if spreadsheet_evaluates(cell) { got.strip_prefix('\'').unwrap() } else { got };
                    prop_assert_eq!(original, cell.as_str());
                }
            }
        }
    }
}
