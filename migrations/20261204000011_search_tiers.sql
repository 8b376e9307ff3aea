-- Search that stays fast at 100,000 incidents.
--
-- The first search ranked every match by ts_rank over the whole document
-- and counted them all: a common word ("deploy" is in four incidents of
-- five) read and ranked 80,000 wide rows for one page of twenty. Now:
--
-- * Relevance is a tier: where the whole query holds. In the core (the
--   title and the root causes) ranks first, in the lead (the core with the
--   summary, the trigger, services, tags, cause categories and suspect
--   signatures) second, anywhere else last; within a tier, newest first.
--   Each tier is its own tsvector with its own index, so a page is read
--   tier by tier, newest first, and stops when it is full (the app's
--   search::db says how it finds the newest hits of a tier cheaply).
-- * The row carries every column a search filters or sorts on, so a
--   search reads one table and joins the incident only for its page.
-- * The text snippets are cut from lives in its own table, read for the
--   page's hits alone.
-- * Hits are not counted past the page.

drop table incident_search;

create table incident_search (
    incident_id uuid primary key constraint incident_search_incident_fkey references incident (id) on delete cascade,
    -- The title and the root causes.
    core tsvector not null,
    -- The core, the summary, the trigger, services, tags, cause categories
    -- and suspect signatures.
    lead tsvector not null,
    -- All of it, weighted as the lead's parts are (A the core, B the rest
    -- of the lead, C the written postmortem, D the timeline and artifacts),
    -- for "seen this before?", which ranks by it.
    document tsvector not null,
    -- What searches filter and sort on, copied from the incident and its parts.
    number integer not null,
    severity text not null,
    status text not null,
    started_at timestamptz not null,
    services text[] not null,
    tags text[] not null,
    categories text[] not null,
    formats text[] not null
);

create index incident_search_core_idx on incident_search using gin (core);
create index incident_search_lead_idx on incident_search using gin (lead);
create index incident_search_document_idx on incident_search using gin (document);
create index incident_search_started_idx on incident_search (started_at, number);
-- So that a filter and the words meet in a bitmap of both, rather than
-- every match of the words being read to test its severity.
create index incident_search_severity_idx on incident_search (severity);
create index incident_search_status_idx on incident_search (status);
create index incident_search_services_idx on incident_search using gin (services);
create index incident_search_tags_idx on incident_search using gin (tags);
create index incident_search_categories_idx on incident_search using gin (categories);

-- The plain text that snippets are cut from.
create table incident_search_text (
    incident_id uuid primary key constraint incident_search_text_incident_fkey references incident (id) on delete cascade,
    body text not null
);

create or replace function incident_search_refresh(ids uuid[]) returns void
language plpgsql as $$
begin
    with texts as (
        select i.id, i.number, i.severity, i.status, i.started_at, i.services, i.tags,
               coalesce(cats.list, '{}') as categories, coalesce(formats.list, '{}') as formats,
               search_text(array[i.title, root.text]) as a,
               search_text(array[i.summary, i.trigger, array_to_string(i.services, ' '),
                                 array_to_string(i.tags, ' '), array_to_string(cats.list, ' '),
                                 suspects.signatures]) as b,
               search_text(array[i.impact, figures.text, i.detection, i.resolution, i.went_well,
                                 i.went_badly, i.got_lucky, others.text, actions.text,
                                 suspects.explanations, tops.text]) as c,
               search_text(array[events.text, files.text]) as d
          from incident i
          left join lateral (
              select string_agg(c.description || E'\n' || array_to_string(c.whys, E'\n'), E'\n' order by c.created_at) as text
                from cause c where c.incident_id = i.id and c.kind = 'root') root on true
          left join lateral (
              select string_agg(c.description || E'\n' || array_to_string(c.whys, E'\n'), E'\n' order by c.created_at) as text
                from cause c where c.incident_id = i.id and c.kind <> 'root') others on true
          left join lateral (
              select array_agg(distinct c.category order by c.category) as list
                from cause c where c.incident_id = i.id) cats on true
          left join lateral (
              select array_agg(distinct f.format order by f.format) as list
                from artifact f where f.incident_id = i.id) formats on true
          left join lateral (
              select string_agg(coalesce(f ->> 'metric', ''), ' ') as text
                from jsonb_array_elements(i.impact_figures) f) figures on true
          left join lateral (
              select string_agg(e.body || E'\n' || e.evidence, E'\n' order by e.occurred_at) as text
                from timeline_event e where e.incident_id = i.id) events on true
          left join lateral (
              select string_agg(a.title, E'\n' order by a.created_at) as text
                from action_item a where a.incident_id = i.id) actions on true
          left join lateral (
              select string_agg(f.file_name || E'\n' || f.note || E'\n' || f.summary, E'\n' order by f.created_at) as text
                from artifact f where f.incident_id = i.id) files on true
          left join lateral (
              select string_agg(s ->> 'signature', E'\n') as signatures,
                     string_agg(s ->> 'explanation', E'\n') as explanations
                from artifact f, jsonb_array_elements(coalesce(f.analysis -> 'suspects', '[]')) s
               where f.incident_id = i.id and f.analysis_status = 'done') suspects on true
          left join lateral (
              select string_agg(t ->> 'function', ' ') as text
                from artifact f,
                     lateral (select t from jsonb_array_elements(coalesce(f.analysis -> 'top', '[]')) t limit 10) top
               where f.incident_id = i.id and f.analysis_status = 'done' and f.format = 'pprof') tops on true
         where i.id = any(ids)
    ),
    vectors as (
        select t.*, to_tsvector('english', a) as va, to_tsvector('english', b) as vb from texts t
    ),
    saved as (
        insert into incident_search (incident_id, core, lead, document, number, severity, status, started_at,
                                     services, tags, categories, formats)
        select id, va, va || vb,
               setweight(va, 'A') || setweight(vb, 'B')
                 || setweight(to_tsvector('english', c), 'C') || setweight(to_tsvector('english', d), 'D'),
               number, severity, status, started_at, services, tags, categories, formats
          from vectors
        on conflict (incident_id) do update
            set core = excluded.core, lead = excluded.lead, document = excluded.document,
                number = excluded.number, severity = excluded.severity, status = excluded.status,
                started_at = excluded.started_at, services = excluded.services, tags = excluded.tags,
                categories = excluded.categories, formats = excluded.formats
        returning incident_id
    ),
    bodies as (
        insert into incident_search_text (incident_id, body)
        select id, concat_ws(E'\n', a, b, c, d) from texts
        on conflict (incident_id) do update set body = excluded.body
        returning body
    )
    -- In a fixed order, so two edits adding the same new words never
    -- wait on each other in a circle.
    insert into search_word (word)
    select distinct w from bodies, regexp_split_to_table(lower(bodies.body), '[^[:alnum:]_]+') w
     where length(w) between 3 and 40
     order by w
    on conflict do nothing;
end
$$;

-- A bulk writer (the demo generator) may put refreshing off for its own
-- transaction and refresh once at its end, rather than once per statement.
create or replace function incident_search_changed() returns trigger
language plpgsql as $$
begin
    if coalesce(current_setting('debrief.search_refresh', true), '') <> 'off' then
        perform incident_search_refresh(array(select distinct incident_id from changed_parts));
    end if;
    return null;
end
$$;

create or replace function incident_search_incident_changed() returns trigger
language plpgsql as $$
begin
    if coalesce(current_setting('debrief.search_refresh', true), '') <> 'off' then
        perform incident_search_refresh(array(select id from changed_incidents));
    end if;
    return null;
end
$$;

select incident_search_refresh(array(select id from incident));
