//! Invitation e-mail through a real SMTP conversation: the test runs a small SMTP server on loopback, points
//! the app at it (`CAREGATE_SMTP_URL`), and reads what arrives. Without SMTP nothing is sent and the link is
//! only in the app; an SMTP server that is down does not stop the invitation.
use std::sync::{Arc, Mutex};

use app::api::people::{GetInvitation, InvitePerson};
use app::model::Role;
use domain::mail::Mailer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{backend_test, spawn_app_with, Backend};

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub recipients: Vec<String>,
    pub data: String,
}

/// An SMTP server on a loopback port that accepts every message and keeps it (the alerts tests use it too).
pub async fn smtp_server() -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let inbox = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let mut message = Received { recipients: vec![], data: String::new() };
                write.write_all(b"220 loopback ESMTP test server\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                        b"250 loopback\r\n"
                    } else if command.starts_with("RCPT TO:") {
                        message.recipients.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if command == "DATA" {
                        write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await.unwrap();
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            message.data.push_str(&data);
                            message.data.push('\n');
                        }
                        inbox.lock().unwrap().push(std::mem::replace(&mut message, Received { recipients: vec![], data: String::new() }));
                        b"250 Queued\r\n"
                    } else if command == "QUIT" {
                        write.write_all(b"221 Bye\r\n").await.unwrap();
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (url, inbox)
}

/// The text of a quoted-printable body, with its soft line breaks and `=3D` undone.
pub fn unfold(data: &str) -> String {
    data.replace("=\n", "").replace("=3D", "=")
}

backend_test!(an_invitation_is_e_mailed_with_a_link_that_works_when_smtp_is_set_up);
async fn an_invitation_is_e_mailed_with_a_link_that_works_when_smtp_is_set_up(backend: Backend) {
    let (url, inbox) = smtp_server().await;
    let app = spawn_app_with(backend, |config| {
        config.mailer = Arc::new(Mailer::new(Some(&url), "Sunrise via caregate <noreply@care.test>").unwrap());
    })
    .await;
    let root = app.login("root@sunrise.test").await;
    let invited =
        app.call(InvitePerson { name: "Nina <Ray>".into(), email: "nina@sunrise.test".into(), role: Role::Caregiver }, Some(&root)).await.output();
    assert!(invited.emailed);

    let received = inbox.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].recipients, vec!["nina@sunrise.test"]);
    let mail = unfold(&received[0].data);
    assert!(mail.contains("Subject: You are invited to Sunrise Home Care on caregate"), "{mail}");
    assert!(mail.contains("From: \"Sunrise via caregate\" <noreply@care.test>"), "{mail}");
    assert!(mail.contains(invited.link.expose()), "the link is in the mail: {mail}");
    assert!(mail.contains("Nina &lt;Ray&gt;") && !mail.contains("<Ray>,</p>"), "names are escaped in the HTML part");
    let secret = invited.link.expose().rsplit('/').next().unwrap().to_owned();
    assert_eq!(app.call(GetInvitation { secret }, None).await.output().email, "nina@sunrise.test");
}

backend_test!(without_smtp_or_with_smtp_down_the_invitation_still_stands_and_the_link_is_in_the_app);
async fn without_smtp_or_with_smtp_down_the_invitation_still_stands_and_the_link_is_in_the_app(backend: Backend) {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("smtp://{}", listener.local_addr().unwrap())
    };
    for mailer in [Mailer::log_only(), Mailer::new(Some(&closed), "noreply@care.test").unwrap()] {
        let mailer = Arc::new(mailer);
        let app = spawn_app_with(backend, |config| config.mailer = mailer.clone()).await;
        let root = app.login("root@sunrise.test").await;
        let invited =
            app.call(InvitePerson { name: "Nina Ray".into(), email: "nina@sunrise.test".into(), role: Role::Caregiver }, Some(&root)).await.output();
        assert!(!invited.emailed);
        let secret = invited.link.expose().rsplit('/').next().unwrap().to_owned();
        assert_eq!(app.call(GetInvitation { secret }, None).await.output().name, "Nina Ray");
    }
}
