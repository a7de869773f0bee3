//! The statuses Eureka knows for an instance (`InstanceInfo.InstanceStatus`).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceStatus {
    Up,
    Down,
    Starting,
    OutOfService,
    Unknown,
}

impl InstanceStatus {
    /// The name on the wire, as Eureka spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Up => "UP",
            InstanceStatus::Down => "DOWN",
            InstanceStatus::Starting => "STARTING",
            InstanceStatus::OutOfService => "OUT_OF_SERVICE",
            InstanceStatus::Unknown => "UNKNOWN",
        }
    }

    /// Reads a status as Eureka's `InstanceStatus.toEnum` does: any name it does not know is
    /// `UNKNOWN`.
    pub fn from_wire(text: &str) -> Self {
        match text.to_ascii_uppercase().as_str() {
            "UP" => InstanceStatus::Up,
            "DOWN" => InstanceStatus::Down,
            "STARTING" => InstanceStatus::Starting,
            "OUT_OF_SERVICE" => InstanceStatus::OutOfService,
            _ => InstanceStatus::Unknown,
        }
    }
}

impl fmt::Display for InstanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_what_they_write_and_unknown_names_are_unknown() {
        for status in [
            InstanceStatus::Up,
            InstanceStatus::Down,
            InstanceStatus::Starting,
            InstanceStatus::OutOfService,
            InstanceStatus::Unknown,
        ] {
            assert_eq!(InstanceStatus::from_wire(status.as_str()), status);
        }
        assert_eq!(
            InstanceStatus::from_wire("out_of_service"),
            InstanceStatus::OutOfService
        );
        assert_eq!(
            InstanceStatus::from_wire("SLEEPING"),
            InstanceStatus::Unknown
        );
    }
}
