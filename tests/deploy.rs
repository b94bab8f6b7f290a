#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The systemd units in deploy/ pass `systemd-analyze verify` (with the unit's binary path
//! pointed at the built kadr), and each waits longer than kadr's own shutdown deadline.

use std::process::Command;

#[test]
fn systemd_units_verify() {
    let Ok(out) = Command::new("systemd-analyze").arg("--version").output() else {
        panic!("systemd-analyze is needed for this test (Debian package systemd)");
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let units = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/systemd");
    let mut checked = 0;
    for entry in std::fs::read_dir(&units).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let timeout: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("TimeoutStopSec="))
            .expect("TimeoutStopSec set")
            .parse()
            .unwrap();
        let defaults = kadr_config::Config::default();
        let deadline = if path.to_string_lossy().contains("worker") {
            defaults.worker.shutdown_grace_secs
        } else {
            defaults.server.shutdown_timeout_secs
        };
        assert!(
            timeout > deadline,
            "{}: stop timeout {timeout} <= {deadline}",
            path.display()
        );
        // Verify a copy whose ExecStart names the binary just built (the installed path
        // does not exist here) and whose user and files are ones this machine has.
        let local = text
            .replace("/usr/local/bin/kadr", env!("CARGO_BIN_EXE_kadr"))
            .replace("User=kadr", "User=root")
            .replace("Group=kadr", "Group=root")
            .replace(
                "EnvironmentFile=/etc/kadr/kadr.env",
                "EnvironmentFile=-/etc/kadr/kadr.env",
            );
        let copy = dir.path().join(path.file_name().unwrap());
        std::fs::write(&copy, local).unwrap();
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&copy)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("/etc/kadr/kadr.toml") && !l.trim().is_empty())
            .filter(|l| {
                !l.contains("Failed to connect to bus")
                    && !l.contains("System has not been booted with systemd")
            })
            .collect();
        assert!(
            out.status.success() || complaints.is_empty(),
            "{}: {stderr}",
            path.display()
        );
        assert!(complaints.is_empty(), "{}: {stderr}", path.display());
        checked += 1;
    }
    assert_eq!(checked, 3);
}
