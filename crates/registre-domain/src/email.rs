use crate::DomainError;
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use unicode_normalization::UnicodeNormalization;
use unicode_security::{GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection};

/// An email address as Registre keeps it, in one canonical form, so that one mailbox has one
/// blind index however it was typed: trimmed, Unicode NFKC (fullwidth and compatibility
/// characters become the plain ones: `ｈg@ｅxample.org` is `hg@example.org`), lower-cased,
/// and the domain mapped by UTS #46 (IDNA: `EXAMPLE.org`, `xn--bcher-kva.de` and `bücher.de`
/// are each one domain, kept in its Unicode form). A part that mixes scripts the way look-alike
/// addresses do (a Cyrillic `а` among Latin letters), or that holds invisible or symbol
/// characters, is refused (UTS #39, highly restrictive): such an address could pass for
/// another person's, or slip past the suppression list of an erased one.
///
/// Every way in (forms, API, portal, imports, the check) parses with [`Email::parse`], and only
/// an `Email` gives a blind index.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl std::fmt::Debug for Email {
    // Emails are personal data: a Debug print must not leak one into a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

/// NFKC, lower case, NFKC again: lower-casing can undo the normal form of a few characters.
fn fold(text: &str) -> String {
    let composed: String = text.nfkc().collect();
    composed.to_lowercase().nfkc().collect()
}

/// Whether the letters and digits of one part (the local part, a domain label) stay within
/// one script, or the few mixes a single writing system uses (Latin with Han and Kana...), and
/// hold only characters allowed in identifiers; the ASCII punctuation of addresses is neutral.
fn plain_script(part: &str) -> bool {
    if part.is_ascii() {
        return true;
    }
    let letters: String = part.chars().filter(|c| !c.is_ascii_punctuation()).collect();
    letters
        .chars()
        .all(|c| c.is_ascii() || c.identifier_allowed())
        && letters
            .as_str()
            .check_restriction_level(RestrictionLevel::HighlyRestrictive)
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let invalid = |message: &str| DomainError::invalid("email", message);
        let text = fold(raw.trim());
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
        if !plain_script(local) {
            return Err(invalid(
                "the part before the @ mixes scripts or holds characters that imitate others",
            ));
        }
        let bad_domain = || invalid("the domain after the @ is not valid");
        let uts46 = Uts46::new();
        let (mapped, mapping) = uts46.to_unicode(
            domain.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
        );
        mapping.map_err(|_| bad_domain())?;
        uts46
            .to_ascii(
                mapped.as_bytes(),
                AsciiDenyList::STD3,
                Hyphens::CheckFirstLast,
                DnsLength::Verify,
            )
            .map_err(|_| bad_domain())?;
        let labels: Vec<&str> = mapped.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
        {
            return Err(bad_domain());
        }
        if !labels.iter().all(|l| plain_script(l)) {
            return Err(invalid(
                "the domain after the @ mixes scripts or holds characters that imitate others",
            ));
        }
        let text = format!("{local}@{mapped}");
        if text.len() > 254 {
            return Err(invalid("an email address has at most 254 characters"));
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
    fn look_alike_addresses_are_one_address_or_refused() {
        let victim = Email::parse("hg-victim@example.org").unwrap();
        for same in [
            "hg-victim@\u{ff45}xample.org",
            "\u{ff48}g-victim@example.org",
            "HG-VICTIM@EXAMPLE.ORG",
            "hg-victim\u{ff20}example.org",
            "hg-victim@example\u{3002}org",
        ] {
            assert_eq!(Email::parse(same).unwrap(), victim, "{same:?}");
        }
        for confusable in [
            "\u{04bb}g-victim@example.org",
            "hg-vict\u{0456}m@example.org",
            "hg-victim@ex\u{0430}mple.org",
            "hg\u{200b}-victim@example.org",
            "hg-victim@exa_mple.org",
        ] {
            assert!(
                Email::parse(confusable).is_err(),
                "{confusable:?} was accepted"
            );
        }
    }

    #[test]
    fn international_addresses_keep_one_form() {
        let unicode = Email::parse("Jürgen@Bücher.de").unwrap();
        assert_eq!(unicode.as_str(), "jürgen@bücher.de");
        assert_eq!(Email::parse("jürgen@xn--bcher-kva.de").unwrap(), unicode);
        // Decomposed ü (u + combining diaeresis) is the same letter.
        assert_eq!(
            Email::parse("ju\u{0308}rgen@bu\u{0308}cher.de").unwrap(),
            unicode
        );
        assert_eq!(
            Email::parse("\u{7530}\u{4e2d}\u{3055}\u{3093}@example.jp")
                .unwrap()
                .as_str(),
            "\u{7530}\u{4e2d}\u{3055}\u{3093}@example.jp",
            "Han with Hiragana is one writing system"
        );
        assert!(Email::parse("\u{0438}\u{0432}\u{0430}\u{043d}@example.ru").is_ok());
    }

    #[test]
    fn debug_never_shows_the_address() {
        assert!(!format!("{:?}", Email::parse("a@b.fr").unwrap()).contains("a@b"));
    }
}
