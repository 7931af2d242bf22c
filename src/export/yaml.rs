//! A small YAML writer that keeps comments next to the values they explain.
//! serde-saphyr serialises values but has no place for comments, and the
//! export's comments (quickstart value, production caveat, digest) are half
//! of its use. Every string is written as a JSON string, which is a valid
//! YAML double-quoted scalar, so no value can change type or break the file.

use std::fmt::Write as _;

#[derive(Clone, Debug)]
pub enum Value {
    Str(String),
    Int(u64),
    Bool(bool),
    /// A flow list of strings: `[a, b]`.
    List(Vec<String>),
    /// A literal block scalar (`|`), for the charts' tpl'd string values.
    Literal(String),
    Map(Map),
}

#[derive(Clone, Debug, Default)]
pub struct Map {
    items: Vec<Item>,
}

#[derive(Clone, Debug)]
enum Item {
    Pair {
        key: String,
        value: Value,
        comment: Option<String>,
    },
    Comment(String),
    Blank,
}

impl Map {
    /// Sets `key`, replacing an earlier value in place (keeps the first position).
    pub fn set(&mut self, key: &str, value: Value, comment: Option<String>) {
        for item in &mut self.items {
            if let Item::Pair {
                key: k,
                value: v,
                comment: c,
            } = item
                && k == key
            {
                *v = value;
                *c = comment;
                return;
            }
        }
        self.items.push(Item::Pair {
            key: key.to_owned(),
            value,
            comment,
        });
    }

    pub fn str(&mut self, key: &str, value: &str) {
        self.set(key, Value::Str(value.to_owned()), None);
    }

    pub fn str_c(&mut self, key: &str, value: &str, comment: &str) {
        self.set(key, Value::Str(value.to_owned()), Some(comment.to_owned()));
    }

    /// The nested map at `key`, created (empty) if absent.
    pub fn map(&mut self, key: &str) -> &mut Map {
        let pos = self
            .items
            .iter()
            .position(|i| matches!(i, Item::Pair { key: k, value: Value::Map(_), .. } if k == key));
        let pos = pos.unwrap_or_else(|| {
            self.items.push(Item::Pair {
                key: key.to_owned(),
                value: Value::Map(Map::default()),
                comment: None,
            });
            self.items.len() - 1
        });
        match &mut self.items[pos] {
            Item::Pair {
                value: Value::Map(m), ..
            } => m,
            _ => unreachable!("position() matched a map"),
        }
    }

    /// The nested map at a path of keys.
    pub fn path(&mut self, keys: &[&str]) -> &mut Map {
        keys.iter().fold(self, |m, k| m.map(k))
    }

    /// A comment line (one per line of `text`) at this point of the map.
    pub fn comment(&mut self, text: &str) {
        for line in text.lines() {
            self.items.push(Item::Comment(line.to_owned()));
        }
    }

    pub fn blank(&mut self) {
        self.items.push(Item::Blank);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = " ".repeat(indent);
        for item in &self.items {
            match item {
                Item::Blank => out.push('\n'),
                Item::Comment(text) if text.is_empty() => {
                    let _ = writeln!(out, "{pad}#");
                }
                Item::Comment(text) => {
                    let _ = writeln!(out, "{pad}# {text}");
                }
                Item::Pair { key, value, comment } => {
                    let key = yaml_key(key);
                    let trailing = comment.as_deref().map(|c| format!("  # {c}")).unwrap_or_default();
                    match value {
                        Value::Map(m) if m.items.is_empty() => {
                            let _ = writeln!(out, "{pad}{key}: {{}}{trailing}");
                        }
                        Value::Map(m) => {
                            let _ = writeln!(out, "{pad}{key}:{trailing}");
                            m.write(out, indent + 2);
                        }
                        Value::Literal(text) => {
                            let _ = writeln!(out, "{pad}{key}: |{trailing}");
                            for line in text.lines() {
                                if line.is_empty() {
                                    out.push('\n');
                                } else {
                                    let _ = writeln!(out, "{pad}  {line}");
                                }
                            }
                        }
                        scalar => {
                            let _ = writeln!(out, "{pad}{key}: {}{trailing}", scalar_text(scalar));
                        }
                    }
                }
            }
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Str(s) => quote(s),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => format!("[{}]", items.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")),
        Value::Literal(_) | Value::Map(_) => String::new(),
    }
}

/// A JSON string literal: also a YAML double-quoted scalar.
pub fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Keys are written plain when that cannot be misread (DIGIT's keys are
/// kebab-case, some with dots such as `sms.provider.class`), else quoted.
fn yaml_key(k: &str) -> String {
    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    let reserved = matches!(
        k.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
    );
    if plain && !reserved { k.to_owned() } else { quote(k) }
}
