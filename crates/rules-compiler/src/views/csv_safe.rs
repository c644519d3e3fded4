//! CSV for spreadsheets: RFC 4180 (the `csv` crate quotes commas, quotes and line breaks), UTF-8,
//! a header row, and every cell a spreadsheet could take for a formula neutralised (OWASP "CSV
//! injection": a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front, so Excel,
//! LibreOffice and Google Sheets show the text instead of evaluating it).

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

/// The header and rows as one CSV document, every cell neutralised.
pub fn render<C: AsRef<str>>(header: &[&str], rows: &[impl AsRef<[C]>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("in-memory write");
    for row in rows {
        for cell in row.as_ref() {
            w.write_field(neutralise(cell.as_ref()).as_bytes()).expect("in-memory write");
        }
        w.write_record(None::<&[u8]>).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("cells are UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a spreadsheet would do with a parsed cell: evaluate it when it starts like a formula.
    fn spreadsheet_evaluates(cell: &str) -> bool {
        cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
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

    proptest! {
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
