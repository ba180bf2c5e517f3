mod audit_form;
mod backup;
mod keys;
mod ledger;
mod registers;
mod serve;

use crate::cli::{
    ApiKeyCommand, Cli, Command, ExportCommand, ImportCommand, KeysCommand, LedgerCommand,
    UserCommand,
};
use crate::setup::open_app;
use anyhow::{Context, Result};
use registre_app::Principal;
use std::process::ExitCode;

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        Command::Serve(args) => serve::run(&global, args).await,
        Command::ApiKey(ApiKeyCommand::Create { name, role }) => {
            let app = open_app(&global, String::new()).await?;
            let created = app
                .create_api_key(&Principal::cli(), &name, role.into())
                .await?;
            println!(
                "Created API key {} ({}) with role {}. It is shown once; keep it safe:",
                created.name,
                created.id,
                created.role.as_str()
            );
            println!("{}", created.key);
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Create {
            email,
            role,
            password_stdin,
        }) => {
            let app = open_app(&global, String::new()).await?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                Some(line.trim_end_matches(['\n', '\r']).to_string())
            } else {
                None
            };
            let id = app
                .create_user(&Principal::cli(), &email, role.into(), password.as_deref())
                .await?;
            println!("Created user {id}.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            let app = open_app(&global, String::new()).await?;
            app.load_demo().await?;
            println!(
                "The demo organisation \"Exemple SAS\" is loaded in {}.",
                global.data_dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::AuditForm(args) => audit_form::run(args).await,
        Command::Verify(args) => ledger::verify(&global, args).await,
        Command::VerifyReceipt(args) => ledger::verify_receipt(&global, args),
        Command::Ledger(LedgerCommand::Export { file }) => ledger::export(&global, &file).await,
        Command::Ledger(LedgerCommand::Checkpoint) => ledger::checkpoint(&global).await,
        Command::Import(ImportCommand::Consents { file }) => {
            ledger::import_consents(&global, &file).await
        }
        Command::Export(ExportCommand::Ropa { format, lang }) => {
            registers::export_ropa(&global, format, lang).await
        }
        Command::Purge(args) => registers::purge(&global, args).await,
        Command::Backup(args) => backup::backup(&global, args).await,
        Command::Restore(args) => backup::restore(&global, args).await,
        Command::Keys(KeysCommand::Rotate(args)) if args.signing => {
            keys::rotate_signing(&global).await
        }
        Command::Keys(KeysCommand::Rotate(args)) => keys::rotate_master(&global, args).await,
        Command::Keys(KeysCommand::List) => keys::list(&global).await,
        Command::Keys(KeysCommand::Retire) => keys::retire(&global).await,
    }
}
