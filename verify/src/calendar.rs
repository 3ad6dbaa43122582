//! Public holidays and calling hours.
//!
//! French rule D223-9 allows canvassing calls Monday to Friday, 10:00–13:00 and 14:00–20:00, in
//! the customer's time zone, and never on a public holiday. The holidays are computed, not
//! listed, so that every year works: the fixed ones plus those that move with Easter (Easter
//! Monday, Ascension, Whit Monday). Alsace-Moselle keeps two more (Good Friday, 26 December).

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};

/// Which public holidays a calling-hours rule observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holidays {
    None,
    France,
    /// France plus Good Friday and Saint Stephen's day (Bas-Rhin, Haut-Rhin, Moselle).
    AlsaceMoselle,
}

impl Holidays {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Holidays::None),
            "fr" => Some(Holidays::France),
            "fr-alsace-moselle" => Some(Holidays::AlsaceMoselle),
            _ => None,
        }
    }

    /// The holiday's French name when `day` is one.
    pub fn holiday(self, day: NaiveDate) -> Option<&'static str> {
        if self == Holidays::None {
            return None;
        }
        let year = day.year();
        let fixed = |m, d| NaiveDate::from_ymd_opt(year, m, d);
        let mut days: Vec<(Option<NaiveDate>, &'static str)> = vec![
            (fixed(1, 1), "jour de l'an"),
            (fixed(5, 1), "fête du travail"),
            (fixed(5, 8), "victoire 1945"),
            (fixed(7, 14), "fête nationale"),
            (fixed(8, 15), "Assomption"),
            (fixed(11, 1), "Toussaint"),
            (fixed(11, 11), "armistice 1918"),
            (fixed(12, 25), "Noël"),
        ];
        if let Ok(easter) = computus::gregorian_naive(year) {
            days.push((Some(easter + Duration::days(1)), "lundi de Pâques"));
            days.push((Some(easter + Duration::days(39)), "Ascension"));
            days.push((Some(easter + Duration::days(50)), "lundi de Pentecôte"));
            if self == Holidays::AlsaceMoselle {
                days.push((Some(easter - Duration::days(2)), "Vendredi saint"));
                days.push((fixed(12, 26), "Saint-Étienne"));
            }
        }
        days.into_iter()
            .find(|(d, _)| *d == Some(day))
            .map(|(_, name)| name)
    }
}

/// A daily time range, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Range {
    /// Parses "10:00-13:00".
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.split_once('-')?;
        let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
        let (start, end) = (t(a)?, t(b)?);
        (start < end).then_some(Self { start, end })
    }
}

pub fn parse_weekday(s: &str) -> Option<Weekday> {
    match s.to_ascii_lowercase().as_str() {
        "mon" | "monday" | "lundi" => Some(Weekday::Mon),
        "tue" | "tuesday" | "mardi" => Some(Weekday::Tue),
        "wed" | "wednesday" | "mercredi" => Some(Weekday::Wed),
        "thu" | "thursday" | "jeudi" => Some(Weekday::Thu),
        "fri" | "friday" | "vendredi" => Some(Weekday::Fri),
        "sat" | "saturday" | "samedi" => Some(Weekday::Sat),
        "sun" | "sunday" | "dimanche" => Some(Weekday::Sun),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn movable_french_holidays() {
        let fr = Holidays::France;
        // Easter 2026 is 5 April, 2027 is 28 March.
        assert_eq!(fr.holiday(d(2026, 4, 6)), Some("lundi de Pâques"));
        assert_eq!(fr.holiday(d(2026, 5, 14)), Some("Ascension"));
        assert_eq!(fr.holiday(d(2026, 5, 25)), Some("lundi de Pentecôte"));
        assert_eq!(fr.holiday(d(2027, 3, 29)), Some("lundi de Pâques"));
        assert_eq!(fr.holiday(d(2027, 5, 6)), Some("Ascension"));
        assert_eq!(fr.holiday(d(2026, 7, 14)), Some("fête nationale"));
        assert_eq!(fr.holiday(d(2026, 5, 13)), None);
        assert_eq!(fr.holiday(d(2026, 4, 3)), None);
        assert_eq!(
            Holidays::AlsaceMoselle.holiday(d(2026, 4, 3)),
            Some("Vendredi saint")
        );
        assert_eq!(Holidays::None.holiday(d(2026, 12, 25)), None);
    }

    #[test]
    fn ranges() {
        let r = Range::parse("10:00-13:00").unwrap();
        assert_eq!(r.start, NaiveTime::from_hms_opt(10, 0, 0).unwrap());
        assert!(Range::parse("13:00-10:00").is_none());
        assert!(Range::parse("10h-13h").is_none());
        assert_eq!(parse_weekday("Vendredi"), Some(Weekday::Fri));
    }
}
