//! `consoled serve`: runs the server with the settings of [`crate::config::ServeArgs`].

use crate::app::{self, Application};
use crate::config::ServeArgs;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let app = Application::build(args).await?;
    if let Some(credentials) = &app.first_credentials {
        // Straight to the terminal, never through the logger: the secret is shown only here.
        println!(
            "Created the default organization and an admin Console API client.\n\
             Save these credentials now; the secret is not shown again.\n\
             \n  organization:  {}\n  client id:     {}\n  client secret: {}\n",
            credentials.org_id, credentials.client_id, credentials.client_secret
        );
    }
    if let Some(link) = &app.first_owner_link {
        // To the terminal only, like the credentials: the link sets the owner's password.
        println!(
            "The web console: open this one-time link to set the owner's password \
             (valid for 7 days; `consoled members reset-password EMAIL` makes a new one):\n\
             \n  {link}\n"
        );
    }
    tracing::info!(address = %app.local_addr(), public_url = %app.state().settings.public_url, "consoled listening");
    if let Some(address) = app.metrics_addr() {
        tracing::info!(%address, "metrics served at /metrics");
    }
    app.run_until(app::shutdown_signal()).await
}
