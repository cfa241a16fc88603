//! Starts chromedriver and a headless Chromium session. A machine without them fails the test,
//! naming what to install: a browser test that cannot run must not pass.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};

pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

pub async fn start() -> Browser {
    let driver_path =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let port = free_port();
    let driver = Command::new(&driver_path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("could not start chromedriver at {driver_path} ({e}); install Debian's chromium and chromium-driver (scripts/test does) or set CHROMEDRIVER")
        });
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1100"]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last = String::new();
    for _ in 0..100 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Browser { client, driver },
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver at {driver_path} did not start a Chromium session ({chromium}): {last}");
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .text()
            .await
            .expect("its text")
    }

    /// Clicks a link or submit button and waits until the browser has left the page: a click
    /// returns before the navigation it starts, and the old page must not be read as the new.
    pub async fn click(&self, css: &str) {
        let old = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("a page");
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .click()
            .await
            .expect("it clicks");
        for _ in 0..200 {
            if old.tag_name().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {css} did not lead to a new page");
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        el.clear().await.expect("it clears");
        el.send_keys(text).await.expect("it takes keys");
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{css} has no option {value}: {e}"));
    }

    /// Sets an input's value directly (date-time pickers take keys in the locale's order).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![css.into(), value.into()],
            )
            .await
            .expect("the value is set");
    }

    pub async fn body(&self) -> String {
        self.text("body").await
    }

    /// Saves the page as a PNG under docs/ for the README.
    pub async fn screenshot(&self, name: &str) {
        self.client
            .execute("window.scrollTo(0, 0);", vec![])
            .await
            .expect("the page scrolls");
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs")
            .join(format!("console-{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    pub async fn session_cookie(&self) -> String {
        self.client
            .get_named_cookie(hearth_api::console::COOKIE)
            .await
            .expect("the session cookie is set")
            .value()
            .to_string()
    }
}
