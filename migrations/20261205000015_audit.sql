-- The audit trail: security- and data-relevant events (sign-ins, role
-- changes, tokens, deletions, exports...), each written in the transaction
-- of the change it records, and shown to admins.
--
-- No key to app_user: an event outlives the account it names, and a key
-- with `on delete set null` would have to update rows this table refuses to
-- update. The actor's name and email are kept as text for the same reason.

create table audit_event (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    action text not null,
    actor_id uuid,
    actor text,
    address text,
    target text,
    detail jsonb not null default '{}'
);

create index audit_event_at_idx on audit_event (at desc);
create index audit_event_action_idx on audit_event (action, at desc);
create index audit_event_actor_idx on audit_event (actor_id, at desc);

-- Append-only from the app's side: an event, once written, is never
-- changed, and is deleted only by the retention prune, which says so with
-- `set local debrief.audit_prune = 'on'` in its own transaction. This
-- guards against the app's own mistakes (a stray update, a cascade); it is
-- no defence against someone holding the app's database credentials, who
-- could set the same setting. Making the trail tamper-proof against them
-- takes a separate database role that owns the table.
create function audit_event_append_only() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' and current_setting('debrief.audit_prune', true) = 'on' then
        return old;
    end if;
    raise exception 'audit_event is append-only: % is refused', tg_op
        using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_event_append_only_rows
    before update or delete on audit_event
    for each row execute function audit_event_append_only();

create trigger audit_event_append_only_truncate
    before truncate on audit_event
    for each statement execute function audit_event_append_only();

-- When each API token was first used; `last_used_at` is noted at most once
-- a minute, so the hot path does not write on every request.
alter table api_token add column first_used_at timestamptz;
-- A token used before this column existed is not new: its last use is the
-- earliest we know of, and its next use is no "first use".
update api_token set first_used_at = last_used_at where last_used_at is not null;
