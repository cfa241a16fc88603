//! A minimal Server-Sent Events reader for the change-feed tests: a real HTTP client that reads
//! the stream as it arrives and hands out whole events.

use std::time::Duration;

use serde_json::Value;

pub struct SseEvent {
    pub id: String,
    pub event: String,
    pub data: Value,
}

pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    /// Opens the stream; `last_event_id` resumes as a browser's EventSource does on reconnect.
    pub async fn open(
        client: &reqwest::Client,
        url: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> Result<SseReader, reqwest::Response> {
        let mut req = client
            .get(url)
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let response = req.send().await.expect("the service answers");
        if !response.status().is_success() {
            return Err(response);
        }
        Ok(SseReader {
            response,
            buffer: String::new(),
        })
    }

    /// The next event (comments and keep-alives skipped); `None` when the stream ended or no
    /// event came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim_start().to_string();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim_start().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Some(SseEvent {
                    id,
                    event,
                    data: serde_json::from_str(&data).expect("event data is JSON"),
                });
            }
            let chunk = tokio::time::timeout(wait, self.response.chunk())
                .await
                .ok()?
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
