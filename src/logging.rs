//! Logs: `-v` / `-vv` on stderr, and for `install`, `reset` and friends a
//! debug log file in the data dir. Every line passes a redactor that knows
//! the install's secret values once they are loaded, so a secret never
//! reaches a log even if some library prints it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub const REDACTED: &str = "[REDACTED]";

/// Adds values to hide from every log line from now on.
pub fn redact<'a>(values: impl IntoIterator<Item = &'a str>) {
    let mut s = SECRETS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for v in values {
        if v.len() >= 6 && !s.iter().any(|x| x == v) {
            s.push(v.to_owned());
        }
    }
}

/// `text` with every known secret value replaced.
pub fn redacted(text: &str) -> String {
    let s = SECRETS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = text.to_owned();
    for v in s.iter() {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), REDACTED);
        }
    }
    out
}

#[derive(Clone)]
struct RedactingFile(Arc<Mutex<std::fs::File>>);

impl Write for RedactingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = redacted(&String::from_utf8_lossy(buf));
        let mut f = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f.write_all(text.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).flush()
    }
}

impl<'a> MakeWriter<'a> for RedactingFile {
    type Writer = RedactingFile;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[derive(Clone, Copy)]
struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().write_all(redacted(&String::from_utf8_lossy(buf)).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingStderr;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Installs the subscriber once. `file`: debug detail for this crate, kube's
/// requests and the HTTP clients.
pub fn init(verbose: u8, file: Option<std::fs::File>) {
    let level = match verbose {
        0 => LevelFilter::OFF,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(RedactingStderr)
        .without_time()
        .with_target(false)
        .with_filter(level);
    let file_layer = file.map(|f| {
        let targets = Targets::new()
            .with_target("digit_quickstart", LevelFilter::DEBUG)
            .with_target("kube_client", LevelFilter::DEBUG)
            .with_target("oci_client", LevelFilter::DEBUG)
            .with_target("reqwest", LevelFilter::DEBUG);
        tracing_subscriber::fmt::layer()
            .with_writer(RedactingFile(Arc::new(Mutex::new(f))))
            .with_ansi(false)
            .with_filter(targets)
    });
    let subscriber = Registry::default().with(stderr).with(file_layer);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_secret_values_are_replaced_and_short_ones_ignored() {
        super::redact(["Zq8pW3nX5tY7", "abc"]);
        assert_eq!(
            super::redacted("password=Zq8pW3nX5tY7&user=abc"),
            "password=[REDACTED]&user=abc"
        );
    }
}

/// (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's
/// civil_from_days).
pub fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `20261122T034456Z`: sortable, no spaces or colons (file names).
pub fn stamp(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod stamp_tests {
    #[test]
    fn stamps_are_utc_and_sortable() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_319_096);
        assert_eq!(super::stamp(t), "20261122T034456Z");
        assert_eq!(super::stamp(std::time::UNIX_EPOCH), "19700101T000000Z");
    }
}
