//! Times as bingate handles them: Unix seconds inside, RFC 3339 at the edges.

/// An X.509 Time (UTCTime or GeneralizedTime) as Unix seconds.
pub fn unix(t: x509_cert::time::Time) -> u64 {
    t.to_unix_duration().as_secs()
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (the number itself if out of range).
pub fn show(secs: u64) -> String {
    der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| secs.to_string())
}

/// A point in time a report shows: Unix seconds inside, `YYYY-MM-DDTHH:MM:SSZ` (as [`show`]
/// writes it) in reports, JSON and text alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(u64);

impl Time {
    pub fn from_unix(secs: u64) -> Time {
        Time(secs)
    }

    /// An X.509 Time (UTCTime or GeneralizedTime).
    pub fn from_x509(t: x509_cert::time::Time) -> Time {
        Time(unix(t))
    }

    /// RFC 3339 text ([`parse_rfc3339`]).
    pub fn parse_rfc3339(s: &str) -> Option<Time> {
        parse_rfc3339(s).map(Time)
    }

    /// Unix seconds.
    pub fn unix(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&show(self.0))
    }
}

impl serde::Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&show(self.0))
    }
}

/// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`) to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let (date, rest) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (y, mo, da) = (
        d.next()?.parse::<u16>().ok()?,
        d.next()?.parse::<u8>().ok()?,
        d.next()?.parse::<u8>().ok()?,
    );
    let (clock, offset_secs): (&str, i64) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (c, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (hh, mm) = off.get(1..)?.split_once(':')?;
        (
            c,
            hh.parse::<i64>()
                .ok()?
                .checked_mul(3600)?
                .checked_add(mm.parse::<i64>().ok()?.checked_mul(60)?)?
                .checked_mul(sign)?,
        )
    };
    let clock = clock.split('.').next()?;
    let mut c = clock.split(':');
    let (h, mi, se) = (
        c.next()?.parse::<u8>().ok()?,
        c.next()?.parse::<u8>().ok()?,
        c.next()?.parse::<u8>().ok()?,
    );
    let dt = der::DateTime::new(y, mo, da, h, mi, se).ok()?;
    let local = i64::try_from(dt.unix_duration().as_secs()).ok()?;
    u64::try_from(local.checked_sub(offset_secs)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_honours_offsets() {
        assert_eq!(parse_rfc3339("2026-11-22T00:00:00Z"), Some(1_795_305_600));
        assert_eq!(
            parse_rfc3339("2026-11-22T01:00:00+01:00"),
            Some(1_795_305_600)
        );
        assert_eq!(parse_rfc3339("2026-11-22T00:00:00.5Z"), Some(1_795_305_600));
        assert_eq!(show(1_795_305_600), "2026-11-22T00:00:00Z");
        assert_eq!(parse_rfc3339("yesterday"), None);
        let t = Time::parse_rfc3339("2026-11-22T00:00:00Z").expect("time");
        assert_eq!(t.unix(), 1_795_305_600);
        assert_eq!(t.to_string(), "2026-11-22T00:00:00Z");
        assert_eq!(
            serde_json::to_string(&t).expect("json"),
            "\"2026-11-22T00:00:00Z\""
        );
    }
}
