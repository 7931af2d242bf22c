//! The one way to run a host command: it carries a human summary of what the
//! command is for, logs its argv, and puts stderr into the error.

use std::process::Command;

/// A command to run, with what it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmd {
    pub program: String,
    pub args: Vec<String>,
    /// What this does, in words a user understands ("ask systemd whether k3s runs").
    pub summary: String,
    /// Fed to the command's standard input (never logged: it may hold rules or secrets).
    pub stdin: Option<String>,
}

impl Cmd {
    pub fn new(program: &str, summary: &str) -> Self {
        Self {
            program: program.to_owned(),
            args: Vec::new(),
            summary: summary.to_owned(),
            stdin: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn stdin(mut self, input: String) -> Self {
        self.stdin = Some(input);
        self
    }

    pub fn argv(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error("could not {summary}: `{argv}` could not be started")]
    Spawn {
        summary: String,
        argv: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not {summary}: `{argv}` exited with {}{}", code.map_or("a signal".to_owned(), |c| format!("status {c}")), if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed {
        summary: String,
        argv: String,
        code: Option<i32>,
        stderr: String,
    },
}

impl crate::error::Diagnostic for CmdError {}

pub trait Runner: Send + Sync {
    /// Runs the command and returns its output whatever its exit status.
    fn output(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError>;

    /// Runs the command and fails unless it exits 0.
    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
        let out = self.output(cmd)?;
        if out.code == Some(0) {
            Ok(out)
        } else {
            Err(CmdError::Failed {
                summary: cmd.summary.clone(),
                argv: cmd.argv(),
                code: out.code,
                stderr: last_lines(&out.stderr, 5),
            })
        }
    }
}

/// Runs real processes.
pub struct ProcessRunner;

impl Runner for ProcessRunner {
    fn output(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
        tracing::debug!(argv = %cmd.argv(), summary = %cmd.summary, "running command");
        let spawn_err = |source| CmdError::Spawn {
            summary: cmd.summary.clone(),
            argv: cmd.argv(),
            source,
        };
        let stdin = if cmd.stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        };
        #[allow(clippy::disallowed_methods)] // this is the one sanctioned place
        let mut child = Command::new(&cmd.program)
            .args(&cmd.args)
            .stdin(stdin)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(spawn_err)?;
        if let (Some(input), Some(mut pipe)) = (&cmd.stdin, child.stdin.take()) {
            use std::io::Write as _;
            // A command that exits without reading all input is judged by its status.
            let _ = pipe.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().map_err(spawn_err)?;
        let result = CmdOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        tracing::debug!(argv = %cmd.argv(), code = ?result.code, "command finished");
        Ok(result)
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_command_reports_its_purpose_argv_status_and_stderr() {
        let cmd = Cmd::new("sh", "test the wrapper")
            .arg("-c")
            .arg("echo partial; echo 'boom: disk full' >&2; exit 3");
        let err = ProcessRunner.run(&cmd).unwrap_err().to_string();
        assert_eq!(
            err,
            "could not test the wrapper: `sh -c echo partial; echo 'boom: disk full' >&2; exit 3` exited with status 3: boom: disk full"
        );
    }

    #[test]
    fn a_successful_command_returns_its_stdout() {
        let out = ProcessRunner
            .run(&Cmd::new("sh", "echo").arg("-c").arg("echo hi"))
            .unwrap();
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(out.code, Some(0));
    }

    #[test]
    fn stdin_is_fed_to_the_command() {
        let out = ProcessRunner
            .run(
                &Cmd::new("sh", "count lines")
                    .arg("-c")
                    .arg("wc -l")
                    .stdin("a\nb\n".into()),
            )
            .unwrap();
        assert_eq!(out.stdout.trim(), "2");
    }

    #[test]
    fn a_missing_program_is_a_spawn_error_naming_it() {
        let err = ProcessRunner
            .run(&Cmd::new("/nonexistent/prog", "start the impossible"))
            .unwrap_err();
        assert!(matches!(err, CmdError::Spawn { .. }));
        assert!(err.to_string().contains("`/nonexistent/prog` could not be started"));
    }
}
