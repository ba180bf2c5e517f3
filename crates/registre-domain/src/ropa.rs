//! The record of processing activities (Art. 30(1)), derived from the registers, never typed
//! twice: one activity per purpose, with the controller and DPO, the legal basis, the
//! categories of data and of people, the recipients with their country, the transfers and
//! their safeguards, the retention period and the security measures.
use crate::localised::{Language, LocalisedText};
use crate::organisation::{Organisation, is_in_eea};
use crate::processor::{Assessment, Processor, measure_label, name_key};
use crate::purpose::{LegalBasis, Purpose, TransferSafeguard};
use crate::touchpoint::Touchpoint;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ropa {
    pub generated_at: DateTime<Utc>,
    pub controller: RopaController,
    pub activities: Vec<Activity>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RopaController {
    pub name: String,
    pub address: String,
    pub contact_email: String,
    pub dpo_name: String,
    pub dpo_email: String,
    pub authority: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryEntry {
    pub key: String,
    pub label: LocalisedText,
    /// Art. 9 data.
    pub special: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubjectCategory {
    /// The touchpoint through which these people's data is collected, if any.
    pub touchpoint: Option<String>,
    pub label: LocalisedText,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recipient {
    pub name: String,
    /// Whether the recipient has an entry in the processor register.
    pub registered: bool,
    pub service: Option<String>,
    pub role: Option<String>,
    pub country: Option<String>,
    pub transfer_mechanism: Option<TransferSafeguard>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransferEntry {
    pub country: String,
    /// Who receives the data there; a sub-processor is named after its processor (`HubSpot › AWS`).
    pub recipient: Option<String>,
    /// `null` when no safeguard is recorded: the processor register shows the finding.
    pub safeguard: Option<TransferSafeguard>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activity {
    pub purpose: String,
    pub name: LocalisedText,
    pub description: LocalisedText,
    pub legal_basis: LegalBasis,
    pub legal_basis_label: LocalisedText,
    pub legitimate_interest: Option<LocalisedText>,
    pub data_categories: Vec<CategoryEntry>,
    /// Whether any category is special (Art. 9).
    pub special_categories: bool,
    pub data_subjects: Vec<SubjectCategory>,
    pub recipients: Vec<Recipient>,
    pub transfers: Vec<TransferEntry>,
    pub retention_days: i64,
    pub retention: LocalisedText,
    pub security_measures: Vec<LocalisedText>,
}

/// A processor entry with its current assessment, as the record needs it.
#[derive(Clone, Debug)]
pub struct ProcessorFacts<'a> {
    pub processor: &'a Processor,
    pub assessment: Option<&'a Assessment>,
}

/// Everything the record is derived from.
#[derive(Clone, Debug)]
pub struct RopaSources<'a> {
    pub organisation: &'a Organisation,
    pub purposes: &'a [Purpose],
    pub touchpoints: &'a [Touchpoint],
    pub categories: &'a [CategoryEntry],
    pub processors: &'a [ProcessorFacts<'a>],
}

/// The measures Registre itself applies to what it keeps.
pub fn registre_measures() -> Vec<LocalisedText> {
    vec![
        LocalisedText::new(
            "Registre : données personnelles chiffrées au repos (XChaCha20-Poly1305) avec une clé propre à chaque personne ; l'effacement détruit la clé",
            "Registre: personal data encrypted at rest (XChaCha20-Poly1305) with a key of each person's own; erasure destroys the key",
        ),
        LocalisedText::new(
            "Registre : recherche par adresse e-mail au moyen d'un index aveugle (HMAC-SHA-256), sans adresse en clair",
            "Registre: look-ups by email through a keyed blind index (HMAC-SHA-256), no address in clear",
        ),
        LocalisedText::new(
            "Registre : registre des consentements chaîné par hachage (SHA-256), pseudonyme, vérifiable",
            "Registre: hash-chained (SHA-256), pseudonymous, verifiable consent ledger",
        ),
        LocalisedText::new(
            "Registre : journal d'audit chaîné de chaque modification administrative",
            "Registre: hash-chained audit log of every administrative change",
        ),
        LocalisedText::new(
            "Registre : contrôle d'accès par rôle (administrateur, DPO, agent, auditeur) ; clés d'API hachées",
            "Registre: role-based access control (admin, DPO, agent, auditor); hashed API keys",
        ),
        LocalisedText::new(
            "Registre : écritures durables (synchronisation sur disque avant acquittement)",
            "Registre: durable writes (synced to disk before they are acknowledged)",
        ),
    ]
}

pub fn legal_basis_label(basis: LegalBasis) -> LocalisedText {
    let (fr, en) = match basis {
        LegalBasis::Consent => ("Consentement (art. 6.1.a)", "Consent (Art. 6(1)(a))"),
        LegalBasis::Contract => (
            "Exécution d'un contrat (art. 6.1.b)",
            "Performance of a contract (Art. 6(1)(b))",
        ),
        LegalBasis::LegalObligation => (
            "Obligation légale (art. 6.1.c)",
            "Legal obligation (Art. 6(1)(c))",
        ),
        LegalBasis::VitalInterests => (
            "Sauvegarde des intérêts vitaux (art. 6.1.d)",
            "Vital interests (Art. 6(1)(d))",
        ),
        LegalBasis::PublicTask => (
            "Mission d'intérêt public (art. 6.1.e)",
            "Public task (Art. 6(1)(e))",
        ),
        LegalBasis::LegitimateInterest => (
            "Intérêt légitime (art. 6.1.f)",
            "Legitimate interest (Art. 6(1)(f))",
        ),
    };
    LocalisedText::new(fr, en)
}

fn find<'a>(processors: &'a [ProcessorFacts<'a>], name: &str) -> Option<&'a ProcessorFacts<'a>> {
    processors
        .iter()
        .find(|p| name_key(&p.processor.name) == name_key(name))
}

/// Walks `processor`'s sub-processors (and theirs), adding those outside the EEA.
fn chain_transfers(
    processors: &[ProcessorFacts<'_>],
    root: &Processor,
    transfers: &mut Vec<TransferEntry>,
) {
    let mut stack: Vec<(String, &Processor)> = vec![(root.name.clone(), root)];
    let mut seen = vec![name_key(&root.name)];
    while let Some((path, processor)) = stack.pop() {
        for sub in &processor.subprocessors {
            if seen.contains(&name_key(sub)) {
                continue;
            }
            seen.push(name_key(sub));
            let Some(entry) = find(processors, sub) else {
                continue;
            };
            let path = format!("{path} › {}", entry.processor.name);
            if !is_in_eea(&entry.processor.country) {
                transfers.push(TransferEntry {
                    country: entry.processor.country.clone(),
                    recipient: Some(path.clone()),
                    safeguard: entry.processor.transfer_mechanism,
                });
            }
            stack.push((path, entry.processor));
        }
    }
}

impl Ropa {
    pub fn build(sources: &RopaSources<'_>, generated_at: DateTime<Utc>) -> Self {
        let org = sources.organisation;
        let activities = sources
            .purposes
            .iter()
            .map(|purpose| activity(sources, purpose))
            .collect();
        Ropa {
            generated_at,
            controller: RopaController {
                name: org.name.clone(),
                address: org.address.clone(),
                contact_email: org.contact_email.clone(),
                dpo_name: org.dpo.name.clone(),
                dpo_email: org.dpo.email.clone(),
                authority: org.authority.name.clone(),
            },
            activities,
        }
    }
}

fn activity(sources: &RopaSources<'_>, purpose: &Purpose) -> Activity {
    let key = purpose.key.as_str();
    let data_categories: Vec<CategoryEntry> = purpose
        .data_categories
        .iter()
        .map(|c| {
            sources
                .categories
                .iter()
                .find(|e| &e.key == c)
                .cloned()
                .unwrap_or_else(|| CategoryEntry {
                    key: c.clone(),
                    label: LocalisedText::new(c.clone(), c.clone()),
                    special: false,
                })
        })
        .collect();
    let mut data_subjects: Vec<SubjectCategory> = sources
        .touchpoints
        .iter()
        .filter(|t| t.purposes.iter().any(|p| p == key))
        .map(|t| SubjectCategory {
            touchpoint: Some(t.key.to_string()),
            label: LocalisedText::new(
                format!("Personnes ayant utilisé le formulaire « {} »", t.title.fr),
                format!("People who used the form “{}”", t.title.en),
            ),
        })
        .collect();
    if data_subjects.is_empty() {
        data_subjects.push(SubjectCategory {
            touchpoint: None,
            label: LocalisedText::new(
                "Personnes dont les données sont reçues par l'API",
                "People whose data is received through the API",
            ),
        });
    }
    // Recipients: those the purpose names, and the processors that say they serve it.
    let mut names: Vec<String> = purpose.recipients.clone();
    for entry in sources.processors {
        if entry.processor.purposes.iter().any(|p| p == key)
            && !names
                .iter()
                .any(|n| name_key(n) == name_key(&entry.processor.name))
        {
            names.push(entry.processor.name.clone());
        }
    }
    let mut recipients = Vec::new();
    let mut transfers: Vec<TransferEntry> = purpose
        .transfers
        .iter()
        .map(|t| TransferEntry {
            country: t.country.clone(),
            recipient: t.recipient.clone(),
            safeguard: Some(t.safeguard),
        })
        .collect();
    let mut security_measures = registre_measures();
    for name in &names {
        match find(sources.processors, name) {
            Some(entry) => {
                let p = entry.processor;
                recipients.push(Recipient {
                    name: p.name.clone(),
                    registered: true,
                    service: Some(p.service.clone()),
                    role: Some(p.role.as_str().to_string()),
                    country: Some(p.country.clone()),
                    transfer_mechanism: p.transfer_mechanism,
                });
                let already = transfers.iter().any(|t| {
                    t.country == p.country
                        && t.recipient
                            .as_deref()
                            .is_some_and(|r| name_key(r) == name_key(&p.name))
                });
                if !is_in_eea(&p.country) && !already {
                    transfers.push(TransferEntry {
                        country: p.country.clone(),
                        recipient: Some(p.name.clone()),
                        safeguard: p.transfer_mechanism,
                    });
                }
                chain_transfers(sources.processors, p, &mut transfers);
                if let Some(protection) = entry.assessment.and_then(|a| a.protection.as_ref())
                    && !protection.measures.is_empty()
                {
                    let list = |language| {
                        protection
                            .measures
                            .iter()
                            .map(|m| measure_label(m, language))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    security_measures.push(LocalisedText::new(
                        format!("{} : {}", p.name, list(Language::Fr).to_lowercase()),
                        format!("{}: {}", p.name, list(Language::En).to_lowercase()),
                    ));
                }
            }
            None => recipients.push(Recipient {
                name: name.clone(),
                registered: false,
                service: None,
                role: None,
                country: None,
                transfer_mechanism: None,
            }),
        }
    }
    Activity {
        purpose: key.to_string(),
        name: purpose.title.clone(),
        description: purpose.description.clone(),
        legal_basis: purpose.legal_basis,
        legal_basis_label: legal_basis_label(purpose.legal_basis),
        legitimate_interest: purpose.legitimate_interest.clone(),
        special_categories: data_categories.iter().any(|c| c.special),
        data_categories,
        data_subjects,
        recipients,
        transfers,
        retention_days: purpose.retention_days,
        retention: crate::words::retention(purpose.retention_days),
        security_measures,
    }
}

/// The column headers of the CSV export, in each language.
const CSV_HEADERS: [(&str, &str); 17] = [
    ("Date de génération", "Generated at"),
    ("Responsable du traitement", "Controller"),
    (
        "Délégué à la protection des données",
        "Data protection officer",
    ),
    ("Clé", "Key"),
    ("Finalité", "Purpose"),
    ("Description", "Description"),
    ("Base légale", "Legal basis"),
    ("Intérêt légitime", "Legitimate interest"),
    ("Catégories de données", "Data categories"),
    ("Données sensibles", "Special categories"),
    ("Personnes concernées", "Data subjects"),
    ("Destinataires", "Recipients"),
    ("Transferts hors UE", "Transfers outside the EU"),
    ("Durée de conservation", "Retention period"),
    ("Durée de conservation (jours)", "Retention (days)"),
    ("Mesures de sécurité", "Security measures"),
    ("Autorité de contrôle", "Supervisory authority"),
];

/// One CSV field: always quoted, quotes doubled, and a leading `=`, `+`, `-`, `@` neutralised
/// so that a spreadsheet does not run it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", value.replace('"', "\"\""))
}

fn safeguard_label(safeguard: Option<TransferSafeguard>, language: Language) -> &'static str {
    match (safeguard, language) {
        (Some(TransferSafeguard::Adequacy), Language::Fr) => "décision d'adéquation",
        (Some(TransferSafeguard::Adequacy), Language::En) => "adequacy decision",
        (Some(TransferSafeguard::Scc), Language::Fr) => "clauses contractuelles types",
        (Some(TransferSafeguard::Scc), Language::En) => "standard contractual clauses",
        (Some(TransferSafeguard::Bcr), Language::Fr) => "règles d'entreprise contraignantes",
        (Some(TransferSafeguard::Bcr), Language::En) => "binding corporate rules",
        (Some(TransferSafeguard::Derogation), Language::Fr) => "dérogation (art. 49)",
        (Some(TransferSafeguard::Derogation), Language::En) => "derogation (Art. 49)",
        (None, Language::Fr) => "aucune garantie enregistrée",
        (None, Language::En) => "no safeguard recorded",
    }
}

impl Activity {
    pub fn recipients_text(&self, language: Language) -> String {
        self.recipients
            .iter()
            .map(|r| match (&r.country, &r.service) {
                (Some(country), Some(service)) => format!(
                    "{} ({}, {country})",
                    r.name,
                    crate::words::service(service).get(language)
                ),
                _ => match language {
                    Language::Fr => format!("{} (non enregistré)", r.name),
                    Language::En => format!("{} (not registered)", r.name),
                },
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn transfers_text(&self, language: Language) -> String {
        self.transfers
            .iter()
            .map(|t| {
                let who = t.recipient.clone().unwrap_or_default();
                // French puts a space before a colon; English does not.
                let colon = if language == Language::Fr { " :" } else { ":" };
                format!(
                    "{who} ({}){colon} {}",
                    t.country,
                    safeguard_label(t.safeguard, language)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn categories_text(&self, language: Language) -> String {
        self.data_categories
            .iter()
            .map(|c| {
                let label = c.label.get(language).to_string();
                if c.special {
                    format!("{label} (art. 9)")
                } else {
                    label
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl Ropa {
    /// The record as CSV (RFC 4180, CRLF line ends), one row per activity, in `language`.
    pub fn to_csv(&self, language: Language) -> String {
        let fr = language == Language::Fr;
        let mut out = String::new();
        let header: Vec<String> = CSV_HEADERS
            .iter()
            .map(|(f, e)| csv_field(if fr { f } else { e }))
            .collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        let controller = format!(
            "{}, {} ({})",
            self.controller.name, self.controller.address, self.controller.contact_email
        );
        let dpo = format!(
            "{} ({})",
            self.controller.dpo_name, self.controller.dpo_email
        );
        let yes_no = |b: bool| match (b, fr) {
            (true, true) => "oui",
            (false, true) => "non",
            (true, false) => "yes",
            (false, false) => "no",
        };
        for a in &self.activities {
            let join = |items: &[LocalisedText]| {
                items
                    .iter()
                    .map(|t| t.get(language).to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let row = [
                crate::clock::canonical_time(self.generated_at),
                controller.clone(),
                dpo.clone(),
                a.purpose.clone(),
                a.name.get(language).to_string(),
                a.description.get(language).to_string(),
                a.legal_basis_label.get(language).to_string(),
                a.legitimate_interest
                    .as_ref()
                    .map(|t| t.get(language).to_string())
                    .unwrap_or_default(),
                a.categories_text(language),
                yes_no(a.special_categories).to_string(),
                join(
                    &a.data_subjects
                        .iter()
                        .map(|s| s.label.clone())
                        .collect::<Vec<_>>(),
                ),
                a.recipients_text(language),
                a.transfers_text(language),
                a.retention.get(language).to_string(),
                a.retention_days.to_string(),
                join(&a.security_measures),
                self.controller.authority.clone(),
            ];
            out.push_str(
                &row.iter()
                    .map(|v| csv_field(v))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        out
    }
}

/// Keeps the compiler honest about the header count matching the row.
const _: () = assert!(CSV_HEADERS.len() == 17);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::processor::ProcessorInput;
    use crate::purpose::PurposeInput;
    use crate::touchpoint::TouchpointInput;
    use uuid::Uuid;

    fn processor(json: serde_json::Value) -> Processor {
        serde_json::from_value::<ProcessorInput>(json)
            .unwrap()
            .validate(Uuid::now_v7(), Utc::now())
            .unwrap()
    }

    #[test]
    fn an_activity_names_its_recipients_their_countries_and_chain_transfers() {
        let purpose = serde_json::from_value::<PurposeInput>(serde_json::json!({"key": "newsletter", "legal_basis": "consent",
            "retention_days": 1095, "data_categories": ["contact", "health"], "recipients": ["Brevo", "Ghost"],
            "title": {"fr": "Lettre", "en": "Letter"}, "description": "d"}))
        .unwrap()
        .validate(Utc::now())
        .unwrap();
        let touchpoint = serde_json::from_value::<TouchpointInput>(serde_json::json!({"key": "newsletter", "title": {"fr": "Inscription", "en": "Sign-up"},
            "purposes": ["newsletter"], "fields": [{"name": "email", "type": "email", "data_category": "contact", "label": "Email"}]}))
        .unwrap()
        .validate(Utc::now())
        .unwrap();
        let brevo = processor(
            serde_json::json!({"name": "Brevo", "service": "emailing", "country": "FR", "subprocessors": ["AWS"]}),
        );
        let aws = processor(
            serde_json::json!({"name": "AWS", "service": "hosting", "role": "subprocessor", "country": "US", "transfer_mechanism": "scc"}),
        );
        let processors = vec![
            ProcessorFacts {
                processor: &brevo,
                assessment: None,
            },
            ProcessorFacts {
                processor: &aws,
                assessment: None,
            },
        ];
        let categories = vec![
            CategoryEntry {
                key: "contact".into(),
                label: LocalisedText::new("Coordonnées", "Contact details"),
                special: false,
            },
            CategoryEntry {
                key: "health".into(),
                label: LocalisedText::new("Santé", "Health"),
                special: true,
            },
        ];
        let organisation = Organisation::placeholder();
        let sources = RopaSources {
            organisation: &organisation,
            purposes: std::slice::from_ref(&purpose),
            touchpoints: std::slice::from_ref(&touchpoint),
            categories: &categories,
            processors: &processors,
        };
        let ropa = Ropa::build(&sources, Utc::now());
        let activity = &ropa.activities[0];
        assert!(activity.special_categories);
        assert_eq!(activity.recipients.len(), 2);
        assert_eq!(activity.recipients[0].country.as_deref(), Some("FR"));
        assert!(!activity.recipients[1].registered);
        assert_eq!(
            activity.transfers,
            vec![TransferEntry {
                country: "US".into(),
                recipient: Some("Brevo › AWS".into()),
                safeguard: Some(TransferSafeguard::Scc)
            }]
        );
        assert_eq!(
            activity.data_subjects[0].label.en,
            "People who used the form “Sign-up”"
        );
        assert_eq!(activity.retention.fr, "3 ans");
        let csv = ropa.to_csv(Language::En);
        assert_eq!(csv.lines().count(), 2);
        assert!(csv.contains("\"Brevo (Emailing, FR); Ghost (not registered)\""));
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("a \"b\", c"), "\"a \"\"b\"\", c\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }

    #[test]
    fn retention_periods_read_as_years_months_or_days() {
        assert_eq!(crate::words::retention(730).en, "2 years");
        assert_eq!(crate::words::retention(180).fr, "6 mois");
        assert_eq!(crate::words::retention(45).en, "45 days");
    }
}
