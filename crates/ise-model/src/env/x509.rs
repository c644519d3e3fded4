//! The shape of an X.509 certificate in DER (RFC 5280 section 4.1), checked without a crypto
//! crate: enough to tell a certificate from other bytes, not to trust it (signatures, dates and
//! extensions are for Azure and the TLS peer to judge).
//!
//! ```text
//! Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
//! TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, signature AlgorithmIdentifier,
//!     issuer Name, validity SEQUENCE { Time, Time }, subject Name, subjectPublicKeyInfo SEQUENCE,
//!     [1] issuerUniqueID OPTIONAL, [2] subjectUniqueID OPTIONAL, [3] extensions OPTIONAL }
//! ```
//! Every length must fit inside its parent, and every element must be used up exactly: nothing may
//! follow the last field of a SEQUENCE, nor the certificate itself.

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const VERSION: u8 = 0xA0;
const ISSUER_UNIQUE_ID: u8 = 0x81;
const SUBJECT_UNIQUE_ID: u8 = 0x82;
const EXTENSIONS: u8 = 0xA3;

/// Why the bytes are not a certificate, naming the field that broke.
pub(super) type Why = String;

/// Checks that `der` is exactly one X.509 certificate.
pub(super) fn check(der: &[u8]) -> Result<(), Why> {
    let mut top = Reader(der);
    let cert = top.expect(SEQUENCE, "certificate", "SEQUENCE")?;
    if !top.0.is_empty() {
        return Err(format!("{} byte(s) follow the certificate", top.0.len()));
    }
    let mut c = Reader(cert);
    let tbs = c.expect(SEQUENCE, "tbsCertificate", "SEQUENCE")?;
    algorithm_identifier(c.expect(SEQUENCE, "signatureAlgorithm", "SEQUENCE")?, "signatureAlgorithm")?;
    bit_string(c.expect(BIT_STRING, "signatureValue", "BIT STRING")?, "signatureValue")?;
    c.end("certificate")?;
    tbs_certificate(tbs)
}

fn tbs_certificate(tbs: &[u8]) -> Result<(), Why> {
    let mut t = Reader(tbs);
    if t.peek() == Some(VERSION) {
        let mut v = Reader(t.expect(VERSION, "version", "[0]")?);
        integer(v.expect(INTEGER, "version", "INTEGER")?, "version")?;
        v.end("version")?;
    }
    integer(t.expect(INTEGER, "serialNumber", "INTEGER")?, "serialNumber")?;
    algorithm_identifier(t.expect(SEQUENCE, "signature", "SEQUENCE")?, "signature")?;
    name(t.expect(SEQUENCE, "issuer", "SEQUENCE")?, "issuer")?;
    validity(t.expect(SEQUENCE, "validity", "SEQUENCE")?)?;
    name(t.expect(SEQUENCE, "subject", "SEQUENCE")?, "subject")?;
    subject_public_key_info(t.expect(SEQUENCE, "subjectPublicKeyInfo", "SEQUENCE")?)?;
    // Optional and in this order; anything else is left over and refused by `end`.
    for (tag, what) in [(ISSUER_UNIQUE_ID, "issuerUniqueID"), (SUBJECT_UNIQUE_ID, "subjectUniqueID")] {
        if t.peek() == Some(tag) {
            bit_string(t.expect(tag, what, "[n] BIT STRING")?, what)?;
        }
    }
    if t.peek() == Some(EXTENSIONS) {
        extensions(t.expect(EXTENSIONS, "extensions", "[3]")?)?;
    }
    t.end("tbsCertificate")
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
fn algorithm_identifier(content: &[u8], what: &str) -> Result<(), Why> {
    let mut r = Reader(content);
    oid(r.expect(OID, what, "OBJECT IDENTIFIER")?, what)?;
    if !r.0.is_empty() {
        r.any(what)?;
    }
    r.end(what)
}

/// `Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }` (an empty name is allowed).
fn name(content: &[u8], what: &str) -> Result<(), Why> {
    let mut rdns = Reader(content);
    while !rdns.0.is_empty() {
        let mut set = Reader(rdns.expect(SET, what, "SET (relative distinguished name)")?);
        if set.0.is_empty() {
            return Err(format!("the {what} has an empty relative distinguished name"));
        }
        while !set.0.is_empty() {
            let mut attribute = Reader(set.expect(SEQUENCE, what, "SEQUENCE (attribute)")?);
            oid(attribute.expect(OID, what, "attribute type OID")?, what)?;
            attribute.any(what)?;
            attribute.end(what)?;
        }
    }
    Ok(())
}

/// `Validity ::= SEQUENCE { notBefore Time, notAfter Time }`, each UTCTime or GeneralizedTime.
fn validity(content: &[u8]) -> Result<(), Why> {
    let mut r = Reader(content);
    for what in ["notBefore", "notAfter"] {
        let e = r.any(what)?;
        if !matches!(e.tag, UTC_TIME | GENERALIZED_TIME) || e.content.is_empty() {
            return Err(format!("the validity's {what} is not a UTCTime or GeneralizedTime"));
        }
    }
    r.end("validity")
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }`.
fn subject_public_key_info(content: &[u8]) -> Result<(), Why> {
    let mut r = Reader(content);
    let what = "subjectPublicKeyInfo";
    algorithm_identifier(r.expect(SEQUENCE, what, "SEQUENCE (algorithm)")?, what)?;
    bit_string(r.expect(BIT_STRING, what, "BIT STRING (key)")?, what)?;
    r.end(what)
}

/// `[3] EXPLICIT SEQUENCE SIZE (1..MAX) OF SEQUENCE { extnID OID, critical BOOLEAN OPTIONAL, extnValue OCTET STRING }`.
fn extensions(content: &[u8]) -> Result<(), Why> {
    let what = "extensions";
    let mut outer = Reader(content);
    let mut list = Reader(outer.expect(SEQUENCE, what, "SEQUENCE")?);
    outer.end(what)?;
    if list.0.is_empty() {
        return Err("the extensions list is empty".into());
    }
    while !list.0.is_empty() {
        let mut ext = Reader(list.expect(SEQUENCE, what, "SEQUENCE (extension)")?);
        oid(ext.expect(OID, what, "extension OID")?, what)?;
        if ext.peek() != Some(OCTET_STRING) {
            ext.any(what)?; // `critical`
        }
        ext.expect(OCTET_STRING, what, "OCTET STRING (extension value)")?;
        ext.end(what)?;
    }
    Ok(())
}

fn integer(content: &[u8], what: &str) -> Result<(), Why> {
    if content.is_empty() {
        return Err(format!("the {what} is an empty INTEGER"));
    }
    Ok(())
}

fn oid(content: &[u8], what: &str) -> Result<(), Why> {
    // The last byte of an OID ends its last arc: its high bit is clear.
    match content.last() {
        Some(b) if b & 0x80 == 0 => Ok(()),
        _ => Err(format!("the {what} holds a malformed OBJECT IDENTIFIER")),
    }
}

fn bit_string(content: &[u8], what: &str) -> Result<(), Why> {
    match content.first() {
        Some(&unused) if unused <= 7 => Ok(()),
        _ => Err(format!("the {what} is not a well-formed BIT STRING")),
    }
}

/// One DER element.
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
}

/// The elements still to read at one level of nesting.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// The next element, whatever its tag; its length must fit in what is left.
    fn any(&mut self, what: &str) -> Result<Element<'a>, Why> {
        let bytes = self.0;
        let (&tag, rest) = bytes.split_first().ok_or_else(|| format!("the {what} ends early"))?;
        if tag & 0x1f == 0x1f {
            return Err(format!("the {what} uses a multi-byte tag, which no certificate field has"));
        }
        let (&first, rest) = rest.split_first().ok_or_else(|| format!("the {what} has no length"))?;
        let (len, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x80 => return Err(format!("the {what} has an indefinite length (BER, not DER)")),
            _ => {
                let n = usize::from(first & 0x7f);
                if n > 4 || rest.len() < n {
                    return Err(format!("the {what} has a malformed length"));
                }
                let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                (len, &rest[n..])
            }
        };
        if len > rest.len() {
            return Err(format!(
                "the {what} claims {len} byte(s) but only {} follow (truncated?)",
                rest.len()
            ));
        }
        let (content, after) = rest.split_at(len);
        self.0 = after;
        Ok(Element { tag, content })
    }

    /// The next element's content, which must carry `tag`.
    fn expect(&mut self, tag: u8, what: &str, kind: &str) -> Result<&'a [u8], Why> {
        if self.peek() != Some(tag) {
            return Err(format!("the {what} is missing or not a {kind}"));
        }
        self.any(what).map(|e| e.content)
    }

    /// Nothing may be left.
    fn end(&self, what: &str) -> Result<(), Why> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(format!("{n} unexpected byte(s) at the end of the {what}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Test certificates made with OpenSSL (tests/fixtures/certificates/README.md): RSA, EC and
    /// Ed25519, roots, an intermediate and a version 1 certificate.
    const FIXTURES: [(&str, &str); 7] = [
        (
            "rsa-2048-root",
            include_str!("../../../../tests/fixtures/certificates/rsa-2048-root.pem"),
        ),
        (
            "rsa-4096-root",
            include_str!("../../../../tests/fixtures/certificates/rsa-4096-root.pem"),
        ),
        (
            "ec-p256-root",
            include_str!("../../../../tests/fixtures/certificates/ec-p256-root.pem"),
        ),
        (
            "ec-p384-root",
            include_str!("../../../../tests/fixtures/certificates/ec-p384-root.pem"),
        ),
        (
            "ec-p256-intermediate",
            include_str!("../../../../tests/fixtures/certificates/ec-p256-intermediate.pem"),
        ),
        (
            "ec-p256-v1-self-signed",
            include_str!("../../../../tests/fixtures/certificates/ec-p256-v1-self-signed.pem"),
        ),
        (
            "ed25519-root",
            include_str!("../../../../tests/fixtures/certificates/ed25519-root.pem"),
        ),
    ];

    fn ders() -> Vec<(&'static str, Vec<u8>)> {
        FIXTURES
            .iter()
            .map(|(name, pem)| {
                let der = super::super::certificate::decode(pem).unwrap_or_else(|_| panic!("{name}: fixture PEM"));
                (*name, der)
            })
            .collect()
    }

    #[test]
    fn real_certificates_pass() {
        for (name, der) in ders() {
            assert_eq!(check(&der), Ok(()), "{name}");
        }
    }

    #[test]
    fn every_strict_prefix_of_a_real_certificate_fails() {
        for (name, der) in ders() {
            for end in 0..der.len() {
                assert!(check(&der[..end]).is_err(), "{name}: the first {end} of {} bytes pass", der.len());
            }
        }
    }

    #[test]
    fn shapes_that_are_not_certificates_fail() {
        // SEQUENCE { SEQUENCE { INTEGER 1 } }: the 7 bytes of `MAUwAwIBAQ==`, which OpenSSL
        // cannot read as a certificate.
        assert_eq!(
            check(&[0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01]),
            Err("the signatureAlgorithm is missing or not a SEQUENCE".into())
        );
        let (_, der) = &ders()[0];
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(check(&trailing), Err("1 byte(s) follow the certificate".into()));
        assert!(check(&[]).is_err());
        assert!(check(&[0x30, 0x80, 0x00, 0x00]).is_err(), "indefinite length");
        assert!(check(&[0x30, 0x85, 0, 0, 0, 0, 1, 0]).is_err(), "5-byte length");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_bytes_fail_and_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            prop_assert!(check(&bytes).is_err());
        }

        /// Random contents under a well-formed outer SEQUENCE reach the inner checks.
        #[test]
        fn random_contents_of_a_sequence_fail(body in proptest::collection::vec(any::<u8>(), 0..120)) {
            let mut der = vec![SEQUENCE, 0x81, body.len() as u8];
            der.extend(&body);
            prop_assert!(check(&der).is_err());
        }

        /// Damaged real certificates (a byte changed, removed or inserted) never panic; the
        /// verdict may go either way (a changed serial number is still a certificate).
        #[test]
        fn damaged_certificates_never_panic(which in 0usize..7, at in any::<prop::sample::Index>(), byte in any::<u8>(), kind in 0u8..3) {
            let (_, mut der) = ders().swap_remove(which);
            let i = at.index(der.len());
            match kind {
                0 => der[i] = byte,
                1 => { der.remove(i); }
                _ => der.insert(i, byte),
            }
            let _ = check(&der);
            if kind == 1 {
                // One byte fewer always breaks a length somewhere.
                prop_assert!(check(&der).is_err());
            }
        }
    }
}
