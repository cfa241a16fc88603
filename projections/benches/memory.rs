//! Where the access model's memory goes: the bytes it holds live, in all and by part, on the
//! HTTP bench's workload (each household created, given six grants, two role changes and one
//! revocation), built in process as replay builds it.
//!
//!   cargo bench -p hearth-projections --bench memory
//!
//! HEARTH_BENCH_HOUSEHOLDS (default 100,000). The figures are bytes asked of the allocator and
//! still held (a counting allocator around the system's), so they leave out the allocator's own
//! overhead and fragmentation, which the service's resident memory includes. Parts are measured
//! by taking them out of the model one after the other and counting what that frees.

mod support;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicIsize, Ordering},
};

use hearth_projections::AccessModel;
use support::seeded::{seed, Mix};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let households: usize = std::env::var("HEARTH_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let before = live();
    let mut seeded = seed(households, Mix::HttpBench);
    drop(std::mem::take(&mut seeded.households));
    let replayed = live() - before;
    let snapshot = hearth_projections::snapshot::encode(&seeded.model).expect("encode");
    let before = live();
    let (_, loaded) = hearth_projections::snapshot::decode(&snapshot).expect("decode");
    let from_snapshot = live() - before;
    println!(
        "snapshot of the model: {:.1} MiB",
        mib(snapshot.len() as isize)
    );
    drop(snapshot);
    breakdown("as replay built it", seeded.model, replayed, households);
    breakdown(
        "as loaded from its snapshot",
        loaded,
        from_snapshot,
        households,
    );
}

/// Prints the model's total and what each part of it holds, taking the parts out one by one.
fn breakdown(how: &str, mut model: AccessModel, total: isize, households: usize) {
    let events = model.events_applied();
    println!(
        "{households} households, {events} events, {how}: the model holds {:.1} MiB ({:.0} bytes per household, {:.0} per event)",
        mib(total),
        total as f64 / households as f64,
        total as f64 / events as f64
    );
    let mut parts: Vec<(&str, isize)> = Vec::new();
    let mut take = |name: &'static str, f: &mut dyn FnMut(&mut AccessModel)| {
        let at = live();
        f(&mut model);
        parts.push((name, at - live()));
    };
    take("practices' change lists (the change feed)", &mut |m| {
        for p in m.practices.values_mut() {
            p.changes = Default::default();
        }
    });
    take("households' audit trails", &mut |m| {
        for h in m.households.values_mut() {
            h.trail = Vec::new();
        }
    });
    take("households' access intervals", &mut |m| {
        for h in m.households.values_mut() {
            h.intervals = Vec::new();
        }
    });
    take(
        "households' timelines (holdings, archived, status, branch)",
        &mut |m| {
            for h in m.households.values_mut() {
                h.holdings = Vec::new();
                h.archived = Default::default();
                h.status = Default::default();
                h.branch = Default::default();
            }
        },
    );
    take(
        "search texts and name index (households' and practices')",
        &mut |m| {
            for h in m.households.values_mut() {
                h.search_text = String::new();
                h.search_xplan = String::new();
            }
            for p in m.practices.values_mut() {
                p.search = Vec::new();
                p.search_slot = Default::default();
                p.by_name = Default::default();
            }
        },
    );
    take(
        "households' current details (the domain's fold)",
        &mut |m| {
            for h in m.households.values_mut() {
                h.state = Default::default();
                h.documents = Default::default();
            }
        },
    );
    take(
        "the household map and what is left of each view",
        &mut |m| {
            m.households = Default::default();
        },
    );
    take(
        "everything else (practices, integrations, expiries…)",
        &mut |m| {
            *m = Default::default();
        },
    );
    for (name, bytes) in &parts {
        println!(
            "  {name:<62} {:>8.1} MiB  {:>5.1}%  {:>6.0} bytes per household",
            mib(*bytes),
            100.0 * *bytes as f64 / total as f64,
            *bytes as f64 / households as f64
        );
    }
}
