//! `registre keys rotate | list | retire`: key rotation while servers keep running.
//!
//! Master key: the keyring file gets a new current master key (the old one kept, retired);
//! running servers read the file within a second and wrap new subject keys with the new
//! key while still opening the old ones; then every subject key is wrapped again under the
//! new key, pass after pass until none is left under the old one, and the old key is
//! forgotten. The blind index, token and system secrets do not change (emails are found by
//! their keyed hash): they are carried over in the keyring file.
//!
//! Signing key: a new key signs from now on; the old public key is kept in
//! `ledger-keys-retired.json`, published at `/.well-known/registre/ledger-key` and trusted
//! by `registre verify` for the checkpoints and receipts it signed.
use crate::cli::{GlobalOptions, RotateArgs};
use crate::setup::{
    KEY_WATCH_INTERVAL, MASTER_KEY_FILE, RETIRED_LEDGER_KEYS_FILE, SIGNING_KEY_FILE,
    existing_ledger_key, key_file, open_app, replace_private, retired_ledger_keys,
};
use anyhow::{Context, Result, bail};
use registre_app::Principal;
use registre_crypto::{KeyFile, MasterKey, SigningKey};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Passes over the subject keys before giving up on a moving target.
const MAX_PASSES: usize = 20;

fn keyring_path(global: &GlobalOptions) -> Result<std::path::PathBuf> {
    if std::env::var_os("REGISTRE_MASTER_KEY").is_some() {
        bail!(
            "the master key comes from REGISTRE_MASTER_KEY: a rotation writes the keyring file, so move the key into {}/{MASTER_KEY_FILE} first (or set REGISTRE_MASTER_KEY to the new keyring afterwards)",
            global.data_dir.display()
        );
    }
    let path = global.data_dir.join(MASTER_KEY_FILE);
    if !path.exists() {
        bail!("there is no {} to rotate", path.display());
    }
    Ok(path)
}

fn read_keyring(path: &Path) -> Result<KeyFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    KeyFile::parse(&text).with_context(|| format!("{}", path.display()))
}

async fn wait(grace: Duration) {
    tokio::time::sleep(grace.max(KEY_WATCH_INTERVAL * 2)).await;
}

pub async fn rotate_master(global: &GlobalOptions, args: RotateArgs) -> Result<ExitCode> {
    let path = keyring_path(global)?;
    let mut keyring = read_keyring(&path)?;
    let old_ids: Vec<String> = keyring.key_ids();
    let new = MasterKey::generate();
    let new_id = new.key_id();
    keyring.rotate(new);
    replace_private(&path, &keyring.to_text())?;
    println!(
        "New master key {new_id} is current; {} kept until every subject key is re-wrapped.",
        old_ids.join(", ")
    );
    let grace = Duration::from_secs(args.grace_seconds);
    // Running servers read the file within a second; after that none wraps with an old key.
    wait(grace).await;
    let app = open_app(global, String::new()).await?;
    let report = rewrap_until_done(&app).await?;
    let mut retired = Vec::new();
    if !args.keep_old {
        // Once more after a pause: a write that a server began with the old key before it
        // read the file is re-wrapped too.
        wait(grace).await;
        let last = app.rewrap_subject_keys(&Principal::cli()).await?;
        if last.unreadable > 0 || last.skipped > 0 {
            bail!(
                "{} subject keys could not be re-wrapped: the old master key is kept; run `registre keys retire` later",
                last.unreadable + last.skipped
            );
        }
        let mut current = read_keyring(&path)?;
        if current.current().key_id() != new_id {
            bail!("the keyring file changed during the rotation: the old key is kept");
        }
        retired = current.retire_old();
        replace_private(&path, &current.to_text())?;
    }
    app.record_operation(
        &Principal::cli(),
        "keys.master_rotated",
        serde_json::json!({
            "new_key_id": new_id,
            "previous_key_ids": old_ids,
            "retired_key_ids": retired,
            "rewrapped": report.0,
            "passes": report.1,
        }),
    )
    .await?;
    println!(
        "Re-wrapped {} subject keys under {new_id} in {} passes.",
        report.0, report.1
    );
    if retired.is_empty() {
        println!(
            "The old master keys stay in {} until `registre keys retire`.",
            path.display()
        );
    } else {
        println!(
            "Forgot the old master keys {}: back up the data dir again (older backups hold them).",
            retired.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Passes until one re-wraps nothing; returns how many were re-wrapped and the passes.
async fn rewrap_until_done(app: &registre_app::App) -> Result<(u64, usize)> {
    let mut total = 0;
    for pass in 1..=MAX_PASSES {
        let report = app.rewrap_subject_keys(&Principal::cli()).await?;
        total += report.rewrapped;
        if report.unreadable > 0 {
            bail!(
                "{} subject keys open with no key of the keyring: nothing is retired",
                report.unreadable
            );
        }
        if report.rewrapped == 0 && report.skipped == 0 {
            return Ok((total, pass));
        }
    }
    bail!("subject keys kept changing during {MAX_PASSES} passes: run the rotation again")
}

pub async fn retire(global: &GlobalOptions) -> Result<ExitCode> {
    let path = keyring_path(global)?;
    let keyring = read_keyring(&path)?;
    if keyring.key_ids().len() == 1 {
        println!("There is no retired master key.");
        return Ok(ExitCode::SUCCESS);
    }
    let app = open_app(global, String::new()).await?;
    let report = rewrap_until_done(&app).await?;
    let mut current = read_keyring(&path)?;
    let retired = current.retire_old();
    replace_private(&path, &current.to_text())?;
    app.record_operation(
        &Principal::cli(),
        "keys.master_retired",
        serde_json::json!({"retired_key_ids": retired, "rewrapped": report.0}),
    )
    .await?;
    println!(
        "Re-wrapped {} subject keys; forgot the old master keys {}.",
        report.0,
        retired.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn rotate_signing(global: &GlobalOptions) -> Result<ExitCode> {
    let path = global.data_dir.join(SIGNING_KEY_FILE);
    let Some(old) = existing_ledger_key(&global.data_dir)? else {
        bail!("there is no {} to rotate", path.display());
    };
    let mut retired = retired_ledger_keys(&global.data_dir)?;
    if !retired.contains(&old) {
        retired.push(old.clone());
    }
    // The old public key is kept first, so that nothing it signed is ever without its key.
    let jwks = registre_app::ledger::jwks(&retired);
    replace_private(
        &global.data_dir.join(RETIRED_LEDGER_KEYS_FILE),
        &serde_json::to_string_pretty(&jwks)?,
    )?;
    let new = SigningKey::generate();
    let new_kid = new.verifying_key().kid();
    replace_private(&path, &new.to_hex())?;
    let app = open_app(global, String::new()).await?;
    // A checkpoint signed by the new key at once ties the two keys' checkpoints together.
    let checkpoint = app.sign_checkpoint(Some(&Principal::cli())).await?;
    app.record_operation(
        &Principal::cli(),
        "keys.signing_rotated",
        serde_json::json!({"new_key_id": new_kid, "previous_key_id": old.kid(), "checkpoint_seq": checkpoint.seq}),
    )
    .await?;
    println!(
        "New ledger signing key {new_kid}; the old key {} stays published and trusted for what it signed. Checkpoint at seq {} signed with the new key.",
        old.kid(),
        checkpoint.seq
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn list(global: &GlobalOptions) -> Result<ExitCode> {
    let keyring = key_file(&global.data_dir)?;
    for (n, id) in keyring.key_ids().iter().enumerate() {
        println!("master {id} {}", if n == 0 { "current" } else { "retired" });
    }
    if let Some(current) = existing_ledger_key(&global.data_dir)? {
        println!("ledger {} current", current.kid());
        for key in retired_ledger_keys(&global.data_dir)? {
            if key != current {
                println!("ledger {} retired", key.kid());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
