//! The HTML side of every mail that is written as text: one layout (the organisation's
//! name, the subject, the text's paragraphs, lists and links), so that sign-in links,
//! request answers, unlock and reset links and questionnaires look like the confirmation
//! mail, and long links wrap on a phone instead of widening the message.
use askama::Template;

/// A run of a line: text, or a link shown as itself.
pub(crate) enum Piece {
    Text(String),
    Link(String),
}

pub(crate) enum Block {
    /// Lines kept as lines.
    Paragraph(Vec<Vec<Piece>>),
    /// Lines that began with "- ".
    List(Vec<Vec<Piece>>),
    /// A line of dashes: what separates a signature.
    Rule,
}

#[derive(Template)]
#[template(path = "mail/layout.html")]
struct Layout<'a> {
    lang: &'a str,
    organisation: &'a str,
    subject: &'a str,
    blocks: Vec<Block>,
}

fn pieces(line: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            text.push(' ');
        }
        if word.starts_with("https://") || word.starts_with("http://") {
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Link(word.to_string()));
        } else {
            text.push_str(word);
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    for chunk in text.replace("\r\n", "\n").split("\n\n") {
        let lines: Vec<&str> = chunk.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            continue;
        }
        let mut paragraph = Vec::new();
        let mut list = Vec::new();
        for line in lines {
            let trimmed = line.trim();
            if (trimmed.len() >= 4 && trimmed.chars().all(|c| c == '-')) || trimmed == "--" {
                if !paragraph.is_empty() {
                    blocks.push(Block::Paragraph(std::mem::take(&mut paragraph)));
                }
                blocks.push(Block::Rule);
            } else if let Some(item) = trimmed.strip_prefix("- ") {
                if !paragraph.is_empty() {
                    blocks.push(Block::Paragraph(std::mem::take(&mut paragraph)));
                }
                list.push(pieces(item));
            } else {
                if !list.is_empty() {
                    blocks.push(Block::List(std::mem::take(&mut list)));
                }
                paragraph.push(pieces(trimmed));
            }
        }
        if !list.is_empty() {
            blocks.push(Block::List(list));
        }
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(paragraph));
        }
    }
    blocks
}

/// The HTML of a mail written as `text`.
pub(crate) fn html_of(
    lang: &str,
    organisation: &str,
    subject: &str,
    text: &str,
) -> Result<String, askama::Error> {
    Layout {
        lang,
        organisation,
        subject,
        blocks: blocks(text),
    }
    .render()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_text_becomes_paragraphs_lists_and_links_with_markup_escaped() {
        let html = html_of(
            "fr",
            "Exemple <SAS>",
            "Votre lien",
            "Bonjour,\n\nOuvrez ce lien :\nhttps://exemple.fr/privacy/sign-in?token=abc&lang=fr\n\n  - Lettre <b>\n  - Offres\n\n-- \nExemple SAS",
        )
        .unwrap();
        assert!(html.contains("Exemple &#60;SAS&#62;") || html.contains("Exemple &lt;SAS&gt;"));
        assert!(
            html.contains("<a href=\"https://exemple.fr/privacy/sign-in?token=abc&#38;lang=fr\"")
                || html.contains(
                    "<a href=\"https://exemple.fr/privacy/sign-in?token=abc&amp;lang=fr\""
                ),
            "{html}"
        );
        assert!(html.contains("word-break:break-all"));
        assert!(
            html.contains("<li>Lettre &#60;b&#62;</li>")
                || html.contains("<li>Lettre &lt;b&gt;</li>"),
            "{html}"
        );
        assert!(html.contains("<hr"));
        assert!(!html.contains("<b>"));
    }
}
