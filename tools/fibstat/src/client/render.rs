//! Rendering of [`Stats`]: a readable table and a flat JSON object.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::msg::{Located, Stats};

/// The JSON form of [`Stats`] (`fibstat show --json`). The keys are an
/// interface: tests and scripts parse them (and so does the `make repro`
/// verdict, which reads this struct back); see README.md.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatsJson {
    pub lock_mode: String,
    pub version: u8,
    pub netns_inum: u32,
    pub nl_requests: u64,
    pub gateway_records: u64,
    pub neigh_updates: u64,
    pub redirects: u64,
    pub last_gateway: Option<String>,
    pub last_gateway_ifindex: Option<u32>,
    pub last_neigh: Option<String>,
    pub last_neigh_ifindex: Option<u32>,
    pub last_update_ns: u64,
    /// Absent from older modules' replies (and from older JSON): null.
    #[serde(default)]
    pub hardirq_ticks: Option<u64>,
}

impl From<&Stats> for StatsJson {
    fn from(s: &Stats) -> Self {
        StatsJson {
            lock_mode: s.lock_mode.to_string(),
            version: s.version,
            netns_inum: s.netns_inum,
            nl_requests: s.nl_requests,
            gateway_records: s.gateway_records,
            neigh_updates: s.neigh_updates,
            redirects: s.redirects,
            last_gateway: s.last_gateway.map(|l| l.addr.to_string()),
            last_gateway_ifindex: s.last_gateway.map(|l| l.ifindex),
            last_neigh: s.last_neigh.map(|l| l.addr.to_string()),
            last_neigh_ifindex: s.last_neigh.map(|l| l.ifindex),
            last_update_ns: s.last_update_ns,
            hardirq_ticks: s.hardirq_ticks,
        }
    }
}

/// The statistics as one JSON object: compact, or pretty-printed (one key
/// per line).
pub fn json(stats: &Stats, pretty: bool) -> String {
    let j = StatsJson::from(stats);
    let r = if pretty {
        serde_json::to_string_pretty(&j)
    } else {
        serde_json::to_string(&j)
    };
    // A flat struct of strings and numbers always serializes.
    r.unwrap_or_default()
}

fn located(l: &Option<Located>) -> String {
    match l {
        Some(l) => format!("{} (ifindex {})", l.addr, l.ifindex),
        None => "none".to_owned(),
    }
}

/// A two-column table, one statistic per line.
pub fn table(s: &Stats) -> String {
    let rows = [
        ("lock mode", s.lock_mode.to_string()),
        ("version", s.version.to_string()),
        ("netns inode", s.netns_inum.to_string()),
        ("netlink requests", s.nl_requests.to_string()),
        ("gateway records", s.gateway_records.to_string()),
        ("neighbour updates", s.neigh_updates.to_string()),
        ("redirects", s.redirects.to_string()),
        (
            "hardirq ticks",
            s.hardirq_ticks
                .map_or_else(|| "n/a".to_owned(), |t| t.to_string()),
        ),
        ("last gateway", located(&s.last_gateway)),
        ("last neighbour", located(&s.last_neigh)),
        ("last update", realtime(s.last_update_ns)),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<width$}  {v}");
    }
    out
}

/// CLOCK_REALTIME nanoseconds as UTC date and time, "never" for 0.
pub fn realtime(ns: u64) -> String {
    if ns == 0 {
        return "never".to_owned();
    }
    let secs = ns / 1_000_000_000;
    let (days, sod) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:09} UTC",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        ns % 1_000_000_000
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(realtime(0), "never");
        assert_eq!(realtime(1), "1970-01-01 00:00:00.000000001 UTC");
        // 2024-02-29 12:34:56 UTC
        assert_eq!(
            realtime(1_709_210_096_000_000_123),
            "2024-02-29 12:34:56.000000123 UTC"
        );
    }
}
