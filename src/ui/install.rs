//! The install's phase list: a line when a phase starts and one when it
//! ends (✓, ✗, or "skipped" when a re-check showed it was still done), with
//! its time; JSON events instead with `--output json`.

use std::io::Write;

use crate::install::{PhaseEvent, PhaseState};

pub struct PhaseList {
    pub json: bool,
    pub quiet: bool,
    pub color: bool,
}

impl PhaseList {
    /// News within a phase, as a plain line (nothing in JSON or quiet mode).
    pub fn line(&self, text: &str) {
        if !self.json && !self.quiet {
            let _ = writeln!(std::io::stderr(), "{text}");
        }
    }

    pub fn event(&self, e: &PhaseEvent) {
        if self.json {
            let (state, seconds, skipped) = match e.state {
                PhaseState::Started => ("started", None, None),
                PhaseState::Done { seconds, skipped } => ("done", Some(seconds), Some(skipped)),
                PhaseState::Failed { seconds } => ("failed", Some(seconds), None),
            };
            let v = serde_json::json!({"event": "phase", "id": e.id, "title": e.title, "state": state,
                "seconds": seconds, "skipped": skipped, "detail": e.detail});
            let _ = writeln!(std::io::stdout(), "{v}");
            return;
        }
        if self.quiet {
            return;
        }
        let text = match e.state {
            PhaseState::Started => format!("==> {}", e.title),
            PhaseState::Done { seconds, skipped } => format!(
                "{} {} ({:.1}s){}{}",
                super::paint(self.color, "✓", console::Style::new().green().bold()),
                e.title,
                seconds,
                if skipped { ", already done: skipped" } else { "" },
                e.detail.map(|d| format!(": {d}")).unwrap_or_default()
            ),
            PhaseState::Failed { seconds } => format!(
                "{} {} ({:.1}s)",
                super::paint(self.color, "✗", console::Style::new().red().bold()),
                e.title,
                seconds
            ),
        };
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}
