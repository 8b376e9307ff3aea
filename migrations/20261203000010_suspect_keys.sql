-- The kinds of suspect each artifact's analysis named, as a column with an
-- index: "seen this before?" and playbook suggestions find the incidents
-- whose evidence shows the same suspect without reading every analysis.

create function artifact_suspect_keys(analysis jsonb) returns text[]
language sql immutable as $$
    select coalesce(array(
        select distinct s ->> 'key'
          from jsonb_array_elements(case when jsonb_typeof(analysis -> 'suspects') = 'array'
                                         then analysis -> 'suspects' else '[]'::jsonb end) s
         where s ->> 'key' is not null
         order by 1), '{}')
$$;

alter table artifact add column suspect_keys text[] not null
    generated always as (artifact_suspect_keys(analysis)) stored;

create index artifact_suspect_keys_idx on artifact using gin (suspect_keys);
