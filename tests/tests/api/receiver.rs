//! A real HTTP webhook receiver for tests: records every delivery and answers as told — 500, a
//! timeout (it never answers in time) or 200 — so retries and recovery can be watched.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Ok,
    Error,
    Hang,
}

#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub answered: Answer,
}

#[derive(Default)]
struct Inner {
    /// How to answer the n-th request (after the plan: `then`).
    plan: Vec<Answer>,
    then: Option<Answer>,
    got: Vec<Delivery>,
}

#[derive(Clone)]
pub struct Receiver {
    pub address: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Answers the first requests as `plan` says, every later one as `then`.
    pub async fn start(plan: Vec<Answer>, then: Answer) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner {
            plan,
            then: Some(then),
            got: Vec::new(),
        }));
        let app = axum::Router::new()
            .route("/hook", post(take))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { address, inner }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.address.port())
    }

    pub fn answer_from_now(&self, answer: Answer) {
        let mut inner = self.inner.lock().unwrap();
        inner.plan.clear();
        inner.then = Some(answer);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.lock().unwrap().got.clone()
    }

    /// The deliveries it accepted, first acceptance of each id only, in arrival order.
    pub fn accepted(&self) -> Vec<Delivery> {
        let mut seen = std::collections::HashSet::new();
        self.deliveries()
            .into_iter()
            .filter(|d| d.answered == Answer::Ok && seen.insert(d.id.clone()))
            .collect()
    }

    /// Waits until `done` holds for the accepted deliveries (a liveness bound, not a figure).
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[Delivery]) -> bool) {
        for _ in 0..1200 {
            if done(&self.accepted()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{what}: not within 60 s; {} requests, {} accepted",
            self.deliveries().len(),
            self.accepted().len()
        );
    }
}

async fn take(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let answer = {
        let mut inner = inner.lock().unwrap();
        let n = inner.got.len();
        let answer = inner
            .plan
            .get(n)
            .copied()
            .or(inner.then)
            .unwrap_or(Answer::Ok);
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        inner.got.push(Delivery {
            id: header("hearth-delivery"),
            signature: header("hearth-signature"),
            body: body.to_vec(),
            answered: answer,
        });
        answer
    };
    match answer {
        Answer::Ok => StatusCode::OK,
        Answer::Error => StatusCode::INTERNAL_SERVER_ERROR,
        Answer::Hang => {
            // Longer than the test instances' 1 s delivery timeout.
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::OK
        }
    }
}
