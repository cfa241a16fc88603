//! Outside witnesses of the log's checkpoints: a file and/or an HTTP endpoint the database's
//! administrators cannot write. A checkpoint that could not be published is kept and sent again
//! on the next round, oldest first, so a witness that was down misses none that were made while
//! it was away (up to `MAX_PENDING`; beyond that the newest are kept — each later checkpoint is
//! provably consistent with the earlier ones, so the newest matter most).

use std::{collections::VecDeque, path::PathBuf, time::Duration};

use hearth_eventstore::Checkpoint;

const MAX_PENDING: usize = 1_000;
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, Default)]
pub struct WitnessSettings {
    /// Each checkpoint is appended here as one JSON line.
    pub file: Option<PathBuf>,
    /// Each checkpoint is POSTed here as JSON (`application/json`); any 2xx is an acceptance.
    pub url: Option<reqwest::Url>,
    /// Sent as `Authorization: Bearer …` to the URL. Never logged.
    pub token: Option<String>,
}

impl WitnessSettings {
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let url = match var("HEARTH_CHECKPOINT_WITNESS_URL") {
            Some(text) => Some(parse_url(text.trim())?),
            None => None,
        };
        Ok(WitnessSettings {
            file: var("HEARTH_CHECKPOINT_WITNESS_FILE").map(PathBuf::from),
            url,
            token: var("HEARTH_CHECKPOINT_WITNESS_TOKEN"),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.url.is_none()
    }
}

/// The operator names the witness: that URL is the only host the publisher talks to. Plain
/// `http` is allowed for a witness on the same host or network the operator controls.
pub fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("HEARTH_CHECKPOINT_WITNESS_URL is not a URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err("HEARTH_CHECKPOINT_WITNESS_URL must be an http(s) URL with a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "HEARTH_CHECKPOINT_WITNESS_URL must not carry credentials: use HEARTH_CHECKPOINT_WITNESS_TOKEN"
                .into(),
        );
    }
    Ok(url)
}

pub struct Witness {
    settings: WitnessSettings,
    http: reqwest::Client,
    /// Checkpoints the URL has not accepted yet, oldest first.
    pending: VecDeque<Checkpoint>,
}

impl Witness {
    pub fn new(settings: WitnessSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Witness {
            settings,
            http,
            pending: VecDeque::new(),
        }
    }

    /// Publishes a new checkpoint to every witness configured.
    pub async fn publish(&mut self, checkpoint: &Checkpoint) {
        if let Some(path) = &self.settings.file {
            if let Err(e) = append_line(path, checkpoint) {
                tracing::error!(error = %e, path = %path.display(), "cannot publish the checkpoint to the witness file");
            }
        }
        if self.settings.url.is_some() {
            if self.pending.len() == MAX_PENDING {
                self.pending.pop_front();
            }
            self.pending.push_back(checkpoint.clone());
            self.flush().await;
        }
    }

    /// Sends what the URL has not accepted yet, oldest first; stops at the first failure.
    pub async fn flush(&mut self) {
        let Some(url) = self.settings.url.clone() else {
            return;
        };
        while let Some(checkpoint) = self.pending.front() {
            let mut request = self.http.post(url.clone()).json(checkpoint);
            if let Some(token) = &self.settings.token {
                request = request.bearer_auth(token);
            }
            let size = checkpoint.tree_size;
            match request.send().await {
                Ok(r) if r.status().is_success() => {
                    self.pending.pop_front();
                }
                Ok(r) => {
                    tracing::warn!(status = %r.status(), tree_size = size, pending = self.pending.len(), "the checkpoint witness refused the checkpoint; will retry");
                    return;
                }
                Err(e) => {
                    // reqwest names the URL in its errors; the path may be a secret.
                    tracing::warn!(error = %e.without_url(), tree_size = size, pending = self.pending.len(), "cannot reach the checkpoint witness; will retry");
                    return;
                }
            }
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

fn append_line(path: &std::path::Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    use std::io::Write;
    let line = serde_json::to_string(checkpoint)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{line}")
}
