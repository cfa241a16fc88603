//! Shared by several benchmarks, each of which uses only part of it.
#![allow(dead_code)]

pub mod served;
