//! The console's read-model queries on a large practice, in process (no HTTP): household search
//! (first page and a name search, as a practice manager who sees every household and as a
//! professional who sees their own), the household page's reads, and a year's access report.
//!
//!   cargo bench -p hearth-projections --bench directory
//!
//! HEARTH_BENCH_HOUSEHOLDS (default 100,000): each household is created by one of 24
//! professionals and given three grants spread over a year. Events are decided by the domain and
//! applied to the model exactly as replay does, without a database.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use hearth_domain::roles::Action;
use hearth_projections::HouseholdFilter;
use support::seeded::{seed, Mix, PROFESSIONALS, SURNAMES};

const SAMPLES: usize = 1_000;

fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1]
}

fn report(name: &str, samples: Vec<Duration>) {
    println!(
        "{name:<58} p50 {:>8.3} ms   p99 {:>8.3} ms",
        percentile(samples.clone(), 0.50).as_secs_f64() * 1e3,
        percentile(samples, 0.99).as_secs_f64() * 1e3
    );
}

fn main() {
    let households: usize = std::env::var("HEARTH_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seeding = Instant::now();
    let seeded = seed(households, Mix::ThreeGrants);
    let (practice_id, pm, staff, ids, start) = (
        seeded.practice,
        seeded.manager,
        &seeded.professionals,
        &seeded.households,
        seeded.start,
    );
    println!(
        "{households} households, {} events applied in {:.1} s",
        seeded.model.events_applied(),
        seeding.elapsed().as_secs_f64()
    );
    let m = &seeded.model;
    let now = Utc::now();
    let time = |f: &mut dyn FnMut(usize)| -> Vec<Duration> {
        (0..SAMPLES)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect()
    };
    let all = HouseholdFilter::default();
    report(
        "search, first page (practice manager: every household)",
        time(&mut |_| {
            m.search_households(practice_id, pm, &all, None, 25, now)
                .unwrap();
        }),
    );
    report(
        "search by surname (practice manager)",
        time(&mut |i| {
            let f = HouseholdFilter {
                text: Some(SURNAMES[i % SURNAMES.len()].to_lowercase()),
                ..Default::default()
            };
            m.search_households(practice_id, pm, &f, None, 25, now)
                .unwrap();
        }),
    );
    report(
        "search by email (practice manager, one match)",
        time(&mut |i| {
            let f = HouseholdFilter {
                text: Some(format!("client{}@bench.test", (i * 97) % households)),
                ..Default::default()
            };
            m.search_households(practice_id, pm, &f, None, 25, now)
                .unwrap();
        }),
    );
    report(
        "search, first page (a professional: own and granted)",
        time(&mut |i| {
            m.search_households(practice_id, staff[i % PROFESSIONALS], &all, None, 25, now)
                .unwrap();
        }),
    );
    report(
        "household page reads (team, who has access, history)",
        time(&mut |i| {
            let h = ids[(i * 7919) % ids.len()];
            let view = m.household_in(practice_id, h).unwrap();
            std::hint::black_box(view.state.holders());
            m.check(practice_id, pm, h, Action::ManageAccess, now)
                .unwrap();
            m.staff_with_access(practice_id, h, now).unwrap();
            m.history(practice_id, h).unwrap();
        }),
    );
    let year = Instant::now();
    let r = m.access_report(practice_id, start, now).unwrap();
    println!(
        "access report for the year: {} rows in {:.3} s",
        r.rows.len(),
        year.elapsed().as_secs_f64()
    );
}
