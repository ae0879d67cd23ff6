use std::fmt;

/// The roles one process can take (README, "Roles"): any set of them runs in one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Api,
    Stream,
    Worker,
    Web,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Api, Role::Stream, Role::Worker, Role::Web];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Stream => "stream",
            Role::Worker => "worker",
            Role::Web => "web",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty set of roles, parsed from `all` or a comma-separated list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet(Vec<Role>);

impl RoleSet {
    pub fn all() -> Self {
        RoleSet(Role::ALL.to_vec())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut roles = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "all" {
                roles.extend(Role::ALL);
                continue;
            }
            let role = Role::ALL
                .into_iter()
                .find(|r| r.as_str() == part)
                .ok_or_else(|| format!("unknown role {part:?} (expected all, api, stream, worker or web)"))?;
            roles.push(role);
        }
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err("no role given (expected all, api, stream, worker or web)".into());
        }
        Ok(RoleSet(roles))
    }

    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }
}

impl fmt::Display for RoleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.0.iter().map(|r| r.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_all() {
        assert_eq!(RoleSet::parse("all").unwrap(), RoleSet::all());
        let s = RoleSet::parse("stream, api,api").unwrap();
        assert_eq!(s.to_string(), "api,stream");
        assert!(RoleSet::parse("api,bogus").unwrap_err().contains("bogus"));
        assert!(RoleSet::parse(" , ").is_err());
    }
}
