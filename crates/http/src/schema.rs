//! The validation rules of the domain as JSON Schema, for the OpenAPI document: one function per
//! rule, used by every route that takes such a value (`#[schema(schema_with = …)]`,
//! `#[param(schema_with = …)]`). They say exactly what the server takes: a request that
//! matches them is not refused for its shape, and one that does not is.
//!
//! Patterns are ECMA-262 regular expressions (what OpenAPI uses). White space is Rust's
//! (`char::is_whitespace`, the Unicode `White_Space` property), listed out because regex
//! engines disagree on `\s`.

use utoipa::openapi::Object;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};

/// `char::is_whitespace`, as a character class body.
const WS: &str = r"\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(Type::String))
}

/// A user name: `[A-Za-z0-9_-]`, 3 to 32 of them.
pub fn user_name() -> Object {
    string().pattern(Some(r"^[A-Za-z0-9_-]{3,32}$")).examples(["alice"]).build()
}

/// A password: 8 to 128 characters.
pub fn password() -> Object {
    string().min_length(Some(8)).max_length(Some(128)).examples(["correct horse battery"]).build()
}

/// Text that must say something: 1 to `max` characters, not only white space, no NUL.
fn text(max: usize) -> Object {
    string()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!(r"^[^\u0000]*[^\u0000{WS}][^\u0000]*$")))
        .build()
}

/// Text that may be empty: up to `max` characters, no NUL.
fn optional_text(max: usize) -> Object {
    string().max_length(Some(max)).pattern(Some(r"^[^\u0000]*$")).build()
}

/// Text of 1 to `max` characters that says something (a rule of the domain's own size).
pub fn text_of(max: usize) -> Object {
    text(max)
}

/// Text of up to `max` characters, possibly empty.
pub fn optional_text_of(max: usize) -> Object {
    optional_text(max)
}

/// A video's title.
pub fn title() -> Object {
    text(200)
}

/// A video's description.
pub fn description() -> Object {
    optional_text(5000)
}

/// A comment's text.
pub fn comment() -> Object {
    text(2000)
}

/// A search query: up to 200 characters (white space alone searches nothing).
pub fn query() -> Object {
    string().max_length(Some(200)).build()
}

/// A file or folder name: 1 to 255 characters, no `/` or NUL, not only white space, and not
/// `.` or `..` (strings of dots and white space only are names when they have three dots or
/// some white space).
pub fn file_name() -> Object {
    let name = format!(
        r"^(?:[^/\u0000]*[^/\u0000.{WS}][^/\u0000]*|[.{WS}]*(?:[{WS}][.{WS}]*\.|\.[.{WS}]*[{WS}]|\.\.\.)[.{WS}]*)$"
    );
    string().min_length(Some(1)).max_length(Some(255)).pattern(Some(name)).examples(["report.pdf"]).build()
}

/// A SHA-256 in lower-case hex.
pub fn sha256() -> Object {
    string().pattern(Some(r"^[0-9a-f]{64}$")).build()
}

/// An id (UUID).
pub fn id() -> Object {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))).build()
}

/// An id, or `null`.
pub fn nullable_id() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .build()
}

/// A page size.
pub fn limit() -> Object {
    ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)).minimum(Some(1)).maximum(Some(100)).build()
}

/// A cursor: the `next_cursor` of an earlier page, opaque (a string the server did not issue
/// is refused: 400).
pub fn cursor() -> Object {
    string().pattern(Some(r"^[A-Za-z0-9_-]*$")).max_length(Some(512)).build()
}

/// The same, or `null` (an optional field: `null` is the same as leaving it out).
fn or_null(mut o: Object) -> Object {
    o.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    o
}

pub fn user_name_or_null() -> Object {
    or_null(user_name())
}

pub fn title_or_null() -> Object {
    or_null(title())
}

pub fn description_or_null() -> Object {
    or_null(description())
}

pub fn file_name_or_null() -> Object {
    or_null(file_name())
}

pub fn query_or_null() -> Object {
    or_null(query())
}

/// Bytes as OpenAPI writes them (`type: string, format: binary`): request and response bodies
/// that are files, not JSON. Documentation only.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(#[allow(dead_code)] Vec<u8>);
