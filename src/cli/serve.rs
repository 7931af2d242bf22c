//! `serve`: the classroom mirror.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::profile::quantity::human_bytes;
use crate::ui::Printer;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (only there)
    #[arg(long, default_value = "0.0.0.0:5050", value_name = "ADDR")]
    pub listen: String,
}

pub fn run(s: &Settings, args: &ServeArgs, _host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let lock_path = s.layout.lock_file(&profile.name);
    let lock = crate::images::lock::LockFile::read(&lock_path)
        .map_err(|e| Report::new(e, Exit::Failed))?
        .ok_or_else(|| {
            Report::msg(
                format!("there is no lock file at {}", lock_path.display()),
                Exit::Failed,
            )
            .with_hint("run `digit-quickstart pull` (or install from a bundle) on this machine first")
        })?;
    let catalog = Arc::new(crate::serve::Catalog::new(&profile, &s.layout, &lock));
    let counters = Arc::new(crate::serve::Counters::default());
    let runtime = super::runtime()?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&args.listen))
        .map_err(|e| {
            Report::msg(format!("could not listen on {}: {e}", args.listen), Exit::Failed)
                .with_hint("choose another --listen ADDR:PORT (the port may be in use)")
        })?;
    let addr = listener
        .local_addr()
        .map_or_else(|_| args.listen.clone(), |a| a.to_string());
    printer.out(&format!(
        "serving {} images, {} k3s and seed files read-only on http://{addr}",
        catalog.tags.len(),
        catalog.files.len()
    ));
    printer.note(&format!(
        "on each student VM: sudo digit-quickstart install --mirror http://<this machine's address>:{}",
        addr.rsplit(':').next().unwrap_or("5050")
    ));
    let quiet = printer.quiet;
    let ticker = counters.clone();
    runtime.spawn(async move {
        let mut last = (0, 0);
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let now = (
                ticker.requests.load(Ordering::Relaxed),
                ticker.bytes.load(Ordering::Relaxed),
            );
            if now != last && !quiet {
                let clients = ticker.clients.lock().map(|c| c.len()).unwrap_or(0);
                tracing::info!("{clients} clients, {} requests, {} served", now.0, human_bytes(now.1));
                let _ = std::io::Write::write_fmt(
                    &mut std::io::stderr(),
                    format_args!("{clients} clients, {} requests, {} served\n", now.0, human_bytes(now.1)),
                );
            }
            last = now;
        }
    });
    runtime
        .block_on(crate::serve::serve(listener, catalog, counters))
        .map_err(|e| Report::msg(format!("serving stopped: {e}"), Exit::Failed))?;
    Ok(Exit::Success)
}
