//! Kubernetes resource quantities, restricted to the forms a profile needs:
//! memory and disk sizes (`512Mi`, `2Gi`, `1000M`, plain bytes) and CPU
//! (`250m`, `0.5`, `2`). Parsing is strict so a typo such as `5Gb` is an
//! error at load time, not a surprise when the manifest is applied.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A byte count written as a Kubernetes quantity (`512Mi`, `2Gi`, `500M`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

/// CPU in millicores, written as `250m`, `0.5` or `2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MilliCpu(pub u64);

const BYTE_SUFFIXES: &[(&str, u64)] = &[
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
];

impl Bytes {
    pub const fn gib(n: u64) -> Self {
        Self(n << 30)
    }
    pub const fn mib(n: u64) -> Self {
        Self(n << 20)
    }

    /// Parses `512Mi`, `1.5Gi`, `500M` or a plain byte count.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = "expected a size such as `512Mi`, `2Gi` or `500M` \
                        (binary Ki/Mi/Gi/Ti or decimal k/M/G/T)";
        let text = text.trim();
        let (number, factor) = BYTE_SUFFIXES
            .iter()
            .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
            .unwrap_or((text, 1));
        let value = parse_decimal(number, factor).ok_or_else(|| format!("invalid size `{text}`: {expected}"))?;
        Ok(Self(value))
    }

    /// The canonical Kubernetes form, used when rendering manifests.
    pub fn to_quantity(self) -> String {
        for (suffix, factor) in BYTE_SUFFIXES.iter().take(4).rev() {
            if self.0 >= *factor && self.0.is_multiple_of(*factor) {
                return format!("{}{suffix}", self.0 / factor);
            }
        }
        self.0.to_string()
    }
}

impl MilliCpu {
    /// Parses `250m`, `0.5` or `2`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = "expected CPU such as `250m`, `0.5` or `2`";
        let text = text.trim();
        let value = match text.strip_suffix('m') {
            Some(milli) if !milli.contains('.') => parse_decimal(milli, 1),
            Some(_) => None,
            None => parse_decimal(text, 1000),
        };
        value
            .map(Self)
            .ok_or_else(|| format!("invalid CPU quantity `{text}`: {expected}"))
    }

    pub fn to_quantity(self) -> String {
        if self.0.is_multiple_of(1000) {
            (self.0 / 1000).to_string()
        } else {
            format!("{}m", self.0)
        }
    }
}

/// `digits[.digits] * factor`, exact or rejected: a fraction that does not
/// land on a whole unit (`0.0001` CPU) is an error rather than silently rounded.
fn parse_decimal(number: &str, factor: u64) -> Option<u64> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(frac) || number.ends_with('.') {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let mut value = whole.checked_mul(factor)?;
    if !frac.is_empty() {
        let scale = 10u64.checked_pow(u32::try_from(frac.len()).ok()?)?;
        let numerator = frac.parse::<u64>().ok()?.checked_mul(factor)?;
        if numerator % scale != 0 {
            return None;
        }
        value = value.checked_add(numerator / scale)?;
    }
    Some(value)
}

/// Human-readable size in binary units (`1.5 GiB`), for tables and messages.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Human-readable CPU (`1.5 cores`, `250m`).
pub fn human_cpu(milli: u64) -> String {
    if milli >= 1000 {
        format!("{:.1} cores", milli as f64 / 1000.0)
    } else {
        format!("{milli}m")
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_bytes(self.0))
    }
}

impl fmt::Display for MilliCpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_cpu(self.0))
    }
}

/// YAML writes `2` and `0.5` as numbers and `250m` as a string: accept both.
fn quantity_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Float(f64),
        Text(String),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Int(n) => n.to_string(),
        Raw::Float(f) => f.to_string(),
        Raw::Text(s) => s,
    })
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&quantity_text(d)?).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for MilliCpu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&quantity_text(d)?).map_err(de::Error::custom)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl Serialize for MilliCpu {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_quantities_parse_binary_decimal_and_fractional_forms() {
        let cases = [
            ("512Mi", 512 << 20),
            ("2Gi", 2 << 30),
            ("1.5Gi", 3 << 29),
            ("500M", 500_000_000),
            ("1k", 1000),
            ("4096", 4096),
            ("1Ti", 1 << 40),
        ];
        for (text, want) in cases {
            assert_eq!(Bytes::parse(text), Ok(Bytes(want)), "{text}");
        }
    }

    #[test]
    fn byte_quantities_reject_typos_and_garbage() {
        for text in ["5Gb", "Mi", "", "1.Mi", "-1Gi", "1e3", "abc", "1.5", "2 Gi x"] {
            let err = Bytes::parse(text).unwrap_err();
            assert!(err.contains("expected a size"), "{text}: {err}");
        }
    }

    #[test]
    fn cpu_quantities_parse_millicores_and_cores() {
        for (text, want) in [("250m", 250), ("0.5", 500), ("2", 2000), ("1.25", 1250)] {
            assert_eq!(MilliCpu::parse(text), Ok(MilliCpu(want)), "{text}");
        }
        for text in ["0.0001", "2.5m", "1c", "m", "1Gi"] {
            assert!(MilliCpu::parse(text).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn canonical_forms_round_trip() {
        assert_eq!(Bytes::mib(512).to_quantity(), "512Mi");
        assert_eq!(Bytes::gib(3).to_quantity(), "3Gi");
        assert_eq!(Bytes(1000).to_quantity(), "1000");
        assert_eq!(MilliCpu(250).to_quantity(), "250m");
        assert_eq!(MilliCpu(2000).to_quantity(), "2");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(human_bytes(12), "12 B");
    }
}
