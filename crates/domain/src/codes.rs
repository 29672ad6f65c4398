//! The closed vocabularies of spec §3–§4: law, insats (with its short form and the law it
//! belongs to), delay reasons, end reasons, note kinds, report kinds and areas.
//!
//! Each is an enum whose serde name is the code on the wire, so an unknown code is refused at
//! the edge and cannot exist inside.

use std::fmt;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The law a decision is granted under.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Law {
    /// Socialtjänstlagen.
    SoL,
    /// Lagen om stöd och service till vissa funktionshindrade.
    #[serde(rename = "LSS")]
    Lss,
}

/// The date the new Socialtjänstlag (2025:400) came into force.
pub fn new_sol_in_force() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("2025-07-01 is a date")
}

impl Law {
    /// The code on the wire: `SoL` or `LSS`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Law::SoL => "SoL",
            Law::Lss => "LSS",
        }
    }

    /// The paragraph granting the support, as in force on the decision date.
    pub fn granting_paragraph(self, decided_on: NaiveDate) -> &'static str {
        match self {
            Law::Lss => "9 § LSS",
            Law::SoL if decided_on < new_sol_in_force() => "4 kap. 1 § SoL (2001:453)",
            Law::SoL => "11 kap. 1 § SoL (2025:400)",
        }
    }

    /// The paragraphs of the reporting duty, as in force on the decision date.
    pub fn reporting_paragraphs(self, decided_on: NaiveDate) -> &'static str {
        match self {
            Law::Lss => "28 a–i §§ LSS",
            Law::SoL if decided_on < new_sol_in_force() => "16 kap. 6 a–h §§ SoL (2001:453)",
            Law::SoL => "34 kap. 1–10 §§ SoL (2025:400)",
        }
    }
}

impl fmt::Display for Law {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! insats_catalogue {
    ($($variant:ident = $code:literal, $law:ident, $short:literal, $long:literal;)*) => {
        /// A granted service (insats), spec §4.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum Insats {
            $(
                #[doc = $long]
                #[serde(rename = $code)]
                $variant,
            )*
        }

        impl Insats {
            /// Every insats, in catalogue order.
            pub const ALL: &'static [Insats] = &[$(Insats::$variant),*];

            /// The code on the wire, e.g. `lss_9_4`.
            pub const fn code(self) -> &'static str {
                match self { $(Insats::$variant => $code,)* }
            }

            /// The law the insats belongs to.
            pub const fn law(self) -> Law {
                match self { $(Insats::$variant => Law::$law,)* }
            }

            /// The short form used in titles and tables, e.g. `9§4` or `SoL hemtjänst`.
            pub const fn short_form(self) -> &'static str {
                match self { $(Insats::$variant => $short,)* }
            }

            /// The full Swedish name, e.g. `kontaktperson`.
            pub const fn name(self) -> &'static str {
                match self { $(Insats::$variant => $long,)* }
            }

            /// The insats with this code, if any.
            pub fn from_code(code: &str) -> Option<Insats> {
                match code { $($code => Some(Insats::$variant),)* _ => None }
            }
        }
    };
}

insats_catalogue! {
    Lss9_2 = "lss_9_2", Lss, "9§2", "personlig assistans";
    Lss9_3 = "lss_9_3", Lss, "9§3", "ledsagarservice";
    Lss9_4 = "lss_9_4", Lss, "9§4", "kontaktperson";
    Lss9_5 = "lss_9_5", Lss, "9§5", "avlösarservice";
    Lss9_6 = "lss_9_6", Lss, "9§6", "korttidsvistelse";
    Lss9_7 = "lss_9_7", Lss, "9§7", "korttidstillsyn";
    Lss9_8 = "lss_9_8", Lss, "9§8", "boende för barn och ungdomar";
    Lss9_9 = "lss_9_9", Lss, "9§9", "bostad med särskild service för vuxna";
    Lss9_10 = "lss_9_10", Lss, "9§10", "daglig verksamhet";
    SolSarskiltBoende = "sol_sarskilt_boende", SoL, "SoL särskilt boende", "särskilt boende";
    SolBostadSarskildService = "sol_bostad_sarskild_service", SoL, "SoL bostad med särskild service", "bostad med särskild service";
    SolHemtjanst = "sol_hemtjanst", SoL, "SoL hemtjänst", "hemtjänst";
    SolBoendestod = "sol_boendestod", SoL, "SoL boendestöd", "boendestöd";
    SolKontaktperson = "sol_kontaktperson", SoL, "SoL kontaktperson", "kontaktperson";
    SolKontaktfamilj = "sol_kontaktfamilj", SoL, "SoL kontaktfamilj", "kontaktfamilj";
    SolKorttidsvistelse = "sol_korttidsvistelse", SoL, "SoL korttidsvistelse", "korttidsvistelse";
    SolDagverksamhet = "sol_dagverksamhet", SoL, "SoL dagverksamhet", "dagverksamhet";
    SolFamiljehem = "sol_familjehem", SoL, "SoL familjehem", "familjehem";
    SolHvb = "sol_hvb", SoL, "SoL HVB", "hem för vård eller boende";
    SolOppenvard = "sol_oppenvard", SoL, "SoL öppenvård", "öppenvård";
    SolLedsagning = "sol_ledsagning", SoL, "SoL ledsagning", "ledsagning";
    SolAvlosning = "sol_avlosning", SoL, "SoL avlösning", "avlösning";
    SolSysselsattning = "sol_sysselsattning", SoL, "SoL sysselsättning", "sysselsättning";
    SolOvrigt = "sol_ovrigt", SoL, "SoL övrigt bistånd", "övrigt bistånd";
}

impl fmt::Display for Insats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal, $sv:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[serde(rename = $code)]
                $variant,
            )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The code on the wire.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// The Swedish wording shown to people.
            pub const fn swedish(self) -> &'static str {
                match self { $($name::$variant => $sv,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum! {
    /// Why execution is delayed (`DelayReasonRecorded.reason`).
    DelayReason {
        /// No place is available (housing, daily activity).
        NoPlaceAvailable = "no_place_available", "Ingen plats tillgänglig";
        /// A provider (contact person, family) is being recruited.
        RecruitingProvider = "recruiting_provider", "Svårighet att rekrytera utförare";
        /// The individual declined an offer.
        DeclinedOffer = "declined_offer", "Den enskilde har tackat nej till erbjudande";
        /// The individual's own wishes (waiting for a particular place or person).
        IndividualWishes = "individual_wishes", "Den enskildes önskemål";
        /// The individual cannot be reached.
        IndividualUnreachable = "individual_unreachable", "Den enskilde går inte att nå";
        /// Staff shortage.
        StaffShortage = "staff_shortage", "Personalbrist";
        /// Another reason, told in the text.
        Other = "other", "Annat skäl";
    }
}

code_enum! {
    /// Why a decision ended without (further) execution (`Avslutad.reason`).
    EndReason {
        /// The individual withdrew the application.
        Withdrawn = "withdrawn", "Ansökan återtagen";
        /// The need has ceased.
        NeedCeased = "need_ceased", "Behovet har upphört";
        /// The decision expired.
        Expired = "expired", "Beslutet har upphört att gälla";
        /// The individual moved away.
        Moved = "moved", "Den enskilde har flyttat";
        /// The individual died.
        Deceased = "deceased", "Den enskilde har avlidit";
        /// Another reason, told in the text.
        Other = "other", "Annat skäl";
    }
}

code_enum! {
    /// What a note records (`NoteRecorded.kind`).
    NoteKind {
        /// A contact with the individual, a representative or a guardian.
        Contact = "contact", "Kontakt";
        /// The utförare's summary of the last three months.
        Summary = "summary", "Sammanfattning";
        /// How the municipality plans to execute the decision.
        Planning = "planning", "Planering";
        /// What the delay means for the individual.
        Impact = "impact", "Konsekvenser för den enskilde";
        /// Anything else.
        Other = "other", "Övrigt";
    }
}

code_enum! {
    /// Which report to IVO (`ReportedToIvo.kind`).
    ReportKind {
        /// First report of a decision not executed within three months.
        New = "new", "Nyrapportering";
        /// First report of an interruption not resumed within three months.
        NewInterruption = "new_interruption", "Nyrapportering avbrott";
        /// A follow-up report, each quarter while still not executed.
        FollowUp = "follow_up", "Återrapportering";
        /// The final report: executed or ended.
        Final = "final", "Slutrapportering";
    }
}

code_enum! {
    /// The area of social services a decision belongs to.
    Area {
        /// Elderly care.
        Aldreomsorg = "aldreomsorg", "Äldreomsorg";
        /// Support for people with disabilities.
        Funktionsnedsattning = "funktionsnedsattning", "Funktionsnedsättning";
        /// Individual and family care.
        Ifo = "ifo", "Individ- och familjeomsorg";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_insats_code_prefix_agrees_with_its_law() {
        for &insats in Insats::ALL {
            let prefix = match insats.law() {
                Law::Lss => "lss_",
                Law::SoL => "sol_",
            };
            assert!(insats.code().starts_with(prefix), "{insats:?}");
            assert_eq!(Insats::from_code(insats.code()), Some(insats));
        }
        assert_eq!(Insats::ALL.len(), 24);
    }

    #[test]
    fn short_forms_are_those_of_spec_section_4() {
        assert_eq!(Insats::Lss9_10.short_form(), "9§10");
        assert_eq!(Insats::SolKontaktperson.short_form(), "SoL kontaktperson");
        assert_eq!(Insats::SolOvrigt.short_form(), "SoL övrigt bistånd");
        assert_eq!(Insats::from_code("lss_9_11"), None);
    }

    #[test]
    fn the_law_shown_is_the_one_in_force_on_the_decision_date() {
        let before = NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
        let after = NaiveDate::from_ymd_opt(2025, 7, 1).expect("date");
        assert_eq!(
            Law::SoL.reporting_paragraphs(before),
            "16 kap. 6 a–h §§ SoL (2001:453)"
        );
        assert_eq!(
            Law::SoL.reporting_paragraphs(after),
            "34 kap. 1–10 §§ SoL (2025:400)"
        );
        assert_eq!(Law::Lss.granting_paragraph(after), "9 § LSS");
    }

    #[test]
    fn codes_round_trip_through_serde() {
        for &r in DelayReason::ALL {
            let json = serde_json::to_string(&r).expect("serialises");
            assert_eq!(json, format!("\"{}\"", r.code()));
            assert_eq!(
                serde_json::from_str::<DelayReason>(&json).expect("parses"),
                r
            );
        }
        assert!(serde_json::from_str::<EndReason>("\"bored\"").is_err());
        assert_eq!(
            serde_json::to_string(&Law::Lss).expect("serialises"),
            "\"LSS\""
        );
    }
}
