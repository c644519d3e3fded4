//! Structured fuzzing of the service-tag loader (the `--service-tags FILE` path) through its public
//! API, `ServiceTags::parse` and what callers do with a loaded file. Inputs are mutations of real
//! files: the first tags of the embedded China weekly download and the `az network
//! list-service-tags` fixture. The contract for every input: no panic, an answer within the
//! deadline, and either a valid load (every tag's prefixes decode) or one registered tag-file code.
//! Exhaustive where the domain is small (every truncation and every one-byte deletion of the az
//! fixture), a fixed-seed proptest elsewhere so the run is the same every time.
//! (The byte-level path, non-UTF-8 and BOM files, runs through the binary: tests/e2e/tag_files.rs.)

use ise_model::cloud::CloudId;
use ise_model::codes;
use ise_model::servicetags::ServiceTags;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{json, Value};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

const AZ: &str = include_str!("../../../tests/fixtures/servicetags/az-list-service-tags.json");

/// The codes a tag file may get: reading (size, nesting, duplicate keys, too long/many) and shape.
const TAG_FILE_CODES: &[&str] = &[
    codes::E_DUPLICATE_KEY,
    codes::E_TOO_LARGE,
    codes::E_NESTING,
    codes::E_TOO_LONG,
    codes::E_TOO_MANY,
    codes::E_TAGS_SYNTAX,
    codes::E_TAGS_DUPLICATE,
];

/// A real weekly download cut to its first 25 tags, so a case parses in microseconds.
fn weekly() -> Value {
    let mut doc: Value = serde_json::from_str(ise_model::data::SERVICE_TAGS_CHINA).unwrap();
    doc["values"].as_array_mut().unwrap().truncate(25);
    doc
}

fn az() -> Value {
    serde_json::from_str(AZ).unwrap()
}

/// What a load came to: the tag count, or the code.
type Outcome = Result<usize, &'static str>;

/// Parses on a thread with a deadline and checks the contract; a hang or a panic fails the case.
fn load(text: String) -> Result<Outcome, TestCaseError> {
    let (tx, rx) = channel();
    let shown: String = text.chars().take(300).collect();
    std::thread::spawn(move || {
        // The one-pass fast path and the strict path give the same answer, error for error.
        let strict = ServiceTags::parse_strict(&text);
        let parsed = ServiceTags::parse(&text);
        match (&parsed, &strict) {
            (Ok(a), Ok(b)) if a.cloud == b.cloud && a.change_number == b.change_number && a.tags() == b.tags() => {}
            (Err(a), Err(b)) if a == b => {}
            (a, b) => {
                let _ = tx.send(Err(format!(
                    "parse and parse_strict differ: {:?} vs {:?}",
                    a.as_ref().err(),
                    b.as_ref().err()
                )));
                return;
            }
        }
        let outcome = match parsed {
            Ok(tags) => {
                // What callers do with a loaded file must not panic either.
                let mut n = 0;
                for name in tags.names() {
                    let entry = tags.get(name).expect("a listed tag");
                    let _ = (entry.aggregated_ipv4(), entry.aggregated_ipv6());
                    n += 1;
                }
                let _ = (tags.cloud_id(), tags.check_cloud(CloudId::Public), tags.suggest("Storag"));
                Ok(n)
            }
            Err(d) => Err((d.code, d.message.is_empty())),
        };
        let _ = tx.send(Ok(outcome));
    });
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(Err(mismatch)) => Err(TestCaseError::fail(format!("{mismatch}: {shown}"))),
        Ok(Ok(Ok(n))) => Ok(Ok(n)),
        Ok(Ok(Err((code, empty_message)))) => {
            prop_assert!(TAG_FILE_CODES.contains(&code), "code {code} is not a tag-file code: {shown}");
            prop_assert!(!empty_message, "{code} without a message");
            Ok(Err(code))
        }
        Err(RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!("no answer within 5 s: {shown}"))),
        Err(RecvTimeoutError::Disconnected) => Err(TestCaseError::fail(format!("panicked: {shown}"))),
    }
}

fn must(outcome: Result<Outcome, TestCaseError>) -> Outcome {
    outcome.unwrap_or_else(|e| panic!("{e}"))
}

/// Every JSON pointer of a document.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| pointers(c, format!("{at}/{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

#[test]
fn the_seeds_load() {
    assert_eq!(must(load(weekly().to_string())), Ok(25));
    assert_eq!(must(load(AZ.to_string())), Ok(2));
    // A byte-order mark (PowerShell's `az ... > file`) changes nothing.
    assert_eq!(must(load(format!("\u{feff}{AZ}"))), Ok(2));
}

#[test]
fn every_truncation_of_the_az_output_is_refused() {
    let body = AZ.trim_end();
    for (cut, _) in body.char_indices() {
        let outcome = must(load(body[..cut].to_string()));
        assert_eq!(outcome, Err(codes::E_TAGS_SYNTAX), "cut at byte {cut}");
    }
}

#[test]
fn every_one_byte_deletion_of_the_az_output_is_handled() {
    let mut refused = 0;
    for (at, c) in AZ.char_indices() {
        let mut text = AZ.to_string();
        text.replace_range(at..at + c.len_utf8(), "");
        refused += usize::from(must(load(text)).is_err());
    }
    // Deleting whitespace or a letter inside a free-text value keeps a valid file; most deletions break it.
    assert!(refused > AZ.len() / 4, "{refused}");
}

/// JSON values of every type, including long and odd strings and large numbers.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "10.0.0.0/33",
            "999.1.1.1/8",
            "1.2.3.4/-1",
            "10.0.0.0/8 ",
            " 10.0.0.0/8",
            "2603:1030::/129",
            "::g/64",
            "10.0.0.0//8",
            "",
            "*",
            "Storage",
            "\u{202e}10.0.0.0/8",
            "１０.0.0.0/8",
        ])
        .prop_map(|s| json!(s)),
        (1usize..200_000).prop_map(|n| json!("x".repeat(n))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Raw text that serde_json's values cannot express: huge and odd numbers, deep nesting.
fn raw_token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "1e999999",
            "-1e999999",
            "123456789012345678901234567890",
            "-0",
            "0.0000000001",
            "1E2",
            "01",
            "+1",
            "NaN",
            "Infinity",
            "0x10",
            "\"\\ud800\"",
            "\"\\u0000\"",
            "true",
            "nul",
        ])
        .prop_map(String::from),
        (1usize..200).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d))),
        (1usize..200).prop_map(|d| format!("{}1{}", "{\"a\":".repeat(d), "}".repeat(d))),
    ]
}

fn seed(az_form: bool) -> Value {
    if az_form {
        az()
    } else {
        weekly()
    }
}

fn config() -> Config {
    // Fixed seed and budget: the run is the same every time; no regression files are written.
    Config {
        cases: 300,
        rng_seed: RngSeed::Fixed(0x7a9_2026),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Type swaps, long and odd strings, invalid prefixes, huge numbers: any value replaced.
    #[test]
    fn replaced_values(az_form in any::<bool>(), target in any::<prop::sample::Index>(), replacement in arb_json()) {
        let mut doc = seed(az_form);
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        *doc.pointer_mut(&target.get(&all).clone()).unwrap() = replacement;
        let _ = load(serde_json::to_string_pretty(&doc).unwrap())?;
    }

    /// Deleted and added keys.
    #[test]
    fn removed_and_added_keys(az_form in any::<bool>(), target in any::<prop::sample::Index>(), key in "[a-zA-Z]{1,16}", value in arb_json(), remove in any::<bool>()) {
        let mut doc = seed(az_form);
        let mut objects = Vec::new();
        pointers(&doc, String::new(), &mut objects);
        objects.retain(|p| doc.pointer(p).is_some_and(Value::is_object));
        let map = doc.pointer_mut(&target.get(&objects).clone()).and_then(Value::as_object_mut).unwrap();
        if remove && !map.is_empty() {
            let k = map.keys().nth(key.len() % map.len()).cloned().unwrap();
            map.remove(&k);
        } else {
            map.insert(key, value);
        }
        let _ = load(doc.to_string())?;
    }

    /// Raw tokens and deep nesting in place of a value, in the text.
    #[test]
    fn raw_tokens(az_form in any::<bool>(), target in any::<prop::sample::Index>(), token in raw_token()) {
        let mut doc = seed(az_form);
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        all.retain(|p| !p.is_empty());
        *doc.pointer_mut(&target.get(&all).clone()).unwrap() = json!("\u{1}MARK\u{1}");
        let text = doc.to_string().replacen("\"\\u0001MARK\\u0001\"", &token, 1);
        prop_assert!(text.contains(&token));
        let _ = load(text)?;
    }

    /// A key written twice in one object: always refused (Azure's files never repeat a key).
    #[test]
    fn duplicate_keys(az_form in any::<bool>(), target in any::<prop::sample::Index>(), value in arb_json()) {
        let doc = seed(az_form);
        let text = serde_json::to_string_pretty(&doc).unwrap();
        // Every `"key": ` of the text; the chosen one gets a twin before it.
        let keys: Vec<usize> = text.match_indices("\": ").map(|(i, _)| text[..i].rfind('"').unwrap()).collect();
        let at = *target.get(&keys);
        let key_end = at + text[at + 1..].find('"').unwrap() + 2;
        let twin = format!("{}: {}, ", &text[at..key_end], value);
        let mutated = format!("{}{twin}{}", &text[..at], &text[at..]);
        prop_assert_eq!(load(mutated)?, Err(codes::E_DUPLICATE_KEY));
    }

    /// Truncation at a byte of each class (structure, quote, escape, digit, letter, space).
    #[test]
    fn truncation_at_each_byte_class(az_form in any::<bool>(), class in 0usize..6, at in any::<prop::sample::Index>()) {
        let text = serde_json::to_string_pretty(&seed(az_form)).unwrap();
        let in_class = |b: u8| match class {
            0 => b"{}[],:".contains(&b),
            1 => b == b'"',
            2 => b == b'\\' || b == b'/',
            3 => b.is_ascii_digit() || b == b'.',
            4 => b.is_ascii_alphabetic(),
            _ => b.is_ascii_whitespace(),
        };
        let cuts: Vec<usize> = text.bytes().enumerate().filter(|&(_, b)| in_class(b)).map(|(i, _)| i).collect();
        prop_assume!(!cuts.is_empty());
        let cut = *at.get(&cuts);
        prop_assert_eq!(load(text[..cut].to_string())?, Err(codes::E_TAGS_SYNTAX));
    }
}
