//! Checks that need the whole profile (names, dependencies, sizes that must
//! agree), turning the file form into the validated `Profile`.

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::{Location, Spanned};

use super::schema::{Component as RawComponent, ProfileFile, Seed as RawSeed, SeedFileKind};
use super::{AdminUser, Component, Profile, ProfileError, SECRET_KEYS, STATE_TENANT_VARS, SeedAction, SeedStep};

pub(super) fn validate(file: ProfileFile, text: &str, origin: &str) -> Result<Profile, ProfileError> {
    let err = |at: Location, message: String| invalid(text, origin, at, message);

    if file.schema.value != 1 {
        return Err(err(
            file.schema.referenced,
            format!("unsupported schema {}: this binary reads schema 1", file.schema.value),
        ));
    }
    check_dns_label(&file.name, "profile name").map_err(|m| err(file.name.referenced, m))?;
    check_dns_label(&file.namespace, "namespace").map_err(|m| err(file.namespace.referenced, m))?;
    for key in ["{version}", "{artifact}"] {
        if !file.k3s.url_template.contains(key) {
            return Err(err(
                file.name.referenced,
                format!("k3s.url_template `{}` must contain `{key}`", file.k3s.url_template),
            ));
        }
    }
    if file.host.eviction.disk_free_percent > 90 {
        return Err(err(
            file.name.referenced,
            format!(
                "host.eviction.disk_free_percent is {}: expected a percentage from 0 to 90",
                file.host.eviction.disk_free_percent
            ),
        ));
    }
    if file.components.is_empty() {
        return Err(err(file.name.referenced, "the profile has no components".to_owned()));
    }

    let mut first_seen: HashMap<&str, Location> = HashMap::new();
    for c in &file.components {
        check_dns_label(&c.name, "component name").map_err(|m| err(c.name.referenced, m))?;
        if let Some(first) = first_seen.insert(&c.name.value, c.name.referenced) {
            return Err(err(
                c.name.referenced,
                format!(
                    "duplicate component name `{}` (first defined at line {}): names must be unique",
                    c.name.value,
                    first.line()
                ),
            ));
        }
        check_component(c).map_err(|m| err(c.name.referenced, m))?;
    }
    for c in &file.components {
        for dep in &c.depends_on {
            if dep.value == c.name.value {
                return Err(err(
                    dep.referenced,
                    format!("component `{}` depends on itself", dep.value),
                ));
            }
            if !first_seen.contains_key(dep.value.as_str()) {
                let mut known: Vec<&str> = first_seen.keys().copied().collect();
                known.sort_unstable();
                return Err(err(
                    dep.referenced,
                    format!(
                        "component `{}` depends on unknown component `{}`; expected one of: {}",
                        c.name.value,
                        dep.value,
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    if let Some((cycle, at)) = find_cycle(&file.components) {
        return Err(err(at, format!("dependency cycle: {}", cycle.join(" -> "))));
    }
    check_tenant(&file).map_err(|(at, m)| err(at, m))?;
    let images: Vec<&str> = file
        .components
        .iter()
        .flat_map(|c| c.images.iter().map(|i| i.reference.as_str()))
        .collect();
    let known = |name: &str| first_seen.contains_key(name);
    if !known(&file.admin.via.value) {
        return Err(err(
            file.admin.via.referenced,
            format!("admin.via names unknown component `{}`", file.admin.via.value),
        ));
    }
    let mut seed_names: HashMap<&str, Location> = HashMap::new();
    for seed in &file.seeds {
        let at = seed.name.referenced;
        check_dns_label(&seed.name, "seed name").map_err(|m| err(at, m))?;
        if first_seen.contains_key(seed.name.value.as_str()) || seed_names.insert(&seed.name.value, at).is_some() {
            return Err(err(
                at,
                format!(
                    "seed name `{}` is already used by a component or another seed",
                    seed.name.value
                ),
            ));
        }
        if !known(&seed.after.value) {
            return Err(err(
                seed.after.referenced,
                format!(
                    "seed `{}` runs after unknown component `{}`",
                    seed.name.value, seed.after.value
                ),
            ));
        }
        let body = seed.file.as_ref().is_some_and(|f| f.kind == SeedFileKind::Body);
        if body != seed.api.is_some() {
            return Err(err(
                at,
                format!(
                    "seed `{}`: a file of kind `body` goes with `api` (it is what the API call posts), and only then",
                    seed.name.value
                ),
            ));
        }
        let actions = [seed.file.is_some() && !body, seed.api.is_some(), seed.job.is_some()];
        if actions.iter().filter(|a| **a).count() != 1 {
            return Err(err(
                at,
                format!(
                    "seed `{}` must have exactly one of `file`, `api` or `job`",
                    seed.name.value
                ),
            ));
        }
        if let Some(api) = &seed.api
            && !known(&api.component.value)
        {
            return Err(err(
                api.component.referenced,
                format!(
                    "seed `{}` calls unknown component `{}`",
                    seed.name.value, api.component.value
                ),
            ));
        }
        if let Some(job) = &seed.job {
            if !images.contains(&job.image.as_str()) {
                return Err(err(
                    at,
                    format!(
                        "seed `{}` runs image `{}`, which no component lists (so it would never be pulled)",
                        seed.name.value,
                        job.image.as_str()
                    ),
                ));
            }
            check_secret_refs(&job.secret_env).map_err(|m| err(at, m))?;
        }
    }
    for c in &file.components {
        check_secret_refs(&c.secret_env).map_err(|m| err(c.name.referenced, m))?;
        for (path, seed) in &c.files {
            let ok = file
                .seeds
                .iter()
                .any(|s| s.name.value == *seed && s.file.as_ref().is_some_and(|f| f.kind == SeedFileKind::Mount));
            if !ok || !path.starts_with('/') {
                return Err(err(
                    c.name.referenced,
                    format!(
                        "component `{}` mounts `{seed}` at `{path}`: expected an absolute path and a seed with a `mount` file",
                        c.name.value
                    ),
                ));
            }
        }
    }

    Ok(Profile {
        name: file.name.value,
        description: file.description,
        origin: origin.to_owned(),
        digit: file.digit,
        k3s: file.k3s,
        host: file.host,
        namespace: file.namespace.value,
        state_tenant: file.state_tenant.value,
        city_tenants: file.city_tenants,
        common_env: file.common_env,
        admin: AdminUser {
            username: file.admin.username,
            via: file.admin.via.value,
            tenants: file.admin.tenants,
            roles: file.admin.roles,
        },
        system_users: file.system_users,
        seeds: file.seeds.into_iter().map(into_seed).collect(),
        components: file.components.into_iter().map(into_component).collect(),
    })
}

fn into_seed(s: RawSeed) -> SeedStep {
    let action = match (s.file, s.api, s.job) {
        (file, Some(a), _) => SeedAction::Api {
            component: a.component.value,
            path: a.path,
            body: a.body,
            file,
        },
        (Some(f), _, _) => SeedAction::File(f),
        (_, _, Some(j)) => SeedAction::Job(j),
        // Validation requires exactly one.
        (None, None, None) => unreachable!("seed without an action"),
    };
    SeedStep {
        name: s.name.value,
        after: s.after.value,
        description: s.description,
        action,
    }
}

/// The state tenant is one value: any service env that names it must agree,
/// and city tenants and the admin's tenants must sit under it.
fn check_tenant(file: &ProfileFile) -> Result<(), (Location, String)> {
    let tenant = &file.state_tenant.value;
    let at = file.state_tenant.referenced;
    if tenant.is_empty() || tenant.contains('.') {
        return Err((
            at,
            format!("state_tenant `{tenant}` must be a non-empty name without `.`"),
        ));
    }
    let prefix = format!("{tenant}.");
    for city in &file.city_tenants {
        if !city.starts_with(&prefix) {
            return Err((
                at,
                format!("city tenant `{city}` is not under the state tenant `{tenant}`"),
            ));
        }
    }
    for t in &file.admin.tenants {
        if t != tenant && !t.starts_with(&prefix) {
            return Err((
                at,
                format!("admin tenant `{t}` is not the state tenant `{tenant}` or under it"),
            ));
        }
    }
    let envs = std::iter::once((file.name.referenced, &file.common_env))
        .chain(file.components.iter().map(|c| (c.name.referenced, &c.env)));
    for (loc, env) in envs {
        for var in STATE_TENANT_VARS {
            if let Some(v) = env.get(*var)
                && v != tenant
            {
                return Err((
                    loc,
                    format!(
                        "{var} is `{v}` but state_tenant is `{tenant}`: DIGIT breaks ADMIN login when they differ; remove it (it is set from state_tenant)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_secret_refs(env: &BTreeMap<String, String>) -> Result<(), String> {
    for (name, key) in env {
        if !SECRET_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "secret_env {name} refers to `{key}`; expected one of: {}",
                SECRET_KEYS.join(", ")
            ));
        }
    }
    Ok(())
}

fn into_component(c: RawComponent) -> Component {
    Component {
        name: c.name.value,
        description: c.description,
        images: c.images,
        resources: c.resources,
        jvm_heap: c.jvm_heap,
        ports: c.ports,
        health: c.health,
        depends_on: c.depends_on.into_iter().map(|d| d.value).collect(),
        volumes: c.volumes,
        kind: c.kind,
        context: c.context,
        env: c.env,
        secret_env: c.secret_env,
        command: c.command,
        args: c.args,
        schema_table: c.schema_table,
        files: c.files,
        start_seconds: c.start_seconds,
        timeout_seconds: c.timeout_seconds,
    }
}

fn check_component(c: &RawComponent) -> Result<(), String> {
    let name = &c.name.value;
    if !c.images.iter().any(|i| i.role == super::ImageRole::App) {
        return Err(format!("component `{name}` has no image with role `app`"));
    }
    let r = &c.resources;
    if r.requests.memory > r.limits.memory {
        return Err(format!(
            "component `{name}` requests {} memory but is limited to {}: a request cannot exceed its limit",
            r.requests.memory, r.limits.memory
        ));
    }
    if let Some(cpu) = r.limits.cpu
        && r.requests.cpu > cpu
    {
        return Err(format!(
            "component `{name}` requests {} CPU but is limited to {cpu}",
            r.requests.cpu
        ));
    }
    let java = matches!(c.kind, super::ComponentKind::Java | super::ComponentKind::Gateway);
    if java && c.jvm_heap.is_none() {
        return Err(format!("component `{name}` is a Java service but has no jvm_heap"));
    }
    if let Some(ctx) = &c.context
        && (ctx.is_empty() || ctx.contains('/'))
    {
        return Err(format!(
            "component `{name}` has context `{ctx}`: expected a path segment such as `user`"
        ));
    }
    if c.images.iter().any(|i| i.role == super::ImageRole::Migration) && c.schema_table.is_none() {
        return Err(format!(
            "component `{name}` has a migration image but no schema_table (Flyway's history table)"
        ));
    }
    if let Some(heap) = c.jvm_heap
        && heap >= r.limits.memory
    {
        return Err(format!(
            "component `{name}` has jvm_heap {heap}, not below its memory limit {}: the JVM needs room beyond the heap",
            r.limits.memory
        ));
    }
    Ok(())
}

/// RFC 1123 label: what Kubernetes accepts as a namespace or object name.
fn check_dns_label(value: &Spanned<String>, what: &str) -> Result<(), String> {
    let v = &value.value;
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} `{v}` is not a valid Kubernetes name: expected 1-63 lowercase letters, digits or `-`, \
             starting and ending with a letter or digit"
        ))
    }
}

/// Depth-first search; returns the cycle as names and the location of the
/// dependency entry that closes it.
fn find_cycle(components: &[RawComponent]) -> Option<(Vec<String>, Location)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let index: HashMap<&str, usize> = components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.value.as_str(), i))
        .collect();
    let mut marks = vec![Mark::New; components.len()];
    let mut stack: Vec<usize> = Vec::new();

    fn visit(
        i: usize,
        components: &[RawComponent],
        index: &HashMap<&str, usize>,
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
    ) -> Option<(Vec<String>, Location)> {
        marks[i] = Mark::Active;
        stack.push(i);
        for dep in &components[i].depends_on {
            let j = index[dep.value.as_str()];
            match marks[j] {
                Mark::Active => {
                    let start = stack.iter().position(|&k| k == j).unwrap_or(0);
                    let mut names: Vec<String> = stack[start..]
                        .iter()
                        .map(|&k| components[k].name.value.clone())
                        .collect();
                    names.push(components[j].name.value.clone());
                    return Some((names, dep.referenced));
                }
                Mark::New => {
                    if let Some(found) = visit(j, components, index, marks, stack) {
                        return Some(found);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks[i] = Mark::Done;
        None
    }

    (0..components.len()).find_map(|i| {
        if marks[i] == Mark::New {
            visit(i, components, &index, &mut marks, &mut stack)
        } else {
            None
        }
    })
}

/// Wave of a component = 1 + the highest wave among its dependencies.
pub(super) fn waves(components: &[Component]) -> Vec<Vec<&Component>> {
    let by_name: HashMap<&str, &Component> = components.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut wave_of: HashMap<&str, usize> = HashMap::new();
    fn wave<'a>(c: &'a Component, by_name: &HashMap<&str, &'a Component>, memo: &mut HashMap<&'a str, usize>) -> usize {
        if let Some(&w) = memo.get(c.name.as_str()) {
            return w;
        }
        let w = c
            .depends_on
            .iter()
            .filter_map(|d| by_name.get(d.as_str()))
            .map(|d| wave(d, by_name, memo) + 1)
            .max()
            .unwrap_or(0);
        memo.insert(c.name.as_str(), w);
        w
    }
    let mut grouped: BTreeMap<usize, Vec<&Component>> = BTreeMap::new();
    for c in components {
        let w = wave(c, &by_name, &mut wave_of);
        grouped.entry(w).or_default().push(c);
    }
    grouped.into_values().collect()
}

/// An error at a location we found ourselves, with a one-line snippet in the
/// same shape as the parser's.
fn invalid(text: &str, origin: &str, at: Location, message: String) -> ProfileError {
    let line = at.line();
    let column = at.column();
    let snippet = text.lines().nth(line.saturating_sub(1) as usize).map(|src| {
        let gutter = " ".repeat(line.to_string().len());
        let pad = " ".repeat(column.saturating_sub(1) as usize);
        format!(" --> {origin}:{line}:{column}\n{gutter} |\n{line} | {src}\n{gutter} | {pad}^ {message}")
    });
    ProfileError::Invalid {
        origin: origin.to_owned(),
        line,
        column,
        message,
        snippet,
    }
}
