//! `/members` and `/members/{email}`: the organization's members and pending invites.
//!
//! The JS SDK puts the email into the path without URL-encoding it, so `+` arrives as `+`;
//! path segments are only percent-decoded, never form-decoded (`+` is not a space here).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Caller};
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::member::{
    normalize_email, parse_assignable_roles, roles_to_text, Member, OrgRole,
};
use crate::domain::scope::Scope;
use crate::domain::Timestamp;
use crate::storage::StoreError;

/// Concurrent changes to one member are retried this often before giving up.
const WRITE_ATTEMPTS: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/members", get(list_members))
        .route("/members/{email}", post(put_member).delete(delete_member))
}

/// `Member` of the API document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberDto {
    pub name: String,
    pub email: String,
    pub roles: Vec<OrgRole>,
    pub invite_pending: bool,
}

/// `PostMemberBody`. Role names are checked by hand, so the error can name the bad one.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostMemberBody {
    pub org_roles: Vec<String>,
}

fn member_not_found(email: &str) -> ApiError {
    ApiError::not_found(format!("{email} is not a member of this organization"))
}

async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<MemberDto>>> {
    caller.require(Scope::GetMembers)?;
    let members = state.store.members(caller.org_id()).await?;
    Ok(Json(
        members
            .into_iter()
            .map(|m| MemberDto {
                name: m.name,
                email: m.email,
                roles: m.roles,
                invite_pending: m.invite_pending,
            })
            .collect(),
    ))
}

/// Invites `email` (a pending member) or replaces an existing member's roles.
async fn put_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    // Taken as a Result so that a missing scope is reported before a bad body.
    body: Result<ApiJson<PostMemberBody>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::CreateMembers)?;
    let ApiJson(body) = body?;
    let email = normalize_email(&email)?;
    let roles = parse_assignable_roles(&body.org_roles)?;
    let org_id = caller.org_id();
    // Read, decide, then write conditionally: the audit record states exactly what changed,
    // and a concurrent change makes the write miss and the loop decide again.
    for _ in 0..WRITE_ATTEMPTS {
        let now = Timestamp::now();
        match state.store.member(org_id, &email).await? {
            Some(m) if m.is_owner => {
                return Err(ApiError::forbidden(
                    "the organization owner's roles cannot be changed",
                ))
            }
            Some(m) if m.roles == roles => return Ok(StatusCode::NO_CONTENT),
            Some(m) => {
                let audit = AuditEntry::new(
                    org_id,
                    caller.client_id(),
                    AuditType::Update,
                    "member",
                    &email,
                    format!("Changed the roles of {email}"),
                    now,
                )
                .with_change(
                    "roles",
                    Some(roles_to_text(&m.roles)),
                    Some(roles_to_text(&roles)),
                );
                if state
                    .store
                    .update_member_roles(org_id, &email, &m.roles, &roles, &audit)
                    .await?
                {
                    return Ok(StatusCode::NO_CONTENT);
                }
            }
            None => {
                let audit = AuditEntry::new(
                    org_id,
                    caller.client_id(),
                    AuditType::Create,
                    "member",
                    &email,
                    format!("Invited {email} with roles {}", roles_to_text(&roles)),
                    now,
                );
                let member = Member::invite(org_id, &email, roles.clone(), now);
                let max = state.settings.max_members;
                match state.store.insert_member(&member, max, &audit).await {
                    Ok(()) => return Ok(StatusCode::NO_CONTENT),
                    Err(StoreError::Conflict(_)) => {}
                    Err(StoreError::LimitReached) => {
                        return Err(ApiError::forbidden(format!(
                            "no open seats left: the organization has all {max} of its seats taken"
                        )))
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        format!("{email} was changed concurrently; try again"),
    ))
}

async fn delete_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::DeleteMembers)?;
    let email = normalize_email(&email)?;
    let org_id = caller.org_id();
    let member = state
        .store
        .member(org_id, &email)
        .await?
        .ok_or_else(|| member_not_found(&email))?;
    if member.is_owner {
        return Err(ApiError::forbidden(
            "the organization owner cannot be removed",
        ));
    }
    let audit = AuditEntry::new(
        org_id,
        caller.client_id(),
        AuditType::Delete,
        "member",
        &email,
        format!("Removed {email} from the organization"),
        Timestamp::now(),
    );
    if state.store.delete_member(org_id, &email, &audit).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(member_not_found(&email))
    }
}
