-- Accounts: users, their API tokens, the first-run setup token and the
-- record of login attempts used to throttle password guessing.

create table app_user (
    id uuid primary key,
    email text not null,
    name text not null,
    password_hash text not null,
    role text not null,
    disabled boolean not null default false,
    -- Bumped when the password changes or the account is disabled: sessions
    -- signed in under an older value stop working.
    auth_version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint app_user_email_key unique (email),
    constraint app_user_role_check check (role in ('viewer', 'editor', 'admin')),
    constraint app_user_email_lower_check check (email = lower(email))
);

create table api_token (
    id uuid primary key,
    user_id uuid not null constraint api_token_user_fkey references app_user (id) on delete cascade,
    name text not null,
    -- SHA-256 of the token; the token itself is shown once and never stored.
    token_digest bytea not null,
    -- The first characters, so a user can tell their tokens apart.
    token_hint text not null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    constraint api_token_digest_key unique (token_digest)
);

create index api_token_user_idx on api_token (user_id);

create table setup_token (
    id uuid primary key,
    token_digest bytea not null,
    created_at timestamptz not null default now()
);

create table login_attempt (
    id bigint generated always as identity primary key,
    email text not null,
    client_ip text not null,
    succeeded boolean not null,
    created_at timestamptz not null default now()
);

create index login_attempt_email_idx on login_attempt (email, created_at);
create index login_attempt_ip_idx on login_attempt (client_ip, created_at);
