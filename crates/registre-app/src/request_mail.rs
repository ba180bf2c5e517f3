//! What the person is told at each step of their request, in their language only (the
//! language of the request); every message exists in French and English.
use crate::mail::Mail;
use crate::requests::RequestContent;
use crate::{App, AppError, AppResult};
use registre_domain::Language;
use registre_domain::request::RequestType;
use registre_store::RequestRecord;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Received,
    Extended,
    Completed,
    Refused,
}

fn type_name(request_type: RequestType, language: Language) -> &'static str {
    match (request_type, language) {
        (RequestType::Access, Language::Fr) => "droit d'accès (art. 15)",
        (RequestType::Rectification, Language::Fr) => "droit de rectification (art. 16)",
        (RequestType::Erasure, Language::Fr) => "droit à l'effacement (art. 17)",
        (RequestType::Restriction, Language::Fr) => "droit à la limitation du traitement (art. 18)",
        (RequestType::Portability, Language::Fr) => "droit à la portabilité (art. 20)",
        (RequestType::Objection, Language::Fr) => "droit d'opposition (art. 21)",
        (RequestType::Access, Language::En) => "right of access (Art. 15)",
        (RequestType::Rectification, Language::En) => "right to rectification (Art. 16)",
        (RequestType::Erasure, Language::En) => "right to erasure (Art. 17)",
        (RequestType::Restriction, Language::En) => "right to restriction of processing (Art. 18)",
        (RequestType::Portability, Language::En) => "right to data portability (Art. 20)",
        (RequestType::Objection, Language::En) => "right to object (Art. 21)",
    }
}

/// How the person was told of a step: in which language, whether the mail left, and where
/// the file outbox keeps it (an erasure must not delete its own confirmation).
#[derive(Clone, Debug)]
pub(crate) struct Told {
    pub language: Language,
    pub sent: bool,
    pub outbox_file: Option<std::path::PathBuf>,
}

pub(crate) struct StepText {
    pub subject: String,
    pub body: String,
}

pub(crate) struct Context<'a> {
    /// The organisation's time zone, in which dates are written.
    pub zone: chrono_tz::Tz,
    pub organisation: &'a str,
    pub authority_name: &'a str,
    pub authority_url: &'a str,
    pub download_url: Option<&'a str>,
    pub portal_url: &'a str,
}

/// The type of a stored request. Unknown, it is an error rather than a guess: a mail about
/// the wrong right would tell the person something false.
pub(crate) fn request_type(record: &RequestRecord) -> AppResult<RequestType> {
    RequestType::parse(&record.request_type).map_err(|_| {
        AppError::internal(format_args!(
            "request {} has an unknown type {:?}",
            record.id, record.request_type
        ))
    })
}

pub(crate) fn text(
    step: Step,
    kind: RequestType,
    record: &RequestRecord,
    content: &RequestContent,
    language: Language,
    cx: &Context<'_>,
) -> StepText {
    let name = type_name(kind, language);
    let org = cx.organisation;
    let fr = language == Language::Fr;
    let (subject, mut body) = match step {
        Step::Received => (
            if fr {
                format!("{org} : nous avons bien reçu votre demande")
            } else {
                format!("{org}: we have received your request")
            },
            if fr {
                format!(
                    "Bonjour,\n\nNous avons bien reçu le {} votre demande au titre du {name}.\nNous vous répondrons au plus tard le {}. Cette démarche est gratuite.\n\nRéférence : {}\nSuivre vos demandes : {}\n",
                    registre_domain::words::date(record.received_at, cx.zone, language),
                    registre_domain::words::date(record.due_at, cx.zone, language),
                    record.id,
                    cx.portal_url
                )
            } else {
                format!(
                    "Hello,\n\nWe received your request under the {name} on {}.\nWe will answer by {} at the latest. This is free of charge.\n\nReference: {}\nFollow your requests: {}\n",
                    registre_domain::words::date(record.received_at, cx.zone, language),
                    registre_domain::words::date(record.due_at, cx.zone, language),
                    record.id,
                    cx.portal_url
                )
            },
        ),
        Step::Extended => {
            let reason = content.extension_reason.as_deref().unwrap_or("");
            (
                if fr {
                    format!("{org} : le délai de réponse à votre demande est prolongé")
                } else {
                    format!("{org}: more time is needed to answer your request")
                },
                if fr {
                    format!(
                        "Bonjour,\n\nVotre demande au titre du {name} (référence {}) demande plus de temps que prévu.\nComme le permet l'article 12(3) du RGPD, le délai de réponse est prolongé de deux mois : nous vous répondrons au plus tard le {}.\n\nRaison : {reason}\n\nVous pouvez adresser une réclamation à l'autorité de contrôle ({}, {}).\n",
                        record.id,
                        registre_domain::words::date(record.due_at, cx.zone, language),
                        cx.authority_name,
                        cx.authority_url
                    )
                } else {
                    format!(
                        "Hello,\n\nYour request under the {name} (reference {}) needs more time than planned.\nAs Article 12(3) of the GDPR allows, the time to answer is extended by two months: we will answer by {} at the latest.\n\nReason: {reason}\n\nYou may lodge a complaint with the supervisory authority ({}, {}).\n",
                        record.id,
                        registre_domain::words::date(record.due_at, cx.zone, language),
                        cx.authority_name,
                        cx.authority_url
                    )
                },
            )
        }
        Step::Completed => {
            let detail = match (kind, cx.download_url, fr) {
                (RequestType::Access | RequestType::Portability, Some(url), true) => {
                    format!("Vos données sont prêtes. Téléchargez-les avec ce lien, valable 7 jours :\n{url}\n")
                }
                (RequestType::Access | RequestType::Portability, Some(url), false) => {
                    format!("Your data is ready. Download it with this link, valid for 7 days:\n{url}\n")
                }
                (RequestType::Erasure, _, true) => "Vos données sont effacées dès l'envoi de ce message, sauf celles qu'une obligation légale nous impose de conserver, le temps de cette obligation. Ce message est le dernier que nous adressons à cette adresse.\n".into(),
                (RequestType::Erasure, _, false) => "Your data is erased as soon as this message is sent, except what a legal obligation requires us to keep, for as long as it does. This is the last message we send to this address.\n".into(),
                (RequestType::Restriction, _, true) => "Le traitement de vos données est limité : elles sont conservées mais plus utilisées.\n".into(),
                (RequestType::Restriction, _, false) => "Processing of your data is restricted: it is kept but no longer used.\n".into(),
                (RequestType::Objection, _, true) => "Votre opposition est prise en compte : vous ne recevrez plus de prospection de notre part.\n".into(),
                (RequestType::Objection, _, false) => "Your objection is recorded: you will no longer receive direct marketing from us.\n".into(),
                (RequestType::Rectification, _, true) => "Vos données ont été corrigées, et nos destinataires informés.\n".into(),
                (RequestType::Rectification, _, false) => "Your data has been corrected, and our recipients told.\n".into(),
                (_, None, true) => String::new(),
                (_, None, false) => String::new(),
            };
            (
                if fr {
                    format!("{org} : votre demande est traitée")
                } else {
                    format!("{org}: your request has been carried out")
                },
                if fr {
                    format!(
                        "Bonjour,\n\nVotre demande au titre du {name} (référence {}) est traitée.\n{detail}\nSi la réponse ne vous satisfait pas, vous pouvez adresser une réclamation à l'autorité de contrôle ({}, {}).\n",
                        record.id, cx.authority_name, cx.authority_url
                    )
                } else {
                    format!(
                        "Hello,\n\nYour request under the {name} (reference {}) has been carried out.\n{detail}\nIf the answer does not satisfy you, you may lodge a complaint with the supervisory authority ({}, {}).\n",
                        record.id, cx.authority_name, cx.authority_url
                    )
                },
            )
        }
        Step::Refused => {
            let reason = content.refusal_reason.as_deref().unwrap_or("");
            (
                if fr {
                    format!("{org} : réponse à votre demande")
                } else {
                    format!("{org}: answer to your request")
                },
                if fr {
                    format!(
                        "Bonjour,\n\nNous ne pouvons pas donner suite à votre demande au titre du {name} (référence {}).\n\nRaison : {reason}\n\nVous avez le droit d'introduire une réclamation auprès de l'autorité de contrôle ({}, {}) et de former un recours juridictionnel (article 12(4) du RGPD).\n",
                        record.id, cx.authority_name, cx.authority_url
                    )
                } else {
                    format!(
                        "Hello,\n\nWe cannot act on your request under the {name} (reference {}).\n\nReason: {reason}\n\nYou have the right to lodge a complaint with the supervisory authority ({}, {}) and to seek a judicial remedy (Article 12(4) of the GDPR).\n",
                        record.id, cx.authority_name, cx.authority_url
                    )
                },
            )
        }
    };
    body.push_str(if fr {
        "\nCordialement,\n"
    } else {
        "\nKind regards,\n"
    });
    body.push_str(org);
    body.push('\n');
    StepText { subject, body }
}

impl App {
    /// Tells the person about a step of their request. A mail that cannot be sent is logged
    /// (without the address) and does not undo the step.
    pub(crate) async fn mail_request_step(
        &self,
        record: &RequestRecord,
        content: &RequestContent,
        step: Step,
    ) -> Told {
        let language = Language::parse(&record.language).unwrap_or_default();
        let not_sent = Told {
            language,
            sent: false,
            outbox_file: None,
        };
        let kind = match request_type(record) {
            Ok(kind) => kind,
            Err(error) => {
                tracing::error!(%error, "a request mail cannot be written");
                return not_sent;
            }
        };
        let organisation = match self.organisation().await {
            Ok(organisation) => organisation,
            Err(error) => {
                tracing::warn!(%error, request = %record.id, "cannot read the organisation for a request mail");
                return not_sent;
            }
        };
        let download = match (step, kind) {
            (Step::Completed, RequestType::Access | RequestType::Portability) => {
                Some(self.download_link(record.id).0)
            }
            _ => None,
        };
        let portal_url = format!("{}/privacy", self.config().public_url);
        let cx = Context {
            zone: organisation.zone(),
            organisation: &organisation.name,
            authority_name: &organisation.authority.name,
            authority_url: &organisation.authority.url,
            download_url: download.as_deref(),
            portal_url: &portal_url,
        };
        // In the person's language only.
        let written = text(step, kind, record, content, language, &cx);
        let mail = Mail {
            to: content.email.clone(),
            subject: written.subject,
            text: written.body,
            language,
            html: None,
            unsubscribe_url: None,
        };
        match self.deliver_mail(mail).await {
            Ok(outbox_file) => Told {
                language,
                sent: true,
                outbox_file,
            },
            Err(error) => {
                tracing::warn!(%error, request = %record.id, "a request mail could not be sent");
                not_sent
            }
        }
    }
}
