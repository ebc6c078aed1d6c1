//! Console accounts: a one-time link is taken once (also by two replicas at the same
//! moment) and replaces the member's earlier links; taking it sets the password, activates
//! an invite and ends the member's sessions; sessions are found with their member, touched,
//! ended, swept when idle or old, and go with a removed member.

use consoled::crypto::Keyring;
use consoled::domain::account::{ConsoleSession, LinkPurpose, SignInLink};
use consoled::domain::member::{Member, OrgRole};
use consoled::domain::Timestamp;

use crate::{audit, on_every_backend, org, Backend};

const HOUR: i64 = 3_600_000;

fn keyring() -> Keyring {
    Keyring::from_master_key(&[3u8; 32])
}

async fn invited(b: &Backend, name: &str) -> (String, Member) {
    let store = b.store.as_ref();
    let o = org(store, name).await;
    let member = Member::invite(
        &o.id,
        &format!("dev@{name}.example.com"),
        vec![OrgRole::Developer],
        Timestamp(HOUR),
    );
    store
        .insert_member(&member, 100, &audit(&o.id, &member.email))
        .await
        .unwrap();
    (o.id, member)
}

async fn a_link_is_taken_once_and_replaces_earlier_ones(b: &Backend) {
    let store = b.store.as_ref();
    let keys = keyring();
    let (org_id, member) = invited(b, "links").await;
    let now = Timestamp(2 * HOUR);
    let (_, first) = SignInLink::issue(&keys, LinkPurpose::Invite, &org_id, &member.email, now);
    let (_, second) = SignInLink::issue(&keys, LinkPurpose::Invite, &org_id, &member.email, now);
    store
        .insert_sign_in_link(&first, &audit(&org_id, "first"))
        .await
        .unwrap();
    store
        .insert_sign_in_link(&second, &audit(&org_id, "second"))
        .await
        .unwrap();
    assert!(store
        .sign_in_link(&first.token_hash)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.sign_in_link(&second.token_hash).await.unwrap(),
        Some(second.clone())
    );
    assert!(store.accounts(&member.email).await.unwrap().is_empty());

    // A session of the member (from an earlier password) ends when the link is taken.
    let (_, session) = ConsoleSession::start(&keys, &org_id, &member.email, now);
    store
        .insert_session(&session, &audit(&org_id, "signin"))
        .await
        .unwrap();

    // Two replicas take it at the same moment: one wins.
    let other = b.reopen().await;
    let later = Timestamp(3 * HOUR);
    let (audit_one, audit_two) = (audit(&org_id, "one"), audit(&org_id, "two"));
    let (one, two) = tokio::join!(
        store.take_sign_in_link(&second, "$argon2id$one", later, &audit_one),
        other.take_sign_in_link(&second, "$argon2id$two", later, &audit_two),
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert!(one != two, "exactly one take succeeds");
    let accounts = store.accounts(&member.email).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert!(!accounts[0].member.invite_pending, "the invite is accepted");
    let expected = if one {
        "$argon2id$one"
    } else {
        "$argon2id$two"
    };
    assert_eq!(accounts[0].password_hash, expected);
    assert!(store
        .sign_in_link(&second.token_hash)
        .await
        .unwrap()
        .is_none());
    assert!(store.session(&session.id_hash).await.unwrap().is_none());
    // Used: refused, nothing changes.
    assert!(!store
        .take_sign_in_link(&second, "$argon2id$again", later, &audit(&org_id, "again"))
        .await
        .unwrap());
    assert_eq!(
        store.accounts(&member.email).await.unwrap()[0].password_hash,
        expected
    );

    // A link for someone who is not a member is refused.
    let (_, stray) = SignInLink::issue(&keys, LinkPurpose::Reset, &org_id, "x@y.example", now);
    assert!(store
        .insert_sign_in_link(&stray, &audit(&org_id, "stray"))
        .await
        .is_err());
}

async fn sessions_are_found_touched_ended_and_swept(b: &Backend) {
    let store = b.store.as_ref();
    let keys = keyring();
    let (org_id, member) = invited(b, "sessions").await;
    let start = Timestamp(2 * HOUR);
    let (_, session) = ConsoleSession::start(&keys, &org_id, &member.email, start);
    store
        .insert_session(&session, &audit(&org_id, "signin"))
        .await
        .unwrap();
    let (found, with) = store.session(&session.id_hash).await.unwrap().unwrap();
    assert_eq!(found, session);
    assert_eq!(with.email, member.email);
    assert_eq!(with.roles, vec![OrgRole::Developer]);

    let touched_at = Timestamp(start.millis() + 120_000);
    store
        .touch_session(&session.id_hash, touched_at)
        .await
        .unwrap();
    let (found, _) = store.session(&session.id_hash).await.unwrap().unwrap();
    assert_eq!(found.last_seen_at, touched_at);
    // An older touch does not move it back.
    store.touch_session(&session.id_hash, start).await.unwrap();
    let (found, _) = store.session(&session.id_hash).await.unwrap().unwrap();
    assert_eq!(found.last_seen_at, touched_at);

    assert!(store
        .delete_session(&session.id_hash, Some(&audit(&org_id, "signout")))
        .await
        .unwrap());
    assert!(!store.delete_session(&session.id_hash, None).await.unwrap());
    assert!(store.session(&session.id_hash).await.unwrap().is_none());

    // The sweep: idle, too old, and expired links go; the rest stays.
    let (_, idle) = ConsoleSession::start(&keys, &org_id, &member.email, Timestamp(HOUR));
    let (_, fresh) = ConsoleSession::start(&keys, &org_id, &member.email, Timestamp(5 * HOUR));
    let (_, expired) = SignInLink::issue(
        &keys,
        LinkPurpose::Reset,
        &org_id,
        &member.email,
        Timestamp(HOUR),
    );
    for s in [&idle, &fresh] {
        store
            .insert_session(s, &audit(&org_id, "signin"))
            .await
            .unwrap();
    }
    store
        .insert_sign_in_link(&expired, &audit(&org_id, "reset"))
        .await
        .unwrap();
    store
        .delete_expired_sign_ins(Timestamp(4 * HOUR), Timestamp(0), Timestamp(5 * HOUR))
        .await
        .unwrap();
    assert!(store.session(&idle.id_hash).await.unwrap().is_none());
    assert!(store.session(&fresh.id_hash).await.unwrap().is_some());
    assert!(store
        .sign_in_link(&expired.token_hash)
        .await
        .unwrap()
        .is_none());

    // A removed member's sessions go with it.
    assert!(store
        .delete_member(&org_id, &member.email, &audit(&org_id, "removed"))
        .await
        .unwrap());
    assert!(store.session(&fresh.id_hash).await.unwrap().is_none());
}

#[tokio::test]
async fn sign_in_links_are_taken_once() {
    on_every_backend!(a_link_is_taken_once_and_replaces_earlier_ones);
}

#[tokio::test]
async fn console_sessions() {
    on_every_backend!(sessions_are_found_touched_ended_and_swept);
}
