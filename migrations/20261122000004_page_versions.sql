-- Counters that change whenever something shown on an incident page
-- changes, so that a rendered page can be reused until then. They are kept
-- by triggers, so that no write, present or future, can forget them.
--
--   incident.page_version  the incident row itself, its timeline events,
--                          causes, action items and revisions;
--   directory_version      the people and the cause categories, which every
--                          page may name (authors, owners, the pickers).

alter table incident add column page_version bigint not null default 0;

-- Any change to the incident row counts, whoever makes it.
create function incident_page_version_bump() returns trigger
language plpgsql as $$
begin
    if new.page_version = old.page_version then
        new.page_version := old.page_version + 1;
    end if;
    return new;
end
$$;

create trigger incident_page_version
    before update on incident
    for each row execute function incident_page_version_bump();

-- A part changed: bump each incident it belongs to, once per statement, so
-- that a bulk insert costs one update per incident rather than per row.
create function incident_parts_changed() returns trigger
language plpgsql as $$
begin
    update incident set page_version = page_version + 1
     where id in (select distinct incident_id from changed_parts);
    return null;
end
$$;

-- The same three triggers on each part of a postmortem; revisions are only
-- ever inserted.
do $$
declare
    part text;
begin
    foreach part in array array['timeline_event', 'cause', 'action_item'] loop
        execute format('create trigger %1$s_inserted after insert on %1$I referencing new table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
        execute format('create trigger %1$s_updated after update on %1$I referencing new table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
        execute format('create trigger %1$s_deleted after delete on %1$I referencing old table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
    end loop;
end
$$;

create trigger incident_revision_inserted after insert on incident_revision
    referencing new table as changed_parts for each statement execute function incident_parts_changed();

-- One row: the version of the people and the categories.
create table directory_version (
    singleton boolean primary key default true constraint directory_version_singleton check (singleton),
    version bigint not null
);
insert into directory_version (version) values (0);

create function directory_changed() returns trigger
language plpgsql as $$
begin
    update directory_version set version = version + 1;
    return null;
end
$$;

create trigger app_user_changed after insert or update or delete on app_user
    for each statement execute function directory_changed();
create trigger cause_category_changed after insert or update or delete on cause_category
    for each statement execute function directory_changed();
