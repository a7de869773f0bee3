//! Instance statuses and action types, and the two ways Eureka reads a status name.

/// `com.netflix.appinfo.InstanceInfo.InstanceStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Status {
    Up,
    Down,
    Starting,
    OutOfService,
    Unknown,
}

impl Status {
    const ALL: [Status; 5] = [
        Status::Up,
        Status::Down,
        Status::Starting,
        Status::OutOfService,
        Status::Unknown,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Up => "UP",
            Status::Down => "DOWN",
            Status::Starting => "STARTING",
            Status::OutOfService => "OUT_OF_SERVICE",
            Status::Unknown => "UNKNOWN",
        }
    }

    /// Java's `InstanceStatus.valueOf`, used for query parameters: the exact upper-case name or
    /// nothing (the REST layer turns nothing into a 500).
    pub(crate) fn value_of(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.name() == name)
    }

    /// The JSON codec's `EnumLookup` with UNKNOWN as default: exact name, anything else is UNKNOWN.
    pub(crate) fn from_codec(name: &str) -> Status {
        Status::value_of(name).unwrap_or(Status::Unknown)
    }
}

/// `InstanceInfo.ActionType`: what the server last did to an instance, as the delta reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ActionType {
    Added,
    Modified,
    Deleted,
}

impl ActionType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ActionType::Added => "ADDED",
            ActionType::Modified => "MODIFIED",
            ActionType::Deleted => "DELETED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_of_accepts_only_exact_upper_case_names() {
        assert_eq!(
            Status::value_of("OUT_OF_SERVICE"),
            Some(Status::OutOfService)
        );
        assert_eq!(Status::value_of("out_of_service"), None);
        assert_eq!(Status::value_of(""), None);
    }

    #[test]
    fn codec_reads_unknown_names_as_unknown() {
        assert_eq!(Status::from_codec("UP"), Status::Up);
        assert_eq!(Status::from_codec("up"), Status::Unknown);
    }
}
