//! The console in a real browser: headless Chromium driven over WebDriver (Debian's `chromium`
//! and `chromium-driver`) against the real service, plus the console's HTTP contracts.

#[path = "../api/helpers.rs"]
mod helpers;

mod browser;
mod erasure;
mod forms;
mod help_article;
