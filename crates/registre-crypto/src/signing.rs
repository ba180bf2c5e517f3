//! Ed25519 signing of ledger checkpoints and consent receipts (compact JWS, `alg: EdDSA`).
use crate::CryptoError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, Verifier};

pub struct SigningKey(ed25519_dalek::SigningKey);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey(pub ed25519_dalek::VerifyingKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    pub fn generate() -> Self {
        Self(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
    }

    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes =
            hex::decode(text.trim()).map_err(|_| CryptoError::Malformed("signing key".into()))?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::Malformed("signing key must be 32 bytes".into()))?;
        Ok(Self(ed25519_dalek::SigningKey::from_bytes(&array)))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl VerifyingKey {
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes =
            hex::decode(text.trim()).map_err(|_| CryptoError::Malformed("public key".into()))?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::Malformed("public key must be 32 bytes".into()))?;
        ed25519_dalek::VerifyingKey::from_bytes(&array)
            .map(Self)
            .map_err(|_| CryptoError::Malformed("public key".into()))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Key identifier used as the JWS `kid`: the first 16 hex digits of SHA-256(public key).
    pub fn kid(&self) -> String {
        crate::sha256_hex(&self.0.to_bytes())[..16].to_string()
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let signature = ed25519_dalek::Signature::from_slice(signature)
            .map_err(|_| CryptoError::BadSignature)?;
        self.0
            .verify(message, &signature)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// Reads a public key from a JWK (RFC 8037 OKP, `crv: Ed25519`), as published at
    /// `/.well-known/registre/ledger-key`.
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<Self, CryptoError> {
        if jwk.get("kty").and_then(|v| v.as_str()) != Some("OKP")
            || jwk.get("crv").and_then(|v| v.as_str()) != Some("Ed25519")
        {
            return Err(CryptoError::Malformed("expected an OKP Ed25519 JWK".into()));
        }
        let x = jwk
            .get("x")
            .and_then(|v| v.as_str())
            .ok_or_else(|| CryptoError::Malformed("the JWK has no x".into()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| CryptoError::Malformed("the JWK's x is not base64url".into()))?;
        Self::from_hex(&hex::encode(bytes))
    }

    /// The public key as a JWK (RFC 8037 OKP).
    pub fn to_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
            "kid": self.kid(), "x": URL_SAFE_NO_PAD.encode(self.0.to_bytes()),
        })
    }
}

/// Signs `payload` as a compact JWS with `alg: EdDSA`.
pub fn sign_jws(key: &SigningKey, payload: &serde_json::Value) -> Result<String, CryptoError> {
    let header =
        serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": key.verifying_key().kid()});
    let header = serde_json::to_vec(&header).map_err(|e| CryptoError::Malformed(e.to_string()))?;
    let payload = serde_json::to_vec(payload).map_err(|e| CryptoError::Malformed(e.to_string()))?;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// Verifies a compact JWS and returns its payload.
pub fn verify_jws(key: &VerifyingKey, jws: &str) -> Result<serde_json::Value, CryptoError> {
    let mut parts = jws.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CryptoError::Malformed(
            "a compact JWS has three parts".into(),
        ));
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| CryptoError::BadSignature)?;
    key.verify(format!("{header}.{payload}").as_bytes(), &signature)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| CryptoError::Malformed("payload".into()))?;
    serde_json::from_slice(&payload).map_err(|_| CryptoError::Malformed("payload".into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_jws_verifies_with_its_key_and_not_after_tampering() {
        let key = SigningKey::generate();
        let jws = sign_jws(&key, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(verify_jws(&key.verifying_key(), &jws).unwrap()["a"], 1);
        let other = SigningKey::generate();
        assert!(verify_jws(&other.verifying_key(), &jws).is_err());
        let mut parts: Vec<&str> = jws.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"a":2}"#);
        parts[1] = &forged;
        assert!(verify_jws(&key.verifying_key(), &parts.join(".")).is_err());
    }

    #[test]
    fn a_published_jwk_reads_back_as_the_same_key() {
        let key = SigningKey::generate().verifying_key();
        assert_eq!(VerifyingKey::from_jwk(&key.to_jwk()).unwrap(), key);
        assert!(VerifyingKey::from_jwk(&serde_json::json!({"kty": "RSA"})).is_err());
    }
}
