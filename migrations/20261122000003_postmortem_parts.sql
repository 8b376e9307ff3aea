-- The parts of a postmortem: timeline events, causes (with a shared
-- taxonomy of categories), action items, and the revision history that
-- records every saved change.

create table timeline_event (
    id uuid primary key,
    incident_id uuid not null constraint timeline_event_incident_fkey references incident (id) on delete cascade,
    occurred_at timestamptz not null,
    kind text not null,
    body text not null,
    author_id uuid constraint timeline_event_author_fkey references app_user (id) on delete set null,
    hypothesis_status text,
    evidence text not null default '',
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint timeline_event_kind_check check (kind in ('observation', 'alert', 'decision', 'hypothesis',
        'action', 'mitigation', 'communication', 'resolution')),
    constraint timeline_event_hypothesis_check check (
        (kind = 'hypothesis' and hypothesis_status in ('open', 'confirmed', 'refuted'))
        or (kind <> 'hypothesis' and hypothesis_status is null))
);

create index timeline_event_incident_idx on timeline_event (incident_id, occurred_at);

create table cause_category (
    name text primary key,
    created_at timestamptz not null default now(),
    constraint cause_category_name_check check (name = lower(btrim(name)) and length(name) between 1 and 60)
);

insert into cause_category (name) values
    ('goroutine leak'), ('missing timeout'), ('context not propagated'), ('unrecovered panic'),
    ('data race'), ('middleware chain broken'), ('resource exhaustion'), ('config change'),
    ('dependency failure'), ('capacity');

create table cause (
    id uuid primary key,
    incident_id uuid not null constraint cause_incident_fkey references incident (id) on delete cascade,
    kind text not null,
    category text not null constraint cause_category_fkey references cause_category (name) on update cascade,
    description text not null default '',
    whys text[] not null default '{}',
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint cause_kind_check check (kind in ('root', 'trigger', 'contributing'))
);

create index cause_incident_idx on cause (incident_id);
create index cause_category_idx on cause (category);

create table action_item (
    id uuid primary key,
    incident_id uuid not null constraint action_item_incident_fkey references incident (id) on delete cascade,
    title text not null,
    kind text not null,
    owner_id uuid constraint action_item_owner_fkey references app_user (id) on delete set null,
    due_on date,
    priority text not null default 'P2',
    status text not null default 'open',
    tracker_url text,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint action_item_kind_check check (kind in ('prevent', 'detect', 'mitigate', 'process')),
    constraint action_item_priority_check check (priority in ('P1', 'P2', 'P3')),
    constraint action_item_status_check check (status in ('open', 'in_progress', 'done', 'wont_do')),
    constraint action_item_title_check check (length(btrim(title)) between 1 and 200)
);

create index action_item_incident_idx on action_item (incident_id);
create index action_item_open_idx on action_item (due_on) where status in ('open', 'in_progress');

-- One row per saved change: who, when, which fields, their old and new
-- values, and the whole postmortem as Markdown after the change, so any two
-- revisions can be compared.
create table incident_revision (
    id bigint generated always as identity primary key,
    incident_id uuid not null constraint incident_revision_incident_fkey references incident (id) on delete cascade,
    author_id uuid constraint incident_revision_author_fkey references app_user (id) on delete set null,
    summary text not null,
    changes jsonb not null default '[]',
    after_publication boolean not null default false,
    snapshot text not null,
    created_at timestamptz not null default now()
);

create index incident_revision_incident_idx on incident_revision (incident_id, id);

alter table app_user add column time_zone text not null default 'UTC';
