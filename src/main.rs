use std::process::ExitCode;

fn main() -> ExitCode {
    let host = digit_quickstart::host::Host::real();
    let term = digit_quickstart::ui::Terminal::detect();
    let code = digit_quickstart::run(
        std::env::args_os().collect(),
        &host,
        term,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code as u8)
}
