//! Values and percentages printed the way `go tool pprof` prints them
//! (`1.37s`, `512.02kB`, `8.3e-07%`), so rows can be compared with its
//! output character for character and pages show what engineers know.

/// A unit pprof knows: the name it prints, the names it reads, and its
/// size in the base unit of its kind (bytes, nanoseconds, GCU).
struct Unit {
    label: &'static str,
    aliases: &'static [&'static str],
    factor: f64,
}

/// The units of one kind, smallest first, and the one used when the target
/// unit is not of this kind.
struct UnitKind {
    units: &'static [Unit],
    default: usize,
}

const MEMORY: UnitKind = UnitKind {
    units: &[
        Unit { label: "B", aliases: &["b", "byte"], factor: 1.0 },
        Unit { label: "kB", aliases: &["kb", "kbyte", "kilobyte"], factor: (1u64 << 10) as f64 },
        Unit { label: "MB", aliases: &["mb", "mbyte", "megabyte"], factor: (1u64 << 20) as f64 },
        Unit { label: "GB", aliases: &["gb", "gbyte", "gigabyte"], factor: (1u64 << 30) as f64 },
        Unit { label: "TB", aliases: &["tb", "tbyte", "terabyte"], factor: (1u64 << 40) as f64 },
        Unit { label: "PB", aliases: &["pb", "pbyte", "petabyte"], factor: (1u64 << 50) as f64 },
    ],
    default: 0,
};

const TIME: UnitKind = UnitKind {
    units: &[
        Unit { label: "ns", aliases: &["ns", "nanosecond"], factor: 1.0 },
        Unit { label: "us", aliases: &["\u{3bc}s", "us", "microsecond"], factor: 1e3 },
        Unit { label: "ms", aliases: &["ms", "millisecond"], factor: 1e6 },
        Unit { label: "s", aliases: &["s", "sec", "second"], factor: 1e9 },
        Unit { label: "hrs", aliases: &["hour", "hr"], factor: 3600e9 },
    ],
    default: 3,
};

const GCU: UnitKind = UnitKind {
    units: &[
        Unit { label: "n*GCU", aliases: &["nanogcu"], factor: 1e-9 },
        Unit { label: "u*GCU", aliases: &["microgcu"], factor: 1e-6 },
        Unit { label: "m*GCU", aliases: &["milligcu"], factor: 1e-3 },
        Unit { label: "GCU", aliases: &["gcu"], factor: 1.0 },
        Unit { label: "k*GCU", aliases: &["kilogcu"], factor: 1e3 },
        Unit { label: "M*GCU", aliases: &["megagcu"], factor: 1e6 },
        Unit { label: "G*GCU", aliases: &["gigagcu"], factor: 1e9 },
        Unit { label: "T*GCU", aliases: &["teragcu"], factor: 1e12 },
        Unit { label: "P*GCU", aliases: &["petagcu"], factor: 1e15 },
    ],
    default: 3,
};

impl UnitKind {
    /// The unit a name stands for: case ignored, a plural `s` dropped from
    /// names longer than two bytes (`bytes`, `hrs`, but `ms`).
    fn find(&self, name: &str) -> Option<&Unit> {
        let lower = name.to_lowercase();
        let name = if lower.len() > 2 { lower.strip_suffix('s').unwrap_or(&lower) } else { &lower };
        self.units.iter().find(|unit| unit.aliases.contains(&name))
    }

    fn convert(&self, value: i64, from: &str, to: &str) -> Option<(f64, String)> {
        let base = value as f64 * self.find(from)?.factor;
        let fallback = &self.units[self.default];
        let unit = if to == "minimum" || to == "auto" {
            // The largest unit in which the value is at least 1.
            self.units.iter().rev().find(|unit| base / unit.factor >= 1.0).unwrap_or(fallback)
        } else {
            self.find(to).unwrap_or(fallback)
        };
        Some((base / unit.factor, unit.label.to_string()))
    }
}

/// `value` (in `from_unit`) scaled to `to_unit`, with the unit's label, as
/// pprof's `measurement.Scale`. `to_unit` may be `minimum`/`auto` (the
/// largest unit in which the value is at least 1) or a unit such as `ms`.
pub fn scale(value: i64, from_unit: &str, to_unit: &str) -> (f64, String) {
    if value < 0 && value != i64::MIN {
        let (scaled, unit) = scale(-value, from_unit, to_unit);
        return (-scaled, unit);
    }
    for kind in [&MEMORY, &TIME, &GCU] {
        if let Some(scaled) = kind.convert(value, from_unit, to_unit) {
            return scaled;
        }
    }
    match to_unit {
        "count" | "sample" | "unit" | "minimum" | "auto" => (value as f64, String::new()),
        other => (value as f64, other.to_string()),
    }
}

/// A value as pprof labels it: two decimals, `.00` dropped, `0` for zero.
pub fn scaled_label(value: i64, from_unit: &str, to_unit: &str) -> String {
    let (scaled, unit) = scale(value, from_unit, to_unit);
    let text = format!("{scaled:.2}");
    let text = text.strip_suffix(".00").unwrap_or(&text);
    if text == "0" || text == "-0" {
        return "0".to_string();
    }
    format!("{text}{unit}")
}

/// A value in the largest unit that keeps it at least 1 (`1.50MB`).
pub fn label(value: i64, unit: &str) -> String {
    scaled_label(value, unit, "auto")
}

/// `value` as a percentage of `total`, six characters wide as in pprof's
/// tables: `  100%`, `31.89%`, ` 0.72%`... below 1%, two significant
/// digits (`0.009%`, `8.3e-07%`).
pub fn percentage(value: i64, total: i64) -> String {
    let ratio = if total != 0 { (value as f64 / total as f64).abs() * 100.0 } else { 0.0 };
    if (99.95..=100.05).contains(&ratio) {
        "  100%".to_string()
    } else if ratio >= 1.0 {
        format!("{ratio:5.2}%")
    } else {
        format!("{:>5}%", go_g2(ratio))
    }
}

/// Go's `%.2g`: two significant digits, exponent form below 1e-4, trailing
/// zeros dropped.
fn go_g2(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    // Rounding to two digits first tells the exponent after rounding.
    let exp_form = format!("{x:.1e}");
    let (mantissa, exponent) = exp_form.split_once('e').unwrap_or((&exp_form, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..2).contains(&exponent) {
        let mantissa = trim_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let decimals = (1 - exponent).max(0) as usize;
    trim_zeros(&format!("{x:.decimals$}")).to_string()
}

fn trim_zeros(number: &str) -> &str {
    if number.contains('.') { number.trim_end_matches('0').trim_end_matches('.') } else { number }
}

/// The unit pprof picks for a whole table (`selectOutputUnit`): the unit of
/// the smallest non-zero row, or a larger one when that row is under 1% of
/// the total, so small rows read `0.04ms` rather than everything in `us`.
pub fn table_unit(min_value: i64, total: i64, sample_unit: &str) -> String {
    let max_value = total;
    let min_value = if min_value == 0 { max_value } else { min_value };
    let (_, min_unit) = scale(min_value, sample_unit, "minimum");
    let (_, max_unit) = scale(max_value, sample_unit, "minimum");
    let mut unit = min_unit.clone();
    if min_unit != max_unit && min_value.saturating_mul(100) < max_value {
        unit = scale(min_value.wrapping_mul(100), sample_unit, "minimum").1;
    }
    if unit.is_empty() { sample_unit.to_string() } else { unit }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_labelled_as_pprof_labels_them() {
        assert_eq!(scaled_label(1_370_000_000, "nanoseconds", "s"), "1.37s");
        assert_eq!(scaled_label(10_000_000, "nanoseconds", "minimum"), "10ms");
        assert_eq!(scaled_label(524_308, "bytes", "kB"), "512.02kB");
        assert_eq!(scaled_label(1_572_864, "bytes", "auto"), "1.50MB");
        assert_eq!(scaled_label(1_818_624, "bytes", "kB"), "1776kB");
        assert_eq!(scaled_label(638_305, "count", "count"), "638305");
        assert_eq!(scaled_label(0, "bytes", "kB"), "0");
        assert_eq!(scaled_label(-90_000_000, "nanoseconds", "s"), "-0.09s");
        assert_eq!(scaled_label(5_046_433_500_000, "nanoseconds", "minimum"), "1.40hrs");
        assert_eq!(scaled_label(71_080_000_000, "nanoseconds", "minimum"), "71.08s");
        assert_eq!(scaled_label(1_500, "bytes", "MB"), "0");
    }

    #[test]
    fn percentages_keep_pprof_widths_and_digits() {
        assert_eq!(percentage(1, 1), "  100%");
        assert_eq!(percentage(3189, 10_000), "31.89%");
        assert_eq!(percentage(9, 1000), "  0.9%");
        assert_eq!(percentage(9, 100_000), "0.009%");
        assert_eq!(percentage(0, 10), "    0%");
        assert_eq!(percentage(40_000, 5_046_433_500_000), "7.9e-07%");
        assert_eq!(percentage(1, 0), "    0%");
    }

    #[test]
    fn a_table_takes_the_unit_of_its_smallest_row_unless_that_row_is_tiny() {
        assert_eq!(table_unit(4_147, 47_838_771, "bytes"), "kB");
        assert_eq!(table_unit(40_000, 5_046_433_500_000, "nanoseconds"), "ms");
        assert_eq!(table_unit(10_000_000, 5_550_000_000, "nanoseconds"), "s");
        assert_eq!(table_unit(5, 50, "count"), "count");
    }
}
