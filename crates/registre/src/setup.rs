//! From global options to a running application: data dir, keys, store.
use crate::cli::GlobalOptions;
use anyhow::{Context, Result, bail};
use registre_app::{App, AppConfig};
use registre_crypto::{KeyFile, Keyring, MasterKey, SigningKey, VerifyingKey, durable};
use registre_domain::SystemClock;
use registre_store::Store;
use std::path::Path;
use std::sync::Arc;

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REGISTRE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("REGISTRE_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

/// Reads a secret file, or creates it with `generate` (mode 0600) on first start.
fn read_or_create_secret(path: &Path, generate: impl FnOnce() -> String) -> Result<String> {
    if path.exists() {
        return std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()));
    }
    let text = generate();
    write_private(path, &text)?;
    tracing::info!(path = %path.display(), "created a new key file; back it up with the database");
    Ok(text)
}

/// Creates `path` (mode 0600, never over an existing file) holding `text`, durably: the file
/// and the directory that names it are synced before this returns.
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    durable::create_private(path, text.as_bytes())
        .with_context(|| format!("cannot create {}", path.display()))
}

/// The keyring file: the master keys (current first) and the stable secrets.
pub const MASTER_KEY_FILE: &str = "master.key";
/// The key that signs ledger checkpoints and consent receipts now.
pub const SIGNING_KEY_FILE: &str = "ledger-signing.key";
/// The public keys of retired signing keys, as a JWK set: still trusted for what they signed.
pub const RETIRED_LEDGER_KEYS_FILE: &str = "ledger-keys-retired.json";

/// The keyring file's content: `REGISTRE_MASTER_KEY` when set, else `<data-dir>/master.key`
/// (created on first start).
pub fn key_file(data_dir: &Path) -> Result<KeyFile> {
    if let Ok(text) = std::env::var("REGISTRE_MASTER_KEY") {
        return KeyFile::parse(&text).context("REGISTRE_MASTER_KEY");
    }
    let path = data_dir.join(MASTER_KEY_FILE);
    let text = read_or_create_secret(&path, || MasterKey::generate().to_hex())?;
    KeyFile::parse(&text).with_context(|| format!("{}", path.display()))
}

pub fn signing_key(data_dir: &Path) -> Result<SigningKey> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    let text = read_or_create_secret(&path, || SigningKey::generate().to_hex())?;
    SigningKey::from_hex(&text).with_context(|| format!("{}", path.display()))
}

/// The retired public keys of the data dir (none when the file is absent).
pub fn retired_ledger_keys(data_dir: &Path) -> Result<Vec<VerifyingKey>> {
    let path = data_dir.join(RETIRED_LEDGER_KEYS_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    registre_domain::proof::keys_from_jwks(&value)
        .with_context(|| format!("{} is not a JWK set", path.display()))
}

/// Writes `text` to `path` (mode 0600) so that a reader sees the old file or the new one,
/// never half of one: a temporary file, synced, renamed over, the directory synced.
pub fn replace_private(path: &Path, text: &str) -> Result<()> {
    let temporary = path.with_extension("tmp");
    let _ = std::fs::remove_file(&temporary);
    write_private(&temporary, text)?;
    durable::rename(&temporary, path).with_context(|| format!("cannot replace {}", path.display()))
}

pub async fn open_store(global: &GlobalOptions) -> Result<Arc<dyn Store>> {
    match global.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let durability = if global.allow_non_durable_database {
                registre_store_postgres::Durability::NotRequired
            } else {
                registre_store_postgres::Durability::Required
            };
            let store = registre_store_postgres::PostgresStore::connect_with(url, durability)
                .await
                .context("cannot open the PostgreSQL store")?;
            Ok(Arc::new(store))
        }
        Some(url) if url.starts_with("sqlite:") => {
            let store = registre_store_sqlite::SqliteStore::open_url(url)
                .await
                .context("cannot open the SQLite store")?;
            Ok(Arc::new(store))
        }
        Some(other) => {
            bail!("unsupported database URL {other:?}: use postgres://... or sqlite://PATH")
        }
        None => {
            let path = global.data_dir.join("registre.db");
            let store = registre_store_sqlite::SqliteStore::open(&path)
                .await
                .with_context(|| format!("cannot open the SQLite store at {}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// Opens the store for reading only, without migrating it or creating anything: for
/// `verify` and exports, which may run while the server runs.
pub async fn open_store_read_only(global: &GlobalOptions) -> Result<Arc<dyn Store>> {
    match global.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = registre_store_postgres::PostgresStore::connect_read_only(url)
                .await
                .context("cannot open the PostgreSQL store")?;
            Ok(Arc::new(store))
        }
        Some(url) if url.starts_with("sqlite:") => {
            let store = registre_store_sqlite::SqliteStore::open_url_read_only(url)
                .await
                .context("cannot open the SQLite store")?;
            Ok(Arc::new(store))
        }
        Some(other) => {
            bail!("unsupported database URL {other:?}: use postgres://... or sqlite://PATH")
        }
        None => {
            let path = global.data_dir.join("registre.db");
            if !path.exists() {
                bail!("there is no database at {}", path.display());
            }
            let store = registre_store_sqlite::SqliteStore::open_read_only(&path)
                .await
                .with_context(|| format!("cannot open the SQLite store at {}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// The ledger's public keys: the data dir's signing key's (never created), then the retired
/// ones.
pub fn existing_ledger_keys(data_dir: &Path) -> Result<Vec<VerifyingKey>> {
    let mut keys: Vec<VerifyingKey> = existing_ledger_key(data_dir)?.into_iter().collect();
    for key in retired_ledger_keys(data_dir)? {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// The ledger's public key from the data dir's signing key, if there is one (never created).
pub fn existing_ledger_key(data_dir: &Path) -> Result<Option<VerifyingKey>> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(
        SigningKey::from_hex(&text)
            .with_context(|| format!("{}", path.display()))?
            .verifying_key(),
    ))
}

/// Creates the data dir (mode 0700) and any missing parent durably, so that a power loss
/// after the first start cannot take away the directory that holds the keys.
pub fn ensure_data_dir(data_dir: &Path) -> Result<()> {
    durable::create_dir_all(data_dir, true)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Opens everything a command needs to act on the registers.
pub async fn open_app(global: &GlobalOptions, public_url: String) -> Result<App> {
    ensure_data_dir(&global.data_dir)?;
    let keyring = Keyring::from_key_file(&key_file(&global.data_dir)?);
    let signing_key = signing_key(&global.data_dir)?;
    let retired = retired_ledger_keys(&global.data_dir)?;
    let mut config = AppConfig::new(public_url, &global.data_dir);
    if let Ok(text) = std::env::var("REGISTRE_WITNESSES") {
        config.witnesses = registre_app::witnesses::parse_witnesses(&text)
            .map_err(|e| anyhow::anyhow!("REGISTRE_WITNESSES: {e}"))?;
    }
    if let Ok(text) = std::env::var("REGISTRE_WITNESS_LOGS") {
        config.witnessed_logs = registre_app::witnesses::parse_witnessed_logs(&text)
            .map_err(|e| anyhow::anyhow!("REGISTRE_WITNESS_LOGS: {e}"))?;
    }
    let store = open_store(global).await?;
    let app = App::new(store, keyring, signing_key, Arc::new(SystemClock), config);
    if !retired.is_empty() {
        app.set_ledger_keys(self::signing_key(&global.data_dir)?, retired);
    }
    Ok(app)
}

/// What identifies a file's version cheaply: inode, length, modification time.
fn stamp(path: &Path) -> Option<(u64, u64, std::time::SystemTime)> {
    let metadata = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Some((inode, metadata.len(), metadata.modified().ok()?))
}

/// How often a running server looks at its key files.
pub const KEY_WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Watches the key files of the data dir and hands rotated keys to the running server:
/// `registre keys rotate` replaces them, and within [`KEY_WATCH_INTERVAL`] new subject keys
/// are wrapped with the new master key and checkpoints signed with the new signing key.
pub fn spawn_key_watch(app: App, data_dir: std::path::PathBuf) {
    tokio::spawn(async move {
        let files = [MASTER_KEY_FILE, SIGNING_KEY_FILE, RETIRED_LEDGER_KEYS_FILE];
        let stamps = |dir: &Path| files.map(|f| stamp(&dir.join(f)));
        let mut seen = stamps(&data_dir);
        let mut ticker = tokio::time::interval(KEY_WATCH_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = stamps(&data_dir);
            if now == seen {
                continue;
            }
            if now[0] != seen[0] && std::env::var_os("REGISTRE_MASTER_KEY").is_none() {
                let path = data_dir.join(MASTER_KEY_FILE);
                let loaded = std::fs::read_to_string(&path)
                    .map_err(anyhow::Error::from)
                    .and_then(|text| KeyFile::parse(&text).map_err(anyhow::Error::from))
                    .and_then(|file| app.keyring().replace(&file).map_err(anyhow::Error::from));
                match loaded {
                    Ok(()) => {
                        tracing::info!(key_ids = ?app.keyring().key_ids(), "reloaded the keyring")
                    }
                    Err(error) => {
                        tracing::error!(%error, "cannot reload the keyring; keeping the keys in use")
                    }
                }
            }
            if now[1] != seen[1] || now[2] != seen[2] {
                let loaded = signing_key(&data_dir)
                    .and_then(|key| Ok((key, retired_ledger_keys(&data_dir)?)));
                match loaded {
                    Ok((key, retired)) => {
                        let kid = key.verifying_key().kid();
                        app.set_ledger_keys(key, retired);
                        tracing::info!(%kid, "reloaded the ledger signing key");
                    }
                    Err(error) => {
                        tracing::error!(%error, "cannot reload the ledger keys; keeping the keys in use")
                    }
                }
            }
            seen = now;
        }
    });
}
