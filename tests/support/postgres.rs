//! A real PostgreSQL (Debian's package) as a test peer: a throwaway cluster
//! on a Unix socket in a temporary folder plus a loopback TCP port with
//! password (SCRAM) authentication, run as `nobody` when the tests run as
//! root (postgres refuses root). The database `egov` is owned by the
//! superuser `egov`, as the postgres image makes them from POSTGRES_USER and
//! POSTGRES_DB.
#![allow(dead_code, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

pub const USER: &str = "egov";
pub const DB: &str = "egov";

pub struct Postgres {
    pub dir: tempfile::TempDir,
    /// The socket folder (PGHOST).
    pub socket: PathBuf,
    pub port: u16,
    child: Child,
}

/// The server binaries' folder: /usr/lib/postgresql/<major>/bin, newest.
fn bin_dir() -> PathBuf {
    let mut majors: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is required: apt-get install postgresql (the CI script installs it)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("postgres").exists())
        .collect();
    majors.sort();
    majors.pop().expect("no /usr/lib/postgresql/*/bin/postgres")
}

fn as_server_user(cmd: &mut Command) -> &mut Command {
    if rustix::process::geteuid().is_root() {
        let program = cmd.get_program().to_owned();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        let mut wrapped = Command::new("setpriv");
        wrapped
            .args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "--pdeathsig",
                "KILL",
                "--",
            ])
            .arg(program)
            .args(args);
        *cmd = wrapped;
    }
    cmd
}

impl Postgres {
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let socket = dir.path().join("socket");
        std::fs::create_dir_all(&socket).unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "initial-password\n").unwrap();
        chown_nobody(dir.path());
        let mut init = Command::new(bin.join("initdb"));
        init.arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ])
            .arg(format!("--pwfile={}", pw.display()));
        let out = as_server_user(&mut init).output().unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let mut run = Command::new(bin.join("postgres"));
        run.arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&socket)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-p",
                &port.to_string(),
                "-c",
                "fsync=off",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("postgres.log")).unwrap(),
            ));
        let child = as_server_user(&mut run).spawn().unwrap();
        let pg = Self {
            dir,
            socket,
            port,
            child,
        };
        let start = Instant::now();
        loop {
            let ok = Command::new("pg_isready")
                .args(["-q", "-h"])
                .arg(&pg.socket)
                .args(["-p", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "postgres did not start: {}",
                std::fs::read_to_string(pg.dir.path().join("postgres.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pg.psql(USER.into(), "postgres", &format!("CREATE DATABASE {DB}"));
        pg
    }

    /// What a pod's exec would see: the variables the postgres image's
    /// container has, and where the server listens.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PGHOST".into(), self.socket.display().to_string()),
            ("PGPORT".into(), self.port.to_string()),
            ("POSTGRES_USER".into(), USER.into()),
            ("POSTGRES_DB".into(), DB.into()),
        ]
    }

    /// Runs SQL over the socket; panics on an error.
    pub fn psql(&self, user: String, db: &str, sql: &str) -> String {
        let out = self.psql_output(&user, db, sql, None);
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// SQL in `egov` as `egov`.
    pub fn sql(&self, sql: &str) -> String {
        self.psql(USER.into(), DB, sql)
    }

    pub fn psql_output(&self, user: &str, db: &str, sql: &str, password: Option<&str>) -> Output {
        let mut cmd = Command::new("psql");
        cmd.args([
            "--no-psqlrc",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-tA",
            "-U",
            user,
            "-d",
            db,
            "-c",
            sql,
        ]);
        match password {
            // Over TCP, so the server checks the password.
            Some(p) => cmd
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .env("PGPASSWORD", p),
            None => cmd.arg("-h").arg(&self.socket).args(["-p", &self.port.to_string()]),
        };
        cmd.output().unwrap()
    }

    /// md5 of every row of `table` in a fixed order: equal sums, equal data.
    pub fn table_sum(&self, table: &str) -> String {
        self.sql(&format!(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM {table} t"
        ))
    }

    pub fn tables(&self) -> Vec<String> {
        let list = self.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
        list.lines().map(str::to_owned).collect()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

/// DIGIT-shaped data: users with encrypted-looking fields, complaints with
/// JSON, a workflow table, a binary column, a sequence.
pub fn seed_digit_like(pg: &Postgres) {
    pg.sql(
        "CREATE TABLE eg_user (id bigserial PRIMARY KEY, uuid text UNIQUE, username text NOT NULL, \
         mobilenumber text, emailid text, password text, tenantid text, createddate bigint);
         CREATE TABLE eg_pgr_service_v2 (id text PRIMARY KEY, tenantid text, servicecode text, \
         applicationstatus text, additionaldetails jsonb, createdtime bigint);
         CREATE TABLE eg_wf_processinstance_v2 (id text PRIMARY KEY, businessid text, action text, \
         state text, attachment bytea);
         CREATE INDEX ON eg_pgr_service_v2 (tenantid);
         INSERT INTO eg_user (uuid, username, mobilenumber, emailid, password, tenantid, createddate)
           SELECT md5(g::text), 'USER' || g, '4567|' || encode(sha256(g::text::bytea), 'base64'),
                  '9012|' || encode(sha256(('m' || g)::bytea), 'base64'),
                  '$2a$10$' || substr(md5(g::text) || md5((g+1)::text), 1, 53), 'pg.citya', 1700000000000 + g
           FROM generate_series(1, 500) g;
         INSERT INTO eg_pgr_service_v2
           SELECT 'PG-PGR-2026-' || g, 'pg.citya', 'StreetLightNotWorking', 'PENDINGFORASSIGNMENT',
                  jsonb_build_object('ward', g % 7, 'note', 'ünïcode ✓ ' || g), 1700000000000 + g
           FROM generate_series(1, 300) g;
         INSERT INTO eg_wf_processinstance_v2
           SELECT md5(g::text), 'PG-PGR-2026-' || g, 'APPLY', 'PENDINGFORASSIGNMENT', sha256(g::text::bytea)
           FROM generate_series(1, 300) g;",
    );
}

pub fn sums(pg: &Postgres) -> Vec<(String, String)> {
    pg.tables().into_iter().map(|t| (t.clone(), pg.table_sum(&t))).collect()
}

fn chown_nobody(dir: &Path) {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let out = Command::new("chown")
        .args(["-R", "nobody:nogroup"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    // The temporary folder's parent must let nobody through.
    let mut perms = std::fs::metadata(dir).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(dir, perms).unwrap();
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
