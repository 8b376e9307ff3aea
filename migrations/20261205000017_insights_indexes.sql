-- What the action item figures of the insights read, off narrow indexes
-- rather than the wide rows: the items done in a range (per month, time to
-- close, by owner), the open ones by owner, and the preventive ones done,
-- first done first, where "recurring after prevention" looks for the first
-- of each category.
drop index action_item_done_idx;
create index action_item_done_idx on action_item (done_at) include (created_at, owner_id, incident_id)
    where done_at is not null;
create index action_item_open_owner_idx on action_item (owner_id, due_on) include (incident_id)
    where status in ('open', 'in_progress');
create index action_item_prevented_idx on action_item (done_at, id) where kind = 'prevent' and status = 'done';
