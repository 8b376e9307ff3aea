-- Insights: what its figures need that the schema did not keep.
--
-- * When an action item was done (`done_at`), for "done per month" and "time
--   to close". A trigger sets it whenever the status becomes `done` and
--   clears it when the status leaves `done`, so that every writer, present or
--   future, keeps it. An explicit value is kept (an import, a backfill).
--   Items done before this migration take their last change (`updated_at`):
--   the nearest moment on record.
-- * A counter that moves on every change to what the insights read, so the
--   app can reuse figures it computed until it moves (see the app's
--   `insights::cache`). A sequence rather than a row: `nextval` takes no
--   lock, so writers never queue behind each other for it and cannot
--   deadlock on it with the per-incident stamps.

alter table action_item add column done_at timestamptz;

-- A backfill of a new column is no change of any postmortem: the triggers
-- that refresh search rows and page stamps would only rewrite every
-- incident's search row for nothing.
alter table action_item disable trigger user;
update action_item set done_at = updated_at where status = 'done';
alter table action_item enable trigger user;

alter table action_item add constraint action_item_done_at_check check ((status = 'done') = (done_at is not null));

create function action_item_done_at() returns trigger
language plpgsql as $$
begin
    if new.status <> 'done' then
        new.done_at := null;
    elsif tg_op = 'INSERT' then
        new.done_at := coalesce(new.done_at, now());
    elsif old.status <> 'done' and new.done_at is not distinct from old.done_at then
        new.done_at := now();
    elsif new.done_at is null then
        new.done_at := coalesce(old.done_at, now());
    end if;
    return new;
end
$$;

create trigger action_item_done_at before insert or update on action_item
    for each row execute function action_item_done_at();

-- Items done, by when: "done per month" reads a range of them.
create index action_item_done_idx on action_item (done_at) where done_at is not null;

create sequence insights_change;

create function insights_changed() returns trigger
language plpgsql as $$
begin
    perform nextval('insights_change');
    return null;
end
$$;

-- What the figures read: incidents, their causes, action items, artifacts
-- (suspects) and checklists, and the names of owners and playbooks.
do $$
declare
    watched text;
begin
    foreach watched in array array['incident', 'cause', 'action_item', 'artifact', 'checklist', 'app_user',
                                   'playbook'] loop
        execute format('create trigger %1$s_insights after insert or update or delete or truncate on %1$I '
            'for each statement execute function insights_changed()', watched);
    end loop;
end
$$;
