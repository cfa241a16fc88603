//! The owner erases a household's personal data from its console page, as a person would.

use crate::{
    browser,
    help_article::sign_in,
    helpers::{spawn_app, Backend},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_erases_a_households_personal_data_from_its_page() {
    let app = spawn_app(Backend::Sqlite).await;
    let (p, _owner, owner_token) = app.practice().await;
    let (_adele, adele_token) = app.staff(p, &owner_token, "professional", "Adele").await;
    let (h, _) = app.household(p, &adele_token, "Quokkafield").await;
    let b = browser::start().await;
    let page = format!("/console/practices/{p}/households/{h}");

    // The owner sees the erasure form, with the practice's retention period.
    sign_in(&b, &app, &owner_token).await;
    b.goto(&app.url(&page)).await;
    assert!(b.text("#personal-data").await.contains("7 years"));

    // Before the retention period, without the override: refused in words, nothing erased.
    b.fill("#erase-reason", "client asked").await;
    b.click("#erase-submit").await;
    let refused = b.body().await;
    assert!(refused.contains("Quokkafield"), "{refused}");
    assert!(refused.contains("override retention"), "{refused}");

    // With the override: the page shows the household erased.
    b.fill("#erase-reason", "client asked; court order").await;
    b.client
        .find(fantoccini::Locator::Css("#erase-override"))
        .await
        .expect("the override box")
        .click()
        .await
        .expect("it ticks");
    b.click("#erase-submit").await;
    let erased = b.body().await;
    assert!(
        erased.contains("[erased]") && erased.contains("Erased on"),
        "{erased}"
    );
    assert!(!erased.contains("Quokkafield"), "{erased}");
    b.screenshot("erasure").await;
    let details = app
        .get(&format!("/v1/practices/{p}/households/{h}"), &owner_token)
        .await;
    assert_eq!(details.body["name"], "[erased]", "{}", details.text);
}
