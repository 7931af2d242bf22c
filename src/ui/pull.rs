//! Pull progress: indicatif bars on a terminal (one overall bar, a line per
//! image), one plain line per state change otherwise (plus a byte count at
//! most every 5 s while bytes move), or JSON events on stdout.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::images::progress::{Event, Reporter};
use crate::profile::quantity::human_bytes;

pub enum Mode {
    Bars,
    Lines,
    Json,
    Quiet,
}

pub struct PullProgress {
    mode: Mode,
    state: Mutex<State>,
}

struct State {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    /// Per image: its bar, blobs done, blobs waited on.
    per_image: HashMap<String, (ProgressBar, usize, usize)>,
    image_bytes: HashMap<String, u64>,
    total: u64,
    done: u64,
    last_line: Instant,
    started: Instant,
}

impl PullProgress {
    pub fn new(mode: Mode) -> Self {
        let multi = matches!(mode, Mode::Bars).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            mode,
            state: Mutex::new(State {
                multi,
                overall: None,
                per_image: HashMap::new(),
                image_bytes: HashMap::new(),
                total: 0,
                done: 0,
                last_line: Instant::now(),
                started: Instant::now(),
            }),
        }
    }

    fn line(text: &str) {
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    /// Clears every bar (an interrupted or failed pull leaves no stale lines).
    pub fn clear(&self) {
        let mut s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, (bar, _, _)) in s.per_image.drain() {
            bar.finish_and_clear();
        }
        if let Some(o) = s.overall.take() {
            o.finish_and_clear();
        }
    }

    /// A line from another stage running beside the pull, printed above the
    /// bars so the screen stays whole.
    pub fn println(&self, text: &str) {
        let s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match (&self.mode, &s.multi) {
            (Mode::Quiet | Mode::Json, _) => {}
            (Mode::Bars, Some(multi)) => {
                let _ = multi.println(text);
            }
            _ => Self::line(text),
        }
    }
}

impl Reporter for PullProgress {
    fn event(&self, event: &Event) {
        let mut s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match self.mode {
            Mode::Quiet => {}
            Mode::Json => {
                if !matches!(event, Event::Bytes { .. })
                    && let Ok(text) = serde_json::to_string(event)
                {
                    let _ = writeln!(std::io::stdout(), "{text}");
                }
            }
            Mode::Lines => match event {
                Event::Resolving { images } => Self::line(&format!("resolving {images} images")),
                Event::Resolved {
                    image,
                    missing_blobs,
                    missing_bytes,
                    ..
                } if *missing_blobs > 0 => {
                    Self::line(&format!(
                        "{image}: {missing_blobs} blobs to fetch ({})",
                        human_bytes(*missing_bytes)
                    ));
                }
                Event::Resolved { .. } => {}
                Event::Downloading { blobs, bytes } => {
                    s.total = *bytes;
                    s.started = Instant::now();
                    Self::line(&format!("fetching {blobs} blobs, {}", human_bytes(*bytes)));
                }
                Event::Bytes { n, .. } => {
                    s.done += n;
                    if s.last_line.elapsed() >= Duration::from_secs(5) {
                        s.last_line = Instant::now();
                        let rate = s.done as f64 / s.started.elapsed().as_secs_f64().max(0.001);
                        Self::line(&format!(
                            "progress: {} of {} ({}/s)",
                            human_bytes(s.done),
                            human_bytes(s.total),
                            human_bytes(rate as u64)
                        ));
                    }
                }
                Event::Retry {
                    image,
                    digest,
                    attempt,
                    reason,
                } => {
                    Self::line(&format!(
                        "retry {attempt} for {image} layer {}: {reason}",
                        short(digest)
                    ));
                }
                Event::Waiting {
                    registry,
                    seconds,
                    quota,
                } => Self::line(&format!(
                    "{registry} asked to wait {seconds}s (HTTP 429){}",
                    quota.as_ref().map(|q| format!(": {q}")).unwrap_or_default()
                )),
                Event::ImageDone { image, seconds, cached } => {
                    if *cached {
                        Self::line(&format!("{image}: already in the store"));
                    } else {
                        Self::line(&format!("{image}: done after {seconds:.1}s"));
                    }
                }
                // Too frequent for a line each; images report when done.
                Event::BlobDone { .. } | Event::Finished(_) => {}
            },
            Mode::Bars => {
                let Some(multi) = s.multi.clone() else { return };
                match event {
                    Event::Resolved {
                        image,
                        missing_blobs,
                        missing_bytes,
                        ..
                    } if *missing_blobs > 0 => {
                        let bar = multi.add(ProgressBar::new(*missing_bytes));
                        if let Ok(style) = ProgressStyle::with_template("  {msg:64!} {bytes:>10}/{total_bytes:10}") {
                            bar.set_style(style);
                        }
                        bar.set_message(format!("{image}  0/{missing_blobs} layers"));
                        s.per_image.insert(image.clone(), (bar, 0, *missing_blobs));
                    }
                    Event::Downloading { bytes, .. } => {
                        let bar = multi.insert(0, ProgressBar::new(*bytes));
                        if let Ok(style) = ProgressStyle::with_template(
                            "{bar:40.cyan/blue} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                        ) {
                            bar.set_style(style);
                        }
                        bar.enable_steady_tick(Duration::from_millis(200));
                        s.overall = Some(bar);
                    }
                    Event::Bytes { image, n } => {
                        if let Some(o) = &s.overall {
                            o.inc(*n);
                        }
                        *s.image_bytes.entry(image.clone()).or_default() += n;
                        if let Some((b, _, _)) = s.per_image.get(image) {
                            b.inc(*n);
                        }
                    }
                    Event::ImageDone { image, .. } => {
                        if let Some((b, _, _)) = s.per_image.remove(image) {
                            b.finish_and_clear();
                            let _ = multi.println(format!("  done  {image}"));
                        }
                    }
                    Event::Retry {
                        image, digest, reason, ..
                    } => {
                        let _ = multi.println(format!("  retry {image} {}: {reason}", short(digest)));
                    }
                    Event::Waiting { registry, seconds, .. } => {
                        let _ = multi.println(format!("  {registry} asked to wait {seconds}s (HTTP 429)"));
                    }
                    Event::BlobDone { images, .. } => {
                        for image in images {
                            if let Some((bar, done, total)) = s.per_image.get_mut(image) {
                                *done += 1;
                                bar.set_message(format!("{image}  {done}/{total} layers"));
                            }
                        }
                    }
                    Event::Finished(_) => {
                        if let Some(o) = s.overall.take() {
                            o.finish_and_clear();
                        }
                        for (_, (b, _, _)) in s.per_image.drain() {
                            b.finish_and_clear();
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

fn short(digest: &str) -> &str {
    let hex = digest.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}
