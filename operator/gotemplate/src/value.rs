//! The values a template sees: the data given to [`Template::execute`](crate::Template::execute),
//! constants, and what functions return. They model the Go values Packer's plugins pass
//! (strings, ints, maps keyed by string, structs with exported fields) closely enough that
//! field lookups, truth, comparison, printing and error messages come out as Go's.

use std::collections::BTreeMap;
use std::fmt;

/// A Go value, as `text/template` handles it through reflection.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// The invalid `reflect.Value`: a missing map key, nil data. Printed as `<no value>`.
    Invalid,
    /// A nil interface (`any(nil)`): printed as `<nil>`.
    Nil,
    Bool(bool),
    /// Go's `int`.
    Int(i64),
    /// Go's `float64`.
    Float(f64),
    /// Go's `complex128` (real, imaginary).
    Complex(f64, f64),
    String(String),
    /// A slice (`[]interface {}` unless the type name says otherwise).
    List(List),
    /// A map with string keys (`map[string]interface {}` unless the type name says otherwise);
    /// Go ranges over and prints maps in key order, as a BTreeMap iterates.
    Map(Map),
    /// A struct with exported fields, in declaration order.
    Struct(Struct),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    /// Go's type name, for error messages (`[]string`).
    pub type_name: String,
    pub items: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    /// Go's type name, for error messages (`map[string]string`).
    pub type_name: String,
    pub entries: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Struct {
    /// Go's type name as `%s` of its `reflect.Type` prints it
    /// (`*shell.ExecuteCommandTemplate`, `interpolate.Context`).
    pub type_name: String,
    pub fields: Vec<(String, Value)>,
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A `map[string]interface {}` of the given entries.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(Map {
            type_name: "map[string]interface {}".into(),
            entries: entries.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        })
    }

    /// A `map[string]string` of the given entries.
    pub fn string_map<K: Into<String>, V: Into<String>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Value {
        Value::Map(Map {
            type_name: "map[string]string".into(),
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.into(), Value::String(v.into())))
                .collect(),
        })
    }

    /// A struct of Go type `type_name` (as Go prints it, e.g. `*shell.ExecuteCommandTemplate`)
    /// with these exported fields, in order.
    pub fn structure<K: Into<String>>(
        type_name: impl Into<String>,
        fields: impl IntoIterator<Item = (K, Value)>,
    ) -> Value {
        Value::Struct(Struct {
            type_name: type_name.into(),
            fields: fields.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        })
    }

    /// A `[]interface {}` of the given items.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(List {
            type_name: "[]interface {}".into(),
            items: items.into_iter().collect(),
        })
    }

    /// The value's Go type, as `%s` of its `reflect.Type` prints it.
    pub fn type_name(&self) -> &str {
        match self {
            Value::Invalid => "<invalid reflect.Value>",
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Complex(..) => "complex128",
            Value::String(_) => "string",
            Value::List(l) => &l.type_name,
            Value::Map(m) => &m.type_name,
            Value::Struct(s) => &s.type_name,
        }
    }

    /// The string inside a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Go's `IsTrue`: the zero value of its type is false; structs are always true.
    pub(crate) fn truth(&self) -> bool {
        match self {
            Value::Invalid | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Complex(r, i) => *r != 0.0 || *i != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.items.is_empty(),
            Value::Map(m) => !m.entries.is_empty(),
            Value::Struct(_) => true,
        }
    }

    /// The element type of a map or list, from its type name (`interface {}` for
    /// `map[string]interface {}`), for the values Go's index/zero-value rules produce.
    pub(crate) fn elem_type(&self) -> Option<&str> {
        let t = self.type_name();
        match self {
            Value::Map(_) => t.find(']').map(|i| &t[i + 1..]),
            Value::List(_) => t.strip_prefix("[]"),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

/// The zero value of a Go type named `t` (what a missing map key yields through `index`).
pub(crate) fn zero_of(t: &str) -> Value {
    match t {
        "string" => Value::String(String::new()),
        "bool" => Value::Bool(false),
        "int" | "int64" | "int32" | "uint" | "uint64" => Value::Int(0),
        "float64" | "float32" => Value::Float(0.0),
        _ => Value::Nil,
    }
}

/// `%v` of a value, as Go's fmt prints it.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Invalid => f.write_str("<invalid reflect.Value>"),
            Value::Nil => f.write_str("<nil>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&crate::gofmt::format_float(*x, 'g', None)),
            Value::Complex(r, i) => f.write_str(&crate::gofmt::format_complex(*r, *i)),
            Value::String(s) => f.write_str(s),
            Value::List(l) => {
                f.write_str("[")?;
                for (n, v) in l.items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("map[")?;
                for (n, (k, v)) in m.entries.iter().enumerate() {
                    if n > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}:{v}")?;
                }
                f.write_str("]")
            }
            Value::Struct(s) => {
                f.write_str("{")?;
                for (n, (_, v)) in s.fields.iter().enumerate() {
                    if n > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}
