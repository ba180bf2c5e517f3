//! The systemd unit of `packaging/registre.service`, as an operator installs it: systemd
//! accepts it without a warning, and it starts the binary with options the binary has.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

const UNIT: &str = include_str!("../../../packaging/registre.service");
/// Where the unit expects the binary (docs/operations.md installs it there).
const INSTALLED: &str = "/usr/local/bin/registre";

/// `systemd-analyze`, or `None` (with a notice) when this machine has none; the suite
/// (`scripts/test.sh`, `REGISTRE_REQUIRE_SYSTEMD=1`) fails instead.
fn systemd_analyze() -> Option<&'static str> {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return Some("systemd-analyze");
    }
    if std::env::var_os("REGISTRE_REQUIRE_SYSTEMD").is_some() {
        panic!("systemd-analyze is required (REGISTRE_REQUIRE_SYSTEMD) but cannot be run");
    }
    eprintln!("NOTICE: no systemd-analyze here; skipping the check of the systemd unit");
    None
}

fn exec_start() -> &'static str {
    UNIT.lines()
        .find_map(|line| line.strip_prefix("ExecStart="))
        .expect("an ExecStart line")
}

#[test]
fn systemd_analyze_verify_accepts_the_unit_without_a_warning() {
    let Some(analyze) = systemd_analyze() else {
        return;
    };
    assert!(
        exec_start().starts_with(&format!("{INSTALLED} serve ")),
        "{}",
        exec_start()
    );
    // The same unit, starting the binary this test was built with: verify checks that the
    // command exists and can be executed.
    let dir = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_registre");
    assert!(Path::new(binary).is_absolute());
    let unit = dir.path().join("registre.service");
    std::fs::write(&unit, UNIT.replace(INSTALLED, binary)).unwrap();
    let output = Command::new(analyze)
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "systemd-analyze verify: {said}");
    // Unknown keys and bad values are only warnings to systemd: none is accepted here.
    assert!(said.trim().is_empty(), "systemd-analyze verify: {said}");
}

#[test]
fn the_unit_starts_the_server_with_options_the_binary_has() {
    let mut words = exec_start().split_whitespace();
    assert_eq!(words.next(), Some(INSTALLED));
    assert_eq!(words.next(), Some("serve"));
    let help = Command::new(env!("CARGO_BIN_EXE_registre"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let options: Vec<&str> = words.filter(|word| word.starts_with("--")).collect();
    assert!(options.contains(&"--data-dir"), "{options:?}");
    assert!(options.contains(&"--metrics-listen"), "{options:?}");
    for option in options {
        assert!(help.contains(option), "registre serve has no {option}");
    }
    // The data dir is the one systemd creates for the service.
    assert!(exec_start().contains("--data-dir /var/lib/registre"));
    assert!(UNIT.lines().any(|line| line == "StateDirectory=registre"));
}
