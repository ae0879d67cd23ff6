//! The seed's account routes: sign-up, login, user info and logout.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use streamvault_core::Error;
use streamvault_core::accounts::User;
use streamvault_core::accounts::{Issued, username_key};
use streamvault_http::auth::LoginClient;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth, JsonBody, schema};

use crate::ApiState;

/// The seed's `UserCredential` for sign-up. `username`/`password` are accepted as aliases.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    /// Unique ignoring case.
    #[serde(alias = "username")]
    #[schema(schema_with = schema::user_name, required = true)]
    user_name: Option<String>,
    #[serde(alias = "password")]
    #[schema(schema_with = schema::password, required = true)]
    pwd: Option<String>,
}

/// Login: the password, and (the seed's client sends it) the user name again.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Login {
    /// The name in the path; a different one is a wrong credential (401).
    #[serde(alias = "username")]
    #[schema(schema_with = schema::user_name_or_null)]
    user_name: Option<String>,
    /// Any non-empty text: a wrong one is 401.
    #[serde(alias = "password")]
    #[schema(value_type = String, required = true, min_length = 1)]
    pwd: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    success: bool,
    /// The session token: send it as `X-Session-Id` or `Authorization: Bearer`.
    session_id: String,
    id: String,
    user_name: String,
    expires_at: String,
}

impl From<Issued> for SignedIn {
    fn from(i: Issued) -> Self {
        SignedIn {
            success: true,
            session_id: i.token.as_str().to_owned(),
            id: i.user.id.to_string(),
            user_name: i.user.name,
            expires_at: i.session.expires_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserInfo {
    id: String,
    user_name: String,
    created_at: String,
}

impl From<&User> for UserInfo {
    fn from(u: &User) -> Self {
        UserInfo { id: u.id.to_string(), user_name: u.name.clone(), created_at: u.created_at.to_rfc3339() }
    }
}

fn required(v: Option<String>, field: &'static str) -> Result<String, Error> {
    v.filter(|s| !s.is_empty()).ok_or_else(|| Error::missing(field))
}

/// Sign up: creates the account and a first session.
#[utoipa::path(post, path = "/user", operation_id = "signup", tag = "accounts", request_body = Credentials,
    responses(
        (status = 201, description = "Account created", body = SignedIn),
        (status = 400, description = "Missing field, bad JSON, bad user name or password", body = ErrorBody),
        (status = 409, description = "User name taken (names are unique ignoring case)", body = ErrorBody),
    ))]
pub async fn signup(
    State(st): State<ApiState>,
    LoginClient(client): LoginClient,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<impl IntoResponse, ApiError> {
    let name = required(body.user_name, "user_name")?;
    let pwd = required(body.pwd, "pwd")?;
    let issued = st.accounts.signup(&name, &pwd, client).await?;
    Ok((StatusCode::CREATED, Json(SignedIn::from(issued))))
}

/// Log in: a new session for `name`.
#[utoipa::path(post, path = "/user/{name}", operation_id = "login", tag = "accounts", request_body = Login,
    params(("name" = String, Path, description = "User name")),
    responses(
        (status = 200, description = "Logged in", body = SignedIn),
        (status = 400, description = "Missing password or bad JSON", body = ErrorBody),
        (status = 401, description = "Wrong user name or password", body = ErrorBody),
        (status = 429, description = "Too many login attempts (per account or per client address); see Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(st): State<ApiState>,
    Path(name): Path<String>,
    LoginClient(client): LoginClient,
    JsonBody(body): JsonBody<Login>,
) -> Result<Json<SignedIn>, ApiError> {
    // As the seed answered: a body naming someone else is a wrong credential.
    if let Some(body_name) = body.user_name.as_deref().filter(|n| !n.is_empty())
        && username_key(body_name) != username_key(&name)
    {
        return Err(Error::Unauthenticated("wrong user name or password").into());
    }
    let pwd = required(body.pwd, "pwd")?;
    Ok(Json(st.accounts.login(&name, &pwd, client).await?.into()))
}

/// 403 unless the session belongs to `name`: authenticated, but not the owner.
pub(crate) fn own_name(user: &User, name: &str) -> Result<(), Error> {
    if username_key(&user.name) == username_key(name) {
        Ok(())
    } else {
        Err(Error::Forbidden("this session belongs to another user"))
    }
}

/// The account, for its own session only.
#[utoipa::path(get, path = "/user/{name}", operation_id = "get_user", tag = "accounts",
    params(("name" = String, Path, description = "User name")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = UserInfo),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Another user's session", body = ErrorBody),
    ))]
pub async fn get_user(auth: Auth, Path(name): Path<String>) -> Result<Json<UserInfo>, ApiError> {
    own_name(&auth.0.user, &name)?;
    Ok(Json(UserInfo::from(&auth.0.user)))
}

/// Log out: the session that makes the call ends.
#[utoipa::path(delete, path = "/user/{name}", operation_id = "logout", tag = "accounts",
    params(("name" = String, Path, description = "User name")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Another user's session", body = ErrorBody),
    ))]
pub async fn logout(State(st): State<ApiState>, auth: Auth, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    own_name(&auth.0.user, &name)?;
    st.accounts.logout(&auth.0).await?;
    Ok(StatusCode::NO_CONTENT)
}
