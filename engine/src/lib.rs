//! # cmdeploy-engine — the domain-neutral IaC core
//!
//! This crate knows nothing about Configuration Manager. It turns a directory of TOML manifests into
//! a dependency graph of resources, reads the real state of each resource through pluggable
//! [`provider::Kind`]s, diffs desired against actual, and applies the differences in dependency order
//! while journaling every success to a [`state`] backend.
//!
//! The pipeline, with the types that change at each stage:
//!
//! ```text
//! *.toml ──manifest::load──▶ Project (resources with spans) ──graph──▶ DAG
//!                                                         │
//! state::Backend ──▶ State ───────────┐                    ▼
//! Kind::read (batched per kind and connection) ──▶ refresh ──▶ diff ──▶ Plan ──▶ apply ──▶ State
//! ```
//!
//! Layers point one way: [`diagnostics`], [`address`] and [`spanned`] at the bottom; then
//! [`manifest`], [`graph`], [`state`], [`plan`]; then [`provider`] (the trait providers implement)
//! and [`data`] (data sources, read before the refresh, that resource tables expand over with
//! `for_each`); and [`refresh`], [`apply`], [`drift`] on top.
#![deny(missing_docs)]

pub mod address;
pub mod apply;
mod atomic_file;
pub mod batch;
pub mod data;
mod decode;
pub mod diagnostics;
pub mod diff;
pub mod drift;
pub mod extensions;
pub mod graph;
pub mod import;
pub mod input;
pub mod manifest;
pub mod plan;
pub mod provider;
pub mod reach;
pub mod recap;
pub mod refresh;
pub mod registry;
pub mod resource;
pub mod secret;
pub mod spanned;
pub mod state;

pub use address::Address;
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
