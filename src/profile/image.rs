//! Image references as a profile must write them: fully qualified
//! (`docker.io/egovio/egov-user:v2.9.2-4a60f20`), with a tag, and with an
//! optional `@sha256:` digest. Parsing is oci-spec's (the same type the
//! registry client uses); the extra rules keep profiles unambiguous, since
//! kubelet and containerd match images by their full name.

use std::fmt;
use std::str::FromStr;

use oci_spec::distribution::Reference;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    inner: Reference,
    text: String,
}

impl ImageRef {
    pub fn registry(&self) -> &str {
        self.inner.registry()
    }
    pub fn repository(&self) -> &str {
        self.inner.repository()
    }
    pub fn tag(&self) -> &str {
        self.inner.tag().unwrap_or_default()
    }
    pub fn digest(&self) -> Option<&str> {
        self.inner.digest()
    }
    pub fn reference(&self) -> &Reference {
        &self.inner
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The host the registry API answers on (Docker Hub's API host differs
    /// from its name in image references).
    pub fn api_host(&self) -> &str {
        match self.registry() {
            "docker.io" => "registry-1.docker.io",
            other => other,
        }
    }
}

impl ImageRef {
    /// Accepts what `docker pull` accepts (`redis:7`, `egovio/x`) and
    /// returns the fully-qualified form (`docker.io/library/redis:7`).
    pub fn normalize(text: &str) -> Result<Self, String> {
        let inner = Reference::from_str(text).map_err(|e| format!("invalid image reference `{text}`: {e}"))?;
        inner.whole().parse()
    }
}

impl FromStr for ImageRef {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let inner = Reference::from_str(text).map_err(|e| format!("invalid image reference `{text}`: {e}"))?;
        let has_explicit_tag = text
            .rsplit('/')
            .next()
            .is_some_and(|last| last.split('@').next().is_some_and(|n| n.contains(':')));
        if !has_explicit_tag {
            return Err(format!(
                "image reference `{text}` has no tag: write it as `{}:<tag>` \
                 (a digest may follow as `@sha256:...`)",
                text.split('@').next().unwrap_or(text)
            ));
        }
        if inner.whole() != text {
            return Err(format!(
                "image reference `{text}` is not fully qualified: write `{}`",
                inner.whole()
            ));
        }
        if let Some(digest) = inner.digest()
            && (!digest.starts_with("sha256:")
                || !digest[7..]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        {
            return Err(format!(
                "image reference `{text}` has digest `{digest}`: expected `sha256:` and 64 lowercase hex digits"
            ));
        }
        Ok(Self {
            inner,
            text: text.to_owned(),
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ImageRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

impl Serialize for ImageRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:2c81a3f3527c590180cd71717ea23d83d023669b38439720fdce62fe23543536";

    #[test]
    fn fully_qualified_references_with_tag_and_optional_digest_parse() {
        let r: ImageRef = "docker.io/egovio/egov-user:master-fa75ba8".parse().unwrap();
        assert_eq!(r.registry(), "docker.io");
        assert_eq!(r.repository(), "egovio/egov-user");
        assert_eq!(r.tag(), "master-fa75ba8");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let pinned: ImageRef = format!("docker.io/library/redis:7.2.4@{DIGEST}").parse().unwrap();
        assert_eq!(pinned.digest(), Some(DIGEST));
        let local: ImageRef = "127.0.0.1:5000/test/busybox:1.0".parse().unwrap();
        assert_eq!(local.api_host(), "127.0.0.1:5000");
    }

    #[test]
    fn short_untagged_and_malformed_references_are_rejected_with_the_fix() {
        let cases = [
            (
                "egovio/egov-user:v1",
                "not fully qualified: write `docker.io/egovio/egov-user:v1`",
            ),
            ("redis:7", "not fully qualified: write `docker.io/library/redis:7`"),
            ("docker.io/egovio/egov-user", "has no tag"),
            ("docker.io/egovio/x@sha256:abc", "invalid image reference"),
            ("docker.io/Egovio/x:1", "invalid image reference"),
            ("", "invalid image reference"),
        ];
        for (text, want) in cases {
            let err = text.parse::<ImageRef>().unwrap_err();
            assert!(err.contains(want), "{text}: got {err}");
        }
    }
}
