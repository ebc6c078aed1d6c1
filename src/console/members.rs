//! The organization's members (`/console/members`): the list with each member's roles and
//! status, the invite form, changing a member's roles, removing a member, and a new
//! one-time link for a pending invite.
//!
//! Changes go through the API's functions (`http::members::put` and `delete`) as
//! [`Caller::console_member`](crate::http::extract::Caller), so the rules (valid email,
//! assignable roles, the owner untouchable, the seat limit) and the activity records are
//! the API's. An invite answers with the invitee's one-time link (no email is sent: the
//! member passes it on), issued by `operator::members::issue_link` as the CLI does; that
//! page answers the POST itself with `Cache-Control: no-store`, so the link is in no URL
//! and no cache. The member's email travels in the form, not the path: an address may hold
//! `/` and `?`.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::cluster::caller;
use super::session::{refused, SignedIn};
use super::{
    forbidden_form, internal_error, link_url, message, not_allowed, not_stored, page, Layout,
    MEMBERS_PATH,
};
use crate::domain::member::{normalize_email, roles_to_text, Member, OrgRole};
use crate::domain::permissions::{may, Action};
use crate::domain::Timestamp;
use crate::http::members::{self, PutMode};
use crate::http::AppState;
use crate::operator::members::issue_link;

struct MemberRow {
    email: String,
    name: String,
    roles: String,
    invite_pending: bool,
    is_owner: bool,
    /// The assignable roles, ticked as the member has them, for the roles form.
    choices: Vec<RoleChoice>,
}

struct RoleChoice {
    value: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    layout: Layout,
    csrf: String,
    members: Vec<MemberRow>,
    error: Option<String>,
    invite_email: String,
    invite_roles: Vec<RoleChoice>,
}

#[derive(Template)]
#[template(path = "member_link.html")]
struct LinkPage {
    layout: Layout,
    email: String,
    invite: bool,
    link: String,
    expires_at: String,
}

/// A members form: its fields, with the roles ticked (`role`, repeated). Read as pairs
/// because a form repeats `role` once per ticked box.
#[derive(Debug, Default)]
pub struct MemberForm {
    csrf: String,
    email: String,
    /// The email typed again to confirm a removal.
    confirm: String,
    roles: Vec<String>,
}

impl MemberForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> MemberForm {
        let mut form = MemberForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => form.csrf = value,
                "email" => form.email = value,
                "confirm" => form.confirm = value,
                "role" => form.roles.push(value),
                _ => {}
            }
        }
        form
    }
}

type PairsForm = Result<Form<Vec<(String, String)>>, FormRejection>;

/// The form, once its CSRF token and the member's roles allow it.
fn checked(signed_in: &SignedIn, form: PairsForm) -> Result<MemberForm, Box<Response>> {
    let Ok(Form(pairs)) = form else {
        return Err(Box::new(forbidden_form()));
    };
    let form = MemberForm::from_pairs(pairs);
    match refused(signed_in, &form.csrf, Action::ManageMembers) {
        Some(refusal) => Err(Box::new(refusal)),
        None => Ok(form),
    }
}

fn choices(ticked: &[OrgRole]) -> Vec<RoleChoice> {
    OrgRole::ALL
        .iter()
        .filter(|r| r.is_assignable())
        .map(|r| RoleChoice {
            value: r.as_str(),
            checked: ticked.contains(r),
        })
        .collect()
}

/// The page, with an error (and what was entered in the invite form) when a form was
/// refused.
async fn members_page_for(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    invite: Option<&MemberForm>,
    error: Option<String>,
) -> Response {
    if !may(&signed_in.member.roles, Action::ManageMembers) {
        return not_allowed(Action::ManageMembers.as_str());
    }
    let members = match state.store.members(&signed_in.member.org_id).await {
        Ok(members) => members,
        Err(e) => return internal_error(e),
    };
    let invite_roles: Vec<OrgRole> = match invite {
        Some(form) => form
            .roles
            .iter()
            .filter_map(|r| OrgRole::parse(r))
            .collect(),
        // A new invite suggests the least a member can be given.
        None => vec![OrgRole::Visitor],
    };
    let body = MembersPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        members: members.into_iter().map(row).collect(),
        error,
        invite_email: invite.map(|f| f.email.clone()).unwrap_or_default(),
        invite_roles: choices(&invite_roles),
    };
    page(status, &body)
}

fn row(m: Member) -> MemberRow {
    MemberRow {
        roles: roles_to_text(&m.roles).replace(',', ", "),
        choices: choices(&m.roles),
        email: m.email,
        name: m.name,
        invite_pending: m.invite_pending,
        is_owner: m.is_owner,
    }
}

pub async fn members_page(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    members_page_for(&state, &signed_in, StatusCode::OK, None, None).await
}

/// Invites a new member (or re-invites a pending one, with the roles now ticked) and
/// shows the one-time link to hand over; earlier links of the invitee stop working.
pub async fn invite_member(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: PairsForm,
) -> Response {
    let form = match checked(&signed_in, form) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    if form.roles.is_empty() {
        let text = "Choose at least one role.".to_string();
        return members_page_for(
            &state,
            &signed_in,
            StatusCode::BAD_REQUEST,
            Some(&form),
            Some(text),
        )
        .await;
    }
    let email = form.email.trim();
    let member = match members::put(
        &state,
        &caller(&signed_in),
        email,
        &form.roles,
        PutMode::Invite,
    )
    .await
    {
        Ok(member) => member,
        Err(e) if e.status.is_client_error() => {
            return members_page_for(&state, &signed_in, e.status, Some(&form), Some(e.message))
                .await
        }
        Err(e) => return internal_error(e.message),
    };
    link_page(&state, &signed_in, member).await
}

/// Issues the member a one-time link, recorded with the signed-in member as actor, and
/// shows it once.
async fn link_page(state: &AppState, signed_in: &SignedIn, member: Member) -> Response {
    let issued = match issue_link(
        state.store.as_ref(),
        &state.keyring,
        member,
        &signed_in.member.email,
        Timestamp::now(),
    )
    .await
    {
        Ok(issued) => issued,
        Err(e) => return internal_error(e),
    };
    let body = LinkPage {
        layout: Layout::signed_in(signed_in),
        invite: issued.member.invite_pending,
        email: issued.member.email,
        link: link_url(&state.settings.public_url, &issued.token),
        expires_at: issued.expires_at.to_rfc3339(),
    };
    not_stored(page(StatusCode::OK, &body))
}

/// Replaces a member's roles with the ticked ones.
pub async fn change_roles(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: PairsForm,
) -> Response {
    let form = match checked(&signed_in, form) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    if form.roles.is_empty() {
        let text = format!("Choose at least one role for {}.", form.email);
        return members_page_for(
            &state,
            &signed_in,
            StatusCode::BAD_REQUEST,
            None,
            Some(text),
        )
        .await;
    }
    let result = members::put(
        &state,
        &caller(&signed_in),
        &form.email,
        &form.roles,
        PutMode::Change,
    )
    .await;
    match result {
        Ok(_) => Redirect::to(MEMBERS_PATH).into_response(),
        Err(e) if e.status.is_client_error() => {
            refusal_page(&state, &signed_in, e.status, e.message).await
        }
        Err(e) => internal_error(e.message),
    }
}

/// Removes a member (their sessions end with the membership) when the form repeats their
/// email; else the page again, nothing removed.
pub async fn remove_member(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: PairsForm,
) -> Response {
    let form = match checked(&signed_in, form) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let confirmed = normalize_email(form.confirm.trim())
        .is_ok_and(|typed| normalize_email(&form.email).is_ok_and(|email| email == typed));
    if !confirmed {
        let text = format!(
            "To remove {}, type their email exactly; nothing was removed.",
            form.email
        );
        return members_page_for(
            &state,
            &signed_in,
            StatusCode::BAD_REQUEST,
            None,
            Some(text),
        )
        .await;
    }
    match members::delete(&state, &caller(&signed_in), &form.email).await {
        Ok(()) => Redirect::to(MEMBERS_PATH).into_response(),
        Err(e) if e.status.is_client_error() => {
            refusal_page(&state, &signed_in, e.status, e.message).await
        }
        Err(e) => internal_error(e.message),
    }
}

/// A new one-time link for a pending invite (the first one lost or expired); earlier
/// links stop working. Members who have accepted reset their password with the operator.
pub async fn new_link(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: PairsForm,
) -> Response {
    let form = match checked(&signed_in, form) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let member = match normalize_email(&form.email) {
        Ok(email) => state.store.member(&signed_in.member.org_id, &email).await,
        Err(e) => return message(StatusCode::BAD_REQUEST, "Invalid email", &e.to_string()),
    };
    match member {
        Ok(Some(member)) if member.invite_pending => link_page(&state, &signed_in, member).await,
        Ok(Some(member)) => {
            let text = format!("{} has accepted the invite already", member.email);
            refusal_page(&state, &signed_in, StatusCode::CONFLICT, text).await
        }
        Ok(None) => {
            let text = format!("{} is not a member of this organization", form.email);
            refusal_page(&state, &signed_in, StatusCode::NOT_FOUND, text).await
        }
        Err(e) => internal_error(e),
    }
}

/// The page again with why a change was refused (the owner, a member gone), with the
/// refusal's status.
async fn refusal_page(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    text: String,
) -> Response {
    let text = format!("Nothing was changed: {text}.");
    members_page_for(state, signed_in, status, None, Some(text)).await
}
