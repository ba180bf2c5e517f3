use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "registre",
    version,
    about = "GDPR registers: consents, notices, requests, processors, breaches"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalOptions {
    /// Where keys, the SQLite database and the mail outbox live.
    #[arg(
        long,
        global = true,
        env = "REGISTRE_DATA_DIR",
        default_value = "./registre-data"
    )]
    pub data_dir: PathBuf,
    /// `postgres://...` to use PostgreSQL; default: SQLite at <data-dir>/registre.db.
    #[arg(long, global = true, env = "REGISTRE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Runs on a PostgreSQL database even when its settings (`fsync`, `synchronous_commit`,
    /// `full_page_writes`) let a crash lose acknowledged writes: durability is not wanted.
    #[arg(
        long,
        global = true,
        env = "REGISTRE_ALLOW_NON_DURABLE",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_non_durable_database: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs the server: API, public forms, privacy portal, console.
    Serve(ServeArgs),
    /// Manages API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Manages console users.
    #[command(subcommand)]
    User(UserCommand),
    /// Loads the demo organisation into the data dir.
    Demo,
    /// Checks the ledger (with its signed checkpoints) and audit chains, or a ledger export
    /// with --file; names the first broken sequence number; exit 1 on any break.
    Verify(VerifyArgs),
    /// Checks a consent receipt offline: its signature, its event's inclusion proof against
    /// the checkpoint it carries, and with --checkpoint that the event is still in a later
    /// ledger; exit 1 when the receipt does not prove itself.
    VerifyReceipt(VerifyReceiptArgs),
    /// The consent ledger's proofs.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Imports earlier records.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Audits the forms of a web page (file or URL) for GDPR faults; exit 1 on any error.
    AuditForm(AuditFormArgs),
    /// Prints a register to standard output.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Applies retention periods: erases the people and submissions that outlived every
    /// purpose, and reports counts (never who).
    Purge(PurgeArgs),
    /// Writes an encrypted backup (a consistent snapshot of the database and the key files)
    /// to FILE while the server runs.
    Backup(BackupArgs),
    /// Restores a backup into an empty data dir (and, for PostgreSQL, an empty database).
    Restore(RestoreArgs),
    /// Rotates and lists the master and ledger signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// How a backup is encrypted: a passphrase (Argon2id) or a key file. One is required.
#[derive(Args, Debug, Clone)]
pub struct BackupSecretArgs {
    /// Reads the passphrase (at least 12 characters) from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["passphrase_stdin", "key_file"])]
    pub passphrase_file: Option<PathBuf>,
    /// Reads the passphrase from the first line of standard input.
    #[arg(long, conflicts_with = "key_file")]
    pub passphrase_stdin: bool,
    /// Encrypts with a key file of at least 32 random bytes (`head -c 32 /dev/urandom > FILE`).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where the archive goes (written beside as FILE.partial, then renamed).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub secret: BackupSecretArgs,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub secret: BackupSecretArgs,
    /// A ledger export made after the backup (`registre ledger export`): everyone erased
    /// after the backup was taken is erased again. Repeatable.
    #[arg(long, value_name = "LEDGER_EXPORT")]
    pub erasures_from: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Rotates the master key: a new one wraps every subject key, while servers keep
    /// running; with --signing, rotates the ledger signing key instead (the old public key
    /// stays published and trusted for what it signed).
    Rotate(RotateArgs),
    /// Lists the key ids in use: master keys (current and retired) and ledger keys.
    List,
    /// Forgets retired master keys once no subject key is wrapped under them any more.
    Retire,
}

#[derive(Args, Debug)]
pub struct RotateArgs {
    /// Rotates the ledger signing key instead of the master key.
    #[arg(long)]
    pub signing: bool,
    /// Seconds to wait for running servers to read the new key file before re-wrapping,
    /// and again before retiring the old key (servers look every second).
    #[arg(long, default_value_t = 3)]
    pub grace_seconds: u64,
    /// Keeps the old master key in the keyring file (for servers on other machines, which
    /// need the new file first); `registre keys retire` forgets it later.
    #[arg(long)]
    pub keep_old: bool,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The record of processing activities (Art. 30), derived from the registers.
    Ropa {
        #[arg(long, value_enum, default_value_t = RopaFormat::Json)]
        format: RopaFormat,
        /// Language of the CSV and HTML forms; the organisation's by default.
        #[arg(long, value_enum)]
        lang: Option<LanguageArg>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopaFormat {
    Json,
    Csv,
    Html,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LanguageArg {
    Fr,
    En,
}

impl From<LanguageArg> for registre_domain::Language {
    fn from(language: LanguageArg) -> Self {
        match language {
            LanguageArg::Fr => Self::Fr,
            LanguageArg::En => Self::En,
        }
    }
}

#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Reports what would be erased, erases nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// `text` (default) or `json`.
    #[arg(long, value_enum, default_value_t = PurgeFormat::Text)]
    pub format: PurgeFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurgeFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Checks this ledger export (from `registre ledger export`) offline instead of the database.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The trusted public key: a file or text holding the JWK set of
    /// /.well-known/registre/ledger-key, one JWK, or the key in hex. Default: the data dir's
    /// key, or with --file the keys the export carries.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// A checkpoint kept outside the database, to compare the ledger with: a C2SP signed
    /// note (`GET /api/v1/ledger/checkpoint`, a receipt's checkpoint) or a checkpoint log
    /// (a copy of `ledger-checkpoints.jsonl`, a witness's record). May be repeated. The data
    /// dir's checkpoint log and the audit log are always compared.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyReceiptArgs {
    /// The receipt as downloaded (`/r/{token}/receipt.json` or
    /// `GET /api/v1/consents/{event_id}/receipt`).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// A later checkpoint (`GET /api/v1/ledger/checkpoint`, a C2SP signed note) the event
    /// must still be in.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// The consistency proof from the receipt's tree to the later checkpoint's
    /// (`GET /api/v1/ledger/proofs/consistency?from=N&to=M`), when their sizes differ.
    #[arg(long, value_name = "FILE", requires = "checkpoint")]
    pub consistency: Option<PathBuf>,
    /// The trusted public key, as for `registre verify --key`. Default: the data dir's key
    /// when there is one, else the key the receipt names (compare it with
    /// /.well-known/registre/ledger-key).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Signs the ledger head now (the server also does it periodically).
    Checkpoint,
    /// Writes every event and signed checkpoint, with the public key, as JSON Lines to FILE
    /// (`-` for standard output), for `registre verify --file`.
    Export {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Imports consents from a CSV file with the header
    /// `email,purpose,action,occurred_at[,source][,touchpoint][,notice_version]`; reports
    /// rejected rows by line number; exit 1 when any row was rejected.
    Consents {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct AuditFormArgs {
    /// An HTML file, `-` for standard input, or an http(s) URL.
    pub source: String,
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Allows fetching private and loopback addresses (intranet pages).
    #[arg(long)]
    pub allow_private: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on. An address other than loopback needs --tls-cert and
    /// --tls-key, or --insecure-public.
    #[arg(long, env = "REGISTRE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Base URL of links in mail and pages; default http(s)://<listen address>.
    #[arg(long, env = "REGISTRE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serves HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(
        long,
        value_name = "PEM",
        env = "REGISTRE_TLS_CERT",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        value_name = "PEM",
        env = "REGISTRE_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Allows plain HTTP on an address other than loopback: for a server behind a TLS
    /// reverse proxy (see docs/operations.md), never for one browsers reach directly.
    #[arg(long)]
    pub insecure_public: bool,
    /// Loads the demo organisation before serving.
    #[arg(long)]
    pub demo: bool,
    /// Serves Prometheus metrics (`GET /metrics`, plain HTTP, no key) on this address, a
    /// listener of their own: keep it private (loopback, or an interface only the
    /// monitoring reaches). Default: no metrics listener; the public one never has them.
    #[arg(long, value_name = "ADDR", env = "REGISTRE_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Creates a key and prints it alone on the last line.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Creates a console user.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Reads the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    Admin,
    Dpo,
    Agent,
    Auditor,
}

impl From<RoleArg> for registre_domain::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => Self::Admin,
            RoleArg::Dpo => Self::Dpo,
            RoleArg::Agent => Self::Agent,
            RoleArg::Auditor => Self::Auditor,
        }
    }
}
