//! Evidence: the files an on-call engineer attaches to a postmortem (Go
//! profiles, goroutine dumps, execution traces), recognised from their bytes
//! and read by Debrief itself, with no Go toolchain at run time.

pub mod detect;
pub mod goroutines;
pub mod gunzip;
