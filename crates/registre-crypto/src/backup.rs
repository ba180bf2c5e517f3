//! Encryption of backup archives: a passphrase (Argon2id) or a key file (HKDF-SHA256) gives
//! the key; the archive is cut into chunks of [`CHUNK`] bytes, each sealed with
//! XChaCha20-Poly1305 under a nonce made of a random prefix, the chunk's number and a flag
//! marking the last chunk (the STREAM construction), so that nothing has to fit in memory,
//! and a chunk reordered, dropped, or cut off at the end is detected.
//!
//! Layout: the header ([`HEADER_LEN`] bytes, also the associated data of every chunk), then
//! per chunk a little-endian `u32` (ciphertext length, high bit set on the last chunk) and
//! the ciphertext.
use crate::CryptoError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rand::rngs::OsRng;
use std::io::{self, Read, Write};
use zeroize::{Zeroize, Zeroizing};

const MAGIC: &[u8; 8] = b"RGBACKUP";
const VERSION: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const KDF_KEY_FILE: u8 = 2;
const SALT_LEN: usize = 16;
const PREFIX_LEN: usize = 19;
/// magic, version, kdf, three argon2 parameters, salt, nonce prefix.
pub const HEADER_LEN: usize = 8 + 1 + 1 + 12 + SALT_LEN + PREFIX_LEN;
/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
const LAST: u32 = 1 << 31;
/// Argon2id cost: 64 MiB, 3 passes (the RFC 9106 second recommendation).
const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
const ARGON2_PASSES: u32 = 3;
const ARGON2_LANES: u32 = 1;

/// What opens an archive.
pub enum BackupSecret {
    Passphrase(Zeroizing<String>),
    /// The bytes of a key file: at least 32 random bytes (or their hex).
    KeyFile(Zeroizing<Vec<u8>>),
}

impl std::fmt::Debug for BackupSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Passphrase(_) => f.write_str("Passphrase(<redacted>)"),
            Self::KeyFile(_) => f.write_str("KeyFile(<redacted>)"),
        }
    }
}

impl BackupSecret {
    /// Checks the secret is strong enough to protect a backup.
    pub fn validate(&self) -> Result<(), CryptoError> {
        match self {
            Self::Passphrase(text) if text.chars().count() < 12 => Err(CryptoError::Malformed(
                "a backup passphrase has at least 12 characters".into(),
            )),
            Self::KeyFile(_) => key_file_material(self).map(|_| ()),
            Self::Passphrase(_) => Ok(()),
        }
    }
}

fn key_file_material(secret: &BackupSecret) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let BackupSecret::KeyFile(bytes) = secret else {
        return Err(CryptoError::Malformed("not a key file".into()));
    };
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    let material = match text.and_then(|t| hex::decode(t).ok()) {
        Some(decoded) => Zeroizing::new(decoded),
        None => bytes.clone(),
    };
    if material.len() < 32 {
        return Err(CryptoError::Malformed(
            "a backup key file holds at least 32 random bytes (or 64 hex digits)".into(),
        ));
    }
    Ok(material)
}

fn derive_key(
    secret: &BackupSecret,
    kdf: u8,
    params: [u32; 3],
    salt: &[u8],
) -> Result<XChaCha20Poly1305, CryptoError> {
    let mut key = Zeroizing::new([0u8; 32]);
    match (secret, kdf) {
        (BackupSecret::Passphrase(passphrase), KDF_ARGON2ID) => {
            let [memory, passes, lanes] = params;
            let argon = argon2::Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                argon2::Params::new(memory, passes, lanes, Some(32))
                    .map_err(|e| CryptoError::Malformed(format!("argon2 parameters: {e}")))?,
            );
            argon
                .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
                .map_err(|e| CryptoError::Malformed(format!("argon2: {e}")))?;
        }
        (BackupSecret::KeyFile(_), KDF_KEY_FILE) => {
            let material = key_file_material(secret)?;
            let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), &material);
            hk.expand(b"registre/backup-key-file", key.as_mut())
                .map_err(|_| CryptoError::Seal)?;
        }
        (BackupSecret::Passphrase(_), _) => {
            return Err(CryptoError::Malformed(
                "this archive was encrypted with a key file, not a passphrase".into(),
            ));
        }
        (BackupSecret::KeyFile(_), _) => {
            return Err(CryptoError::Malformed(
                "this archive was encrypted with a passphrase, not a key file".into(),
            ));
        }
    }
    Ok(XChaCha20Poly1305::new(key.as_ref().into()))
}

fn nonce(prefix: &[u8; PREFIX_LEN], counter: u32, last: bool) -> XNonce {
    let mut bytes = [0u8; 24];
    bytes[..PREFIX_LEN].copy_from_slice(prefix);
    bytes[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
    bytes[23] = u8::from(last);
    *XNonce::from_slice(&bytes)
}

fn io_error(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Encrypts everything written to it into `inner`; call [`ArchiveWriter::finish`] at the end
/// (an archive without its last chunk does not open).
pub struct ArchiveWriter<W: Write> {
    inner: W,
    cipher: XChaCha20Poly1305,
    header: [u8; HEADER_LEN],
    prefix: [u8; PREFIX_LEN],
    counter: u32,
    buffer: Vec<u8>,
}

impl<W: Write> ArchiveWriter<W> {
    pub fn new(mut inner: W, secret: &BackupSecret) -> Result<Self, CryptoError> {
        secret.validate()?;
        let mut salt = [0u8; SALT_LEN];
        let mut prefix = [0u8; PREFIX_LEN];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut prefix);
        let (kdf, params) = match secret {
            BackupSecret::Passphrase(_) => (
                KDF_ARGON2ID,
                [ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES],
            ),
            BackupSecret::KeyFile(_) => (KDF_KEY_FILE, [0, 0, 0]),
        };
        let cipher = derive_key(secret, kdf, params, &salt)?;
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(MAGIC);
        header[8] = VERSION;
        header[9] = kdf;
        for (n, value) in params.iter().enumerate() {
            header[10 + 4 * n..14 + 4 * n].copy_from_slice(&value.to_le_bytes());
        }
        header[22..22 + SALT_LEN].copy_from_slice(&salt);
        header[22 + SALT_LEN..].copy_from_slice(&prefix);
        inner
            .write_all(&header)
            .map_err(|e| CryptoError::Malformed(format!("cannot write the archive: {e}")))?;
        Ok(Self {
            inner,
            cipher,
            header,
            prefix,
            counter: 0,
            buffer: Vec::with_capacity(CHUNK),
        })
    }

    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        if self.counter == u32::MAX {
            return Err(io_error("the archive is too large"));
        }
        let sealed = self
            .cipher
            .encrypt(
                &nonce(&self.prefix, self.counter, last),
                Payload {
                    msg: &self.buffer,
                    aad: &self.header,
                },
            )
            .map_err(|_| io_error("encryption failed"))?;
        self.buffer.zeroize();
        self.buffer.clear();
        self.counter += 1;
        let length = u32::try_from(sealed.len()).map_err(|_| io_error("chunk too large"))?;
        let tag = if last { length | LAST } else { length };
        self.inner.write_all(&tag.to_le_bytes())?;
        self.inner.write_all(&sealed)
    }

    /// Seals the last chunk and hands back the inner writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal_chunk(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ArchiveWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buffer.len();
        let taken = room.min(bytes.len());
        self.buffer.extend_from_slice(&bytes[..taken]);
        if self.buffer.len() == CHUNK {
            self.seal_chunk(false)?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts an archive as it is read. A wrong secret fails at [`ArchiveReader::open`]; a
/// damaged or cut archive fails the read that reaches the damage.
pub struct ArchiveReader<R: Read> {
    inner: R,
    cipher: XChaCha20Poly1305,
    header: [u8; HEADER_LEN],
    prefix: [u8; PREFIX_LEN],
    counter: u32,
    plain: Zeroizing<Vec<u8>>,
    position: usize,
    done: bool,
}

impl<R: Read> ArchiveReader<R> {
    pub fn open(mut inner: R, secret: &BackupSecret) -> Result<Self, CryptoError> {
        let mut header = [0u8; HEADER_LEN];
        inner
            .read_exact(&mut header)
            .map_err(|_| CryptoError::Malformed("this is not a Registre backup".into()))?;
        if &header[..8] != MAGIC {
            return Err(CryptoError::Malformed(
                "this is not a Registre backup".into(),
            ));
        }
        if header[8] != VERSION {
            return Err(CryptoError::Malformed(format!(
                "backup format version {} is not known to this binary",
                header[8]
            )));
        }
        let mut params = [0u32; 3];
        for (n, value) in params.iter_mut().enumerate() {
            let mut bytes = [0u8; 4];
            bytes.copy_from_slice(&header[10 + 4 * n..14 + 4 * n]);
            *value = u32::from_le_bytes(bytes);
        }
        let cipher = derive_key(secret, header[9], params, &header[22..22 + SALT_LEN])?;
        let mut prefix = [0u8; PREFIX_LEN];
        prefix.copy_from_slice(&header[22 + SALT_LEN..]);
        let mut reader = Self {
            inner,
            cipher,
            header,
            prefix,
            counter: 0,
            plain: Zeroizing::new(Vec::new()),
            position: 0,
            done: false,
        };
        // The first chunk tells a wrong secret at once.
        reader.next_chunk().map_err(|_| {
            CryptoError::Malformed(
                "the passphrase or key file is wrong, or the archive is damaged".into(),
            )
        })?;
        Ok(reader)
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let mut tag = [0u8; 4];
        self.inner
            .read_exact(&mut tag)
            .map_err(|_| io_error("the archive is cut short"))?;
        let tag = u32::from_le_bytes(tag);
        let last = tag & LAST != 0;
        let length = (tag & !LAST) as usize;
        if length > CHUNK + 16 {
            return Err(io_error("the archive is damaged (chunk too large)"));
        }
        let mut sealed = vec![0u8; length];
        self.inner
            .read_exact(&mut sealed)
            .map_err(|_| io_error("the archive is cut short"))?;
        let plain = self
            .cipher
            .decrypt(
                &nonce(&self.prefix, self.counter, last),
                Payload {
                    msg: &sealed,
                    aad: &self.header,
                },
            )
            .map_err(|_| {
                io_error(format!(
                    "the archive is damaged or was changed (chunk {})",
                    self.counter
                ))
            })?;
        self.counter = self.counter.saturating_add(1);
        self.plain = Zeroizing::new(plain);
        self.position = 0;
        if last {
            self.done = true;
            let mut extra = [0u8; 1];
            if self.inner.read(&mut extra)? != 0 {
                return Err(io_error("the archive has bytes after its end"));
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for ArchiveReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.position == self.plain.len() {
            if self.done {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let available = &self.plain[self.position..];
        let taken = available.len().min(out.len());
        out[..taken].copy_from_slice(&available[..taken]);
        self.position += taken;
        Ok(taken)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn passphrase(text: &str) -> BackupSecret {
        BackupSecret::Passphrase(Zeroizing::new(text.to_string()))
    }

    fn seal(secret: &BackupSecret, data: &[u8]) -> Vec<u8> {
        let mut writer = ArchiveWriter::new(Vec::new(), secret).unwrap();
        writer.write_all(data).unwrap();
        writer.finish().unwrap()
    }

    fn open(secret: &BackupSecret, archive: &[u8]) -> io::Result<Vec<u8>> {
        let mut reader =
            ArchiveReader::open(archive, secret).map_err(|e| io_error(e.to_string()))?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn an_archive_of_many_chunks_opens_with_its_passphrase_only() {
        let data: Vec<u8> = (0..(CHUNK * 3 + 17)).map(|n| (n % 251) as u8).collect();
        let secret = passphrase("correct horse battery staple");
        let archive = seal(&secret, &data);
        assert_eq!(open(&secret, &archive).unwrap(), data);
        assert!(!archive.windows(64).any(|w| w == &data[1000..1064]));
        assert!(open(&passphrase("wrong horse battery staple"), &archive).is_err());
        let empty = seal(&secret, b"");
        assert_eq!(open(&secret, &empty).unwrap(), b"");
    }

    #[test]
    fn a_changed_dropped_or_cut_chunk_is_detected() {
        let data = vec![42u8; CHUNK * 2 + 5];
        let secret = passphrase("correct horse battery staple");
        let archive = seal(&secret, &data);
        let mut changed = archive.clone();
        let middle = HEADER_LEN + CHUNK + 100;
        changed[middle] ^= 1;
        assert!(open(&secret, &changed).is_err());
        // Cut after the second chunk: no last chunk.
        let cut = &archive[..HEADER_LEN + 2 * (4 + CHUNK + 16)];
        assert!(open(&secret, cut).is_err());
        // The first chunk dropped.
        let mut dropped = archive[..HEADER_LEN].to_vec();
        dropped.extend_from_slice(&archive[HEADER_LEN + 4 + CHUNK + 16..]);
        assert!(open(&secret, &dropped).is_err());
        let mut extended = archive.clone();
        extended.push(0);
        assert!(open(&secret, &extended).is_err());
    }

    #[test]
    fn a_key_file_opens_its_archive_and_a_short_one_is_refused() {
        let key = BackupSecret::KeyFile(Zeroizing::new(hex::encode([9u8; 32]).into_bytes()));
        let archive = seal(&key, b"registre");
        assert_eq!(open(&key, &archive).unwrap(), b"registre");
        assert!(open(&passphrase("correct horse battery staple"), &archive).is_err());
        let short = BackupSecret::KeyFile(Zeroizing::new(vec![1u8; 8]));
        assert!(ArchiveWriter::new(Vec::new(), &short).is_err());
        assert!(ArchiveWriter::new(Vec::new(), &passphrase("short")).is_err());
    }
}
