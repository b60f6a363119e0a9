//! The weighted choice between request kinds (`--mix`), e.g.
//! `create-order=40,get-order-history=30,get-order=20,health=10`.
//!
//! Weights are relative, not percentages: `create-order=2,health=1` sends
//! two orders per health check. A kind left out has weight 0.

use std::{fmt, str::FromStr};

use super::Kind;

/// The default `--mix`: mostly writes and history reads, as a shop sees them.
pub const DEFAULT_MIX: &str = "create-order=40,get-order-history=30,get-order=20,health=10";

/// Relative weights per kind, with running totals so that a pick is a short
/// scan of a few integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    weights: [u32; Kind::COUNT],
    cumulative: [u32; Kind::COUNT],
}

impl Mix {
    /// A mix from weights indexed by [`Kind::index`]; at least one must be
    /// positive.
    pub fn from_weights(weights: [u32; Kind::COUNT]) -> Result<Mix, String> {
        let mut cumulative = [0u32; Kind::COUNT];
        let mut total = 0u32;
        for (slot, weight) in cumulative.iter_mut().zip(weights) {
            total = total.checked_add(weight).ok_or("the weights add up to too much")?;
            *slot = total;
        }
        if total == 0 {
            return Err("at least one weight must be positive".into());
        }
        Ok(Mix { weights, cumulative })
    }

    /// A mix that only ever sends `kind`.
    pub fn only(kind: Kind) -> Mix {
        let mut weights = [0; Kind::COUNT];
        weights[kind.index()] = 1;
        Mix::from_weights(weights).expect("one positive weight")
    }

    /// The sum of all weights: rolls are drawn from `0..total()`.
    pub fn total(&self) -> u32 {
        self.cumulative[Kind::COUNT - 1]
    }

    /// The kind for a roll in `0..total()`.
    pub fn pick(&self, roll: u32) -> Kind {
        let index = self.cumulative.iter().position(|&bound| roll < bound);
        Kind::ALL[index.unwrap_or(Kind::COUNT - 1)]
    }

    /// Whether `kind` is ever sent.
    pub fn includes(&self, kind: Kind) -> bool {
        self.weights[kind.index()] > 0
    }

    /// The kinds that are sent, with their weights.
    pub fn entries(&self) -> impl Iterator<Item = (Kind, u32)> + '_ {
        Kind::ALL
            .into_iter()
            .map(|kind| (kind, self.weights[kind.index()]))
            .filter(|&(_, w)| w > 0)
    }
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(text: &str) -> Result<Mix, String> {
        let mut weights = [0u32; Kind::COUNT];
        let mut seen = [false; Kind::COUNT];
        for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not NAME=WEIGHT"))?;
            let kind = Kind::from_name(name.trim()).ok_or_else(|| format!("`{name}` is not a request kind"))?;
            let weight = weight
                .trim()
                .parse()
                .map_err(|_| format!("`{weight}` is not a whole number"))?;
            if std::mem::replace(&mut seen[kind.index()], true) {
                return Err(format!("`{name}` is given twice"));
            }
            weights[kind.index()] = weight;
        }
        Mix::from_weights(weights)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (kind, weight)) in self.entries().enumerate() {
            let separator = if i == 0 { "" } else { "," };
            write!(f, "{separator}{}={weight}", kind.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_mix_parses_and_prints_back() {
        let mix: Mix = DEFAULT_MIX.parse().unwrap();
        assert_eq!(mix.total(), 100);
        assert_eq!(mix.to_string(), DEFAULT_MIX);
    }

    #[test]
    fn picks_follow_the_weights_exactly() {
        let mix: Mix = DEFAULT_MIX.parse().unwrap();
        let mut counts = [0u32; Kind::COUNT];
        for roll in 0..mix.total() {
            counts[mix.pick(roll).index()] += 1;
        }
        assert_eq!(counts, [40, 30, 20, 10, 0, 0, 0, 0]);
        assert_eq!(mix.pick(0), Kind::CreateOrder);
        assert_eq!(mix.pick(40), Kind::GetOrderHistory);
        assert_eq!(mix.pick(99), Kind::Health);
    }

    #[test]
    fn zero_weights_and_left_out_kinds_are_never_picked() {
        let mix: Mix = "health=0, get-order=3".parse().unwrap();
        assert!((0..mix.total()).all(|roll| mix.pick(roll) == Kind::GetOrder));
        assert!(!mix.includes(Kind::Health) && !mix.includes(Kind::CreateOrder));
        assert_eq!(mix, Mix::from_weights([0, 0, 3, 0, 0, 0, 0, 0]).unwrap());
        assert_eq!(Mix::only(Kind::Health).to_string(), "health=1");
    }

    #[test]
    fn the_search_kinds_mix_with_the_others() {
        let mix: Mix = "search-misspelt=1,health=1,search-word=2".parse().unwrap();
        assert_eq!(mix.to_string(), "health=1,search-word=2,search-misspelt=1");
        let picks: Vec<Kind> = (0..mix.total()).map(|roll| mix.pick(roll)).collect();
        assert_eq!(
            picks,
            [Kind::Health, Kind::SearchWord, Kind::SearchWord, Kind::SearchMisspelt]
        );
        assert_eq!(Mix::only(Kind::SearchMisspelt).pick(0), Kind::SearchMisspelt);
    }

    #[test]
    fn bad_mixes_are_refused_with_a_reason() {
        for (text, reason) in [
            ("", "positive"),
            ("health=0", "positive"),
            ("health", "NAME=WEIGHT"),
            ("ship-order=1", "not a request kind"),
            ("health=-1", "whole number"),
            ("health=1,health=2", "twice"),
            ("health=4294967295,get-order=1", "too much"),
        ] {
            let error = text.parse::<Mix>().unwrap_err();
            assert!(error.contains(reason), "{text:?} gave {error:?}");
        }
    }
}
