//! Outgoing e-mail: through SMTP when `CAREGATE_SMTP_URL` is set (`smtp://host:port` in the clear,
//! `smtp://host:587?tls=required` with STARTTLS, `smtps://user:password@host:465`), as plain text with a simple
//! HTML part, from `CAREGATE_MAIL_FROM`. Without SMTP a mail is not sent: the log says "would send" with the
//! recipient and subject only — never the body, which may carry a secret such as an invitation link.
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::DomainError;

/// How long one delivery may take before it is given up (the caller carries on without it).
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// One message.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What became of a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// No SMTP server is configured: the log names the recipient and subject.
    NotConfigured,
}

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `smtp_url` (none: mail is only logged) sending as `from` (`Name <address>` or an address).
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Mailer, String> {
        let from: Mailbox = from.parse().map_err(|err| format!("CAREGATE_MAIL_FROM {from:?} is not a mailbox: {err}"))?;
        if smtp_url.is_some_and(|url| url.starts_with("smtp://") && !url.contains("tls=")) {
            tracing::warn!("CAREGATE_SMTP_URL sends mail unencrypted (smtp:// without ?tls=required): invitation links travel in the clear");
        }
        let transport = match smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| format!("CAREGATE_SMTP_URL is not an SMTP URL: {err}"))?
                    .timeout(Some(SEND_TIMEOUT))
                    .build(),
            ),
            None => None,
        };
        Ok(Mailer { transport, from })
    }

    /// A mailer that only logs, for tests and the command line.
    pub fn log_only() -> Mailer {
        Mailer { transport: None, from: "caregate <noreply@localhost>".parse().expect("a valid constant mailbox") }
    }

    /// Sends `mail`, or logs that it would have been sent.
    pub async fn send(&self, mail: Mail) -> Result<Delivery, DomainError> {
        let Some(transport) = &self.transport else {
            tracing::info!(to = %mail.to, subject = %mail.subject, "would send an e-mail (no CAREGATE_SMTP_URL)");
            return Ok(Delivery::NotConfigured);
        };
        let to: Mailbox = mail.to.parse().map_err(|_| DomainError::Invalid(format!("\"{}\" is not an email address", mail.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html)),
            )
            .map_err(|err| DomainError::Internal(format!("cannot build an e-mail: {err}")))?;
        transport.send(message).await.map_err(|err| DomainError::Internal(format!("cannot send an e-mail: {err}")))?;
        Ok(Delivery::Sent)
    }
}

/// Text for an HTML part: `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape_html(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            other => other.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_cannot_work_are_refused_at_start_up() {
        assert!(Mailer::new(None, "caregate <noreply@care.example>").is_ok());
        assert!(Mailer::new(Some("smtp://127.0.0.1:2525"), "noreply@care.example").is_ok());
        assert!(Mailer::new(None, "not a mailbox").err().unwrap().contains("CAREGATE_MAIL_FROM"));
        assert!(Mailer::new(Some("http://mail.example"), "noreply@care.example").err().unwrap().contains("CAREGATE_SMTP_URL"));
    }

    #[test]
    fn names_in_mail_cannot_become_markup() {
        assert_eq!(escape_html("<b>Rosa & \"Co\"</b>"), "&lt;b&gt;Rosa &amp; &quot;Co&quot;&lt;/b&gt;");
    }
}
