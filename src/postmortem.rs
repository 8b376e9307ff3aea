//! What a postmortem is made of: the parts of the incident page, in
//! reading order. Each feature owns its part; adding one to the postmortem
//! (its evidence, its checklists) is one more entry here.

use std::sync::Arc;

use crate::{
    action_items, causes, comments, evidence,
    incidents::{
        document::Document,
        domain::Section,
        parts::{Head, Written},
    },
    playbooks, review, timeline,
};

/// The postmortem's parts, and the review's say in its status moves, whose
/// links start with `origin`.
pub fn document(origin: &str) -> Document {
    Document::new(vec![
        Arc::new(Head),
        Arc::new(review::part::Review),
        Arc::new(Written(Section::Milestones)),
        Arc::new(Written(Section::Summary)),
        Arc::new(Written(Section::Impact)),
        Arc::new(timeline::part::Timeline),
        Arc::new(evidence::part::Evidence),
        Arc::new(Written(Section::Trigger)),
        Arc::new(Written(Section::Detection)),
        Arc::new(Written(Section::Resolution)),
        Arc::new(causes::part::Causes),
        Arc::new(action_items::part::ActionItems),
        Arc::new(playbooks::part::Checklists),
        Arc::new(Written(Section::Lessons)),
    ])
    .with_workflow(review::ReviewWorkflow::new(), origin)
    .with_margin(Arc::new(comments::margin::Comments))
}
