//! `/members` and `/members/{email}`: the organization's members and pending invites.
//!
//! The JS SDK puts the email into the path without URL-encoding it, so `+` arrives as `+`;
//! path segments are only percent-decoded, never form-decoded (`+` is not a space here).

use std::borrow::Cow;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::retry::optimistically;
use super::schema::{string_enum, tags};
use super::AppState;
use crate::domain::audit::AuditType;
use crate::domain::member::{
    normalize_email, parse_assignable_roles, roles_to_text, Member, OrgRole,
};
use crate::domain::scope::Scope;
use crate::domain::Timestamp;
use crate::storage::StoreError;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(put_member, delete_member))
}

impl PartialSchema for OrgRole {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "A role in an organization",
            OrgRole::ALL.iter().map(|r| r.as_str()),
        )
    }
}

impl ToSchema for OrgRole {
    fn name() -> Cow<'static, str> {
        "OrganizationRole".into()
    }
}

/// A role a client may grant (`AssignableOrganizationRoleType`).
pub struct AssignableOrganizationRoleType;

impl PartialSchema for AssignableOrganizationRoleType {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "A role a client may grant",
            OrgRole::ALL
                .iter()
                .filter(|r| r.is_assignable())
                .map(|r| r.as_str()),
        )
    }
}

impl ToSchema for AssignableOrganizationRoleType {
    fn name() -> Cow<'static, str> {
        "AssignableOrganizationRoleType".into()
    }
}

/// `Member` of the API document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Member)]
pub struct MemberDto {
    pub name: String,
    pub email: String,
    pub roles: Vec<OrgRole>,
    pub invite_pending: bool,
}

/// The roles to give a member or invitee.
// Role names are checked by hand (not by serde), so the error can name the bad one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"orgRoles": ["developer"]}))]
pub struct PostMemberBody {
    /// At least one role.
    #[schema(value_type = Vec<AssignableOrganizationRoleType>, min_items = 1)]
    pub org_roles: Vec<String>,
}

fn member_not_found(email: &str) -> ApiError {
    ApiError::not_found(format!("{email} is not a member of this organization"))
}

/// List the organization's members and pending invites.
#[utoipa::path(
    get,
    path = "/members",
    operation_id = "GetMembers",
    tag = tags::MEMBERS,
    security(("bearer" = ["get:members"])),
    responses(
        (status = 200, description = "The list of members and pending invites for your organization.", body = Vec<MemberDto>),
        (status = 403, description = "The token lacks the scope get:members"),
    ),
)]
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

/// Invite `email` (a pending member) or replace an existing member's roles.
#[utoipa::path(
    post,
    path = "/members/{email}",
    operation_id = "UpdateMembers",
    tag = tags::MEMBERS,
    params(
        ("email" = String, Path, description = "The member's email address (`+` is a plus, not a space)"),
    ),
    request_body = PostMemberBody,
    security(("bearer" = ["create:members"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "Invalid request body (e.g. invalid roles) or email"),
        (status = 403, description = "The token lacks the scope create:members, no open seats are left, or the member is the owner"),
    ),
)]
async fn put_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(email): ApiPath<String>,
    // Taken as a Result so that a missing scope is reported before a bad body.
    body: Result<ApiJson<PostMemberBody>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::CreateMembers)?;
    let ApiJson(body) = body?;
    put(
        &state,
        &caller,
        &email,
        &body.org_roles,
        PutMode::InviteOrChange,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What [`put`] may do with what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    /// The API's `POST /members/{email}`: invite when there is no such member, else
    /// replace the roles.
    InviteOrChange,
    /// The console's invite form: invite, or replace the roles of a pending invite; a
    /// member who has accepted is refused (409), their roles are changed elsewhere.
    Invite,
    /// The console's roles form: replace the roles of a member there is (404 if none).
    Change,
}

/// Invites `email` (a pending member) or replaces a member's roles, as `mode` allows;
/// the member as it is afterwards. Checks the email and the roles (`role_names`: at
/// least one, each assignable); the owner's roles cannot change, and an invite needs an
/// open seat. The activity record is written in the same transaction.
pub async fn put(
    state: &AppState,
    caller: &Caller,
    email: &str,
    role_names: &[String],
    mode: PutMode,
) -> ApiResult<Member> {
    let email = normalize_email(email)?;
    let roles = parse_assignable_roles(role_names)?;
    let org_id = caller.org_id();
    // Read, decide, then write conditionally: the audit record states exactly what changed,
    // and a concurrent change makes the write miss and the loop decide again.
    let (email, roles) = (&email, &roles);
    optimistically(email, || async move {
        let now = Timestamp::now();
        match state.store.member(org_id, email).await? {
            Some(m) if m.is_owner => {
                return Err(ApiError::forbidden(
                    "the organization owner's roles cannot be changed",
                ))
            }
            Some(m) if mode == PutMode::Invite && !m.invite_pending => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("{email} is already a member of this organization"),
                ))
            }
            Some(m) if m.roles == *roles => return Ok(Some(m)),
            Some(m) => {
                let audit = caller
                    .audit(
                        AuditType::Update,
                        "member",
                        email,
                        format!("Changed the roles of {email}"),
                        now,
                    )
                    .with_change(
                        "roles",
                        Some(roles_to_text(&m.roles)),
                        Some(roles_to_text(roles)),
                    );
                if state
                    .store
                    .update_member_roles(org_id, email, &m.roles, roles, &audit)
                    .await?
                {
                    return Ok(Some(Member {
                        roles: roles.clone(),
                        ..m
                    }));
                }
            }
            None if mode == PutMode::Change => return Err(member_not_found(email)),
            None => {
                let audit = caller.audit(
                    AuditType::Create,
                    "member",
                    email,
                    format!("Invited {email} with roles {}", roles_to_text(roles)),
                    now,
                );
                let member = Member::invite(org_id, email, roles.clone(), now);
                let max = state.settings.max_members;
                match state.store.insert_member(&member, max, &audit).await {
                    Ok(()) => return Ok(Some(member)),
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
        Ok(None)
    })
    .await
}

/// Remove a member or cancel an invite.
#[utoipa::path(
    delete,
    path = "/members/{email}",
    operation_id = "DeleteMember",
    tag = tags::MEMBERS,
    params(
        ("email" = String, Path, description = "The member's email address (`+` is a plus, not a space)"),
    ),
    security(("bearer" = ["delete:members"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "An invalid email"),
        (status = 403, description = "The token lacks the scope delete:members, or the member is the owner"),
        (status = 404, description = "The user is not part of the organization"),
    ),
)]
async fn delete_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(email): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::DeleteMembers)?;
    delete(&state, &caller, &email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member or cancels an invite, with its activity record; the owner cannot be
/// removed. The member's console sessions end with it (they belong to the membership).
pub async fn delete(state: &AppState, caller: &Caller, email: &str) -> ApiResult<()> {
    let email = normalize_email(email)?;
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
    let audit = caller.audit(
        AuditType::Delete,
        "member",
        &email,
        format!("Removed {email} from the organization"),
        Timestamp::now(),
    );
    if state.store.delete_member(org_id, &email, &audit).await? {
        Ok(())
    } else {
        Err(member_not_found(&email))
    }
}
