//! Every text of the console, in French and English: one typed table per language (a
//! text missing in one language does not compile). Texts with values in them are methods.
use registre_domain::{Language, Role};

macro_rules! texts {
    ($($name:ident: $fr:expr, $en:expr;)*) => {
        /// The console's texts in one language. Templates read them as `frame.t.name`.
        pub struct Texts {
            pub lang: &'static str,
            $(pub $name: &'static str,)*
        }
        pub const FR: Texts = Texts { lang: "fr", $($name: $fr,)* };
        pub const EN: Texts = Texts { lang: "en", $($name: $en,)* };
    };
}

texts! {
    console: "Console", "Console";
    skip: "Aller au contenu", "Skip to content";
    main_nav: "Navigation principale", "Main navigation";
    sign_out: "Se déconnecter", "Sign out";
    preferences_title: "Préférences", "Preferences";
    times_in: "Heures indiquées\u{a0}:", "Times shown:";
    nav_dashboard: "Tableau de bord", "Dashboard";
    nav_requests: "Demandes", "Requests";
    nav_consents: "Consentements", "Consents";
    nav_processors: "Sous-traitants", "Processors";
    nav_breaches: "Violations", "Breaches";
    nav_purposes: "Finalités", "Purposes";
    nav_touchpoints: "Points de contact", "Touchpoints";
    nav_ropa: "Registre des traitements", "Record of processing";
    nav_form_audit: "Audit de formulaire", "Form audit";
    nav_audit: "Journal d'audit", "Audit log";
    nav_ledger: "Preuves", "Ledger";
    nav_webhooks: "Webhooks", "Webhooks";
    nav_api_keys: "Clés d'API", "API keys";
    nav_users: "Utilisateurs", "Users";

    sign_in_title: "Connexion à la console", "Sign in to the console";
    sign_in_intro: "Réservé aux personnes chargées de la conformité de l'organisation.", "For the people in charge of the organisation's compliance.";
    email: "Adresse e-mail", "Email address";
    password: "Mot de passe", "Password";
    sign_in: "Se connecter", "Sign in";
    sign_in_refused: "Adresse e-mail ou mot de passe incorrect.", "Wrong email address or password.";
    sign_in_expired: "Le formulaire a expiré : merci de réessayer.", "The form expired: please try again.";
    unlock_mailed: "Ce compte est verrouillé après de nombreux échecs venus d'ailleurs. Le mot de passe est le bon : un lien pour ouvrir la session vient d'être envoyé à l'adresse du compte.", "This account is locked after many failures from elsewhere. The password is right: a link that opens the session was just sent to the account's address.";
    unlock_invalid: "Ce lien de déverrouillage n'est pas valable, a expiré ou a déjà servi : connectez-vous à nouveau.", "This unlock link is not valid, has expired or was already used: sign in again.";
    other_language: "English", "Français";

    error_title: "Une erreur est survenue", "Something went wrong";
    error_message: "L'erreur a été enregistrée. Réessayez dans un instant.", "The error was logged. Please try again in a moment.";
    forbidden_title: "Action non autorisée", "Not allowed";
    forbidden_message: "Votre rôle ne permet pas cette action. Rien n'a été modifié.", "Your role does not allow this action. Nothing was changed.";
    not_found_title: "Introuvable", "Not found";
    not_found_message: "Cet élément n'existe pas ou plus.", "This item does not exist or no longer exists.";
    invalid_title: "À corriger", "Needs correcting";
    csrf_failed: "Ce formulaire n'est plus valable (jeton de sécurité absent ou incorrect). Rechargez la page et recommencez. Rien n'a été modifié.", "This form is no longer valid (missing or wrong security token). Reload the page and try again. Nothing was changed.";
    back_to_dashboard: "Retour au tableau de bord", "Back to the dashboard";

    language: "Langue", "Language";
    time_zone: "Fuseau horaire", "Time zone";
    save: "Enregistrer", "Save";

    attention: "À traiter en priorité", "Needs attention first";
    nothing_urgent: "Rien d'urgent : aucune échéance dépassée ni proche.", "Nothing urgent: no deadline missed or near.";
    overdue_requests: "Demandes en retard", "Overdue requests";
    due_soon_requests: "Demandes à échéance sous 7 jours", "Requests due within 7 days";
    open_breaches: "Violations : délai de 72 heures", "Breaches: the 72-hour clock";
    processors_attention: "Sous-traitants à revoir ou non conformes", "Processors due for review or non-compliant";
    changed_notices: "Mentions d'information modifiées (30 jours)", "Notices changed (30 days)";
    consent_figures: "Consentements sur 30 jours", "Consents over 30 days";
    grants: "Accords", "Grants";
    withdrawals: "Retraits", "Withdrawals";
    opt_in_rates: "Taux d'acceptation par point de contact", "Opt-in rate per touchpoint";
    submissions: "Formulaires envoyés", "Forms sent";
    rate: "Taux", "Rate";
    no_figures: "Aucun consentement enregistré sur la période.", "No consent recorded over the period.";
    chart_caption: "Accords (barres pleines) et retraits (barres claires) par jour.", "Grants (solid bars) and withdrawals (light bars) per day.";
    overdue: "En retard", "Overdue";
    due: "Échéance", "Due";
    version: "Version", "Version";
    previous_version: "Version précédente", "Previous version";

    requests_title: "Demandes d'exercice de droits", "Rights requests";
    type_: "Type", "Type";
    status: "Statut", "Status";
    received: "Reçue le", "Received";
    channel: "Canal", "Channel";
    person: "Personne", "Person";
    all: "Toutes", "All";
    filter: "Filtrer", "Filter";
    no_requests: "Aucune demande ne correspond à ces critères.", "No request matches these criteria.";
    filter_status: "Filtrer par statut", "Filter by status";
    filter_due: "Filtrer par échéance", "Filter by deadline";
    all_deadlines: "Toutes échéances", "Any deadline";
    due_within_week: "Échéance sous 7 jours", "Due within 7 days";
    extended_tag: "prolongée", "extended";
    new_requests_title: "Nouvelles demandes à prendre en charge", "New requests to take on";
    mails_sent: "E-mails envoyés à la personne", "Mails sent to the person";
    no_mails: "Aucun e-mail envoyé à la personne pour l'instant.", "No mail sent to the person yet.";
    new_request: "Enregistrer une demande", "Record a request";
    details: "Précisions", "Details";
    identity_verified: "Identité vérifiée", "Identity verified";
    record: "Enregistrer", "Record";
    timeline: "Historique", "Timeline";
    step_received: "Demande reçue", "Request received";
    step_verified: "Identité vérifiée", "Identity verified";
    step_extended: "Délai prolongé de deux mois", "Deadline extended by two months";
    step_closed: "Demande close", "Request closed";
    step_due: "Échéance légale", "Legal deadline";
    actions: "Actions", "Actions";
    verify: "Identité vérifiée", "Identity checked";
    verify_how: "Comment l'identité a été vérifiée", "How identity was checked";
    start: "Commencer le traitement", "Start work";
    fulfil: "Exécuter la demande", "Fulfil the request";
    fulfil_hint: "Exécute la demande (export, effacement, limitation, opposition…) et prévient la personne.", "Carries the request out (export, erasure, restriction, objection…) and tells the person.";
    new_email: "Nouvelle adresse e-mail (rectification)", "New email address (rectification)";
    extend: "Prolonger de deux mois", "Extend by two months";
    extend_reason: "Motif communiqué à la personne", "Reason given to the person";
    refuse: "Refuser", "Refuse";
    refuse_reason: "Motif du refus communiqué à la personne", "Reason for refusal given to the person";
    reason: "Motif", "Reason";
    export_link: "Lien vers l'export", "Export link";
    certificate: "Certificat d'effacement", "Erasure certificate";
    erased_person: "Personne effacée", "Person erased";
    closed_request: "Cette demande est close.", "This request is closed.";
    read_only: "Votre rôle permet de consulter, pas de modifier.", "Your role can read, not change.";

    consents_title: "Consentements", "Consents";
    find_person: "Retrouver une personne", "Find a person";
    find_hint: "La recherche passe par l'index aveugle : l'adresse n'apparaît ni dans l'URL ni dans les journaux.", "The search goes through the blind index: the address appears neither in the URL nor in the logs.";
    search: "Rechercher", "Search";
    unknown_person: "Aucune personne connue sous cette adresse.", "No person is known under this address.";
    purpose: "Finalité", "Purpose";
    state: "État", "State";
    since: "Depuis", "Since";
    history: "Historique", "History";
    receipt: "Reçu signé", "Signed receipt";
    source: "Source", "Source";
    action: "Action", "Action";
    record_consent: "Enregistrer un consentement", "Record a consent";
    grant: "Accord", "Grant";
    withdraw: "Retrait", "Withdrawal";

    processors_title: "Sous-traitants et outils", "Processors and tools";
    name: "Nom", "Name";
    service: "Service", "Service";
    country: "Pays", "Country";
    risk: "Risque", "Risk";
    review_due: "Prochaine revue", "Next review";
    findings: "Constats", "Findings";
    no_findings: "Aucun constat.", "No finding.";
    questionnaire: "Questionnaire", "Questionnaire";
    not_answered: "Pas encore de réponses.", "No answers yet.";
    evidence: "Justificatifs", "Evidence";
    no_evidence: "Aucun fichier.", "No file.";
    chain: "Chaîne de sous-traitance", "Sub-processor chain";
    questionnaire_link: "Envoyer le questionnaire", "Send the questionnaire";
    questionnaire_link_hint: "Envoie par e-mail au contact du sous-traitant un lien personnel (affiché ici aussi) ; ses réponses arrivent en brouillon, à accepter ou à renvoyer.", "Mails the processor's contact a personal link (also shown here); their answers arrive as a draft, to accept or send back.";
    link_created: "Lien à transmettre (valable 30 jours) :", "Link to pass on (valid 30 days):";
    draft_pending: "Des réponses du sous-traitant attendent votre validation.", "The processor's answers wait for your acceptance.";
    accept_draft: "Accepter les réponses", "Accept the answers";
    dpa_signed: "Contrat (art. 28) signé le", "DPA (Art. 28) signed";
    transfer: "Transfert", "Transfer";
    subprocessors: "Sous-traitants ultérieurs", "Sub-processors";
    new_processor: "Ajouter un sous-traitant", "Add a processor";
    add: "Ajouter", "Add";
    contact_email: "Contact du sous-traitant (e-mail)", "Processor's contact (email)";
    contact_hint: "Le questionnaire est envoyé à cette adresse.", "The questionnaire is mailed to this address.";
    dpa_reference: "Contrat : document ou référence", "DPA: document or reference";
    processor_role_label: "Qualité", "Role";
    transfer_none: "Aucun (pays de l'EEE)", "None (EEA country)";
    subprocessors_hint: "Noms séparés par des virgules, tels qu'inscrits au registre.", "Names separated by commas, as written in the register.";
    no_processors: "Aucun sous-traitant inscrit : ajoutez vos outils (emailing, CRM, hébergement…) ci-dessous.", "No processor registered yet: add your tools (emailing, CRM, hosting…) below.";
    no_choices: "Aucun élément dans le registre.", "Nothing in the register yet.";
    edit_processor: "Modifier le sous-traitant", "Edit the processor";
    draft_answers: "Réponses reçues du sous-traitant", "Answers received from the processor";
    submitted_on: "Envoyées le", "Sent on";
    if_accepted: "Si vous acceptez", "If you accept";
    return_draft: "Renvoyer pour correction", "Send back for correction";
    return_comment: "Ce qu'il faut corriger (envoyé au sous-traitant)", "What to correct (sent to the processor)";
    mailed_to: "Questionnaire envoyé par e-mail à", "Questionnaire mailed to";
    returned_to: "Réponses renvoyées pour correction ; e-mail envoyé à", "Answers sent back for correction; mail sent to";
    no_contact: "Aucun contact n'est renseigné pour ce sous-traitant : aucun e-mail n'est parti. Transmettez le lien vous-même ou ajoutez un contact.", "No contact is set for this processor: no mail went out. Pass the link on yourself or add a contact.";
    returned_no_contact: "Réponses renvoyées pour correction. Aucun contact n'est renseigné : transmettez le lien vous-même.", "Answers sent back for correction. No contact is set: pass the link on yourself.";
    question: "Question", "Question";
    answer: "Réponse", "Answer";
    yes: "Oui", "Yes";
    no: "Non", "No";

    breaches_title: "Violations de données", "Data breaches";
    aware_at: "Connue le", "Aware";
    notify_by: "Notifier la CNIL avant", "Notify the authority by";
    authority: "Autorité", "Authority";
    people: "Personnes", "People";
    description: "Description", "Description";
    subjects_affected: "Personnes concernées", "People affected";
    records_affected: "Enregistrements concernés", "Records affected";
    consequences: "Conséquences probables", "Likely consequences";
    measures: "Mesures prises", "Measures taken";
    no_breaches: "Aucune violation enregistrée.", "No breach recorded.";
    new_breach: "Déclarer une violation", "Record a breach";
    notifications: "Notifications", "Notifications";
    log_notification: "Consigner une notification", "Log a notification";
    recipient: "Destinataire", "Recipient";
    reference: "Référence", "Reference";
    notification_text: "Texte de notification pré-rempli", "Pre-filled notification text";
    data_categories: "Catégories de données", "Data categories";
    occurred_at: "Survenue le", "Occurred";
    occurred_hint: "Date de la violation elle-même, si elle est connue (la notification à la CNIL la demande).", "When the breach itself happened, if known (the notification to the authority asks for it).";
    unknown_date: "Inconnue", "Unknown";
    invalid_date: "date et heure attendues", "a date and time is expected";
    breach_nature_label: "Nature de la violation", "Nature of the breach";
    breach_processor: "Sous-traitant à l'origine", "Processor it came from";
    no_processor: "Aucun", "None";
    edit_breach: "Modifier la violation", "Edit the breach";
    no_notifications: "Aucune notification consignée.", "No notification logged.";
    channel_example: "formulaire en ligne de la CNIL, e-mail…", "the authority's online form, email…";
    subjects_to_tell: "Les personnes doivent être informées (risque élevé).", "The people must be told (high risk).";

    purposes_title: "Finalités", "Purposes";
    key: "Clé", "Key";
    legal_basis: "Base légale", "Legal basis";
    retention: "Conservation", "Retention";
    retention_days: "Durée de conservation (jours)", "Retention period (days)";
    title_fr: "Intitulé (français)", "Title (French)";
    title_en: "Intitulé (anglais)", "Title (English)";
    description_fr: "Description (français)", "Description (French)";
    description_en: "Description (anglais)", "Description (English)";
    edit: "Modifier", "Edit";
    recipients: "Destinataires", "Recipients";

    touchpoints_title: "Points de contact", "Touchpoints";
    purposes: "Finalités", "Purposes";
    fields: "Champs", "Fields";
    double_opt_in: "Double confirmation par e-mail", "Double opt-in by email";
    preview: "Aperçu", "Preview";
    publish: "Publier", "Publish";
    preview_intro: "Aperçu du formulaire et de sa mention d'information, dans les deux langues. Rien n'est publié tant que vous ne cliquez pas sur « Publier ».", "Preview of the form and its notice, in both languages. Nothing is published until you click \"Publish\".";
    published: "Publié : nouvelle version de la mention", "Published: new notice version";
    unchanged: "La mention n'a pas changé : la version publiée reste la même.", "The notice did not change: the published version stays.";
    changes: "Ce qui a changé depuis la version précédente", "What changed since the previous version";
    form_preview: "Le formulaire", "The form";
    notice_preview: "La mention d'information", "The notice";
    open_form: "Ouvrir le formulaire public", "Open the public form";
    notice_versions: "Versions de la mention", "Notice versions";
    french: "Français", "French";
    english: "Anglais", "English";

    ropa_title: "Registre des activités de traitement", "Record of processing activities";
    ropa_intro: "Établi à partir des finalités, des points de contact et des sous-traitants : rien n'est saisi deux fois (art. 30).", "Derived from the purposes, touchpoints and processors: nothing is typed twice (Art. 30).";
    ropa_print: "Version imprimable", "Print-ready version";
    ropa_csv: "Télécharger en CSV", "Download as CSV";
    activities: "Activités", "Activities";

    form_audit_title: "Audit d'un formulaire", "Audit a form";
    form_audit_intro: "Collez le code HTML d'une page ou donnez son adresse : chaque formulaire est vérifié (cases pré-cochées, consentements groupés, mentions manquantes…).", "Paste a page's HTML or give its address: each form is checked (pre-ticked boxes, bundled consents, missing information…).";
    html: "Code HTML", "HTML";
    url: "Adresse de la page (https://…)", "Page address (https://…)";
    audit: "Auditer", "Audit";
    errors: "Erreurs", "Errors";
    warnings: "Avertissements", "Warnings";
    form: "Formulaire", "Form";
    no_forms: "Aucun formulaire collectant des données personnelles.", "No form collecting personal data.";
    no_problem: "Aucun problème relevé.", "No problem found.";

    audit_title: "Journal d'audit", "Audit log";
    at: "Date", "When";
    actor: "Auteur", "Actor";
    target: "Objet", "Target";
    older: "Plus anciens", "Older";
    all_actors: "Tous les auteurs", "All actors";
    all_registers: "Tous les registres", "All registers";
    register: "Registre", "Register";
    from_day: "Du", "From";
    to_day: "Au (inclus)", "To (included)";
    no_audit_entries: "Aucune entrée ne correspond à ces critères.", "No entry matches these criteria.";
    actor_cli: "Ligne de commande", "Command line";
    actor_system: "Registre (tâche automatique)", "Registre (automatic task)";
    actor_public: "Visiteur (formulaire public)", "Visitor (public form)";
    actor_vendor: "Sous-traitant (questionnaire)", "Processor (questionnaire)";
    actor_download: "Lien de téléchargement", "Download link";
    actor_unknown: "Compte supprimé", "Deleted account";
    api_key_named: "Clé d'API", "API key";

    ledger_title: "Registre de preuves", "Ledger";
    ledger_intro: "Chaque consentement est un maillon d'une chaîne de hachage ; des points de contrôle signés figent sa tête.", "Each consent is a link of a hash chain; signed checkpoints fix its head.";
    length: "Longueur", "Length";
    head: "Tête", "Head";
    last_checkpoint: "Dernier point de contrôle", "Last checkpoint";
    none: "Aucun", "None";
    verify_ledger: "Vérifier toute la chaîne", "Verify the whole chain";
    sign_checkpoint: "Signer un point de contrôle", "Sign a checkpoint";
    ledger_ok: "La chaîne est intacte.", "The chain is intact.";
    ledger_broken: "La chaîne est rompue à partir de l'événement", "The chain is broken from event";
    checkpoints_verified: "Points de contrôle vérifiés", "Checkpoints verified";
    audit_chain: "Chaîne du journal d'audit", "Audit log chain";

    webhooks_title: "Webhooks", "Webhooks";
    events: "Événements", "Events";
    active: "Actif", "Active";
    deliveries: "Envois récents", "Recent deliveries";
    attempts: "Tentatives", "Attempts";
    last_error: "Dernière erreur", "Last error";
    no_webhooks: "Aucun abonnement.", "No subscription.";
    no_deliveries: "Aucun envoi.", "No delivery.";
    new_webhook: "Ajouter un abonnement", "Add a subscription";
    secret_once: "Secret de signature (affiché une seule fois) :", "Signing secret (shown once):";
    delete: "Supprimer", "Delete";

    api_keys_title: "Clés d'API", "API keys";
    prefix: "Début de la clé", "Key prefix";
    role: "Rôle", "Role";
    created: "Créée le", "Created";
    revoked: "Révoquée le", "Revoked";
    revoke: "Révoquer", "Revoke";
    new_key: "Créer une clé", "Create a key";
    key_once: "Nouvelle clé (affichée une seule fois, copiez-la maintenant) :", "New key (shown once, copy it now):";

    users_title: "Utilisateurs de la console", "Console users";
    new_user: "Créer un utilisateur", "Create a user";
    password_hint: "12 caractères au moins.", "At least 12 characters.";
    state_label: "État", "State";
    user_active: "Actif", "Active";
    user_disabled: "Désactivé", "Disabled";
    disable: "Désactiver", "Disable";
    enable: "Réactiver", "Enable";
    change_role: "Changer le rôle", "Change the role";
    reset_password: "Envoyer un lien de nouveau mot de passe", "Mail a new password link";
    choose_role: "Choisissez un rôle.", "Choose a role.";
    last_admin: "L'organisation doit garder au moins un administrateur actif : rien n'a été modifié.", "The organisation must keep at least one active administrator: nothing was changed.";
    no_users: "Aucun utilisateur : créez-en un ci-dessous.", "No user yet: create one below.";
    no_api_keys: "Aucune clé d'API : créez-en une ci-dessous pour relier un outil (CRM, site, emailing).", "No API key yet: create one below to connect a tool (CRM, website, emailing).";
    no_purposes_yet: "Aucune finalité n'est déclarée : ajoutez-en une par l'API ou chargez l'organisation de démonstration.", "No purpose is declared yet: add one through the API or load the demo organisation.";
    no_touchpoints_yet: "Aucun formulaire n'est publié : publiez-en un depuis le catalogue ou par l'API.", "No form is published yet: publish one from the catalogue or through the API.";
    no_activities: "Le registre est vide tant qu'aucune finalité n'est déclarée.", "The record is empty until a purpose is declared.";
    reset_title: "Choisir un nouveau mot de passe", "Choose a new password";
    new_password: "Nouveau mot de passe", "New password";
    confirm_password: "Le même, une seconde fois", "The same again";
    passwords_differ: "Les deux mots de passe ne sont pas identiques.", "The two passwords differ.";
    reset_done: "Mot de passe enregistré. Vous pouvez vous connecter.", "Password saved. You can sign in.";
    reset_expired: "Ce lien a expiré : demandez-en un autre à votre administrateur.", "This link has expired: ask your administrator for another one.";
    reset_used: "Ce lien a déjà servi.", "This link was already used.";
    reset_invalid: "Ce lien n'est pas valable.", "This link is not valid.";
}

pub fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

impl Texts {
    pub fn language(&self) -> Language {
        Language::parse(self.lang).unwrap_or_default()
    }

    pub fn is_fr(&self) -> bool {
        self.lang == "fr"
    }

    pub fn role(&self, role: Role) -> &'static str {
        match (role, self.is_fr()) {
            (Role::Admin, true) => "administrateur",
            (Role::Admin, false) => "administrator",
            (Role::Dpo, true) => "DPO",
            (Role::Dpo, false) => "DPO",
            (Role::Agent, true) => "agent",
            (Role::Agent, false) => "agent",
            (Role::Auditor, true) => "auditeur",
            (Role::Auditor, false) => "auditor",
        }
    }

    pub fn locked(&self, minutes: i64) -> String {
        if self.is_fr() {
            format!(
                "Trop d'échecs de connexion : ce compte est bloqué pendant encore {minutes} min."
            )
        } else {
            format!("Too many failed sign-ins: this account is locked for {minutes} more min.")
        }
    }

    /// What the last action did (`?done=` after a redirect).
    pub fn done(&self, key: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match key {
            "preferences" => ("Préférences enregistrées.", "Preferences saved."),
            "verified" => (
                "Identité marquée comme vérifiée.",
                "Identity marked as checked.",
            ),
            "started" => ("Traitement commencé.", "Work started."),
            "extended" => (
                "Délai prolongé ; la personne en est informée.",
                "Deadline extended; the person is told.",
            ),
            "refused" => (
                "Demande refusée ; la personne en est informée.",
                "Request refused; the person is told.",
            ),
            "fulfilled" => (
                "Demande exécutée ; la personne en est informée.",
                "Request fulfilled; the person is told.",
            ),
            "created" => ("Enregistré.", "Recorded."),
            "notified" => ("Notification consignée.", "Notification logged."),
            "accepted" => ("Réponses acceptées.", "Answers accepted."),
            "saved" => ("Modifications enregistrées.", "Changes saved."),
            "revoked" => ("Clé révoquée.", "Key revoked."),
            "deleted" => ("Supprimé.", "Deleted."),
            "checkpoint" => ("Point de contrôle signé.", "Checkpoint signed."),
            "role_changed" => (
                "Rôle modifié ; l'utilisateur devra se reconnecter.",
                "Role changed; the user will sign in again.",
            ),
            "disabled" => (
                "Utilisateur désactivé ; ses sessions sont fermées.",
                "User disabled; their sessions are closed.",
            ),
            "enabled" => ("Utilisateur réactivé.", "User enabled again."),
            "reset_sent" => (
                "Lien de nouveau mot de passe envoyé par e-mail.",
                "New password link mailed.",
            ),
            _ => ("Fait.", "Done."),
        };
        if fr { f } else { e }
    }

    pub fn request_type(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "access" => ("Accès (art. 15)", "Access (Art. 15)"),
            "rectification" => ("Rectification (art. 16)", "Rectification (Art. 16)"),
            "erasure" => ("Effacement (art. 17)", "Erasure (Art. 17)"),
            "restriction" => ("Limitation (art. 18)", "Restriction (Art. 18)"),
            "portability" => ("Portabilité (art. 20)", "Portability (Art. 20)"),
            "objection" => ("Opposition (art. 21)", "Objection (Art. 21)"),
            _ => ("Autre", "Other"),
        };
        if fr { f } else { e }
    }

    pub fn request_status(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "received" => ("Reçue", "Received"),
            "verified" => ("Identité vérifiée", "Verified"),
            "in_progress" => ("En cours", "In progress"),
            "completed" => ("Exécutée", "Completed"),
            "refused" => ("Refusée", "Refused"),
            _ => ("—", "—"),
        };
        if fr { f } else { e }
    }

    pub fn consent_state(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "granted" => ("Accordé", "Granted"),
            "withdrawn" => ("Retiré", "Withdrawn"),
            "pending" => ("En attente de confirmation", "Pending confirmation"),
            "expired" => ("Expiré", "Expired"),
            "restricted" => ("Limité", "Restricted"),
            "objected" => ("Opposition", "Objected"),
            "erased" => ("Effacé", "Erased"),
            "none" => ("Aucun", "None"),
            _ => ("—", "—"),
        };
        if fr { f } else { e }
    }

    pub fn consent_action(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "grant" => ("Accord", "Grant"),
            "withdraw" => ("Retrait", "Withdrawal"),
            "grant_pending" => ("Accord à confirmer", "Grant to confirm"),
            "expire" => ("Expiration", "Expiry"),
            "restrict" => ("Limitation", "Restriction"),
            "lift_restriction" => ("Fin de limitation", "Restriction lifted"),
            "object" => ("Opposition", "Objection"),
            "erase" => ("Effacement", "Erasure"),
            _ => ("—", "—"),
        };
        if fr { f } else { e }
    }

    pub fn processor_status(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "pending_assessment" => ("À évaluer", "To assess"),
            "compliant" => ("Conforme", "Compliant"),
            "needs_attention" => ("À surveiller", "Needs attention"),
            "non_compliant" => ("Non conforme", "Non-compliant"),
            _ => ("—", "—"),
        };
        if fr { f } else { e }
    }

    pub fn risk(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "unknown" => ("Inconnu", "Unknown"),
            "low" => ("Faible", "Low"),
            "medium" => ("Moyen", "Medium"),
            "high" => ("Élevé", "High"),
            "unlikely" => ("Improbable", "Unlikely"),
            "risk" => ("Risque", "Risk"),
            _ => ("—", "—"),
        };
        if fr { f } else { e }
    }

    pub fn deadline(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "not_required" => ("Non requise", "Not required"),
            "running" => ("Délai en cours", "Clock running"),
            "overdue" => ("Délai dépassé", "Overdue"),
            "met" => ("Notifiée à temps", "Notified in time"),
            "notified_late" => ("Notifiée en retard", "Notified late"),
            _ => ("—", "—"),
        };
        if fr { f } else { e }
    }

    pub fn recipient(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "authority" => ("Autorité de contrôle", "Supervisory authority"),
            "subjects" => ("Personnes concernées", "People affected"),
            "processor" => ("Sous-traitant", "Processor"),
            _ => ("Autre responsable", "Other controller"),
        };
        if fr { f } else { e }
    }

    /// What a processor's service code means (`crm` → "CRM (customer relations)").
    pub fn service_label(&self, raw: &str) -> String {
        let words = registre_domain::words::service(raw);
        if self.is_fr() { words.fr } else { words.en }
    }

    /// A legal basis (Art. 6) in words.
    pub fn legal_basis(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "consent" => ("Consentement", "Consent"),
            "contract" => ("Exécution d'un contrat", "Performance of a contract"),
            "legal_obligation" => ("Obligation légale", "Legal obligation"),
            "vital_interests" => ("Intérêts vitaux", "Vital interests"),
            "public_task" => ("Mission d'intérêt public", "Public task"),
            "legitimate_interest" => ("Intérêt légitime", "Legitimate interest"),
            _ => ("—", "—"),
        };
        if fr { f } else { e }
    }

    /// A retention period as people say it: "3 ans", "6 mois", "45 jours".
    pub fn retention_words(&self, days: impl std::borrow::Borrow<i64>) -> String {
        let words = registre_domain::words::retention(*days.borrow());
        if self.is_fr() { words.fr } else { words.en }
    }

    /// Where a consent event came from.
    pub fn consent_source(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "form" => ("Formulaire", "Form"),
            "portal" => ("Portail de la personne", "The person's portal"),
            "api" => ("API", "API"),
            "import" => ("Import", "Import"),
            "email_link" => ("Lien reçu par e-mail", "Link in an email"),
            "system" => ("Registre (automatique)", "Registre (automatic)"),
            _ => ("—", "—"),
        };
        if fr { f } else { e }
    }

    /// How a breach notification was made; a channel typed by hand is shown as typed.
    pub fn notification_channel(&self, raw: &str) -> String {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "cnil_online_form" => (
                "Téléservice de notification de la CNIL",
                "The CNIL's online notification form",
            ),
            "online_form" => ("Formulaire en ligne", "Online form"),
            "email" => ("E-mail", "Email"),
            "letter" | "post" => ("Courrier", "Letter"),
            "phone" => ("Téléphone", "Phone"),
            other => return other.replace('_', " "),
        };
        if fr { f } else { e }.to_string()
    }

    /// A form auditor finding's level.
    pub fn finding_level(&self, raw: &str) -> &'static str {
        match (raw, self.is_fr()) {
            ("error", true) => "Erreur",
            ("error", false) => "Error",
            ("warning", true) => "Avertissement",
            ("warning", false) => "Warning",
            (_, true) => "Remarque",
            (_, false) => "Note",
        }
    }

    /// How a request came in.
    pub fn request_channel(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "portal" => ("Portail de la personne", "The person's portal"),
            "api" => ("Saisie par l'équipe", "Recorded by the team"),
            _ => ("Autre", "Other"),
        };
        if fr { f } else { e }
    }

    /// The nature of a breach (confidentiality, integrity, availability) in words.
    pub fn breach_nature(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "confidentiality" => (
                "Confidentialité (divulgation ou accès non autorisé)",
                "Confidentiality (unauthorised disclosure or access)",
            ),
            "integrity" => (
                "Intégrité (modification non autorisée)",
                "Integrity (unauthorised alteration)",
            ),
            _ => (
                "Disponibilité (perte ou indisponibilité)",
                "Availability (loss or unavailability)",
            ),
        };
        if fr { f } else { e }
    }

    /// A register of the audit log (the part of an action before the dot).
    pub fn register_label(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "processor" => ("Sous-traitants", "Processors"),
            "breach" => ("Violations", "Breaches"),
            "request" | "requests" => ("Demandes", "Requests"),
            "purpose" => ("Finalités", "Purposes"),
            "touchpoint" => ("Points de contact", "Touchpoints"),
            "consent" | "consents" => ("Consentements", "Consents"),
            "subject" | "subjects" => ("Personnes", "People"),
            "user" => ("Utilisateurs", "Users"),
            "api_key" => ("Clés d'API", "API keys"),
            "webhook" => ("Webhooks", "Webhooks"),
            "organisation" => ("Organisation", "Organisation"),
            "ledger" => ("Preuves", "Ledger"),
            "retention" => ("Conservation", "Retention"),
            "data_category" => ("Catégories de données", "Data categories"),
            "erasure_certificate" => ("Certificats d'effacement", "Erasure certificates"),
            "backup" => ("Sauvegardes", "Backups"),
            _ => ("Autre", "Other"),
        };
        if fr { f } else { e }
    }

    /// An audit log action in words; one not known here is shown without its dots and
    /// underscores.
    pub fn audit_action(&self, raw: &str) -> String {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "api_key.created" => ("Clé d'API créée", "API key created"),
            "api_key.revoked" => ("Clé d'API révoquée", "API key revoked"),
            "backup.erasures_reapplied" => (
                "Effacements réappliqués après restauration",
                "Erasures reapplied after a restore",
            ),
            "breach.notification_logged" => (
                "Notification de violation consignée",
                "Breach notification logged",
            ),
            "breach.recorded" => ("Violation déclarée", "Breach recorded"),
            "breach.updated" => ("Violation modifiée", "Breach edited"),
            "consent.granted" => ("Consentement accordé", "Consent granted"),
            "consent.withdrawn" => ("Consentement retiré", "Consent withdrawn"),
            "consents.bulk_recorded" => (
                "Consentements enregistrés en lot",
                "Consents recorded in bulk",
            ),
            "consents.imported" => ("Consentements importés", "Consents imported"),
            "data_category.created" => ("Catégorie de données créée", "Data category created"),
            "erasure_certificate.created" => {
                ("Certificat d'effacement émis", "Erasure certificate issued")
            }
            "ledger.checkpoint_signed" => ("Point de contrôle signé", "Checkpoint signed"),
            "organisation.updated" => ("Organisation modifiée", "Organisation edited"),
            "processor.assessed" => ("Sous-traitant évalué", "Processor assessed"),
            "processor.assessment_draft_accepted" => (
                "Réponses du sous-traitant acceptées",
                "Processor's answers accepted",
            ),
            "processor.assessment_draft_discarded" => (
                "Réponses du sous-traitant écartées",
                "Processor's answers discarded",
            ),
            "processor.assessment_draft_returned" => (
                "Réponses renvoyées au sous-traitant pour correction",
                "Answers sent back to the processor for correction",
            ),
            "processor.created" => ("Sous-traitant ajouté", "Processor added"),
            "processor.evidence_uploaded" => ("Justificatif déposé", "Evidence uploaded"),
            "processor.questionnaire_link_created" => (
                "Questionnaire envoyé au sous-traitant",
                "Questionnaire sent to the processor",
            ),
            "processor.questionnaire_submitted" => (
                "Questionnaire rempli par le sous-traitant",
                "Questionnaire answered by the processor",
            ),
            "processor.updated" => ("Sous-traitant modifié", "Processor edited"),
            "purpose.created" => ("Finalité créée", "Purpose created"),
            "purpose.updated" => ("Finalité modifiée", "Purpose edited"),
            "request.completed" => ("Demande exécutée", "Request fulfilled"),
            "request.created" => ("Demande enregistrée", "Request recorded"),
            "request.due_soon" => (
                "Rappel : demande bientôt à échéance",
                "Reminder: request due soon",
            ),
            "request.extended" => ("Délai de la demande prolongé", "Request deadline extended"),
            "request.refused" => ("Demande refusée", "Request refused"),
            "request.restriction_lifted" => ("Limitation levée", "Restriction lifted"),
            "request.started" => (
                "Traitement de la demande commencé",
                "Work on the request started",
            ),
            "request.verified" => (
                "Identité du demandeur vérifiée",
                "Requester's identity checked",
            ),
            "requests.forgotten" => ("Demandes anciennes oubliées", "Old requests forgotten"),
            "requests.sealed" => ("Demandes scellées", "Requests sealed"),
            "retention.applied" => (
                "Durées de conservation appliquées",
                "Retention periods applied",
            ),
            "retention.submissions_deleted" => (
                "Formulaires expirés supprimés",
                "Expired form submissions deleted",
            ),
            "subject.erased" => ("Personne effacée", "Person erased"),
            "subject.exported" => (
                "Données d'une personne exportées",
                "A person's data exported",
            ),
            "subject.objected" => ("Opposition enregistrée", "Objection recorded"),
            "subject.partially_erased" => {
                ("Personne partiellement effacée", "Person partly erased")
            }
            "subject.rectified" => (
                "Données d'une personne rectifiées",
                "A person's data rectified",
            ),
            "subject.restricted" => (
                "Traitement limité pour une personne",
                "Processing restricted for a person",
            ),
            "subject.restriction_lifted" => (
                "Limitation levée pour une personne",
                "Restriction lifted for a person",
            ),
            "touchpoint.created" => ("Point de contact créé", "Touchpoint created"),
            "touchpoint.updated" => ("Point de contact modifié", "Touchpoint edited"),
            "user.created" => ("Utilisateur créé", "User created"),
            "user.locked_out" => (
                "Compte bloqué après des échecs de connexion",
                "Account locked after failed sign-ins",
            ),
            "user.preferences_changed" => ("Préférences modifiées", "Preferences changed"),
            "user.sign_in_failed" => ("Échec de connexion", "Failed sign-in"),
            "user.signed_in" => ("Connexion", "Signed in"),
            "user.signed_out" => ("Déconnexion", "Signed out"),
            "user.disabled" => ("Utilisateur désactivé", "User disabled"),
            "user.enabled" => ("Utilisateur réactivé", "User enabled again"),
            "user.role_changed" => ("Rôle modifié", "Role changed"),
            "user.password_reset_sent" => (
                "Lien de réinitialisation du mot de passe envoyé",
                "Password reset link sent",
            ),
            "user.password_reset" => ("Mot de passe réinitialisé", "Password reset"),
            "webhook.created" => ("Webhook ajouté", "Webhook added"),
            "webhook.deleted" => ("Webhook supprimé", "Webhook deleted"),
            other => return other.replace(['.', '_'], " "),
        };
        if fr { f } else { e }.to_string()
    }

    /// A Chapter V transfer safeguard in words.
    pub fn safeguard(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "adequacy" => (
                "Décision d'adéquation (art. 45)",
                "Adequacy decision (Art. 45)",
            ),
            "scc" => (
                "Clauses contractuelles types (art. 46)",
                "Standard contractual clauses (Art. 46)",
            ),
            "bcr" => (
                "Règles d'entreprise contraignantes (art. 47)",
                "Binding corporate rules (Art. 47)",
            ),
            "derogation" => ("Dérogation (art. 49)", "Derogation (Art. 49)"),
            _ => ("Aucune garantie", "No safeguard"),
        };
        if fr { f } else { e }
    }

    /// What an entry of the processor register is to the organisation.
    pub fn processor_role(&self, raw: &str) -> &'static str {
        let fr = self.is_fr();
        let (f, e) = match raw {
            "processor" => ("Sous-traitant (art. 28)", "Processor (Art. 28)"),
            "subprocessor" => ("Sous-traitant ultérieur", "Sub-processor"),
            "third_party_tool" => ("Outil tiers du site", "Third-party tool on the site"),
            "joint_controller" => (
                "Responsable conjoint (art. 26)",
                "Joint controller (Art. 26)",
            ),
            _ => ("Responsable distinct", "Independent controller"),
        };
        if fr { f } else { e }
    }

    pub fn hours_left_text(&self, hours: i64) -> String {
        if hours < 0 {
            if self.is_fr() {
                format!("dépassé de {} h", -hours)
            } else {
                format!("{} h overdue", -hours)
            }
        } else if self.is_fr() {
            format!("{hours} h restantes")
        } else {
            format!("{hours} h left")
        }
    }

    pub fn days_left_text(&self, days: i64) -> String {
        match (days, self.is_fr()) {
            (d, true) if d < 0 => format!("en retard de {} j", -d),
            (d, false) if d < 0 => format!("{} d overdue", -d),
            (0, true) => "aujourd'hui".into(),
            (0, false) => "today".into(),
            (d, true) => format!("dans {d} j"),
            (d, false) => format!("in {d} d"),
        }
    }
}
