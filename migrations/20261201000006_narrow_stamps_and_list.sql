-- The page stamp moves to a narrow row of its own. Bumping it on the wide
-- incident row rewrote every Markdown section of the incident for each
-- timeline event, cause, action item or revision inserted, leaving three
-- dead copies of every incident behind the bulk generator.
--
-- And the list gets what it needs to stay fast at any size: the total and
-- an ordering version kept by triggers, and an index that covers the order.

create table incident_stamp (
    incident_id uuid primary key constraint incident_stamp_incident_fkey references incident (id) on delete cascade,
    page_version bigint not null default 0
);

insert into incident_stamp (incident_id, page_version) select id, page_version from incident;

drop trigger incident_page_version on incident;
drop function incident_page_version_bump();
alter table incident drop column page_version;

create function incident_stamp_created() returns trigger
language plpgsql as $$
begin
    insert into incident_stamp (incident_id) select id from created_incidents;
    return null;
end
$$;

create trigger incident_stamp_created after insert on incident
    referencing new table as created_incidents for each statement execute function incident_stamp_created();

-- The incident row itself changed.
create function incident_stamp_bump() returns trigger
language plpgsql as $$
begin
    update incident_stamp set page_version = page_version + 1
     where incident_id in (select id from changed_incidents);
    return null;
end
$$;

create trigger incident_stamp_bump after update on incident
    referencing new table as changed_incidents for each statement execute function incident_stamp_bump();

-- A part changed (the triggers of migration 000004 call this): the narrow
-- row moves on, the incident row is left alone.
create or replace function incident_parts_changed() returns trigger
language plpgsql as $$
begin
    update incident_stamp set page_version = page_version + 1
     where incident_id in (select distinct incident_id from changed_parts);
    return null;
end
$$;

-- One row: how many incidents there are, and a version that moves whenever
-- the order of the list may have changed (an incident added or removed, or
-- its start moved). A count(*) on every list request read every row.
create table incident_list (
    singleton boolean primary key default true constraint incident_list_singleton check (singleton),
    total bigint not null,
    order_version bigint not null
);

insert into incident_list (total, order_version) select count(*), 0 from incident;

create function incident_list_added() returns trigger
language plpgsql as $$
begin
    update incident_list set total = total + (select count(*) from added_incidents),
                             order_version = order_version + 1;
    return null;
end
$$;

create function incident_list_removed() returns trigger
language plpgsql as $$
begin
    update incident_list set total = total - (select count(*) from removed_incidents),
                             order_version = order_version + 1;
    return null;
end
$$;

create function incident_list_reordered() returns trigger
language plpgsql as $$
begin
    if exists (select 1 from before_update b join after_update a using (id) where a.started_at <> b.started_at) then
        update incident_list set order_version = order_version + 1;
    end if;
    return null;
end
$$;

create trigger incident_list_added after insert on incident
    referencing new table as added_incidents for each statement execute function incident_list_added();
create trigger incident_list_removed after delete on incident
    referencing old table as removed_incidents for each statement execute function incident_list_removed();
create trigger incident_list_reordered after update on incident
    referencing old table as before_update new table as after_update
    for each statement execute function incident_list_reordered();

-- The list's order, newest first, with ties broken by number: a page is
-- read straight off this index.
drop index incident_started_idx;
create index incident_list_order_idx on incident (started_at desc, number desc);
