//! Penguin's one error type: a stable numeric code and a readable message.

use std::fmt;

/// Stable error codes. The numbers are part of the C API and never change; a
/// retired code is never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// A required pointer argument was NULL (C API only).
    NullArgument = 1,
    /// The epoch is NaN, infinite, zero or negative.
    InvalidEpoch = 2,
    /// The fitness value is NaN or infinite.
    InvalidFitness = 3,
    /// The epoch is not greater than the network's previous epoch.
    EpochNotIncreasing = 4,
    /// No network with this id is tracked.
    UnknownNetwork = 5,
    /// The network already has a final decision; it takes no more observations.
    AlreadyDecided = 6,
    /// The configuration key is not known.
    UnknownConfigKey = 7,
    /// The configuration value cannot be parsed or is out of range.
    InvalidConfigValue = 8,
    /// Configuration values contradict each other (e.g. bounds of the wrong length).
    InconsistentConfig = 9,
    /// The function name is not in the catalogue (nor registered by the user).
    UnknownFunction = 10,
    /// Reading or writing a file failed.
    Io = 11,
    /// A saved state is truncated, corrupted or not a Penguin state.
    InvalidState = 12,
    /// A saved state was written by an incompatible format version.
    StateVersion = 13,
    /// An argument is invalid in a way not covered by a more specific code.
    InvalidArgument = 14,
    /// An internal error (a caught panic). Please report it.
    Internal = 15,
    /// An output buffer is too small.
    BufferTooSmall = 16,
    /// The engine is in use by another thread (C API only): one engine must not
    /// be used by two threads at once; the call changed nothing.
    Busy = 17,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::NullArgument,
        ErrorCode::InvalidEpoch,
        ErrorCode::InvalidFitness,
        ErrorCode::EpochNotIncreasing,
        ErrorCode::UnknownNetwork,
        ErrorCode::AlreadyDecided,
        ErrorCode::UnknownConfigKey,
        ErrorCode::InvalidConfigValue,
        ErrorCode::InconsistentConfig,
        ErrorCode::UnknownFunction,
        ErrorCode::Io,
        ErrorCode::InvalidState,
        ErrorCode::StateVersion,
        ErrorCode::InvalidArgument,
        ErrorCode::Internal,
        ErrorCode::BufferTooSmall,
        ErrorCode::Busy,
    ];

    /// A static one-line description of the code.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::NullArgument => "a required pointer argument is NULL",
            ErrorCode::InvalidEpoch => "the epoch is NaN, infinite, zero or negative",
            ErrorCode::InvalidFitness => "the fitness value is NaN or infinite",
            ErrorCode::EpochNotIncreasing => {
                "the epoch is not greater than the network's previous epoch"
            }
            ErrorCode::UnknownNetwork => "no network with this id is tracked",
            ErrorCode::AlreadyDecided => "the network already has a final decision",
            ErrorCode::UnknownConfigKey => "unknown configuration key",
            ErrorCode::InvalidConfigValue => "invalid configuration value",
            ErrorCode::InconsistentConfig => "configuration values contradict each other",
            ErrorCode::UnknownFunction => "unknown parametric function",
            ErrorCode::Io => "input/output error",
            ErrorCode::InvalidState => "not a valid Penguin state (truncated or corrupted)",
            ErrorCode::StateVersion => "Penguin state written by an unsupported format version",
            ErrorCode::InvalidArgument => "invalid argument",
            ErrorCode::Internal => "internal error (caught panic); please report it",
            ErrorCode::BufferTooSmall => "the output buffer is too small",
            ErrorCode::Busy => "the engine is in use by another thread",
        }
    }

    /// The code for a number, if it is one.
    pub fn from_i32(code: i32) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| *c as i32 == code)
    }
}

/// An error: a stable code and a message naming what was wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong, for a person.
    pub message: String,
}

impl Error {
    /// Creates an error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {}

/// Penguin's result type.
pub type Result<T> = std::result::Result<T, Error>;
