//! The systemd units in deploy/ pass `systemd-analyze verify` (with the unit's binary path
//! pointed at the built kadr), and each waits longer than kadr's own shutdown deadline. The
//! transcoding worker's unit stays confined: `systemd-analyze security` scores it no worse than
//! now, and the settings that score does not see are still there.

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

/// The worker unit's exposure as `systemd-analyze security --threshold` counts it (tenths: 10 is
/// the "1.0 OK" measured with systemd 252), plus one tenth, so weakening the unit fails.
const WORKER_MAX_EXPOSURE: u32 = 11;

/// Confinement whose loss or loosening the score misses: dropping one of these leaves it at 1.0
/// or 1.1, and so does a looser value (ProtectSystem=full, a capability, a wider system call
/// set, another writable path). Each must stay as written.
const WORKER_LINES: &[&str] = &[
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "UMask=0077",
    "RemoveIPC=true",
    "KeyringMode=private",
    "ProtectSystem=strict",
    "ReadWritePaths=/var/lib/kadr",
    "DevicePolicy=closed",
    "ProtectClock=true",
    "ProtectHostname=true",
    "ProcSubset=pid",
    "RestrictRealtime=true",
    "LockPersonality=true",
    "MemoryDenyWriteExecute=true",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
    "IPAddressDeny=any",
];

/// Limits the operator sizes: present with some value.
const WORKER_LIMITS: &[&str] = &["MemoryMax=", "TasksMax="];

#[test]
fn worker_unit_is_confined() {
    let unit =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/systemd/kadr-worker.service");
    // --offline reads the file itself: no running systemd, no kadr user or binary needed.
    let Ok(out) = Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(format!("--threshold={WORKER_MAX_EXPOSURE}"))
        .arg(&unit)
        .output()
    else {
        panic!("systemd-analyze (250 or later) is needed for this test (Debian package systemd)");
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let overall = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or("no overall exposure level printed");
    assert!(
        out.status.success(),
        "{}: exposure above {WORKER_MAX_EXPOSURE} tenths: {overall}\n{stderr}",
        unit.display()
    );
    // Unknown or malformed settings are only warned about; they would weaken the unit silently.
    assert!(stderr.trim().is_empty(), "{}: {stderr}", unit.display());

    let text = std::fs::read_to_string(&unit).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for want in WORKER_LINES {
        assert!(lines.contains(want), "{}: no {want}", unit.display());
    }
    for key in WORKER_LIMITS {
        assert!(
            lines
                .iter()
                .any(|l| l.len() > key.len() && l.starts_with(key)),
            "{}: no {key}",
            unit.display()
        );
    }
}
