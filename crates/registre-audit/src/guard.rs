//! Checks made before the HTML tree is built, so that hostile input gets a clear error instead
//! of a crash or a parse that takes minutes.
//!
//! The HTML tree builder checks "is there a `<p>` in scope?" by walking the stack of open
//! elements, so a page of 100 000 nested `<div>` costs it billions of steps. A first pass with
//! the (linear) html5ever tokenizer measures how deep the markup can nest and how many
//! formatting elements stay open, and refuses pages beyond sane limits.

use std::cell::Cell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use crate::AuditError;

/// Largest page accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 10 * 1024 * 1024;
/// Deepest nesting of elements accepted (real pages stay under 100).
pub const MAX_NESTING: usize = 1024;
/// Most formatting elements (`<b>`, `<font>`...) left open at once; each one is re-created at
/// every new block by the tree builder, so thousands of them multiply the tree.
pub const MAX_OPEN_FORMATTING: usize = 100;

#[derive(Default)]
struct DepthSink {
    depth: Cell<usize>,
    max_depth: Cell<usize>,
    open_formatting: Cell<usize>,
    max_formatting: Cell<usize>,
    tags: Cell<usize>,
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "param"
            | "keygen"
    )
}

/// Elements whose end tag is usually left out: they close by themselves and do not nest.
fn closes_itself(name: &str) -> bool {
    matches!(
        name,
        "p" | "li"
            | "dt"
            | "dd"
            | "option"
            | "optgroup"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "colgroup"
            | "rb"
            | "rt"
            | "rp"
            | "html"
            | "head"
            | "body"
    )
}

fn is_formatting(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "big"
            | "code"
            | "em"
            | "font"
            | "i"
            | "nobr"
            | "s"
            | "small"
            | "strike"
            | "strong"
            | "tt"
            | "u"
    )
}

impl TokenSink for DepthSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        self.tags.set(self.tags.get() + 1);
        let name: &str = &tag.name;
        match tag.kind {
            TagKind::StartTag => {
                if is_formatting(name) {
                    let n = self.open_formatting.get() + 1;
                    self.open_formatting.set(n);
                    self.max_formatting.set(self.max_formatting.get().max(n));
                }
                if !tag.self_closing && !is_void(name) && !closes_itself(name) {
                    let d = self.depth.get() + 1;
                    self.depth.set(d);
                    self.max_depth.set(self.max_depth.get().max(d));
                }
                match name {
                    "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                        TokenSinkResult::RawData(RawKind::Rawtext)
                    }
                    "textarea" | "title" => TokenSinkResult::RawData(RawKind::Rcdata),
                    "plaintext" => TokenSinkResult::Plaintext,
                    _ => TokenSinkResult::Continue,
                }
            }
            TagKind::EndTag => {
                if is_formatting(name) {
                    self.open_formatting
                        .set(self.open_formatting.get().saturating_sub(1));
                }
                if !is_void(name) && !closes_itself(name) {
                    self.depth.set(self.depth.get().saturating_sub(1));
                }
                TokenSinkResult::Continue
            }
        }
    }
}

/// Refuses input that is too large, not HTML, or nested too deeply to parse safely.
pub(crate) fn check(html: &str) -> Result<(), AuditError> {
    if html.len() > MAX_INPUT_BYTES {
        return Err(AuditError::TooLarge {
            size: html.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    if html.trim().is_empty() {
        return Err(AuditError::NotHtml("the input is empty".into()));
    }
    let head: String = html.chars().take(8192).collect();
    let control = head
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        .count();
    let replaced = head.chars().filter(|c| *c == '\u{FFFD}').count();
    let total = head.chars().count();
    if head.contains('\0') || control * 20 > total || replaced * 10 > total {
        return Err(AuditError::NotHtml(
            "the input looks like binary data".into(),
        ));
    }

    let sink = DepthSink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    // Feed by chunks so that a page far too deep stops early.
    let mut rest = html;
    while !rest.is_empty() {
        let mut cut = rest.len().min(64 * 1024);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        queue.push_back(StrTendril::from_slice(chunk));
        let _ = tokenizer.feed(&queue);
        rest = tail;
        if tokenizer.sink.max_depth.get() > MAX_NESTING
            || tokenizer.sink.max_formatting.get() > MAX_OPEN_FORMATTING
        {
            break;
        }
    }
    tokenizer.end();
    let sink = &tokenizer.sink;
    if sink.max_depth.get() > MAX_NESTING {
        return Err(AuditError::TooDeep { limit: MAX_NESTING });
    }
    if sink.max_formatting.get() > MAX_OPEN_FORMATTING {
        return Err(AuditError::TooDeep {
            limit: MAX_OPEN_FORMATTING,
        });
    }
    if sink.tags.get() == 0 {
        return Err(AuditError::NotHtml("no HTML element found".into()));
    }
    Ok(())
}
