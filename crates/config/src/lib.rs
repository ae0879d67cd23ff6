//! streamvault's configuration: defaults < TOML file (`--config`) < `STREAMVAULT_*` environment
//! < command-line flags. [`Settings`] is what the layers deserialize into; [`Config`] is the
//! validated result the rest of the program uses. Every key is documented in the README, "Configuration".

mod error;
mod mask;
pub mod net;
mod roles;
mod settings;

pub use error::ConfigError;
pub use mask::mask_url;
pub use roles::{Role, RoleSet};
pub use settings::{Config, LogFormat, Playback, Settings, load};
