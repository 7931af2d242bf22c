//! Progress of the deploy: on a terminal one live line per component of the
//! current wave (state, restarts, age); otherwise a line whenever a
//! component's state changes and a "still waiting" line at least every 10 s.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};

use crate::deploy::run::{Progress, Row};

pub struct DeployProgress {
    animate: bool,
    quiet: bool,
    state: Mutex<State>,
}

struct State {
    multi: MultiProgress,
    lines: HashMap<String, ProgressBar>,
    last: HashMap<String, String>,
    last_print: Instant,
}

pub fn row_text(r: &Row) -> String {
    format!(
        "{:<24} {:<26} restarts {:<3} {:>4}s",
        r.component,
        r.state,
        r.restarts,
        r.age.as_secs()
    )
}

impl DeployProgress {
    pub fn new(animate: bool, quiet: bool) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        Self {
            animate: animate && !quiet,
            quiet,
            state: Mutex::new(State {
                multi,
                lines: HashMap::new(),
                last: HashMap::new(),
                last_print: Instant::now(),
            }),
        }
    }

    fn print(&self, s: &State, text: &str) {
        if self.quiet {
            return;
        }
        if self.animate {
            let _ = s.multi.println(text);
        } else {
            let _ = writeln!(std::io::stderr(), "{text}");
        }
    }

    pub fn event(&self, p: &Progress) {
        let mut s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match p {
            Progress::Base { objects } => {
                self.print(
                    &s,
                    &format!("applied {objects} shared objects (namespace, config, secrets, services, ingress)"),
                );
            }
            Progress::Wave {
                index,
                total,
                components,
            } => {
                self.print(&s, &format!("wave {index}/{total}: {}", components.join(", ")));
            }
            Progress::Table(rows) => {
                for r in rows.iter() {
                    let text = row_text(r);
                    if self.animate {
                        if r.ready {
                            continue;
                        }
                        let multi = s.multi.clone();
                        let line = s.lines.entry(r.component.clone()).or_insert_with(|| {
                            let l = multi.add(ProgressBar::new_spinner());
                            l.enable_steady_tick(Duration::from_millis(120));
                            l
                        });
                        line.set_message(text);
                    } else {
                        let changed = s.last.get(&r.component) != Some(&r.state);
                        if changed && !r.ready {
                            s.last.insert(r.component.clone(), r.state.clone());
                            self.print(&s, &format!("  {text}"));
                        }
                    }
                }
                if !self.animate && s.last_print.elapsed() >= Duration::from_secs(10) {
                    let waiting: Vec<String> = rows
                        .iter()
                        .filter(|r| !r.ready)
                        .map(|r| format!("{} ({})", r.component, r.state))
                        .collect();
                    if !waiting.is_empty() {
                        self.print(&s, &format!("  still waiting: {}", waiting.join(", ")));
                    }
                    s.last_print = Instant::now();
                }
            }
            Progress::Ready { component, after } => {
                if let Some(l) = s.lines.remove(*component) {
                    l.finish_and_clear();
                }
                self.print(&s, &format!("  ok  {component} ready ({}s)", after.as_secs()));
            }
            Progress::Seed { name, state } => {
                self.print(&s, &format!("  seed {name}: {state}"));
            }
            Progress::Replaced { what } => {
                self.print(&s, &format!("  replaced {what}: a field of it cannot change in place"));
            }
        }
    }

    pub fn finish(&self) {
        let mut s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, l) in s.lines.drain() {
            l.finish_and_clear();
        }
    }
}
