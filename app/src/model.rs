//! Serializable types shared by the browser and the server; they are defined once, in the domain crate.
pub use domain::model::*;
pub use domain::Role;
