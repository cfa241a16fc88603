//! Read-your-writes with `at_least`, across two instances on one PostgreSQL database.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_on, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_instance_is_read_through_another_with_at_least() {
    let a = spawn_app(Backend::Postgres).await;
    let b = spawn_on(&a.database_url).await;
    let (p, _, owner) = a.practice().await;
    let (adviser, adviser_token) = a.staff(p, &owner, "professional", "adviser").await;
    for round in 0..10 {
        let (h, position) = a
            .household(p, &adviser_token, &format!("Round{round}"))
            .await;
        let r = b
            .get(
                &format!("/v1/practices/{p}/households/{h}/access/{adviser}?at_least={position}"),
                &adviser_token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["allowed"], json!(true), "round {round}: {}", r.text);
    }
}
