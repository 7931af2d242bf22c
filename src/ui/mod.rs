//! Everything the user sees. The only module that knows about terminals,
//! colour, indicatif and dialoguer. stdout carries results (tables, JSON);
//! progress, prompts and diagnostics go to stderr.

pub mod deploy;
pub mod install;
pub mod k3s;
mod progress;
mod prompt;
pub mod pull;
pub mod render;

use std::io::{IsTerminal, Write};

pub use progress::Spinner;
pub use prompt::Prompter;

use crate::error::Report;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Human,
    Json,
}

/// Which standard streams are terminals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terminal {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminal {
    pub fn detect() -> Self {
        Self {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }

    pub const NONE: Terminal = Terminal {
        stdin: false,
        stdout: false,
        stderr: false,
    };
}

/// Colour is decided once: `--color` beats `NO_COLOR`, which beats
/// `CLICOLOR_FORCE`/`FORCE_COLOR`, which beat terminal detection.
pub fn resolve_color(choice: ColorChoice, env: &dyn crate::host::Env, is_tty: bool) -> bool {
    let set = |name: &str| env.var(name).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE") || set("FORCE_COLOR") => true,
        ColorChoice::Auto => is_tty && env.var("TERM").is_none_or(|t| t != "dumb"),
    }
}

/// Writes results and messages with the resolved output settings.
pub struct Printer<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    pub output: Output,
    pub color_out: bool,
    pub color_err: bool,
    pub quiet: bool,
    /// Animation is allowed (stderr is a terminal, human output, not quiet).
    pub animate: bool,
}

impl<'a> Printer<'a> {
    pub fn new(
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        output: Output,
        color_out: bool,
        color_err: bool,
        quiet: bool,
        stderr_tty: bool,
    ) -> Self {
        Self {
            out,
            err,
            output,
            color_out,
            color_err,
            quiet,
            animate: stderr_tty && output == Output::Human && !quiet,
        }
    }

    /// A result line on stdout. Write errors (a closed pipe) are ignored:
    /// `digit-quickstart check | head` must not fail.
    pub fn out(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    /// A progress or diagnostic line on stderr, unless quiet.
    pub fn note(&mut self, text: &str) {
        if !self.quiet {
            let _ = writeln!(self.err, "{text}");
        }
    }

    /// Text for stderr that quiet does not hide (usage help on a usage error).
    pub fn diag(&mut self, text: &str) {
        let _ = writeln!(self.err, "{text}");
    }

    pub fn warn(&mut self, text: &str) {
        let label = paint(self.color_err, "warning", console::Style::new().yellow().bold());
        let _ = writeln!(self.err, "{label}: {text}");
    }

    pub fn json(&mut self, value: &impl serde::Serialize) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => self.out(&text),
            Err(e) => self.warn(&format!("could not encode JSON: {e}")),
        }
    }

    /// The one error renderer: `error:`, `caused by:` lines, detail, `hint:` lines.
    pub fn error(&mut self, report: &Report) {
        let chain = report.chain();
        if self.output == Output::Json {
            let value = serde_json::json!({
                "error": chain.first(),
                "causes": &chain[1..],
                "hints": report.hints,
                "exit_code": report.exit as u8,
            });
            let _ = writeln!(self.err, "{value}");
            return;
        }
        let _ = write!(self.err, "{}", render::error_text(report, self.color_err));
    }
}

pub(crate) fn paint(enabled: bool, text: &str, style: console::Style) -> String {
    if enabled {
        style.force_styling(true).apply_to(text).to_string()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Vars(HashMap<&'static str, &'static str>);
    impl crate::host::Env for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| (*v).to_owned())
        }
    }

    #[test]
    fn colour_precedence_is_flag_then_no_color_then_force_then_terminal() {
        let env = |pairs: &[(&'static str, &'static str)]| Vars(pairs.iter().copied().collect());
        assert!(resolve_color(ColorChoice::Always, &env(&[("NO_COLOR", "1")]), false));
        assert!(!resolve_color(ColorChoice::Never, &env(&[("FORCE_COLOR", "1")]), true));
        assert!(!resolve_color(
            ColorChoice::Auto,
            &env(&[("NO_COLOR", "1"), ("FORCE_COLOR", "1")]),
            true
        ));
        assert!(resolve_color(ColorChoice::Auto, &env(&[("FORCE_COLOR", "1")]), false));
        assert!(resolve_color(ColorChoice::Auto, &env(&[]), true));
        assert!(!resolve_color(ColorChoice::Auto, &env(&[]), false));
        assert!(!resolve_color(ColorChoice::Auto, &env(&[("TERM", "dumb")]), true));
        assert!(
            resolve_color(ColorChoice::Auto, &env(&[("NO_COLOR", "")]), true),
            "empty NO_COLOR is unset"
        );
    }
}
