//! Unit tests of the WS-Management endpoint, without a network.

mod behaviour;
mod wire;
