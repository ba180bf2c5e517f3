//! After a restore of an older backup: erasures that happened after the backup was taken are
//! carried out again, so that a person erased stays erased. What says who was erased is a
//! later ledger export (`registre ledger export`): its erasure markers name the subject ids,
//! which the restored database still maps to a key and an email.
use crate::{App, AppError, AppResult, Principal};
use registre_domain::Email;
use registre_domain::ledger::ConsentAction;
use registre_domain::proof::{EXPORT_FORMAT, ExportLine};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::BufRead;
use uuid::Uuid;

/// What re-applying erasures did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ErasureReplay {
    /// Erasure markers in the export after the restored ledger's head.
    pub markers: u64,
    /// People erased again (they were in the restored database).
    pub erased_again: u64,
    /// Markers of people the restored database does not hold (created after the backup, or
    /// already erased again): nothing to do.
    pub not_in_backup: u64,
}

fn bad(message: String) -> AppError {
    AppError::Conflict(message)
}

impl App {
    /// Reads a ledger export made after the backup and erases again every person whose
    /// erasure marker it holds beyond the restored ledger's head. The export must continue
    /// the restored ledger: its event at the restored head's sequence number has the same
    /// hash, or nothing is done. `restored_head` is the ledger head as restored, before
    /// any erasure was re-applied.
    pub async fn reapply_erasures(
        &self,
        by: &Principal,
        restored_head: &(i64, String),
        export: impl BufRead,
    ) -> AppResult<ErasureReplay> {
        let (head_seq, head_hash) = (restored_head.0, restored_head.1.clone());
        let mut erased: Vec<Uuid> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut continues = head_seq == 0;
        let mut length = None;
        let mut replay = ErasureReplay::default();
        for (index, line) in export.lines().enumerate() {
            let text = line.map_err(|e| bad(format!("ledger export line {}: {e}", index + 1)))?;
            if text.trim().is_empty() {
                continue;
            }
            let parsed: ExportLine = serde_json::from_str(&text)
                .map_err(|e| bad(format!("ledger export line {}: {e}", index + 1)))?;
            match parsed {
                ExportLine::Header(header) => {
                    if header.format != EXPORT_FORMAT {
                        return Err(bad("this file is not a Registre ledger export".into()));
                    }
                    length = Some(header.length);
                }
                ExportLine::Checkpoint(_) => {}
                ExportLine::Event(event) => {
                    if event.seq == head_seq {
                        continues = event.hash == head_hash;
                    }
                    if event.seq > head_seq
                        && event.action == ConsentAction::Erase
                        && seen.insert(event.subject_id)
                    {
                        replay.markers += 1;
                        erased.push(event.subject_id);
                    }
                }
            }
        }
        let Some(length) = length else {
            return Err(bad("the ledger export has no header".into()));
        };
        if length < head_seq {
            return Err(bad(format!(
                "the ledger export ends at sequence number {length}, before the backup's head ({head_seq}): give an export made after the backup"
            )));
        }
        if !continues {
            return Err(bad(format!(
                "the ledger export does not continue the restored ledger (its event {head_seq} differs): it is from another installation or another history"
            )));
        }
        for subject_id in erased {
            let Some(subject) = self.store().subject(subject_id).await? else {
                replay.not_in_backup += 1;
                continue;
            };
            let key = self.subject_key(&subject)?;
            let email = Email::parse(&self.subject_email(&subject, &key)?)
                .map_err(|e| bad(format!("a restored email does not parse: {e}")))?;
            self.erase_person(by, &email, None).await?;
            replay.erased_again += 1;
        }
        if replay.markers > 0 {
            self.record_operation(
                by,
                "backup.erasures_reapplied",
                serde_json::json!({
                    "markers": replay.markers,
                    "erased_again": replay.erased_again,
                    "not_in_backup": replay.not_in_backup,
                }),
            )
            .await?;
        }
        Ok(replay)
    }
}
