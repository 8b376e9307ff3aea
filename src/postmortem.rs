//! What a postmortem is made of: the parts of the incident page, in
//! reading order. Each feature owns its part; adding one to the postmortem
//! (its evidence, its checklists) is one more entry here.

use std::sync::Arc;

use crate::{
    action_items, causes, evidence,
    incidents::{
        document::Document,
        domain::Section,
        parts::{Head, Written},
    },
    playbooks, timeline,
};

pub fn document() -> Document {
    Document::new(vec![
        Arc::new(Head),
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
}
