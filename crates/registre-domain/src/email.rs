use crate::DomainError;

/// An email address as Registre keeps it: trimmed and lower-cased, so that one person has
/// one blind index whatever the case they typed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl std::fmt::Debug for Email {
    // Emails are personal data: a Debug print must not leak one into a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let text = raw.trim().to_lowercase();
        let invalid = |message: &str| DomainError::invalid("email", message);
        if text.is_empty() {
            return Err(invalid("an email address is required"));
        }
        if text.len() > 254 {
            return Err(invalid("an email address has at most 254 characters"));
        }
        if text.chars().any(|c| {
            c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '"' | ',' | ';')
        }) {
            return Err(invalid(
                "an email address cannot contain spaces, control characters or <>\",;",
            ));
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(invalid("an email address needs an @"));
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(invalid("the part before the @ is not valid"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
        {
            return Err(invalid("the domain after the @ is not valid"));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Jeanne.Dupont@Example.ORG ")
                .unwrap()
                .as_str(),
            "jeanne.dupont@example.org"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "jeanne",
            "@example.org",
            "jeanne@",
            "jeanne@localhost",
            "a b@example.org",
            "x@exa\u{0}mple.org",
            "x@-a.org",
            "<x>@a.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn debug_never_shows_the_address() {
        assert!(!format!("{:?}", Email::parse("a@b.fr").unwrap()).contains("a@b"));
    }
}
