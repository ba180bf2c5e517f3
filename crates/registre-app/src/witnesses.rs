//! Witnesses of the ledger (C2SP tlog-witness): after each checkpoint, the server asks every
//! configured witness to cosign it, proving with a consistency proof that it extends the
//! last tree the witness cosigned, and keeps each cosignature in the checkpoint log. A
//! Registre is also a witness of other logs it is told to watch (`/witness/add-checkpoint`),
//! so two organisations, or two sites of one, vouch for each other's ledger.
use crate::{App, AppError, AppResult};
use registre_crypto::VerifyingKey;
use registre_domain::merkle::{self, Frontier, Hash};
use registre_domain::proof::Checkpoint;
use registre_domain::witness::{self, WitnessKey};
use registre_domain::{checkpoint_log, note};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// How long a witness may take to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// A witness this server asks to cosign its checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// The submission prefix: `add-checkpoint` is posted under it.
    pub url: String,
    pub key: WitnessKey,
}

/// Reads `REGISTRE_WITNESSES`: entries `URL VKEY` separated by `;` or new lines.
pub fn parse_witnesses(text: &str) -> Result<Vec<Witness>, String> {
    text.split([';', '\n'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (url, vkey) = entry.split_once(char::is_whitespace).ok_or_else(|| {
                format!("`{entry}`: expected the witness's URL, a space, its key")
            })?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("`{url}`: a witness URL is http(s)"));
            }
            let key = WitnessKey::parse(vkey).map_err(|e| format!("`{vkey}`: {e}"))?;
            Ok(Witness {
                url: url.trim_end_matches('/').to_string(),
                key,
            })
        })
        .collect()
}

/// Reads `REGISTRE_WITNESS_LOGS`: the note keys (`/.well-known/registre/ledger-note-key` of
/// each) of the logs this server witnesses, separated by `;`, spaces or new lines.
pub fn parse_witnessed_logs(text: &str) -> Result<Vec<(String, VerifyingKey)>, String> {
    text.split([';', '\n', ' '])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|vkey| witness::parse_log_key(vkey).map_err(|e| format!("`{vkey}`: {e}")))
        .collect()
}

/// What a checkpoint needs to be shown to witnesses: the tree it extends and the leaves
/// since.
pub(crate) struct ToWitness {
    pub checkpoint: Checkpoint,
    pub note: String,
    pub previous: Frontier,
    /// The leaves after `previous`, unless there were too many to keep.
    pub tail: Option<Vec<Hash>>,
}

/// The answer of this server as a witness.
#[derive(Debug, PartialEq, Eq)]
pub enum WitnessAnswer {
    /// 200: the cosignature lines.
    Cosigned(String),
    /// 404: not a log this server witnesses.
    UnknownLog,
    /// 403: no trusted signature on the checkpoint.
    NotSigned,
    /// 400: a malformed request, or an old size above the checkpoint's.
    Bad(String),
    /// 409: the old size is not the latest cosigned one (given), or the same size with
    /// another root.
    Conflict(u64),
    /// 422: the consistency proof does not verify.
    Inconsistent,
}

/// The latest tree this server cosigned for each log origin.
type WitnessState = HashMap<String, (u64, String)>;

impl App {
    /// The witnesses this server asks to cosign.
    pub fn witnesses(&self) -> &[Witness] {
        &self.config().witnesses
    }

    /// This server's name as a witness: its public host and path, then `/witness`.
    pub fn witness_name(&self) -> String {
        format!(
            "{}/witness",
            self.ledger_origin().trim_end_matches("/ledger")
        )
    }

    /// This server's cosigning key as a verifier key (type 0x04).
    pub fn witness_key(&self) -> String {
        WitnessKey {
            name: self.witness_name(),
            key: self.signing_key().verifying_key(),
        }
        .vkey()
    }

    /// Asks every witness to cosign `signed`, in the background; each cosignature is kept as
    /// a line of the checkpoint log. A witness that cannot be reached is logged and asked
    /// again with the next checkpoint.
    pub(crate) fn ask_witnesses(&self, signed: ToWitness) {
        if self.witnesses().is_empty() {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            let client = match reqwest::Client::builder().timeout(WITNESS_TIMEOUT).build() {
                Ok(client) => client,
                Err(error) => {
                    tracing::error!(%error, "cannot build the witness client");
                    return;
                }
            };
            for witness in app.witnesses().to_vec() {
                let answer = app.cosign_with(&client, &witness, &signed).await;
                app.metrics().witness_answer(answer.is_ok());
                match answer {
                    Ok(()) => {}
                    Err(error) => {
                        tracing::warn!(witness = %witness.key.name, %error, "a witness did not cosign the checkpoint")
                    }
                }
            }
        });
    }

    async fn cosign_with(
        &self,
        client: &reqwest::Client,
        witness: &Witness,
        signed: &ToWitness,
    ) -> AppResult<()> {
        let size = signed.checkpoint.seq as u64;
        let known = self.witness_sizes().get(&witness.key.name).copied();
        let mut old = known.unwrap_or(signed.previous.size());
        for _attempt in 0..2 {
            let proof = self.proof_for(old, signed).await?;
            let body = witness::add_checkpoint_request(old, &proof, &signed.note);
            let response = client
                .post(format!("{}/add-checkpoint", witness.url))
                .body(body)
                .send()
                .await
                .map_err(|e| AppError::Internal(format!("unreachable: {e}")))?;
            let status = response.status().as_u16();
            let text = response
                .text()
                .await
                .map_err(|e| AppError::Internal(format!("no answer: {e}")))?;
            match status {
                200 => {
                    let cosigned = witness::with_signatures(&signed.note, &text);
                    if witness.key.cosigned_at(&cosigned).is_none() {
                        return Err(AppError::Internal(
                            "its answer holds no valid cosignature".into(),
                        ));
                    }
                    self.witness_sizes().insert(witness.key.name.clone(), size);
                    return self.keep_cosigned(&signed.checkpoint, &cosigned);
                }
                409 => {
                    old = text.trim().parse().map_err(|_| {
                        AppError::Internal(format!("409 without its tree size: {text}"))
                    })?;
                    if old > size {
                        return Err(AppError::Internal(format!(
                            "it cosigned {old} events of this log, more than the {size} of this checkpoint: see docs/ledger.md"
                        )));
                    }
                }
                _ => {
                    return Err(AppError::Internal(format!(
                        "answered {status}: {}",
                        text.trim()
                    )));
                }
            }
        }
        Err(AppError::Internal(
            "it kept asking for another old size".into(),
        ))
    }

    /// The consistency proof from `old` events to the checkpoint: from the tree kept since
    /// the previous checkpoint when it starts there, else from the whole ledger.
    async fn proof_for(&self, old: u64, signed: &ToWitness) -> AppResult<Vec<Hash>> {
        let size = signed.checkpoint.seq as u64;
        if old == 0 || old == size {
            return Ok(Vec::new());
        }
        if let Some(tail) = &signed.tail
            && old == signed.previous.size()
        {
            return merkle::consistency_proof_from(&signed.previous, tail)
                .ok_or_else(|| AppError::Internal("no consistency proof".into()));
        }
        let leaves = self.leaves(size as i64).await?;
        merkle::consistency_proof(&leaves, old as usize)
            .ok_or_else(|| AppError::Internal(format!("no consistency proof from {old}")))
    }

    /// Appends the checkpoint again with its cosigned note: the log's line for the witness.
    /// No frontier on it: the signer's own line, before it, has the tree.
    fn keep_cosigned(&self, checkpoint: &Checkpoint, cosigned: &str) -> AppResult<()> {
        let line = checkpoint_log::line(checkpoint, cosigned, &Frontier::default())
            .map_err(|e| AppError::Internal(format!("cannot write a checkpoint line: {e}")))?;
        registre_crypto::durable::append(self.checkpoint_log(), line.as_bytes()).map_err(|e| {
            AppError::Internal(format!(
                "cannot append to the checkpoint log {}: {e}",
                self.checkpoint_log().display()
            ))
        })
    }

    fn witness_sizes(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        match self.inner_witness_sizes().lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// `add-checkpoint` of the witness protocol, for the logs of `REGISTRE_WITNESS_LOGS`:
    /// checks the log's signature and that the checkpoint extends the last one this server
    /// cosigned for that log, records it durably, and cosigns it.
    pub async fn witness_add_checkpoint(&self, body: &str) -> AppResult<WitnessAnswer> {
        let request = match witness::parse_add_checkpoint(body) {
            Ok(request) => request,
            Err(error) => return Ok(WitnessAnswer::Bad(error.to_string())),
        };
        let origin = request.note.lines().next().unwrap_or_default().to_string();
        let Some((_, key)) = self
            .config()
            .witnessed_logs
            .iter()
            .find(|(name, _)| *name == origin)
        else {
            return Ok(WitnessAnswer::UnknownLog);
        };
        let Ok(opened) = note::open_checkpoint(&request.note, &origin, key) else {
            return Ok(WitnessAnswer::NotSigned);
        };
        if request.old > opened.size {
            return Ok(WitnessAnswer::Bad(format!(
                "old size {} is above the checkpoint's {}",
                request.old, opened.size
            )));
        }
        let root = base64_of(&opened.root);
        // The check and the record are one step: a second request waits for the first.
        let _turn = self.inner_witness_turn().lock().await;
        let path = &self.config().witness_state;
        let mut state = read_state(path)?;
        let (latest, latest_root) = state.get(&origin).cloned().unwrap_or((0, String::new()));
        if request.old != latest {
            return Ok(WitnessAnswer::Conflict(latest));
        }
        if request.old == opened.size {
            if latest > 0 && latest_root != root {
                return Ok(WitnessAnswer::Conflict(latest));
            }
        } else if request.old > 0 {
            let old_root: Option<Hash> = decode_hash(&latest_root);
            let consistent = old_root.is_some_and(|old_root| {
                merkle::verify_consistency(
                    request.old,
                    opened.size,
                    &old_root,
                    &opened.root,
                    &request.proof,
                )
            });
            if !consistent {
                tracing::warn!(%origin, old = request.old, size = opened.size, "a witnessed log sent a checkpoint that does not extend the last one cosigned");
                return Ok(WitnessAnswer::Inconsistent);
            }
        } else if !request.proof.is_empty() {
            return Ok(WitnessAnswer::Bad(
                "the proof must be empty from size 0".into(),
            ));
        }
        state.insert(origin, (opened.size, root));
        write_state(path, &state)?;
        let time = self.now().timestamp().max(0) as u64;
        let line = witness::cosign(
            &self.witness_name(),
            &self.signing_key(),
            time,
            &request.note,
        )
        .ok_or_else(|| AppError::Internal("the checkpoint has no body".into()))?;
        Ok(WitnessAnswer::Cosigned(line))
    }
}

fn base64_of(hash: &Hash) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, hash)
}

fn decode_hash(text: &str) -> Option<Hash> {
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
}

fn read_state(path: &Path) -> AppResult<WitnessState> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            AppError::Internal(format!(
                "the witness state {} is unreadable: {e}",
                path.display()
            ))
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(WitnessState::new()),
        Err(error) => Err(AppError::Internal(format!(
            "cannot read the witness state {}: {error}",
            path.display()
        ))),
    }
}

/// Replaces the state durably: a new file synced, then renamed over the old one.
fn write_state(path: &Path, state: &WitnessState) -> AppResult<()> {
    let fail = |e: std::io::Error| {
        AppError::Internal(format!(
            "cannot record the witness state {}: {e}",
            path.display()
        ))
    };
    let bytes = serde_json::to_vec(state)
        .map_err(|e| AppError::Internal(format!("cannot write the witness state: {e}")))?;
    let staging = path.with_extension("json.new");
    match std::fs::remove_file(&staging) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(fail(error)),
    }
    registre_crypto::durable::create_private(&staging, &bytes).map_err(fail)?;
    registre_crypto::durable::rename(&staging, path).map_err(fail)
}
