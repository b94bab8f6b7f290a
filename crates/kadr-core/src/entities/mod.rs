//! sea-orm entities of the tables the services read and write with the ORM. The job queue
//! keeps to plain SQL in `kadr-queue`.

pub mod api_token;
pub mod channel;
pub mod upload;
pub mod user;
pub mod video;

pub use api_token::Entity as ApiToken;
pub use channel::Entity as Channel;
pub use upload::Entity as Upload;
pub use user::Entity as User;
pub use video::Entity as Video;
