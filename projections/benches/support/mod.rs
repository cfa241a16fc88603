//! What the in-process benches share.

#![allow(dead_code)]

pub mod seeded;
