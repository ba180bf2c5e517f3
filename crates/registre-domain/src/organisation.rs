use crate::{DomainError, Email, Language};
use serde::{Deserialize, Serialize};

/// The controller: who collects the data and answers for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub contact_email: String,
    pub dpo: Dpo,
    #[serde(default)]
    pub authority: Authority,
    #[serde(default)]
    pub privacy_policy_url: Option<String>,
    #[serde(default)]
    pub default_language: Language,
    /// Ignored on input: the server sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dpo {
    pub name: String,
    pub email: String,
}

/// The supervisory authority people may complain to (Art. 77); the CNIL by default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    pub name: String,
    pub url: String,
}

impl Default for Authority {
    fn default() -> Self {
        Self {
            name: "CNIL".into(),
            url: "https://www.cnil.fr".into(),
        }
    }
}

pub(crate) fn validate_url(field: &str, raw: &str) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && trimmed.len() <= 2048
        && !trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(trimmed.to_string())
    } else {
        Err(DomainError::invalid(field, "expected an http(s) URL"))
    }
}

pub(crate) fn validate_line(
    field: &str,
    raw: &str,
    max: usize,
    required: bool,
) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    if required && trimmed.is_empty() {
        return Err(DomainError::invalid(field, "is required"));
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(trimmed.to_string())
}

impl Organisation {
    /// A valid organisation, normalised (trimmed, emails lower-cased).
    pub fn validate(self) -> Result<Self, DomainError> {
        Ok(Self {
            name: validate_line("name", &self.name, 200, true)?,
            address: validate_line("address", &self.address, 500, false)?,
            contact_email: Email::parse(&self.contact_email)
                .map_err(|_| DomainError::invalid("contact_email", "not a valid email address"))?
                .as_str()
                .to_string(),
            dpo: Dpo {
                name: validate_line("dpo.name", &self.dpo.name, 200, true)?,
                email: Email::parse(&self.dpo.email)
                    .map_err(|_| DomainError::invalid("dpo.email", "not a valid email address"))?
                    .as_str()
                    .to_string(),
            },
            authority: Authority {
                name: validate_line("authority.name", &self.authority.name, 200, true)?,
                url: validate_url("authority.url", &self.authority.url)?,
            },
            privacy_policy_url: match self.privacy_policy_url.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(url) => Some(validate_url("privacy_policy_url", url)?),
            },
            default_language: self.default_language,
            updated_at: self.updated_at,
        })
    }

    /// What a fresh installation shows until an administrator fills it in.
    pub fn placeholder() -> Self {
        Self {
            name: "My organisation".into(),
            address: String::new(),
            contact_email: "privacy@example.org".into(),
            dpo: Dpo {
                name: "Data protection officer".into(),
                email: "dpo@example.org".into(),
            },
            authority: Authority::default(),
            privacy_policy_url: None,
            default_language: Language::Fr,
            updated_at: None,
        }
    }
}

/// ISO 3166-1 alpha-2 codes, assigned ones only.
const COUNTRY_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The European Economic Area: transfers inside it need no safeguard.
const EEA_CODES: &str =
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK";

pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && COUNTRY_CODES.split(' ').any(|c| c == code)
}

pub fn is_in_eea(code: &str) -> bool {
    EEA_CODES.split(' ').any(|c| c == code)
}
