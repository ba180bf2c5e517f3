use crate::cli::{AuditFormArgs, AuditFormat};
use anyhow::{Context, Result, bail};
use registre_audit::fetch::FetchPolicy;
use std::io::Read;
use std::process::ExitCode;

/// Audits a file or URL; exit 0 when clean, 1 when an error-level finding exists, 2 when the
/// page cannot be read or audited.
pub async fn run(args: AuditFormArgs) -> Result<ExitCode> {
    let (html, page_url, artifact) =
        if args.source.starts_with("http://") || args.source.starts_with("https://") {
            let policy = FetchPolicy {
                allow_private: args.allow_private,
                ..FetchPolicy::default()
            };
            let page = registre_audit::fetch::fetch(&args.source, &policy)
                .await
                .with_context(|| format!("cannot fetch {}", args.source))?;
            (page.html, Some(page.url), args.source.clone())
        } else {
            let mut bytes = Vec::new();
            if args.source == "-" {
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .context("cannot read standard input")?;
            } else {
                let file = std::fs::File::open(&args.source)
                    .with_context(|| format!("cannot open {}", args.source))?;
                // Read one byte past the cap so an oversized file is reported, not truncated.
                file.take(registre_audit::MAX_INPUT_BYTES as u64 + 1)
                    .read_to_end(&mut bytes)
                    .with_context(|| format!("cannot read {}", args.source))?;
            }
            (
                String::from_utf8_lossy(&bytes).into_owned(),
                None,
                args.source.clone(),
            )
        };
    let report = match &page_url {
        Some(url) => registre_audit::audit_html_with_url(&html, url),
        None => registre_audit::audit_html(&html),
    };
    let report = match report {
        Ok(report) => report,
        Err(error) => bail!("cannot audit {artifact}: {error}"),
    };
    let output = match args.format {
        AuditFormat::Text => report.to_text(),
        AuditFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        AuditFormat::Sarif => serde_json::to_string_pretty(&report.to_sarif(&artifact))? + "\n",
    };
    // A closed pipe (`| head`) is the reader's choice, not an error worth a crash.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), output.as_bytes());
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
