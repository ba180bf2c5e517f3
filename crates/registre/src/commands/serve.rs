use crate::cli::{GlobalOptions, ServeArgs};
use crate::setup::{open_app, spawn_key_watch};
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::process::ExitCode;

pub async fn run(global: &GlobalOptions, args: ServeArgs) -> Result<ExitCode> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(certificate), Some(key)) => {
            Some(registre_web::TlsConfig::from_pem_files(certificate, key)?)
        }
        _ => None,
    };
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?
        .collect();
    refuse_public_plain_http(
        &args.listen,
        &addresses,
        tls.is_some(),
        args.insecure_public,
    )?;
    let listener = tokio::net::TcpListener::bind(addresses.as_slice())
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let metrics_listener = match &args.metrics_listen {
        Some(listen) => {
            let listener = tokio::net::TcpListener::bind(listen.as_str())
                .await
                .with_context(|| format!("cannot listen on {listen} for the metrics"))?;
            let address = listener.local_addr()?;
            Some((listener, address))
        }
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{address}"))
        .trim_end_matches('/')
        .to_string();
    let mut options = registre_web::HttpOptions::from_env(&public_url);
    // Served over TLS, browsers should keep to it whatever the public URL says.
    options.transport.https |= tls.is_some();

    // Both listeners answer from now on: 503 `not_ready` until the application is there,
    // so that an orchestrator sees a server starting rather than one that does not answer.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let stopped = move || {
        let mut stopping = stopping.clone();
        async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    };
    let listening = registre_web::Listening::starting(MIGRATING, options.transport);
    let public = tokio::spawn(registre_web::serve_listening(
        listener,
        listening.clone(),
        tls.clone(),
        stopped(),
    ));
    let metrics = metrics_listener.map(|(listener, address)| {
        let listening = registre_web::Listening::starting(MIGRATING, Default::default());
        tracing::info!(%address, "serving the metrics at /metrics");
        let serving = tokio::spawn(registre_web::serve_listening(
            listener,
            listening.clone(),
            None,
            stopped(),
        ));
        (listening, address, serving)
    });
    tracing::info!(%address, "listening; starting");

    let app = tokio::select! {
        app = open(global, &args, public_url.clone(), &listening) => app?,
        () = stopped() => return Ok(ExitCode::SUCCESS),
    };
    // Counted as running before the application serves: it is not ready until they end.
    let start_up = app.begin_start_up();
    let mut banner =
        format!("Registre is listening on {scheme}://{address} (public URL {public_url})\n");
    banner.push_str(&where_to_go(&app, &public_url).await);
    listening.serve(registre_web::router_with(app.clone(), options));
    let metrics = metrics.map(|(listening, address, serving)| {
        listening.serve(registre_web::metrics_router(app.clone()));
        banner.push_str(&format!(
            "  Metrics:         http://{address}/metrics  (Prometheus; keep this address private)\n"
        ));
        serving
    });
    registre_web::start_workers(app.clone(), start_up);
    tracing::info!(%address, %public_url, tls = tls.is_some(), store = app.store().backend(), "registre is serving");
    // Whoever started the server may have closed its standard output (a supervisor, a test
    // that read the first line): the server goes on serving all the same.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), banner.as_bytes());
    public.await.context("the server stopped")??;
    if let Some(serving) = metrics {
        serving.await.context("the metrics server stopped")??;
    }
    Ok(ExitCode::SUCCESS)
}

/// What the starting answers say while the store opens.
const MIGRATING: &str = "opening the store and applying its migrations";

/// Opens the application (store and migrations) and loads the demo when asked, telling
/// `listening` what it does meanwhile.
async fn open(
    global: &GlobalOptions,
    args: &ServeArgs,
    public_url: String,
    listening: &registre_web::Listening,
) -> Result<registre_app::App> {
    let app = open_app(global, public_url).await?;
    app.spawn_request_reminders();
    spawn_key_watch(app.clone(), global.data_dir.clone());
    if args.demo {
        listening.set_phase("loading the demo organisation");
        app.load_demo()
            .await
            .context("cannot load the demo organisation")?;
    }
    Ok(app)
}

/// Tells the person who just started the server where its pages are: the hub, the portal,
/// the console (and how to get in) and each published form.
async fn where_to_go(app: &registre_app::App, public_url: &str) -> String {
    let mut text = format!(
        "  Privacy hub:     {public_url}/\n  Privacy portal:  {public_url}/privacy\n  Console:         {public_url}/console  (a user: registre user create --email EMAIL --role dpo --password-stdin)\n"
    );
    match app.touchpoints().await {
        Ok(touchpoints) if !touchpoints.is_empty() => {
            text.push_str("  Forms:\n");
            for touchpoint in touchpoints {
                text.push_str(&format!("    {public_url}/f/{}\n", touchpoint.key));
            }
        }
        Ok(_) => text
            .push_str("  Forms:           none yet (POST /api/v1/touchpoints, or serve --demo)\n"),
        Err(error) => tracing::warn!(%error, "cannot list the forms"),
    }
    text
}

/// Plain HTTP on an address other people can reach sends API keys, passwords and personal
/// data in clear: only when told so (a TLS reverse proxy in front).
fn refuse_public_plain_http(
    listen: &str,
    addresses: &[SocketAddr],
    tls: bool,
    insecure_public: bool,
) -> Result<()> {
    let public = addresses.iter().any(|a| !a.ip().is_loopback());
    if public && !tls && !insecure_public {
        bail!(
            "refusing to serve plain HTTP on {listen}, an address other than loopback: give --tls-cert and --tls-key, or --insecure-public when a TLS reverse proxy is in front"
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
