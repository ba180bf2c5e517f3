//! Every text a person reads on a public page or in an email, in French and English: one
//! typed table per language, so a missing translation is a compile error, not a blank.
//! Texts with values in them are methods.
use registre_domain::Language;
use registre_domain::purpose::{LegalBasis, TransferSafeguard};
use registre_domain::submission::FieldProblem;

/// The messages of one language. Templates read them as `t.name`.
pub struct Messages {
    pub language: Language,
    /// The name of this language, in itself.
    pub language_name: &'static str,
    /// Punctuation: French puts a (non-breaking) space before ":" and ";".
    pub colon: &'static str,
    pub semicolon: &'static str,
    pub semicolon_space: &'static str,
    pub skip_to_content: &'static str,
    pub language_switch: &'static str,
    pub privacy_portal: &'static str,
    pub privacy_policy: &'static str,
    pub powered_by: &'static str,

    // The form.
    pub required_legend: &'static str,
    pub required: &'static str,
    pub optional: &'static str,
    pub choices_legend: &'static str,
    pub choices_hint: &'static str,
    pub submit: &'static str,
    pub error_summary: &'static str,
    pub error_prefix: &'static str,
    pub honeypot_label: &'static str,
    pub form_expired: &'static str,
    pub form_used: &'static str,
    pub form_invalid: &'static str,
    pub no_cookie: &'static str,
    pub open_in_new_tab: &'static str,
    pub double_opt_in_hint: &'static str,

    // The first layer of the notice.
    pub first_layer_heading: &'static str,
    pub first_layer_why: &'static str,
    pub first_layer_data: &'static str,
    pub first_layer_required: &'static str,
    pub first_layer_optional: &'static str,
    pub first_layer_who: &'static str,
    pub first_layer_dpo: &'static str,
    pub first_layer_rights: &'static str,
    /// The same, when the form asks no consent.
    pub first_layer_rights_no_consent: &'static str,
    pub first_layer_rights_how: &'static str,
    pub first_layer_or_write: &'static str,
    pub first_layer_more: &'static str,
    pub if_ticked: &'static str,

    // The full notice (Art. 13).
    pub notice_heading: &'static str,
    pub notice_summary: &'static str,
    pub notice_controller: &'static str,
    pub notice_contact: &'static str,
    pub notice_dpo: &'static str,
    pub notice_data: &'static str,
    pub notice_field: &'static str,
    pub notice_category: &'static str,
    pub notice_status: &'static str,
    pub notice_required_consequence: &'static str,
    pub notice_purposes: &'static str,
    pub notice_basis: &'static str,
    pub notice_interest: &'static str,
    pub notice_categories: &'static str,
    pub notice_retention: &'static str,
    pub notice_recipients: &'static str,
    pub notice_no_recipients: &'static str,
    pub notice_transfers: &'static str,
    pub notice_no_transfers: &'static str,
    pub notice_consent_note: &'static str,
    pub notice_rights: &'static str,
    pub notice_rights_intro: &'static str,
    pub right_access: &'static str,
    pub right_rectification: &'static str,
    pub right_erasure: &'static str,
    pub right_restriction: &'static str,
    pub right_objection: &'static str,
    pub right_portability: &'static str,
    pub notice_rights_how: &'static str,
    pub notice_withdraw: &'static str,
    pub notice_complaint: &'static str,
    pub notice_automated: &'static str,
    pub notice_double_opt_in: &'static str,
    pub notice_version: &'static str,
    pub notice_published: &'static str,
    pub notice_past_version: &'static str,
    pub notice_current_version: &'static str,
    pub notice_page_title: &'static str,

    // After sending.
    pub thanks_heading: &'static str,
    pub thanks_recorded: &'static str,
    pub thanks_granted: &'static str,
    pub thanks_pending: &'static str,
    pub thanks_pending_note: &'static str,
    pub thanks_mail_failed: &'static str,
    pub thanks_none: &'static str,
    pub thanks_withdraw_heading: &'static str,
    pub thanks_withdraw: &'static str,
    pub download_heading: &'static str,
    pub download_note: &'static str,
    pub back_to_form: &'static str,

    // The hub, the policy and the person's receipt.
    pub nothing_chosen: &'static str,
    pub not_found_back: &'static str,
    pub hub_title: &'static str,
    pub hub_forms: &'static str,
    pub hub_forms_intro: &'static str,
    pub hub_no_forms: &'static str,
    pub hub_used_for: &'static str,
    pub hub_portal_text: &'static str,
    pub hub_policy_text: &'static str,
    pub hub_console: &'static str,
    pub hub_console_text: &'static str,
    pub policy_where: &'static str,
    pub policy_processors: &'static str,
    pub policy_processors_intro: &'static str,
    pub policy_no_processors: &'static str,
    pub policy_recipient: &'static str,
    pub policy_service: &'static str,
    pub policy_country: &'static str,
    pub policy_safeguard: &'static str,
    pub policy_in_eea: &'static str,
    pub policy_no_safeguard: &'static str,
    pub policy_cookies: &'static str,
    pub policy_cookies_text: &'static str,
    pub policy_history: &'static str,
    pub policy_version: &'static str,
    pub policy_first_seen: &'static str,
    pub policy_current: &'static str,
    pub policy_past: &'static str,
    pub policy_read: &'static str,
    pub receipt_title: &'static str,
    pub receipt_intro: &'static str,
    pub receipt_choice: &'static str,
    pub receipt_purpose: &'static str,
    pub receipt_when: &'static str,
    pub receipt_how: &'static str,
    pub receipt_notice: &'static str,
    pub receipt_notice_link: &'static str,
    pub receipt_reference: &'static str,
    pub receipt_signed_heading: &'static str,
    pub receipt_signed_note: &'static str,
    pub receipt_download: &'static str,
    pub receipt_link: &'static str,
    pub receipts_heading: &'static str,
    pub receipts_note: &'static str,
    pub mail_receipt: &'static str,

    // Links from emails.
    pub confirm_heading: &'static str,
    pub confirm_intro: &'static str,
    pub confirm_button: &'static str,
    pub confirm_done: &'static str,
    pub confirm_nothing: &'static str,
    pub unsubscribe_heading: &'static str,
    pub unsubscribe_intro: &'static str,
    pub unsubscribe_button: &'static str,
    pub unsubscribe_done: &'static str,
    pub unsubscribe_nothing: &'static str,
    pub link_invalid: &'static str,
    pub link_expired: &'static str,
    pub link_used: &'static str,

    // Error pages.
    pub not_found_heading: &'static str,
    pub not_found: &'static str,
    pub too_large_heading: &'static str,
    pub too_large: &'static str,
    pub rate_limited_heading: &'static str,
    pub forged_heading: &'static str,
    pub forged: &'static str,
    pub automated: &'static str,
    pub unsupported: &'static str,
    pub internal_heading: &'static str,
    pub internal: &'static str,
    pub nothing_recorded: &'static str,

    // Email.
    pub mail_hello: &'static str,
    pub mail_confirm_button: &'static str,
    pub mail_ignore: &'static str,
    pub mail_unsubscribe: &'static str,
}

pub static FR: Messages = Messages {
    language: Language::Fr,
    language_name: "Français",
    colon: "\u{a0}:",
    semicolon: "\u{a0};",
    semicolon_space: "\u{a0}; ",
    skip_to_content: "Aller au contenu",
    language_switch: "Langue",
    privacy_portal: "Vos données, vos droits",
    privacy_policy: "Politique de confidentialité",
    powered_by: "Conformité RGPD par Registre",

    required_legend: "Les champs marqués d'un astérisque (*) sont obligatoires.",
    required: "obligatoire",
    optional: "facultatif",
    choices_legend: "Vos choix",
    choices_hint: "Facultatif\u{a0}: cochez seulement ce que vous souhaitez. Vous pourrez changer d'avis à tout moment.",
    submit: "Envoyer",
    error_summary: "Le formulaire n'a pas été envoyé. Veuillez corriger\u{a0}:",
    error_prefix: "Erreur\u{a0}: ",
    honeypot_label: "Laissez ce champ vide",
    form_expired: "Ce formulaire avait expiré. Vos saisies sont conservées ci-dessous\u{a0}: vérifiez-les et envoyez à nouveau.",
    form_used: "Ce formulaire a déjà été envoyé. Si vous voulez envoyer une nouvelle demande, vérifiez vos saisies et envoyez à nouveau.",
    form_invalid: "Nous n'avons pas pu vérifier que ce formulaire vient de notre site\u{a0}: rien n'a été enregistré. Vérifiez vos saisies et envoyez à nouveau.",
    no_cookie: "Votre navigateur n'a pas renvoyé notre cookie de sécurité (il bloque peut-être les cookies dans les cadres intégrés)\u{a0}: rien n'a été enregistré.",
    open_in_new_tab: "Ouvrir le formulaire dans un nouvel onglet",
    double_opt_in_hint: "Si vous cochez une case, nous vous enverrons un e-mail pour confirmer\u{a0}: rien ne vous sera envoyé avant votre confirmation.",

    first_layer_heading: "Vos données personnelles",
    first_layer_why: "Pourquoi nous les collectons",
    first_layer_data: "Données collectées",
    first_layer_required: "obligatoires\u{a0}:",
    first_layer_optional: "facultatives\u{a0}:",
    first_layer_who: "Responsable du traitement",
    first_layer_dpo: "Délégué à la protection des données\u{a0}:",
    first_layer_rights: "Vous pouvez accéder à vos données, les faire rectifier ou effacer, vous opposer à leur utilisation et retirer votre consentement à tout moment,",
    first_layer_rights_no_consent: "Vous pouvez accéder à vos données, les faire rectifier ou effacer et vous opposer à leur utilisation,",
    first_layer_rights_how: "depuis notre espace «\u{a0}Vos données, vos droits\u{a0}»",
    first_layer_or_write: "ou en écrivant à",
    first_layer_more: "Toutes les informations sur vos données",
    if_ticked: "si vous cochez la case",

    notice_heading: "Information sur vos données personnelles",
    notice_summary: "En savoir plus sur l'utilisation de vos données",
    notice_controller: "Responsable du traitement",
    notice_contact: "Contact",
    notice_dpo: "Délégué à la protection des données (DPO)",
    notice_data: "Les données collectées par ce formulaire",
    notice_field: "Champ",
    notice_category: "Catégorie",
    notice_status: "Caractère",
    notice_required_consequence: "Les champs obligatoires sont nécessaires pour traiter votre demande\u{a0}: sans eux, le formulaire ne peut pas être envoyé. Les champs facultatifs peuvent rester vides sans aucune conséquence pour vous.",
    notice_purposes: "Finalités et bases légales",
    notice_basis: "Base légale",
    notice_interest: "Intérêt légitime poursuivi",
    notice_categories: "Données utilisées",
    notice_retention: "Durée de conservation",
    notice_recipients: "Destinataires",
    notice_no_recipients: "Uniquement nos équipes habilitées",
    notice_transfers: "Transferts hors de l'Union européenne",
    notice_no_transfers: "Aucun\u{a0}: les données restent dans l'Espace économique européen.",
    notice_consent_note: "Uniquement si vous cochez la case correspondante. Vous pouvez retirer ce consentement à tout moment, aussi simplement que vous l'avez donné\u{a0}; le retrait ne remet pas en cause ce qui a été fait avant.",
    notice_rights: "Vos droits",
    notice_rights_intro: "Vous avez le droit de\u{a0}:",
    right_access: "accéder à vos données et en obtenir une copie",
    right_rectification: "les faire rectifier",
    right_erasure: "les faire effacer",
    right_restriction: "demander la limitation de leur traitement",
    right_objection: "vous opposer à leur traitement, et à tout moment à la prospection",
    right_portability: "les recevoir dans un format structuré et les faire transmettre à un autre organisme (portabilité)",
    notice_rights_how: "Pour exercer ces droits, gratuitement\u{a0}: utilisez notre espace «\u{a0}Vos données, vos droits\u{a0}», ou écrivez à notre délégué à la protection des données. Nous vous répondons dans un délai d'un mois.",
    notice_withdraw: "Vous pouvez retirer votre consentement à tout moment\u{a0}: avec le lien présent dans chacun de nos e-mails, dans notre espace «\u{a0}Vos données, vos droits\u{a0}» ou en écrivant à notre délégué.",
    notice_complaint: "Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à l'autorité de contrôle\u{a0}:",
    notice_automated: "Aucune décision automatisée, profilage compris, n'est prise sur la base de ces données.",
    notice_double_opt_in: "Lorsque vous cochez une case, nous vous envoyons un e-mail de confirmation\u{a0}: rien ne vous est envoyé avant votre confirmation, et une demande non confirmée est abandonnée au bout de 7 jours.",
    notice_version: "Version de cette information",
    notice_published: "publiée le",
    notice_past_version: "Vous consultez une version antérieure de cette information.",
    notice_current_version: "Voir la version en vigueur",
    notice_page_title: "Information sur vos données",

    thanks_heading: "Merci, c'est envoyé",
    thanks_recorded: "Votre formulaire a bien été reçu et enregistré.",
    thanks_granted: "Vous avez accepté\u{a0}:",
    thanks_pending: "Consultez votre boîte e-mail\u{a0}: nous vous avons envoyé un lien pour confirmer\u{a0}:",
    thanks_pending_note: "Tant que vous n'avez pas confirmé, nous ne vous enverrons rien. Le lien est valable 7 jours.",
    thanks_mail_failed: "Nous n'avons pas pu envoyer l'e-mail de confirmation pour l'instant. Vos choix restent en attente\u{a0}: renvoyez le formulaire un peu plus tard.",
    thanks_none: "Vous n'avez coché aucune case\u{a0}: nous utiliserons vos données uniquement pour répondre à ce formulaire, sans vous envoyer de prospection.",
    thanks_withdraw_heading: "Changer d'avis",
    thanks_withdraw: "Vous pouvez retirer votre consentement à tout moment, aussi simplement que vous l'avez donné\u{a0}: avec le lien présent dans chacun de nos e-mails, dans notre espace «\u{a0}Vos données, vos droits\u{a0}», ou en écrivant à",
    download_heading: "Votre document",
    download_note: "Le lien de téléchargement est valable 24 heures.",
    back_to_form: "Revenir au formulaire",

    nothing_chosen: "Ce formulaire sert uniquement à vous inscrire\u{a0}: cochez au moins une case pour l'envoyer. Rien n'a été enregistré.",
    not_found_back: "Retour à l'accueil «\u{a0}Vie privée\u{a0}»",
    hub_title: "Vie privée et données personnelles",
    hub_forms: "Nos formulaires",
    hub_forms_intro: "Chaque formulaire dit pourquoi il collecte vos données, avant que vous ne l'envoyiez.",
    hub_no_forms: "Aucun formulaire n'est publié pour l'instant.",
    hub_used_for: "Sert à\u{a0}:",
    hub_portal_text: "Voir vos consentements, les retirer, télécharger vos données ou faire une demande (accès, effacement, opposition…), sans mot de passe.",
    hub_policy_text: "Tout ce que nous faisons de vos données\u{a0}: finalités, bases légales, destinataires, durées de conservation, vos droits.",
    hub_console: "Console de conformité",
    hub_console_text: "Vous êtes connecté(e) à la console\u{a0}: registres, demandes, sous-traitants.",
    policy_where: "Où nous collectons vos données",
    policy_processors: "Nos sous-traitants et destinataires",
    policy_processors_intro: "Ils traitent vos données pour notre compte, sur nos instructions et sous contrat (article 28 du RGPD).",
    policy_no_processors: "Aucun sous-traitant n'est enregistré\u{a0}: vos données ne sont traitées que par nos équipes.",
    policy_recipient: "Destinataire",
    policy_service: "Rôle",
    policy_country: "Pays",
    policy_safeguard: "Garantie",
    policy_in_eea: "dans l'Espace économique européen",
    policy_no_safeguard: "aucune garantie enregistrée",
    policy_cookies: "Cookies et traceurs",
    policy_cookies_text: "Les pages de cet espace (formulaires, espace «\u{a0}Vos données, vos droits\u{a0}») n'utilisent que des cookies strictement nécessaires, exemptés de consentement\u{a0}: un cookie de sécurité des formulaires (12 heures) et le cookie de session de l'espace (1 heure). Aucun traceur publicitaire ni de mesure d'audience n'y est déposé.",
    policy_history: "Versions de cette politique",
    policy_version: "Version",
    policy_first_seen: "En vigueur depuis le",
    policy_current: "version en vigueur",
    policy_past: "Vous lisez une version antérieure de cette politique.",
    policy_read: "Lire",
    receipt_title: "Reçu de consentement",
    receipt_intro: "Ce reçu atteste de votre choix et de sa date. Il est signé électroniquement\u{a0}: gardez-le comme preuve.",
    receipt_choice: "Votre choix",
    receipt_purpose: "Finalité",
    receipt_when: "Date",
    receipt_how: "Recueilli par",
    receipt_notice: "Information donnée",
    receipt_notice_link: "Lire l'information telle que vous l'avez vue",
    receipt_reference: "Référence",
    receipt_signed_heading: "Le reçu signé",
    receipt_signed_note: "Le fichier ci-dessous contient ce reçu au format Kantara, signé (JWS, EdDSA) avec la clé publique de notre registre\u{a0}: n'importe qui peut vérifier qu'il n'a pas été modifié.",
    receipt_download: "Télécharger le reçu signé (JSON)",
    receipt_link: "Votre reçu",
    receipts_heading: "Vos reçus",
    receipts_note: "Chaque lien mène au reçu signé de votre choix\u{a0}: gardez-le.",
    mail_receipt: "Le reçu de votre demande\u{a0}:",

    confirm_heading: "Confirmer votre inscription",
    confirm_intro: "Appuyez sur le bouton pour confirmer que vous acceptez\u{a0}:",
    confirm_button: "Je confirme",
    confirm_done: "Merci, votre accord est confirmé pour\u{a0}:",
    confirm_nothing: "Il n'y avait plus rien à confirmer\u{a0}: votre accord était déjà enregistré.",
    unsubscribe_heading: "Se désinscrire",
    unsubscribe_intro: "Appuyez sur le bouton pour ne plus recevoir\u{a0}:",
    unsubscribe_button: "Me désinscrire",
    unsubscribe_done: "C'est fait\u{a0}: vous ne recevrez plus\u{a0}:",
    unsubscribe_nothing: "Vous étiez déjà désinscrit\u{a0}: il n'y a rien de plus à faire.",
    link_invalid: "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.",
    link_expired: "Ce lien a expiré. Vous pouvez renvoyer le formulaire pour en recevoir un nouveau.",
    link_used: "Ce lien a déjà été utilisé.",

    not_found_heading: "Page introuvable",
    not_found: "Cette page n'existe pas, ou plus. Vérifiez l'adresse.",
    too_large_heading: "Envoi trop volumineux",
    too_large: "Ce formulaire dépasse la taille acceptée (64 Ko). Raccourcissez votre message et envoyez à nouveau.",
    rate_limited_heading: "Trop d'envois",
    forged_heading: "Formulaire modifié",
    forged: "Ce formulaire a été modifié avant son envoi (une case ou un champ qu'il ne contient pas)\u{a0}: nous ne l'avons pas enregistré.",
    automated: "Un champ réservé à la détection des robots a été rempli\u{a0}: nous n'avons pas enregistré ce formulaire. Si vous êtes une personne, revenez au formulaire et laissez vide le champ «\u{a0}Laissez ce champ vide\u{a0}».",
    unsupported: "Ce formulaire doit être envoyé depuis notre page.",
    internal_heading: "Un problème est survenu",
    internal: "Nous n'avons pas pu traiter votre demande. Réessayez dans quelques instants.",
    nothing_recorded: "Rien n'a été enregistré.",

    mail_hello: "Bonjour,",
    mail_confirm_button: "Je confirme mon inscription",
    mail_ignore: "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail\u{a0}: vous ne recevrez rien, et la demande sera abandonnée dans 7 jours.",
    mail_unsubscribe: "Pour retirer votre accord à tout moment, en un clic\u{a0}:",
};

pub static EN: Messages = Messages {
    language: Language::En,
    language_name: "English",
    colon: ":",
    semicolon: ";",
    semicolon_space: "; ",
    skip_to_content: "Skip to content",
    language_switch: "Language",
    privacy_portal: "Your data, your rights",
    privacy_policy: "Privacy policy",
    powered_by: "GDPR compliance by Registre",

    required_legend: "Fields marked with an asterisk (*) are required.",
    required: "required",
    optional: "optional",
    choices_legend: "Your choices",
    choices_hint: "Optional: tick only what you want. You can change your mind at any time.",
    submit: "Send",
    error_summary: "The form was not sent. Please correct:",
    error_prefix: "Error: ",
    honeypot_label: "Leave this field empty",
    form_expired: "This form had expired. What you typed is kept below: check it and send again.",
    form_used: "This form was already sent. If you want to send a new request, check what you typed and send again.",
    form_invalid: "We could not check that this form comes from our site: nothing was recorded. Check what you typed and send again.",
    no_cookie: "Your browser did not send back our security cookie (it may block cookies in embedded frames): nothing was recorded.",
    open_in_new_tab: "Open the form in a new tab",
    double_opt_in_hint: "If you tick a box, we will email you to confirm: nothing is sent to you before you confirm.",

    first_layer_heading: "Your personal data",
    first_layer_why: "Why we collect it",
    first_layer_data: "Data collected",
    first_layer_required: "required:",
    first_layer_optional: "optional:",
    first_layer_who: "Controller",
    first_layer_dpo: "Data protection officer:",
    first_layer_rights: "You can access your data, have it corrected or erased, object to its use and withdraw your consent at any time,",
    first_layer_rights_no_consent: "You can access your data, have it corrected or erased and object to its use,",
    first_layer_rights_how: "in our “Your data, your rights” portal",
    first_layer_or_write: "or by writing to",
    first_layer_more: "Full information about your data",
    if_ticked: "if you tick its box",

    notice_heading: "Information about your personal data",
    notice_summary: "Learn more about how your data is used",
    notice_controller: "Controller",
    notice_contact: "Contact",
    notice_dpo: "Data protection officer (DPO)",
    notice_data: "The data this form collects",
    notice_field: "Field",
    notice_category: "Category",
    notice_status: "Status",
    notice_required_consequence: "Required fields are needed to handle your request: without them the form cannot be sent. Optional fields may be left empty with no consequence for you.",
    notice_purposes: "Purposes and legal bases",
    notice_basis: "Legal basis",
    notice_interest: "Legitimate interest pursued",
    notice_categories: "Data used",
    notice_retention: "Kept for",
    notice_recipients: "Recipients",
    notice_no_recipients: "Only our authorised staff",
    notice_transfers: "Transfers outside the European Union",
    notice_no_transfers: "None: the data stays in the European Economic Area.",
    notice_consent_note: "Only if you tick its box. You may withdraw this consent at any time, as easily as you gave it; withdrawing does not affect what was done before.",
    notice_rights: "Your rights",
    notice_rights_intro: "You have the right to:",
    right_access: "access your data and get a copy of it",
    right_rectification: "have it corrected",
    right_erasure: "have it erased",
    right_restriction: "have its processing restricted",
    right_objection: "object to its processing, and at any time to direct marketing",
    right_portability: "receive it in a structured format and have it sent to another organisation (portability)",
    notice_rights_how: "To use these rights, free of charge: use our “Your data, your rights” portal, or write to our data protection officer. We answer within one month.",
    notice_withdraw: "You can withdraw your consent at any time: with the link in each of our emails, in our “Your data, your rights” portal, or by writing to our data protection officer.",
    notice_complaint: "If you think your rights are not respected, you may complain to the supervisory authority:",
    notice_automated: "No automated decision, including profiling, is made on the basis of this data.",
    notice_double_opt_in: "When you tick a box, we email you to confirm: nothing is sent to you before you confirm, and an unconfirmed request lapses after 7 days.",
    notice_version: "Version of this information",
    notice_published: "published on",
    notice_past_version: "You are reading a past version of this information.",
    notice_current_version: "See the current version",
    notice_page_title: "Information about your data",

    thanks_heading: "Thank you, it is sent",
    thanks_recorded: "Your form was received and recorded.",
    thanks_granted: "You agreed to:",
    thanks_pending: "Check your inbox: we sent you a link to confirm:",
    thanks_pending_note: "Until you confirm, we will send you nothing. The link is valid for 7 days.",
    thanks_mail_failed: "We could not send the confirmation email just now. Your choices are on hold: please send the form again a little later.",
    thanks_none: "You did not tick any box: we will use your data only to answer this form, and send you no marketing.",
    thanks_withdraw_heading: "Changing your mind",
    thanks_withdraw: "You can withdraw your consent at any time, as easily as you gave it: with the link in each of our emails, in our “Your data, your rights” portal, or by writing to",
    download_heading: "Your document",
    download_note: "The download link is valid for 24 hours.",
    back_to_form: "Back to the form",

    nothing_chosen: "This form is only for signing up: tick at least one box to send it. Nothing was recorded.",
    not_found_back: "Back to the privacy home",
    hub_title: "Privacy and personal data",
    hub_forms: "Our forms",
    hub_forms_intro: "Each form says why it collects your data, before you send it.",
    hub_no_forms: "No form is published yet.",
    hub_used_for: "Used for:",
    hub_portal_text: "See your consents, withdraw them, download your data or make a request (access, erasure, objection…), with no password.",
    hub_policy_text: "Everything we do with your data: purposes, legal bases, recipients, retention periods, your rights.",
    hub_console: "Compliance console",
    hub_console_text: "You are signed in to the console: registers, requests, processors.",
    policy_where: "Where we collect your data",
    policy_processors: "Our processors and recipients",
    policy_processors_intro: "They process your data on our behalf, on our instructions and under contract (GDPR Article 28).",
    policy_no_processors: "No processor is registered: your data is handled by our staff only.",
    policy_recipient: "Recipient",
    policy_service: "Role",
    policy_country: "Country",
    policy_safeguard: "Safeguard",
    policy_in_eea: "in the European Economic Area",
    policy_no_safeguard: "no safeguard recorded",
    policy_cookies: "Cookies and trackers",
    policy_cookies_text: "The pages of this space (forms, the “Your data, your rights” portal) use strictly necessary cookies only, which need no consent: a form security cookie (12 hours) and the portal's session cookie (1 hour). No advertising or audience-measurement tracker is set on them.",
    policy_history: "Versions of this policy",
    policy_version: "Version",
    policy_first_seen: "In force since",
    policy_current: "current version",
    policy_past: "You are reading a past version of this policy.",
    policy_read: "Read",
    receipt_title: "Consent receipt",
    receipt_intro: "This receipt records your choice and when you made it. It is signed electronically: keep it as proof.",
    receipt_choice: "Your choice",
    receipt_purpose: "Purpose",
    receipt_when: "Date",
    receipt_how: "Collected through",
    receipt_notice: "Information given",
    receipt_notice_link: "Read the information as you saw it",
    receipt_reference: "Reference",
    receipt_signed_heading: "The signed receipt",
    receipt_signed_note: "The file below holds this receipt in the Kantara format, signed (JWS, EdDSA) with our register's public key: anyone can check it was not altered.",
    receipt_download: "Download the signed receipt (JSON)",
    receipt_link: "Your receipt",
    receipts_heading: "Your receipts",
    receipts_note: "Each link leads to the signed receipt of your choice: keep it.",
    mail_receipt: "The receipt of your request:",

    confirm_heading: "Confirm your subscription",
    confirm_intro: "Press the button to confirm that you agree to:",
    confirm_button: "I confirm",
    confirm_done: "Thank you, your consent is confirmed for:",
    confirm_nothing: "There was nothing left to confirm: your consent was already recorded.",
    unsubscribe_heading: "Unsubscribe",
    unsubscribe_intro: "Press the button to stop receiving:",
    unsubscribe_button: "Unsubscribe",
    unsubscribe_done: "Done: you will no longer receive:",
    unsubscribe_nothing: "You were already unsubscribed: there is nothing more to do.",
    link_invalid: "This link is not valid. Check that it was copied in full.",
    link_expired: "This link has expired. You can send the form again to get a new one.",
    link_used: "This link was already used.",

    not_found_heading: "Page not found",
    not_found: "This page does not exist, or no longer does. Check the address.",
    too_large_heading: "Too much data",
    too_large: "This form is larger than we accept (64 KB). Shorten your message and send it again.",
    rate_limited_heading: "Too many forms sent",
    forged_heading: "Altered form",
    forged: "This form was altered before it was sent (a box or a field it does not have): we did not record it.",
    automated: "A field meant to catch robots was filled in: we did not record this form. If you are a person, go back to the form and leave the “Leave this field empty” field empty.",
    unsupported: "This form must be sent from our page.",
    internal_heading: "Something went wrong",
    internal: "We could not handle your request. Please try again in a moment.",
    nothing_recorded: "Nothing was recorded.",

    mail_hello: "Hello,",
    mail_confirm_button: "Confirm my subscription",
    mail_ignore: "If you did not ask for this, ignore this email: you will receive nothing, and the request will lapse in 7 days.",
    mail_unsubscribe: "To withdraw your consent at any time, in one click:",
};

/// The messages of `language`.
pub fn messages(language: Language) -> &'static Messages {
    match language {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

impl Messages {
    pub fn other(&self) -> &'static Messages {
        match self.language {
            Language::Fr => &EN,
            Language::En => &FR,
        }
    }

    pub fn code(&self) -> &'static str {
        self.language.code()
    }

    pub fn field_problem(&self, label: &str, problem: FieldProblem) -> String {
        match (self.language, problem) {
            (Language::Fr, FieldProblem::Required) => {
                format!("«\u{a0}{label}\u{a0}» est obligatoire.")
            }
            (Language::En, FieldProblem::Required) => format!("“{label}” is required."),
            (Language::Fr, FieldProblem::TooLong { max }) => {
                format!("«\u{a0}{label}\u{a0}» ne peut dépasser {max} caractères.")
            }
            (Language::En, FieldProblem::TooLong { max }) => {
                format!("“{label}” can have at most {max} characters.")
            }
            (Language::Fr, FieldProblem::InvalidEmail) => {
                "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.".into()
            }
            (Language::En, FieldProblem::InvalidEmail) => {
                "Enter a valid email address, for example name@example.com.".into()
            }
            (Language::Fr, FieldProblem::ControlCharacters) => format!(
                "«\u{a0}{label}\u{a0}» contient des caractères invisibles ou un retour à la ligne\u{a0}: retirez-les."
            ),
            (Language::En, FieldProblem::ControlCharacters) => {
                format!("“{label}” contains invisible characters or a line break: remove them.")
            }
            (Language::Fr, FieldProblem::InvalidPhone) => {
                "Saisissez un numéro de téléphone, par exemple 01 23 45 67 89 ou +33 1 23 45 67 89."
                    .into()
            }
            (Language::En, FieldProblem::InvalidPhone) => {
                "Enter a phone number, for example +44 20 7946 0958.".into()
            }
            (Language::Fr, FieldProblem::InvalidDate) => {
                "Saisissez une date valide au format AAAA-MM-JJ.".into()
            }
            (Language::En, FieldProblem::InvalidDate) => {
                "Enter a valid date in the form YYYY-MM-DD.".into()
            }
        }
    }

    pub fn legal_basis(&self, basis: LegalBasis) -> &'static str {
        match (self.language, basis) {
            (Language::Fr, LegalBasis::Consent) => "votre consentement (art. 6.1.a du RGPD)",
            (Language::En, LegalBasis::Consent) => "your consent (GDPR Art. 6(1)(a))",
            (Language::Fr, LegalBasis::Contract) => {
                "l'exécution d'un contrat avec vous ou de mesures précontractuelles (art. 6.1.b)"
            }
            (Language::En, LegalBasis::Contract) => {
                "performing a contract with you, or steps before one (Art. 6(1)(b))"
            }
            (Language::Fr, LegalBasis::LegalObligation) => "une obligation légale (art. 6.1.c)",
            (Language::En, LegalBasis::LegalObligation) => "a legal obligation (Art. 6(1)(c))",
            (Language::Fr, LegalBasis::VitalInterests) => {
                "la sauvegarde d'intérêts vitaux (art. 6.1.d)"
            }
            (Language::En, LegalBasis::VitalInterests) => {
                "protecting vital interests (Art. 6(1)(d))"
            }
            (Language::Fr, LegalBasis::PublicTask) => "une mission d'intérêt public (art. 6.1.e)",
            (Language::En, LegalBasis::PublicTask) => {
                "a task in the public interest (Art. 6(1)(e))"
            }
            (Language::Fr, LegalBasis::LegitimateInterest) => "notre intérêt légitime (art. 6.1.f)",
            (Language::En, LegalBasis::LegitimateInterest) => {
                "our legitimate interest (Art. 6(1)(f))"
            }
        }
    }

    /// The short form used in the first layer.
    pub fn basis_short(&self, basis: LegalBasis) -> &'static str {
        match (self.language, basis) {
            (Language::Fr, LegalBasis::Consent) => "consentement",
            (Language::En, LegalBasis::Consent) => "consent",
            (Language::Fr, LegalBasis::Contract) => "contrat",
            (Language::En, LegalBasis::Contract) => "contract",
            (Language::Fr, LegalBasis::LegalObligation) => "obligation légale",
            (Language::En, LegalBasis::LegalObligation) => "legal obligation",
            (Language::Fr, LegalBasis::VitalInterests) => "intérêts vitaux",
            (Language::En, LegalBasis::VitalInterests) => "vital interests",
            (Language::Fr, LegalBasis::PublicTask) => "mission d'intérêt public",
            (Language::En, LegalBasis::PublicTask) => "public task",
            (Language::Fr, LegalBasis::LegitimateInterest) => "intérêt légitime",
            (Language::En, LegalBasis::LegitimateInterest) => "legitimate interest",
        }
    }

    pub fn safeguard(&self, safeguard: TransferSafeguard) -> &'static str {
        match (self.language, safeguard) {
            (Language::Fr, TransferSafeguard::Adequacy) => {
                "encadré par une décision d'adéquation de la Commission européenne"
            }
            (Language::En, TransferSafeguard::Adequacy) => {
                "covered by an adequacy decision of the European Commission"
            }
            (Language::Fr, TransferSafeguard::Scc) => {
                "encadré par les clauses contractuelles types de la Commission européenne"
            }
            (Language::En, TransferSafeguard::Scc) => {
                "covered by the European Commission's standard contractual clauses"
            }
            (Language::Fr, TransferSafeguard::Bcr) => {
                "encadré par des règles d'entreprise contraignantes"
            }
            (Language::En, TransferSafeguard::Bcr) => "covered by binding corporate rules",
            (Language::Fr, TransferSafeguard::Derogation) => {
                "sur le fondement d'une dérogation de l'article 49 du RGPD"
            }
            (Language::En, TransferSafeguard::Derogation) => "under a derogation of GDPR Art. 49",
        }
    }

    /// A retention period in the largest whole unit (one wording everywhere).
    pub fn retention(&self, days: i64) -> String {
        registre_domain::words::retention(days)
            .get(self.language)
            .to_string()
    }

    pub fn country(&self, code: &str) -> String {
        let known: &[(&str, &str, &str)] = &[
            ("US", "États-Unis", "United States"),
            ("GB", "Royaume-Uni", "United Kingdom"),
            ("CH", "Suisse", "Switzerland"),
            ("CA", "Canada", "Canada"),
            ("JP", "Japon", "Japan"),
            ("IN", "Inde", "India"),
            ("AU", "Australie", "Australia"),
            ("SG", "Singapour", "Singapore"),
            ("IL", "Israël", "Israel"),
            ("KR", "Corée du Sud", "South Korea"),
            ("BR", "Brésil", "Brazil"),
            ("CN", "Chine", "China"),
            ("MA", "Maroc", "Morocco"),
            ("TN", "Tunisie", "Tunisia"),
        ];
        match known.iter().find(|(c, _, _)| *c == code) {
            Some((_, fr, en)) => match self.language {
                Language::Fr => (*fr).to_string(),
                Language::En => (*en).to_string(),
            },
            None => code.to_string(),
        }
    }

    /// The day of an instant in `zone`, as people of this language write it.
    pub fn date(&self, at: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
        registre_domain::words::date(at, zone, self.language)
    }

    /// An instant in `zone`, with the zone named.
    pub fn date_time(&self, at: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
        registre_domain::words::date_time(at, zone, self.language)
    }

    pub fn hub_intro(&self, organisation: &str) -> String {
        match self.language {
            Language::Fr => format!(
                "Tout ce qui concerne vos données personnelles chez {organisation}\u{a0}: où nous les collectons, ce que nous en faisons, et comment exercer vos droits."
            ),
            Language::En => format!(
                "Everything about your personal data at {organisation}: where we collect it, what we do with it, and how to use your rights."
            ),
        }
    }

    pub fn policy_intro(&self, organisation: &str) -> String {
        match self.language {
            Language::Fr => format!(
                "Cette politique explique quelles données personnelles {organisation} traite, pourquoi, combien de temps, avec qui, et comment exercer vos droits. Elle est établie à partir de nos registres et change avec eux."
            ),
            Language::En => format!(
                "This policy explains which personal data {organisation} processes, why, for how long, with whom, and how to use your rights. It is drawn from our registers and changes with them."
            ),
        }
    }

    /// What a processor does, in words (`emailing`, `crm`...); an unknown kind as written.
    pub fn service_kind(&self, service: &str) -> String {
        let known: &[(&str, &str, &str)] = &[
            ("emailing", "envoi d'e-mails", "email sending"),
            (
                "crm",
                "gestion de la relation client",
                "customer relationship management",
            ),
            ("hosting", "hébergement", "hosting"),
            ("cms_hosting", "hébergement du site", "website hosting"),
            ("helpdesk", "assistance client", "customer support desk"),
            ("analytics", "mesure d'audience", "audience measurement"),
            ("payment", "paiement", "payment"),
        ];
        match known.iter().find(|(k, _, _)| *k == service) {
            Some((_, fr, en)) => match self.language {
                Language::Fr => (*fr).to_string(),
                Language::En => (*en).to_string(),
            },
            None => service.replace('_', " "),
        }
    }

    /// How a consent event came in, in words.
    pub fn consent_source(&self, source: registre_domain::ledger::ConsentSource) -> &'static str {
        use registre_domain::ledger::ConsentSource;
        match (self.language, source) {
            (Language::Fr, ConsentSource::Form) => "un formulaire",
            (Language::En, ConsentSource::Form) => "a form",
            (Language::Fr, ConsentSource::Portal) => {
                "l'espace «\u{a0}Vos données, vos droits\u{a0}»"
            }
            (Language::En, ConsentSource::Portal) => "the “Your data, your rights” portal",
            (Language::Fr, ConsentSource::Api) => "un de nos outils",
            (Language::En, ConsentSource::Api) => "one of our tools",
            (Language::Fr, ConsentSource::Import) => "la reprise d'un enregistrement antérieur",
            (Language::En, ConsentSource::Import) => "an import of an earlier record",
            (Language::Fr, ConsentSource::EmailLink) => "un lien dans un e-mail",
            (Language::En, ConsentSource::EmailLink) => "a link in an email",
            (Language::Fr, ConsentSource::System) => "notre système",
            (Language::En, ConsentSource::System) => "our system",
        }
    }

    pub fn rate_limited(&self, retry_after_seconds: u64) -> String {
        match self.language {
            Language::Fr => format!(
                "Vous avez envoyé beaucoup de formulaires en peu de temps. Rien n'a été enregistré pour ce dernier envoi : réessayez dans {retry_after_seconds} secondes."
            ),
            Language::En => format!(
                "You sent many forms in a short time. Nothing was recorded for this last one: try again in {retry_after_seconds} seconds."
            ),
        }
    }

    pub fn confirm_subject(&self, organisation: &str) -> String {
        match self.language {
            Language::Fr => format!("Confirmez votre inscription — {organisation}"),
            Language::En => format!("Confirm your subscription — {organisation}"),
        }
    }

    pub fn mail_confirm_intro(&self, organisation: &str, form: &str) -> String {
        match self.language {
            Language::Fr => format!(
                "Vous avez demandé, avec le formulaire «\u{a0}{form}\u{a0}» {}, à recevoir\u{a0}:",
                registre_domain::words::de(organisation)
            ),
            Language::En => {
                format!("Using the “{form}” form of {organisation}, you asked to receive:")
            }
        }
    }

    pub fn mail_confirm_validity(&self) -> &'static str {
        match self.language {
            Language::Fr => {
                "Confirmez en ouvrant ce lien (valable 7 jours), puis en appuyant sur «\u{a0}Je confirme\u{a0}»\u{a0}:"
            }
            Language::En => {
                "Confirm by opening this link (valid for 7 days) and pressing “I confirm”:"
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_said_in_the_largest_whole_unit() {
        assert_eq!(FR.retention(1095), "3 ans");
        assert_eq!(EN.retention(365), "1 year");
        assert_eq!(EN.retention(90), "3 months");
        assert_eq!(FR.retention(10), "10 jours");
    }

    #[test]
    fn each_language_points_to_the_other() {
        assert_eq!(FR.other().code(), "en");
        assert_eq!(EN.other().code(), "fr");
    }
}
