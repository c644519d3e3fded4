//! review.html in a real browser: headless Chromium (Debian's `chromium`; .ci/run installs it)
//! loads the page from disk, the DOM it built has the diagram's nodes and the table's rows, a
//! screenshot is taken, and the console shows no errors, in particular no refused network access
//! (the page's Content-Security-Policy refuses every load, so any attempt would be logged).
//! Without a browser the test says so and passes, unless ISENET_REQUIRE_BROWSER is set (CI sets it).

use crate::common::Scratch;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("ISENET_CHROMIUM").unwrap_or_default(),
        "chromium".into(),
        "chromium-browser".into(),
    ];
    candidates.into_iter().filter(|c| !c.is_empty()).find_map(|c| {
        let ok = Command::new(&c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| PathBuf::from(c))
    })
}

fn scratch(name: &str) -> Scratch {
    crate::common::scratch("browser", name)
}

/// Runs headless Chromium on a file with `extra` flags; returns (stdout, stderr).
fn run_browser(browser: &Path, page: &Path, extra: &[String], profile: &Path) -> (String, String) {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        // Files, not pipes: a large DOM would fill a pipe nobody reads while we wait.
        .stdout(std::fs::File::create(profile.with_extension("out")).unwrap())
        .stderr(std::fs::File::create(profile.with_extension("err")).unwrap())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let read = |ext| String::from_utf8_lossy(&std::fs::read(profile.with_extension(ext)).unwrap()).into_owned();
    (read("out"), read("err"))
}

/// Console messages the page caused: errors, CSP refusals, uncaught exceptions.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Refused to") || l.contains("Content Security Policy"))
        .collect()
}

#[test]
fn review_html_renders_in_headless_chromium_with_its_diagram_and_table_and_no_console_errors() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("ISENET_REQUIRE_BROWSER").is_none(),
            "ISENET_REQUIRE_BROWSER is set but no chromium was found"
        );
        eprintln!("browser test skipped: no chromium (apt-get install chromium)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/golden")
        .canonicalize()
        .unwrap();
    let dir = scratch("pages");

    // The detector works: a page whose CSP refuses an image load is reported.
    let control = dir.join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head><body><img src=\"http://192.0.2.1/x.png\"></body></html>",
    )
    .unwrap();
    let (_, stderr) = run_browser(&browser, &control, &["--dump-dom".into()], &dir.join("profile-control"));
    assert!(
        !console_errors(&stderr).is_empty(),
        "the refused load of the control page was not seen:\n{stderr}"
    );

    for case in ["usgov-firewall", "public-external-restricted"] {
        let out = dir.join(case);
        let o = Command::new(env!("CARGO_BIN_EXE_isenet"))
            .args(["compile", "--env"])
            .arg(root.join(case).join("env.json"))
            .arg("--out-dir")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let csv_rows = csv::Reader::from_path(out.join("review.csv")).unwrap().records().count();
        let page = out.join("review.html");

        let (dom, stderr) = run_browser(&browser, &page, &["--dump-dom".into()], &dir.join(format!("profile-dom-{case}")));
        assert!(
            console_errors(&stderr).is_empty(),
            "{case}: console errors:\n{}",
            console_errors(&stderr).join("\n")
        );
        // The DOM the browser built (not the file): the table has one row per review.csv row, the
        // diagram one node per group plus the four subnets and one path per flow.
        let body = dom
            .split("<tbody>")
            .nth(1)
            .and_then(|t| t.split("</tbody>").next())
            .expect("table body in the DOM");
        assert_eq!(body.matches("<tr ").count(), csv_rows, "{case}");
        let svg = std::fs::read_to_string(out.join("flows.svg")).unwrap();
        let nodes = svg.matches("<g class=\"node ").count();
        assert!(nodes > 4);
        assert_eq!(dom.matches("<g class=\"node ").count(), nodes, "{case}");
        assert_eq!(
            dom.matches("class=\"edge\"").count(),
            svg.matches("class=\"edge\"").count(),
            "{case}"
        );
        assert!(dom.contains("<h2>Summary</h2>") && dom.contains("id=\"rule-table\""));

        let shot = dir.join(format!("{case}.png"));
        let (_, stderr) = run_browser(
            &browser,
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1600,1400".into(),
                "--hide-scrollbars".into(),
            ],
            &dir.join(format!("profile-shot-{case}")),
        );
        assert!(console_errors(&stderr).is_empty(), "{case}: console errors:\n{stderr}");
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{case}: no screenshot: {e}\n{stderr}"));
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // A blank page compresses to a few KB; the diagram and table do not.
        assert!(png.len() > 40_000, "{case}: screenshot of {} bytes looks blank", png.len());
        if let Some(keep) = std::env::var_os("ISENET_KEEP_SCREENSHOTS") {
            std::fs::copy(&shot, Path::new(&keep).join(format!("{case}.png"))).unwrap();
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
