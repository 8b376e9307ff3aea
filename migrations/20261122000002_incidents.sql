-- Incidents: the postmortem documents themselves. `number` is the human
-- reference (INC-42); `version` guards every write against lost updates.

create table incident (
    id uuid primary key,
    number integer generated always as identity,
    title text not null,
    severity text not null,
    status text not null default 'draft',
    services text[] not null default '{}',
    tags text[] not null default '{}',
    started_at timestamptz not null,
    detected_at timestamptz,
    mitigated_at timestamptz,
    resolved_at timestamptz,
    summary text not null default '',
    impact text not null default '',
    trigger text not null default '',
    detection text not null default '',
    resolution text not null default '',
    went_well text not null default '',
    went_badly text not null default '',
    got_lucky text not null default '',
    version integer not null default 1,
    created_by uuid constraint incident_created_by_fkey references app_user (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint incident_number_key unique (number),
    constraint incident_severity_check check (severity in ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
    constraint incident_status_check check (status in ('draft', 'in_review', 'published')),
    constraint incident_title_check check (length(btrim(title)) between 1 and 200)
);

create index incident_started_idx on incident (started_at desc);
