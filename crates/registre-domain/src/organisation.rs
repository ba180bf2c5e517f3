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
    /// The organisation's colour on its public pages (forms, portal), `#RRGGBB`; the text on
    /// it is chosen to keep WCAG AA contrast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_color: Option<String>,
    /// The IANA time zone every date is written in for people (`Europe/Paris` when absent),
    /// portal and mails included, with the zone named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
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
            brand_color: match self.brand_color.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(colour) => Some(
                    Rgb::parse(colour)
                        .ok_or_else(|| {
                            DomainError::invalid("brand_color", "expected a colour as #RRGGBB")
                        })?
                        .hex(),
                ),
            },
            time_zone: match self.time_zone.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(raw) => Some(
                    crate::words::parse_zone(raw)
                        .ok_or_else(|| {
                            DomainError::invalid(
                                "time_zone",
                                "expected an IANA time zone such as Europe/Paris",
                            )
                        })?
                        .name()
                        .to_string(),
                ),
            },
            updated_at: self.updated_at,
        })
    }

    /// The zone dates are written in for this organisation's readers.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone
            .as_deref()
            .and_then(crate::words::parse_zone)
            .unwrap_or(crate::words::DEFAULT_TIME_ZONE)
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
            brand_color: None,
            time_zone: None,
            updated_at: None,
        }
    }
}

/// A colour of the sRGB space, as `#RRGGBB` writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
    pub const BLACK: Rgb = Rgb(0, 0, 0);

    /// `#RRGGBB` (either case); nothing else.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Self(channel(0)?, channel(2)?, channel(4)?))
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// The relative luminance of WCAG 2.
    pub fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// The contrast ratio of WCAG 2, from 1 to 21.
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (light, dark) = if a > b { (a, b) } else { (b, a) };
        (light + 0.05) / (dark + 0.05)
    }

    /// The text colour that reads best on this one, white or black: one of them always has
    /// at least 4.58:1 (WCAG AA), whatever the colour.
    pub fn text_on(self) -> Rgb {
        if self.contrast(Self::WHITE) >= self.contrast(Self::BLACK) {
            Self::WHITE
        } else {
            Self::BLACK
        }
    }

    /// This colour mixed with black, `amount` from 0 (itself) to 1 (black).
    pub fn darken(self, amount: f64) -> Rgb {
        let keep = 1.0 - amount.clamp(0.0, 1.0);
        let scale = |c: u8| (f64::from(c) * keep).round().clamp(0.0, 255.0) as u8;
        Rgb(scale(self.0), scale(self.1), scale(self.2))
    }

    /// The closest shade of this colour (itself, or darker) that reads as text on white with
    /// at least `ratio` of contrast (4.5 for WCAG AA).
    pub fn readable_on_white(self, ratio: f64) -> Rgb {
        (0..=20)
            .map(|step| self.darken(f64::from(step) * 0.05))
            .find(|shade| shade.contrast(Self::WHITE) >= ratio)
            .unwrap_or(Self::BLACK)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod brand_tests {
    use super::*;

    fn organisation() -> Organisation {
        Organisation {
            name: "Exemple SAS".into(),
            contact_email: "contact@exemple.fr".into(),
            ..Organisation::placeholder()
        }
    }

    #[test]
    fn a_brand_colour_is_kept_as_lower_case_hex_and_anything_else_is_refused() {
        let kept = Organisation {
            brand_color: Some(" #E4007C ".into()),
            ..organisation()
        }
        .validate()
        .map(|o| o.brand_color);
        assert_eq!(kept, Ok(Some("#e4007c".into())));
        for wrong in ["red", "#e4007", "#e4007c00", "e4007c", "#gg007c", "url(x)"] {
            let refused = Organisation {
                brand_color: Some(wrong.into()),
                ..organisation()
            }
            .validate();
            assert!(refused.is_err(), "{wrong}");
        }
    }

    #[test]
    fn the_text_on_a_brand_colour_keeps_aa_contrast_whatever_the_colour() {
        // Contrast values of the WCAG definition.
        assert!((Rgb::WHITE.contrast(Rgb(0, 0, 0)) - 21.0).abs() < 1e-9);
        for hex in [
            "#ffd400", "#e4007c", "#2146c7", "#00a86b", "#000000", "#ffffff", "#777777",
        ] {
            let colour = Rgb::parse(hex).unwrap();
            assert!(
                colour.contrast(colour.text_on()) >= 4.5,
                "{hex}: {}",
                colour.contrast(colour.text_on())
            );
            let link = colour.readable_on_white(4.5);
            assert!(link.contrast(Rgb::WHITE) >= 4.5, "{hex} as a link");
        }
        assert_eq!(Rgb::parse("#ffd400").unwrap().text_on(), Rgb::BLACK);
        assert_eq!(Rgb::parse("#2146c7").unwrap().text_on(), Rgb::WHITE);
    }
}
