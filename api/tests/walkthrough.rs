//! The README's walk-through, run exactly as written (the first `sh` block under its heading), in
//! a scratch directory with only the built `hearth` on PATH — so the README cannot rot.

use std::process::Command;

fn walkthrough() -> String {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Walk-through")
        .nth(1)
        .expect("README has a walk-through section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the walk-through has an sh block");
    block.to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_readme_walkthrough_works_as_written_from_any_directory() {
    for tool in ["curl", "jq"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "the walk-through needs {tool}; scripts/test installs it"
        );
    }
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_hearth"))
        .parent()
        .unwrap()
        .to_path_buf();
    let scratch = std::env::temp_dir().join(format!("hearth-readme-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", &walkthrough()])
        .current_dir(&scratch)
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("PORT", free_port().to_string());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HEARTH_")) {
        cmd.env_remove(k);
    }
    let out = cmd.output().expect("bash runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "the walk-through failed:\n{stdout}\n{stderr}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let now: serde_json::Value = serde_json::from_str(lines[0]).expect("the check now is JSON");
    let then: serde_json::Value = serde_json::from_str(lines[1]).expect("the as-of check is JSON");
    assert_eq!(now["allowed"], serde_json::json!(false), "{stdout}");
    assert_eq!(then["allowed"], serde_json::json!(true), "{stdout}");
    assert!(stdout.contains("paraplanner"), "{stdout}");
    assert!(
        stdout.contains("plan review"),
        "the grant's reason is in the history: {stdout}"
    );
    assert!(stdout.contains("the log is intact"), "{stdout}");
    assert!(
        stdout.contains("Jane Citizen"),
        "replay names the household: {stdout}"
    );
    let _ = std::fs::remove_dir_all(scratch);
}
