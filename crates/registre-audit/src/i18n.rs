//! Findings put into words, in French or English: what is wrong, the article, the fix.

use crate::analyze::{FieldKind, FormKind, Issue, Precheck};
use crate::lexicon::Purposes;
use crate::{Finding, Level};

/// The language of messages: `fr` for French pages, `en` for everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn from_code(code: &str) -> Lang {
        if code == "fr" { Lang::Fr } else { Lang::En }
    }
}

fn purpose_name(p: Purposes, lang: Lang) -> &'static str {
    match (p, lang) {
        (p, Lang::Fr) if p == Purposes::NEWSLETTER => "lettre d'information",
        (p, Lang::Fr) if p == Purposes::OFFERS => "offres commerciales",
        (p, Lang::Fr) if p == Purposes::PARTNERS => "offres ou partage avec des partenaires",
        (p, Lang::Fr) if p == Purposes::PROFILING => "profilage / publicité ciblée",
        (p, Lang::Fr) if p == Purposes::SURVEYS => "enquêtes",
        (p, Lang::En) if p == Purposes::NEWSLETTER => "newsletter",
        (p, Lang::En) if p == Purposes::OFFERS => "promotional offers",
        (p, Lang::En) if p == Purposes::PARTNERS => {
            "partners' offers or data sharing with partners"
        }
        (p, Lang::En) if p == Purposes::PROFILING => "profiling / targeted advertising",
        (p, Lang::En) if p == Purposes::SURVEYS => "surveys",
        _ => "",
    }
}

fn purpose_list(p: Purposes, lang: Lang) -> String {
    let names: Vec<&str> = p.iter().map(|one| purpose_name(one, lang)).collect();
    let sep = if lang == Lang::Fr { " ; " } else { "; " };
    names.join(sep)
}

fn field_name(f: FieldKind, lang: Lang) -> &'static str {
    match (f, lang) {
        (FieldKind::Phone, Lang::Fr) => "numéro de téléphone",
        (FieldKind::Phone, Lang::En) => "phone number",
        (FieldKind::BirthDate, Lang::Fr) => "date de naissance",
        (FieldKind::BirthDate, Lang::En) => "birth date",
        (FieldKind::Address, Lang::Fr) => "adresse postale",
        (FieldKind::Address, Lang::En) => "postal address",
        (FieldKind::Gender, Lang::Fr) => "genre",
        (FieldKind::Gender, Lang::En) => "gender",
        (FieldKind::NationalId, Lang::Fr) => {
            "numéro d'identification (sécurité sociale, pièce d'identité)"
        }
        (FieldKind::NationalId, Lang::En) => "national identification number",
        (FieldKind::Sensitive, Lang::Fr) => {
            "donnée sensible (art. 9 : santé, religion, opinions...)"
        }
        (FieldKind::Sensitive, Lang::En) => {
            "special-category data (Art. 9: health, religion, opinions...)"
        }
        (FieldKind::Financial, Lang::Fr) => "donnée bancaire",
        (FieldKind::Financial, Lang::En) => "payment data",
        (_, Lang::Fr) => "donnée",
        (_, Lang::En) => "data",
    }
}

fn form_purpose(k: FormKind, lang: Lang) -> &'static str {
    match (k, lang) {
        (FormKind::Newsletter, Lang::Fr) => "une inscription à la lettre d'information",
        (FormKind::Newsletter, Lang::En) => "a newsletter sign-up",
        (FormKind::Contact, Lang::Fr) => "une demande de contact",
        (FormKind::Contact, Lang::En) => "a contact request",
        (FormKind::Download, Lang::Fr) => "un téléchargement",
        (FormKind::Download, Lang::En) => "a download",
        (FormKind::Account, Lang::Fr) => "la création d'un compte",
        (FormKind::Account, Lang::En) => "creating an account",
        (_, Lang::Fr) => "ce formulaire",
        (_, Lang::En) => "this form",
    }
}

/// Puts one issue into words.
pub(crate) fn finding(issue: &Issue, element: Option<String>, lang: Lang) -> Finding {
    let fr = lang == Lang::Fr;
    let (rule, level, article, message, fix) = match issue {
        Issue::Prechecked {
            label,
            purposes,
            how,
        } => {
            let p = purpose_list(*purposes, lang);
            let (message, fix) = match (how, fr) {
                (Precheck::Checked, true) => (
                    format!("La case « {label} » ({p}) est cochée par défaut : le consentement doit venir d'un acte positif de la personne."),
                    "Retirez l'attribut `checked` : la case doit être décochée au chargement et cochée seulement par la personne.".to_string(),
                ),
                (Precheck::Checked, false) => (
                    format!("The box “{label}” ({p}) is ticked in advance: consent must come from the person's own positive act."),
                    "Remove the `checked` attribute so the box starts unticked and only the person ticks it.".to_string(),
                ),
                (Precheck::OptOut, true) => (
                    format!("La case « {label} » demande de cocher pour refuser ({p}) : ne rien faire vaut consentement, comme une case pré-cochée."),
                    "Remplacez-la par une case d'acceptation, décochée par défaut, que la personne coche pour accepter.".to_string(),
                ),
                (Precheck::OptOut, false) => (
                    format!("The box “{label}” must be ticked to refuse ({p}): doing nothing counts as consent, like a pre-ticked box."),
                    "Replace it with an opt-in box, unticked by default, that the person ticks to agree.".to_string(),
                ),
                (Precheck::Hidden, true) => (
                    format!("Le champ caché « {label} » enregistre un consentement ({p}) sans aucune action de la personne."),
                    "Supprimez ce champ caché et ajoutez une case à cocher décochée pour cette finalité.".to_string(),
                ),
                (Precheck::Hidden, false) => (
                    format!("The hidden field “{label}” records consent ({p}) without any action of the person."),
                    "Remove the hidden field and add an unticked checkbox for this purpose.".to_string(),
                ),
                (Precheck::Radio, true) => (
                    format!("La réponse « {label} » qui accepte ({p}) est sélectionnée par défaut."),
                    "Ne présélectionnez aucune réponse : la personne doit choisir elle-même.".to_string(),
                ),
                (Precheck::Radio, false) => (
                    format!("The answer “{label}” agreeing to {p} is selected in advance."),
                    "Select no answer by default: the person must choose.".to_string(),
                ),
            };
            (
                "prechecked-consent",
                Level::Error,
                "Art. 4(11), Art. 7(1); Recital 32",
                message,
                fix,
            )
        }
        Issue::Bundled {
            label,
            purposes,
            with_terms,
        } => {
            let p = purpose_list(*purposes, lang);
            let (message, fix) = match (with_terms, fr) {
                (false, true) => (
                    format!("Une seule case « {label} » demande le consentement à plusieurs finalités distinctes ({p}) : chacune doit avoir son propre choix."),
                    "Séparez-la en une case décochée par finalité (par exemple une pour la lettre d'information, une pour les offres des partenaires).".to_string(),
                ),
                (false, false) => (
                    format!("One box “{label}” asks consent for several distinct purposes at once ({p}): each purpose needs its own choice."),
                    "Split it into one unticked box per purpose (for example one for the newsletter, one for partners' offers).".to_string(),
                ),
                (true, true) => (
                    format!("La case « {label} » mêle l'acceptation des conditions et le consentement ({p}) : le consentement doit se distinguer clairement des autres questions."),
                    format!("Gardez l'acceptation des conditions dans sa propre case et ajoutez une case facultative et décochée pour : {p}."),
                ),
                (true, false) => (
                    format!("The box “{label}” mixes accepting the terms with consent ({p}): consent must be clearly distinguishable from other matters."),
                    format!("Keep the terms acceptance in its own box and add a separate, optional, unticked box for: {p}."),
                ),
            };
            (
                "bundled-consent",
                Level::Error,
                "Art. 7(2); Recitals 32, 43",
                message,
                fix,
            )
        }
        Issue::Forced { label, purposes } => {
            let p = purpose_list(*purposes, lang);
            let (message, fix) = if fr {
                (
                    format!("Le consentement ({p}) « {label} » est obligatoire pour envoyer le formulaire, alors que le service n'en a pas besoin."),
                    "Retirez l'attribut `required` (et la validation de l'extension) : le formulaire doit pouvoir être envoyé sans cocher cette case.".to_string(),
                )
            } else {
                (
                    format!("Consent ({p}) “{label}” is required to submit the form, although the service does not need it."),
                    "Remove the `required` attribute (and the plugin's validation) so the form can be sent without ticking this box.".to_string(),
                )
            };
            (
                "forced-consent",
                Level::Error,
                "Art. 7(4); Recital 43",
                message,
                fix,
            )
        }
        Issue::ForcedBySubmission { sentence, purposes } => {
            let p = purpose_list(*purposes, lang);
            let (message, fix) = if fr {
                (
                    format!("Envoyer le formulaire vaut consentement ({p}) : « {sentence} ». Un consentement facultatif ne peut pas conditionner le service."),
                    "Remplacez cette phrase par une case facultative et décochée pour chaque finalité.".to_string(),
                )
            } else {
                (
                    format!(
                        "Submitting the form counts as consent ({p}): “{sentence}”. Consent to an optional purpose cannot be a condition of the service."
                    ),
                    "Replace this sentence with an optional, unticked box for each purpose."
                        .to_string(),
                )
            };
            (
                "forced-consent",
                Level::Error,
                "Art. 7(4); Recital 43",
                message,
                fix,
            )
        }
        Issue::MissingPurpose => {
            let (message, fix) = if fr {
                (
                    "Rien près du formulaire ni sur la page ne dit pourquoi les données sont collectées ni à quoi elles serviront.".to_string(),
                    "Ajoutez une mention courte près du formulaire : « Votre adresse e-mail est utilisée pour vous envoyer notre lettre d'information. », avec un lien vers la politique complète.".to_string(),
                )
            } else {
                (
                    "Nothing near the form or on the page says why the data is collected or what it will be used for.".to_string(),
                    "Add a short notice next to the form: “Your email address is used to send you our newsletter.”, with a link to the full policy.".to_string(),
                )
            };
            (
                "missing-purpose",
                Level::Error,
                "Art. 13(1)(c)",
                message,
                fix,
            )
        }
        Issue::MissingRights { channel_only } => {
            let (message, fix) = match (channel_only, fr) {
                (false, true) => (
                    "Rien n'informe la personne de ses droits (accès, rectification, effacement, opposition...) sur les données collectées.".to_string(),
                    "Ajoutez : « Vous pouvez accéder à vos données, les rectifier, les effacer ou vous opposer à leur traitement en écrivant à dpo@exemple.fr. »".to_string(),
                ),
                (false, false) => (
                    "Nothing tells the person about their rights (access, rectification, erasure, objection...) over the data collected.".to_string(),
                    "Add: “You can access, correct or erase your data, or object to its use, by writing to dpo@example.com.”".to_string(),
                ),
                (true, true) => (
                    "Les droits sont cités, mais pas la façon de les exercer (aucune adresse, e-mail ou lien).".to_string(),
                    "Indiquez où exercer ces droits : une adresse e-mail, une adresse postale ou un formulaire en ligne.".to_string(),
                ),
                (true, false) => (
                    "The rights are mentioned but not how to use them (no address, email or link).".to_string(),
                    "Say where to exercise the rights: an email address, a postal address or an online form.".to_string(),
                ),
            };
            (
                "missing-rights",
                Level::Error,
                "Art. 13(2)(b), Art. 12(2)",
                message,
                fix,
            )
        }
        Issue::Insecure { url } => {
            let (message, fix) = if fr {
                (
                    format!(
                        "Le formulaire envoie des données personnelles en clair par HTTP ({url})."
                    ),
                    "Servez la page et l'adresse d'envoi du formulaire (action) en HTTPS."
                        .to_string(),
                )
            } else {
                (
                    format!("The form sends personal data unencrypted over plain HTTP ({url})."),
                    "Serve the page and the form's action over HTTPS.".to_string(),
                )
            };
            (
                "insecure-action",
                Level::Error,
                "Art. 32(1)(a), Art. 5(1)(f)",
                message,
                fix,
            )
        }
        Issue::MissingController => {
            let (message, fix) = if fr {
                (
                    "L'organisme qui collecte les données (le responsable du traitement) n'est pas nommé.".to_string(),
                    "Nommez le responsable du traitement et ses coordonnées dans la mention près du formulaire.".to_string(),
                )
            } else {
                (
                    "The organisation collecting the data (the controller) is not named."
                        .to_string(),
                    "Name the controller and its contact details in the notice next to the form."
                        .to_string(),
                )
            };
            (
                "missing-controller",
                Level::Warning,
                "Art. 13(1)(a)",
                message,
                fix,
            )
        }
        Issue::MissingPolicyLink => {
            let (message, fix) = if fr {
                (
                    "Aucun lien vers une politique de confidentialité.".to_string(),
                    "Ajoutez près du formulaire un lien vers la politique de confidentialité complète.".to_string(),
                )
            } else {
                (
                    "No link to a privacy policy.".to_string(),
                    "Add a link to the full privacy policy next to the form.".to_string(),
                )
            };
            (
                "missing-policy-link",
                Level::Warning,
                "Art. 12(1), Art. 13",
                message,
                fix,
            )
        }
        Issue::MissingRetention => {
            let (message, fix) = if fr {
                (
                    "Aucune durée de conservation n'est indiquée.".to_string(),
                    "Indiquez combien de temps les données sont gardées, par exemple « 3 ans après le dernier contact » ou « jusqu'à votre désinscription ».".to_string(),
                )
            } else {
                (
                    "No retention period is stated.".to_string(),
                    "State how long the data is kept, for example “3 years after our last contact” or “until you unsubscribe”.".to_string(),
                )
            };
            (
                "missing-retention",
                Level::Warning,
                "Art. 13(2)(a)",
                message,
                fix,
            )
        }
        Issue::MissingDpo => {
            let (message, fix) = if fr {
                (
                    "Aucun délégué à la protection des données (DPO) ni contact dédié à la vie privée n'est indiqué.".to_string(),
                    "Donnez l'adresse du DPO ou d'un contact vie privée, par exemple dpo@exemple.fr.".to_string(),
                )
            } else {
                (
                    "No data protection officer (DPO) or privacy contact is given.".to_string(),
                    "Give the email of the DPO or of a privacy contact, for example dpo@example.com.".to_string(),
                )
            };
            ("missing-dpo", Level::Warning, "Art. 13(1)(b)", message, fix)
        }
        Issue::Excessive { label, field, form } => {
            let what = field_name(*field, lang);
            let purpose = form_purpose(*form, lang);
            let (message, fix) = if fr {
                (
                    format!("Le champ « {label} » ({what}) n'est pas nécessaire pour {purpose}."),
                    "Supprimez ce champ, ou rendez-le facultatif en le signalant et en expliquant pourquoi il est demandé.".to_string(),
                )
            } else {
                (
                    format!("The field “{label}” ({what}) is not needed for {purpose}."),
                    "Remove the field, or make it clearly optional and explain why it is asked."
                        .to_string(),
                )
            };
            (
                "excessive-field",
                Level::Warning,
                "Art. 5(1)(c)",
                message,
                fix,
            )
        }
    };
    Finding {
        rule: rule.to_string(),
        level,
        message,
        element,
        article: article.to_string(),
        fix,
    }
}

/// Words of the text report.
pub(crate) struct ReportWords {
    pub form: &'static str,
    pub action: &'static str,
    pub no_action: &'static str,
    pub no_finding: &'static str,
    pub no_form: &'static str,
    pub no_personal_data: &'static str,
    pub fix: &'static str,
    pub summary: &'static str,
    pub errors: &'static str,
    pub warnings: &'static str,
    pub skipped: &'static str,
}

pub(crate) fn report_words(lang: Lang) -> ReportWords {
    match lang {
        Lang::Fr => ReportWords {
            form: "Formulaire",
            action: "envoi vers",
            no_action: "envoi vers la page elle-même",
            no_finding: "aucun problème trouvé",
            no_form: "Aucun formulaire dans la page.",
            no_personal_data: "ne collecte pas de données personnelles",
            fix: "Correction",
            summary: "Bilan",
            errors: "erreur(s)",
            warnings: "avertissement(s)",
            skipped: "formulaire(s) au-delà de la limite non analysé(s)",
        },
        Lang::En => ReportWords {
            form: "Form",
            action: "sends to",
            no_action: "sends to the page itself",
            no_finding: "no problem found",
            no_form: "No form in the page.",
            no_personal_data: "collects no personal data",
            fix: "Fix",
            summary: "Summary",
            errors: "error(s)",
            warnings: "warning(s)",
            skipped: "form(s) beyond the limit not audited",
        },
    }
}

/// Short descriptions of every rule, for SARIF.
pub(crate) const RULES: &[(&str, Level, &str, &str)] = &[
    (
        "prechecked-consent",
        Level::Error,
        "Art. 4(11), Art. 7(1); Recital 32",
        "An optional opt-in checkbox is ticked in advance.",
    ),
    (
        "bundled-consent",
        Level::Error,
        "Art. 7(2)",
        "One checkbox asks consent for several distinct purposes at once.",
    ),
    (
        "forced-consent",
        Level::Error,
        "Art. 7(4)",
        "Consent to an optional purpose is required to submit the form.",
    ),
    (
        "missing-purpose",
        Level::Error,
        "Art. 13(1)(c)",
        "Nothing near the form says why the data is collected.",
    ),
    (
        "missing-rights",
        Level::Error,
        "Art. 13(2)(b)",
        "Nothing says the person has rights over the data, or how to use them.",
    ),
    (
        "insecure-action",
        Level::Error,
        "Art. 32(1)(a)",
        "The form sends personal data over plain http://.",
    ),
    (
        "missing-controller",
        Level::Warning,
        "Art. 13(1)(a)",
        "The organisation collecting the data is not named.",
    ),
    (
        "missing-policy-link",
        Level::Warning,
        "Art. 13",
        "No link to a privacy policy.",
    ),
    (
        "missing-retention",
        Level::Warning,
        "Art. 13(2)(a)",
        "No retention period is stated.",
    ),
    (
        "missing-dpo",
        Level::Warning,
        "Art. 13(1)(b)",
        "No DPO or privacy contact.",
    ),
    (
        "excessive-field",
        Level::Warning,
        "Art. 5(1)(c)",
        "A field that the stated purpose does not need.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_issue_has_words_in_both_languages() {
        let issue = Issue::Prechecked {
            label: "Newsletter".into(),
            purposes: Purposes::NEWSLETTER,
            how: Precheck::Checked,
        };
        let fr = finding(&issue, None, Lang::Fr);
        let en = finding(&issue, None, Lang::En);
        assert_eq!(fr.rule, "prechecked-consent");
        assert!(fr.message.contains("cochée"));
        assert!(en.message.contains("ticked"));
        assert!(RULES.iter().any(|r| r.0 == fr.rule));
    }
}
