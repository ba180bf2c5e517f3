//! `registre verify`, `registre ledger export`, `registre import consents`.
use crate::cli::{GlobalOptions, VerifyArgs, VerifyReceiptArgs};
use crate::setup::{existing_ledger_keys, open_app, open_store_read_only};
use anyhow::{Context, Result, bail};
use registre_app::Principal;
use registre_crypto::VerifyingKey;
use registre_domain::proof::{LedgerReport, keys_from_jwks};
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

/// Reads trusted keys from a file or from the text itself: a JWK set, one JWK, or hex.
fn read_keys(arg: &str) -> Result<Vec<VerifyingKey>> {
    let path = Path::new(arg);
    let text = if path.is_file() {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {arg}"))?
    } else {
        arg.to_string()
    };
    let text = text.trim();
    if text.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(text).context("--key: not JSON")?;
        return keys_from_jwks(&value).context("--key: not an Ed25519 JWK or JWK set");
    }
    Ok(vec![VerifyingKey::from_hex(text).context(
        "--key: expected a JWK set, a JWK, or a hex Ed25519 public key (or a file holding one)",
    )?])
}

fn print_report(name: &str, report: &LedgerReport) {
    if report.ok {
        let checkpoints = match &report.last_checkpoint {
            Some(last) => format!(
                ", {} checkpoints verified (latest at seq {}, signed {} by key {})",
                report.checkpoints_verified,
                last.seq,
                last.signed_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                last.key_id
            ),
            None => ", no signed checkpoint yet".to_string(),
        };
        println!(
            "{name}: ok, {} events, head {}{checkpoints}",
            report.length, report.head
        );
    } else {
        let seq = report
            .first_broken_seq
            .map(|s| s.to_string())
            .unwrap_or_else(|| "?".into());
        println!("{name}: BROKEN at sequence number {seq}");
        for problem in &report.problems {
            println!("  seq {}: {}", problem.seq, problem.message);
        }
    }
}

/// Where checkpoints outside the database were looked for, and what of the ledger none of
/// them covers yet.
fn print_known(
    known: &registre_app::checkpoints::KnownCheckpoints,
    report: &LedgerReport,
    log: &Path,
) {
    let mut places: Vec<String> = known
        .sources
        .iter()
        .map(|(source, count)| format!("{count} in {source}"))
        .collect();
    if !known
        .sources
        .iter()
        .any(|(s, _)| s.contains("checkpoint log"))
    {
        places.insert(0, format!("no checkpoint log at {}", log.display()));
    }
    println!(
        "checkpoints outside the database: {} matched ({})",
        report.known_checkpoints_verified,
        places.join(", ")
    );
    let signed = known
        .known
        .iter()
        .map(|k| k.seq)
        .chain(report.last_checkpoint.as_ref().map(|c| c.seq))
        .filter(|seq| *seq <= report.length)
        .max()
        .unwrap_or(0);
    if report.ok && signed < report.length {
        println!(
            "not yet signed: events {}..{} (the server signs the head at its next checkpoint)",
            signed + 1,
            report.length
        );
    }
}

pub async fn verify(global: &GlobalOptions, args: VerifyArgs) -> Result<ExitCode> {
    let given_keys = args.key.as_deref().map(read_keys).transpose()?;
    if let Some(file) = &args.file {
        let reader = BufReader::new(
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
        );
        let keys_for_notes = match &given_keys {
            Some(keys) => keys.clone(),
            None => existing_ledger_keys(&global.data_dir).unwrap_or_default(),
        };
        let known =
            registre_app::checkpoints::known_from_files(&keys_for_notes, None, &args.checkpoint);
        let verification = match registre_app::ledger::verify_export(reader, given_keys, &known) {
            Ok(verification) => verification,
            Err(message) => {
                println!("{}: BROKEN: {message}", file.display());
                return Ok(ExitCode::from(1));
            }
        };
        let source = if verification.keys_from_file {
            "carried by the file; compare with /.well-known/registre/ledger-key"
        } else {
            "given"
        };
        println!("keys ({source}): {}", verification.key_ids.join(", "));
        print_report(
            &format!(
                "ledger export of {}",
                verification
                    .exported_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            &verification.report,
        );
        return Ok(if verification.report.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if global.database_url.is_none() && !global.data_dir.join("registre.db").exists() {
        // Nothing was ever written here: an empty ledger and audit log, which verify.
        println!(
            "ledger: ok, 0 events (no database in {} yet)",
            global.data_dir.display()
        );
        println!("audit log: ok, 0 entries");
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store_read_only(global).await?;
    let keys = match given_keys {
        Some(keys) => keys,
        None => existing_ledger_keys(&global.data_dir)?,
    };
    let log = registre_app::checkpoints::checkpoint_log_path(&global.data_dir);
    let known = registre_app::checkpoints::gather_known(
        store.as_ref(),
        &keys,
        Some(&log),
        &args.checkpoint,
    )
    .await?;
    let ledger = registre_app::ledger::verify_store(store.as_ref(), &keys, &known).await?;
    let audit = store.verify_audit_log().await?;
    print_report("ledger", &ledger);
    print_known(&known, &ledger, &log);
    let mut ok = ledger.ok;
    match audit.first_broken_seq {
        None if audit.ok => println!(
            "audit log: ok, {} entries, head {}",
            audit.length, audit.head
        ),
        broken => {
            ok = false;
            println!(
                "audit log: BROKEN at sequence number {}",
                broken.map(|s| s.to_string()).unwrap_or_else(|| "?".into())
            );
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub async fn export(global: &GlobalOptions, file: &Path) -> Result<ExitCode> {
    let store = open_store_read_only(global).await?;
    let keys = existing_ledger_keys(&global.data_dir)?;
    let Some(key) = keys.first().cloned() else {
        bail!(
            "there is no ledger key in {}: exports carry the public key that signed the checkpoints",
            global.data_dir.display()
        );
    };
    let to_stdout = file.as_os_str() == "-";
    let mut out: Box<dyn Write + Send> = if to_stdout {
        Box::new(std::io::BufWriter::new(std::io::stdout()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(file)
                .with_context(|| format!("cannot create {}", file.display()))?,
        ))
    };
    let summary =
        registre_app::ledger::export_store(store.as_ref(), &keys, chrono::Utc::now(), out.as_mut())
            .await?;
    out.flush()?;
    drop(out);
    if !to_stdout {
        registre_crypto::durable::sync_file(file)
            .with_context(|| format!("cannot write {}", file.display()))?;
        println!(
            "Exported {} events and {} checkpoints (head {}) to {}; the public key is {} (kid {}){}.",
            summary.length,
            summary.checkpoints,
            summary.head,
            file.display(),
            key.to_hex(),
            key.kid(),
            if keys.len() > 1 {
                format!(", with {} retired keys", keys.len() - 1)
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn import_consents(global: &GlobalOptions, file: &Path) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
    let app = open_app(global, String::new()).await?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "import.csv".into());
    let report = app
        .import_consents_csv(&Principal::cli(), &name, &text)
        .await?;
    println!(
        "Import {} of {}: {} consents imported, {} rows rejected.",
        report.import_id,
        report.file,
        report.imported,
        report.rejected.len()
    );
    if !report.ignored_columns.is_empty() {
        println!("Columns not read: {}.", report.ignored_columns.join(", "));
    }
    for row in &report.rejected {
        println!("  line {}: {}", row.line, row.reason);
    }
    Ok(if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub async fn checkpoint(global: &GlobalOptions) -> Result<ExitCode> {
    let app = open_app(global, String::new()).await?;
    let checkpoint = app.sign_checkpoint(Some(&Principal::cli())).await?;
    println!(
        "Signed checkpoint {} at seq {} (head {}) with key {}.",
        checkpoint.id, checkpoint.seq, checkpoint.head, checkpoint.key_id
    );
    Ok(ExitCode::SUCCESS)
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))
}

/// `registre verify-receipt FILE [--checkpoint FILE [--consistency FILE]] [--key KEY]`.
pub fn verify_receipt(global: &GlobalOptions, args: VerifyReceiptArgs) -> Result<ExitCode> {
    let file = read_json(&args.file)?;
    let (keys, source) = match args.key.as_deref() {
        Some(key) => (read_keys(key)?, "given"),
        None => {
            let local = existing_ledger_keys(&global.data_dir)?;
            if local.is_empty() {
                let named = file["receipt"]["publicKey"]
                    .as_str()
                    .context("no --key, no key in the data dir, and the receipt names none")?;
                (
                    vec![VerifyingKey::from_hex(named).context("the receipt's publicKey")?],
                    "named by the receipt; compare with /.well-known/registre/ledger-key",
                )
            } else {
                (local, "the data dir's")
            }
        }
    };
    let checkpoint = args
        .checkpoint
        .as_deref()
        .map(|path| {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        })
        .transpose()?;
    let consistency = args.consistency.as_deref().map(read_json).transpose()?;
    let later = checkpoint
        .as_deref()
        .map(|checkpoint| registre_domain::receipt_check::Later {
            checkpoint,
            consistency: consistency.as_ref(),
        });
    let ids: Vec<String> = keys.iter().map(VerifyingKey::kid).collect();
    println!("keys ({source}): {}", ids.join(", "));
    match registre_domain::receipt_check::verify(&file, &keys, later) {
        Ok(verdict) => {
            println!(
                "{}: ok, event {} (seq {}) signed and in the ledger {} of {} events",
                args.file.display(),
                verdict.event_id,
                verdict.seq,
                verdict.origin,
                verdict.tree_size
            );
            if let Some(size) = verdict.still_in {
                println!("  still there in the later checkpoint of {size} events");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problem) => {
            println!("{}: DOES NOT PROVE ITSELF: {problem}", args.file.display());
            Ok(ExitCode::from(1))
        }
    }
}
