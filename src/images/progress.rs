//! Pull progress as events; `ui` renders them (bars, plain lines or JSON).

use serde::Serialize;

use super::engine::PullSummary;

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    // `Resolved::missing_bytes`: what this image will fetch; shared blobs count
    // under the first image that needs them, so the per-image sums add up.
    Resolving {
        images: usize,
    },
    Resolved {
        image: String,
        digest: String,
        layers: usize,
        bytes: u64,
        missing_blobs: usize,
        missing_bytes: u64,
    },
    Downloading {
        blobs: usize,
        bytes: u64,
    },
    /// Bytes arrived (high frequency; not a state change).
    Bytes {
        image: String,
        n: u64,
    },
    Retry {
        image: String,
        digest: String,
        attempt: u32,
        reason: String,
    },
    /// A blob is verified and in the store; `images` are the ones waiting on it.
    BlobDone {
        digest: String,
        size: u64,
        images: Vec<String>,
    },
    /// The registry asked to wait (HTTP 429 with a short Retry-After).
    Waiting {
        registry: String,
        seconds: u64,
        quota: Option<String>,
    },
    ImageDone {
        image: String,
        seconds: f64,
        cached: bool,
    },
    Finished(PullSummary),
}

pub trait Reporter: Send + Sync {
    fn event(&self, event: &Event);
}

/// Discards events (library use, tests that do not look at progress).
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: &Event) {}
}
