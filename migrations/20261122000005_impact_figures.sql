-- Impact figures, such as QPS 12,800 -> 3,000 for 47 min: a JSON array of
-- {"metric", "before", "after", "for"} objects, beside the impact text.
alter table incident add column impact_figures jsonb not null default '[]'
    constraint incident_impact_figures_array check (jsonb_typeof(impact_figures) = 'array');
