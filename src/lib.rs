//! digit-quickstart: one static binary that takes a fresh Linux VM to a
//! working DIGIT dev/test deployment on k3s.
//!
//! Layers, top down: `cli` (arguments → settings → a command), `ui` (all
//! output), the stages (`preflight`, `k3s`, `images`, `deploy`, `health`,
//! `journal`) which compute a `plan`, `profile`, and `host` (every side
//! effect, behind traits).

pub mod backup;
pub mod bundle;
pub mod cli;
pub mod deploy;
pub mod doctor;
pub mod env_vars;
pub mod error;
pub mod export;
pub mod golden;
pub mod health;
pub mod host;
pub mod images;
pub mod install;
pub mod journal;
pub mod k3s;
pub mod layout;
pub mod logging;
pub mod plan;
pub mod preflight;
pub mod profile;
pub mod serve;
pub mod status;
pub mod ui;
pub mod upgrade;

pub use cli::run;
pub use error::Exit;
