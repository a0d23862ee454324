//! Checked u64 arithmetic for exact FLOP, byte and footprint counts: an overflow is `None`,
//! never a silent wrap.
//!
//! `Count(a) * b + c` reads like the formula it checks; `.get()` is `None` when any step
//! overflowed. Counts come from user-chosen shapes (`--shape`, `--batch`), so an absurd shape
//! must be refused, not measured with a count that wrapped to 0.

use std::ops::{Add, Div, Mul, Sub};

/// A u64 count that remembers whether any operation on the way overflowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(Option<u64>);

impl Count {
    pub fn new(v: u64) -> Self {
        Count(Some(v))
    }

    /// The value, or `None` when the arithmetic overflowed.
    pub fn get(self) -> Option<u64> {
        self.0
    }

    /// The value, or `u64::MAX` when the arithmetic overflowed (for callers that compare it
    /// against a limit, where "too large" is the right answer).
    pub fn saturate(self) -> u64 {
        self.0.unwrap_or(u64::MAX)
    }
}

impl From<u64> for Count {
    fn from(v: u64) -> Self {
        Count(Some(v))
    }
}

macro_rules! checked_op {
    ($tr:ident, $f:ident, $checked:ident) => {
        impl<T: Into<Count>> $tr<T> for Count {
            type Output = Count;
            fn $f(self, rhs: T) -> Count {
                let rhs: Count = rhs.into();
                Count(match (self.0, rhs.0) {
                    (Some(a), Some(b)) => a.$checked(b),
                    _ => None,
                })
            }
        }
    };
}

checked_op!(Add, add, checked_add);
checked_op!(Sub, sub, checked_sub);
checked_op!(Mul, mul, checked_mul);
checked_op!(Div, div, checked_div);

/// Shorthand: `c(2) * m * n * k`.
pub fn c(v: u64) -> Count {
    Count::new(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_anywhere_is_none() {
        assert_eq!((c(2) * 3u64 + 4u64).get(), Some(10));
        assert_eq!((c(1 << 31) * (1u64 << 31) * 2u64 * 2u64).get(), None);
        assert_eq!((c(u64::MAX) + 1u64 - 5u64).get(), None);
        assert_eq!((c(3) - 4u64).get(), None);
        assert_eq!((c(u64::MAX) * 2u64).saturate(), u64::MAX);
    }
}
