//! A real browser for the browser stories: headless Debian Chromium driven over WebDriver
//! (`chromedriver`), with a fresh profile each time. Screenshots go to
//! `target/screenshots/` under the workspace root, for a reviewer to look at.
//!
//! When `/usr/bin/chromedriver` or `/usr/bin/chromium` is absent, [`Browser::start`] prints a
//! notice and answers `None`: the story is skipped (`apt-get install chromium chromium-driver`).
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

/// `target/screenshots/<sub>` under the workspace root, created.
pub fn screenshots_dir(sub: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/screenshots")
        .join(sub);
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
