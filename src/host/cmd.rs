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

/// Writes a command's standard input as it runs (a stream too large to hold).
pub type Feed<'a> = &'a mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>;

pub trait Runner: Send + Sync {
    /// Runs the command and returns its output whatever its exit status.
    fn output(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError>;

    /// Runs the command with `feed` writing its standard input while it
    /// runs, and returns its output whatever its exit status. When the
    /// command stops reading (it failed), its own status and stderr say why.
    fn output_fed(&self, cmd: &Cmd, feed: Feed<'_>) -> Result<CmdOutput, CmdError>;

    /// `output_fed`, failing unless the command exits 0.
    fn run_fed(&self, cmd: &Cmd, feed: Feed<'_>) -> Result<CmdOutput, CmdError> {
        let out = self.output_fed(cmd, feed)?;
        check(cmd, out)
    }

    /// Runs the command and fails unless it exits 0.
    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
        let out = self.output(cmd)?;
        check(cmd, out)
    }
}

fn check(cmd: &Cmd, out: CmdOutput) -> Result<CmdOutput, CmdError> {
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

    fn output_fed(&self, cmd: &Cmd, feed: Feed<'_>) -> Result<CmdOutput, CmdError> {
        use std::io::Read as _;
        tracing::debug!(argv = %cmd.argv(), summary = %cmd.summary, "running command, feeding its input");
        let spawn_err = |source| CmdError::Spawn {
            summary: cmd.summary.clone(),
            argv: cmd.argv(),
            source,
        };
        #[allow(clippy::disallowed_methods)] // this is the one sanctioned place
        let mut child = Command::new(&cmd.program)
            .args(&cmd.args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(spawn_err)?;
        // Drain its output meanwhile, so it never blocks writing while we write.
        let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut text);
                }
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        );
        let fed = match child.stdin.take() {
            Some(mut pipe) => feed(&mut pipe),
            None => Ok(()),
        };
        let status = child.wait().map_err(spawn_err)?;
        let mut result = CmdOutput {
            code: status.code(),
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        };
        // The input could not be written although the command succeeded:
        // it did not get everything, so this is not a success.
        if let Err(e) = fed
            && result.code == Some(0)
        {
            result.code = None;
            result.stderr.push_str(&format!("\nwriting its input failed: {e}"));
        }
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
    fn a_fed_command_reads_a_stream_larger_than_a_pipe_and_its_failure_is_reported() {
        // 8 MiB: far more than a pipe holds, while the command also writes.
        let mut feed = |w: &mut dyn std::io::Write| {
            let block = vec![b'x'; 1 << 20];
            for _ in 0..8 {
                w.write_all(&block)?;
            }
            Ok(())
        };
        let out = ProcessRunner
            .run_fed(
                &Cmd::new("sh", "count bytes").arg("-c").arg("wc -c; echo done >&2"),
                &mut feed,
            )
            .unwrap();
        assert_eq!(out.stdout.trim(), (8 << 20).to_string());
        assert_eq!(out.stderr.trim(), "done");
        // A command that fails half-way: its status and stderr, not a broken pipe.
        let mut feed = |w: &mut dyn std::io::Write| {
            let block = vec![b'x'; 1 << 20];
            for _ in 0..64 {
                w.write_all(&block)?;
            }
            Ok(())
        };
        let err = ProcessRunner
            .run_fed(
                &Cmd::new("sh", "read a little")
                    .arg("-c")
                    .arg("head -c 10 >/dev/null; echo 'no space left' >&2; exit 4"),
                &mut feed,
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("exited with status 4: no space left"), "{err}");
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
