//! x

pub mod ccmsetup;
