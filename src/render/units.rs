//! Units for people: latencies, plain values and byte sizes, each formatted one way.

/// Divide nanoseconds into a readable unit: `(divisor, unit name)` for the largest unit in
/// which `ns` is at least 1 (`ns` itself below a microsecond).
pub fn time_unit(ns: f64) -> (f64, &'static str) {
    if ns >= 1e9 {
        (1e9, "s")
    } else if ns >= 1e6 {
        (1e6, "ms")
    } else if ns >= 1e3 {
        (1e3, "µs")
    } else {
        (1.0, "ns")
    }
}

/// A latency with three significant digits in a readable unit: `1.23 ms`, `457 µs`, `89 ns`;
/// `-` when it is not finite.
pub fn format_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return "-".into();
    }
    let (div, unit) = time_unit(ns);
    let v = ns / div;
    if v >= 100.0 || unit == "ns" {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

/// A value with at least three significant digits and no exponent: `12345`, `123.4`, `1.234`,
/// `0.0123`; `-` when it is not finite.
pub fn format_value(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "-".into()
    } else if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a == 0.0 {
        "0".into()
    } else {
        let digits = (-a.log10().floor()) as usize + 2;
        format!("{v:.digits$}")
    }
}

/// `64.0 GiB`, `512 MiB`.
pub fn format_bytes(b: u64) -> String {
    let gib = b as f64 / (1u64 << 30) as f64;
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.0} MiB", b as f64 / (1u64 << 20) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_three_significant_digits() {
        assert_eq!(format_value(12345.6), "12346");
        assert_eq!(format_value(123.45), "123.5");
        assert_eq!(format_value(1.2345), "1.23");
        assert_eq!(format_value(0.012345), "0.0123");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(f64::NAN), "-");
    }

    #[test]
    fn latencies_pick_a_readable_unit() {
        assert_eq!(format_ns(999.0), "999 ns");
        assert_eq!(format_ns(1500.0), "1.50 µs");
        assert_eq!(format_ns(456_700.0), "457 µs");
        assert_eq!(format_ns(25e6), "25.0 ms");
        assert_eq!(format_ns(3e9), "3.00 s");
        assert_eq!(format_ns(f64::INFINITY), "-");
    }

    #[test]
    fn bytes_in_gib_or_mib() {
        assert_eq!(format_bytes(64 << 30), "64.0 GiB");
        assert_eq!(format_bytes(512 << 20), "512 MiB");
    }
}
