pub mod domain;
pub mod paste;
