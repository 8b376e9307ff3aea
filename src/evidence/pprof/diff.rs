//! The difference of two profiles, target minus base, as `go tool pprof
//! -top -diff_base base target` computes it: the base's samples count
//! negatively, and percentages are of the base's total.

use super::graph::Graph;
use super::model::Profile;
use super::read::ProfileError;
use super::sample_index_for;
use super::top::{TopTable, table_of};

/// The sample type compared and the per-function deltas.
pub fn diff_table(
    base: &Profile,
    target: &Profile,
    sample_type: Option<&str>,
) -> Result<(String, TopTable), ProfileError> {
    let target_index = sample_index_for(target, sample_type)?;
    let name = target.sample_types()[target_index].name.clone();
    let base_index = sample_index_for(base, Some(&name))?;
    let (base_unit, target_unit) = (base.unit_of(base_index), target.unit_of(target_index));
    if base_unit != target_unit {
        return Err(ProfileError::UnitMismatch { sample_type: name, base: base_unit, target: target_unit });
    }
    let mut graph = Graph::default();
    graph.add_profile(target, |values| values[target_index], |_| true);
    graph.add_profile(base, |values| values[base_index].wrapping_neg(), |_| true);
    // pprof takes the base's total, or everything when the base is empty.
    let total = match base.total(base_index) {
        0 => target.total(target_index),
        total => total,
    };
    Ok((name, table_of(&graph, total, target_unit)))
}
