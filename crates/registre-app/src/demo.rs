//! The demo organisation of PRODUCT.md: "Exemple SAS", five touchpoints, the seed's purposes.
//! Loading is idempotent: what exists is left as it is.
use crate::{App, AppError, AppResult, Principal};
use registre_domain::organisation::Organisation;
use registre_domain::purpose::PurposeInput;
use registre_domain::touchpoint::TouchpointInput;
use serde_json::json;

/// The demo's processors: one compliant, one needing attention, one non-compliant, one never
/// assessed (with a vendor's draft waiting), one of them outside the EEA without a signed DPA.
/// Each with how many days ago it was assessed and its answers.
fn processors(
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(serde_json::Value, Option<(i64, serde_json::Value)>)> {
    let ago = |days: i64| {
        (now - chrono::Duration::days(days))
            .date_naive()
            .to_string()
    };
    vec![
        (
            json!({"name": "Brevo", "service": "emailing", "role": "processor", "country": "FR", "transfer_mechanism": null,
                "dpa_signed_on": "2023-03-15", "dpa_reference": "Brevo DPA v4, signed online (account settings)",
                "purposes": ["newsletter", "promotional_offers", "partner_offers", "whitepaper_delivery", "whitepaper_follow_up"],
                "data_categories": ["identity", "contact"], "subprocessors": []}),
            Some((
                60,
                json!({
                "dpo": {"appointed": true, "name": "Délégué à la protection des données de Brevo", "email": "dpo@brevo.com",
                        "evidence": [{"reference": "https://www.brevo.com/fr/legal/privacypolicy/"}]},
                "data_mapping": {"complete": true, "last_updated_on": ago(200)},
                "third_parties": {"shares_data": true, "recipients": ["Google Cloud (Belgique)"],
                                  "controls": "Contrats de sous-traitance, audits annuels, liste publiée des sous-traitants"},
                "protection": {"measures": ["encryption_at_rest", "encryption_in_transit", "access_control", "backups", "mfa"],
                               "incident_procedure": true, "breach_notification_hours": 24,
                               "evidence": [{"reference": "Certificat ISO/IEC 27001:2022 n° 2023-1234"}]},
                "security_tests": {"performed": true, "kinds": ["penetration_test", "certification"], "last_on": ago(120)}}),
            )),
        ),
        (
            json!({"name": "HubSpot", "service": "crm", "role": "processor", "country": "US", "transfer_mechanism": "scc",
                "dpa_signed_on": "2022-09-01", "dpa_reference": "HubSpot Data Processing Agreement with 2021 SCCs (module 2)",
                "purposes": ["promotional_offers", "contact_handling"], "data_categories": ["identity", "contact", "support_content"],
                "subprocessors": ["Amazon Web Services"]}),
            Some((
                160,
                json!({
                "dpo": {"appointed": true, "name": "HubSpot Privacy Team", "email": "privacy@hubspot.com"},
                "data_mapping": {"complete": true, "last_updated_on": ago(300)},
                "third_parties": {"shares_data": true, "recipients": ["Amazon Web Services", "Google Cloud"],
                                  "controls": "Sub-processor DPAs, SOC 2 reports reviewed yearly"},
                "protection": {"measures": ["encryption_at_rest", "encryption_in_transit", "access_control", "backups"],
                               "incident_procedure": true, "breach_notification_hours": 72},
                "security_tests": {"performed": true, "kinds": ["penetration_test", "audit"], "last_on": ago(500)}}),
            )),
        ),
        (
            json!({"name": "Amazon Web Services", "service": "hosting", "role": "subprocessor", "country": "US",
                "transfer_mechanism": "adequacy", "dpa_signed_on": "2022-09-01",
                "dpa_reference": "Through HubSpot's DPA; AWS is certified under the EU-US Data Privacy Framework",
                "purposes": [], "data_categories": ["identity", "contact", "support_content"], "subprocessors": []}),
            None,
        ),
        (
            json!({"name": "OVHcloud", "service": "cms_hosting", "role": "processor", "country": "FR", "transfer_mechanism": null,
                "dpa_signed_on": "2021-05-20", "dpa_reference": "OVHcloud DPA (contract annex), WordPress site hosting",
                "purposes": ["account_management"], "data_categories": ["identity", "contact", "account_credentials"],
                "subprocessors": []}),
            None,
        ),
        (
            json!({"name": "Zendesk", "service": "helpdesk", "role": "processor", "country": "US", "transfer_mechanism": "scc",
                "dpa_signed_on": null, "dpa_reference": null,
                "purposes": ["support_handling"], "data_categories": ["identity", "contact", "support_content"], "subprocessors": []}),
            Some((
                30,
                json!({
                "dpo": {"appointed": true, "email": "privacy@zendesk.com"},
                "data_mapping": {"complete": false},
                "third_parties": {"shares_data": true, "recipients": ["Support outsourcing partners"]},
                "protection": {"measures": ["encryption_in_transit", "access_control"], "incident_procedure": true, "breach_notification_hours": 48},
                "security_tests": {"performed": true, "kinds": ["vulnerability_scan"], "last_on": ago(90)}}),
            )),
        ),
    ]
}

/// A vendor's answers waiting for the DPO: OVHcloud filled in the questionnaire link.
fn ovhcloud_draft(now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let ago = |days: i64| {
        (now - chrono::Duration::days(days))
            .date_naive()
            .to_string()
    };
    json!({
        "dpo": {"appointed": true, "email": "dpo@ovhcloud.com"},
        "data_mapping": {"complete": true, "last_updated_on": ago(150)},
        "third_parties": {"shares_data": false},
        "protection": {"measures": ["encryption_at_rest", "encryption_in_transit", "access_control", "backups", "logging"],
                       "incident_procedure": true, "breach_notification_hours": 24,
                       "evidence": [{"reference": "Certifications ISO/IEC 27001, 27017, 27018 et HDS"}]},
        "security_tests": {"performed": true, "kinds": ["penetration_test", "audit", "certification"], "last_on": ago(100)}})
}

/// A past breach: a contact export sent to the wrong recipient from the emailing tool,
/// notified to the CNIL within the 72 hours.
fn breach(aware_at: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    json!({"aware_at": aware_at, "occurred_at": aware_at - chrono::Duration::hours(20),
        "description": "Un export CSV des abonnés à la lettre d'information (adresses e-mail et prénoms) a été envoyé par erreur à une agence qui n'était pas destinataire, depuis l'outil d'emailing.",
        "nature": ["confidentiality"], "data_categories": ["identity", "contact"],
        "subjects_affected": 1240, "records_affected": 1240,
        "likely_consequences": "Risque d'hameçonnage ciblé (phishing) et de prospection non sollicitée ; aucune donnée bancaire ni mot de passe.",
        "measures": "L'agence a confirmé par écrit la suppression du fichier ; les exports sont désormais réservés au DPO ; rappel de la procédure à l'équipe marketing.",
        "risk": "risk", "processor": "Brevo"})
}

fn organisation() -> serde_json::Value {
    json!({"name": "Exemple SAS", "address": "1 rue de la Paix, 75002 Paris", "contact_email": "contact@exemple.fr",
        "dpo": {"name": "Claire Martin", "email": "dpo@exemple.fr"},
        "authority": {"name": "CNIL", "url": "https://www.cnil.fr"},
        "privacy_policy_url": "https://exemple.fr/confidentialite", "default_language": "fr", "time_zone": "Europe/Paris"})
}

fn purposes() -> Vec<serde_json::Value> {
    vec![
        json!({"key": "newsletter", "legal_basis": "consent", "retention_days": 1095, "data_categories": ["contact"],
            "recipients": ["Brevo"], "transfers": [],
            "title": {"fr": "Lettre d'information", "en": "Newsletter"},
            "description": {"fr": "Recevoir notre lettre d'information mensuelle : nouveautés, conseils et événements.",
                            "en": "Receive our monthly newsletter: news, tips and events."}}),
        json!({"key": "promotional_offers", "legal_basis": "consent", "retention_days": 1095, "data_categories": ["contact"],
            "recipients": ["Brevo", "HubSpot"], "transfers": [{"country": "US", "recipient": "HubSpot", "safeguard": "scc"}],
            "title": {"fr": "Offres promotionnelles", "en": "Promotional offers"},
            "description": {"fr": "Recevoir nos offres commerciales et promotions par e-mail.",
                            "en": "Receive our commercial offers and promotions by email."}}),
        json!({"key": "partner_offers", "legal_basis": "consent", "retention_days": 1095, "data_categories": ["identity", "contact"],
            "recipients": ["Brevo"], "transfers": [],
            "title": {"fr": "Offres de nos partenaires", "en": "Offers from our partners"},
            "description": {"fr": "Recevoir, de notre part, des offres de partenaires choisis. Vos données ne leur sont pas transmises.",
                            "en": "Receive, from us, offers from selected partners. Your data is not passed to them."}}),
        json!({"key": "account_management", "legal_basis": "contract", "retention_days": 1095, "data_categories": ["identity", "contact", "account_credentials"],
            "recipients": ["OVHcloud"], "transfers": [],
            "title": {"fr": "Gestion de votre compte", "en": "Managing your account"},
            "description": {"fr": "Créer et gérer votre compte client, vous permettre de vous connecter.",
                            "en": "Create and manage your customer account and let you sign in."}}),
        json!({"key": "contact_handling", "legal_basis": "legitimate_interest",
            "legitimate_interest": {"fr": "Répondre aux personnes qui nous écrivent.", "en": "Answering the people who write to us."},
            "retention_days": 1095, "data_categories": ["identity", "contact", "support_content"],
            "recipients": ["HubSpot"], "transfers": [{"country": "US", "recipient": "HubSpot", "safeguard": "scc"}],
            "title": {"fr": "Traitement de votre demande de contact", "en": "Handling your contact request"},
            "description": {"fr": "Lire votre message et vous répondre.", "en": "Reading your message and answering you."}}),
        json!({"key": "support_handling", "legal_basis": "contract", "retention_days": 730, "data_categories": ["identity", "contact", "support_content"],
            "recipients": ["Zendesk"], "transfers": [{"country": "US", "recipient": "Zendesk", "safeguard": "scc"}],
            "title": {"fr": "Assistance client", "en": "Customer support"},
            "description": {"fr": "Traiter votre demande d'assistance et assurer le suivi.", "en": "Handling your support request and following it up."}}),
        // The white paper is sent because the person asks for it: a step taken at their
        // request (Art. 6(1)(b)), not a consent with a box that would change nothing. Being
        // contacted about it afterwards is a consent of its own.
        json!({"key": "whitepaper_delivery", "legal_basis": "contract", "retention_days": 365, "data_categories": ["identity", "contact"],
            "recipients": ["Brevo"], "transfers": [], "marketing": false,
            "title": {"fr": "Envoi du livre blanc", "en": "White paper delivery"},
            "description": {"fr": "Vous envoyer le livre blanc que vous avez demandé.",
                            "en": "Sending you the white paper you asked for."}}),
        json!({"key": "whitepaper_follow_up", "legal_basis": "consent", "retention_days": 365, "data_categories": ["identity", "contact"],
            "recipients": ["Brevo"], "transfers": [], "marketing": true,
            "title": {"fr": "Être recontacté(e) au sujet du livre blanc", "en": "Being contacted about the white paper"},
            "description": {"fr": "Recevoir un e-mail de notre équipe pour en parler ou répondre à vos questions.",
                            "en": "Receive an email from our team to talk about it or answer your questions."}}),
    ]
}

fn email_field() -> serde_json::Value {
    json!({"name": "email", "type": "email", "required": true, "data_category": "contact",
        "label": {"fr": "Adresse e-mail", "en": "Email address"}})
}

fn touchpoints() -> Vec<serde_json::Value> {
    vec![
        json!({"key": "newsletter", "title": {"fr": "Inscription à la lettre d'information", "en": "Newsletter sign-up"},
            "description": {"fr": "Une lettre par mois, sans publicité cachée. Désinscription en un clic.", "en": "One letter a month, no hidden advertising. Unsubscribe in one click."},
            "double_opt_in": true, "purposes": ["newsletter", "promotional_offers", "partner_offers"],
            "fields": [email_field(),
                json!({"name": "first_name", "type": "text", "required": false, "data_category": "identity", "label": {"fr": "Prénom", "en": "First name"}})]}),
        json!({"key": "account", "title": {"fr": "Créer votre compte", "en": "Create your account"},
            "double_opt_in": false, "purposes": ["account_management", "newsletter", "promotional_offers"],
            "fields": [
                json!({"name": "first_name", "type": "text", "required": true, "data_category": "identity", "label": {"fr": "Prénom", "en": "First name"}}),
                json!({"name": "last_name", "type": "text", "required": true, "data_category": "identity", "label": {"fr": "Nom", "en": "Last name"}}),
                email_field(),
                json!({"name": "phone", "type": "tel", "required": false, "data_category": "contact", "label": {"fr": "Téléphone", "en": "Phone"},
                       "help": {"fr": "Facultatif : pour vous joindre en cas de problème avec votre commande.", "en": "Optional: to reach you if there is a problem with your order."}})]}),
        json!({"key": "whitepaper", "title": {"fr": "Télécharger le livre blanc RGPD", "en": "Download the GDPR white paper"},
            "description": {"fr": "« Le RGPD en 10 questions » : 24 pages pour les PME.", "en": "“GDPR in 10 questions”: 24 pages for small businesses."},
            "double_opt_in": false, "purposes": ["whitepaper_delivery", "whitepaper_follow_up", "newsletter", "partner_offers"], "download": "gdpr_white_paper",
            "fields": [email_field(),
                json!({"name": "name", "type": "text", "required": true, "data_category": "identity", "label": {"fr": "Nom complet", "en": "Full name"}}),
                json!({"name": "company", "type": "text", "required": false, "data_category": "identity", "label": {"fr": "Entreprise", "en": "Company"}})]}),
        json!({"key": "contact", "title": {"fr": "Nous contacter", "en": "Contact us"},
            "double_opt_in": false, "purposes": ["contact_handling", "newsletter", "promotional_offers"],
            "fields": [
                json!({"name": "name", "type": "text", "required": true, "data_category": "identity", "label": {"fr": "Nom", "en": "Name"}}),
                email_field(),
                json!({"name": "message", "type": "textarea", "required": true, "data_category": "support_content", "label": {"fr": "Votre message", "en": "Your message"}})]}),
        json!({"key": "support", "title": {"fr": "Écrire au support", "en": "Write to support"},
            "double_opt_in": false, "purposes": ["support_handling"],
            "fields": [
                json!({"name": "name", "type": "text", "required": true, "data_category": "identity", "label": {"fr": "Nom", "en": "Name"}}),
                email_field(),
                json!({"name": "order_number", "type": "text", "required": false, "data_category": "usage", "label": {"fr": "Numéro de commande", "en": "Order number"}}),
                json!({"name": "message", "type": "textarea", "required": true, "data_category": "support_content", "label": {"fr": "Décrivez votre problème", "en": "Describe your problem"}})]}),
    ]
}

fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> AppResult<T> {
    serde_json::from_value(value).map_err(|e| AppError::internal(format_args!("demo data: {e}")))
}

impl App {
    /// Loads the demo organisation; what already exists is kept.
    pub async fn load_demo(&self) -> AppResult<()> {
        let by = Principal::system();
        if self
            .store()
            .document(registre_store::DocumentKind::Organisation, "default")
            .await?
            .is_none()
        {
            self.put_organisation(&by, decode::<Organisation>(organisation())?)
                .await?;
        }
        for purpose in purposes() {
            let input: PurposeInput = decode(purpose)?;
            if self.purpose(&input.key).await.is_err() {
                self.create_purpose(&by, input).await?;
            }
        }
        for touchpoint in touchpoints() {
            let input: TouchpointInput = decode(touchpoint)?;
            if self.touchpoint(&input.key).await.is_err() {
                self.create_touchpoint(&by, input).await?;
            }
        }
        self.load_demo_registers(&by).await
    }

    /// Processors with questionnaires in various states, and one past breach.
    async fn load_demo_registers(&self, by: &Principal) -> AppResult<()> {
        use registre_domain::processor::{AssessmentInput, AssessmentSource, ProcessorInput};
        let now = self.now();
        for (entry, assessment) in processors(now) {
            let input: ProcessorInput = decode(entry)?;
            if self.processor_by_name(&input.name).await?.is_some() {
                continue;
            }
            let created = self.create_processor(by, input).await?;
            if let Some((days_ago, answers)) = assessment {
                let answers: AssessmentInput = decode(answers)?;
                let assessed = answers.validate(
                    now - chrono::Duration::days(days_ago),
                    AssessmentSource::Api,
                )?;
                self.record_assessment(by, created.processor.id, assessed)
                    .await?;
            }
            if created.processor.name == "OVHcloud" {
                let answers: AssessmentInput = decode(ovhcloud_draft(now))?;
                let submitted_at = now - chrono::Duration::days(2);
                let assessment =
                    answers.validate(submitted_at, AssessmentSource::VendorQuestionnaire)?;
                let draft = crate::processors::AssessmentDraft {
                    submitted_at,
                    language: registre_domain::Language::Fr,
                    assessment,
                };
                self.record_draft(created.processor.id, draft).await?;
            }
        }
        if self.breach_count().await? == 0 {
            let aware_at = now - chrono::Duration::days(41);
            let recorded = self.create_breach(by, decode(breach(aware_at))?).await?;
            let notification: registre_domain::breach::NotificationInput = decode(json!({
                "recipient": "authority", "notified_at": aware_at + chrono::Duration::hours(30),
                "channel": "cnil_online_form", "reference": "Notification en ligne CNIL n° DEMO-0001"}))?;
            self.log_breach_notification(by, &recorded.breach.id.to_string(), notification)
                .await?;
        }
        Ok(())
    }
}
