//! Progress of the k3s stage: on a terminal a byte bar for downloads and a
//! live line for the current wait; otherwise one line per change, a byte
//! count at most every 5 s, and a "still waiting" line at least every 10 s.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::k3s::lifecycle::Progress;
use crate::profile::quantity::human_bytes;

/// Receives finished lines when another display owns the terminal.
pub type Sink = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

pub struct K3sProgress {
    animate: bool,
    quiet: bool,
    state: Mutex<State>,
    /// Where lines go when another display owns the terminal (the pull's bars).
    sink: Option<Sink>,
}

struct State {
    bar: Option<ProgressBar>,
    line: Option<ProgressBar>,
    bytes: u64,
    size: u64,
    last_print: Instant,
    last_wait: String,
}

impl K3sProgress {
    pub fn new(animate: bool, quiet: bool) -> Self {
        Self {
            animate,
            quiet,
            state: Mutex::new(State {
                bar: None,
                line: None,
                bytes: 0,
                size: 0,
                last_print: Instant::now(),
                last_wait: String::new(),
            }),
            sink: None,
        }
    }

    /// Plain lines only, handed to `sink` (no bars of its own).
    pub fn beside(quiet: bool, sink: Sink) -> Self {
        let mut p = Self::new(false, quiet);
        p.sink = Some(sink);
        p
    }

    fn print(&self, s: &State, text: &str) {
        if self.quiet {
            return;
        }
        if let Some(sink) = &self.sink {
            sink(text);
            return;
        }
        match s.line.as_ref().or(s.bar.as_ref()) {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }

    pub fn event(&self, p: &Progress) {
        let mut s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match p {
            Progress::Downloading { name, size } => {
                if let Some(b) = s.bar.take() {
                    b.finish_and_clear();
                }
                (s.bytes, s.size, s.last_print) = (0, *size, Instant::now());
                if self.animate && !self.quiet {
                    let bar = ProgressBar::with_draw_target(Some(*size), ProgressDrawTarget::stderr());
                    if let Ok(style) = ProgressStyle::with_template(
                        "{msg} {bar:30.cyan/blue} {bytes}/{total_bytes} {binary_bytes_per_sec}",
                    ) {
                        bar.set_style(style);
                    }
                    bar.set_message(format!("downloading {name}"));
                    s.bar = Some(bar);
                } else {
                    self.print(&s, &format!("downloading {name} (about {})", human_bytes(*size)));
                }
            }
            Progress::Bytes(n) => {
                s.bytes += n;
                if let Some(b) = &s.bar {
                    b.inc(*n);
                } else if s.last_print.elapsed() >= Duration::from_secs(5) {
                    s.last_print = Instant::now();
                    let text = format!("downloaded {} of about {}", human_bytes(s.bytes), human_bytes(s.size));
                    self.print(&s, &text);
                }
            }
            Progress::Placed(f) => {
                if let Some(b) = s.bar.take() {
                    b.finish_and_clear();
                }
                if f.changed() {
                    let text = format!("{:?} {}", f.action, f.path.display()).to_lowercase();
                    self.print(&s, &text);
                }
            }
            Progress::Service(step) => self.print(&s, &format!("systemd: {}", service_words(*step))),
            Progress::Waiting {
                name,
                met,
                seen,
                elapsed,
            } => {
                let key = format!("{name}|{met}|{seen}");
                if *met {
                    if let Some(l) = s.line.take() {
                        l.finish_and_clear();
                    }
                    if s.last_wait != key {
                        self.print(&s, &format!("ok  {name} ({}s)", elapsed.as_secs()));
                    }
                } else if self.animate && !self.quiet {
                    let line = s.line.get_or_insert_with(|| {
                        let l = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                        l.enable_steady_tick(Duration::from_millis(120));
                        l
                    });
                    line.set_message(format!("waiting for {name}: {seen} ({}s)", elapsed.as_secs()));
                } else if s.last_wait != key || s.last_print.elapsed() >= Duration::from_secs(10) {
                    s.last_print = Instant::now();
                    self.print(&s, &format!("waiting for {name}: {seen} ({}s)", elapsed.as_secs()));
                }
                s.last_wait = key;
            }
        }
    }

    pub fn finish(&self) {
        let mut s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for b in [s.bar.take(), s.line.take()].into_iter().flatten() {
            b.finish_and_clear();
        }
    }
}

fn service_words(step: crate::k3s::install::ServiceStep) -> &'static str {
    use crate::k3s::install::ServiceStep::*;
    match step {
        DaemonReload => "reload unit files",
        EnableNow => "enable and start k3s",
        Restart => "restart k3s with the new settings",
    }
}
