//! Reading a profile from its bytes: gzipped or plain `profile.proto`, or
//! one of Go's legacy text profiles, checked so that nothing later can index
//! out of bounds or panic on a hostile file.

use std::borrow::Cow;
use std::collections::HashMap;

use prost::Message;

use super::model::{Function, Location, Mapping, Profile, Sample, Str, ValueType};
use super::{proto, text};
use crate::evidence::detect::{self, Format};
use crate::evidence::gunzip::{self, GunzipError};

/// Why a profile could not be read, in words for the person who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("the file is empty")]
    Empty,
    /// The file (or what it decompresses to) is larger than Debrief reads:
    /// the upload answers 413 for this one.
    #[error("the profile is larger than {limit} bytes once decompressed, the most Debrief reads")]
    TooLarge { limit: u64 },
    #[error("the gzip data is damaged or cut short: {0}")]
    Corrupt(String),
    #[error("the file is not a pprof profile: {0}")]
    NotAProfile(String),
    #[error("the profile has no sample types")]
    NoSampleTypes,
    #[error("the profile's string table must start with the empty string")]
    FirstStringNotEmpty,
    #[error("{what} refers to string {index}, but the string table has {len} strings")]
    StringOutOfRange { what: String, index: i64, len: usize },
    #[error("sample {sample} has {values} values but the profile has {types} sample types")]
    WrongValueCount { sample: usize, values: usize, types: usize },
    #[error("sample {sample} refers to location {id}, which the profile does not define")]
    UnknownLocation { sample: usize, id: u64 },
    #[error("location {location} refers to function {id}, which the profile does not define")]
    UnknownFunction { location: u64, id: u64 },
    #[error("location {location} refers to mapping {id}, which the profile does not define")]
    UnknownMapping { location: u64, id: u64 },
    #[error("{what} id {id} is defined more than once")]
    DuplicateId { what: &'static str, id: u64 },
    #[error("line {line} of the text profile: {message}")]
    Text { line: usize, message: String },
    #[error("the profile has no sample type {name:?}; it has {available}")]
    UnknownSampleType { name: String, available: String },
    #[error("the two profiles measure {sample_type} in different units ({base} and {target})")]
    UnitMismatch { sample_type: String, base: String, target: String },
}

impl From<GunzipError> for ProfileError {
    fn from(err: GunzipError) -> Self {
        match err {
            GunzipError::TooLarge { limit } => ProfileError::TooLarge { limit },
            GunzipError::Corrupt(reason) => ProfileError::Corrupt(reason),
        }
    }
}

/// A profile from its bytes, gzipped or not, in `profile.proto` or a legacy
/// text form; nothing past `max_decompressed` bytes is ever inflated.
pub fn read_profile(bytes: &[u8], max_decompressed: u64) -> Result<Profile, ProfileError> {
    if bytes.is_empty() {
        return Err(ProfileError::Empty);
    }
    let plain: Cow<[u8]> = if gunzip::is_gzip(bytes) {
        Cow::Owned(gunzip::gunzip(bytes, max_decompressed)?)
    } else if bytes.len() as u64 > max_decompressed {
        return Err(ProfileError::TooLarge { limit: max_decompressed });
    } else {
        Cow::Borrowed(bytes)
    };
    if plain.is_empty() {
        return Err(ProfileError::Empty);
    }
    match detect::detect(&plain[..plain.len().min(4096)]) {
        Format::PprofText { kind, .. } => text::read_text(&plain, kind),
        Format::GoroutineDump { .. } | Format::GoTrace { .. } => {
            Err(ProfileError::NotAProfile("it is a goroutine dump or an execution trace".to_string()))
        }
        Format::Pprof { .. } | Format::Other => read_proto(&plain),
    }
}

/// A `profile.proto` message, decoded and validated.
pub fn read_proto(bytes: &[u8]) -> Result<Profile, ProfileError> {
    let raw = proto::Profile::decode(bytes)
        .map_err(|err| ProfileError::NotAProfile(format!("it is not valid profile.proto ({err})")))?;
    from_proto(raw)
}

fn from_proto(mut raw: proto::Profile) -> Result<Profile, ProfileError> {
    let string_table = std::mem::take(&mut raw.string_table);
    let strings = Strings(&string_table);
    if string_table.first().is_some_and(|first| !first.is_empty()) {
        return Err(ProfileError::FirstStringNotEmpty);
    }
    if raw.sample_type.is_empty() {
        return Err(ProfileError::NoSampleTypes);
    }
    let sample_types = raw
        .sample_type
        .iter()
        .enumerate()
        .map(|(i, vt)| strings.value_type(vt, &format!("sample type {i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let period_type =
        raw.period_type.as_ref().map(|vt| strings.value_type(vt, "the period type")).transpose()?;
    let default_name = strings.get(raw.default_sample_type, "the default sample type")?;
    let name_of = |index: Str| string_table.get(index).map_or("", String::as_str);
    // pprof falls back to the last sample type when the default names none of them.
    let default_sample_type = (default_name != 0)
        .then(|| sample_types.iter().position(|vt| name_of(vt.kind) == name_of(default_name)))
        .flatten();
    let (functions, function_ids) = read_functions(&raw.function, &strings)?;
    let (mappings, mapping_ids) = read_mappings(&raw.mapping, &strings)?;
    let (locations, location_ids) = read_locations(&raw.location, &function_ids, &mapping_ids)?;
    // The wire samples are taken one by one, so that a large profile's
    // samples are never held twice.
    let samples = std::mem::take(&mut raw.sample)
        .into_iter()
        .enumerate()
        .map(|(i, sample)| read_sample(i, sample, sample_types.len(), &location_ids, &strings))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Profile {
        strings: string_table,
        sample_types,
        default_sample_type,
        samples,
        locations,
        functions,
        mappings,
        period_type,
        period: raw.period,
        duration_nanos: raw.duration_nanos,
        time_nanos: raw.time_nanos,
    })
}

/// The string table, for checking indices.
struct Strings<'a>(&'a [String]);

impl Strings<'_> {
    fn get(&self, index: i64, what: &str) -> Result<Str, ProfileError> {
        match usize::try_from(index) {
            Ok(i) if i < self.0.len() || i == 0 => Ok(i),
            _ => Err(ProfileError::StringOutOfRange { what: what.to_string(), index, len: self.0.len() }),
        }
    }

    fn value_type(&self, vt: &proto::ValueType, what: &str) -> Result<ValueType, ProfileError> {
        Ok(ValueType { kind: self.get(vt.r#type, what)?, unit: self.get(vt.unit, what)? })
    }
}

type Ids = HashMap<u64, usize>;

/// Registers `id` as the `index`th entry, refusing an id seen before.
fn register(ids: &mut Ids, what: &'static str, id: u64, index: usize) -> Result<(), ProfileError> {
    match ids.insert(id, index) {
        Some(_) => Err(ProfileError::DuplicateId { what, id }),
        None => Ok(()),
    }
}

fn read_functions(raw: &[proto::Function], strings: &Strings) -> Result<(Vec<Function>, Ids), ProfileError> {
    let mut ids = Ids::with_capacity(raw.len());
    let mut functions = Vec::with_capacity(raw.len());
    for (index, f) in raw.iter().enumerate() {
        let what = format!("function {}", f.id);
        functions
            .push(Function { name: strings.get(f.name, &what)?, filename: strings.get(f.filename, &what)? });
        strings.get(f.system_name, &what)?;
        register(&mut ids, "function", f.id, index)?;
    }
    Ok((functions, ids))
}

fn read_mappings(raw: &[proto::Mapping], strings: &Strings) -> Result<(Vec<Mapping>, Ids), ProfileError> {
    let mut ids = Ids::with_capacity(raw.len());
    let mut mappings = Vec::with_capacity(raw.len());
    for (index, m) in raw.iter().enumerate() {
        let what = format!("mapping {}", m.id);
        mappings.push(Mapping { file: strings.get(m.filename, &what)? });
        strings.get(m.build_id, &what)?;
        register(&mut ids, "mapping", m.id, index)?;
    }
    Ok((mappings, ids))
}

fn read_locations(
    raw: &[proto::Location],
    function_ids: &Ids,
    mapping_ids: &Ids,
) -> Result<(Vec<Location>, Ids), ProfileError> {
    let mut ids = Ids::with_capacity(raw.len());
    let mut locations = Vec::with_capacity(raw.len());
    for (index, l) in raw.iter().enumerate() {
        let mapping = match l.mapping_id {
            0 => None,
            id => Some(*mapping_ids.get(&id).ok_or(ProfileError::UnknownMapping { location: l.id, id })?),
        };
        let lines = l
            .line
            .iter()
            .map(|line| match line.function_id {
                0 => Ok(None),
                id => function_ids
                    .get(&id)
                    .map(|f| Some(*f))
                    .ok_or(ProfileError::UnknownFunction { location: l.id, id }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        locations.push(Location { lines, mapping });
        register(&mut ids, "location", l.id, index)?;
    }
    Ok((locations, ids))
}

fn read_sample(
    index: usize,
    raw: proto::Sample,
    types: usize,
    location_ids: &Ids,
    strings: &Strings,
) -> Result<Sample, ProfileError> {
    if raw.value.len() != types {
        return Err(ProfileError::WrongValueCount { sample: index, values: raw.value.len(), types });
    }
    let locations = raw
        .location_id
        .iter()
        .map(|id| {
            location_ids.get(id).copied().ok_or(ProfileError::UnknownLocation { sample: index, id: *id })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut labels = Vec::new();
    let mut num_labels = Vec::new();
    for label in &raw.label {
        let what = format!("a label of sample {index}");
        let key = strings.get(label.key, &what)?;
        let value = strings.get(label.str, &what)?;
        strings.get(label.num_unit, &what)?;
        // As pprof reads labels: a string value makes a string label, else a number.
        if value != 0 {
            labels.push((key, value));
        } else {
            num_labels.push((key, label.num));
        }
    }
    Ok(Sample { locations, values: raw.value, labels, num_labels })
}
