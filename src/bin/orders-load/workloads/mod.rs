//! What a load run sends: the request kinds, the weighted mix that chooses
//! between them, the data they need ([`setup`], and [`search`] for the
//! queries) and the calls themselves ([`calls`]).

pub mod calls;
pub mod credentials;
pub mod mix;
pub mod search;
pub mod setup;

pub use calls::{Caller, Fixtures};
pub use mix::Mix;

/// One kind of request. The discriminant is the index used in per-kind
/// arrays (weights, statistics), so the hot path never hashes a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Kind {
    /// `OrderService/CreateOrder` with 1–5 lines over the load catalog.
    CreateOrder = 0,
    /// `OrderService/GetOrderHistory`, first page and deeper pages.
    GetOrderHistory = 1,
    /// `OrderService/GetOrder` for an order id gathered at start.
    GetOrder = 2,
    /// `grpc.health.v1.Health/Check` for the whole server.
    Health = 3,
    /// `CatalogService/SearchProducts` for one word of the seeded names
    /// ("grinder", a brand).
    SearchWord = 4,
    /// `CatalogService/SearchProducts` for several words ("espresso
    /// machine", a brand or attribute with a noun).
    SearchWords = 5,
    /// `CatalogService/SearchProducts` for what is typed so far: the start
    /// of a word ("grin", "espresso mach").
    SearchPrefix = 6,
    /// `CatalogService/SearchProducts` for misspelt names ("epresso
    /// mchine", "grnder"), found by trigram similarity.
    SearchMisspelt = 7,
}

impl Kind {
    /// How many kinds there are: the length of per-kind arrays.
    pub const COUNT: usize = 8;

    /// Every kind, in index order.
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::CreateOrder,
        Kind::GetOrderHistory,
        Kind::GetOrder,
        Kind::Health,
        Kind::SearchWord,
        Kind::SearchWords,
        Kind::SearchPrefix,
        Kind::SearchMisspelt,
    ];

    /// The kinds that call SearchProducts.
    pub const SEARCHES: [Kind; 4] = [
        Kind::SearchWord,
        Kind::SearchWords,
        Kind::SearchPrefix,
        Kind::SearchMisspelt,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::CreateOrder => "create-order",
            Kind::GetOrderHistory => "get-order-history",
            Kind::GetOrder => "get-order",
            Kind::Health => "health",
            Kind::SearchWord => "search-word",
            Kind::SearchWords => "search-words",
            Kind::SearchPrefix => "search-prefix",
            Kind::SearchMisspelt => "search-misspelt",
        }
    }

    /// The position of this kind in per-kind arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The kind with this command-line name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_clap() {
        use clap::ValueEnum;
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.to_possible_value().unwrap().get_name(), kind.name());
            assert_eq!(Kind::ALL[kind.index()], kind);
        }
        assert_eq!(Kind::from_name("mix"), None);
    }
}
