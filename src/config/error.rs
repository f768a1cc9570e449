use std::path::PathBuf;

/// A refused experiment file. Every variant names the file; the message names the field and
/// the reason, so a user can fix the file without reading the code.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the experiment file: {source}", file = .file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not valid TOML.
    #[error("{file}: not valid TOML: {message}", file = .file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An unknown key, a missing key or a value of the wrong type.
    #[error("{file}: field `{field}`: {message}", file = .file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// Dotted path of the field.
        field: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Well-formed, but a value is out of range or inconsistent with another.
    #[error("{file}: field `{field}`: {reason}", file = .file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Dotted path of the field.
        field: String,
        /// Why the value is refused.
        reason: String,
    },
    /// A command-line value out of range (refused like a field of the file: exit code 2).
    #[error("option `{flag}`: {reason}")]
    Argument {
        /// The option, e.g. `--level`.
        flag: String,
        /// Why the value is refused.
        reason: String,
    },
}

impl ConfigError {
    /// The offending field's dotted path (empty for I/O and syntax errors).
    pub fn field(&self) -> &str {
        match self {
            ConfigError::Io { .. } | ConfigError::Syntax { .. } => "",
            ConfigError::Argument { flag, .. } => flag,
            ConfigError::Parse { field, .. } | ConfigError::Invalid { field, .. } => field,
        }
    }
}
