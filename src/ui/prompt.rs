//! Confirmation prompts. `--yes` answers them; without a terminal on stdin
//! we never prompt, and say how to proceed instead.

use crate::error::{Exit, Report};

pub struct Prompter {
    pub yes: bool,
    pub stdin_tty: bool,
    pub stderr_tty: bool,
}

impl Prompter {
    pub fn confirm(&self, question: &str) -> Result<bool, Report> {
        if self.yes {
            return Ok(true);
        }
        if !self.stdin_tty || !self.stderr_tty {
            return Err(Report::msg(
                format!("cannot ask \"{question}\": standard input is not a terminal"),
                Exit::Usage,
            )
            .with_hint("pass --yes to proceed without asking"));
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| Report::msg(format!("prompt failed: {e}"), Exit::Failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_terminal_the_prompt_refuses_and_points_to_yes() {
        let p = Prompter {
            yes: false,
            stdin_tty: false,
            stderr_tty: true,
        };
        let err = p.confirm("Install k3s?").unwrap_err();
        assert_eq!(err.exit, Exit::Usage);
        assert_eq!(err.hints, vec!["pass --yes to proceed without asking".to_owned()]);
        assert!(err.chain()[0].contains("standard input is not a terminal"));
    }

    #[test]
    fn yes_answers_without_a_terminal() {
        let p = Prompter {
            yes: true,
            stdin_tty: false,
            stderr_tty: false,
        };
        assert!(p.confirm("Install k3s?").unwrap());
    }
}
