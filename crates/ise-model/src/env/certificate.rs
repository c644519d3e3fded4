//! The ISE's custom root certificates: the forms `publicCertificate` may take (base64 of DER, PEM
//! text, or base64 of PEM text), the check that it holds one X.509 certificate (x509.rs), and the
//! one form the ISE request sends: base64 of the PEM text, as seed 000's example does
//! (`"publicCertificate": "LS0tLS1CRUdJTiBDRV..."` decodes to `-----BEGIN CE...`).

use super::x509;
use crate::codes::{E_CERT_BASE64, E_CERT_NOT_CERT};
use crate::diag::Diagnostic;

pub(super) enum CertError {
    NotBase64,
    NotCertificate(String),
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

/// The certificate's DER bytes, when `text` holds exactly one X.509 certificate.
pub(super) fn check(text: &str) -> Result<Vec<u8>, CertError> {
    let der = decode(text)?;
    x509::check(&der).map_err(CertError::NotCertificate)?;
    Ok(der)
}

/// What the ISE request carries for a certificate: base64 of its PEM text (64-character lines,
/// LF line ends), whichever form the environment gave.
pub(super) fn request_form(der: &[u8]) -> String {
    let body = base64_encode(der);
    let mut pem = format!("{PEM_BEGIN}\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str(PEM_END);
    pem.push('\n');
    base64_encode(pem.as_bytes())
}

/// The DER bytes `text` encodes (not yet checked to be a certificate).
pub(super) fn decode(text: &str) -> Result<Vec<u8>, CertError> {
    if text.contains(PEM_BEGIN) {
        return pem_body(text);
    }
    let bytes = base64_decode(text).ok_or(CertError::NotBase64)?;
    match std::str::from_utf8(&bytes) {
        Ok(inner) if inner.contains(PEM_BEGIN) => pem_body(inner),
        _ => Ok(bytes),
    }
}

/// The one certificate of a PEM text; text around the block (OpenSSL's "Bag Attributes") is
/// allowed, a second certificate is not: each certificate is its own entry of `certificates`.
fn pem_body(text: &str) -> Result<Vec<u8>, CertError> {
    let blocks = text.matches(PEM_BEGIN).count();
    if blocks > 1 {
        return Err(CertError::NotCertificate(format!(
            "the PEM text holds {blocks} certificates; give each its own entry in `certificates`"
        )));
    }
    let start = text.find(PEM_BEGIN).map(|i| i + PEM_BEGIN.len()).ok_or(CertError::NotBase64)?;
    let end = text[start..]
        .find(PEM_END)
        .map(|i| start + i)
        .ok_or_else(|| CertError::NotCertificate("the PEM block has no END CERTIFICATE line".into()))?;
    base64_decode(&text[start..end]).ok_or(CertError::NotBase64)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 section 4).
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
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
        let v = ALPHABET.iter().position(|&a| a == b)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROOT_PEM: &str = include_str!("../../../../tests/fixtures/certificates/ec-p256-root.pem");

    fn root_der() -> Vec<u8> {
        check(ROOT_PEM).unwrap_or_else(|_| panic!("fixture"))
    }

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
    fn base64_encodes_known_vectors() {
        // RFC 4648 section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn accepts_der_base64_pem_and_base64_of_pem_as_one_certificate() {
        let der = root_der();
        let b64_der = base64_encode(&der);
        let b64_pem = base64_encode(ROOT_PEM.as_bytes());
        for form in [ROOT_PEM, &b64_der, &b64_pem, &ROOT_PEM.replace('\n', "\r\n")] {
            assert_eq!(check(form).ok().as_deref(), Some(&der[..]), "{form}");
        }
    }

    #[test]
    fn the_request_form_is_base64_of_the_pem_text_like_seed_000s_example() {
        let sent = request_form(&root_der());
        // Seed 000's example value starts `LS0tLS1CRUdJTiBDRV`: base64 of `-----BEGIN CE`.
        assert!(sent.starts_with("LS0tLS1CRUdJTiBDRV"), "{sent}");
        // It decodes to PEM text whose lines are those of OpenSSL's own PEM output.
        let text = String::from_utf8(base64_decode(&sent).unwrap()).unwrap();
        assert_eq!(text, ROOT_PEM);
        assert_eq!(check(&sent).ok(), Some(root_der()));
    }

    #[test]
    fn refuses_non_certificates() {
        assert!(matches!(check("not base64!"), Err(CertError::NotBase64)));
        assert!(matches!(check("aGVsbG8gd29ybGQ="), Err(CertError::NotCertificate(_)))); // "hello world"
                                                                                         // SEQUENCE { SEQUENCE { INTEGER 1 } }: DER, but no certificate.
        assert!(matches!(check("MAUwAwIBAQ=="), Err(CertError::NotCertificate(_))));
        let two = format!("{ROOT_PEM}{ROOT_PEM}");
        match check(&two) {
            Err(CertError::NotCertificate(why)) => assert!(why.contains("2 certificates"), "{why}"),
            _ => panic!("a PEM chain in one entry"),
        }
    }

    proptest! {
        #[test]
        fn base64_round_trips(bytes in proptest::collection::vec(any::<u8>(), 1..300)) {
            prop_assert_eq!(base64_decode(&base64_encode(&bytes)), Some(bytes));
        }

        #[test]
        fn check_never_panics_on_text(text in ".{0,200}") {
            let _ = check(&text);
        }
    }
}
