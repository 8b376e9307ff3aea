-- The blameless-language assistant's rules that admins change: phrases
-- they add, and the built-in rules they switch off (the built-ins
-- themselves live in the app, which knows how to find them).

create table wording_rule (
    id uuid primary key,
    phrase text not null constraint wording_rule_phrase_key unique,
    message text not null,
    suggestion text not null,
    created_by uuid constraint wording_rule_created_by_fkey references app_user (id) on delete set null,
    created_at timestamptz not null default now(),
    constraint wording_rule_phrase_check check (phrase = lower(btrim(phrase)) and length(phrase) between 2 and 80)
);

create table wording_rule_switch (
    key text primary key,
    enabled boolean not null,
    updated_at timestamptz not null default now()
);
