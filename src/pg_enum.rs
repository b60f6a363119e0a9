//! Rust enums stored as text columns.
//!
//! Why text and not a PostgreSQL `ENUM` type: adding a value to an `ENUM`
//! cannot be used in the migration that adds it (diesel runs each migration
//! in one transaction), and every other client would have to know the type.
//! A `text` column with a `CHECK (... IN (...))` constraint holds the same
//! values, and a new state is one variant here plus one word in the check.
//! `tests/api/stored_values.rs` proves that each enum and its check agree.
//!
//! [`pg_enum!`](crate::pg_enum!) declares the enum with its stored spellings and implements
//! diesel's `FromSql`/`ToSql` for `Text` (crates.io's `pg_enum!` is the
//! model, there for integers): a row is read into the enum, never into a
//! `String` that is parsed later, so code that matches on a state needs no
//! arm for a value the schema cannot hold. A value the enum does not know
//! (possible only if the schema and the code disagree) fails the read
//! itself, as any other corrupt row would.

/// Declares `enum $name` with the stored spelling of each variant, an
/// `ALL` list, `as_db()`, and diesel's `Text` conversions for PostgreSQL.
#[macro_export]
macro_rules! pg_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $stored:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling stored in the database.
            pub const fn as_db(self) -> &'static str {
                match self {
                    $( $name::$variant => $stored, )+
                }
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                std::io::Write::write_all(out, self.as_db().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let stored = value.as_bytes();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|known| known.as_db().as_bytes() == stored)
                    .ok_or_else(|| {
                        let stored = String::from_utf8_lossy(stored);
                        format!(concat!("the database holds an unknown ", stringify!($name), " {:?}"), stored).into()
                    })
            }
        }
    };
}

/// Reads `bytes` as a stored `T`, as diesel would from a `text` column.
#[cfg(test)]
pub(crate) fn read_stored<T>(bytes: &[u8]) -> diesel::deserialize::Result<T>
where
    T: diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>,
{
    struct TextOid;
    impl diesel::pg::TypeOidLookup for TextOid {
        fn lookup(&self) -> std::num::NonZeroU32 {
            std::num::NonZeroU32::new(25).expect("the oid of text")
        }
    }
    T::from_sql(diesel::pg::PgValue::new(bytes, &TextOid))
}

#[cfg(test)]
mod tests {
    use super::read_stored;

    crate::pg_enum! {
        /// A fixture.
        enum Light {
            Red = "RED",
            Green = "GREEN",
        }
    }

    #[test]
    fn stored_spellings_read_back_and_unknown_ones_fail_the_read() {
        for light in Light::ALL {
            assert_eq!(read_stored::<Light>(light.as_db().as_bytes()).unwrap(), *light);
        }
        let error = read_stored::<Light>(b"BLUE").unwrap_err();
        assert_eq!(error.to_string(), "the database holds an unknown Light \"BLUE\"");
    }
}
