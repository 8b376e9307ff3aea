//! Cross-cutting HTTP glue shared by every feature: the session and the
//! signed-in user, CSRF protection, flash messages, the context every page
//! needs, form extraction, static assets and the panic guard.

pub mod api_schemas;
pub mod assets;
pub mod audit;
pub mod client_addr;
pub mod clock;
pub mod confirm;
pub mod cpu;
pub mod csrf;
pub mod current_user;
pub mod form;
pub mod json;
pub mod markdown;
pub mod page;
pub mod panic;
pub mod path;
pub mod recent;
pub mod secret;
pub mod session;
pub mod session_cache;
pub mod text_guard;

pub use current_user::{CurrentUser, require_role};
pub use form::{Form, FormErrors};
pub use page::PageCtx;
pub use session::{Flash, FlashKind};
