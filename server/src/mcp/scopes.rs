//! Which scope each MCP tool needs. Tool names are part of the interface.
use domain::scope::Scope;

/// The scope a tool needs; `None` for `whoami`, which every working key may call.
pub fn required_scope(tool: &str) -> Option<Scope> {
    match tool {
        "list_visits" | "get_visit" => Some(Scope::ReadVisits),
        "get_schedule" | "list_open_shifts" => Some(Scope::ReadSchedule),
        "get_profile" => Some(Scope::ReadProfile),
        "list_messages" => Some(Scope::ReadMessages),
        "list_patients" => Some(Scope::ReadPatients),
        "list_caregivers" => Some(Scope::ReadCaregivers),
        "list_activity" => Some(Scope::ReadActivity),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_guards_at_least_one_tool_and_whoami_needs_none() {
        let tools = ["whoami", "list_visits", "get_visit", "get_schedule", "get_profile", "list_messages", "list_open_shifts", "list_patients", "list_caregivers", "list_activity"];
        for scope in Scope::ALL {
            assert!(tools.iter().any(|tool| required_scope(tool) == Some(scope)), "{scope:?}");
        }
        assert_eq!(required_scope("whoami"), None);
    }
}
