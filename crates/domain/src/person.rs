//! The individual a decision concerns.

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDate;
use identity::{IdentityError, IdentityNumber};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The person a decision is for: an identity number and whether their identity is protected
/// (skyddade personuppgifter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Personnummer, samordningsnummer or IVO reserve number. Never printed by `Debug`.
    pub id: IdentityNumber,
    /// Whether the person has protected personal data: shown masked unless explicitly granted.
    pub protected: bool,
}

/// The person as written on the wire, before the identity number is checked.
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonWire {
    /// Personnummer (`YYYYMMDD-NNNC`, `YYMMDD-NNNC`, `+` for 100 or older), samordningsnummer
    /// (day + 60) or IVO reserve number (`YYYYMMDD-TNNN`, `YYYYMMDD-TFNN`).
    pub id: RawIdentity,
    /// Skyddade personuppgifter.
    #[serde(default)]
    pub protected: bool,
}

impl fmt::Debug for PersonWire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonWire")
            .field("id", &self.id)
            .field("protected", &self.protected)
            .finish()
    }
}

/// An identity number's text, not yet checked. Redacted in `Debug`, like the checked number.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawIdentity(String);

impl fmt::Debug for RawIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawIdentity(redacted)")
    }
}

impl JsonSchema for RawIdentity {
    fn schema_name() -> Cow<'static, str> {
        "IdentityNumber".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^(([0-9]{8}-?|[0-9]{6}[-+]?)[0-9]{4}|[0-9]{8}-T([0-9]{3}|F[0-9]{2}))$",
            "description": "Personnummer or samordningsnummer (Luhn check digit; samordningsnummer has 60 added to the day) or IVO reserve number YYYYMMDD-TNNN / YYYYMMDD-TFNN. The check digit and the date are checked by verkstall, not by this pattern."
        })
    }
}

impl PersonWire {
    /// Checks the identity number; `reference` (the decision date) resolves a 10-digit form's
    /// century.
    pub fn into_person(self, reference: NaiveDate) -> Result<Person, IdentityError> {
        Ok(Person {
            id: IdentityNumber::parse(&self.id.0, reference)?,
            protected: self.protected,
        })
    }
}

impl Person {
    /// The wire form: the number exactly as it was written.
    pub fn to_wire(&self) -> PersonWire {
        PersonWire {
            id: RawIdentity(self.id.reveal().to_owned()),
            protected: self.protected,
        }
    }
}
