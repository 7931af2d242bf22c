use std::process::ExitCode;

fn main() -> ExitCode {
    let host = digit_quickstart::host::Host::real();
    let term = digit_quickstart::ui::Terminal::detect();
    // Unlocked handles: progress bars draw to stderr from their own thread,
    // so holding the stderr lock here for the whole run would deadlock them.
    let code = digit_quickstart::run(
        std::env::args_os().collect(),
        &host,
        term,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(code as u8)
}
