//! Certificate checks for the ISE's custom root certificates: base64 of DER, base64 of PEM, or PEM
//! text, holding an X.509 certificate (a DER SEQUENCE whose first element is a SEQUENCE).

use crate::codes::{E_CERT_BASE64, E_CERT_NOT_CERT};
use crate::diag::Diagnostic;

pub(super) enum CertError {
    NotBase64,
    NotCertificate(&'static str),
}

impl CertError {
    pub(super) fn into_diag(self, path: &str) -> Diagnostic {
        match self {
            CertError::NotBase64 => Diagnostic::error(E_CERT_BASE64, path, "publicCertificate is neither base64 nor PEM")
                .with_help("give the base64 encoding of the certificate's DER or PEM bytes (e.g. `base64 -w0 root.cer`)"),
            CertError::NotCertificate(why) => Diagnostic::error(
                E_CERT_NOT_CERT,
                path,
                format!("publicCertificate does not hold an X.509 certificate: {why}"),
            )
            .with_help("export the root or intermediate certificate (public part only) as DER or PEM"),
        }
    }
}

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

pub(super) fn check(text: &str) -> Result<(), CertError> {
    let der = if text.contains(PEM_BEGIN) {
        pem_body(text)?
    } else {
        let bytes = base64_decode(text).ok_or(CertError::NotBase64)?;
        match std::str::from_utf8(&bytes) {
            Ok(inner) if inner.contains(PEM_BEGIN) => pem_body(inner)?,
            _ => bytes,
        }
    };
    check_der(&der)
}

fn pem_body(text: &str) -> Result<Vec<u8>, CertError> {
    let start = text.find(PEM_BEGIN).map(|i| i + PEM_BEGIN.len()).ok_or(CertError::NotBase64)?;
    let end = text[start..]
        .find(PEM_END)
        .map(|i| start + i)
        .ok_or(CertError::NotCertificate("the PEM block has no END CERTIFICATE line"))?;
    base64_decode(&text[start..end]).ok_or(CertError::NotBase64)
}

/// Standard base64 with optional padding; whitespace is ignored.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = digits.strip_suffix(b"==").or_else(|| digits.strip_suffix(b"=")).unwrap_or(&digits);
    if body.is_empty() || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in body {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Reads a DER header at `pos`: (tag, content start, content length).
fn der_header(der: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let tag = *der.get(pos)?;
    let first = *der.get(pos + 1)?;
    if first < 0x80 {
        return Some((tag, pos + 2, first as usize));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | *der.get(pos + 2 + i)? as usize;
    }
    Some((tag, pos + 2 + n, len))
}

fn check_der(der: &[u8]) -> Result<(), CertError> {
    let (tag, start, len) = der_header(der, 0).ok_or(CertError::NotCertificate("the data is too short"))?;
    if tag != 0x30 {
        return Err(CertError::NotCertificate("it does not start with a DER SEQUENCE"));
    }
    if start + len != der.len() {
        return Err(CertError::NotCertificate("the DER length does not match the data"));
    }
    match der_header(der, start) {
        Some((0x30, inner_start, inner_len)) if inner_start + inner_len <= der.len() => Ok(()),
        _ => Err(CertError::NotCertificate("the SEQUENCE does not begin with a tbsCertificate")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal DER shape: SEQUENCE { SEQUENCE { INTEGER 1 } }.
    const TINY_DER_B64: &str = "MAUwAwIBAQ==";

    #[test]
    fn base64_decodes_known_vectors() {
        // RFC 4648 test vectors.
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert!(base64_decode("Zm9v!mFy").is_none());
        assert!(base64_decode("").is_none());
    }

    #[test]
    fn accepts_der_base64_pem_and_base64_of_pem() {
        assert!(check(TINY_DER_B64).is_ok());
        let pem = format!("{PEM_BEGIN}\n{TINY_DER_B64}\n{PEM_END}\n");
        assert!(check(&pem).is_ok());
        // base64 of the PEM text, as seed 000's example ("LS0tLS1CRUdJTiBDRV...").
        let b64_of_pem = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1BVXdBd0lCQVE9PQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==";
        assert!(check(b64_of_pem).is_ok());
    }

    #[test]
    fn refuses_non_certificates() {
        assert!(matches!(check("not base64!"), Err(CertError::NotBase64)));
        assert!(matches!(check("aGVsbG8gd29ybGQ="), Err(CertError::NotCertificate(_)))); // "hello world"
        assert!(matches!(check("MAUwAwIB"), Err(CertError::NotCertificate(_))));
        // truncated DER
    }
}
