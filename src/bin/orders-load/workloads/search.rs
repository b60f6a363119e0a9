//! The queries of the search kinds, one fixed list per kind, made from the
//! word lists the seeded names are made of (`words`, shared with
//! `orders-seed`), so that the queries find real products in a catalog
//! `orders-seed` made (with 100,000 products, measured: all but one find
//! some, most a full first page). Deterministic: two runs send the same
//! queries, drawn at random from the same lists. Before the load, [`check`] sends a sample
//! of each list once, so that a catalog without the seeded names (where
//! every search is a cheap miss) fails the run instead of measuring misses.
//!
//! The lists are in lower case, as customers type.

use std::collections::BTreeSet;

use futures_util::{StreamExt, TryStreamExt, stream};
use orders::proto::SearchProductsRequest;
use tonic::{client::Grpc, transport::Channel};

use super::{
    Fixtures, Kind, Mix,
    calls::{Discarded, SEARCH_PAGE_SIZE, SEARCH_PRODUCTS, unary, with_deadline},
    credentials::with_token,
    setup::SetupError,
};
use crate::words::{ATTRIBUTES, BRANDS, NOUNS};

/// Queries of each list sent by [`check`], spread over the list.
const CHECKED_PER_KIND: usize = 32;
/// Checks in flight at once.
const CHECK_CONCURRENCY: usize = 8;
/// Queries finding nothing named in the warning, at most.
const MISSES_SHOWN: usize = 5;

/// Words of at least this many letters give prefixes (of 3 and 4 letters)
/// and get misspelt; shorter ones are left whole: a prefix or a slip of
/// "tea" or "mug" is another word, or noise.
const MIN_EDITED_LEN: usize = 5;

/// Only words this long get two letters swapped; shorter ones lose a letter
/// instead. A swap changes four of a word's trigrams, a left-out letter
/// three: a short word with a swap keeps too few to be recognised by
/// trigram similarity ("mcahine" shares 3 of its 8 with "machine").
const MIN_SWAPPED_LEN: usize = 9;

/// The queries of every search kind.
#[derive(Debug, Default)]
pub struct Queries {
    word: Vec<String>,
    words: Vec<String>,
    prefix: Vec<String>,
    misspelt: Vec<String>,
}

impl Queries {
    pub fn new() -> Queries {
        Queries {
            word: single_words(),
            words: phrases(),
            prefix: prefixes(),
            misspelt: misspellings(),
        }
    }

    /// The queries of search kind `kind` (none for the other kinds).
    pub fn of(&self, kind: Kind) -> &[String] {
        match kind {
            Kind::SearchWord => &self.word,
            Kind::SearchWords => &self.words,
            Kind::SearchPrefix => &self.prefix,
            Kind::SearchMisspelt => &self.misspelt,
            Kind::CreateOrder | Kind::GetOrderHistory | Kind::GetOrder | Kind::Health => &[],
        }
    }
}

/// The results of a search, each left undecoded: only their number counts.
#[derive(Clone, PartialEq, prost::Message)]
struct Hits {
    #[prost(message, repeated, tag = "1")]
    results: Vec<Discarded>,
}

/// Sends a sample of the queries of every search kind in `mix` once: fails
/// when the server fails one or none finds anything, and names the queries
/// that find nothing on stderr.
pub async fn check(channel: Channel, fixtures: &Fixtures, mix: &Mix) -> Result<(), SetupError> {
    for kind in Kind::SEARCHES.into_iter().filter(|&kind| mix.includes(kind)) {
        let queries = fixtures.queries.of(kind);
        let step = queries.len().div_ceil(CHECKED_PER_KIND).max(1);
        let hits: Vec<(&String, usize)> = stream::iter(queries.iter().step_by(step))
            .map(|query| {
                let mut grpc = Grpc::new(channel.clone());
                async move {
                    let request = SearchProductsRequest {
                        query: query.clone(),
                        page_size: SEARCH_PAGE_SIZE,
                        ..SearchProductsRequest::default()
                    };
                    let request = with_token(with_deadline(request, fixtures.timeout), fixtures.credentials.setup());
                    let hits = unary::<_, Hits>(&mut grpc, SEARCH_PRODUCTS, request)
                        .await
                        .map_err(|status| format!("SearchProducts {query:?}: {status}"))?;
                    Ok::<_, SetupError>((query, hits.into_inner().results.len()))
                }
            })
            .buffered(CHECK_CONCURRENCY)
            .try_collect()
            .await?;
        let misses: Vec<&str> = (hits.iter())
            .filter(|(_, found)| *found == 0)
            .map(|(query, _)| query.as_str())
            .collect();
        if misses.len() == hits.len() {
            return Err(format!(
                "none of {} {} queries finds a product: are the products named by orders-seed?",
                hits.len(),
                kind.name()
            )
            .into());
        }
        if !misses.is_empty() {
            eprintln!(
                "orders-load: {} of {} {} queries checked find nothing, e.g. {:?}",
                misses.len(),
                hits.len(),
                kind.name(),
                &misses[..misses.len().min(MISSES_SHOWN)]
            );
        }
    }
    Ok(())
}

/// Every distinct word of the nouns ("grinder", "espresso", "tea") and the
/// brands ("kaldera"), once.
fn single_words() -> Vec<String> {
    let words: BTreeSet<String> = NOUNS
        .iter()
        .chain(BRANDS)
        .flat_map(|name| name.split(' '))
        .map(str::to_lowercase)
        .collect();
    words.into_iter().collect()
}

/// For every noun: the noun alone ("espresso machine"), with a brand
/// ("kaldera espresso machine") and with an attribute ("matte black
/// espresso machine"). Brands and attributes go round the nouns in steps
/// coprime to their counts, so each is used about as often as the others.
fn phrases() -> Vec<String> {
    let mut phrases = Vec::with_capacity(NOUNS.len() * 3);
    for (i, noun) in NOUNS.iter().enumerate() {
        let brand = BRANDS[(i * 7) % BRANDS.len()];
        let attribute = ATTRIBUTES[(i * 11) % ATTRIBUTES.len()];
        phrases.push(noun.to_lowercase());
        phrases.push(format!("{brand} {noun}").to_lowercase());
        phrases.push(format!("{attribute} {noun}").to_lowercase());
    }
    dedup(phrases)
}

/// What a customer has typed so far: the first 3 and 4 letters of a word
/// ("gri", "grin"), and a noun of several words with its last word cut
/// short ("espresso mach").
fn prefixes() -> Vec<String> {
    let mut prefixes = Vec::new();
    for word in single_words().iter().filter(|word| word.len() >= MIN_EDITED_LEN) {
        prefixes.push(word[..3].to_owned());
        prefixes.push(word[..4].to_owned());
    }
    for noun in NOUNS.iter().map(|noun| noun.to_lowercase()) {
        if let Some((head, last)) = noun.rsplit_once(' ')
            && last.len() >= MIN_EDITED_LEN
        {
            prefixes.push(format!("{head} {}", &last[..4]));
        }
    }
    dedup(prefixes)
}

/// Every noun with a slip in its longest word and in any other of 6 letters
/// or more ("epresso mchine", "cofee grnder", "tea ketle"), and every
/// single word of 5 letters or more with one slip ("grnder"). Other short
/// words stay whole: with a slip in both words of "desk lamp" too little is
/// left to find it by.
fn misspellings() -> Vec<String> {
    let mut misspelt = Vec::new();
    for (i, noun) in NOUNS.iter().enumerate() {
        let noun = noun.to_lowercase();
        let words: Vec<&str> = noun.split(' ').collect();
        let longest_len = words.iter().map(|word| word.len()).max();
        let longest = words.iter().position(|word| Some(word.len()) == longest_len);
        let slipped: Vec<String> = (words.iter().enumerate())
            .map(|(j, word)| match Some(j) == longest || word.len() > MIN_EDITED_LEN {
                true => misspell(word, i + j),
                false => (*word).to_owned(),
            })
            .collect();
        misspelt.push(slipped.join(" "));
    }
    let long_words = single_words().into_iter().filter(|word| word.len() >= MIN_EDITED_LEN);
    for (i, word) in long_words.enumerate() {
        misspelt.push(misspell(&word, i));
    }
    // A query needs a word that is in no name: not so for nouns of short
    // words ("yoga mat", left whole) or a slip that makes another word of
    // the lists ("stand" to "sand").
    let real: BTreeSet<String> = (NOUNS.iter().chain(BRANDS).chain(ATTRIBUTES))
        .flat_map(|name| name.split(' '))
        .map(str::to_lowercase)
        .collect();
    let misspelt = misspelt
        .into_iter()
        .filter(|query| query.split(' ').any(|word| !real.contains(word)));
    dedup(misspelt.collect())
}

/// `word` with one slip of a typist, chosen by `n`: a letter left out, or
/// in a long word two neighbours swapped (a letter left out where they are
/// the same). The first and last letters stay, as they mostly do in real
/// slips. Words shorter than [`MIN_EDITED_LEN`] are returned as they are.
fn misspell(word: &str, n: usize) -> String {
    let letters: Vec<char> = word.chars().collect();
    if letters.len() < MIN_EDITED_LEN {
        return word.to_owned();
    }
    // An inner position with an inner neighbour after it: 1 ..= len - 3.
    let at = 1 + (n / 2) % (letters.len() - 3);
    let mut slipped = letters.clone();
    if n % 2 == 1 && letters.len() >= MIN_SWAPPED_LEN && letters[at] != letters[at + 1] {
        slipped.swap(at, at + 1);
    } else {
        slipped.remove(at);
    }
    slipped.into_iter().collect()
}

/// `items` without repeats, in first-seen order.
fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items.into_iter().filter(|item| seen.insert(item.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_search_kind_has_queries_and_the_others_none() {
        let queries = Queries::new();
        for kind in Kind::SEARCHES {
            assert!(queries.of(kind).len() >= 50, "{kind:?}: {:?}", queries.of(kind));
        }
        assert!(queries.of(Kind::Health).is_empty());
    }

    #[test]
    fn the_queries_are_made_of_the_seeded_words() {
        let queries = Queries::new();
        assert!(queries.of(Kind::SearchWord).contains(&"grinder".to_owned()));
        assert!(queries.of(Kind::SearchWords).contains(&"espresso machine".to_owned()));
        assert!(queries.of(Kind::SearchPrefix).contains(&"espr".to_owned()));
        assert!(queries.of(Kind::SearchPrefix).contains(&"espresso mach".to_owned()));
        for query in Kind::SEARCHES.into_iter().flat_map(|kind| queries.of(kind)) {
            assert_eq!(query, &query.to_lowercase());
            assert!(!query.is_empty() && !query.contains("  "), "{query:?}");
        }
        let names = [BRANDS, ATTRIBUTES, NOUNS].concat().join(" ").to_lowercase();
        let named: BTreeSet<&str> = names.split(' ').collect();
        for query in queries.of(Kind::SearchWord).iter().chain(queries.of(Kind::SearchWords)) {
            assert!(query.split(' ').all(|word| named.contains(word)), "{query:?}");
        }
    }

    #[test]
    fn misspellings_are_one_slip_per_long_word_and_no_real_word() {
        assert_eq!(misspell("espresso", 0), "epresso");
        assert_eq!(misspell("machine", 1), "mchine", "short: left out, not swapped");
        assert_eq!(misspell("bluetooth", 1), "buletooth");
        assert_eq!(misspell("bluetooth", 5), "bluteooth");
        assert_eq!(misspell("tea", 5), "tea");
        let misspelt = Queries::new().misspelt;
        assert!(misspelt.contains(&"epresso mchine".to_owned()) && misspelt.contains(&"tea ketle".to_owned()));
        let real = single_words();
        for query in Queries::new().of(Kind::SearchMisspelt) {
            let slipped = query.split(' ').filter(|word| !real.contains(&(*word).to_owned()));
            assert!(slipped.count() >= 1, "{query:?} has no misspelt word");
        }
    }

    #[test]
    fn the_lists_are_the_same_every_time() {
        let (a, b) = (Queries::new(), Queries::new());
        for kind in Kind::SEARCHES {
            assert_eq!(a.of(kind), b.of(kind));
        }
    }
}
