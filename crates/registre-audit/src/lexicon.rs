//! French and English wording: what counts as a purpose, a right, a retention period...
//!
//! Every list holds folded phrases (see [`crate::text`]): lower case, no accents, `*` for
//! any ending, `?` for any one word.

use crate::text::{
    Sentence, Words, any_phrase, email_addresses, find_phrase, near, phrase_positions,
    token_matches,
};

/// The optional purposes a consent box can ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Purposes(u8);

impl Purposes {
    pub const NEWSLETTER: Purposes = Purposes(1);
    pub const OFFERS: Purposes = Purposes(2);
    pub const PARTNERS: Purposes = Purposes(4);
    pub const PROFILING: Purposes = Purposes(8);
    pub const SURVEYS: Purposes = Purposes(16);
    pub const ALL: [Purposes; 5] = [
        Self::NEWSLETTER,
        Self::OFFERS,
        Self::PARTNERS,
        Self::PROFILING,
        Self::SURVEYS,
    ];

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn count(self) -> u32 {
        self.0.count_ones()
    }
    pub fn contains(self, other: Purposes) -> bool {
        self.0 & other.0 == other.0 && !other.is_empty()
    }
    pub fn insert(&mut self, other: Purposes) {
        self.0 |= other.0;
    }
    pub fn remove(&mut self, other: Purposes) {
        self.0 &= !other.0;
    }
    pub fn without(self, other: Purposes) -> Purposes {
        Purposes(self.0 & !other.0)
    }
    pub fn iter(self) -> impl Iterator<Item = Purposes> {
        Self::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

const NEWSLETTER: &[&str] = &[
    "newsletter*",
    "news letter*",
    "infolettre*",
    "lettre* d information*",
    "lettre* d info",
    "lettre* d infos",
    "news",
    "actualite*",
    "actus",
    "mailing list*",
    "liste* de diffusion",
    "nouveaute*",
    "updates",
    "keep me updated",
    "keep me informed",
    "tenir informe*",
    "blog post*",
    "nos articles",
];

const OFFERS: &[&str] = &[
    "offre*",
    "offer*",
    "promotion*",
    "promotionnel*",
    "promo",
    "promos",
    "code* promo",
    "deals",
    "bon* plan*",
    "marketing",
    "commercial*",
    "prospection*",
    "sollicitation*",
    "discount*",
    "reduction*",
    "soldes",
    "ventes privees",
    "communications",
    "produits et services",
    "products and services",
    "nos produits",
    "our products",
    "direct mail",
    "publipostage*",
];

const ADVERTISING: &[&str] = &["publicite*", "advertis*", "ads", "annonces", "pub", "pubs"];
const PERSONALISED: &[&str] = &[
    "personnalise*",
    "personalis*",
    "personaliz*",
    "customi*",
    "cible*",
    "targeted",
    "tailored",
    "interest based",
];
const PROFILING: &[&str] = &[
    "profilage",
    "profiling",
    "ciblage",
    "analyse* de mon comportement",
    "analyse* de votre comportement",
    "behaviour*",
    "behavior*",
    "custom audience*",
    "audiences personnalisees",
];

const PARTNERS: &[&str] = &[
    "partenaire*",
    "partner*",
    "tiers",
    "third part*",
    "third party",
    "societes du groupe",
    "group companies",
    "affiliat*",
    "filiales",
    "sponsor*",
    "other companies",
    "autres societes",
];

/// Words that say an offer comes from the organisation itself, next to partners' offers.
const FIRST_PARTY: &[&str] = &[
    "nos offres",
    "nos promotions",
    "nos bons plans",
    "nos produits",
    "nos actualites",
    "our offers",
    "our deals",
    "our promotions",
    "our products",
    "our news",
    "de notre part",
    "from us",
];
const CONJUNCTIONS: &[&str] = &["et", "and", "ainsi", "ou", "or", "plus", "well"];
const CONNECTORS: &[&str] = &[
    "de", "des", "ses", "nos", "leurs", "its", "our", "their", "selected", "of", "from", "celles",
    "those", "the", "que", "as", "a", "d", "du", "certains", "trusted", "select",
];

const SURVEYS: &[&str] = &[
    "enquete*",
    "sondage*",
    "survey*",
    "questionnaire* de satisfaction",
    "etude* de marche",
    "market research",
];

/// The optional purposes named by a text (usually a checkbox label).
pub(crate) fn purposes(words: &Words) -> Purposes {
    let mut out = Purposes::default();
    if any_phrase(words, NEWSLETTER) {
        out.insert(Purposes::NEWSLETTER);
    }
    let profiling = any_phrase(words, PROFILING) || near(words, PERSONALISED, ADVERTISING, 3, true);
    if profiling {
        out.insert(Purposes::PROFILING);
    }
    if any_phrase(words, OFFERS) || (!profiling && any_phrase(words, ADVERTISING)) {
        out.insert(Purposes::OFFERS);
    }
    let partner_positions = phrase_positions(words, PARTNERS);
    if !partner_positions.is_empty() {
        out.insert(Purposes::PARTNERS);
        // "offers from our partners" is one purpose; "our offers and those of our partners" two.
        if out.contains(Purposes::OFFERS) && !first_party_too(words, &partner_positions) {
            out.remove(Purposes::OFFERS);
        }
    }
    if any_phrase(words, SURVEYS) {
        out.insert(Purposes::SURVEYS);
    }
    out
}

fn first_party_too(words: &Words, partner_positions: &[usize]) -> bool {
    if any_phrase(words, FIRST_PARTY) {
        return true;
    }
    partner_positions.iter().any(|&p| {
        let mut i = p;
        let mut steps = 0;
        while i > 0 && steps < 4 {
            i -= 1;
            steps += 1;
            let w = words[i].norm.as_str();
            if CONJUNCTIONS.contains(&w) {
                return true;
            }
            if !CONNECTORS.contains(&w) {
                return false;
            }
        }
        false
    })
}

/// Does the label ask to opt in to subscribing ("subscribe me", "je m'abonne")?
pub(crate) fn subscription_words(words: &Words) -> bool {
    any_phrase(
        words,
        &[
            "subscrib*",
            "sign me up",
            "abonn*",
            "inscri*",
            "opt in",
            "optin",
        ],
    )
}

/// A negative wording: "tick if you do NOT want", "je ne souhaite pas".
pub(crate) fn negative(words: &Words) -> bool {
    near(words, &["ne", "n"], &["pas", "plus", "jamais"], 4, false)
        || any_phrase(
            words,
            &[
                "not",
                "don t",
                "dont",
                "do not",
                "no longer",
                "opt out",
                "opt-out",
                "refuse*",
                "decline*",
                "unsubscribe*",
                "desinscri*",
                "never",
            ],
        )
}

/// A short answer "yes"/"oui" or "no"/"non" (radio buttons).
pub(crate) fn yes_answer(words: &Words) -> bool {
    words.len() <= 6
        && any_phrase(
            words,
            &[
                "oui",
                "yes",
                "j accepte",
                "i agree",
                "i accept",
                "ok",
                "d accord",
                "absolutely",
            ],
        )
        && !no_answer(words)
}
pub(crate) fn no_answer(words: &Words) -> bool {
    words.len() <= 6
        && any_phrase(
            words,
            &[
                "non",
                "no",
                "never",
                "jamais",
                "pas maintenant",
                "not now",
                "no thanks",
            ],
        )
}

const ACCEPT: &[&str] = &[
    "accept*",
    "agree*",
    "j ai lu",
    "i have read",
    "have read",
    "read and",
    "pris connaissance",
    "prendre connaissance",
    "approuve*",
    "adhere*",
];
const TERMS: &[&str] = &[
    "condition*",
    "cgu",
    "cgv",
    "cg",
    "terms",
    "t c",
    "tos",
    "reglement*",
    "politique*",
    "privacy",
    "charte*",
    "mentions legales",
    "contrat*",
    "eula",
    "policy",
    "notice",
];

/// "I accept the terms / the privacy policy" inside a label.
pub(crate) fn accepts_terms(words: &Words) -> bool {
    near(words, ACCEPT, TERMS, 6, false)
}

/// Is this sentence a statement of why data is collected?
pub(crate) fn states_purpose(words: &Words) -> bool {
    const DATA: &[&str] = &[
        "donnee*",
        "information*",
        "info",
        "infos",
        "coordonnee*",
        "renseignement*",
        "data",
        "details",
        "e mail*",
        "email*",
        "mail",
        "courriel*",
        "adresse*",
        "address*",
        "numero*",
        "number",
        "personal",
        "personnel*",
        "telephone",
        "phone",
    ];
    // "Finalité : gestion des demandes", "Purposes: ..."
    if words.first().is_some_and(|w| {
        ["finalite", "finalites", "purpose", "purposes"].contains(&w.norm.as_str())
    }) {
        return true;
    }
    if !any_phrase(words, DATA) {
        return any_phrase(
            words,
            &[
                "use it to",
                "use it for",
                "use them to",
                "use them for",
                "use this to",
                "uses it to",
                "les utilisons pour",
                "l utilisons pour",
                "sont utilisees pour",
                "est utilisee pour",
                "elles servent a",
                "elle sert a",
            ],
        );
    }
    const STRONG: &[&str] = &[
        "finalite*",
        "purpose*",
        "afin d",
        "afin de",
        "in order to",
        "so that",
        "so we can",
        "dans le but",
        "destine* a",
        "servent a",
        "sert a",
        "servira* a",
        "serviront a",
        "permet* de",
        "permett* de",
        "pour vous",
        "pour traiter",
        "pour gerer",
        "pour repondre",
        "pour envoyer",
        "pour recevoir",
        "pour la gestion",
        "pour le traitement",
        "pour l envoi",
        "pour le suivi",
        "pour assurer",
        "pour creer",
        "pour informer",
        "pour contacter",
        "pour recontacter",
        "pour livrer",
        "pour etablir",
        "pour l execution",
        "pour la creation",
        "pour la livraison",
        "pour telecharger",
        "pour acceder",
        "to send",
        "to respond",
        "to reply",
        "to answer",
        "to process",
        "to handle",
        "to manage",
        "to contact",
        "to deliver",
        "to provide",
        "to create",
        "to keep you",
        "to fulfil*",
        "to notify",
        "to inform",
        "to receive",
        "to get",
        "to follow up",
        "to email you",
        "to call you",
        "to ship",
        "to give you",
        "to let you",
        "to subscribe",
        "to sign up",
        "to register",
        "pour vous abonner",
        "pour vous inscrire",
        "pour s abonner",
        "pour s inscrire",
    ];
    if any_phrase(words, STRONG) {
        return true;
    }
    if near(
        words,
        &["servent", "sert", "servira*", "serviront"],
        &["a", "au", "aux"],
        3,
        false,
    ) {
        return true;
    }
    near(
        words,
        &[
            "utilise*",
            "traite*",
            "collecte*",
            "recueilli*",
            "enregistre*",
            "exploite*",
            "use",
            "used",
            "uses",
            "using",
            "process*",
            "collect*",
            "stored",
            "kept",
        ],
        &["pour", "afin", "to", "for"],
        4,
        false,
    )
}

const RIGHT_WORDS: &[&str] = &["droit*", "right*"];
const RIGHT_KINDS: &[&str] = &[
    "acce*",
    "rectif*",
    "effac*",
    "eras*",
    "suppress*",
    "supprim*",
    "delet*",
    "oppos*",
    "object*",
    "limit*",
    "restrict*",
    "portab*",
    "retir*",
    "retrait",
    "withdraw*",
    "modif*",
    "correct*",
    "oubli",
    "forgotten",
];

/// Does the sentence tell the person about their rights over the data?
pub(crate) fn mentions_rights(words: &Words) -> bool {
    if near(words, RIGHT_WORDS, RIGHT_KINDS, 6, true) {
        return true;
    }
    if any_phrase(
        words,
        &[
            "exercer vos droits",
            "exercer ces droits",
            "exercer ses droits",
            "exercer mes droits",
            "exercer ce droit",
            "exercise your rights",
            "exercise these rights",
            "exercise this right",
            "exercise any of these rights",
            "exercise your data protection rights",
            "vos droits rgpd",
            "your gdpr rights",
            "your privacy rights",
            "your data protection rights",
        ],
    ) {
        return true;
    }
    if any_phrase(
        words,
        &[
            "vos droits",
            "your rights",
            "ses droits",
            "des droits",
            "rights",
        ],
    ) && any_phrase(
        words,
        &[
            "donnee*",
            "data",
            "personal",
            "rgpd",
            "gdpr",
            "informatique et libertes",
        ],
    ) {
        return true;
    }
    // "vous pouvez accéder à vos données, les rectifier ou les supprimer"
    if any_phrase(
        words,
        &[
            "vous pouvez",
            "you can",
            "you may",
            "pouvez a tout moment",
            "you have the option",
        ],
    ) {
        let groups: [&[&str]; 5] = [
            &["acce*", "acced*"],
            &["rectif*", "correct*", "modif*", "update"],
            &["supprim*", "effac*", "delet*", "eras*"],
            &["oppos*", "object*"],
            &["limit*", "restrict*", "portab*", "export*"],
        ];
        let hits = groups.iter().filter(|g| any_phrase(words, g)).count();
        return hits >= 2;
    }
    false
}

/// Does the sentence say how to use the rights (a channel to write to)?
pub(crate) fn rights_channel(words: &Words) -> bool {
    any_phrase(
        words,
        &[
            "en ecrivant",
            "ecrivez",
            "ecrire a",
            "by writing",
            "write to",
            "by emailing",
            "email us",
            "e mail us",
            "by email",
            "by e mail",
            "par email",
            "par e mail",
            "par mail",
            "par courriel",
            "par courrier",
            "by post",
            "by mail",
            "en contactant",
            "by contacting",
            "contact us",
            "contactez",
            "nous contacter",
            "adressez",
            "adresser",
            "en nous adressant",
            "portail",
            "portal",
            "espace personnel",
            "espace client",
            "mon compte",
            "votre compte",
            "your account",
            "account settings",
            "formulaire",
            "online form",
            "request form",
            "web form",
            "cliquez",
            "click here",
            "via this page",
            "via cette page",
            "by calling",
            "en appelant",
        ],
    )
}

const LEGAL_FORMS: &[&str] = &[
    "sas", "sarl", "sasu", "eurl", "snc", "sci", "scop", "ltd", "limited", "inc", "llc", "gmbh",
    "plc", "llp", "bv", "srl",
];

/// Does the sentence name the controller?
pub(crate) fn names_controller(words: &Words) -> bool {
    if any_phrase(
        words,
        &[
            "responsable* du traitement",
            "responsable* de traitement",
            "responsable* des traitements",
            "responsable* de ce traitement",
            "data controller*",
            "controller",
            "the controller",
            "editeur* du site",
            "edite* par",
            "published by",
            "operated by",
            "exploite* par",
            "siret",
            "siren",
            "rcs",
            "company number",
            "registered in england",
            "company registration",
        ],
    ) {
        return true;
    }
    if words
        .iter()
        .skip(1)
        .any(|w| LEGAL_FORMS.contains(&w.norm.as_str()))
    {
        return true;
    }
    // "collectées par Exemple", "processed by Acme"
    const VERBS: &[&str] = &[
        "collecte*",
        "recueilli*",
        "traite*",
        "enregistre*",
        "conserve*",
        "destinee*",
        "collected",
        "processed",
        "stored",
        "held",
        "handled",
        "controlled",
        "received",
    ];
    if !any_phrase(words, VERBS) {
        return false;
    }
    for (i, w) in words.iter().enumerate() {
        if !VERBS.iter().any(|v| token_matches(&w.norm, v)) {
            continue;
        }
        for j in i + 1..(i + 5).min(words.len()) {
            let n = words[j].norm.as_str();
            if n == "par" || n == "by" || (n == "a" && words[i].norm.starts_with("destine")) {
                let named = words.iter().skip(j + 1).take(3).any(|w| {
                    w.capitalised
                        && !matches!(
                            w.norm.as_str(),
                            "vous" | "nous" | "you" | "we" | "us" | "notre" | "our"
                        )
                });
                if named {
                    return true;
                }
            }
        }
    }
    false
}

const NUMBER_WORDS: &[&str] = &[
    "un", "une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "douze",
    "quinze", "vingt", "trente", "quarante", "soixante", "one", "two", "three", "four", "five",
    "six", "seven", "eight", "nine", "ten", "twelve", "fifteen", "eighteen", "twenty", "thirty",
    "forty", "sixty", "ninety",
];
const UNITS: &[&str] = &[
    "an", "ans", "annee*", "mois", "jour*", "semaine*", "year*", "month*", "day*", "week*", "yr*",
];

fn duration_positions(words: &Words) -> Vec<usize> {
    let mut out = Vec::new();
    for i in 0..words.len().saturating_sub(1) {
        let w = words[i].norm.as_str();
        let number = w.bytes().all(|b| b.is_ascii_digit()) || NUMBER_WORDS.contains(&w);
        if number && UNITS.iter().any(|u| token_matches(&words[i + 1].norm, u)) {
            out.push(i);
        }
    }
    out.extend(phrase_positions(
        words,
        &[
            "jusqu a",
            "jusqu au",
            "until",
            "as long as",
            "aussi longtemps",
            "pendant toute la duree",
            "pendant la duree",
            "for the duration",
            "for as long",
            "le temps necessaire",
            "no longer than",
            "pas au dela",
            "n excedant pas",
            "n excede pas",
        ],
    ));
    out
}

/// Does the sentence state how long data is kept?
pub(crate) fn states_retention(words: &Words) -> bool {
    let keep = phrase_positions(
        words,
        &[
            "conserv*",
            "retention*",
            "retain*",
            "kept",
            "keep*",
            "stored",
            "store",
            "stocke*",
            "garde*",
            "archiv*",
            "supprime*",
            "delet*",
            "eras*",
            "purge*",
            "destroy*",
            "detrui*",
            "efface*",
            "duree*",
            "anonymi*",
        ],
    );
    if any_phrase(
        words,
        &[
            "jusqu a votre desinscription",
            "jusqu a desinscription",
            "jusqu a ce que vous vous desinscriviez",
            "jusqu au retrait de votre consentement",
            "until you unsubscribe",
            "until you opt out",
            "until you withdraw your consent",
        ],
    ) {
        return true;
    }
    if keep.is_empty() {
        return false;
    }
    let dur = duration_positions(words);
    keep.iter()
        .any(|&k| dur.iter().any(|&d| k.abs_diff(d) <= 12))
}

const DPO_LOCAL_PARTS: &[&str] = &[
    "dpo",
    "dpd",
    "privacy",
    "rgpd",
    "gdpr",
    "dataprotection",
    "data-protection",
    "data.protection",
    "donneespersonnelles",
    "donnees-personnelles",
    "donnees.personnelles",
    "vieprivee",
    "vie-privee",
    "confidentialite",
    "cil",
    "protectiondesdonnees",
    "protection-donnees",
    "protection.donnees",
    "dataprivacy",
    "data-privacy",
];

/// Does the sentence give a DPO or privacy contact?
pub(crate) fn names_dpo(words: &Words) -> bool {
    any_phrase(
        words,
        &[
            "dpo",
            "d p o",
            "dpd",
            "delegue* a la protection des donnees",
            "delegue* a la protection de donnees",
            "delegue* protection des donnees",
            "deleguee* a la protection des donnees",
            "data protection officer*",
            "privacy officer*",
            "referent* rgpd",
            "referent* donnees personnelles",
            "referent* protection des donnees",
        ],
    )
}

/// Is this email address a privacy contact (dpo@, privacy@, rgpd@...)?
pub(crate) fn privacy_email(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or("");
    DPO_LOCAL_PARTS.iter().any(|p| {
        local == *p || local.starts_with(&format!("{p}.")) || local.starts_with(&format!("{p}-"))
    })
}

/// Is a link (its folded text and href) a link to a privacy policy?
pub(crate) fn privacy_link(text: &Words, href: &str) -> bool {
    let href = crate::text::fold(href);
    let in_href = [
        "privacy",
        "confidentialite",
        "confidentiality",
        "vie-privee",
        "vieprivee",
        "donnees-personnelles",
        "donneespersonnelles",
        "protection-des-donnees",
        "protection-donnees",
        "data-protection",
        "dataprotection",
        "rgpd",
        "gdpr",
        "politique-de-protection",
        "privacidad",
        "datenschutz",
    ]
    .iter()
    .any(|k| href.contains(k));
    in_href
        || any_phrase(
            text,
            &[
                "confidentialite",
                "privacy*",
                "vie privee",
                "donnees personnelles",
                "donnees a caractere personnel",
                "protection des donnees",
                "protection de vos donnees",
                "rgpd",
                "gdpr",
                "data protection",
                "personal data",
                "politique de protection",
            ],
        )
}

/// Submitting the form is said to be consent: "en soumettant ce formulaire, vous acceptez...".
pub(crate) fn consent_by_submission(words: &Words) -> bool {
    any_phrase(
        words,
        &[
            "en soumettant",
            "en validant",
            "en envoyant",
            "en cliquant",
            "en vous inscrivant",
            "en creant",
            "en remplissant",
            "en poursuivant",
            "en continuant",
            "en telechargeant",
            "en transmettant",
            "by submitting",
            "by clicking",
            "by signing up",
            "by registering",
            "by subscribing",
            "by creating",
            "by sending",
            "by continuing",
            "by filling",
            "by providing",
            "by completing",
            "by downloading",
            "by entering",
        ],
    ) && any_phrase(
        words,
        &[
            "accept*",
            "agree*",
            "consent*",
            "autoris*",
            "authori*",
            "opt in",
            "opting in",
            "acknowledge* and agree",
        ],
    )
}

/// Language guess from the words of the page: `Some("fr")`, `Some("en")` or `None`.
pub(crate) fn guess_language(sentences: &[Sentence<'_>]) -> Option<&'static str> {
    const FR: &[&str] = &[
        "le", "la", "les", "des", "du", "et", "est", "vous", "votre", "vos", "nous", "pour", "une",
        "dans", "sur", "avec", "au", "aux", "ce", "cette", "qui", "que", "pas", "sont", "par",
    ];
    const EN: &[&str] = &[
        "the", "and", "is", "are", "you", "your", "we", "our", "to", "of", "for", "with", "in",
        "on", "this", "that", "it", "be", "by", "not", "will",
    ];
    let (mut fr, mut en) = (0usize, 0usize);
    for w in sentences.iter().flat_map(|s| s.words.iter()).take(20_000) {
        if FR.contains(&w.norm.as_str()) {
            fr += 1;
        }
        if EN.contains(&w.norm.as_str()) {
            en += 1;
        }
    }
    match (fr, en) {
        (0, 0) => None,
        (f, e) if f > e => Some("fr"),
        _ => Some("en"),
    }
}

/// Email addresses in a text and whether one of them is a privacy contact.
pub(crate) fn emails_in(text: &str) -> (bool, bool) {
    let all = email_addresses(text);
    let privacy = all.iter().any(|a| privacy_email(a));
    (!all.is_empty(), privacy)
}

/// Does the phrase occur (re-export for rules).
pub(crate) fn has(words: &Words, phrases: &[&str]) -> bool {
    any_phrase(words, phrases)
}

/// Position of a phrase (re-export for rules).
pub(crate) fn position(words: &Words, phrase: &str) -> Option<usize> {
    find_phrase(words, phrase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::words;

    fn p(s: &str) -> Purposes {
        purposes(&words(s))
    }

    #[test]
    fn purposes_in_french_and_english() {
        assert_eq!(
            p("Je souhaite recevoir la lettre d’information"),
            Purposes::NEWSLETTER
        );
        assert_eq!(p("Sign me up for the Newsletter"), Purposes::NEWSLETTER);
        assert_eq!(
            p("J'accepte de recevoir les offres commerciales"),
            Purposes::OFFERS
        );
        assert_eq!(
            p("Je souhaite recevoir les offres des partenaires d'Exemple"),
            Purposes::PARTNERS
        );
        assert_eq!(
            p("I'd like offers from selected partners"),
            Purposes::PARTNERS
        );
        let both = p("Recevoir les offres d'Exemple et de ses partenaires");
        assert!(both.contains(Purposes::OFFERS) && both.contains(Purposes::PARTNERS));
        let both = p("our offers and those of our partners");
        assert_eq!(both.count(), 2);
        assert_eq!(
            p("Receive the newsletter and promotional offers").count(),
            2
        );
        assert_eq!(p("Customized Online Advertising"), Purposes::PROFILING);
        assert!(p("Se souvenir de moi").is_empty());
        assert!(p("J'accepte les conditions générales d'utilisation").is_empty());
        assert!(p("I consent to having this website store my submitted information so they can respond to my inquiry").is_empty());
    }

    #[test]
    fn rights_and_not_copyright() {
        assert!(mentions_rights(&words(
            "Vous disposez d’un droit d’accès et de rectification"
        )));
        assert!(mentions_rights(&words(
            "You have the right to object to processing"
        )));
        assert!(mentions_rights(&words(
            "Vous pouvez accéder à vos données, les rectifier ou les supprimer"
        )));
        assert!(!mentions_rights(&words(
            "© 2025 Exemple — Tous droits réservés"
        )));
        assert!(!mentions_rights(&words("All rights reserved")));
    }

    #[test]
    fn retention_needs_a_duration() {
        assert!(states_retention(&words(
            "Vos données sont conservées 3 ans à compter du dernier contact"
        )));
        assert!(states_retention(&words(
            "We keep your email until you unsubscribe"
        )));
        assert!(states_retention(&words(
            "Durée de conservation : trois ans"
        )));
        assert!(!states_retention(&words(
            "Nous conservons vos données en sécurité"
        )));
    }

    #[test]
    fn controller_named() {
        assert!(names_controller(&words(
            "Les informations sont enregistrées par Exemple SAS"
        )));
        assert!(names_controller(&words(
            "Your data is processed by Acme for marketing"
        )));
        assert!(names_controller(&words(
            "Le responsable du traitement est la société Dupont"
        )));
        assert!(!names_controller(&words("Your data is processed by us")));
    }

    #[test]
    fn purpose_statements() {
        assert!(states_purpose(&words(
            "Votre adresse e-mail est utilisée uniquement pour vous envoyer notre newsletter"
        )));
        assert!(states_purpose(&words(
            "We use your details to respond to your enquiry"
        )));
        assert!(!states_purpose(&words("Your data is safe with us")));
        assert!(!states_purpose(&words("Contact us")));
    }

    #[test]
    fn privacy_contacts() {
        assert!(privacy_email("dpo@exemple.fr"));
        assert!(privacy_email("privacy.team@acme.co.uk"));
        assert!(!privacy_email("contact@exemple.fr"));
        assert!(names_dpo(&words(
            "notre Délégué à la protection des données"
        )));
    }
}
