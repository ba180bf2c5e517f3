use crate::CryptoError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use std::sync::{Arc, RwLock};
use zeroize::{Zeroize, ZeroizeOnDrop};

const NONCE_LEN: usize = 24;
/// Version byte in front of every wrapped key and ciphertext, so formats can evolve.
const FORMAT_V1: u8 = 1;

/// The root secret of an installation: 32 random bytes. Everything else is derived from it
/// or wrapped by it. It never leaves the process except in the key file (mode 0600).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Reads the 64-hex-digit form used in the key file and in `REGISTRE_MASTER_KEY`.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(text.trim())
            .map_err(|_| CryptoError::BadMasterKey("expected 64 hexadecimal digits".into()))?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::BadMasterKey("expected 32 bytes (64 hex digits)".into()))?;
        Ok(Self(array))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let hk = Hkdf::<Sha256>::new(Some(b"registre/v1"), &self.0);
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF's limit of 255 * 32, so expand cannot fail.
        if hk.expand(purpose, &mut out).is_err() {
            out = [0u8; 32];
        }
        out
    }

    /// A short public identifier of this master key, stored beside wrapped keys so that a
    /// wrong key is reported as such rather than as corrupt data.
    pub fn key_id(&self) -> String {
        hex::encode(&self.derive(b"key-id")[..8])
    }
}

/// Keyed hash of a normalised email: how a person is found without storing their email.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BlindIndex(pub [u8; 32]);

impl BlindIndex {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// A subject's data key wrapped (encrypted) under the master key; safe to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey(pub Vec<u8>);

/// One person's data key. Every field describing the person is sealed with it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SubjectKey([u8; 32]);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(<redacted>)")
    }
}

/// The secrets that must not change when the master key rotates: emails are found by their
/// keyed hash, signed links must keep opening, and system-sealed data must keep opening.
/// They are derived once from the first master key and then carried in the keyring file.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StableSecrets {
    blind_index: [u8; 32],
    tokens: [u8; 32],
    system: [u8; 32],
}

/// Compared in constant time, as every secret is.
impl PartialEq for StableSecrets {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        let same = self.blind_index.ct_eq(&other.blind_index)
            & self.tokens.ct_eq(&other.tokens)
            & self.system.ct_eq(&other.system);
        same.into()
    }
}

impl Eq for StableSecrets {}

impl std::fmt::Debug for StableSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StableSecrets(<redacted>)")
    }
}

impl StableSecrets {
    fn derived_from(master: &MasterKey) -> Self {
        Self {
            blind_index: master.derive(b"blind-index"),
            tokens: master.derive(b"signed-tokens"),
            system: master.derive(b"system-sealing"),
        }
    }

    /// A public fingerprint, to tell two installations' keyrings apart.
    pub fn fingerprint(&self) -> String {
        let mut all = Vec::with_capacity(96);
        all.extend_from_slice(&self.blind_index);
        all.extend_from_slice(&self.tokens);
        all.extend_from_slice(&self.system);
        let digest = crate::sha256_hex(&all);
        all.zeroize();
        digest[..16].to_string()
    }
}

/// The content of the keyring file (`<data-dir>/master.key`): the stable secrets and the
/// master keys, the current one first, retired ones after it until nothing is wrapped under
/// them any more. The first form of the file, one master key in hex, reads as a keyring of
/// that one key whose stable secrets derive from it.
#[derive(Clone)]
pub struct KeyFile {
    stable: StableSecrets,
    masters: Vec<MasterKey>,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("master_key_ids", &self.key_ids())
            .finish_non_exhaustive()
    }
}

const KEY_FILE_HEADER: &str = "registre-keyring v2";

impl KeyFile {
    /// A keyring of one master key, as a new installation (or the first file form) has.
    pub fn from_master(master: MasterKey) -> Self {
        Self {
            stable: StableSecrets::derived_from(&master),
            masters: vec![master],
        }
    }

    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let trimmed = text.trim();
        if !trimmed.contains('\n') && !trimmed.starts_with('#') && !trimmed.starts_with("registre")
        {
            return Ok(Self::from_master(MasterKey::from_hex(trimmed)?));
        }
        let mut lines = trimmed
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next() != Some(KEY_FILE_HEADER) {
            return Err(CryptoError::BadMasterKey(format!(
                "a keyring file starts with \"{KEY_FILE_HEADER}\" (or is one key in hex)"
            )));
        }
        let (mut blind_index, mut tokens, mut system) = (None, None, None);
        let mut masters = Vec::new();
        for line in lines {
            let (name, value) = line.split_once(' ').ok_or_else(|| {
                CryptoError::BadMasterKey("each keyring line is a name and a value".into())
            })?;
            let value = value.split_whitespace().next().unwrap_or_default();
            match name {
                "blind-index" => blind_index = Some(secret_from_hex(value)?),
                "tokens" => tokens = Some(secret_from_hex(value)?),
                "system" => system = Some(secret_from_hex(value)?),
                "master" => masters.push(MasterKey::from_hex(value)?),
                other => {
                    return Err(CryptoError::BadMasterKey(format!(
                        "unknown keyring line {other:?}"
                    )));
                }
            }
        }
        let (Some(blind_index), Some(tokens), Some(system)) = (blind_index, tokens, system) else {
            return Err(CryptoError::BadMasterKey(
                "the keyring lacks its blind-index, tokens or system secret".into(),
            ));
        };
        if masters.is_empty() {
            return Err(CryptoError::BadMasterKey(
                "the keyring holds no master key".into(),
            ));
        }
        Ok(Self {
            stable: StableSecrets {
                blind_index,
                tokens,
                system,
            },
            masters,
        })
    }

    /// The file's text. Secrets in hex; comments name the key ids.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# Registre keyring: keep it secret (mode 0600) and back it up with the database.\n",
        );
        out.push_str(KEY_FILE_HEADER);
        out.push('\n');
        out.push_str(&format!(
            "blind-index {}\n",
            hex::encode(self.stable.blind_index)
        ));
        out.push_str(&format!("tokens {}\n", hex::encode(self.stable.tokens)));
        out.push_str(&format!("system {}\n", hex::encode(self.stable.system)));
        for (n, master) in self.masters.iter().enumerate() {
            let role = if n == 0 { "current" } else { "retired" };
            out.push_str(&format!(
                "master {} {role} {}\n",
                master.to_hex(),
                master.key_id()
            ));
        }
        out
    }

    pub fn current(&self) -> &MasterKey {
        &self.masters[0]
    }

    /// Master key ids, the current one first.
    pub fn key_ids(&self) -> Vec<String> {
        self.masters.iter().map(MasterKey::key_id).collect()
    }

    /// Puts `master` first; the previous keys stay, retired, until [`Self::retire_old`].
    pub fn rotate(&mut self, master: MasterKey) {
        self.masters.insert(0, master);
    }

    /// Forgets every master key but the current one; returns their ids.
    pub fn retire_old(&mut self) -> Vec<String> {
        self.masters
            .drain(1..)
            .map(|m| m.key_id())
            .collect::<Vec<_>>()
    }

    pub fn fingerprint(&self) -> String {
        self.stable.fingerprint()
    }
}

fn secret_from_hex(text: &str) -> Result<[u8; 32], CryptoError> {
    let bytes = hex::decode(text)
        .map_err(|_| CryptoError::BadMasterKey("expected 64 hexadecimal digits".into()))?;
    bytes
        .try_into()
        .map_err(|_| CryptoError::BadMasterKey("expected 32 bytes (64 hex digits)".into()))
}

/// A master key ready to wrap and unwrap.
struct Wrapper {
    id: [u8; KEY_ID_LEN],
    id_hex: String,
    cipher: XChaCha20Poly1305,
}

impl Wrapper {
    fn new(master: &MasterKey) -> Self {
        let mut wrap_key = master.derive(b"subject-key-wrapping");
        let cipher = XChaCha20Poly1305::new((&wrap_key).into());
        wrap_key.zeroize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&master.derive(b"key-id")[..KEY_ID_LEN]);
        Self {
            id,
            id_hex: hex::encode(id),
            cipher,
        }
    }
}

const KEY_ID_LEN: usize = 8;
/// Wrapped keys that name the master key that wrapped them: version, key id, nonce, body.
const FORMAT_V2: u8 = 2;
const WRAP_AAD: &[u8] = b"registre/subject-key";

/// The installation's key material. Clones share it, so that a running server that reads a
/// rotated keyring file ([`Keyring::replace`]) starts wrapping with the new master key at once
/// everywhere, while keys wrapped by a retired one still open.
#[derive(Clone)]
pub struct Keyring {
    /// The current master key first.
    wrappers: Arc<RwLock<Arc<Vec<Wrapper>>>>,
    stable: Arc<StableSecrets>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.key_ids())
            .finish_non_exhaustive()
    }
}

/// A wrapped key opened and wrapped again under the current master key.
#[derive(Clone, Debug)]
pub struct Rewrapped {
    pub wrapped: WrappedKey,
    /// The id of the master key that had wrapped it, when the stored form names it.
    pub previous_key_id: Option<String>,
}

impl Keyring {
    /// A keyring of one master key (stable secrets derived from it).
    pub fn new(master: &MasterKey) -> Self {
        Self::from_key_file(&KeyFile::from_master(master.clone()))
    }

    pub fn from_key_file(file: &KeyFile) -> Self {
        Self {
            wrappers: Arc::new(RwLock::new(Arc::new(
                file.masters.iter().map(Wrapper::new).collect(),
            ))),
            stable: Arc::new(file.stable.clone()),
        }
    }

    /// Takes the master keys of a rotated keyring file. Refused when its stable secrets are
    /// not this keyring's: that would be another installation's file.
    pub fn replace(&self, file: &KeyFile) -> Result<(), CryptoError> {
        if file.stable != *self.stable {
            return Err(CryptoError::BadMasterKey(
                "this keyring file belongs to another installation (its blind index key differs)"
                    .into(),
            ));
        }
        let wrappers = Arc::new(file.masters.iter().map(Wrapper::new).collect::<Vec<_>>());
        match self.wrappers.write() {
            Ok(mut guard) => *guard = wrappers,
            Err(poisoned) => *poisoned.into_inner() = wrappers,
        }
        Ok(())
    }

    fn current_wrappers(&self) -> Arc<Vec<Wrapper>> {
        match self.wrappers.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The id of the current master key.
    pub fn key_id(&self) -> String {
        self.current_wrappers()
            .first()
            .map(|w| w.id_hex.clone())
            .unwrap_or_default()
    }

    /// Every master key id this keyring can unwrap with, the current one first.
    pub fn key_ids(&self) -> Vec<String> {
        self.current_wrappers()
            .iter()
            .map(|w| w.id_hex.clone())
            .collect()
    }

    /// A public fingerprint of the stable secrets.
    pub fn fingerprint(&self) -> String {
        self.stable.fingerprint()
    }

    /// The blind index of an email. The caller normalises (trim, lower-case) first; the
    /// domain's `Email` type does that.
    pub fn blind_index(&self, normalised_email: &str) -> BlindIndex {
        BlindIndex(self.mac(
            &self.stable.blind_index,
            b"email",
            normalised_email.as_bytes(),
        ))
    }

    /// MAC for signed links (sign-in, double opt-in, unsubscribe, downloads).
    pub fn token_mac(&self, message: &[u8]) -> [u8; 32] {
        self.mac(&self.stable.tokens, b"token", message)
    }

    fn mac(&self, key: &[u8; 32], domain: &[u8], message: &[u8]) -> [u8; 32] {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
            return [0u8; 32];
        };
        mac.update(domain);
        mac.update(&[0]);
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// The key that seals personal data held by the system rather than about one subject's
    /// record (pending webhook payloads, evidence files): it is not destroyed by an erasure,
    /// so what is in it must be deleted once used.
    pub fn system_key(&self) -> SubjectKey {
        SubjectKey(self.stable.system)
    }

    /// A fresh data key for a new subject, and its wrapped form to store.
    pub fn new_subject_key(&self) -> Result<(SubjectKey, WrappedKey), CryptoError> {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let key = SubjectKey(bytes);
        let wrapped = self.wrap(&key)?;
        Ok((key, wrapped))
    }

    /// Wraps `key` under the current master key.
    pub fn wrap(&self, key: &SubjectKey) -> Result<WrappedKey, CryptoError> {
        let wrappers = self.current_wrappers();
        let current = wrappers.first().ok_or(CryptoError::Seal)?;
        Ok(WrappedKey(wrap_v2(current, &key.0)?))
    }

    /// The id of the master key that wrapped `wrapped`, when its form names it (keys wrapped
    /// before key ids existed do not).
    pub fn wrapped_key_id(wrapped: &WrappedKey) -> Option<String> {
        match wrapped.0.first() {
            Some(&FORMAT_V2) if wrapped.0.len() > 1 + KEY_ID_LEN => {
                Some(hex::encode(&wrapped.0[1..1 + KEY_ID_LEN]))
            }
            _ => None,
        }
    }

    /// Wraps `wrapped` again under the current master key, or `None` when it already is.
    pub fn rewrap(&self, wrapped: &WrappedKey) -> Result<Option<Rewrapped>, CryptoError> {
        let previous_key_id = Self::wrapped_key_id(wrapped);
        if previous_key_id.as_deref() == Some(self.key_id().as_str()) {
            return Ok(None);
        }
        let key = self.unwrap_subject_key(wrapped)?;
        Ok(Some(Rewrapped {
            wrapped: self.wrap(&key)?,
            previous_key_id,
        }))
    }

    pub fn unwrap_subject_key(&self, wrapped: &WrappedKey) -> Result<SubjectKey, CryptoError> {
        let wrappers = self.current_wrappers();
        let mut plain = match wrapped.0.first() {
            Some(&FORMAT_V2) if wrapped.0.len() > 1 + KEY_ID_LEN => {
                let id = &wrapped.0[1..1 + KEY_ID_LEN];
                let wrapper = wrappers
                    .iter()
                    .find(|w| w.id == id)
                    .ok_or(CryptoError::UnknownMasterKey(hex::encode(id)))?;
                let mut aad = WRAP_AAD.to_vec();
                aad.extend_from_slice(id);
                open_sealed(&wrapper.cipher, &aad, &wrapped.0[1 + KEY_ID_LEN..])
                    .map_err(|_| CryptoError::Unwrap)?
            }
            // The first form names no key: try each (there are one or two).
            _ => wrappers
                .iter()
                .find_map(|w| open_with(&w.cipher, WRAP_AAD, &wrapped.0).ok())
                .ok_or(CryptoError::Unwrap)?,
        };
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Unwrap)?;
        plain.zeroize();
        Ok(SubjectKey(bytes))
    }
}

fn wrap_v2(wrapper: &Wrapper, key: &[u8; 32]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let mut aad = WRAP_AAD.to_vec();
    aad.extend_from_slice(&wrapper.id);
    let body = wrapper
        .cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Seal)?;
    let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + body.len());
    out.push(FORMAT_V2);
    out.extend_from_slice(&wrapper.id);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens `nonce || body` (no version byte).
fn open_sealed(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN {
        return Err(CryptoError::Open);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| CryptoError::Open)
}

impl SubjectKey {
    /// Encrypts `plaintext`. `context` binds the ciphertext to where it is stored (table and
    /// field), so a ciphertext moved elsewhere does not open.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        seal_with(&cipher, context.as_bytes(), plaintext)
    }

    pub fn open(&self, context: &str, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        open_with(&cipher, context.as_bytes(), ciphertext)
    }

    pub fn seal_str(&self, context: &str, text: &str) -> Result<Vec<u8>, CryptoError> {
        self.seal(context, text.as_bytes())
    }

    pub fn open_string(&self, context: &str, ciphertext: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(context, ciphertext)?).map_err(|_| CryptoError::Open)
    }
}

fn seal_with(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let body = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Seal)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn open_with(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 1 + NONCE_LEN || sealed[0] != FORMAT_V1 {
        return Err(CryptoError::Open);
    }
    let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| CryptoError::Open)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_field_opens_with_its_subject_key_and_context_only() {
        let keyring = Keyring::new(&MasterKey::generate());
        let (key, wrapped) = keyring.new_subject_key().unwrap();
        let sealed = key.seal_str("submission.message", "bonjour").unwrap();
        assert_eq!(
            key.open_string("submission.message", &sealed).unwrap(),
            "bonjour"
        );
        assert!(key.open("subject.email", &sealed).is_err());
        let (other, _) = keyring.new_subject_key().unwrap();
        assert!(other.open("submission.message", &sealed).is_err());
        let unwrapped = keyring.unwrap_subject_key(&wrapped).unwrap();
        assert_eq!(
            unwrapped
                .open_string("submission.message", &sealed)
                .unwrap(),
            "bonjour"
        );
    }

    #[test]
    fn once_the_wrapped_key_is_gone_nothing_else_opens_the_data() {
        let keyring = Keyring::new(&MasterKey::generate());
        let (key, wrapped) = keyring.new_subject_key().unwrap();
        let sealed = key.seal_str("subject.email", "jeanne@example.org").unwrap();
        drop(key);
        // Another master key cannot unwrap it, and a tampered wrapped key is refused.
        let stranger = Keyring::new(&MasterKey::generate());
        assert!(stranger.unwrap_subject_key(&wrapped).is_err());
        let mut tampered = wrapped.0.clone();
        tampered[30] ^= 1;
        assert!(keyring.unwrap_subject_key(&WrappedKey(tampered)).is_err());
        // The ciphertext does not contain the plaintext.
        assert!(!sealed.windows(7).any(|w| w == b"example"));
    }

    #[test]
    fn the_blind_index_is_keyed_and_stable() {
        let master = MasterKey::generate();
        let a = Keyring::new(&master).blind_index("jeanne@example.org");
        let b = Keyring::new(&master).blind_index("jeanne@example.org");
        let c = Keyring::new(&MasterKey::generate()).blind_index("jeanne@example.org");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn master_key_round_trips_through_hex_and_rejects_garbage() {
        let master = MasterKey::generate();
        let again = MasterKey::from_hex(&master.to_hex()).unwrap();
        assert_eq!(master.key_id(), again.key_id());
        assert!(MasterKey::from_hex("zz").is_err());
        assert!(MasterKey::from_hex("abcd").is_err());
        assert_eq!(format!("{master:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn after_a_rotation_old_and_new_wrapped_keys_open_and_the_blind_index_stays() {
        let first = MasterKey::generate();
        let mut file = KeyFile::from_master(first.clone());
        let keyring = Keyring::from_key_file(&file);
        let index = keyring.blind_index("jeanne@example.org");
        let token = keyring.token_mac(b"link");
        let (key, old) = keyring.new_subject_key().unwrap();
        let sealed = key.seal_str("subject.email", "jeanne@example.org").unwrap();
        assert_eq!(
            Keyring::wrapped_key_id(&old).as_deref(),
            Some(first.key_id().as_str())
        );

        file.rotate(MasterKey::generate());
        let reread = KeyFile::parse(&file.to_text()).unwrap();
        assert_eq!(reread.key_ids(), file.key_ids());
        keyring.replace(&reread).unwrap();
        assert_ne!(keyring.key_id(), first.key_id());
        assert_eq!(keyring.blind_index("jeanne@example.org"), index);
        assert_eq!(keyring.token_mac(b"link"), token);
        let (_, fresh) = keyring.new_subject_key().unwrap();
        assert_eq!(Keyring::wrapped_key_id(&fresh).unwrap(), keyring.key_id());
        let rewrapped = keyring.rewrap(&old).unwrap().unwrap();
        assert_eq!(rewrapped.previous_key_id.unwrap(), first.key_id());
        assert!(keyring.rewrap(&rewrapped.wrapped).unwrap().is_none());

        // Once the old key is retired, only the re-wrapped form opens.
        file.retire_old();
        let retired = Keyring::from_key_file(&KeyFile::parse(&file.to_text()).unwrap());
        assert!(matches!(
            retired.unwrap_subject_key(&old),
            Err(CryptoError::UnknownMasterKey(_))
        ));
        let opened = retired.unwrap_subject_key(&rewrapped.wrapped).unwrap();
        assert_eq!(
            opened.open_string("subject.email", &sealed).unwrap(),
            "jeanne@example.org"
        );
        assert_eq!(retired.blind_index("jeanne@example.org"), index);
        assert!(!file.to_text().contains(&first.to_hex()));
    }

    #[test]
    fn a_first_form_key_file_reads_as_the_same_keyring_and_a_stranger_file_is_refused() {
        let master = MasterKey::generate();
        let old = Keyring::new(&master);
        let parsed = KeyFile::parse(&format!("{}\n", master.to_hex())).unwrap();
        let same = Keyring::from_key_file(&parsed);
        assert_eq!(same.blind_index("a@b.c"), old.blind_index("a@b.c"));
        // A wrapped key of the first form (no key id) still opens.
        let mut nonce_body =
            seal_with(&Wrapper::new(&master).cipher, WRAP_AAD, &[7u8; 32]).unwrap();
        let legacy = WrappedKey(std::mem::take(&mut nonce_body));
        assert!(same.unwrap_subject_key(&legacy).is_ok());
        let stranger = KeyFile::from_master(MasterKey::generate());
        assert!(same.replace(&stranger).is_err());
        assert!(KeyFile::parse("registre-keyring v2\nmaster 00\n").is_err());
    }
}
