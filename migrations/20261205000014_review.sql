-- The review of a postmortem: who is asked, what they said, the comments
-- on its parts, and word of it getting out (in the app and to webhooks).

-- Someone asked to review a postmortem.
create table review_request (
    incident_id uuid not null constraint review_request_incident_fkey references incident (id) on delete cascade,
    reviewer_id uuid not null constraint review_request_reviewer_fkey references app_user (id) on delete cascade,
    requested_by uuid constraint review_request_requested_by_fkey references app_user (id) on delete set null,
    requested_at timestamptz not null default now(),
    constraint review_request_pkey primary key (incident_id, reviewer_id)
);

create index review_request_reviewer_idx on review_request (reviewer_id);

-- A reviewer's verdict; their latest one is the one that counts.
create table review (
    id uuid primary key,
    incident_id uuid not null constraint review_incident_fkey references incident (id) on delete cascade,
    reviewer_id uuid not null constraint review_reviewer_fkey references app_user (id) on delete cascade,
    verdict text not null,
    note text not null default '',
    -- The postmortem's latest revision when the verdict was given: an edit
    -- after it is shown to the reviewer.
    revision_id bigint not null default 0,
    created_at timestamptz not null default now(),
    constraint review_verdict_check check (verdict in ('approve', 'request_changes'))
);

create index review_incident_idx on review (incident_id, reviewer_id, created_at desc);
create index review_reviewer_idx on review (reviewer_id, created_at desc);

-- What publishing a postmortem of each severity needs: the parts that must
-- not be empty (a section's name, `root_cause`, `action_item`) and how many
-- approvals from someone other than its author.
create table review_rule (
    severity text primary key,
    required text[] not null,
    approvals integer not null default 1,
    constraint review_rule_severity_check check (severity in ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
    constraint review_rule_approvals_check check (approvals between 0 and 10)
);

insert into review_rule (severity, required, approvals) values
    ('SEV1', '{summary,impact,trigger,detection,resolution,lessons,root_cause,action_item}', 1),
    ('SEV2', '{summary,impact,trigger,detection,resolution,lessons,root_cause,action_item}', 1),
    ('SEV3', '{summary}', 1),
    ('SEV4', '{summary}', 1);

-- A comment on a part of the postmortem. A thread is a comment without a
-- parent and its replies; resolving the first comment resolves the thread.
create table comment (
    id uuid primary key,
    incident_id uuid not null constraint comment_incident_fkey references incident (id) on delete cascade,
    -- `section` (target_id is the section's name), `timeline_event`,
    -- `cause` or `action_item` (target_id is the record's id).
    target_kind text not null,
    target_id text not null,
    parent_id uuid constraint comment_parent_fkey references comment (id) on delete cascade,
    author_id uuid constraint comment_author_fkey references app_user (id) on delete set null,
    body text not null,
    created_at timestamptz not null default now(),
    edited_at timestamptz,
    resolved_at timestamptz,
    resolved_by uuid constraint comment_resolved_by_fkey references app_user (id) on delete set null,
    constraint comment_target_kind_check check (target_kind in ('section', 'timeline_event', 'cause', 'action_item'))
);

create index comment_incident_idx on comment (incident_id, created_at);
create index comment_parent_idx on comment (parent_id);

-- The review and the comments are shown on the incident page.
do $$
declare
    part text;
begin
    foreach part in array array['review_request', 'review', 'comment'] loop
        execute format('create trigger %1$s_inserted after insert on %1$I referencing new table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
        execute format('create trigger %1$s_updated after update on %1$I referencing new table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
        execute format('create trigger %1$s_deleted after delete on %1$I referencing old table as changed_parts '
            'for each statement execute function incident_parts_changed()', part);
    end loop;
end
$$;

-- Word for one person in the app.
create table notification (
    id uuid primary key,
    user_id uuid not null constraint notification_user_fkey references app_user (id) on delete cascade,
    kind text not null,
    incident_id uuid constraint notification_incident_fkey references incident (id) on delete cascade,
    actor_id uuid constraint notification_actor_fkey references app_user (id) on delete set null,
    text text not null,
    link text not null,
    read_at timestamptz,
    created_at timestamptz not null default now()
);

create index notification_user_idx on notification (user_id, created_at desc);
create index notification_unread_idx on notification (user_id) where read_at is null;

-- An action item already noticed as overdue, so it is noticed once.
create table action_item_overdue_notice (
    action_item_id uuid primary key constraint action_item_overdue_notice_item_fkey references action_item (id) on delete cascade,
    noticed_at timestamptz not null default now()
);

-- An endpoint an admin wants told of events.
create table webhook (
    id uuid primary key,
    url text not null,
    events text[] not null,
    secret text not null,
    -- `json`: our own body; `slack`: `{"text": ...}` for an incoming webhook.
    format text not null default 'json',
    active boolean not null default true,
    created_by uuid constraint webhook_created_by_fkey references app_user (id) on delete set null,
    created_at timestamptz not null default now(),
    constraint webhook_format_check check (format in ('json', 'slack')),
    constraint webhook_url_check check (url ~ '^https?://' and length(url) <= 2000)
);

-- One event for one webhook: the durable queue it is delivered from, and
-- the log of how that went. The body is kept as the exact bytes signed.
create table webhook_delivery (
    id uuid primary key,
    webhook_id uuid not null constraint webhook_delivery_webhook_fkey references webhook (id) on delete cascade,
    event text not null,
    body text not null,
    state text not null default 'pending',
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    locked_until timestamptz,
    last_status integer,
    last_error text,
    created_at timestamptz not null default now(),
    delivered_at timestamptz,
    constraint webhook_delivery_state_check check (state in ('pending', 'delivered', 'failed'))
);

create index webhook_delivery_due_idx on webhook_delivery (next_attempt_at) where state = 'pending';
create index webhook_delivery_webhook_idx on webhook_delivery (webhook_id, created_at desc);

-- Each try of a delivery.
create table webhook_attempt (
    delivery_id uuid not null constraint webhook_attempt_delivery_fkey references webhook_delivery (id) on delete cascade,
    attempt integer not null,
    at timestamptz not null default now(),
    status integer,
    error text,
    duration_ms integer not null,
    constraint webhook_attempt_pkey primary key (delivery_id, attempt)
);
