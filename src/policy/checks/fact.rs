//! `fact = ...` rules: a fact of the catalog compared with the value the rule requires (equals,
//! one of, empty, at least, at most), with the message naming the fact's source.

use serde_json::Value;

use super::super::catalog;
use super::super::model::{Comparison, Scalar, Status};
use crate::facts::{Format, Hardening};

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Number(n) => match n.as_u64() {
            Some(u) if u > 0xffff => format!("{u:#x}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn show_scalar(s: &Scalar) -> String {
    match s {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) if *i > 0xffff => format!("{i:#x}"),
        Scalar::Int(i) => i.to_string(),
        Scalar::Str(s) => format!("\"{s}\""),
    }
}

fn scalar_eq(v: &Value, s: &Scalar) -> bool {
    match (v, s) {
        (Value::Bool(a), Scalar::Bool(b)) => a == b,
        (Value::Number(n), Scalar::Int(i)) => {
            n.as_i64() == Some(*i)
                || (n.as_u64().is_some() && *i >= 0 && n.as_u64() == u64::try_from(*i).ok())
        }
        (Value::String(a), Scalar::Str(b)) => a == b,
        _ => false,
    }
}

/// A `fact = ...` rule: the fact's value in the file's hardening JSON against the comparison.
pub(super) fn compare(
    fact: &str,
    comparison: &Comparison,
    h: &Hardening,
    json: &Value,
) -> (Status, String) {
    let pointer = format!("/{}", fact.replace('.', "/"));
    let Some(v) = json.pointer(&pointer) else {
        return (
            Status::NotApplicable,
            format!("{fact} is not reported for this file"),
        );
    };
    let format = match h {
        Hardening::Pe(_) => Format::Pe,
        Hardening::Elf(_) => Format::Elf,
    };
    let source = catalog::lookup(format, fact)
        .map(|f| f.source)
        .unwrap_or("");
    let (ok, required) = match comparison {
        Comparison::Equals(s) => (scalar_eq(v, s), show_scalar(s)),
        Comparison::OneOf(list) => (
            list.iter().any(|s| scalar_eq(v, s)),
            format!(
                "one of {}",
                list.iter().map(show_scalar).collect::<Vec<_>>().join(", ")
            ),
        ),
        Comparison::Empty(want) => {
            let empty = v.as_array().is_some_and(Vec::is_empty);
            (
                empty == *want,
                if *want {
                    "empty".into()
                } else {
                    "non-empty".into()
                },
            )
        }
        Comparison::AtLeast(n) => (v.as_i64().is_some_and(|x| x >= *n), format!("at least {n}")),
        Comparison::AtMost(n) => (v.as_i64().is_some_and(|x| x <= *n), format!("at most {n}")),
    };
    let shown = show(v);
    if ok {
        (Status::Pass, format!("{fact} = {shown} ({source})"))
    } else {
        (
            Status::Fail,
            format!("{fact} = {shown}, required {required} ({source})"),
        )
    }
}
