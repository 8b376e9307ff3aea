-- Artifacts: the evidence files attached to an incident, and the durable
-- queue of their analyses.
--
-- The bytes live in the artifact store under their sha256, once however
-- many artifacts share them; a row here is one attachment of them.

-- Each content kept in the store. An upload touches its row before it puts
-- the content, and the sweep removes only content no artifact has held for
-- an hour, so an upload in flight never loses its content to the sweep.
create table artifact_blob (
    sha256 text primary key,
    size bigint not null,
    last_attached timestamptz not null default now(),
    constraint artifact_blob_sha256_check check (sha256 ~ '^[0-9a-f]{64}$')
);

create table artifact (
    id uuid primary key,
    incident_id uuid not null constraint artifact_incident_fkey references incident (id) on delete cascade,
    sha256 text not null constraint artifact_blob_fkey references artifact_blob (sha256),
    size bigint not null,
    -- The name the uploader's file had, for the download's name only.
    file_name text not null,
    format text not null,
    -- What detection read of the format: the Go version of a trace, the kind of a dump.
    format_detail text not null default '',
    note text not null default '',
    timeline_event_id uuid constraint artifact_timeline_event_fkey references timeline_event (id) on delete set null,
    uploaded_by uuid constraint artifact_uploaded_by_fkey references app_user (id) on delete set null,
    analysis_status text not null,
    analysis jsonb,
    analysis_error text,
    -- One line of what the analysis found, for the lists and the timeline.
    summary text not null default '',
    analysed_at timestamptz,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    constraint artifact_sha256_check check (sha256 ~ '^[0-9a-f]{64}$'),
    constraint artifact_size_check check (size >= 0),
    constraint artifact_file_name_check check (length(file_name) between 1 and 255),
    constraint artifact_format_check check (format in ('pprof', 'goroutine_dump', 'go_trace', 'other')),
    constraint artifact_note_check check (length(note) <= 2000),
    constraint artifact_analysis_status_check check (analysis_status in ('none', 'pending', 'done', 'failed')),
    constraint artifact_analysis_done_check check ((analysis_status = 'done') = (analysis is not null))
);

create index artifact_incident_idx on artifact (incident_id, created_at);
create index artifact_sha256_idx on artifact (sha256);
create index artifact_timeline_event_idx on artifact (timeline_event_id) where timeline_event_id is not null;

-- The incident page shows its artifacts: a change to one moves the page's stamp.
create trigger artifact_inserted after insert on artifact referencing new table as changed_parts
    for each statement execute function incident_parts_changed();
create trigger artifact_updated after update on artifact referencing new table as changed_parts
    for each statement execute function incident_parts_changed();
create trigger artifact_deleted after delete on artifact referencing old table as changed_parts
    for each statement execute function incident_parts_changed();

-- Analyses waiting or running. A worker leases a job (locked_until) and
-- deletes it in the transaction that stores the result; a job whose lease
-- ran out (its process died) is taken again by any worker.
create table analysis_job (
    id bigint generated always as identity primary key,
    artifact_id uuid not null constraint analysis_job_artifact_fkey references artifact (id) on delete cascade,
    attempts integer not null default 0,
    run_after timestamptz not null default now(),
    locked_until timestamptz,
    locked_by text,
    last_error text,
    created_at timestamptz not null default now(),
    constraint analysis_job_artifact_key unique (artifact_id)
);

create index analysis_job_ready_idx on analysis_job (run_after, id);
