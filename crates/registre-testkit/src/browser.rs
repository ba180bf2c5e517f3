//! A real browser for the browser stories: headless Debian Chromium driven over WebDriver
//! (`chromedriver`), with a fresh profile each time. Screenshots go to
//! `target/screenshots/` under the workspace root, for a reviewer to look at.
//!
//! When `/usr/bin/chromedriver` or `/usr/bin/chromium` is absent, [`Browser::start`] prints a
//! notice and answers `None`: the story is skipped (`apt-get install chromium chromium-driver`),
//! unless `REGISTRE_REQUIRE_BROWSER=1` (CI sets it, as `scripts/test.sh` does), where it fails.
//!
//! [`Axe`] runs axe-core (`axe.min.js` from the npm registry; `scripts/test.sh` installs it and
//! names it in `REGISTRE_AXE_JS`) in the page, and [`PageCheck`] takes a page at desktop and
//! phone width: a screenshot of each, no horizontal overflow, no serious axe violation.
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process and one browser session on it; both end when this is dropped or
/// [`Browser::run`] returns.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// A headless Chromium speaking `language` first (`fr-FR`, `en-GB`...), or `None` with a
    /// notice when Chromium is not installed.
    pub async fn start(language: &str) -> Option<Self> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            if required("REGISTRE_REQUIRE_BROWSER") {
                panic!(
                    "{CHROMEDRIVER} or {CHROMIUM} is absent and REGISTRE_REQUIRE_BROWSER=1 (apt-get install chromium chromium-driver)"
                );
            }
            eprintln!(
                "NOTICE: {CHROMEDRIVER} or {CHROMIUM} is absent; skipping this browser test (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("a browser profile");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--lang={language}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        // chromedriver listens on localhost over plain HTTP: no TLS stack needed.
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        Some(Self {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Ends the browser session (the driver stops on drop).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Runs `story` with the browser, closes the browser however the story ends, and fails
    /// the test with the story's own panic.
    pub async fn run<F, Fut>(self, story: F)
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let outcome = tokio::spawn(story(self.client.clone())).await;
        let _ = self.client.clone().close().await;
        if let Err(failure) = outcome {
            std::panic::resume_unwind(failure.into_panic());
        }
    }
}

/// Whether the environment variable `name` asks for a tool to be there (`1`, `true`).
fn required(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// `target/screenshots/<sub>` under the workspace root, created, or under
/// `REGISTRE_SCREENSHOTS_DIR` when it is set (CI keeps that directory as an artefact).
pub fn screenshots_dir(sub: &str) -> PathBuf {
    let root = std::env::var_os("REGISTRE_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"));
    let dir = root.join(sub);
    std::fs::create_dir_all(&dir).expect("the screenshots directory");
    dir.canonicalize().expect("the screenshots directory")
}

/// A screenshot of the whole page at `width`: the window is grown to the document's height.
pub async fn screenshot(client: &Client, width: u32, path: &Path) {
    client.set_window_size(width, 900).await.expect("resize");
    let height = client
        .execute(
            "return Math.ceil(document.documentElement.scrollHeight)",
            vec![],
        )
        .await
        .expect("the page's height");
    let height = height.as_u64().unwrap_or(1600).clamp(600, 8000) as u32;
    // The window's outer size includes the browser's frame; headless has little of it.
    client
        .set_window_size(width, height + 160)
        .await
        .expect("resize");
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(path, png).expect("write the screenshot");
}

/// Clicks the element `css` names.
///
/// When the element is a link or a submit button, waits until the page it leads to has
/// replaced this one and loaded: WebDriver's click may return while a form's request is
/// still on its way (seen on a loaded machine, where the next assertion then read the old
/// page).
pub async fn click(client: &Client, css: &str) {
    let element = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    let before = if leads_to_a_page(&element).await {
        client.find(Locator::Css("html")).await.ok()
    } else {
        None
    };
    element
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
    if let Some(before) = before {
        wait_for_next_page(client, before).await;
    }
}

/// Longest wait for the page a click leads to. Past it the test goes on, and its next
/// assertion says what it sees (a form the browser's own validation held back stays put).
const NAVIGATION_WAIT: Duration = Duration::from_secs(15);

async fn leads_to_a_page(element: &fantoccini::elements::Element) -> bool {
    let kind = element.attr("type").await.ok().flatten();
    match element.tag_name().await.ok().as_deref() {
        Some("a") => true,
        Some("button") => kind.is_none_or(|t| t.eq_ignore_ascii_case("submit")),
        Some("input") => kind.is_some_and(|t| t.eq_ignore_ascii_case("submit")),
        _ => false,
    }
}

/// Waits until `before` (the old page's root) is gone, then until the new page has loaded.
async fn wait_for_next_page(client: &Client, before: fantoccini::elements::Element) {
    let deadline = std::time::Instant::now() + NAVIGATION_WAIT;
    // An element of a document that was replaced answers "stale element reference".
    while before.tag_name().await.is_ok() {
        if std::time::Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    while std::time::Instant::now() < deadline {
        let state = client
            .execute("return document.readyState", vec![])
            .await
            .ok();
        if state.as_ref().and_then(|s| s.as_str()) == Some("complete") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Types `text` into the element `css` names.
pub async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// The text of the element `css` names, once it exists.
pub async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("text of {css}: {e}"))
}

/// The path and query of the link to `path` in a raw email (quoted-printable folding undone).
pub fn mail_link(mail: &str, path: &str) -> String {
    let unfolded = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = unfolded
        .find(&format!("{path}?token="))
        .unwrap_or_else(|| panic!("no {path} link in the mail"));
    unfolded[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/?=._-".contains(*c))
        .collect()
}

/// axe-core's `axe.min.js`, to inject into pages under test.
pub struct Axe {
    source: String,
}

impl Axe {
    /// `axe.min.js` from `REGISTRE_AXE_JS`, else from the npm cache `scripts/test.sh` fills
    /// (`target/npm/node_modules/axe-core/`). `None`, with a notice, when neither is there,
    /// unless `REGISTRE_REQUIRE_BROWSER=1`, where it fails.
    pub fn load() -> Option<Self> {
        let path = std::env::var_os("REGISTRE_AXE_JS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../target/npm/node_modules/axe-core/axe.min.js")
            });
        match std::fs::read_to_string(&path) {
            Ok(source) => Some(Self { source }),
            Err(error) => {
                if required("REGISTRE_REQUIRE_BROWSER") {
                    panic!(
                        "axe-core is missing at {} ({error}) and REGISTRE_REQUIRE_BROWSER=1 (npm install axe-core)",
                        path.display()
                    );
                }
                eprintln!(
                    "NOTICE: axe-core is missing at {} ({error}); skipping the accessibility checks (npm install axe-core, or set REGISTRE_AXE_JS)",
                    path.display()
                );
                None
            }
        }
    }

    /// The violations of impact `serious` or `critical` on the page the browser shows, each
    /// as one line: the rule, its help and the elements it names.
    pub async fn serious_violations(&self, client: &Client) -> Vec<String> {
        // Injected through WebDriver, which the page's CSP (no script at all) does not govern.
        client
            .execute(
                &format!("{}\n;window.axe = axe; return true;", self.source),
                vec![],
            )
            .await
            .expect("inject axe-core");
        let result = client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {resultTypes: ['violations']})\
                   .then(r => done(r.violations\
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')\
                     .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' [' +\
                        v.nodes.slice(0, 5).map(n => n.target.join(' ') + (n.failureSummary ? ' (' + n.failureSummary.replace(/\\s+/g, ' ') + ')' : '')).join('; ') + ']')))\
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        result
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_else(|| vec![format!("axe answered {result}")])
    }
}

/// The widths every page is taken at: a desktop and a phone (an iPhone 12 to 15 is 390 px).
pub const WIDTHS: [u32; 2] = [1280, 390];

/// Takes pages at each of [`WIDTHS`] and gathers what is wrong with them, so that one run
/// reports every problem of every page.
pub struct PageCheck {
    pub dir: PathBuf,
    pub axe: Option<Axe>,
    pub problems: Vec<String>,
    pub pages: usize,
}

impl PageCheck {
    /// Screenshots go to [`screenshots_dir`]`(sub)`.
    pub fn new(sub: &str) -> Self {
        let dir = screenshots_dir(sub);
        eprintln!("screenshots: {}", dir.display());
        Self {
            dir,
            axe: Axe::load(),
            problems: Vec::new(),
            pages: 0,
        }
    }

    /// The page the browser shows, named `name`: at each width a screenshot
    /// (`<name>-<width>.png`), the overflow check and axe-core.
    pub async fn page(&mut self, client: &Client, name: &str) {
        self.pages += 1;
        let url = client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        for width in WIDTHS {
            screenshot(client, width, &self.dir.join(format!("{name}-{width}.png"))).await;
            let overflow = client
                .execute(
                    "const w = window.innerWidth;\
                     const wide = Array.from(document.querySelectorAll('body *'))\
                       .filter(e => { const r = e.getBoundingClientRect(); return r.right > w + 1 && r.width > 0; })\
                       .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : ''));\
                     return {scroll: document.documentElement.scrollWidth, inner: w, wide: wide};",
                    vec![],
                )
                .await
                .expect("measure the page");
            let scroll = overflow["scroll"].as_u64().unwrap_or(0);
            let inner = overflow["inner"].as_u64().unwrap_or(0);
            if inner != u64::from(width) {
                self.problems.push(format!(
                    "{name} at {width} px: the window is {inner} px wide"
                ));
            }
            if scroll > inner {
                self.problems.push(format!(
                    "{name} at {width} px ({url}): overflows horizontally ({scroll} > {inner}): {}",
                    overflow["wide"]
                ));
            }
            if let Some(axe) = &self.axe {
                for violation in axe.serious_violations(client).await {
                    self.problems
                        .push(format!("{name} at {width} px ({url}): {violation}"));
                }
            }
        }
        client
            .set_window_size(WIDTHS[0], 1000)
            .await
            .expect("resize");
    }

    /// Fails with every problem found, one a line.
    pub fn assert_clean(&self) {
        eprintln!(
            "{} pages checked at {:?} px; screenshots in {}",
            self.pages,
            WIDTHS,
            self.dir.display()
        );
        assert!(
            self.problems.is_empty(),
            "{} problems:\n{}",
            self.problems.len(),
            self.problems.join("\n")
        );
    }
}
