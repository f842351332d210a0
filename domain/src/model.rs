//! Serializable view types that travel from the server to the browser and to MCP clients.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Role;

/// The signed-in person, as every page and server function sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub company_id: i32,
    pub company_name: String,
    pub company_account: i64,
}

/// One visit of a caregiver to a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitView {
    pub id: i32,
    pub patient_name: String,
    pub patient_address: String,
    pub caregiver_id: i32,
    pub caregiver_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
}

/// A patient of the company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientView {
    pub id: i32,
    pub name: String,
    pub address: String,
    pub phone: String,
    pub care_notes: String,
}

/// A message sent to or by a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i32,
    pub sender_name: String,
    pub recipient_name: String,
    pub subject: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}
