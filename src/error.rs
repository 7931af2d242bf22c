//! Errors as users see them: typed errors below, one `Report` at the top that
//! carries the exit code and hints, rendered once by `ui::render_error`.

use std::error::Error as StdError;
use std::fmt;

/// Exit codes, documented in `--help` and the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything requested succeeded (warnings allowed).
    Success = 0,
    /// A host check (or later a health check) failed.
    CheckFailed = 1,
    /// Bad command line or bad input such as an invalid profile.
    Usage = 2,
    /// The command is not available in this build yet.
    NotAvailable = 3,
    /// An operation failed: I/O, network, or an unexpected state.
    Failed = 4,
    /// Stopped by Ctrl-C or SIGTERM at a safe point (128 + SIGINT).
    Interrupted = 130,
}

/// Extra help an error type can offer the renderer.
pub trait Diagnostic: StdError {
    /// Actionable next steps, each one line.
    fn hints(&self) -> Vec<String> {
        Vec::new()
    }
    /// A multi-line block shown under the message (e.g. a source snippet).
    fn detail(&self) -> Option<String> {
        None
    }
}

/// The error a command returns: what failed, why (the source chain), what
/// to do, and how the process exits.
pub struct Report {
    pub error: Box<dyn StdError + Send + Sync>,
    pub exit: Exit,
    pub hints: Vec<String>,
    pub detail: Option<String>,
}

impl Report {
    pub fn new<E: Diagnostic + Send + Sync + 'static>(error: E, exit: Exit) -> Self {
        Self {
            hints: error.hints(),
            detail: error.detail(),
            error: Box::new(error),
            exit,
        }
    }

    pub fn msg(message: impl Into<String>, exit: Exit) -> Self {
        Self {
            error: Box::new(Message(message.into())),
            exit,
            hints: Vec::new(),
            detail: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The message and then each cause, outermost first.
    pub fn chain(&self) -> Vec<String> {
        let mut out = vec![self.error.to_string()];
        let mut next = self.error.source();
        while let Some(cause) = next {
            out.push(cause.to_string());
            next = cause.source();
        }
        out
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Report({:?}, {:?})", self.chain(), self.exit)
    }
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

/// An I/O failure with the operation and path it concerned.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} `{}`", path.display())]
pub struct IoError {
    pub action: &'static str,
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl Diagnostic for IoError {
    fn hints(&self) -> Vec<String> {
        match self.source.kind() {
            std::io::ErrorKind::PermissionDenied => {
                vec!["run as root (sudo), or choose another --data-dir you can write".to_owned()]
            }
            _ => Vec::new(),
        }
    }
}

impl From<crate::profile::ProfileError> for Report {
    fn from(e: crate::profile::ProfileError) -> Self {
        Report::new(e, Exit::Usage)
    }
}

impl From<IoError> for Report {
    fn from(e: IoError) -> Self {
        Report::new(e, Exit::Failed)
    }
}
