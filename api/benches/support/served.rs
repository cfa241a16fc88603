//! What the HTTP benchmarks share: seeding a practice through the command executor, running
//! the real `hearth serve` binary, and driving it with wrk.

use std::{
    io::Write,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use hearth_application::{BatchItem, CommandExecutor};
use hearth_domain::{
    household::{HouseholdCommand, NewMember},
    practice::{NewStaff, PracticeCommand},
    roles::{HouseholdRole, PracticeRole},
    Actor, CommandContext, HouseholdId, MemberId, PracticeId, StaffId,
};
use rand::{seq::SliceRandom, SeedableRng};

pub const SECRET: &str = "a-benchmark-secret-that-is-long-enough-for-hs256";
const PROFESSIONALS: usize = 24;
const PER_BATCH: usize = 200;
const WRK_SECONDS: &str = "20s";

pub struct Seeded {
    pub practice: PracticeId,
    pub owner: StaffId,
    pub staff: Vec<StaffId>,
    pub households: Vec<HouseholdId>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

pub async fn seed(exec: &CommandExecutor, households: usize) -> Seeded {
    let (practice, owner) = (PracticeId::new(), StaffId::new());
    let from = Utc::now() - chrono::Duration::days(400);
    let op = CommandContext::new(Actor::Operator, from);
    let owner_staff = NewStaff {
        staff_id: owner,
        name: "Olive Owner".into(),
        email: "olive@bench.test".into(),
    };
    exec.practice(
        practice,
        PracticeCommand::CreatePractice {
            practice_id: practice,
            name: "Bench".into(),
            owner: owner_staff,
            licences: 100,
        },
        &op,
    )
    .await
    .unwrap();
    let as_owner = CommandContext::new(Actor::Staff(owner), from);
    let mut staff = Vec::new();
    for i in 0..PROFESSIONALS {
        let s = StaffId::new();
        let invite = PracticeCommand::InviteStaff {
            staff: NewStaff {
                staff_id: s,
                name: format!("Adviser {i}"),
                email: format!("adviser{i}@bench.test"),
            },
            role: PracticeRole::Professional,
            branch: None,
        };
        exec.practice(practice, invite, &as_owner).await.unwrap();
        exec.practice(
            practice,
            PracticeCommand::ActivateStaff { staff_id: s },
            &CommandContext::new(Actor::Staff(s), from),
        )
        .await
        .unwrap();
        staff.push(s);
    }
    let mut ids = Vec::with_capacity(households);
    // Seedable rather than thread_rng: seeding runs as tasks that may move between threads.
    let mut rng = rand::rngs::StdRng::from_entropy();
    let step = chrono::Duration::days(365).num_milliseconds() / households.max(1) as i64;
    let started = Instant::now();
    for batch in 0..households.div_ceil(PER_BATCH) {
        let mut items = Vec::new();
        for j in 0..PER_BATCH.min(households - batch * PER_BATCH) {
            let n = batch * PER_BATCH + j;
            let at = from + chrono::Duration::milliseconds(step * n as i64);
            let h = HouseholdId::new();
            ids.push(h);
            let mut picked = staff.clone();
            picked.shuffle(&mut rng);
            let (creator, others) = (picked[0], &picked[1..8]);
            let ctx = |actor: StaffId, ms: i64| {
                CommandContext::new(Actor::Staff(actor), at + chrono::Duration::milliseconds(ms))
            };
            let item = |command: HouseholdCommand, ctx: CommandContext| BatchItem {
                household: h,
                command,
                ctx,
                guard: None,
            };
            let client = NewMember {
                member_id: MemberId::new(),
                first_name: format!("Client{n}"),
                last_name: "Bench".into(),
                email: Some(format!("client{n}@bench.test")),
                title: None,
            };
            items.push(item(
                HouseholdCommand::CreateHousehold {
                    client,
                    partner: None,
                    branch: None,
                    status: None,
                },
                ctx(creator, 0),
            ));
            let roles = [
                HouseholdRole::Paraplanner,
                HouseholdRole::Support,
                HouseholdRole::ReadOnly,
                HouseholdRole::Professional,
            ];
            for (k, s) in others[..6].iter().enumerate() {
                items.push(item(
                    HouseholdCommand::GrantStaffAccess {
                        staff_id: *s,
                        role: roles[k % 4],
                    },
                    ctx(owner, 1 + k as i64),
                ));
            }
            items.push(item(
                HouseholdCommand::ChangeStaffRole {
                    staff_id: others[0],
                    role: HouseholdRole::ReadOnly,
                },
                ctx(owner, 10),
            ));
            items.push(item(
                HouseholdCommand::ChangeStaffRole {
                    staff_id: others[1],
                    role: HouseholdRole::Paraplanner,
                },
                ctx(owner, 11),
            ));
            items.push(item(
                HouseholdCommand::RevokeStaffAccess {
                    staff_id: others[5],
                },
                ctx(owner, 12),
            ));
        }
        exec.household_batch(practice, &items).await.unwrap();
        if batch % 50 == 0 {
            eprintln!(
                "seeded {} households in {:.0?}",
                ids.len(),
                started.elapsed()
            );
        }
    }
    Seeded {
        practice,
        owner,
        staff,
        households: ids,
        from,
        to: from + chrono::Duration::days(365),
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_ready(port: u16, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let ready = std::process::Command::new("curl")
            .args([
                "-sf",
                "-o",
                "/dev/null",
                &format!("http://127.0.0.1:{port}/readyz"),
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ready {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "the service did not become ready within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib = |key: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

pub struct Wrk {
    pub rps: f64,
    pub p50: String,
    pub p99: String,
}

/// wrk with a Lua script that walks a list of request paths at random.
/// `connections`: 32 saturates the service (throughput); 2 measures its latency unqueued.
pub fn wrk(port: u16, token: &str, paths: &[String], threads: &str, connections: &str) -> Wrk {
    let dir = std::env::temp_dir().join(format!("hearth-wrk-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("paths.txt");
    std::fs::write(&list, paths.join("\n")).unwrap();
    let script = dir.join("paths.lua");
    let mut f = std::fs::File::create(&script).unwrap();
    write!(
        f,
        r#"
local paths = {{}}
for line in io.lines("{}") do paths[#paths + 1] = line end
wrk.headers["Authorization"] = "Bearer {token}"
math.randomseed(42)
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
"#,
        list.display()
    )
    .unwrap();
    let out = Command::new("wrk")
        .args([
            threads,
            "-c",
            connections,
            "-d",
            WRK_SECONDS,
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .expect("wrk is needed for this benchmark: apt-get install wrk");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    eprintln!("{text}");
    assert!(!text.contains("Non-2xx"), "some requests failed:\n{text}");
    let field = |prefix: &str| -> String {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_string()
    };
    Wrk {
        rps: field("Requests/sec:").parse().unwrap_or(0.0),
        p50: field("50%"),
        p99: field("99%"),
    }
}

/// The floor: an axum route with the same path shape that answers a constant, no auth, no model.
pub fn bare_axum(port: u16) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/v1/practices/{p}/households/{h}/access/{s}",
                axum::routing::get(|| async {
                    axum::Json(serde_json::json!({"allowed": true, "action": "view"}))
                }),
            );
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
}

/// `hearth serve` on `database_url`, its data in `data_dir`, listening on `port`.
pub fn serve(database_url: &str, data_dir: &Path, port: u16) -> Service {
    serve_with(database_url, data_dir, port, &[])
}

/// As [`serve`], with more of the service's settings (`HEARTH_SIGNING_KEY`, say).
pub fn serve_with(
    database_url: &str,
    data_dir: &Path,
    port: u16,
    settings: &[(&str, String)],
) -> Service {
    Service(
        Command::new(env!("CARGO_BIN_EXE_hearth"))
            .args(["serve"])
            .envs(settings.iter().map(|(k, v)| (k, v)))
            .env("HEARTH_DATABASE_URL", database_url)
            .env("HEARTH_DATA_DIR", data_dir)
            .env("HEARTH_BIND", format!("127.0.0.1:{port}"))
            .env("HEARTH_JWT_SECRET", SECRET)
            // HEARTH_BENCH_SERVICE_LOG=info shows where start-up goes.
            .env(
                "HEARTH_LOG",
                std::env::var("HEARTH_BENCH_SERVICE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// A token of `practice`'s owner, as the benches call the API.
pub fn owner_token(practice: PracticeId, owner: StaffId) -> String {
    hearth_api::auth::JwtKeys::from_secret("HS256", SECRET.as_bytes())
        .expect("keys")
        .mint(
            hearth_api::auth::Caller::Staff {
                practice: practice.0,
                staff: owner.0,
            },
            chrono::Utc::now(),
            chrono::Duration::hours(2),
        )
        .expect("token")
}

pub struct Service(pub Child);

impl Service {
    /// SIGTERM, and wait: the graceful shutdown writes the projection snapshot.
    pub fn stop_gracefully(&mut self) {
        Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
