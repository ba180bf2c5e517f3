//! How Registre writes durations and instants for people: one wording for every page, mail
//! and export, so a retention period reads "3 ans" everywhere and a moment reads
//! « 7 décembre 2026 à 03:26 (heure de Paris) » in the organisation's time zone, named.
use crate::{Language, LocalisedText};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

/// The zone dates are written in when the organisation has not said (the demo's, and the
/// CNIL's).
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Europe::Paris;

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A retention period in the largest whole unit people use: "3 ans", "18 mois", "45 jours".
pub fn retention(days: i64) -> LocalisedText {
    let (count, fr, en) = if days >= 365 && days % 365 == 0 {
        (days / 365, ("an", "ans"), ("year", "years"))
    } else if days >= 30 && days % 30 == 0 {
        (days / 30, ("mois", "mois"), ("month", "months"))
    } else {
        (days, ("jour", "jours"), ("day", "days"))
    };
    let pick = |(one, many): (&'static str, &'static str)| if count > 1 { many } else { one };
    LocalisedText::new(
        format!("{count} {}", pick(fr)),
        format!("{count} {}", pick(en)),
    )
}

/// A calendar day as people of `language` write it: « 1er décembre 2026 », "7 December 2026".
pub fn day(date: NaiveDate, language: Language) -> String {
    let month = date.month0() as usize;
    match language {
        Language::Fr => {
            let day = if date.day() == 1 {
                "1er".to_string()
            } else {
                date.day().to_string()
            };
            format!("{day} {} {}", MONTHS_FR[month], date.year())
        }
        Language::En => format!("{} {} {}", date.day(), MONTHS_EN[month], date.year()),
    }
}

/// The day of an instant, in `zone`.
pub fn date(at: DateTime<Utc>, zone: Tz, language: Language) -> String {
    day(at.with_timezone(&zone).date_naive(), language)
}

/// An instant in `zone`, with the zone named: « 7 décembre 2026 à 03:26 (heure de Paris) »,
/// "7 December 2026 at 03:26 (Paris time)".
pub fn date_time(at: DateTime<Utc>, zone: Tz, language: Language) -> String {
    format!(
        "{} ({})",
        date_and_time(at, zone, language),
        zone_name(zone, language)
    )
}

/// An instant in `zone`, for a page that names the zone once: « 7 décembre 2026 à 03:26 ».
pub fn date_and_time(at: DateTime<Utc>, zone: Tz, language: Language) -> String {
    let local = at.with_timezone(&zone);
    let time = local.format("%H:%M");
    let date = day(local.date_naive(), language);
    match language {
        Language::Fr => format!("{date} à {time}"),
        Language::En => format!("{date} at {time}"),
    }
}

/// "heure de Paris" / "Paris time" for `Europe/Paris`; "UTC" for UTC.
pub fn zone_name(zone: Tz, language: Language) -> String {
    let name = zone.name();
    if matches!(name, "UTC" | "Etc/UTC" | "Etc/GMT" | "GMT") {
        return "UTC".into();
    }
    let city = name.rsplit('/').next().unwrap_or(name).replace('_', " ");
    match language {
        Language::Fr => format!("heure de {city}"),
        Language::En => format!("{city} time"),
    }
}

/// What a processor does for the organisation, in words: the usual services by their
/// name, a service typed through the API as written (underscores as spaces).
pub fn service(raw: &str) -> LocalisedText {
    let (fr, en) = match raw {
        "emailing" => ("Envoi d'e-mails", "Emailing"),
        "crm" => (
            "Gestion de la relation client",
            "Customer relationship management",
        ),
        "cms" => ("Gestion du site", "Website management"),
        "hosting" => ("Hébergement", "Hosting"),
        "cms_hosting" => ("Hébergement du site", "Website hosting"),
        "helpdesk" => ("Support client", "Customer support"),
        "analytics" => ("Mesure d'audience", "Audience measurement"),
        "payment" => ("Paiement", "Payment"),
        "advertising" => ("Publicité", "Advertising"),
        "other" => ("Autre service", "Other service"),
        other => {
            let typed = other.replace('_', " ");
            return LocalisedText::new(typed.clone(), typed);
        }
    };
    LocalisedText::new(fr, en)
}

/// "de" before a name in French, elided before a vowel (an h is left alone: it may be
/// aspirated, as in « de Hachette »): « d'Exemple SAS », « de Registre ».
/// The name keeps its own capitals.
pub fn de(name: &str) -> String {
    let first = name
        .chars()
        .next()
        .map(|c| c.to_lowercase().collect::<String>());
    let elided = matches!(
        first.as_deref(),
        Some(
            "a" | "e" | "i" | "o" | "u" | "y" | "é" | "è" | "ê" | "à" | "â" | "î" | "ô" | "û" | "œ"
        )
    );
    if elided {
        format!("d'{name}")
    } else {
        format!("de {name}")
    }
}

/// An IANA time zone name (`Europe/Paris`), if it is one.
pub fn parse_zone(raw: &str) -> Option<Tz> {
    raw.trim().parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retention_is_said_in_the_largest_whole_unit() {
        assert_eq!(retention(1095).fr, "3 ans");
        assert_eq!(retention(1095).en, "3 years");
        assert_eq!(retention(365).fr, "1 an");
        assert_eq!(retention(540).fr, "18 mois");
        assert_eq!(retention(30).en, "1 month");
        assert_eq!(retention(45).fr, "45 jours");
        assert_eq!(retention(1).en, "1 day");
    }

    #[test]
    fn de_is_elided_before_a_vowel() {
        assert_eq!(de("Exemple SAS"), "d'Exemple SAS");
        assert_eq!(de("Orange"), "d'Orange");
        assert_eq!(de("Registre"), "de Registre");
        assert_eq!(de("Écolo"), "d'Écolo");
    }

    #[test]
    fn an_instant_is_written_in_the_zone_with_the_zone_named() {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 7, 2, 26, 0)
            .single()
            .unwrap();
        assert_eq!(
            date_time(at, DEFAULT_TIME_ZONE, Language::Fr),
            "7 décembre 2026 à 03:26 (heure de Paris)"
        );
        assert_eq!(
            date_time(at, DEFAULT_TIME_ZONE, Language::En),
            "7 December 2026 at 03:26 (Paris time)"
        );
        assert_eq!(
            date_time(at, chrono_tz::UTC, Language::En),
            "7 December 2026 at 02:26 (UTC)"
        );
        let first = Utc
            .with_ymd_and_hms(2026, 11, 30, 23, 30, 0)
            .single()
            .unwrap();
        assert_eq!(
            date(first, DEFAULT_TIME_ZONE, Language::Fr),
            "1er décembre 2026"
        );
    }
}
