//! Who may see what: roles, scopes, API keys, the actor an audit entry names.

use super::*;

/// What an API key may do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, every tenant; the only role that reads the audit log and manages keys.
    Admin,
    /// Provider staff auditing calls: the clients they are assigned to; may change rule sets.
    QualityManager,
    /// Provider staff handling calls: the clients they are assigned to; may upload.
    Agent,
    /// An ordering client: its own tenant only, read and evidence.
    Client,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::QualityManager => "quality_manager",
            Role::Agent => "agent",
            Role::Client => "client",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "admin" => Ok(Role::Admin),
            "quality_manager" | "qm" => Ok(Role::QualityManager),
            "agent" => Ok(Role::Agent),
            "client" => Ok(Role::Client),
            other => Err(format!(
                "unknown role {other:?}: use admin, quality_manager, agent or client"
            )),
        }
    }
}

/// Which tenants' data a reader may see. Every read of calls, transcripts, findings, audio,
/// search hits and evidence is filtered by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Clients(Vec<String>),
}

impl Scope {
    pub fn allows(&self, client: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Clients(c) => c.iter().any(|x| x == client),
        }
    }

    /// The tenants this scope is limited to; `None` for every tenant.
    pub fn clients(&self) -> Option<&[String]> {
        match self {
            Scope::All => None,
            Scope::Clients(c) => Some(c),
        }
    }
}

/// An API key as listed (never its secret).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The tenants it is limited to (empty for admin).
    pub clients: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn scope(&self) -> Scope {
        if self.role == Role::Admin {
            Scope::All
        } else {
            Scope::Clients(self.clients.clone())
        }
    }
}

/// Who did something: an API key, or the local operator using the command line.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub key_id: String,
    pub role: Role,
    /// The tenant of a client key; None for staff and admins.
    pub tenant: Option<String>,
}

impl Actor {
    /// The person at the machine running `callproof` commands on a data folder.
    pub fn local() -> Self {
        Self {
            key_id: "local-cli".into(),
            role: Role::Admin,
            tenant: None,
        }
    }

    pub fn of(key: &ApiKey) -> Self {
        Self {
            key_id: key.id.clone(),
            role: key.role,
            tenant: (key.role == Role::Client)
                .then(|| key.clients.first().cloned())
                .flatten(),
        }
    }
}

/// One line of the audit log. `hash` chains it to the entry before it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// What was done: "read_audio", "read_transcript", "read_findings", "create_evidence",
    /// "put_rules", "create_key", "revoke_key", …
    pub action: String,
    /// What it was done to: a call id, a client, a key id.
    pub target: Option<String>,
    /// "ok", "not_found", "denied", "invalid", …
    pub outcome: String,
    pub prev_hash: String,
    pub hash: String,
}
