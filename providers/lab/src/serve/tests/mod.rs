//! Unit tests of the WS-Management endpoint, without a network.

mod behaviour;
pub(crate) mod kerberos;
mod wire;
