//! The emails of the public forms, in the person's language: the double opt-in
//! confirmation, with its one-click withdrawal link (and RFC 8058 headers).
use crate::i18n::{self, Messages};
use askama::Template;
use registre_app::forms::ConfirmationMail;
use registre_app::mail::Mail;
use registre_app::{App, NoticeView};

#[derive(Template)]
#[template(path = "mail/confirm.txt")]
struct ConfirmText<'a> {
    t: &'static Messages,
    organisation: &'a str,
    form_title: &'a str,
    purposes: &'a [String],
    confirm_url: &'a str,
    unsubscribe_url: &'a str,
    dpo_email: &'a str,
    receipt_urls: &'a [String],
}

#[derive(Template)]
#[template(path = "mail/confirm.html")]
struct ConfirmHtml<'a> {
    t: &'static Messages,
    subject: &'a str,
    organisation: &'a str,
    form_title: &'a str,
    purposes: &'a [String],
    confirm_url: &'a str,
    unsubscribe_url: &'a str,
    dpo_email: &'a str,
    receipt_urls: &'a [String],
}

/// Writes the confirmation email of a double opt-in form (the app commits it to the outbox
/// with the submission); `None` (logged) when it cannot be rendered, so the confirmation
/// page can say no mail is coming.
pub fn confirmation_mail(
    app: &App,
    notice: &NoticeView,
    confirmation: &ConfirmationMail,
) -> Option<Mail> {
    let t = i18n::messages(confirmation.language);
    let content = &notice.content;
    let organisation = content.controller.name.as_str();
    let form_title = content.touchpoint.title.get(t.language);
    let purposes: Vec<String> = confirmation
        .purposes
        .iter()
        .map(|key| {
            content
                .purposes
                .iter()
                .find(|p| &p.key == key)
                .map(|p| p.title.get(t.language).to_string())
                .unwrap_or_else(|| key.clone())
        })
        .collect();
    let base = &app.config().public_url;
    let confirm_url = format!("{base}/f/confirm?token={}", confirmation.confirm_token);
    let unsubscribe_url = format!("{base}/u?token={}", confirmation.unsubscribe_token);
    let receipt_urls: Vec<String> = confirmation
        .events
        .iter()
        .map(|event_id| format!("{base}{}", super::receipt::receipt_href(app, *event_id, t)))
        .collect();
    let subject = t.confirm_subject(organisation);
    let dpo_email = content.controller.dpo_email.as_str();
    let text = ConfirmText {
        t,
        organisation,
        form_title,
        purposes: &purposes,
        confirm_url: &confirm_url,
        unsubscribe_url: &unsubscribe_url,
        dpo_email,
        receipt_urls: &receipt_urls,
    }
    .render();
    let html = ConfirmHtml {
        t,
        subject: &subject,
        organisation,
        form_title,
        purposes: &purposes,
        confirm_url: &confirm_url,
        unsubscribe_url: &unsubscribe_url,
        dpo_email,
        receipt_urls: &receipt_urls,
    }
    .render();
    let (Ok(text), Ok(html)) = (text, html) else {
        tracing::error!("the confirmation email could not be rendered");
        return None;
    };
    Some(Mail {
        to: confirmation.to.as_str().to_string(),
        subject,
        text,
        language: t.language,
        html: Some(html),
        unsubscribe_url: Some(unsubscribe_url),
    })
}
