//! The test harness: each test gets the real app on a random port, against
//! a fresh PostgreSQL database of its own, and talks HTTP to it.

use std::{collections::HashMap, sync::Arc, time::Duration};

use debrief::{
    auth::{
        self,
        domain::{DisplayName, Email, NewPassword, Role, TokenName},
    },
    config::Config,
    db,
    startup::Application,
};
use secrecy::ExposeSecret;
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The PostgreSQL server the tests create their databases on.
pub fn server_url() -> String {
    let url =
        std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    url.trim_end_matches('/').to_owned()
}

/// A running app and its database, dropped together.
pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub setup_token: Option<String>,
    pub database: String,
    owns_database: bool,
    stop: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data_dir: TempDir,
}

/// Settings a test may change before the app starts.
#[derive(Default)]
pub struct Options {
    pub vars: HashMap<String, String>,
    /// Reach PostgreSQL through this `host:port` instead of directly.
    pub database_host: Option<String>,
    pub tweak: Option<ConfigTweak>,
    /// Run on this test app's database, as a second process would; the
    /// database stays its owner's to drop.
    pub share_database: Option<String>,
}

/// A change to the configuration, made after it is read from the variables.
pub type ConfigTweak = Box<dyn FnOnce(&mut Config)>;

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        debrief::install_tls_provider();
        let owns_database = options.share_database.is_none();
        let database = options
            .share_database
            .clone()
            .unwrap_or_else(|| format!("debrief_test_{}", Uuid::new_v4().simple()));
        let server = server_url();
        let database_url = match &options.database_host {
            Some(host) => format!("postgres://postgres@{host}/{database}"),
            None => format!("{server}/{database}"),
        };
        let data_dir = TempDir::new();
        let mut vars = HashMap::from([
            ("DATABASE_URL".to_owned(), database_url),
            ("DEBRIEF_BIND".to_owned(), "127.0.0.1:0".to_owned()),
            ("DEBRIEF_DATA_DIR".to_owned(), data_dir.path.display().to_string()),
            ("DEBRIEF_DB_MAX_CONNECTIONS".to_owned(), "4".to_owned()),
        ]);
        vars.extend(options.vars);
        let mut config = Config::from_vars(vars).expect("test configuration is valid");
        if let Some(tweak) = options.tweak {
            tweak(&mut config);
        }
        let pool =
            db::connect_and_migrate(&config).await.expect("the test database can be created and migrated");
        let app = Application::build(config, pool.clone()).await.expect("the app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let setup_token = app.setup_token().map(str::to_owned);
        let stop = app.stop_handle();
        let server = tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            pool,
            setup_token,
            database,
            owns_database,
            stop,
            server: Some(server),
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The app's artifact store, as another process would open it.
    pub fn store(&self) -> debrief::evidence::store::ArtifactStore {
        let config = debrief::config::StorageConfig::Local { dir: self.data_dir().join("artifacts") };
        debrief::evidence::store::ArtifactStore::open(&config, &self.data_dir().join("spool-tools")).unwrap()
    }

    /// The app's data directory (its spool, and the artifact store by default).
    pub fn data_dir(&self) -> &std::path::Path {
        &self._data_dir.path
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> Client {
        Client::new(&self.address)
    }

    /// Creates a user directly in the database.
    pub async fn create_user(&self, role: Role) -> TestUser {
        let email = format!("{}-{}@example.com", role, &Uuid::new_v4().simple().to_string()[..8]);
        let password = format!("correct horse {}", Uuid::new_v4().simple());
        let user = auth::create_user(
            &self.pool,
            &auth::credentials::Hashing::for_tools(),
            &Email::parse(&email).unwrap(),
            &DisplayName::parse(&format!("Test {role}")).unwrap(),
            &NewPassword::parse(&password, None).unwrap(),
            role,
        )
        .await
        .expect("user is created");
        TestUser { id: user.id, email, password, name: user.name }
    }

    /// A signed-in client for a new user with `role`.
    pub async fn signed_in(&self, role: Role) -> (TestUser, Client) {
        let user = self.create_user(role).await;
        let client = self.client();
        let response = client.login(&user.email, &user.password).await;
        assert_eq!(response.status(), 303, "signing in as {role} works");
        (user, client)
    }

    /// An API token for the user, made as the CLI makes one.
    pub async fn api_token(&self, user: &TestUser) -> String {
        let token =
            auth::issue_api_token(&self.pool, user.id, &TokenName::parse("test").unwrap()).await.unwrap();
        token.expose_secret().to_owned()
    }

    /// An API request with a bearer token.
    pub fn api(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().request(method, self.url(path)).bearer_auth(token)
    }

    /// `GET` an API path that must answer 200, as JSON.
    pub async fn api_json(&self, path: &str, token: &str) -> serde_json::Value {
        let response = self.api(reqwest::Method::GET, path, token).send().await.expect("the API answers");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("the API answers JSON")
    }

    /// `POST`s `body` to an API path that must answer 201 (a record made), as JSON.
    pub async fn api_create(&self, path: &str, token: &str, body: &serde_json::Value) -> serde_json::Value {
        let response =
            self.api(reqwest::Method::POST, path, token).json(body).send().await.expect("the API answers");
        assert_eq!(response.status(), 201, "POST {path}");
        response.json().await.expect("the API answers JSON")
    }

    /// Opens INC-1 ("Checkout 5xx", started 2026-11-20 14:00 UTC) through the
    /// API as `editor`; returns its id and the token used.
    pub async fn open_incident(&self, editor: &TestUser) -> (String, String) {
        let token = self.api_token(editor).await;
        let body = serde_json::json!({"title": "Checkout 5xx", "severity": "SEV2", "started_at": "2026-11-20T14:00:00Z"});
        let response =
            self.api(reqwest::Method::POST, "/api/v1/incidents", &token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201, "the incident opens");
        let created: serde_json::Value = response.json().await.unwrap();
        (created["id"].as_str().unwrap().to_owned(), token)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.expect("count query works")
    }

    /// Stops the app as SIGTERM would and waits for it to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        let server = self.server.take().expect("the server runs");
        tokio::time::timeout(Duration::from_secs(30), server).await.expect("the app stops in time")?
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
        if !self.owns_database {
            return;
        }
        let database = self.database.clone();
        // Drop runs outside async (and may block the test's only runtime
        // thread): tidy up on a thread with its own runtime. `with (force)`
        // ends the connections the stopped app still holds.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&format!("{}/postgres", server_url())).await {
                    let sql = format!("drop database if exists \"{database}\" with (force)");
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub password: String,
    pub name: String,
}

/// An HTTP client that behaves like one browser: one cookie jar.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    base: String,
    pub jar: Arc<reqwest::cookie::Jar>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client::with_headers(base, reqwest::header::HeaderMap::new())
    }

    /// A client that sends `headers` with every request.
    pub fn with_headers(base: &str, headers: reqwest::header::HeaderMap) -> Client {
        // The app's HTTPS clients use ring; reqwest here shares its build.
        debrief::install_tls_provider();
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .unwrap();
        Client { http, base: base.to_owned(), jar }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET is answered")
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// The CSRF token from the forms of the page at `path`.
    pub async fn csrf_token(&self, path: &str) -> String {
        let html = self.get_text(path).await;
        extract_csrf(&html).unwrap_or_else(|| panic!("no csrf_token on {path}: {html}"))
    }

    /// Posts a form as the page at `from` would: with that page's CSRF token.
    pub async fn submit(&self, from: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_token(from).await;
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        self.post_form(action, &form).await
    }

    /// Posts exactly these fields, nothing added.
    pub async fn post_form(&self, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.url(action)).form(fields).send().await.expect("POST is answered")
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit("/login", "/login", &[("email", email), ("password", password)]).await
    }

    /// The session cookie's value, if the jar has one.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|pair| pair.strip_prefix("debrief_session=").map(str::to_owned))
    }
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The `{"error": {...}}` body of an API error.
pub async fn api_error(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("API errors are JSON");
    let code = body["error"]["code"].as_str().expect("error.code is a string").to_owned();
    let message = body["error"]["message"].as_str().expect("error.message is a string").to_owned();
    (status, code, message)
}

/// A directory removed when dropped.
pub struct TempDir {
    pub path: std::path::PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("debrief-test-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
