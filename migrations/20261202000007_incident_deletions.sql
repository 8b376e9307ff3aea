-- Each incident an admin deleted: what it was, who deleted it and when.
-- No key to incident: the record outlives the row it names. The admin's
-- name is kept too, so the record still says who after their account goes.

create table incident_deletion (
    id bigint generated always as identity primary key,
    incident_id uuid not null,
    incident_number integer not null,
    title text not null,
    deleted_by uuid constraint incident_deletion_deleted_by_fkey references app_user (id) on delete set null,
    deleted_by_name text not null,
    deleted_at timestamptz not null default now()
);

create index incident_deletion_deleted_at_idx on incident_deletion (deleted_at desc);
