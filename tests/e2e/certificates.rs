//! Custom root certificates end to end: whichever form the environment gives (PEM text, base64 of
//! PEM text, base64 of DER), `ise-request.json` and `.http` send base64 of the PEM text, the form
//! of seed 000's example (`"publicCertificate": "LS0tLS1CRUdJTiBDRV..."`), and OpenSSL reads it back
//! as a certificate; the template, Bicep and parameters carry no certificate at all.

use crate::common::{self, isenet};
use serde_json::Value;
use std::process::{Command, Stdio};

/// The PEM text a certificate of the environment stands for, read from the environment alone.
fn expected_pem(given: &str) -> String {
    if given.starts_with("-----BEGIN CERTIFICATE-----") {
        return given.to_string();
    }
    let bytes = common::base64_decode(given).expect("the fixture's value is base64");
    match String::from_utf8(bytes) {
        Ok(text) if text.starts_with("-----BEGIN CERTIFICATE-----") => text,
        _ => common::pem_of_base64_der(given),
    }
}

/// The subject OpenSSL reads from a PEM text, or `None` when OpenSSL is not installed.
fn openssl_subject(pem: &str) -> Option<Result<String, String>> {
    let mut child = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write;
    child.stdin.take().unwrap().write_all(pem.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Some(if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

#[test]
fn every_form_is_sent_as_base64_of_the_pem_text() {
    let env_path = common::envs_dir().join("multi-space-named-resources-pem.json");
    let env: Value = serde_json::from_str(&std::fs::read_to_string(&env_path).unwrap()).unwrap();
    let mut certs: Vec<(String, String)> = env["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["publicCertificate"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The sample gives PEM text and base64 of PEM text; a copy gives a test certificate's DER in
    // base64 (the body of OpenSSL's PEM file, joined), whose PEM text is that file.
    let fixture = std::fs::read_to_string(common::workspace().join("tests/fixtures/certificates/rsa-2048-root.pem")).unwrap();
    let der_given: String = fixture.lines().filter(|l| !l.starts_with("-----")).collect();
    assert_eq!(expected_pem(&der_given), fixture);
    assert!(certs[0].1.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(certs[1].1.starts_with("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"));
    let mut with_der = env.clone();
    with_der["certificates"][1]["publicCertificate"] = der_given.clone().into();
    certs.push(("corp-issuing.ca (base64 of DER)".into(), der_given));

    let dir = super::pipeline::tempdir("certificates");
    let der_path = dir.join("der.json");
    std::fs::write(&der_path, with_der.to_string()).unwrap();
    for (file, out, index) in [(env_path.clone(), dir.join("pem"), [0, 1]), (der_path, dir.join("der"), [0, 2])] {
        let run = isenet(&["compile", "--env", file.to_str().unwrap(), "--out-dir", out.to_str().unwrap(), "-q"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let request: Value = serde_json::from_str(&std::fs::read_to_string(out.join("ise-request.json")).unwrap()).unwrap();
        let http = std::fs::read_to_string(out.join("ise-request.http")).unwrap();
        for (slot, i) in index.iter().enumerate() {
            let (label, given) = &certs[*i];
            let name = env["certificates"][slot]["name"].as_str().unwrap();
            let sent = request["properties"]["certificates"][name]["publicCertificate"]
                .as_str()
                .unwrap_or_else(|| panic!("{label}: no publicCertificate in ise-request.json"));
            // Seed 000's example value starts with base64 of `-----BEGIN CE`.
            assert!(sent.starts_with("LS0tLS1CRUdJTiBDRV"), "{label}: {sent}");
            let pem = String::from_utf8(common::base64_decode(sent).expect("base64")).expect("PEM text");
            assert_eq!(pem, expected_pem(given), "{label}");
            // The PATCH and PUT of the .http file send the same value.
            assert_eq!(http.matches(&format!("\"publicCertificate\": \"{sent}\"")).count(), 2, "{label}");
            if let Some(subject) = openssl_subject(&pem) {
                let subject = subject.unwrap_or_else(|e| panic!("{label}: OpenSSL cannot read the sent certificate: {e}"));
                assert!(subject.contains("CN="), "{label}: {subject}");
            }
        }
        assert!(!http.contains("BEGIN CERTIFICATE"), "no PEM text verbatim in the .http file");
        // The typed ISE resource has no certificates property: the deployable forms carry none.
        for f in [
            "azuredeploy.json",
            "azuredeploy.parameters.json",
            "main.bicep",
            "main.bicepparam",
            "modules/ise.bicep",
        ] {
            let text = std::fs::read_to_string(out.join(f)).unwrap();
            assert!(!text.contains("publicCertificate") && !text.contains("BEGIN CERTIFICATE"), "{f}");
            assert!(!text.contains("LS0tLS1CRUdJTiBDRV") && !text.contains("MII"), "{f}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_sample_certificates_are_certificates_openssl_reads() {
    // The shipped samples and the example must hold real (test) certificates, not DER look-alikes.
    let mut files = common::json_files(&common::envs_dir());
    files.push(common::workspace().join("data/example-environment.json"));
    for file in files {
        let env: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for c in env["certificates"].as_array().into_iter().flatten() {
            let pem = expected_pem(c["publicCertificate"].as_str().unwrap());
            if let Some(subject) = openssl_subject(&pem) {
                assert!(subject.is_ok(), "{}: {}: {subject:?}", file.display(), c["name"]);
            }
        }
    }
}
