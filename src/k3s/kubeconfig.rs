//! A kubeconfig the invoking user can read: k3s writes its own root-only
//! (k3s #389), so `sudo digit-quickstart install` leaves the user who ran
//! sudo a private copy at `~/.kube/digit-quickstart.yaml`.

use std::path::{Path, PathBuf};

use crate::error::IoError;
use crate::host::{Env, Fs};

/// k3s's own kubeconfig.
pub const K3S_KUBECONFIG: &str = "/etc/rancher/k3s/k3s.yaml";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// The user who ran sudo (`SUDO_USER`), else root, from /etc/passwd.
pub fn invoking_user(fs: &dyn Fs, env: &dyn Env) -> User {
    let passwd = fs.read_to_string(Path::new("/etc/passwd")).unwrap_or_default();
    let lookup = |name: &str| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 6 && f[0] == name).then(|| User {
                name: name.to_owned(),
                uid: f[2].parse().unwrap_or(0),
                gid: f[3].parse().unwrap_or(0),
                home: PathBuf::from(f[5]),
            })
        })
    };
    env.var(crate::env_vars::SUDO_USER)
        .filter(|u| !u.is_empty() && u != "root")
        .and_then(|u| lookup(&u))
        .or_else(|| lookup("root"))
        .unwrap_or(User {
            name: "root".into(),
            uid: 0,
            gid: 0,
            home: "/root".into(),
        })
}

pub fn path_for(user: &User) -> PathBuf {
    user.home.join(".kube/digit-quickstart.yaml")
}

/// Copies k3s's kubeconfig for `user` (mode 0600, owned by them) and returns
/// its path; the caller prints `export KUBECONFIG=<path>`, never the content.
pub fn write_for(fs: &dyn Fs, user: &User) -> Result<PathBuf, IoError> {
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| IoError { action, path, source }
    };
    let text = fs
        .read_to_string(Path::new(K3S_KUBECONFIG))
        .map_err(io("read", Path::new(K3S_KUBECONFIG)))?;
    let target = path_for(user);
    let dir = target.parent().unwrap_or(Path::new("/"));
    if !fs.exists(dir) {
        fs.create_dir_all(dir).map_err(io("create", dir))?;
        fs.chown(dir, user.uid, user.gid)
            .map_err(io("change the owner of", dir))?;
    }
    fs.write_atomic(&target, text.as_bytes(), 0o600)
        .map_err(io("write", &target))?;
    fs.chown(&target, user.uid, user.gid)
        .map_err(io("change the owner of", &target))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    struct Vars(Option<&'static str>);
    impl Env for Vars {
        fn var(&self, name: &str) -> Option<String> {
            (name == crate::env_vars::SUDO_USER)
                .then_some(self.0)
                .flatten()
                .map(str::to_owned)
        }
    }

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nevaluator:x:1000:1001:Eva:/home/evaluator:/bin/bash\n";
    const KUBECONFIG: &str = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\nusers:\n- name: default\n  user:\n    client-key-data: c2VjcmV0\n";

    fn scratch() -> (tempfile::TempDir, crate::host::RealFs) {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in [("etc/passwd", PASSWD), ("etc/rancher/k3s/k3s.yaml", KUBECONFIG)] {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let fs = crate::host::RealFs::new(dir.path());
        (dir, fs)
    }

    #[test]
    fn the_sudo_user_gets_a_private_copy_they_own() {
        let (dir, fs) = scratch();
        let user = invoking_user(&fs, &Vars(Some("evaluator")));
        assert_eq!(
            user,
            User {
                name: "evaluator".into(),
                uid: 1000,
                gid: 1001,
                home: "/home/evaluator".into()
            }
        );
        let path = write_for(&fs, &user).unwrap();
        assert_eq!(path, Path::new("/home/evaluator/.kube/digit-quickstart.yaml"));
        let real = dir.path().join("home/evaluator/.kube/digit-quickstart.yaml");
        let meta = std::fs::metadata(&real).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!((meta.uid(), meta.gid()), (1000, 1001), "owned by the user, not root");
        assert_eq!(std::fs::metadata(real.parent().unwrap()).unwrap().uid(), 1000);
        assert_eq!(std::fs::read_to_string(real).unwrap(), KUBECONFIG);
    }

    #[test]
    fn without_sudo_or_for_an_unknown_user_it_is_root() {
        let (_dir, fs) = scratch();
        assert_eq!(invoking_user(&fs, &Vars(None)).home, Path::new("/root"));
        assert_eq!(invoking_user(&fs, &Vars(Some("root"))).uid, 0);
        assert_eq!(invoking_user(&fs, &Vars(Some("mallory"))).name, "root");
    }

    #[test]
    fn a_missing_k3s_kubeconfig_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let fs = crate::host::RealFs::new(dir.path());
        let user = invoking_user(&fs, &Vars(None));
        let err = write_for(&fs, &user).unwrap_err();
        assert_eq!(err.to_string(), "could not read `/etc/rancher/k3s/k3s.yaml`");
    }
}
