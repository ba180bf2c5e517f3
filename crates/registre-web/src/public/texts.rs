//! The privacy portal's words, in French and English.
use registre_domain::Language;

/// The texts of one language, for templates: `{{ t.s("key") }}`.
#[derive(Clone, Copy, Debug)]
pub struct Tr(pub Language);

impl Tr {
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    pub fn s(&self, key: &str) -> &'static str {
        let fr = self.0 == Language::Fr;
        let (fr_text, en_text) = match key {
            "portal_title" => ("Espace confidentialité", "Privacy portal"),
            "skip" => ("Aller au contenu", "Skip to content"),
            "language" => ("Langue", "Language"),
            "rights_footer" => (
                "Vous pouvez à tout moment retirer votre consentement et exercer vos droits d'accès, de rectification, d'effacement, de limitation, de portabilité et d'opposition. Vous pouvez aussi adresser une réclamation à l'autorité de contrôle :",
                "You may withdraw your consent and use your rights of access, rectification, erasure, restriction, portability and objection at any time. You may also complain to the supervisory authority:",
            ),
            "sign_in_title" => ("Accéder à vos données", "See your data"),
            "sign_in_intro" => (
                "Indiquez votre adresse e-mail : nous vous enverrons un lien de connexion, valable 30 minutes et utilisable une seule fois. Pas de mot de passe.",
                "Enter your email address: we will send you a sign-in link, valid for 30 minutes and usable once. No password.",
            ),
            "email_label" => ("Adresse e-mail", "Email address"),
            "send_link" => ("Recevoir le lien", "Send me the link"),
            "check_mail_title" => ("Consultez votre messagerie", "Check your inbox"),
            "check_mail_body" => (
                "Si cette adresse peut recevoir des messages, un lien de connexion vient d'y être envoyé. Il est valable 30 minutes.",
                "If this address can receive mail, a sign-in link has just been sent to it. It is valid for 30 minutes.",
            ),
            "check_mail_hint" => (
                "Rien reçu ? Vérifiez vos courriers indésirables, ou refaites la demande dans quelques minutes.",
                "Nothing came? Look in your spam folder, or ask again in a few minutes.",
            ),
            "invalid_email" => (
                "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
                "Enter a valid email address, for example name@example.org.",
            ),
            "too_many_title" => ("Trop de demandes", "Too many requests"),
            "too_many_body" => (
                "Trop de demandes ont été faites depuis votre connexion. Réessayez dans un quart d'heure.",
                "Too many requests came from your connection. Try again in a quarter of an hour.",
            ),
            "link_invalid_title" => ("Ce lien ne fonctionne pas", "This link does not work"),
            "link_invalid" => (
                "Ce lien n'est pas valide. Demandez-en un nouveau.",
                "This link is not valid. Ask for a new one.",
            ),
            "link_expired" => (
                "Ce lien a expiré. Demandez-en un nouveau : il sera valable 30 minutes.",
                "This link has expired. Ask for a new one: it will be valid for 30 minutes.",
            ),
            "link_used" => (
                "Ce lien a déjà servi. Demandez-en un nouveau.",
                "This link was already used. Ask for a new one.",
            ),
            "confirm_title" => ("Confirmer la connexion", "Confirm sign-in"),
            "confirm_intro" => (
                "Pour ouvrir votre espace, confirmez :",
                "To open your space, confirm:",
            ),
            "confirm_button" => ("Ouvrir mon espace", "Open my space"),
            "back_to_portal" => (
                "Retour à l'espace confidentialité",
                "Back to the privacy portal",
            ),
            "session_over_title" => ("Session terminée", "Session over"),
            "session_over" => (
                "Votre session a expiré ou le formulaire n'est plus valide. Reconnectez-vous.",
                "Your session has expired or the form is no longer valid. Sign in again.",
            ),
            "overview_title" => ("Vos données et vos choix", "Your data and your choices"),
            "signed_in_as" => ("Connecté(e) avec", "Signed in as"),
            "sign_out" => ("Se déconnecter", "Sign out"),
            "restricted_notice" => (
                "Le traitement de vos données est actuellement limité.",
                "Processing of your data is currently restricted.",
            ),
            "objected_notice" => (
                "Vous vous êtes opposé(e) à la prospection : vous n'en recevrez plus.",
                "You objected to direct marketing: you will receive none.",
            ),
            "consents_title" => ("Vos consentements", "Your consents"),
            "consents_intro" => (
                "Les usages de vos données qui dépendent de votre accord, sur les formulaires que vous avez utilisés. Vous pouvez les donner ou les retirer ici, d'un clic.",
                "The uses of your data that depend on your agreement, on the forms you used. You can give or withdraw them here, in one click.",
            ),
            "no_purposes" => (
                "Aucun consentement ne vous concerne pour l'instant.",
                "No consent concerns you yet.",
            ),
            "other_bases_title" => (
                "Ce que nous faisons d'autre avec vos données",
                "What else we do with your data",
            ),
            "other_bases_intro" => (
                "Ces traitements ne reposent pas sur votre consentement : leur base légale est indiquée pour chacun. Vous pouvez vous y opposer ou en demander la limitation ci-dessous.",
                "These do not rest on your consent: the legal basis of each is given. You can object to them or ask for their restriction below.",
            ),
            "why" => ("Pourquoi", "Why"),
            "request_details" => ("Votre message", "Your message"),
            "request_mails" => ("E-mails que nous vous avons envoyés", "Emails we sent you"),
            "sent_on" => ("envoyé le", "sent"),
            "mail_text" => ("Texte de l'e-mail", "Text of the email"),
            "state" => ("État", "State"),
            "since" => ("depuis le", "since"),
            "basis" => ("Base légale", "Legal basis"),
            "retention" => ("Conservation", "Retention"),
            "days" => ("jours", "days"),
            "recipients" => ("Destinataires", "Recipients"),
            "withdraw" => ("Retirer mon consentement", "Withdraw my consent"),
            "grant" => ("Donner mon consentement", "Give my consent"),
            "history" => ("Historique", "History"),
            "data_title" => ("Télécharger vos données", "Download your data"),
            "data_intro" => (
                "Tout ce que nous détenons sur vous, dans un fichier JSON lisible par une machine : vos envois, vos consentements et leur historique, vos demandes, et la façon dont vos données sont traitées.",
                "Everything we hold on you, in a machine-readable JSON file: what you sent, your consents and their history, your requests, and how your data is processed.",
            ),
            "download" => ("Télécharger (JSON)", "Download (JSON)"),
            "request_title" => ("Faire une demande", "Make a request"),
            "request_intro" => (
                "Nous vous répondrons dans un délai d'un mois, gratuitement. Votre identité est vérifiée par le lien de connexion.",
                "We will answer within one month, free of charge. Your identity is verified by the sign-in link.",
            ),
            "request_type" => ("Type de demande", "Type of request"),
            "message_label" => ("Votre message (facultatif)", "Your message (optional)"),
            "send_request" => ("Envoyer la demande", "Send the request"),
            "request_filed" => (
                "Votre demande a été enregistrée. Un e-mail de confirmation vous a été envoyé.",
                "Your request was recorded. A confirmation email was sent to you.",
            ),
            "consent_saved" => ("Votre choix est enregistré.", "Your choice is recorded."),
            "receipts_title" => ("Vos reçus de consentement", "Your consent receipts"),
            "receipts_intro" => (
                "Chaque choix que vous avez fait a son reçu signé, à lire ou à télécharger.",
                "Each choice you made has its signed receipt, to read or download.",
            ),
            "no_receipts" => ("Aucun reçu pour l'instant.", "No receipt yet."),
            "requests_title" => ("Vos demandes", "Your requests"),
            "no_requests" => ("Aucune demande.", "No request."),
            "received" => ("Reçue le", "Received"),
            "due" => ("Réponse au plus tard le", "Answer due by"),
            "error_title" => ("Une erreur est survenue", "Something went wrong"),
            "error_body" => (
                "Votre action n'a pas pu être enregistrée. Réessayez.",
                "Your action could not be recorded. Try again.",
            ),
            _ => ("", ""),
        };
        if fr { fr_text } else { en_text }
    }

    pub fn state(&self, state: &str) -> &'static str {
        let fr = self.0 == Language::Fr;
        match (state, fr) {
            ("granted", true) => "consentement donné",
            ("granted", false) => "consent given",
            ("withdrawn", true) => "consentement retiré",
            ("withdrawn", false) => "consent withdrawn",
            ("pending", true) => "en attente de confirmation",
            ("pending", false) => "waiting for confirmation",
            ("expired", true) => "non confirmé",
            ("expired", false) => "not confirmed",
            ("objected", true) => "opposition enregistrée",
            ("objected", false) => "objection recorded",
            ("restricted", true) => "traitement limité",
            ("restricted", false) => "processing restricted",
            ("not_required", true) => "sans consentement (autre base légale)",
            ("not_required", false) => "no consent needed (other legal basis)",
            ("erased", true) => "effacé",
            ("erased", false) => "erased",
            (_, true) => "aucun consentement",
            (_, false) => "no consent",
        }
    }

    pub fn basis(&self, basis: &str) -> &'static str {
        let fr = self.0 == Language::Fr;
        match (basis, fr) {
            ("consent", true) => "votre consentement",
            ("consent", false) => "your consent",
            ("contract", true) => "l'exécution d'un contrat",
            ("contract", false) => "performance of a contract",
            ("legal_obligation", true) => "une obligation légale",
            ("legal_obligation", false) => "a legal obligation",
            ("vital_interests", true) => "la sauvegarde d'intérêts vitaux",
            ("vital_interests", false) => "vital interests",
            ("public_task", true) => "une mission d'intérêt public",
            ("public_task", false) => "a task in the public interest",
            (_, true) => "notre intérêt légitime",
            (_, false) => "our legitimate interest",
        }
    }

    /// Where a choice was made, as the person knows it.
    pub fn source(&self, source: &str) -> &'static str {
        let fr = self.0 == Language::Fr;
        match (source, fr) {
            ("form", true) => "sur un formulaire de notre site",
            ("form", false) => "on a form of our site",
            ("portal", true) => "dans cet espace",
            ("portal", false) => "in this space",
            ("email_link", true) => "par un lien reçu par e-mail",
            ("email_link", false) => "through a link in an email",
            ("import", true) => "repris de nos fichiers antérieurs",
            ("import", false) => "carried over from our earlier files",
            ("system", true) => "automatiquement",
            ("system", false) => "automatically",
            (_, true) => "par nos équipes ou nos outils",
            (_, false) => "by our staff or tools",
        }
    }

    pub fn action(&self, action: &str) -> &'static str {
        let fr = self.0 == Language::Fr;
        match (action, fr) {
            ("grant", true) => "consentement donné",
            ("grant", false) => "consent given",
            ("withdraw", true) => "consentement retiré",
            ("withdraw", false) => "consent withdrawn",
            ("grant_pending", true) => "consentement à confirmer",
            ("grant_pending", false) => "consent to confirm",
            ("expire", true) => "non confirmé",
            ("expire", false) => "not confirmed",
            ("object", true) => "opposition",
            ("object", false) => "objection",
            ("restrict", true) => "limitation",
            ("restrict", false) => "restriction",
            ("lift_restriction", true) => "fin de la limitation",
            ("lift_restriction", false) => "restriction lifted",
            (_, true) => "effacement",
            (_, false) => "erasure",
        }
    }

    pub fn request_type(&self, kind: &str) -> &'static str {
        let fr = self.0 == Language::Fr;
        match (kind, fr) {
            ("access", true) => "Accès : recevoir une copie de mes données (art. 15)",
            ("access", false) => "Access: receive a copy of my data (Art. 15)",
            ("rectification", true) => "Rectification : corriger mes données (art. 16)",
            ("rectification", false) => "Rectification: correct my data (Art. 16)",
            ("erasure", true) => "Effacement : supprimer mes données (art. 17)",
            ("erasure", false) => "Erasure: delete my data (Art. 17)",
            ("restriction", true) => {
                "Limitation : suspendre l'utilisation de mes données (art. 18)"
            }
            ("restriction", false) => "Restriction: stop using my data for now (Art. 18)",
            ("portability", true) => {
                "Portabilité : recevoir mes données dans un format réutilisable (art. 20)"
            }
            ("portability", false) => "Portability: receive my data in a reusable format (Art. 20)",
            (_, true) => {
                "Opposition : ne plus recevoir de prospection, m'opposer à un traitement (art. 21)"
            }
            (_, false) => "Objection: no more marketing, object to processing (Art. 21)",
        }
    }

    pub fn status(&self, status: &str) -> &'static str {
        let fr = self.0 == Language::Fr;
        match (status, fr) {
            ("received", true) => "reçue",
            ("received", false) => "received",
            ("verified", true) => "identité vérifiée",
            ("verified", false) => "identity verified",
            ("in_progress", true) => "en cours",
            ("in_progress", false) => "in progress",
            ("completed", true) => "traitée",
            ("completed", false) => "completed",
            (_, true) => "refusée",
            (_, false) => "refused",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_templates_use_exists_in_both_languages() {
        let templates = [
            include_str!("../../templates/portal/layout.html"),
            include_str!("../../templates/portal/sign_in.html"),
            include_str!("../../templates/portal/confirm.html"),
            include_str!("../../templates/portal/message.html"),
            include_str!("../../templates/portal/overview.html"),
        ];
        for template in templates {
            for part in template.split("t.s(\"").skip(1) {
                let key = part.split('"').next().unwrap_or("");
                for language in [Language::Fr, Language::En] {
                    assert!(
                        !Tr(language).s(key).is_empty(),
                        "{key} has no {language:?} text"
                    );
                }
            }
        }
    }
}
