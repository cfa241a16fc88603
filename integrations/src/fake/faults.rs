use std::{collections::HashMap, time::Duration};

/// A route of the fake, for fault injection and call counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    Token,
    Clients,
    Client,
    ClientList,
    User,
    CreateNote,
    ListNotes,
    Attachment,
    /// Matches every route.
    Any,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (500 gets a non-JSON body, as XPLAN's sometimes are).
    Status(u16),
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// Answer normally, this much later.
    Latency(Duration),
    /// Do the work (e.g. create the note), then fail the answer with this status: the caller
    /// cannot know it succeeded.
    AfterEffect(u16),
    /// Do the work, then answer this much later (a caller may give up or die meanwhile).
    SlowAnswer(Duration),
}

struct Rule {
    route: Route,
    skip: u32,
    times: u32,
    fault: Fault,
}

#[derive(Default)]
pub(crate) struct Faults {
    rules: Vec<Rule>,
    calls: HashMap<Route, u64>,
    /// Calls a `Latency` fault holds right now, and the most it held at once: how many calls
    /// a client had in flight side by side.
    held: u64,
    most_held: u64,
}

impl Faults {
    pub fn add(&mut self, route: Route, skip: u32, fault: Fault, times: u32) {
        self.rules.push(Rule {
            route,
            skip,
            times,
            fault,
        });
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn hold(&mut self) {
        self.held += 1;
        self.most_held = self.most_held.max(self.held);
    }

    pub fn release(&mut self) {
        self.held -= 1;
    }

    pub fn most_held(&self) -> u64 {
        self.most_held
    }

    pub fn calls(&self, route: Route) -> u64 {
        self.calls.get(&route).copied().unwrap_or(0)
    }

    /// Counts the call and picks the fault it meets, if any.
    pub fn next(&mut self, route: Route) -> Option<Fault> {
        *self.calls.entry(route).or_default() += 1;
        let mut chosen = None;
        for rule in self
            .rules
            .iter_mut()
            .filter(|r| r.route == route || r.route == Route::Any)
        {
            if rule.times == 0 {
                continue;
            }
            if rule.skip > 0 {
                rule.skip -= 1;
                continue;
            }
            rule.times -= 1;
            chosen = Some(rule.fault.clone());
            break;
        }
        self.rules.retain(|r| r.times > 0);
        chosen
    }
}
