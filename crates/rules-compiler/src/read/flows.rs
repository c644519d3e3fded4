//! The flows file of `explain --flows`: CSV with a header naming the columns `from`, `to` and
//! optionally `port`, `protocol` and `expect`, in any order and case. Empty lines and lines starting
//! with `#` are skipped, a UTF-8 byte-order mark and CRLF line ends are accepted, fields may be
//! quoted and are trimmed. An empty `port` is `*`, an empty `protocol` Tcp, an empty `expect` no
//! expectation. Every problem of every row is reported, each at its line (the CSV record's) and
//! column (the field's number, with the column's name as the path).

use crate::azure::nsg::PortRange;
use crate::azure::nsg::Protocol;
use crate::prove::explain::{parse_ports, parse_protocol, Expect, Flow};
use ise_model::codes::{E_EXPLAIN_PORT, E_EXPLAIN_PROTOCOL, E_FLOWS, E_FLOWS_EMPTY, E_FLOWS_HEADER, E_FLOWS_TOO_MANY};
use ise_model::diag::{excerpt, sort_diagnostics, Diagnostic};

/// The most flows one file may hold. Smoke tests hold tens to hundreds; a flow to a service tag
/// keeps that tag's prefixes in its explanation (7 KB, 0.3 ms), so this bounds a run to seconds
/// and about 100 MB, where a 64 MiB file of two million flows would take gigabytes.
pub const MAX_FLOWS: usize = 10_000;

/// The columns a flows file may have, in the order the help names them.
pub const COLUMNS: [&str; 5] = ["from", "to", "port", "protocol", "expect"];
const REQUIRED: [&str; 2] = ["from", "to"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    /// The line the CSV record starts on (1-based, counting the header and skipped lines).
    pub line: u64,
    pub flow: Flow,
    pub expect: Option<Expect>,
}

#[derive(Debug, Clone)]
pub struct FlowsFile {
    pub file: String,
    /// (column name, 1-based field number) of the columns the header has.
    columns: Vec<(&'static str, usize)>,
    pub rows: Vec<FlowRow>,
}

impl FlowsFile {
    /// Places a diagnostic about `column` of `row` in the file.
    pub fn locate(&self, row: &FlowRow, column: &str, d: Diagnostic) -> Diagnostic {
        let number = self.columns.iter().find(|(c, _)| *c == column).map_or(1, |(_, n)| *n);
        Diagnostic {
            path: column.to_string(),
            ..d
        }
        .in_file(&self.file)
        .at(row.line as usize, number)
    }
}

/// Checks a row's `from` and `to` (each `None` when its field is empty) against the environment,
/// given the row's protocol and ports when they parsed: `Explainer::endpoint_problems`.
pub type EndpointCheck<'a> = &'a dyn Fn(Option<&str>, Option<&str>, Option<(Protocol, PortRange)>) -> Vec<Diagnostic>;

/// The column of a problem the endpoint check found, by the option it names (`--to`; `--from`
/// and `--from/--to` are placed at `from`).
pub fn column_of(d: &Diagnostic) -> &'static str {
    if d.file == "--to" {
        "to"
    } else {
        "from"
    }
}

fn at(file: &str, line: u64, column: usize, path: &str, code: &'static str, message: String) -> Diagnostic {
    Diagnostic::error(code, path, message).in_file(file).at(line as usize, column)
}

/// Reads a flows file on its own: every problem of its form and fields (the addresses need the
/// environment: see [`parse_checked`]).
pub fn parse(text: &str, file: &str) -> Result<FlowsFile, Vec<Diagnostic>> {
    parse_checked(text, file, &|_, _, _| Vec::new())
}

/// [`parse`], each row's `from` and `to` also checked by `endpoints`, a row whose port or protocol
/// does not parse included: every problem of the file, of its fields and of its addresses, in one
/// run, each at its line and column.
pub fn parse_checked(text: &str, file: &str, endpoints: EndpointCheck) -> Result<FlowsFile, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Comment lines are blanked, not given to the reader's comment option, whose record positions
    // skip them: every line keeps its number. A file without any is read as it is (no copy).
    let is_comment = |l: &str| l.trim_start().starts_with('#');
    let text: std::borrow::Cow<str> = if text.lines().any(is_comment) {
        text.split_inclusive('\n')
            .map(|l| if is_comment(l) { "\n" } else { l })
            .collect::<String>()
            .into()
    } else {
        text.into()
    };
    let text = text.as_ref();
    // The reader takes broken quoting as best it can (`"14"33` as 1433, a quote left open as the
    // rest of the file in one field): refused here, at the field, before it misleads.
    let quoting = quoting_problems(text, file);
    if !quoting.is_empty() {
        return Err(quoting);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut diags = Vec::new();
    let mut header: Option<(u64, Vec<Option<&'static str>>)> = None;
    let mut rows = Vec::new();
    let mut header_ok = true;
    // Data lines read, well-formed or not.
    let mut flows = 0usize;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_of(text, p.byte()));
                diags.push(at(file, line, 1, "", E_FLOWS, format!("not readable as CSV: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_of(text, p.byte()));
        // A line of only separators (`,,,,`) is as empty as an empty line.
        if record.iter().all(str::is_empty) {
            continue;
        }
        let Some((header_line, names)) = &header else {
            let before = diags.len();
            header = Some((line, read_header(&record, line, file, &mut diags)));
            header_ok = diags.len() == before;
            continue;
        };
        if !header_ok {
            // Rows cannot be read against a broken header; its problems are reported.
            continue;
        }
        flows += 1;
        if flows > MAX_FLOWS {
            diags.push(
                at(
                    file,
                    line,
                    1,
                    "",
                    E_FLOWS_TOO_MANY,
                    format!(
                        "more than {} flows: this row is the first past the limit",
                        crate::views::summary::count(MAX_FLOWS)
                    ),
                )
                .with_help("split the file and run explain once per part"),
            );
            break;
        }
        if record.len() != names.len() {
            diags.push(
                at(
                    file,
                    line,
                    record.len().min(names.len()) + 1,
                    "",
                    E_FLOWS,
                    format!(
                        "the row has {} fields, the header (line {header_line}) {}",
                        record.len(),
                        names.len()
                    ),
                )
                .with_help("give every row one field per header column; quote fields that contain commas"),
            );
            continue;
        }
        if let Some(row) = read_row(&record, names, line, file, endpoints, &mut diags) {
            rows.push(row);
        }
    }
    let Some((header_line, names)) = header else {
        diags.push(
            Diagnostic::error(E_FLOWS_EMPTY, "", "the file has no header and no flows")
                .with_help("start with the header `from,to,port,protocol,expect`, then one flow per line")
                .in_file(file),
        );
        return Err(diags);
    };
    if rows.is_empty() && diags.is_empty() {
        diags.push(
            Diagnostic::error(E_FLOWS_EMPTY, "", "the file has a header but no flows")
                .with_help("add one flow per line after the header")
                .in_file(file)
                .at(header_line as usize, 1),
        );
    }
    if !diags.is_empty() {
        sort_diagnostics(&mut diags);
        return Err(diags);
    }
    let columns = names.iter().enumerate().filter_map(|(i, n)| n.map(|n| (n, i + 1))).collect();
    Ok(FlowsFile {
        file: file.to_string(),
        columns,
        rows,
    })
}

/// RFC 4180 quoting, each problem at its line and field number: a quote left open, text after a
/// closing quote, a quote inside a field that does not start with one. Fields may be padded with
/// spaces (they are trimmed); a doubled quote inside a quoted field is a quote.
fn quoting_problems(text: &str, file: &str) -> Vec<Diagnostic> {
    let bytes = text.as_bytes();
    let mut problems = Vec::new();
    let (mut line, mut field, mut i) = (1u64, 1usize, 0usize);
    let mut problem = |line: u64, field: usize, message: &str| {
        problems.push(
            at(file, line, field, "", E_FLOWS, message.to_string())
                .with_help("quote a whole field (`\"a,b\"`) and double a quote inside it (`\"\"`)"),
        )
    };
    let is_break = |b: u8| b == b'\n' || b == b'\r';
    // Past one line break (CRLF, LF or a lone CR) at `i`.
    let past_break = |i: usize| {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i + 2
        } else {
            i + 1
        }
    };
    while i < bytes.len() {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        if bytes.get(i) == Some(&b'"') {
            let (open_line, open_field) = (line, field);
            i += 1;
            loop {
                match bytes.get(i) {
                    None => {
                        problem(open_line, open_field, "a quote opened here is never closed");
                        return problems;
                    }
                    Some(b'"') if bytes.get(i + 1) == Some(&b'"') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&b) if is_break(b) => {
                        i = past_break(i);
                        line += 1;
                    }
                    Some(_) => i += 1,
                }
            }
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if i < bytes.len() && bytes[i] != b',' && !is_break(bytes[i]) {
                problem(line, field, "text after the closing quote of this field");
            }
        }
        // The rest of the field (all of an unquoted one).
        while i < bytes.len() && bytes[i] != b',' && !is_break(bytes[i]) {
            if bytes[i] == b'"' {
                problem(line, field, "a quote inside a field that does not start with one");
                while i < bytes.len() && bytes[i] != b',' && !is_break(bytes[i]) {
                    i += 1;
                }
                break;
            }
            i += 1;
        }
        match bytes.get(i) {
            Some(b',') => {
                field += 1;
                i += 1;
            }
            Some(_) => {
                i = past_break(i);
                line += 1;
                field = 1;
            }
            None => {}
        }
    }
    problems
}

/// The 1-based line a record starts on. The reader's own line count is off after empty lines and
/// CRLF, and its byte offset points before the line ends that precede the record, so the offset is
/// moved past them and lines are counted here, as an editor shows them.
fn line_of(text: &str, byte: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut start = (byte as usize).min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
        start += 1;
    }
    // A line ends at LF, CRLF or a lone CR (old Mac files), as the reader's records do.
    let before = &bytes[..start];
    let breaks = before
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || b == b'\r' && before.get(i + 1) != Some(&b'\n'))
        .count();
    1 + breaks as u64
}

/// The column of each field (`None` for an unknown one, reported).
fn read_header(record: &csv::StringRecord, line: u64, file: &str, diags: &mut Vec<Diagnostic>) -> Vec<Option<&'static str>> {
    let mut names: Vec<Option<&'static str>> = Vec::new();
    for (i, field) in record.iter().enumerate() {
        let known = COLUMNS.iter().copied().find(|c| c.eq_ignore_ascii_case(field));
        match known {
            Some(c) if names.contains(&Some(c)) => diags
                .push(at(file, line, i + 1, c, E_FLOWS_HEADER, format!("column `{c}` is named twice")).with_help("name each column once")),
            Some(_) => {}
            None => diags.push(
                at(
                    file,
                    line,
                    i + 1,
                    &excerpt(field),
                    E_FLOWS_HEADER,
                    format!("`{}` is not a column of a flows file", excerpt(field)),
                )
                .with_help(format!("the columns are {}", COLUMNS.join(","))),
            ),
        }
        names.push(known.filter(|c| !names.contains(&Some(c))));
    }
    for c in REQUIRED {
        if !names.contains(&Some(c)) {
            diags.push(
                at(file, line, 1, "", E_FLOWS_HEADER, format!("the header has no `{c}` column"))
                    .with_help(format!("the header names the columns, e.g. {}", COLUMNS.join(","))),
            );
        }
    }
    names
}

/// A required field's value, `None` when empty (reported as such).
fn given(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

/// An optional cell: `default` when empty, else what `parse` makes of it.
fn cell<T>(value: &str, default: T, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, String> {
    if value.is_empty() {
        Ok(default)
    } else {
        parse(value)
    }
}

fn read_row(
    record: &csv::StringRecord,
    names: &[Option<&'static str>],
    line: u64,
    file: &str,
    endpoints: EndpointCheck,
    diags: &mut Vec<Diagnostic>,
) -> Option<FlowRow> {
    let before = diags.len();
    let field = |name: &str| -> (&str, usize) {
        names
            .iter()
            .position(|n| *n == Some(name))
            .map_or(("", 0), |i| (record.get(i).unwrap_or(""), i + 1))
    };
    let required = |name: &str, diags: &mut Vec<Diagnostic>| -> String {
        let (value, column) = field(name);
        if value.is_empty() {
            diags.push(
                at(file, line, column, name, E_FLOWS, format!("`{name}` is empty"))
                    .with_help("give an IPv4 address, a prefix or a service tag"),
            );
        }
        value.to_string()
    };
    let from = required("from", diags);
    let to = required("to", diags);
    let (port, port_column) = field("port");
    let ports = cell(port, PortRange::ANY, parse_ports).map_err(|e| {
        diags.push(at(file, line, port_column, "port", E_EXPLAIN_PORT, e).with_help("write a port (443), a range (1000-2000) or *"))
    });
    let (protocol, protocol_column) = field("protocol");
    let protocol = cell(protocol, Protocol::Tcp, parse_protocol).map_err(|e| {
        diags.push(at(file, line, protocol_column, "protocol", E_EXPLAIN_PROTOCOL, e).with_help("write Tcp, Udp, Icmp, Esp, Ah or *"))
    });
    // The addresses are checked whatever became of the other fields.
    let known = ports.ok().zip(protocol.ok()).map(|(ports, protocol)| (protocol, ports));
    for d in endpoints(given(&from), given(&to), known) {
        let name = column_of(&d);
        let (_, column) = field(name);
        diags.push(
            Diagnostic {
                path: name.to_string(),
                ..d
            }
            .in_file(file)
            .at(line as usize, column),
        );
    }
    let (ports, protocol) = known.map_or((PortRange::ANY, Protocol::Tcp), |(protocol, ports)| (ports, protocol));
    let (expect, expect_column) = field("expect");
    let expect = if expect.is_empty() {
        None
    } else {
        Expect::parse(expect)
            .map_err(|d| {
                diags.push(
                    Diagnostic {
                        path: "expect".into(),
                        ..d
                    }
                    .in_file(file)
                    .at(line as usize, expect_column),
                )
            })
            .ok()
    };
    let flow = Flow { from, to, protocol, ports };
    if known.is_some() {
        if let Err(d) = flow.check() {
            diags.push(
                Diagnostic { path: "port".into(), ..d }
                    .in_file(file)
                    .at(line as usize, port_column.max(1)),
            );
        }
    }
    (diags.len() == before).then_some(FlowRow { line, flow, expect })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ise_model::codes::{E_EXPLAIN_EXPECT, E_EXPLAIN_PORTLESS};

    /// A header, a comment line and an empty line, then `n` flows.
    fn many(n: usize) -> String {
        let mut text = String::from("from,to,port\n# smoke tests\n\n");
        for i in 0..n {
            text += &format!("10.10.1.5,Storage,{}\n", 1 + i % 65_000);
        }
        text
    }

    #[test]
    fn a_file_of_more_flows_than_the_limit_is_refused_at_the_first_row_past_it() {
        assert_eq!(parse(&many(MAX_FLOWS), "f.csv").expect("at the limit").rows.len(), MAX_FLOWS);
        // Lines: the header, the comment, the empty line, then flow k on line 3 + k.
        assert_eq!(
            codes(&many(MAX_FLOWS + 500)),
            [(E_FLOWS_TOO_MANY, 3 + MAX_FLOWS + 1, 1, String::new())]
        );
        let d = parse(&many(MAX_FLOWS + 1), "f.csv").expect_err("past the limit");
        assert_eq!(d[0].message, "more than 10,000 flows: this row is the first past the limit");
    }

    fn codes(text: &str) -> Vec<(&'static str, usize, usize, String)> {
        parse(text, "f.csv")
            .expect_err("bad input")
            .into_iter()
            .map(|d| {
                assert_eq!(d.file, "f.csv");
                (d.code, d.line.unwrap_or(0), d.column.unwrap_or(0), d.path)
            })
            .collect()
    }

    #[test]
    fn bom_crlf_quotes_comments_and_empty_lines_are_read() {
        let text = "\u{feff}From,TO,Port,protocol,expect\r\n# smoke tests\r\n\r\n\"10.10.1.5\", Sql ,1433,Tcp,allow\r\n,,,,\r\n\"Internet\",\"10.10.1.70\",\"1000-2000\",*,DENY\r\n10.10.1.5,Internet,,icmp,\r\n";
        let f = parse(text, "f.csv").unwrap();
        let got: Vec<String> = f
            .rows
            .iter()
            .map(|r| {
                let f = &r.flow;
                format!("{} {} {} {} {:?} {:?}", r.line, f.from, f.to, f.ports, f.protocol, r.expect)
            })
            .collect();
        assert_eq!(
            got,
            [
                "4 10.10.1.5 Sql 1433 Tcp Some(Allow)",
                "6 Internet 10.10.1.70 1000-2000 Any Some(Deny)",
                "7 10.10.1.5 Internet * Icmp None",
            ]
        );
    }

    #[test]
    fn columns_may_come_in_any_order_and_optional_ones_may_be_left_out() {
        let f = parse("to,from\n10.10.1.5,Internet\n", "f.csv").unwrap();
        assert_eq!(f.rows[0].flow.from, "Internet");
        assert_eq!(f.rows[0].flow.protocol, Protocol::Tcp);
        assert!(f.rows[0].flow.ports.is_any());
        assert_eq!(f.rows[0].expect, None);
    }

    #[test]
    fn every_bad_row_is_reported_at_its_line_and_column() {
        let text = "from,to,port,protocol,expect\n\
                    10.10.1.5,Sql,70000,tcp,allow\n\
                    10.10.1.5,Sql,443,sctp,allow\n\
                    10.10.1.5,Sql,443,tcp,maybe\n\
                    10.10.1.5,Sql,443\n\
                    10.10.1.5,Sql,443,tcp,allow,extra\n\
                    ,Sql,443,tcp,allow\n\
                    10.10.1.5,Internet,8,icmp,deny\n\
                    10.10.1.5,Sql,443,tcp,allow\n";
        assert_eq!(
            codes(text),
            vec![
                (E_EXPLAIN_PORT, 2, 3, "port".to_string()),
                (E_EXPLAIN_PROTOCOL, 3, 4, "protocol".to_string()),
                (E_EXPLAIN_EXPECT, 4, 5, "expect".to_string()),
                (E_FLOWS, 5, 4, String::new()),
                (E_FLOWS, 6, 6, String::new()),
                (E_FLOWS, 7, 1, "from".to_string()),
                (E_EXPLAIN_PORTLESS, 8, 3, "port".to_string()),
            ]
        );
    }

    /// The endpoint check sees every row whose fields could be told apart, a bad port's row
    /// included (with no protocol and ports then), and its problems land at `from` or `to`.
    #[test]
    fn every_row_s_endpoints_are_checked_beside_its_other_fields() {
        let text = "from,to,port,protocol\n\
                    bad-from,Sql,443,tcp\n\
                    10.10.1.5,bad-to,99999,tcp\n\
                    ,bad-to,443,udp\n\
                    10.10.1.5,Sql,443\n";
        let seen = std::cell::RefCell::new(Vec::new());
        let check = |from: Option<&str>, to: Option<&str>, fields: Option<(Protocol, PortRange)>| {
            seen.borrow_mut().push((from.map(str::to_string), to.map(str::to_string), fields));
            let bad = |v: Option<&str>, option: &str| {
                v.filter(|v| v.starts_with("bad"))
                    .map(|v| Diagnostic::error(E_FLOWS, "", format!("`{v}`")).in_file(option))
            };
            bad(from, "--from").into_iter().chain(bad(to, "--to")).collect()
        };
        let diags = parse_checked(text, "f.csv", &check).expect_err("bad rows");
        let got: Vec<(&str, usize, usize, &str)> = diags
            .iter()
            .map(|d| (d.code, d.line.unwrap(), d.column.unwrap(), d.path.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (E_FLOWS, 2, 1, "from"),
                (E_FLOWS, 3, 2, "to"),
                (E_EXPLAIN_PORT, 3, 3, "port"),
                (E_FLOWS, 4, 1, "from"),
                (E_FLOWS, 4, 2, "to"),
                (E_FLOWS, 5, 4, ""),
            ]
        );
        let tcp_443 = Some((Protocol::Tcp, PortRange::single(443)));
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            seen.into_inner(),
            [
                (some("bad-from"), some("Sql"), tcp_443),
                (some("10.10.1.5"), some("bad-to"), None),
                (None, some("bad-to"), Some((Protocol::Udp, PortRange::single(443)))),
            ],
            "the row of three fields under a header of four is not read further"
        );
    }

    #[test]
    fn broken_quoting_is_refused_at_its_field() {
        let text = "from,to,port\n10.10.1.5,Sql,\"14\"33\n10.10.1.5,S\"ql,443\n10.10.1.5, \"Sql\" ,\"1433\n";
        assert_eq!(
            codes(text),
            vec![
                (E_FLOWS, 2, 3, String::new()),
                (E_FLOWS, 3, 2, String::new()),
                (E_FLOWS, 4, 3, String::new())
            ]
        );
        // Quotes done right: a padded quoted field, a doubled quote, a comma and a line break inside.
        let fine = "from,to,port\n \"10.10.1.5\" ,Sql,\"1433\"\n";
        assert!(parse(fine, "f.csv").is_ok());
        let doubled = parse("from,to,port\n\"a\"\"b\",\"c,\nd\",1\n10.10.1.5,Sql,1\n", "f.csv").expect("well quoted");
        assert_eq!(doubled.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
    }

    proptest::proptest! {
        /// Whatever a CSV writer quotes (quotes, commas, line breaks, padding), the check passes.
        #[test]
        fn quoting_a_writer_produces_passes(rows in proptest::collection::vec(proptest::collection::vec("[a\" ,\n\r1]{0,6}", 3), 1..5)) {
            let mut w = csv::Writer::from_writer(Vec::new());
            for r in &rows {
                w.write_record(r).unwrap();
            }
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            proptest::prop_assert_eq!(quoting_problems(&text, "f.csv").len(), 0, "{:?}", text);
        }
    }

    #[test]
    fn lines_ending_in_a_lone_cr_are_counted() {
        let text = "from,to,port\r10.10.1.5,Sql,443\r10.10.1.5,Sql,99999\r";
        assert_eq!(codes(text), vec![(E_EXPLAIN_PORT, 3, 3, "port".to_string())]);
    }

    #[test]
    fn the_header_is_checked() {
        assert_eq!(
            codes("from,dest,port\n1,2,3\n"),
            vec![(E_FLOWS_HEADER, 1, 1, String::new()), (E_FLOWS_HEADER, 1, 2, "dest".to_string())]
        );
        assert_eq!(codes("from,to,to\n1,2,3\n"), vec![(E_FLOWS_HEADER, 1, 3, "to".to_string())]);
        assert_eq!(codes("from,to\n"), vec![(E_FLOWS_EMPTY, 1, 1, String::new())]);
        assert_eq!(codes(""), vec![(E_FLOWS_EMPTY, 0, 0, String::new())]);
        assert_eq!(codes("\u{feff}\r\n# nothing\r\n"), vec![(E_FLOWS_EMPTY, 0, 0, String::new())]);
    }
}
