//! `registre backup` and `registre restore`: an encrypted archive of the key files and a
//! consistent snapshot of the database, taken while servers keep writing.
//!
//! Inside the encryption (see `registre_crypto::backup`) the archive is a sequence of parts:
//! a little-endian `u16` name length and the name, then pieces (`u32` length and bytes)
//! ending with an empty piece; an empty name ends the archive. Parts: `keys/<file>` for each
//! key file of the data dir, the database snapshot, then `manifest.json`.
use crate::cli::{BackupArgs, BackupSecretArgs, GlobalOptions, RestoreArgs};
use crate::setup::{
    MASTER_KEY_FILE, RETIRED_LEDGER_KEYS_FILE, SIGNING_KEY_FILE, ensure_data_dir,
    existing_ledger_keys, key_file, open_app, open_store_read_only, write_private,
};
use anyhow::{Context, Result, anyhow, bail};
use registre_app::Principal;
use registre_crypto::backup::{ArchiveReader, ArchiveWriter, BackupSecret};
use registre_store::{SnapshotInfo, SnapshotSink, SnapshotSource};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

const MANIFEST_PART: &str = "manifest.json";
const KEY_PART_PREFIX: &str = "keys/";
const MANIFEST_FORMAT: &str = "registre-backup";
/// Largest piece written or accepted.
const MAX_PIECE: usize = 16 << 20;

/// The passphrase or key file from the options (or `REGISTRE_BACKUP_PASSPHRASE`).
fn read_secret(args: &BackupSecretArgs) -> Result<BackupSecret> {
    let first_line = |text: &str| text.lines().next().unwrap_or_default().to_string();
    let secret = if let Some(path) = &args.key_file {
        BackupSecret::KeyFile(Zeroizing::new(
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        ))
    } else if let Some(path) = &args.passphrase_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        );
        BackupSecret::Passphrase(Zeroizing::new(first_line(&text)))
    } else if args.passphrase_stdin {
        let mut line = Zeroizing::new(String::new());
        io::stdin()
            .read_line(&mut line)
            .context("cannot read the passphrase from standard input")?;
        BackupSecret::Passphrase(Zeroizing::new(first_line(&line)))
    } else if let Ok(text) = std::env::var("REGISTRE_BACKUP_PASSPHRASE") {
        BackupSecret::Passphrase(Zeroizing::new(text))
    } else {
        bail!(
            "a backup is encrypted: give --passphrase-file FILE, --passphrase-stdin, --key-file FILE or REGISTRE_BACKUP_PASSPHRASE"
        );
    };
    secret.validate()?;
    Ok(secret)
}

/// Writes parts into the encrypted archive.
struct ArchiveSink<W: Write + Send> {
    writer: ArchiveWriter<W>,
}

impl<W: Write + Send> SnapshotSink for ArchiveSink<W> {
    fn begin(&mut self, name: &str) -> io::Result<()> {
        let length = u16::try_from(name.len())
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| io::Error::other("bad part name"))?;
        self.writer.write_all(&length.to_le_bytes())?;
        self.writer.write_all(name.as_bytes())
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        for piece in bytes.chunks(MAX_PIECE) {
            let length = u32::try_from(piece.len()).map_err(io::Error::other)?;
            self.writer.write_all(&length.to_le_bytes())?;
            self.writer.write_all(piece)?;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        self.writer.write_all(&0u32.to_le_bytes())
    }
}

impl<W: Write + Send> ArchiveSink<W> {
    fn part(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.begin(name)?;
        self.write(bytes)?;
        self.end()
    }

    fn finish(mut self) -> io::Result<W> {
        self.writer.write_all(&0u16.to_le_bytes())?;
        self.writer.finish()
    }
}

/// Reads parts back from the decrypted archive.
struct ArchiveSource<R: Read + Send> {
    reader: ArchiveReader<R>,
    pushed_back: Option<String>,
    ended: bool,
}

impl<R: Read + Send> ArchiveSource<R> {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut all = Vec::new();
        loop {
            let piece = self.read_piece()?;
            if piece.is_empty() {
                return Ok(all);
            }
            all.extend_from_slice(&piece);
        }
    }
}

impl<R: Read + Send> SnapshotSource for ArchiveSource<R> {
    fn next_part(&mut self) -> io::Result<Option<String>> {
        if let Some(name) = self.pushed_back.take() {
            return Ok(Some(name));
        }
        if self.ended {
            return Ok(None);
        }
        let mut length = [0u8; 2];
        self.reader.read_exact(&mut length)?;
        let length = u16::from_le_bytes(length) as usize;
        if length == 0 {
            self.ended = true;
            return Ok(None);
        }
        let mut name = vec![0u8; length];
        self.reader.read_exact(&mut name)?;
        String::from_utf8(name)
            .map(Some)
            .map_err(|_| io::Error::other("a part name is not UTF-8"))
    }

    fn read_piece(&mut self) -> io::Result<Vec<u8>> {
        let mut length = [0u8; 4];
        self.reader.read_exact(&mut length)?;
        let length = u32::from_le_bytes(length) as usize;
        if length > MAX_PIECE {
            return Err(io::Error::other("the archive is damaged (piece too large)"));
        }
        let mut piece = vec![0u8; length];
        self.reader.read_exact(&mut piece)?;
        Ok(piece)
    }
}

/// The key files to keep: the keyring (from `REGISTRE_MASTER_KEY` when set), the signing
/// key, the retired public keys, and any other `*.key` file of the data dir.
fn key_files(data_dir: &Path) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>> {
    let mut files = Vec::new();
    if let Ok(text) = std::env::var("REGISTRE_MASTER_KEY") {
        files.push((
            MASTER_KEY_FILE.to_string(),
            Zeroizing::new(text.into_bytes()),
        ));
    }
    let entries = std::fs::read_dir(data_dir)
        .with_context(|| format!("cannot read the data dir {}", data_dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".key") || n == RETIRED_LEDGER_KEYS_FILE)
        .collect();
    names.sort();
    for name in names {
        if files.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let bytes = std::fs::read(data_dir.join(&name))
            .with_context(|| format!("cannot read {}", data_dir.join(&name).display()))?;
        files.push((name, Zeroizing::new(bytes)));
    }
    Ok(files)
}

pub async fn backup(global: &GlobalOptions, args: BackupArgs) -> Result<ExitCode> {
    let secret = read_secret(&args.secret)?;
    let keys = key_files(&global.data_dir)?;
    if !keys.iter().any(|(n, _)| n == MASTER_KEY_FILE) {
        bail!(
            "there is no {MASTER_KEY_FILE} in {}: without it a backup could not be read",
            global.data_dir.display()
        );
    }
    let keyring = key_file(&global.data_dir)?;
    let ledger_keys = existing_ledger_keys(&global.data_dir)?;
    let store = open_store_read_only(global).await?;

    let partial = PathBuf::from(format!("{}.partial", args.file.display()));
    let scratch = PathBuf::from(format!("{}.scratch", args.file.display()));
    let _ = std::fs::remove_file(&partial);
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o700))?;
    }
    let result = async {
        let out = private_file(&partial)?;
        let mut sink = ArchiveSink {
            writer: ArchiveWriter::new(BufWriter::new(out), &secret)?,
        };
        for (name, bytes) in &keys {
            sink.part(&format!("{KEY_PART_PREFIX}{name}"), bytes)?;
        }
        let started = chrono::Utc::now();
        let info = store.snapshot(&scratch, &mut sink).await?;
        let manifest = serde_json::json!({
            "format": MANIFEST_FORMAT,
            "version": 1,
            "started_at": started,
            "finished_at": chrono::Utc::now(),
            "registre_version": env!("CARGO_PKG_VERSION"),
            "snapshot": info,
            "key_files": keys.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "master_key_ids": keyring.key_ids(),
            "keyring_fingerprint": keyring.fingerprint(),
            "ledger_key_ids": ledger_keys.iter().map(|k| k.kid()).collect::<Vec<_>>(),
        });
        sink.part(MANIFEST_PART, &serde_json::to_vec_pretty(&manifest)?)?;
        let file = sink
            .finish()?
            .into_inner()
            .map_err(|e| anyhow!("cannot write {}: {}", partial.display(), e.error()))?;
        file.sync_all()?;
        anyhow::Ok(info)
    }
    .await;
    let _ = std::fs::remove_dir_all(&scratch);
    let info = match result {
        Ok(info) => info,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error.context("the backup failed; nothing was written"));
        }
    };
    registre_crypto::durable::rename(&partial, &args.file)
        .with_context(|| format!("cannot rename to {}", args.file.display()))?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "Backed up the {} database ({} events, ledger head {}, {} people) and {} key files to {} ({} bytes, encrypted).",
        info.backend,
        info.ledger_length,
        info.ledger_head,
        info.subjects,
        keys.len(),
        args.file.display(),
        size
    );
    Ok(ExitCode::SUCCESS)
}

fn private_file(path: &Path) -> Result<File> {
    registre_crypto::durable::create_new_private(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Refuses a data dir that holds anything: a restore never mixes with existing keys or data.
fn ensure_empty(data_dir: &Path) -> Result<()> {
    if !data_dir.exists() {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(data_dir)
        .with_context(|| format!("cannot read {}", data_dir.display()))?;
    if let Some(entry) = entries.next() {
        let name = entry?.file_name().to_string_lossy().to_string();
        bail!(
            "the data dir {} is not empty (it holds {name}): restore only into an empty data dir / le répertoire de données n'est pas vide : restaurez dans un répertoire vide",
            data_dir.display()
        );
    }
    Ok(())
}

/// Where a restore into `data_dir` is built before it is moved into place: a hidden sibling,
/// on the same file system, so the final rename is atomic.
fn staging_dir(data_dir: &Path) -> Result<PathBuf> {
    let name = data_dir
        .file_name()
        .ok_or_else(|| anyhow!("the data dir {} has no name", data_dir.display()))?;
    let parent = data_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(parent.join(format!(".{}.restoring", name.to_string_lossy())))
}

/// `path` with `suffix` added to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// Removes what an earlier restore left when it was killed: only the staging places this
/// command makes, never the data dir itself.
fn remove_leftovers(staging: &Path, staged_database: Option<&Path>) -> Result<()> {
    if staging.exists() {
        std::fs::remove_dir_all(staging).with_context(|| {
            format!(
                "cannot remove {} left by an interrupted restore",
                staging.display()
            )
        })?;
    }
    if let Some(database) = staged_database {
        for file in [
            database.to_path_buf(),
            with_suffix(database, "-wal"),
            with_suffix(database, "-shm"),
        ] {
            if file.exists() {
                std::fs::remove_file(&file).with_context(|| {
                    format!(
                        "cannot remove {} left by an interrupted restore",
                        file.display()
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// Makes a rename in `dir` durable. (To be folded into the shared "sync file then
/// directory" helper.)
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

/// Moves the finished staging dir into place: one rename (over an empty data dir too);
/// when the data dir cannot be replaced (a mount point), its entries one by one.
fn move_into_place(staging: &Path, data_dir: &Path) -> Result<()> {
    if std::fs::rename(staging, data_dir).is_err() {
        for entry in std::fs::read_dir(staging)
            .with_context(|| format!("cannot read {}", staging.display()))?
        {
            let entry = entry?;
            std::fs::rename(entry.path(), data_dir.join(entry.file_name())).with_context(|| {
                format!(
                    "cannot move {} into {}",
                    entry.path().display(),
                    data_dir.display()
                )
            })?;
        }
        sync_dir(data_dir)?;
        std::fs::remove_dir(staging)
            .with_context(|| format!("cannot remove {}", staging.display()))?;
    }
    sync_dir(staging.parent().unwrap_or(Path::new(".")))
}

enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

fn target(global: &GlobalOptions) -> Result<Target> {
    Ok(match global.database_url.as_deref() {
        None => Target::Sqlite(global.data_dir.join("registre.db")),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Target::Postgres(url.to_string())
        }
        Some(url) if url.starts_with("sqlite:") => Target::Sqlite(PathBuf::from(
            url.trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:"),
        )),
        Some(other) => bail!("unsupported database URL {other:?}"),
    })
}

/// Restores into a staging dir next to the data dir (and, for a SQLite database outside
/// it, a staging file next to it), moved into place only once everything is restored and
/// checked: a restore killed midway leaves the data dir as it was, and a retry starts by
/// removing what the killed one left.
pub async fn restore(global: &GlobalOptions, args: RestoreArgs) -> Result<ExitCode> {
    ensure_empty(&global.data_dir)?;
    let target = target(global)?;
    if let Target::Sqlite(path) = &target
        && path.exists()
    {
        bail!(
            "{} already exists: restore only into an empty place",
            path.display()
        );
    }
    let staging = staging_dir(&global.data_dir)?;
    // A SQLite database inside the data dir moves with it; one elsewhere is staged beside
    // its final place and renamed last.
    let (staged_global, outside_database) = match &target {
        Target::Sqlite(path) => match path.strip_prefix(&global.data_dir) {
            Ok(_) if global.database_url.is_none() => (
                GlobalOptions {
                    data_dir: staging.clone(),
                    database_url: None,
                    allow_non_durable_database: global.allow_non_durable_database,
                },
                None,
            ),
            Ok(inside) => (
                GlobalOptions {
                    data_dir: staging.clone(),
                    database_url: Some(format!("sqlite:{}", staging.join(inside).display())),
                    allow_non_durable_database: global.allow_non_durable_database,
                },
                None,
            ),
            Err(_) => {
                let staged = with_suffix(path, ".restoring");
                (
                    GlobalOptions {
                        data_dir: staging.clone(),
                        database_url: Some(format!("sqlite:{}", staged.display())),
                        allow_non_durable_database: global.allow_non_durable_database,
                    },
                    Some((staged, path.clone())),
                )
            }
        },
        Target::Postgres(_) => (
            GlobalOptions {
                data_dir: staging.clone(),
                database_url: global.database_url.clone(),
                allow_non_durable_database: global.allow_non_durable_database,
            },
            None,
        ),
    };
    remove_leftovers(
        &staging,
        outside_database.as_ref().map(|(s, _)| s.as_path()),
    )?;
    let staged_target = self::target(&staged_global)?;
    let secret = read_secret(&args.secret)?;
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let reader = ArchiveReader::open(BufReader::new(file), &secret)
        .map_err(|e| anyhow!("cannot open the backup {}: {e}", args.file.display()))?;
    ensure_data_dir(&staging)?;
    let mut source = ArchiveSource {
        reader,
        pushed_back: None,
        ended: false,
    };
    let restored = async {
        let manifest = unpack(&staged_global, &staged_target, &mut source).await?;
        let code = finish_restore(&staged_global, global, &args, &manifest).await?;
        if let Some((staged, path)) = &outside_database {
            for suffix in ["-wal", "-shm"] {
                let file = with_suffix(staged, suffix);
                if file.exists() {
                    std::fs::rename(&file, with_suffix(path, suffix))?;
                }
            }
            std::fs::rename(staged, path)
                .with_context(|| format!("cannot move the database to {}", path.display()))?;
            sync_dir(path.parent().unwrap_or(Path::new(".")))?;
        }
        move_into_place(&staging, &global.data_dir)?;
        Ok::<_, anyhow::Error>(code)
    }
    .await;
    match restored {
        Ok(code) => Ok(code),
        Err(error) => {
            let _ = remove_leftovers(
                &staging,
                outside_database.as_ref().map(|(s, _)| s.as_path()),
            );
            let postgres = if matches!(target, Target::Postgres(_)) {
                " (PostgreSQL: drop and create the database again before a new try)"
            } else {
                ""
            };
            Err(error.context(format!(
                "the restore failed; the data dir was left as it was{postgres}"
            )))
        }
    }
}

/// What the manifest says of the snapshot.
struct Manifest {
    info: SnapshotInfo,
    started_at: String,
}

async fn unpack<R: Read + Send>(
    global: &GlobalOptions,
    target: &Target,
    source: &mut ArchiveSource<R>,
) -> Result<Manifest> {
    let mut manifest = None;
    let mut database = false;
    let mut keys = Vec::new();
    while let Some(name) = source.next_part()? {
        if let Some(file) = name.strip_prefix(KEY_PART_PREFIX) {
            if file.is_empty() || file.contains(['/', '\\']) || file.starts_with('.') {
                bail!("the backup holds a key file with a strange name: {file:?}");
            }
            let bytes = Zeroizing::new(source.read_all()?);
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| anyhow!("the key file {file} is not text"))?;
            write_private(&global.data_dir.join(file), text)?;
            keys.push(file.to_string());
        } else if name == registre_store_sqlite::maintenance::SNAPSHOT_PART {
            let Target::Sqlite(path) = target else {
                bail!(
                    "this backup is of a SQLite database: restore it without --database-url postgres://..."
                );
            };
            let mut out = BufWriter::new(private_file(path)?);
            loop {
                let piece = source.read_piece()?;
                if piece.is_empty() {
                    break;
                }
                out.write_all(&piece)?;
            }
            let file = out
                .into_inner()
                .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error()))?;
            registre_crypto::durable::finish(&file, path)?;
            database = true;
        } else if name.starts_with("database/postgres/") {
            let Target::Postgres(url) = target else {
                bail!(
                    "this backup is of a PostgreSQL database: restore it with --database-url postgres://... (an empty database)"
                );
            };
            source.pushed_back = Some(name);
            registre_store_postgres::PostgresStore::restore(url, source).await?;
            database = true;
        } else if name == MANIFEST_PART {
            let value: serde_json::Value = serde_json::from_slice(&source.read_all()?)
                .context("the backup's manifest is not JSON")?;
            if value["format"] != MANIFEST_FORMAT {
                bail!("this archive is not a Registre backup");
            }
            manifest = Some(Manifest {
                info: serde_json::from_value(value["snapshot"].clone())
                    .context("the backup's manifest")?,
                started_at: value["started_at"].as_str().unwrap_or_default().to_string(),
            });
        } else {
            bail!("the backup holds an unknown part {name:?}: made by a newer Registre?");
        }
    }
    let Some(manifest) = manifest else {
        bail!("the backup is incomplete (no manifest)");
    };
    if !database {
        bail!("the backup holds no database");
    }
    if !keys.iter().any(|k| k == MASTER_KEY_FILE) || !keys.iter().any(|k| k == SIGNING_KEY_FILE) {
        bail!("the backup lacks {MASTER_KEY_FILE} or {SIGNING_KEY_FILE}");
    }
    Ok(manifest)
}

async fn finish_restore(
    staged: &GlobalOptions,
    global: &GlobalOptions,
    args: &RestoreArgs,
    manifest: &Manifest,
) -> Result<ExitCode> {
    let app = open_app(staged, String::new()).await?;
    let head = app.store().ledger_head().await?;
    if head
        != (
            manifest.info.ledger_length,
            manifest.info.ledger_head.clone(),
        )
    {
        bail!(
            "the restored ledger ends at seq {} but the backup's manifest says {}",
            head.0,
            manifest.info.ledger_length
        );
    }
    println!(
        "Restored the {} backup started at {} into {}: {} events (ledger head {}), {} people.",
        manifest.info.backend,
        manifest.started_at,
        global.data_dir.display(),
        manifest.info.ledger_length,
        manifest.info.ledger_head,
        manifest.info.subjects
    );
    for export in &args.erasures_from {
        let reader = BufReader::new(
            File::open(export).with_context(|| format!("cannot open {}", export.display()))?,
        );
        let replay = app
            .reapply_erasures(&Principal::cli(), &head, reader)
            .await
            .with_context(|| format!("cannot re-apply the erasures of {}", export.display()))?;
        println!(
            "Erasures after the backup ({}): {} markers, {} people erased again, {} not in the restored database.",
            export.display(),
            replay.markers,
            replay.erased_again,
            replay.not_in_backup
        );
    }
    let ledger = app.verify_ledger().await?;
    let audit = app.store().verify_audit_log().await?;
    println!(
        "ledger: {}, {} events; audit log: {}, {} entries",
        if ledger.ok { "ok" } else { "BROKEN" },
        ledger.length,
        if audit.ok { "ok" } else { "BROKEN" },
        audit.length
    );
    Ok(if ledger.ok && audit.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
