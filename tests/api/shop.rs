//! The whole shop backend for the notification tests: the orders service
//! and the notifications service in one test server, each on a fresh
//! database of its own, events on the test's own stream, and email to a
//! real SMTP server (or to `.eml` files).

use diesel_async::{AsyncConnection, AsyncPgConnection};
use orders::config::ServiceName;

use crate::{
    app::{TestApp, spawn_app_owning},
    nats::TestEvents,
    smtp::SmtpSink,
    test_database::TestDatabase,
};

/// The shop under test: the app (both services) and where the
/// notifications database is.
pub struct Shop {
    pub app: TestApp,
    pub notifications_url: String,
}

impl Shop {
    /// A single number from the notifications database (`... AS n`).
    pub async fn count(&self, sql: &str) -> i64 {
        crate::direct_sql::query_n_on(&mut self.notifications_db().await, sql).await
    }

    /// A connection to the notifications database.
    pub async fn notifications_db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.notifications_url)
            .await
            .expect("connects to the notifications database")
    }
}

/// Starts the shop with its events on `events` and its email to `smtp`.
pub async fn spawn_shop(events: &TestEvents, smtp: &SmtpSink) -> Shop {
    let notifications = TestDatabase::create_empty().await;
    let notifications_url = notifications.url.clone();
    let databases = vec![TestDatabase::create().await, notifications];
    let app = spawn_app_owning(databases, |settings| {
        events.configure(settings);
        settings.services = vec![ServiceName::Orders, ServiceName::Notifications];
        settings.notifications.notifications_database_url = Some(notifications_url.as_str().into());
        settings.notifications.smtp_url = Some(smtp.url().as_str().into());
        settings.notifications.mail_from = "Test Shop <shop@example.com>".parse().unwrap();
    })
    .await;
    Shop { app, notifications_url }
}
