-- Playbooks: what a team learned, written so the next team does not have
-- to learn it again. Each save is a new version; a version's task-list
-- items are its steps. Applied to an incident, a version's steps become
-- that incident's checklist, which keeps its version whatever comes later.
-- A standing playbook is run without an incident ("before shipping a new
-- Go service"): a checklist of no incident.

create table playbook (
    id uuid primary key,
    slug text not null constraint playbook_slug_key unique,
    -- The current version's title, for lists.
    title text not null,
    owner_id uuid constraint playbook_owner_fkey references app_user (id) on delete set null,
    standing boolean not null default false,
    -- The current version: what an edit must be based on.
    version integer not null,
    reviewed_at timestamptz not null default now(),
    retired_at timestamptz,
    created_by uuid constraint playbook_created_by_fkey references app_user (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint playbook_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 80)
);

create table playbook_version (
    playbook_id uuid not null constraint playbook_version_playbook_fkey references playbook (id) on delete cascade,
    version integer not null,
    title text not null,
    body text not null,
    categories text[] not null default '{}',
    suspect_keys text[] not null default '{}',
    -- The steps read from the body when it was saved: [{"text", "depth"}].
    steps jsonb not null,
    created_by uuid constraint playbook_version_created_by_fkey references app_user (id) on delete set null,
    created_at timestamptz not null default now(),
    constraint playbook_version_pkey primary key (playbook_id, version)
);

create table checklist (
    id uuid primary key,
    -- None: a run of a standing playbook.
    incident_id uuid constraint checklist_incident_fkey references incident (id) on delete cascade,
    playbook_id uuid constraint checklist_playbook_fkey references playbook (id) on delete set null,
    -- The playbook and version it was made from, kept as written even when
    -- that playbook is not in this Debrief (an imported report).
    playbook_slug text not null,
    playbook_version integer not null,
    title text not null,
    created_by uuid constraint checklist_created_by_fkey references app_user (id) on delete set null,
    created_at timestamptz not null default now(),
    constraint checklist_incident_playbook_key unique (incident_id, playbook_slug)
);

create index checklist_playbook_idx on checklist (playbook_id, created_at);

create table checklist_item (
    id uuid primary key,
    checklist_id uuid not null constraint checklist_item_checklist_fkey references checklist (id) on delete cascade,
    -- The checklist's incident, so that the page's triggers see the item.
    incident_id uuid constraint checklist_item_incident_fkey references incident (id) on delete cascade,
    position integer not null,
    depth integer not null default 0,
    text text not null,
    state text not null default 'open',
    note text not null default '',
    changed_by uuid constraint checklist_item_changed_by_fkey references app_user (id) on delete set null,
    changed_at timestamptz,
    action_item_id uuid constraint checklist_item_action_item_fkey references action_item (id) on delete set null,
    version integer not null default 1,
    constraint checklist_item_position_key unique (checklist_id, position),
    constraint checklist_item_state_check check (state in ('open', 'done', 'not_applicable')),
    constraint checklist_item_reason_check check (state <> 'not_applicable' or note <> '')
);

create index checklist_item_incident_idx on checklist_item (incident_id);

-- A checklist and its items are part of the incident page.
do $$
declare
    part text;
begin
    foreach part in array array['checklist', 'checklist_item'] loop
        execute format('create trigger %1$s_inserted after insert on %1$I referencing new table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
        execute format('create trigger %1$s_updated after update on %1$I referencing new table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
        execute format('create trigger %1$s_deleted after delete on %1$I referencing old table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
    end loop;
end
$$;

-- Every incident page may name a playbook (a newer version of an applied
-- one, the suggestions): a change to one is a change of the directory.
create trigger playbook_changed after insert or update or delete on playbook
    for each statement execute function directory_changed();
