//! Which scope each MCP tool needs. Tool names are part of the interface. The table is an exhaustive `match`
//! over [`Tool`], so a tool cannot be added without naming its scope, and a name that is not in the table is
//! no tool at all: it is neither listed nor callable (fail closed).
use domain::scope::Scope;

/// Every MCP tool caregate serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Whoami,
    ListVisits,
    GetVisit,
    GetSchedule,
    GetProfile,
    ListMessages,
    ListOpenShifts,
    ListPatients,
    ListCaregivers,
    ListActivity,
    ListDisclosures,
}

impl Tool {
    pub const ALL: [Tool; 11] = [
        Tool::Whoami,
        Tool::ListVisits,
        Tool::GetVisit,
        Tool::GetSchedule,
        Tool::GetProfile,
        Tool::ListMessages,
        Tool::ListOpenShifts,
        Tool::ListPatients,
        Tool::ListCaregivers,
        Tool::ListActivity,
        Tool::ListDisclosures,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Whoami => "whoami",
            Tool::ListVisits => "list_visits",
            Tool::GetVisit => "get_visit",
            Tool::GetSchedule => "get_schedule",
            Tool::GetProfile => "get_profile",
            Tool::ListMessages => "list_messages",
            Tool::ListOpenShifts => "list_open_shifts",
            Tool::ListPatients => "list_patients",
            Tool::ListCaregivers => "list_caregivers",
            Tool::ListActivity => "list_activity",
            Tool::ListDisclosures => "list_disclosures",
        }
    }

    /// The tool of that name; `None` for names caregate does not serve.
    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|tool| tool.name() == name)
    }

    /// The scope the tool needs; `None` for `whoami`, which every working key may call.
    pub fn required_scope(self) -> Option<Scope> {
        match self {
            Tool::Whoami => None,
            Tool::ListVisits | Tool::GetVisit => Some(Scope::ReadVisits),
            Tool::GetSchedule | Tool::ListOpenShifts => Some(Scope::ReadSchedule),
            Tool::GetProfile => Some(Scope::ReadProfile),
            Tool::ListMessages => Some(Scope::ReadMessages),
            Tool::ListPatients => Some(Scope::ReadPatients),
            Tool::ListCaregivers => Some(Scope::ReadCaregivers),
            Tool::ListActivity | Tool::ListDisclosures => Some(Scope::ReadActivity),
        }
    }

    /// Where a successful result names patients (their ids), so the call is recorded as a disclosure of them;
    /// `None` for tools whose results are about no patient. Exhaustive, so a new tool must say.
    pub fn disclosed_patients(self) -> Option<PatientIds> {
        match self {
            Tool::Whoami | Tool::GetProfile | Tool::ListCaregivers | Tool::ListActivity => None,
            // Messages are free text between staff, with no link to a patient: nothing to attribute.
            Tool::ListMessages => None,
            Tool::ListVisits | Tool::GetSchedule => Some(PatientIds::EachOf("visits", "patient_id")),
            Tool::GetVisit => Some(PatientIds::One("visit", "patient_id")),
            Tool::ListOpenShifts => Some(PatientIds::EachOf("open_shifts", "patient_id")),
            Tool::ListPatients => Some(PatientIds::EachOf("patients", "id")),
            Tool::ListDisclosures => Some(PatientIds::EachOf("disclosures", "patient_id")),
        }
    }
}

/// Where a tool's structured result holds patient ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientIds {
    /// `result[list][*][field]`.
    EachOf(&'static str, &'static str),
    /// `result[object][field]`.
    One(&'static str, &'static str),
}

impl PatientIds {
    /// The patient ids in a structured result, each once, in order of appearance.
    pub fn read(self, result: &serde_json::Value) -> Vec<i32> {
        let id = |value: &serde_json::Value, field: &str| value.get(field).and_then(serde_json::Value::as_i64).and_then(|id| i32::try_from(id).ok());
        let mut ids: Vec<i32> = match self {
            PatientIds::EachOf(list, field) => {
                result.get(list).and_then(serde_json::Value::as_array).into_iter().flatten().filter_map(|item| id(item, field)).collect()
            }
            PatientIds::One(object, field) => result.get(object).and_then(|item| id(item, field)).into_iter().collect(),
        };
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(*id));
        ids
    }
}

/// Whether a key with `allows` may see and call the tool named `name`: unknown names never.
pub fn permits(name: &str, allows: impl Fn(Scope) -> bool) -> Result<(), Denied> {
    let tool = Tool::from_name(name).ok_or(Denied::UnknownTool)?;
    match tool.required_scope() {
        Some(scope) if !allows(scope) => Err(Denied::MissingScope(scope)),
        _ => Ok(()),
    }
}

/// Why a tool call is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    UnknownTool,
    MissingScope(Scope),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_guards_at_least_one_tool_and_whoami_needs_none() {
        for scope in Scope::ALL {
            assert!(Tool::ALL.iter().any(|tool| tool.required_scope() == Some(scope)), "{scope:?}");
        }
        assert_eq!(Tool::Whoami.required_scope(), None);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_denied_even_to_a_key_with_every_scope() {
        for tool in Tool::ALL {
            assert_eq!(Tool::from_name(tool.name()), Some(tool));
        }
        assert_eq!(permits("delete_everything", |_| true), Err(Denied::UnknownTool));
        assert_eq!(permits("list_patients", |scope| scope != Scope::ReadPatients), Err(Denied::MissingScope(Scope::ReadPatients)));
        assert_eq!(permits("whoami", |_| false), Ok(()));
    }

    #[test]
    fn patient_ids_are_read_from_where_each_tool_puts_them_once_each() {
        let visits = serde_json::json!({ "visits": [{ "patient_id": 3 }, { "patient_id": 5 }, { "patient_id": 3 }], "count": 3 });
        assert_eq!(Tool::ListVisits.disclosed_patients().unwrap().read(&visits), vec![3, 5]);
        let visit = serde_json::json!({ "visit": { "id": 9, "patient_id": 4 } });
        assert_eq!(Tool::GetVisit.disclosed_patients().unwrap().read(&visit), vec![4]);
        let patients = serde_json::json!({ "patients": [{ "id": 1 }, { "id": 2 }] });
        assert_eq!(Tool::ListPatients.disclosed_patients().unwrap().read(&patients), vec![1, 2]);
        assert_eq!(Tool::ListPatients.disclosed_patients().unwrap().read(&serde_json::json!({ "patients": [] })), Vec::<i32>::new());
        assert_eq!(Tool::Whoami.disclosed_patients(), None);
        assert_eq!(Tool::GetProfile.disclosed_patients(), None);
    }
}
