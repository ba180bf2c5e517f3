use crate::DomainError;

/// A machine key (purpose, touchpoint, data category): lower-case ASCII letters, digits and
/// underscores, starting with a letter, 2 to 64 characters. Keys appear in URLs, form field
/// names (`consent.<key>`) and the ledger, so they are kept boring on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Key(String);

impl Key {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let valid = (2..=64).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(raw.to_string()))
        } else {
            Err(DomainError::invalid(
                field,
                format!(
                    "{raw:?} is not a valid key: use 2 to 64 lower-case letters, digits or underscores, starting with a letter"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
        Key::parse("key", &raw).map_err(serde::de::Error::custom)
    }
}
