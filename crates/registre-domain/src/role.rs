use serde::{Deserialize, Serialize};

/// Who a caller is to Registre. What each may do is decided in one place, [`Permission`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users and API keys.
    Admin,
    /// The privacy officer: every register, not users or keys.
    Dpo,
    /// Support and CRM integrations: subjects, consents and requests, not configuration.
    Agent,
    /// Reads everything and writes nothing.
    Auditor,
}

/// What a route needs. Each API route declares one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Read any register.
    Read,
    /// Record consents, subjects' data and requests.
    OperateSubjects,
    /// Change the organisation, purposes, touchpoints, processors, breaches, webhooks.
    ManageRegisters,
    /// Manage users and API keys.
    Administer,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Self::Admin),
            "dpo" => Some(Self::Dpo),
            "agent" => Some(Self::Agent),
            "auditor" => Some(Self::Auditor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Dpo => "dpo",
            Self::Agent => "agent",
            Self::Auditor => "auditor",
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Self::Admin => true,
            Self::Dpo => matches!(permission, Read | OperateSubjects | ManageRegisters),
            Self::Agent => matches!(permission, Read | OperateSubjects),
            Self::Auditor => matches!(permission, Read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auditor_reads_everything_and_writes_nothing() {
        assert!(Role::Auditor.allows(Permission::Read));
        for p in [
            Permission::OperateSubjects,
            Permission::ManageRegisters,
            Permission::Administer,
        ] {
            assert!(!Role::Auditor.allows(p));
        }
        assert!(Role::Agent.allows(Permission::OperateSubjects));
        assert!(!Role::Agent.allows(Permission::ManageRegisters));
        assert!(!Role::Dpo.allows(Permission::Administer));
    }
}
