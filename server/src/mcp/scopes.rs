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
}

impl Tool {
    pub const ALL: [Tool; 10] = [
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
            Tool::ListActivity => Some(Scope::ReadActivity),
        }
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
}
