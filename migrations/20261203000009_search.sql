-- Search: one row per incident holding its whole text as a weighted
-- tsvector, kept current by triggers in the same transaction as every
-- edit, so no write, present or future, can leave the index behind.
--
-- Weights: A the title and the root causes; B the summary, the trigger,
-- services, tags, cause categories and suspect signatures; C the rest of
-- the written postmortem (impact, detection, resolution, lessons, other
-- causes, action items, suspect explanations, top functions); D the
-- timeline and the artifacts' notes and names.

create extension if not exists pg_trgm;

create table incident_search (
    incident_id uuid primary key constraint incident_search_incident_fkey references incident (id) on delete cascade,
    document tsvector not null,
    -- The plain text that snippets are cut from.
    body text not null
);

create index incident_search_document_idx on incident_search using gin (document);

-- Every word the incidents use, for the typo-tolerant fallback: a query
-- word found nowhere is replaced by the nearest word that is.
create table search_word (
    word text primary key
);

create index search_word_trgm_idx on search_word using gist (word gist_trgm_ops);

-- The filters a search combines with its text.
create index incident_services_idx on incident using gin (services);
create index incident_tags_idx on incident using gin (tags);
create index artifact_format_idx on artifact (format, incident_id);

-- Each weight's text is cut to a bound, so that no incident, however
-- large, makes a tsvector past PostgreSQL's limit and fails its edit.
create function search_text(parts text[]) returns text
language sql immutable as $$
    select left(array_to_string(parts, E'\n'), 98304)
$$;

create function incident_search_refresh(ids uuid[]) returns void
language plpgsql as $$
begin
    with texts as (
        select i.id,
               search_text(array[i.title, root.text]) as a,
               search_text(array[i.summary, i.trigger, array_to_string(i.services, ' '),
                                 array_to_string(i.tags, ' '), cats.text, suspects.signatures]) as b,
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
              select string_agg(distinct c.category, ' ') as text from cause c where c.incident_id = i.id) cats on true
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
    saved as (
        insert into incident_search (incident_id, document, body)
        select id,
               setweight(to_tsvector('english', a), 'A') || setweight(to_tsvector('english', b), 'B')
                 || setweight(to_tsvector('english', c), 'C') || setweight(to_tsvector('english', d), 'D'),
               concat_ws(E'\n', a, b, c, d)
          from texts
        on conflict (incident_id) do update set document = excluded.document, body = excluded.body
        returning body
    )
    -- In a fixed order, so two edits adding the same new words never
    -- wait on each other in a circle.
    insert into search_word (word)
    select distinct w from saved, regexp_split_to_table(lower(saved.body), '[^[:alnum:]_]+') w
     where length(w) between 3 and 40
     order by w
    on conflict do nothing;
end
$$;

create function incident_search_changed() returns trigger
language plpgsql as $$
begin
    perform incident_search_refresh(array(select distinct incident_id from changed_parts));
    return null;
end
$$;

create function incident_search_incident_changed() returns trigger
language plpgsql as $$
begin
    perform incident_search_refresh(array(select id from changed_incidents));
    return null;
end
$$;

create trigger incident_search_inserted after insert on incident referencing new table as changed_incidents
    for each statement execute function incident_search_incident_changed();
create trigger incident_search_updated after update on incident referencing new table as changed_incidents
    for each statement execute function incident_search_incident_changed();

do $$
declare
    part text;
begin
    foreach part in array array['timeline_event', 'cause', 'action_item', 'artifact'] loop
        execute format('create trigger %1$s_search_inserted after insert on %1$I referencing new table as changed_parts '
            'for each statement execute function incident_search_changed()', part);
        execute format('create trigger %1$s_search_updated after update on %1$I referencing new table as changed_parts '
            'for each statement execute function incident_search_changed()', part);
        execute format('create trigger %1$s_search_deleted after delete on %1$I referencing old table as changed_parts '
            'for each statement execute function incident_search_changed()', part);
    end loop;
end
$$;

-- The incidents there already are.
select incident_search_refresh(array(select id from incident));
