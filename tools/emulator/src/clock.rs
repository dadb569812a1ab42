//! The virtual clock: starts at real "now" and ticks with real time, but admin calls can move it
//! (advance/set) so token, key and subscription lifetimes can be tested in milliseconds.

use crate::time::Timestamp;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Clock {
    anchor_virtual: Timestamp,
    anchor_real: Instant,
}

impl Clock {
    pub fn new(start: Option<Timestamp>) -> Clock {
        Clock {
            anchor_virtual: start.unwrap_or_else(Timestamp::now),
            anchor_real: Instant::now(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.anchor_virtual.add(self.anchor_real.elapsed())
    }

    pub fn advance(&mut self, d: Duration) {
        self.anchor_virtual = self.now().add(d);
        self.anchor_real = Instant::now();
    }

    pub fn set(&mut self, t: Timestamp) {
        self.anchor_virtual = t;
        self.anchor_real = Instant::now();
    }
}
