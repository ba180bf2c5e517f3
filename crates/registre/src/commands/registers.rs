//! Registers from the command line: the record of processing activities, and retention.
use crate::cli::{GlobalOptions, LanguageArg, PurgeArgs, PurgeFormat, RopaFormat};
use crate::setup::open_app;
use anyhow::{Context, Result};
use std::io::Write;
use std::process::ExitCode;

/// Prints the record of processing activities, exactly as `GET /api/v1/ropa` serves it.
pub async fn export_ropa(
    global: &GlobalOptions,
    format: RopaFormat,
    lang: Option<LanguageArg>,
) -> Result<ExitCode> {
    let app = open_app(global, String::new()).await?;
    let ropa = app.ropa().await?;
    let language = match lang {
        Some(language) => language.into(),
        None => app.organisation().await?.default_language,
    };
    let text = match format {
        RopaFormat::Json => serde_json::to_string_pretty(&ropa)? + "\n",
        RopaFormat::Csv => ropa.to_csv(language),
        RopaFormat::Html => {
            registre_web::ropa_html(&ropa, language).context("cannot render the record")?
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Applies retention periods (or, with --dry-run, says what would go) and prints the
/// report: counts per purpose, never who.
pub async fn purge(global: &GlobalOptions, args: PurgeArgs) -> Result<ExitCode> {
    let app = open_app(global, String::new()).await?;
    let report = app.run_retention(args.dry_run).await?;
    if args.format == PurgeFormat::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(if report.failures > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let verb = if args.dry_run {
        "would be erased"
    } else {
        "erased"
    };
    println!(
        "Retention {} on {}",
        if args.dry_run { "dry run" } else { "applied" },
        report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    println!(
        "{} people examined; {} {verb} ({} with no purpose left), {} kept because processing is restricted",
        report.subjects_examined,
        report.subjects_erased,
        report.orphans_erased,
        report.kept_restricted
    );
    println!(
        "{} submissions {verb} from people who are kept",
        report.submissions_erased
    );
    println!();
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>14}",
        "purpose", "retention", "people", "expired", "erased", "renew (due/over)"
    );
    for p in &report.purposes {
        println!(
            "{:<24} {:>8}d {:>9} {:>9} {:>9} {:>14}",
            p.purpose,
            p.retention_days,
            p.subjects,
            p.expired,
            p.erased,
            format!("{}/{}", p.renewal_due, p.renewal_overdue)
        );
    }
    for (touchpoint, count) in &report.submissions_by_touchpoint {
        println!("submissions from {touchpoint}: {count} {verb}");
    }
    if report.failures > 0 {
        println!(
            "{} erasures failed; they are tried again on the next run",
            report.failures
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
