//! Outgoing mail: SMTP through lettre when configured, otherwise `.eml` files under
//! `<data-dir>/outbox/` (PRODUCT.md). Templates are chosen by the caller in the person's
//! language; this module only delivers.
use crate::{App, AppError, AppResult};
use lettre::message::{Mailbox, MultiPart, header};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct MailConfig {
    /// `smtp://user:pass@host:587` or `smtps://...`; `None` writes `.eml` files instead.
    pub smtp_url: Option<String>,
    pub outbox_dir: PathBuf,
    /// `REGISTRE_MAIL_FROM`, when the operator sets the sender; otherwise mail is sent as
    /// the organisation: its name and its contact address.
    pub from: Option<String>,
}

/// One message to one person.
#[derive(Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The one language the mail is written in (the person's).
    pub language: registre_domain::Language,
    /// Written for this mail; otherwise the text is laid out in the mail layout.
    pub html: Option<String>,
    /// One-click unsubscribe URL (RFC 8058): adds `List-Unsubscribe` and `List-Unsubscribe-Post`.
    pub unsubscribe_url: Option<String>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

fn mail_error(error: impl std::fmt::Display) -> AppError {
    AppError::internal(format_args!("mail: {error}"))
}

impl App {
    pub async fn send_mail(&self, mail: Mail) -> AppResult<()> {
        self.deliver_mail(mail).await.map(|_| ())
    }

    /// [`Self::send_mail`], answering where the mail was written when it went to the file
    /// outbox (`None` once handed to SMTP).
    pub(crate) async fn deliver_mail(&self, mail: Mail) -> AppResult<Option<PathBuf>> {
        let config = &self.config().mail;
        let organisation = self.organisation().await?;
        let from: Mailbox = match &config.from {
            Some(from) => from.parse().map_err(mail_error)?,
            None => Mailbox::new(
                Some(organisation.name.clone()),
                organisation
                    .contact_email
                    .parse()
                    .or_else(|_| "no-reply@localhost".parse())
                    .map_err(mail_error)?,
            ),
        };
        let html = match mail.html {
            Some(html) => html,
            None => crate::mail_html::html_of(
                mail.language.code(),
                &organisation.name,
                &mail.subject,
                &mail.text,
            )
            .map_err(mail_error)?,
        };
        let to: Mailbox = mail.to.parse().map_err(mail_error)?;
        let mut builder = Message::builder().from(from).to(to).subject(mail.subject);
        if let Some(url) = &mail.unsubscribe_url {
            builder = builder
                .raw_header(header::HeaderValue::new(
                    header::HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(header::HeaderValue::new(
                    header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_string(),
                ));
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(mail.text, html))
            .map_err(mail_error)?;
        match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(mail_error)?
                    .build();
                transport.send(message).await.map_err(mail_error)?;
                Ok(None)
            }
            None => {
                let outbox = config.outbox_dir.clone();
                tokio::task::spawn_blocking(move || {
                    registre_crypto::durable::create_dir_all(&outbox, false)
                })
                .await
                .map_err(mail_error)?
                .map_err(mail_error)?;
                let transport = AsyncFileTransport::<Tokio1Executor>::new(&config.outbox_dir);
                let id = transport.send(message).await.map_err(mail_error)?;
                Ok(Some(config.outbox_dir.join(format!("{id}.eml"))))
            }
        }
    }
}
