//! Reads the parsed page: forms, their fields and checkboxes, and the information given in text.

use std::collections::HashMap;

use ego_tree::{NodeId, NodeRef, iter::Edge};
use scraper::{Html, Node};

use crate::lexicon::{self, Purposes};
use crate::text::{self, Sentence, Words};

/// Most forms audited on one page; the rest are counted as skipped.
pub(crate) const MAX_FORMS: usize = 1000;

/// What a form is for, as far as the auditor can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormKind {
    /// Collects no personal data (search box, language picker...).
    NoPersonalData,
    Login,
    Account,
    Contact,
    Download,
    Newsletter,
    Other,
}

impl FormKind {
    pub fn key(self) -> &'static str {
        match self {
            FormKind::NoPersonalData => "no-personal-data",
            FormKind::Login => "login",
            FormKind::Account => "account",
            FormKind::Contact => "contact",
            FormKind::Download => "download",
            FormKind::Newsletter => "newsletter",
            FormKind::Other => "other",
        }
    }
}

/// The kind of data a field asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Email,
    Phone,
    Name,
    Address,
    BirthDate,
    Gender,
    Civility,
    Password,
    Username,
    Company,
    File,
    NationalId,
    Sensitive,
    Financial,
    Message,
    Search,
    Other,
}

impl FieldKind {
    fn personal(self) -> bool {
        matches!(
            self,
            FieldKind::Email
                | FieldKind::Phone
                | FieldKind::Name
                | FieldKind::Address
                | FieldKind::BirthDate
                | FieldKind::Gender
                | FieldKind::Password
                | FieldKind::Username
                | FieldKind::File
                | FieldKind::NationalId
                | FieldKind::Sensitive
                | FieldKind::Financial
        )
    }
}

/// How consent is given without the visitor's own act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precheck {
    Checked,
    OptOut,
    Hidden,
    Radio,
}

/// One fault found in a form, before it is put into words.
#[derive(Debug, Clone)]
pub(crate) enum Issue {
    Prechecked {
        label: String,
        purposes: Purposes,
        how: Precheck,
    },
    Bundled {
        label: String,
        purposes: Purposes,
        with_terms: bool,
    },
    Forced {
        label: String,
        purposes: Purposes,
    },
    ForcedBySubmission {
        sentence: String,
        purposes: Purposes,
    },
    MissingPurpose,
    MissingRights {
        channel_only: bool,
    },
    Insecure {
        url: String,
    },
    MissingController,
    MissingPolicyLink,
    MissingRetention,
    MissingDpo,
    Excessive {
        label: String,
        field: FieldKind,
        form: FormKind,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct RawFinding {
    pub issue: Issue,
    pub element: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct FormAnalysis {
    pub index: usize,
    pub action: Option<String>,
    pub kind: FormKind,
    pub findings: Vec<RawFinding>,
}

#[derive(Debug)]
pub(crate) struct PageAnalysis {
    pub language: &'static str,
    pub forms: Vec<FormAnalysis>,
    pub skipped_forms: usize,
}

/// What a stretch of text tells the person.
#[derive(Debug, Clone, Copy, Default)]
struct Facts {
    purpose: bool,
    rights: bool,
    rights_channel: bool,
    controller: bool,
    retention: bool,
    dpo: bool,
    policy_link: bool,
}

impl Facts {
    fn merge(self, o: Facts) -> Facts {
        Facts {
            purpose: self.purpose || o.purpose,
            rights: self.rights || o.rights,
            rights_channel: self.rights_channel || o.rights_channel,
            controller: self.controller || o.controller,
            retention: self.retention || o.retention,
            dpo: self.dpo || o.dpo,
            policy_link: self.policy_link || o.policy_link,
        }
    }
}

#[derive(Default)]
struct Segment {
    text: String,
    facts: Facts,
}

struct Control {
    node: NodeId,
    form_attr: Option<String>,
    form: Option<usize>,
    wrapping_label: Option<NodeId>,
}

/// The page once read: forms, controls, labels, and the text outside and inside each form.
pub(crate) struct Page<'a> {
    html: &'a Html,
    forms: Vec<NodeId>,
    controls: Vec<Control>,
    /// Segment 0 is the page outside any form; segment `i + 1` is form `i`.
    segments: Vec<Segment>,
    label_for: HashMap<String, Vec<NodeId>>,
    ids: HashMap<String, (NodeId, usize)>,
    names: HashMap<(String, String), usize>,
    lang_attr: Option<String>,
    base_href: Option<String>,
    page_url: Option<url::Url>,
    skipped_forms: usize,
}

const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "button",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "label",
    "legend",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
    "input",
    "select",
    "textarea",
];
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "title", "select", "textarea", "svg", "math", "iframe",
    "object", "option",
];

fn element_of<'a>(node: &NodeRef<'a, Node>) -> Option<&'a scraper::node::Element> {
    node.value().as_element()
}

/// The text of an element, without scripts and option lists, cut at `max` characters.
pub(crate) fn element_text(node: NodeRef<'_, Node>, max: usize) -> String {
    let mut out = String::new();
    let mut skip = 0usize;
    let mut visited = 0usize;
    for edge in node.traverse() {
        visited += 1;
        if visited > 20_000 || out.len() > max {
            break;
        }
        match edge {
            Edge::Open(n) => {
                if skip > 0 {
                    skip += 1;
                    continue;
                }
                match n.value() {
                    Node::Element(e) if SKIPPED.contains(&e.name()) => skip = 1,
                    Node::Element(e) if BLOCKS.contains(&e.name()) => out.push(' '),
                    Node::Text(t) => {
                        out.push_str(t);
                        out.push(' ');
                    }
                    _ => {}
                }
            }
            Edge::Close(_) => skip = skip.saturating_sub(1),
        }
    }
    text::collapse_spaces(&out, max)
}

impl<'a> Page<'a> {
    pub(crate) fn read(html: &'a Html, page_url: Option<url::Url>) -> Page<'a> {
        let mut page = Page {
            html,
            forms: Vec::new(),
            controls: Vec::new(),
            segments: vec![Segment::default()],
            label_for: HashMap::new(),
            ids: HashMap::new(),
            names: HashMap::new(),
            lang_attr: None,
            base_href: None,
            page_url,
            skipped_forms: 0,
        };
        let mut skip = 0usize;
        let mut current_form: Option<usize> = None;
        let mut current_label: Option<NodeId> = None;
        let mut in_skipped_form = false;
        for edge in html.tree.root().traverse() {
            match edge {
                Edge::Open(node) => {
                    if skip > 0 {
                        skip += 1;
                        continue;
                    }
                    let segment = current_form.map_or(0, |f| f + 1);
                    match node.value() {
                        Node::Text(t) => {
                            let s = &mut page.segments[segment].text;
                            // Whitespace between tags is a space in the rendered page, not a
                            // line: `<dt>Kept for</dt>\n<dd>3 years</dd>` is one statement.
                            if !t.trim().is_empty() {
                                s.push_str(t);
                            }
                            s.push(' ');
                        }
                        Node::Element(e) => {
                            let name = e.name();
                            if let Some(id) = e.id() {
                                let entry =
                                    page.ids.entry(id.to_string()).or_insert((node.id(), 0));
                                entry.1 += 1;
                            }
                            if let Some(n) = e.attr("name") {
                                *page
                                    .names
                                    .entry((name.to_string(), n.to_string()))
                                    .or_insert(0) += 1;
                            }
                            match name {
                                "html" if page.lang_attr.is_none() => {
                                    page.lang_attr = e
                                        .attr("lang")
                                        .or_else(|| e.attr("xml:lang"))
                                        .map(str::to_string);
                                }
                                "base" if page.base_href.is_none() => {
                                    page.base_href = e.attr("href").map(str::to_string)
                                }
                                "form" => {
                                    if page.forms.len() < MAX_FORMS {
                                        page.forms.push(node.id());
                                        page.segments.push(Segment::default());
                                        current_form = Some(page.forms.len() - 1);
                                    } else {
                                        page.skipped_forms += 1;
                                        in_skipped_form = true;
                                    }
                                }
                                "label" => {
                                    current_label = Some(node.id());
                                    if let Some(target) = e.attr("for") {
                                        page.label_for
                                            .entry(target.to_string())
                                            .or_default()
                                            .push(node.id());
                                    }
                                }
                                "input" | "select" | "textarea" | "button" if !in_skipped_form => {
                                    page.controls.push(Control {
                                        node: node.id(),
                                        form_attr: e.attr("form").map(str::to_string),
                                        form: current_form,
                                        wrapping_label: current_label,
                                    });
                                    if name == "input"
                                        && matches!(
                                            e.attr("type").map(str::to_ascii_lowercase).as_deref(),
                                            Some("submit" | "button")
                                        )
                                        && let Some(v) = e.attr("value")
                                    {
                                        let s = &mut page.segments[segment].text;
                                        s.push('\n');
                                        s.push_str(v);
                                        s.push('\n');
                                    }
                                }
                                "a" => page.read_link(node, segment),
                                _ => {}
                            }
                            if SKIPPED.contains(&name) {
                                skip = 1;
                            } else if name == "dd" {
                                // A definition continues the statement of its term
                                // (`<dt>Kept for</dt><dd>3 years</dd>`).
                                page.segments[segment].text.push(' ');
                            } else if BLOCKS.contains(&name) {
                                page.segments[segment].text.push('\n');
                            }
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    if let Some(e) = element_of(&node) {
                        match e.name() {
                            "form" => {
                                if in_skipped_form {
                                    in_skipped_form = false;
                                } else {
                                    current_form = None;
                                }
                            }
                            "label" => current_label = None,
                            _ => {}
                        }
                        let segment = current_form.map_or(0, |f| f + 1);
                        if e.name() == "dt" {
                            // Read as "term: definition", one sentence with its `<dd>`.
                            page.segments[segment].text.push_str(" : ");
                        } else if BLOCKS.contains(&e.name()) {
                            page.segments[segment].text.push('\n');
                        }
                    }
                }
            }
        }
        // A control with a `form` attribute belongs to that form wherever it sits.
        let form_ids: HashMap<String, usize> = page
            .forms
            .iter()
            .enumerate()
            .filter_map(|(i, id)| {
                let node = html.tree.get(*id)?;
                Some((element_of(&node)?.id()?.to_string(), i))
            })
            .collect();
        for c in &mut page.controls {
            if let Some(f) = &c.form_attr {
                c.form = form_ids.get(f.as_str()).copied();
            }
        }
        for seg in &mut page.segments {
            let text = std::mem::take(&mut seg.text);
            let facts = text_facts(&text);
            seg.facts = seg.facts.merge(facts);
            seg.text = text;
        }
        page
    }

    fn read_link(&mut self, node: NodeRef<'a, Node>, segment: usize) {
        let Some(e) = element_of(&node) else { return };
        let href = e.attr("href").unwrap_or("").trim();
        let label = element_text(node, 300);
        let words = text::words(&label);
        let facts = &mut self.segments[segment].facts;
        if lexicon::privacy_link(&words, href) {
            facts.policy_link = true;
        }
        if let Some(addr) = href
            .strip_prefix("mailto:")
            .or_else(|| href.strip_prefix("MAILTO:"))
        {
            facts.rights_channel = true;
            let addr = addr.split('?').next().unwrap_or("");
            if lexicon::privacy_email(&addr.to_ascii_lowercase()) {
                facts.dpo = true;
            }
        }
        if lexicon::has(
            &words,
            &[
                "droit*",
                "right*",
                "demande* rgpd",
                "privacy request*",
                "data request*",
                "mes donnees",
                "my data",
                "desinscri*",
            ],
        ) {
            facts.rights_channel = true;
        }
    }

    pub(crate) fn language(&self) -> &'static str {
        if let Some(lang) = &self.lang_attr {
            let l = lang.trim().to_ascii_lowercase();
            if l.starts_with("fr") {
                return "fr";
            }
            if l.starts_with("en") {
                return "en";
            }
        }
        let mut sentences = Vec::new();
        for seg in &self.segments {
            if sentences.len() > 2000 {
                break;
            }
            text::sentences(&seg.text, &mut sentences);
        }
        lexicon::guess_language(&sentences).unwrap_or("en")
    }

    fn node(&self, id: NodeId) -> Option<NodeRef<'a, Node>> {
        self.html.tree.get(id)
    }

    /// Resolves a URL written in the page against `<base href>` and the page's own URL.
    fn resolve(&self, raw: &str) -> Option<url::Url> {
        let base = match (&self.base_href, &self.page_url) {
            (Some(b), Some(p)) => p.join(b).ok(),
            (Some(b), None) => url::Url::parse(b).ok(),
            (None, Some(p)) => Some(p.clone()),
            (None, None) => None,
        };
        match base {
            Some(b) => b.join(raw).ok(),
            None => url::Url::parse(raw).ok(),
        }
    }

    pub(crate) fn analyse(&self) -> PageAnalysis {
        let language = self.language();
        let mut forms = Vec::with_capacity(self.forms.len());
        let mut per_form: Vec<Vec<&Control>> = vec![Vec::new(); self.forms.len()];
        for c in &self.controls {
            if let Some(f) = c.form
                && let Some(list) = per_form.get_mut(f)
            {
                list.push(c);
            }
        }
        for (index, form_id) in self.forms.iter().enumerate() {
            let Some(form) = self.node(*form_id) else {
                continue;
            };
            forms.push(self.analyse_form(index, form, &per_form[index]));
        }
        PageAnalysis {
            language,
            forms,
            skipped_forms: self.skipped_forms,
        }
    }

    fn analyse_form(
        &self,
        index: usize,
        form: NodeRef<'a, Node>,
        controls: &[&Control],
    ) -> FormAnalysis {
        let form_el = element_of(&form);
        let action_raw = form_el
            .and_then(|e| e.attr("action"))
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let action = action_raw.map(|a| {
            if a.contains("://")
                || a.starts_with("//")
                || self.page_url.is_some()
                || self.base_href.is_some()
            {
                self.resolve(a)
                    .map_or_else(|| a.to_string(), |u| u.to_string())
            } else {
                a.to_string()
            }
        });

        let mut fields = Vec::new();
        let mut boxes = Vec::new();
        let mut hidden = Vec::new();
        let mut submit_targets = Vec::new();
        for &c in controls {
            let Some(node) = self.node(c.node) else {
                continue;
            };
            let Some(e) = element_of(&node) else { continue };
            let ty = match e.name() {
                "input" => e
                    .attr("type")
                    .map(|t| t.trim().to_ascii_lowercase())
                    .unwrap_or_else(|| "text".into()),
                "button" => e
                    .attr("type")
                    .map(|t| t.trim().to_ascii_lowercase())
                    .unwrap_or_else(|| "submit".into()),
                other => other.to_string(),
            };
            match ty.as_str() {
                "submit" | "image" => {
                    if let Some(fa) = e.attr("formaction") {
                        submit_targets.push(fa.trim().to_string());
                    }
                }
                "button" | "reset" => {}
                "hidden" => hidden.push((c, node)),
                "checkbox" | "radio" => {
                    if !self.is_concealed(node) {
                        boxes.push((c, node, ty == "radio"));
                    }
                }
                _ => {
                    if !self.is_concealed(node) {
                        let kind = self.field_kind(c, node, &ty);
                        fields.push((c, node, kind));
                    }
                }
            }
        }

        let personal = fields.iter().any(|(_, _, k)| k.personal());
        let kind = if personal {
            self.form_kind(form, &fields)
        } else {
            FormKind::NoPersonalData
        };
        let mut findings = Vec::new();
        if kind == FormKind::NoPersonalData {
            return FormAnalysis {
                index,
                action,
                kind,
                findings,
            };
        }
        let main_purpose = if kind == FormKind::Newsletter {
            Purposes::NEWSLETTER
        } else {
            Purposes::default()
        };

        // Consent boxes.
        for (c, node, radio) in &boxes {
            self.check_box(c, *node, *radio, main_purpose, form, &mut findings);
        }
        for (c, node) in &hidden {
            let Some(e) = element_of(node) else { continue };
            let hint = format!("{} {}", e.attr("name").unwrap_or(""), e.id().unwrap_or(""));
            let purposes = name_purposes(&hint).without(main_purpose);
            let value = e
                .attr("value")
                .map(|v| v.trim().to_ascii_lowercase())
                .unwrap_or_default();
            if !purposes.is_empty()
                && matches!(
                    value.as_str(),
                    "1" | "true"
                        | "yes"
                        | "oui"
                        | "on"
                        | "y"
                        | "checked"
                        | "subscribe"
                        | "opt-in"
                        | "optin"
                )
            {
                findings.push(RawFinding {
                    issue: Issue::Prechecked {
                        label: e.attr("name").unwrap_or("").to_string(),
                        purposes,
                        how: Precheck::Hidden,
                    },
                    element: Some(self.selector(c.node, form)),
                });
            }
        }

        let form_segment = &self.segments[index + 1];
        // "By submitting this form you agree to receive our offers."
        let mut sentences = Vec::new();
        text::sentences(&form_segment.text, &mut sentences);
        for s in &sentences {
            if lexicon::consent_by_submission(&s.words) {
                let purposes = lexicon::purposes(&s.words).without(main_purpose);
                if !purposes.is_empty() {
                    findings.push(RawFinding {
                        issue: Issue::ForcedBySubmission {
                            sentence: text::collapse_spaces(s.raw, 400),
                            purposes,
                        },
                        element: Some(self.selector(form.id(), form)),
                    });
                }
            }
        }

        // Transport.
        let insecure = action_raw
            .map(|a| self.insecure_target(a))
            .unwrap_or_else(|| self.insecure_target(""))
            .or_else(|| submit_targets.iter().find_map(|t| self.insecure_target(t)));
        if let Some(url) = insecure {
            findings.push(RawFinding {
                issue: Issue::Insecure { url },
                element: Some(self.selector(form.id(), form)),
            });
        }

        // Information given (not asked again at login).
        if kind != FormKind::Login {
            let facts = self.segments[0].facts.merge(form_segment.facts);
            let form_sel = self.selector(form.id(), form);
            let mut info = |issue: Issue| {
                findings.push(RawFinding {
                    issue,
                    element: Some(form_sel.clone()),
                });
            };
            if !facts.purpose {
                info(Issue::MissingPurpose);
            }
            if !facts.rights {
                info(Issue::MissingRights {
                    channel_only: false,
                });
            } else if !facts.rights_channel {
                info(Issue::MissingRights { channel_only: true });
            }
            if !facts.controller {
                info(Issue::MissingController);
            }
            if !facts.policy_link {
                info(Issue::MissingPolicyLink);
            }
            if !facts.retention {
                info(Issue::MissingRetention);
            }
            if !facts.dpo {
                info(Issue::MissingDpo);
            }
            for (c, node, field) in &fields {
                if excessive(kind, *field) && !self.marked_optional(c, *node) {
                    findings.push(RawFinding {
                        issue: Issue::Excessive {
                            label: self.short_label(c, *node),
                            field: *field,
                            form: kind,
                        },
                        element: Some(self.selector(c.node, form)),
                    });
                }
            }
        }
        FormAnalysis {
            index,
            action,
            kind,
            findings,
        }
    }

    /// Where the form data goes, if that is plain `http://`.
    fn insecure_target(&self, raw: &str) -> Option<String> {
        let lower = raw.trim().to_ascii_lowercase();
        if lower.starts_with("javascript:") || lower.starts_with("mailto:") {
            return None;
        }
        if lower.starts_with("http://") {
            return Some(raw.trim().to_string());
        }
        if lower.starts_with("https://") {
            return None;
        }
        let resolved = self.resolve(raw.trim())?;
        (resolved.scheme() == "http").then(|| resolved.to_string())
    }

    /// Honeypots and fields hidden from everyone are not asked of the person.
    fn is_concealed(&self, node: NodeRef<'a, Node>) -> bool {
        let Some(e) = element_of(&node) else {
            return false;
        };
        if e.attr("tabindex").map(str::trim) == Some("-1") || e.attr("hidden").is_some() {
            return true;
        }
        let hint = format!(
            "{} {} {}",
            e.attr("name").unwrap_or(""),
            e.id().unwrap_or(""),
            e.attr("class").unwrap_or("")
        )
        .to_ascii_lowercase();
        if hint.contains("honeypot")
            || hint.starts_with("b_")
            || hint.contains("hp-field")
            || hint.contains("ohnohoney")
        {
            return true;
        }
        let mut current = Some(node);
        let mut level = 0;
        while let Some(n) = current {
            if level > 4 {
                break;
            }
            if let Some(e) = element_of(&n) {
                if e.name() == "form" {
                    break;
                }
                if e.attr("aria-hidden").map(str::trim) == Some("true")
                    || e.attr("hidden").is_some()
                {
                    return true;
                }
                if let Some(style) = e.attr("style") {
                    let style: String = style
                        .to_ascii_lowercase()
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    if style.contains("display:none")
                        || style.contains("visibility:hidden")
                        || style.contains("left:-")
                    {
                        return true;
                    }
                }
            }
            current = n.parent();
            level += 1;
        }
        false
    }

    /// The label of a control: `aria-labelledby`, `<label for>`, a wrapping label, `aria-label`,
    /// then the text right after a checkbox, then the placeholder.
    fn label_of(&self, c: &Control, node: NodeRef<'a, Node>) -> String {
        let Some(e) = element_of(&node) else {
            return String::new();
        };
        if let Some(ids) = e.attr("aria-labelledby") {
            let text: Vec<String> = ids
                .split_whitespace()
                .filter_map(|id| self.ids.get(id))
                .filter_map(|(n, _)| self.node(*n))
                .map(|n| element_text(n, 600))
                .collect();
            let text = text.join(" ");
            if !text.trim().is_empty() {
                return text;
            }
        }
        if let Some(id) = e.id()
            && let Some(labels) = self.label_for.get(id)
        {
            let text: Vec<String> = labels
                .iter()
                .filter_map(|n| self.node(*n))
                .map(|n| element_text(n, 600))
                .collect();
            let text = text.join(" ");
            if !text.trim().is_empty() {
                return text;
            }
        }
        if let Some(label) = c.wrapping_label.and_then(|l| self.node(l)) {
            let text = element_text(label, 600);
            if !text.trim().is_empty() {
                return text;
            }
        }
        for attr in ["aria-label", "title"] {
            if let Some(v) = e.attr(attr)
                && !v.trim().is_empty()
            {
                return v.trim().to_string();
            }
        }
        let ty = e.attr("type").unwrap_or("").to_ascii_lowercase();
        if ty == "checkbox" || ty == "radio" {
            // Text right after the box, up to the next control or line break.
            let mut out = String::new();
            let mut sibling = node.next_sibling();
            let mut steps = 0;
            while let Some(s) = sibling {
                if steps > 6 || out.len() > 600 {
                    break;
                }
                match s.value() {
                    Node::Text(t) => out.push_str(t),
                    Node::Element(se) => {
                        if matches!(
                            se.name(),
                            "input" | "select" | "textarea" | "br" | "p" | "div" | "li"
                        ) {
                            break;
                        }
                        out.push(' ');
                        out.push_str(&element_text(s, 600));
                    }
                    _ => {}
                }
                out.push(' ');
                sibling = s.next_sibling();
                steps += 1;
            }
            if !out.trim().is_empty() {
                return text::collapse_spaces(&out, 600);
            }
            // The text of the parent when the box is alone in it.
            if let Some(parent) = node.parent()
                && self.controls_under(parent) <= 1
            {
                let text = element_text(parent, 600);
                if !text.trim().is_empty() {
                    return text;
                }
            }
        } else if let Some(p) = e.attr("placeholder") {
            return p.trim().to_string();
        }
        String::new()
    }

    fn controls_under(&self, node: NodeRef<'a, Node>) -> usize {
        node.descendants()
            .take(400)
            .filter(|n| {
                element_of(n).is_some_and(|e| matches!(e.name(), "input" | "select" | "textarea"))
            })
            .count()
    }

    /// A label short enough to quote in a message.
    fn short_label(&self, c: &Control, node: NodeRef<'a, Node>) -> String {
        let label = self.label_of(c, node);
        let label = label.trim().trim_end_matches(['*', ':', ' ']).trim();
        if label.is_empty() {
            element_of(&node)
                .and_then(|e| e.attr("name"))
                .unwrap_or("")
                .to_string()
        } else {
            text::collapse_spaces(label, 120)
        }
    }

    /// The text around a box: a fieldset legend, a plugin's field label or a small container.
    fn group_context(&self, node: NodeRef<'a, Node>, label_len: usize) -> String {
        let mut current = node.parent();
        let mut level = 0;
        while let Some(n) = current {
            if level > 6 {
                break;
            }
            let Some(e) = element_of(&n) else { break };
            if e.name() == "form" {
                break;
            }
            if e.name() == "fieldset"
                && let Some(legend) = n
                    .children()
                    .find(|c| element_of(c).is_some_and(|ce| ce.name() == "legend"))
            {
                return element_text(legend, 400);
            }
            let class = e.attr("class").unwrap_or("");
            if class.split_whitespace().any(|c| {
                c == "gfield" || c == "hs-form-field" || c == "mc-field-group" || c == "form-group"
            }) {
                let text = element_text(n, 800);
                if text.len() > label_len + 3 {
                    return text;
                }
            }
            if (1..=3).contains(&level) {
                let text = element_text(n, 700);
                if text.len() > label_len + 10 && text.len() < 600 {
                    return text;
                }
            }
            current = n.parent();
            level += 1;
        }
        String::new()
    }

    fn is_required(&self, node: NodeRef<'a, Node>, label: &str) -> bool {
        let Some(e) = element_of(&node) else {
            return false;
        };
        if e.attr("required").is_some()
            || e.attr("aria-required").map(str::trim) == Some("true")
            || e.attr("data-required").map(str::trim) == Some("true")
            || e.attr("data-val-required").is_some()
            || e.attr("data-parsley-required")
                .is_some_and(|v| v.trim() != "false")
            || e.classes().any(|c| {
                c == "required" || c == "wpcf7-validates-as-required" || c == "is-required"
            })
        {
            return true;
        }
        let mut current = node.parent();
        let mut level = 0;
        while let Some(n) = current {
            if level > 5 {
                break;
            }
            let Some(pe) = element_of(&n) else { break };
            if pe.name() == "form" {
                break;
            }
            let classes: Vec<&str> = pe.classes().collect();
            if classes.contains(&"wpcf7-acceptance") && !classes.contains(&"optional") {
                return true;
            }
            if classes.iter().any(|c| {
                matches!(
                    *c,
                    "gfield_contains_required" | "required" | "is-required" | "field-required"
                )
            }) {
                return true;
            }
            current = n.parent();
            level += 1;
        }
        let trimmed = label.trim_end();
        if trimmed.ends_with('*') || trimmed.starts_with('*') || trimmed.contains("*)") {
            return true;
        }
        lexicon::has(
            &text::words(label),
            &["obligatoire", "required", "requis", "mandatory"],
        )
    }

    fn marked_optional(&self, c: &Control, node: NodeRef<'a, Node>) -> bool {
        let label = self.label_of(c, node);
        let words = text::words(&label);
        lexicon::has(
            &words,
            &["optionnel*", "facultati*", "optional", "not required"],
        ) && !self.is_required(node, "")
    }

    fn check_box(
        &self,
        c: &Control,
        node: NodeRef<'a, Node>,
        radio: bool,
        main_purpose: Purposes,
        form: NodeRef<'a, Node>,
        findings: &mut Vec<RawFinding>,
    ) {
        let Some(e) = element_of(&node) else { return };
        let label = self.label_of(c, node);
        let words = text::words(&label);
        let accepts_terms = lexicon::accepts_terms(&words);
        let mut own = lexicon::purposes(&words);
        if own.is_empty() && lexicon::subscription_words(&words) && !accepts_terms {
            own = Purposes::NEWSLETTER;
        }
        if own.is_empty() && words.is_empty() {
            let hint = format!("{} {}", e.attr("name").unwrap_or(""), e.id().unwrap_or(""));
            own = name_purposes(&hint);
        }
        let mut purposes = own;
        let short = words.len() <= 6;
        if purposes.is_empty() && short && !accepts_terms {
            let ctx = self.group_context(node, label.len());
            purposes = lexicon::purposes(&text::words(&ctx));
        }
        if purposes.is_empty() {
            return; // terms of service, privacy acknowledgement, remember me, age check...
        }
        let checked = e.attr("checked").is_some();
        let selector = self.selector(c.node, form);
        let quoted = text::collapse_spaces(label.trim().trim_end_matches(['*', ' ']), 160);
        if radio {
            let positive = if own.is_empty() {
                lexicon::yes_answer(&words)
            } else {
                !lexicon::negative(&words) && !lexicon::no_answer(&words)
            };
            if positive && checked {
                findings.push(RawFinding {
                    issue: Issue::Prechecked {
                        label: quoted,
                        purposes,
                        how: Precheck::Radio,
                    },
                    element: Some(selector),
                });
            }
            return;
        }
        if lexicon::negative(&words) && !own.is_empty() {
            if !checked {
                findings.push(RawFinding {
                    issue: Issue::Prechecked {
                        label: quoted,
                        purposes,
                        how: Precheck::OptOut,
                    },
                    element: Some(selector),
                });
            }
            return;
        }
        if checked {
            findings.push(RawFinding {
                issue: Issue::Prechecked {
                    label: quoted.clone(),
                    purposes,
                    how: Precheck::Checked,
                },
                element: Some(selector.clone()),
            });
        }
        if own.count() >= 2 || (!own.is_empty() && accepts_terms) {
            findings.push(RawFinding {
                issue: Issue::Bundled {
                    label: quoted.clone(),
                    purposes: own,
                    with_terms: own.count() < 2,
                },
                element: Some(selector.clone()),
            });
        }
        let forced = purposes.without(main_purpose);
        if !forced.is_empty() && self.is_required(node, &label) {
            findings.push(RawFinding {
                issue: Issue::Forced {
                    label: quoted,
                    purposes: forced,
                },
                element: Some(selector),
            });
        }
    }

    fn field_kind(&self, c: &Control, node: NodeRef<'a, Node>, ty: &str) -> FieldKind {
        match ty {
            "email" => return FieldKind::Email,
            "password" => return FieldKind::Password,
            "tel" => return FieldKind::Phone,
            "file" => return FieldKind::File,
            "search" => return FieldKind::Search,
            "textarea" => return FieldKind::Message,
            _ => {}
        }
        let Some(e) = element_of(&node) else {
            return FieldKind::Other;
        };
        let autocomplete = e.attr("autocomplete").unwrap_or("").to_ascii_lowercase();
        match autocomplete.split_whitespace().last().unwrap_or("") {
            "email" => return FieldKind::Email,
            "tel" | "tel-national" | "tel-local" => return FieldKind::Phone,
            "bday" | "bday-day" | "bday-month" | "bday-year" => return FieldKind::BirthDate,
            "name" | "given-name" | "family-name" | "additional-name" => return FieldKind::Name,
            "street-address" | "address-line1" | "address-line2" | "postal-code"
            | "address-level2" => return FieldKind::Address,
            "sex" => return FieldKind::Gender,
            "username" => return FieldKind::Username,
            "new-password" | "current-password" => return FieldKind::Password,
            "organization" => return FieldKind::Company,
            "cc-number" | "cc-csc" => return FieldKind::Financial,
            _ => {}
        }
        let raw_name = e.attr("name").unwrap_or("");
        let name_l = raw_name.to_ascii_lowercase();
        if matches!(
            name_l.as_str(),
            "q" | "s"
                | "query"
                | "search"
                | "recherche"
                | "keywords"
                | "keyword"
                | "k"
                | "term"
                | "search_query"
        ) {
            return FieldKind::Search;
        }
        let hint = format!(
            "{} {} {} {} {}",
            split_identifier(raw_name),
            split_identifier(e.id().unwrap_or("")),
            e.attr("placeholder").unwrap_or(""),
            e.attr("aria-label").unwrap_or(""),
            self.label_of(c, node)
        );
        let w = text::words(&hint);
        let has = |p: &[&str]| lexicon::has(&w, p);
        if ty == "date" && has(&["naissance", "birth*", "dob", "anniversaire", "bday"]) {
            return FieldKind::BirthDate;
        }
        if has(&[
            "securite sociale",
            "secu",
            "nir",
            "ssn",
            "social security",
            "national insurance",
            "passport*",
            "passeport*",
            "carte d identite",
            "identity card",
            "id card",
            "numero fiscal",
            "tax id*",
            "permis de conduire",
            "driving licen*",
        ]) {
            return FieldKind::NationalId;
        }
        if has(&[
            "religion*",
            "religious",
            "confession",
            "sante",
            "health",
            "medical*",
            "medicaux",
            "maladie*",
            "opinion* politique*",
            "political*",
            "syndica*",
            "trade union*",
            "ethni*",
            "origine raciale",
            "racial",
            "orientation sexuelle",
            "sexual orientation",
            "handicap*",
            "disabilit*",
            "biometri*",
            "genetic*",
            "genetique*",
        ]) {
            return FieldKind::Sensitive;
        }
        if has(&[
            "naissance",
            "birth*",
            "dob",
            "anniversaire",
            "bday",
            "age",
            "ddn",
        ]) {
            return FieldKind::BirthDate;
        }
        if has(&[
            "e mail*",
            "email*",
            "mail",
            "courriel*",
            "adresse electronique",
            "mce email",
            "merge0",
        ]) {
            return FieldKind::Email;
        }
        if has(&[
            "tel",
            "telephone*",
            "phone*",
            "mobile",
            "portable",
            "gsm",
            "cellphone",
            "cell",
            "whatsapp",
        ]) {
            return FieldKind::Phone;
        }
        if has(&[
            "username",
            "user name",
            "login",
            "identifiant",
            "pseudo*",
            "nom d utilisateur",
            "user",
        ]) {
            return FieldKind::Username;
        }
        if has(&[
            "company",
            "societe",
            "entreprise",
            "organisation",
            "organization",
            "raison sociale",
            "employer",
            "employeur",
            "job title",
            "fonction",
            "poste",
            "website",
            "site web",
            "url",
        ]) {
            return FieldKind::Company;
        }
        if has(&[
            "adresse",
            "address*",
            "street",
            "rue",
            "city",
            "ville",
            "zip*",
            "postal",
            "postcode",
            "code postal",
            "cp",
            "commune",
        ]) {
            return FieldKind::Address;
        }
        if has(&["genre", "sexe", "gender", "sex"]) {
            return FieldKind::Gender;
        }
        if has(&["civilite", "salutation", "title"]) {
            return FieldKind::Civility;
        }
        if has(&[
            "nom",
            "name",
            "prenom*",
            "firstname",
            "lastname",
            "fname",
            "lname",
            "surname",
            "first",
            "last",
            "full name",
            "nom complet",
            "given name",
            "family name",
        ]) {
            return FieldKind::Name;
        }
        if has(&[
            "iban",
            "bic",
            "carte bancaire",
            "card number",
            "credit card",
            "cvv",
            "cvc",
        ]) {
            return FieldKind::Financial;
        }
        if has(&["message", "comment*", "question*", "demande"]) {
            return FieldKind::Message;
        }
        if has(&["search*", "recherch*", "rechercher"]) {
            return FieldKind::Search;
        }
        FieldKind::Other
    }

    fn form_kind(
        &self,
        form: NodeRef<'a, Node>,
        fields: &[(&Control, NodeRef<'a, Node>, FieldKind)],
    ) -> FormKind {
        let passwords = fields
            .iter()
            .filter(|(_, _, k)| *k == FieldKind::Password)
            .count();
        let context = self.form_context(form);
        let w = text::words(&context);
        if passwords > 0 {
            let signup = lexicon::has(
                &w,
                &[
                    "inscri*",
                    "register*",
                    "registration",
                    "sign up",
                    "signup",
                    "creer",
                    "creez",
                    "create",
                    "creation",
                    "join",
                    "nouveau compte",
                    "new account",
                ],
            );
            if passwords == 1
                && !signup
                && fields.iter().filter(|(_, _, k)| k.personal()).count() <= 2
            {
                return FormKind::Login;
            }
            return FormKind::Account;
        }
        if fields.iter().any(|(_, _, k)| *k == FieldKind::Message) {
            return FormKind::Contact;
        }
        if lexicon::has(
            &w,
            &[
                "telecharg*",
                "download*",
                "livre* blanc*",
                "white paper*",
                "whitepaper*",
                "ebook*",
                "e book*",
                "guide",
                "brochure*",
                "report",
                "rapport",
                "etude",
                "checklist",
            ],
        ) {
            return FormKind::Download;
        }
        if lexicon::has(
            &w,
            &[
                "newsletter*",
                "infolettre*",
                "lettre* d info*",
                "subscrib*",
                "abonn*",
                "mailing list",
                "liste de diffusion",
                "list manage",
                "mc4wp",
                "mc embed*",
                "mailchimp",
                "sendinblue",
                "brevo",
                "mailjet",
                "sib form",
                "inscri*",
                "tenir informe*",
                "keep me posted",
                "stay in the loop",
                "stay updated",
                "restez informe*",
            ],
        ) {
            return FormKind::Newsletter;
        }
        FormKind::Other
    }

    /// Words that say what a form is for: its headings, buttons and attributes, and the heading
    /// just before it; not the checkbox labels (a contact form may offer a newsletter box).
    fn form_context(&self, form: NodeRef<'a, Node>) -> String {
        let mut out = String::new();
        if let Some(e) = element_of(&form) {
            for a in ["id", "class", "name", "action", "aria-label"] {
                if let Some(v) = e.attr(a) {
                    out.push_str(&split_identifier(v));
                    out.push('\n');
                }
            }
        }
        for n in form.descendants().take(5000) {
            let Some(e) = element_of(&n) else { continue };
            match e.name() {
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "legend" | "button" => {
                    out.push_str(&element_text(n, 200));
                    out.push('\n');
                }
                "input"
                    if matches!(
                        e.attr("type").map(str::to_ascii_lowercase).as_deref(),
                        Some("submit" | "image")
                    ) =>
                {
                    out.push_str(e.attr("value").or(e.attr("alt")).unwrap_or(""));
                    out.push('\n');
                }
                _ => {}
            }
        }
        // The closest heading before the form, looking up to three levels up.
        let mut current = Some(form);
        let mut level = 0;
        'outer: while let Some(n) = current {
            if level > 3 {
                break;
            }
            let mut sibling = n.prev_sibling();
            let mut steps = 0;
            while let Some(s) = sibling {
                if steps > 6 {
                    break;
                }
                if let Some(e) = element_of(&s) {
                    if matches!(e.name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
                        out.push_str(&element_text(s, 200));
                        break 'outer;
                    }
                    if e.name() == "p" {
                        out.push_str(&element_text(s, 300));
                        out.push('\n');
                    }
                    if let Some(h) = s.descendants().take(200).find(|d| {
                        element_of(d).is_some_and(|de| {
                            matches!(de.name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
                        })
                    }) {
                        out.push_str(&element_text(h, 200));
                        break 'outer;
                    }
                }
                sibling = s.prev_sibling();
                steps += 1;
            }
            current = n.parent();
            level += 1;
        }
        out
    }

    /// A CSS selector for an element: `#id`, `input[name=email]`, or a path of `:nth-of-type`.
    pub(crate) fn selector(&self, id: NodeId, form: NodeRef<'a, Node>) -> String {
        let Some(node) = self.node(id) else {
            return String::new();
        };
        let Some(e) = element_of(&node) else {
            return String::new();
        };
        let tag = e.name();
        if let Some(el_id) = e.id()
            && self.ids.get(el_id).is_some_and(|(_, n)| *n == 1)
        {
            return if is_identifier(el_id) {
                format!("{tag}#{el_id}")
            } else {
                format!("{tag}[id={}]", css_string(el_id))
            };
        }
        if let Some(name) = e.attr("name") {
            let simple = format!("{tag}[name={}]", css_value(name));
            let count = self
                .names
                .get(&(tag.to_string(), name.to_string()))
                .copied()
                .unwrap_or(0);
            if count == 1 {
                return simple;
            }
            let with_value = match (
                e.attr("type").map(str::to_ascii_lowercase).as_deref(),
                e.attr("value"),
            ) {
                (Some("checkbox" | "radio"), Some(v)) => {
                    format!("{simple}[value={}]", css_value(v))
                }
                _ => simple,
            };
            if tag != "form" {
                return format!("{} {with_value}", self.selector(form.id(), form));
            }
        }
        self.path(node)
    }

    fn path(&self, node: NodeRef<'a, Node>) -> String {
        let mut parts = Vec::new();
        let mut current = Some(node);
        while let Some(n) = current {
            let Some(e) = element_of(&n) else { break };
            if parts.len() >= 40 {
                break;
            }
            if let Some(id) = e.id()
                && is_identifier(id)
                && self.ids.get(id).is_some_and(|(_, c)| *c == 1)
            {
                parts.push(format!("{}#{id}", e.name()));
                break;
            }
            let name = e.name();
            if matches!(name, "html" | "body") {
                parts.push(name.to_string());
                if name == "html" {
                    break;
                }
                current = n.parent();
                continue;
            }
            let same_before = n
                .prev_siblings()
                .take(10_000)
                .filter(|s| element_of(s).is_some_and(|se| se.name() == name))
                .count();
            let same_after = n
                .next_siblings()
                .take(10_000)
                .any(|s| element_of(&s).is_some_and(|se| se.name() == name));
            if same_before == 0 && !same_after {
                parts.push(name.to_string());
            } else {
                parts.push(format!("{name}:nth-of-type({})", same_before + 1));
            }
            current = n.parent();
        }
        parts.reverse();
        parts.join(" > ")
    }
}

/// Purposes named by an attribute such as `name="newsletter_optin"`.
fn name_purposes(hint: &str) -> Purposes {
    let w = text::words(&split_identifier(hint));
    let mut p = lexicon::purposes(&w);
    if lexicon::has(
        &w,
        &[
            "optin",
            "opt in",
            "marketing",
            "consent marketing",
            "promo*",
        ],
    ) && p.is_empty()
    {
        p.insert(Purposes::OFFERS);
    }
    if p.is_empty() && lexicon::has(&w, &["subscribe", "mc4wp", "newsletter*"]) {
        p.insert(Purposes::NEWSLETTER);
    }
    p
}

/// `firstName` → `first Name`; `your-email` → `your email`.
fn split_identifier(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        if c.is_alphanumeric() {
            out.push(c);
        } else {
            out.push(' ');
        }
        prev_lower = c.is_lowercase();
    }
    out
}

fn excessive(kind: FormKind, field: FieldKind) -> bool {
    match field {
        FieldKind::NationalId | FieldKind::Sensitive => {
            kind != FormKind::Account || field == FieldKind::Sensitive
        }
        FieldKind::Phone
        | FieldKind::Gender
        | FieldKind::Address
        | FieldKind::BirthDate
        | FieldKind::Financial => {
            kind == FormKind::Newsletter
                || (kind == FormKind::Contact
                    && matches!(
                        field,
                        FieldKind::BirthDate | FieldKind::Gender | FieldKind::Financial
                    ))
                || (kind == FormKind::Download
                    && matches!(
                        field,
                        FieldKind::BirthDate
                            | FieldKind::Address
                            | FieldKind::Financial
                            | FieldKind::Gender
                    ))
        }
        _ => false,
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\a "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn css_value(s: &str) -> String {
    if is_identifier(s) {
        s.to_string()
    } else {
        css_string(s)
    }
}

/// Facts read from a block of text.
fn text_facts(text: &str) -> Facts {
    let mut facts = Facts::default();
    let (has_email, privacy_email) = lexicon::emails_in(text);
    if privacy_email {
        facts.dpo = true;
    }
    if has_email {
        facts.rights_channel = true;
    }
    let mut sentences: Vec<Sentence<'_>> = Vec::new();
    text::sentences(text, &mut sentences);
    for s in &sentences {
        let w: &Words = &s.words;
        facts.purpose = facts.purpose || lexicon::states_purpose(w);
        if lexicon::mentions_rights(w) {
            facts.rights = true;
            if lexicon::rights_channel(w) {
                facts.rights_channel = true;
            }
        } else if lexicon::position(w, "exerc*").is_some() && lexicon::rights_channel(w) {
            facts.rights_channel = true;
        }
        facts.controller = facts.controller || lexicon::names_controller(w);
        facts.retention = facts.retention || lexicon::states_retention(w);
        facts.dpo = facts.dpo || lexicon::names_dpo(w);
    }
    facts
}
