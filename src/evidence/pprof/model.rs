//! A profile after validation: every index points somewhere, every sample
//! has one value per sample type. Strings stay in one table and are referred
//! to by index, so a hostile file cannot multiply one long string by
//! referring to it from many samples.

/// An index into [`Profile::strings`].
pub type Str = usize;

/// A validated profile, read from `profile.proto` or a legacy text profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub(super) strings: Vec<String>,
    pub(super) sample_types: Vec<ValueType>,
    /// The sample type the profile asks to be shown first, if it names one.
    pub(super) default_sample_type: Option<usize>,
    pub(super) samples: Vec<Sample>,
    pub(super) locations: Vec<Location>,
    pub(super) functions: Vec<Function>,
    pub(super) mappings: Vec<Mapping>,
    pub(super) period_type: Option<ValueType>,
    pub period: i64,
    pub duration_nanos: i64,
    pub time_nanos: i64,
}

/// A sample type or period type: names in the string table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueType {
    pub(super) kind: Str,
    pub(super) unit: Str,
}

/// One stack, leaf first (indices into [`Profile::locations`]), with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub(super) locations: Vec<usize>,
    pub(super) values: Vec<i64>,
    pub(super) labels: Vec<(Str, Str)>,
    pub(super) num_labels: Vec<(Str, i64)>,
}

/// A program counter: its lines, innermost (inlined) first. A line without
/// a function is `None`; a location without lines was never symbolized.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub(super) lines: Vec<Option<usize>>,
    pub(super) mapping: Option<usize>,
}

/// A function, by name and source file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Function {
    pub(super) name: Str,
    pub(super) filename: Str,
}

/// A mapped binary, by file name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mapping {
    pub(super) file: Str,
}

/// A sample type as shown to a reader: `cpu` in `nanoseconds`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SampleType {
    #[serde(rename = "type")]
    pub name: String,
    pub unit: String,
}

impl Profile {
    pub(super) fn str(&self, index: Str) -> &str {
        self.strings.get(index).map_or("", String::as_str)
    }

    /// The sample types in profile order.
    pub fn sample_types(&self) -> Vec<SampleType> {
        self.sample_types.iter().map(|vt| self.value_type(vt)).collect()
    }

    /// The period type (`cpu nanoseconds`, `space bytes`), when the profile has one.
    pub fn period_type(&self) -> Option<SampleType> {
        self.period_type.as_ref().map(|vt| self.value_type(vt))
    }

    fn value_type(&self, vt: &ValueType) -> SampleType {
        SampleType { name: self.str(vt.kind).to_string(), unit: self.str(vt.unit).to_string() }
    }

    /// The index of the sample type `go tool pprof` shows without
    /// `-sample_index`: the profile's `default_sample_type` when it names
    /// one, else the last.
    pub fn default_sample_index(&self) -> usize {
        self.default_sample_type.unwrap_or(self.sample_types.len().saturating_sub(1))
    }

    /// The index of the sample type called `name`.
    pub fn sample_index(&self, name: &str) -> Option<usize> {
        self.sample_types.iter().position(|vt| self.str(vt.kind) == name)
    }

    /// The unit of one sample type, lower-cased as pprof compares units.
    pub(super) fn unit_of(&self, index: usize) -> String {
        self.sample_types.get(index).map_or(String::new(), |vt| self.str(vt.unit).to_lowercase())
    }

    /// Sum of one value over all samples (absolute values, as pprof totals;
    /// wrapping on overflow as pprof's int64 arithmetic does).
    pub fn total(&self, index: usize) -> i64 {
        self.samples.iter().map(|s| s.values[index].wrapping_abs()).fold(0i64, i64::wrapping_add)
    }

    /// The same profile with every location's symbols forgotten: what
    /// `go tool pprof` sees in a legacy text profile when it has no binary.
    pub fn without_symbols(&self) -> Profile {
        let mut bare = self.clone();
        for location in &mut bare.locations {
            location.lines.clear();
        }
        bare
    }
}
