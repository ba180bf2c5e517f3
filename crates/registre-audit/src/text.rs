//! Text normalisation and word matching for French and English wording.
//!
//! Matching works on words, never on markup: text comes out of the parsed DOM, is folded
//! (lower case, accents and ligatures removed, typographic apostrophes unified) and cut into
//! sentences and words. Patterns are word sequences where a trailing `*` accepts any ending,
//! which covers inflections (`conserv*` matches conservées, conservation, conserver).

/// One word of a sentence: its folded form and whether it started with a capital letter.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    pub norm: String,
    pub capitalised: bool,
}

/// The words of a text, with an index of their first two letters so that a phrase whose
/// first word cannot occur is skipped without scanning (most phrases are absent from most
/// sentences of a page).
#[derive(Debug, Clone, Default)]
pub(crate) struct Words {
    list: Vec<Word>,
    pairs: [u64; 13],
    firsts: u32,
}

/// 0..=25 for `a`..=`z`, 26 for anything else, 27 for "no letter" (end of word).
fn slot(b: Option<u8>) -> usize {
    match b {
        None | Some(b' ') => 27,
        Some(b) if b.is_ascii_lowercase() => usize::from(b - b'a'),
        Some(_) => 26,
    }
}

impl Words {
    fn new(list: Vec<Word>) -> Words {
        let mut pairs = [0u64; 13];
        let mut firsts = 0u32;
        for w in &list {
            let b = w.norm.as_bytes();
            let c0 = slot(b.first().copied());
            let key = c0 * 28 + slot(b.get(1).copied());
            pairs[key / 64] |= 1 << (key % 64);
            firsts |= 1 << c0;
        }
        Words {
            list,
            pairs,
            firsts,
        }
    }

    /// Can a phrase start in these words? `false` means certainly not.
    #[inline]
    fn may_start(&self, phrase: &str) -> bool {
        let t = phrase.as_bytes();
        let Some(&b0) = t.first() else { return false };
        if b0 == b'?' {
            return true;
        }
        let c0 = slot(Some(b0));
        match t.get(1) {
            Some(b'*') => self.firsts & (1 << c0) != 0,
            other => {
                let key = c0 * 28 + slot(other.copied());
                self.pairs[key / 64] & (1 << (key % 64)) != 0
            }
        }
    }
}

impl std::ops::Deref for Words {
    type Target = [Word];
    fn deref(&self) -> &[Word] {
        &self.list
    }
}

/// A sentence: the raw text (for quoting in messages) and its words.
#[derive(Debug, Clone)]
pub(crate) struct Sentence<'a> {
    pub raw: &'a str,
    pub words: Words,
}

/// Folds one character into `out`: lower case, no accents, unified apostrophes and spaces.
fn fold_char(c: char, out: &mut String) {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => {
            out.push('a')
        }
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => out.push('e'),
        'î' | 'ï' | 'í' | 'ì' | 'Î' | 'Ï' | 'Í' | 'Ì' => out.push('i'),
        'ô' | 'ö' | 'ó' | 'ò' | 'õ' | 'Ô' | 'Ö' | 'Ó' | 'Ò' | 'Õ' => out.push('o'),
        'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' | 'Ú' => out.push('u'),
        'ç' | 'Ç' => out.push('c'),
        'ñ' | 'Ñ' => out.push('n'),
        'ÿ' | 'Ÿ' | 'ý' | 'Ý' => out.push('y'),
        'œ' | 'Œ' => out.push_str("oe"),
        'æ' | 'Æ' => out.push_str("ae"),
        'ß' => out.push_str("ss"),
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' => out.push('\''),
        '\u{00A0}' | '\u{202F}' | '\u{2009}' => out.push(' '),
        // Combining diacritical marks (decomposed accents) are dropped.
        '\u{0300}'..='\u{036F}' => {}
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        c => out.extend(c.to_lowercase()),
    }
}

/// Folds a whole string (lower case, no accents).
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut out);
    }
    out
}

/// Splits a text into words (alphanumeric runs), folded.
pub(crate) fn words(s: &str) -> Words {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut capitalised = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if current.is_empty() {
                capitalised = c.is_uppercase();
            }
            fold_char(c, &mut current);
        } else if matches!(c, '\u{0300}'..='\u{036F}') {
            // a combining accent inside a word
        } else if !current.is_empty() {
            out.push(Word {
                norm: std::mem::take(&mut current),
                capitalised,
            });
        }
    }
    if !current.is_empty() {
        out.push(Word {
            norm: current,
            capitalised,
        });
    }
    Words::new(out)
}

/// Splits a block of text into sentences. Lines are sentences; so are runs ended by `.`, `!`,
/// `?` or `;` followed by a space (so `dpo@exemple.fr` and `3.5` stay whole).
pub(crate) fn sentences<'a>(text: &'a str, out: &mut Vec<Sentence<'a>>) {
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ends = match b {
            b'\n' => true,
            b'.' | b'!' | b'?' | b';' => bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()),
            _ => false,
        };
        if ends {
            push_sentence(&text[start..=i], out);
            start = i + 1;
        }
        i += 1;
    }
    if start < text.len() {
        push_sentence(&text[start..], out);
    }
}

fn push_sentence<'a>(raw: &'a str, out: &mut Vec<Sentence<'a>>) {
    let raw = raw.trim();
    if raw.is_empty() {
        return;
    }
    let words = words(raw);
    if words.is_empty() {
        return;
    }
    out.push(Sentence { raw, words });
}

/// Collapses runs of white space and cuts the text to at most `max` characters.
pub(crate) fn collapse_spaces(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 4));
    let mut count = 0;
    for part in s.split_whitespace() {
        if count >= max {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
            count += 1;
        }
        for c in part.chars() {
            if count >= max {
                break;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

/// Does `word` match a pattern token (`stem*` for a prefix, `?` for any word, else the whole
/// word)?
#[inline]
pub(crate) fn token_matches(word: &str, token: &str) -> bool {
    if token == "?" {
        return true;
    }
    match token.strip_suffix('*') {
        Some(stem) => word.starts_with(stem),
        None => word == token,
    }
}

/// Does the phrase (space-separated tokens) start at word `i`?
#[inline]
fn phrase_at(words: &[Word], i: usize, phrase: &str) -> bool {
    let mut k = i;
    for token in phrase.split(' ') {
        match words.get(k) {
            Some(w) if token_matches(&w.norm, token) => k += 1,
            _ => return false,
        }
    }
    true
}

/// Index of the first place where the phrase (space-separated tokens) occurs.
pub(crate) fn find_phrase(words: &Words, phrase: &str) -> Option<usize> {
    if !words.may_start(phrase) {
        return None;
    }
    let first = phrase.split(' ').next()?;
    (0..words.len()).find(|&i| token_matches(&words[i].norm, first) && phrase_at(words, i, phrase))
}

/// Does any of the phrases occur?
pub(crate) fn any_phrase(words: &Words, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| find_phrase(words, p).is_some())
}

/// Positions where any of the phrases starts.
pub(crate) fn phrase_positions(words: &Words, phrases: &[&str]) -> Vec<usize> {
    let mut out = Vec::new();
    for p in phrases {
        if !words.may_start(p) {
            continue;
        }
        let Some(first) = p.split(' ').next() else {
            continue;
        };
        for (i, w) in words.iter().enumerate() {
            if token_matches(&w.norm, first) && phrase_at(words, i, p) {
                out.push(i);
            }
        }
    }
    out
}

/// Do a phrase of `a` and a phrase of `b` both occur, `b` within `window` words after `a`
/// (or before it when `either_order`)?
pub(crate) fn near(
    words: &Words,
    a: &[&str],
    b: &[&str],
    window: usize,
    either_order: bool,
) -> bool {
    let pa = phrase_positions(words, a);
    if pa.is_empty() {
        return false;
    }
    let pb = phrase_positions(words, b);
    pa.iter().any(|&i| {
        pb.iter()
            .any(|&j| (j > i && j - i <= window) || (either_order && i > j && i - j <= window))
    })
}

/// Email addresses written in a text (a small scanner, not a full RFC 5322 parser).
pub(crate) fn email_addresses(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (at, _) in text.match_indices('@') {
        let is_local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
        let is_domain = |b: u8| b.is_ascii_alphanumeric() || b".-".contains(&b);
        let mut start = at;
        while start > 0 && is_local(bytes[start - 1]) && at - start < 64 {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain(bytes[end]) && end - at < 255 {
            end += 1;
        }
        let local = &text[start..at];
        let domain = text[at + 1..end].trim_end_matches('.');
        let tld_ok = domain.rsplit_once('.').is_some_and(|(host, tld)| {
            !host.is_empty() && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
        });
        if !local.is_empty() && tld_ok {
            out.push(format!(
                "{}@{}",
                local.to_ascii_lowercase(),
                domain.to_ascii_lowercase()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_and_case() {
        assert_eq!(
            fold("Durée de CONSERVATION – Délégué"),
            "duree de conservation – delegue"
        );
        assert_eq!(fold("d’accès"), "d'acces");
        assert_eq!(fold("e\u{301}lectronique"), "electronique");
        assert_eq!(fold("Œuvre"), "oeuvre");
    }

    #[test]
    fn words_split_on_apostrophes_and_keep_capitals() {
        let w = words("Droit d’accès, Exemple SAS");
        let norms: Vec<&str> = w.iter().map(|w| w.norm.as_str()).collect();
        assert_eq!(norms, ["droit", "d", "acces", "exemple", "sas"]);
        assert!(w[3].capitalised);
        assert!(!w[1].capitalised);
    }

    #[test]
    fn phrases_accept_inflections() {
        let w = words("Vos données sont conservées pendant trois ans.");
        assert!(any_phrase(&w, &["conserv*"]));
        assert!(find_phrase(&w, "vos donnee*").is_some());
        assert!(near(&w, &["conserv*"], &["ans"], 4, false));
        assert!(!near(&w, &["ans"], &["conserv*"], 4, false));
    }

    #[test]
    fn sentences_do_not_break_emails() {
        let mut s = Vec::new();
        sentences("Écrivez à dpo@exemple.fr. Merci !\nAutre ligne", &mut s);
        assert_eq!(s.len(), 3);
        assert!(s[0].raw.contains("dpo@exemple.fr"));
    }

    #[test]
    fn emails_are_found() {
        assert_eq!(
            email_addresses("contact: DPO@Exemple.fr."),
            ["dpo@exemple.fr"]
        );
        assert!(email_addresses("a @ b").is_empty());
        assert!(email_addresses("user@localhost").is_empty());
    }
}
