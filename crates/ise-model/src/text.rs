//! Input bytes as text. Every input (JSON, the flows CSV) is UTF-8, but Windows PowerShell 5.1
//! writes `>` and `Out-File` output as UTF-16LE with a byte-order mark (Microsoft's
//! about_Character_Encoding), so `az network nsg show ... > nsg.json` there makes UTF-16: a file
//! that starts with a UTF-16 byte-order mark (LE or BE) is decoded, its positions then counting
//! characters as for UTF-8. Anything else that is not UTF-8 is refused (`E0008`) at the line and
//! column of its first bad byte, with what to do about it.

use crate::codes::E_ENCODING;
use crate::diag::Diagnostic;

const UTF16_LE_BOM: [u8; 2] = [0xFF, 0xFE];
const UTF16_BE_BOM: [u8; 2] = [0xFE, 0xFF];
const UTF8_BOM: &str = "\u{feff}";

/// The text of `bytes`: UTF-8 as it is (a UTF-8 byte-order mark is kept for the readers, which
/// skip it), UTF-16 with its byte-order mark decoded (the mark dropped), or `E0008` without a
/// file name (the caller knows it).
pub fn decode(bytes: Vec<u8>) -> Result<String, Diagnostic> {
    if let Some(units) = bytes.strip_prefix(&UTF16_LE_BOM) {
        return utf16(units, u16::from_le_bytes, "UTF-16LE");
    }
    if let Some(units) = bytes.strip_prefix(&UTF16_BE_BOM) {
        return utf16(units, u16::from_be_bytes, "UTF-16BE");
    }
    match String::from_utf8(bytes) {
        Ok(text) => nul_free(text),
        Err(e) => {
            let bytes = e.as_bytes();
            let valid = e.utf8_error().valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            Err(not_text(
                prefix,
                format!("byte 0x{:02X} is not UTF-8", bytes[valid]),
                "save the file as UTF-8 (a Windows-1252 or Latin-1 editor writes `é` as one such byte); \
                 isenet reads UTF-8, and UTF-16 with a byte-order mark",
            ))
        }
    }
}

/// Decodes UTF-16 code units (after the byte-order mark); an odd byte or an unpaired surrogate is
/// refused where the text stops making sense.
fn utf16(units: &[u8], unit: fn([u8; 2]) -> u16, name: &str) -> Result<String, Diagnostic> {
    let pairs = units.chunks_exact(2);
    let odd = !pairs.remainder().is_empty();
    let mut text = String::with_capacity(units.len() / 2);
    for c in char::decode_utf16(pairs.map(|p| unit([p[0], p[1]]))) {
        match c {
            Ok(c) => text.push(c),
            Err(e) => {
                return Err(not_text(
                    &text,
                    format!("the {name} text holds an unpaired surrogate (0x{:04X})", e.unpaired_surrogate()),
                    "the file is cut or corrupt: export it again",
                ))
            }
        }
    }
    if odd {
        return Err(not_text(
            &text,
            format!("the {name} text ends in half a character (an odd number of bytes)"),
            "the file is cut or corrupt: export it again",
        ));
    }
    nul_free(text)
}

/// A NUL character is no JSON or CSV text: most often UTF-16 without a byte-order mark, which
/// reads as valid UTF-8 with a NUL after every ASCII character.
fn nul_free(text: String) -> Result<String, Diagnostic> {
    match text.find('\0') {
        None => Ok(text),
        Some(at) => Err(not_text(
            &text[..at],
            "a NUL character is not text (UTF-16 without a byte-order mark?)".to_string(),
            "save the file as UTF-8: in PowerShell, `... | Out-File -Encoding utf8 FILE`",
        )),
    }
}

/// `E0008` at the position just after `before`, the text read up to the problem.
fn not_text(before: &str, what: String, help: &str) -> Diagnostic {
    let (line, column) = end_of(before);
    Diagnostic::error(E_ENCODING, "", format!("not text isenet can read: {what}"))
        .with_help(help)
        .at(line, column)
}

/// The 1-based line and column (in characters, after a byte-order mark, as the JSON reader counts
/// them) of the character that would follow `text`.
fn end_of(text: &str) -> (usize, usize) {
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let line_start = text.rfind('\n').map_or(0, |i| i + 1);
    (1 + text.matches('\n').count(), 1 + text[line_start..].chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        UTF16_LE_BOM
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect()
    }

    fn position(d: &Diagnostic) -> (usize, usize) {
        (d.line.unwrap(), d.column.unwrap())
    }

    #[test]
    fn utf8_is_read_as_it_is_with_its_byte_order_mark() {
        assert_eq!(decode(b"{\"a\": 1}".to_vec()).unwrap(), "{\"a\": 1}");
        assert_eq!(decode("\u{feff}{}".as_bytes().to_vec()).unwrap(), "\u{feff}{}");
        assert_eq!(decode(Vec::new()).unwrap(), "");
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_decoded_in_either_byte_order() {
        let text = "{\n  \"name\": \"nsg-é-😀\"\n}\n";
        assert_eq!(decode(utf16le(text)).unwrap(), text);
        let be: Vec<u8> = UTF16_BE_BOM
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(be).unwrap(), text);
    }

    #[test]
    fn a_byte_that_is_not_utf8_is_refused_at_its_line_and_column() {
        // `é` in Latin-1 (0xE9) at line 3, after four characters of that line.
        let mut bytes = b"{\n  \"a\": 1,\n  \"b".to_vec();
        bytes.push(0xE9);
        bytes.extend_from_slice(b"\": 2\n}\n");
        let d = decode(bytes).unwrap_err();
        assert_eq!((d.code, position(&d)), (E_ENCODING, (3, 5)));
        assert!(d.message.contains("byte 0xE9 is not UTF-8"), "{}", d.message);
        // Columns count characters, not bytes, and start after a UTF-8 byte-order mark.
        let mut bytes = "\u{feff}\"ü".as_bytes().to_vec();
        bytes.push(0xFF);
        assert_eq!(position(&decode(bytes).unwrap_err()), (1, 3));
    }

    #[test]
    fn broken_utf16_and_nul_characters_are_refused_where_they_are() {
        let mut odd = utf16le("{\n}");
        odd.push(b' ');
        assert_eq!(position(&decode(odd).unwrap_err()), (2, 2));
        let mut lone = utf16le("{\n ");
        lone.extend_from_slice(&0xD800u16.to_le_bytes());
        let d = decode(lone).unwrap_err();
        assert_eq!((d.code, position(&d)), (E_ENCODING, (2, 2)));
        assert!(d.message.contains("unpaired surrogate (0xD800)"), "{}", d.message);
        // UTF-16LE without its mark: `{` then NUL.
        let bare: Vec<u8> = "{}".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let d = decode(bare).unwrap_err();
        assert_eq!(position(&d), (1, 2));
        assert!(d.message.contains("NUL"), "{}", d.message);
    }
}
