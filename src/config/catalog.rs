//! Settings of the catalog: how products are searched.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct CatalogSettings {
    /// The PostgreSQL text search configuration products are searched in
    /// (`\dF` in psql lists them: simple, english, german, ...). `simple`
    /// neither stems words nor drops stop words, which suits brand names,
    /// model numbers and catalogs in several languages; a language's own
    /// configuration matches "machines" to "machine" but also mangles
    /// names. It belongs to the database: the process that starts with a
    /// new value rebuilds every product's search document (one UPDATE of
    /// the catalog), so run every process with the same one.
    #[arg(
        long,
        env = "ORDERS_SEARCH_LANGUAGE",
        default_value = "simple",
        value_parser = configuration_name,
        global = true
    )]
    pub search_language: String,
}

/// A configuration's name, optionally schema-qualified: `english`,
/// `pg_catalog.english`. PostgreSQL checks that it exists at start.
fn configuration_name(value: &str) -> Result<String, String> {
    let valid = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if value.len() <= 127 && value.split('.').count() <= 2 && value.split('.').all(valid) {
        Ok(value.to_owned())
    } else {
        Err("must be the name of a text search configuration, such as simple or english".to_owned())
    }
}
