//! The demo municipality's catalogue: for every insats, how often it is granted, to whom, how
//! hard it is to execute, what it costs, who carries it out — and the words people write about
//! it. Pure data; the numbers and their sources are tabled in the crate documentation.
//!
//! Nothing here is an identity number or a real person's name: actors are user ids such as
//! `handlaggare.anna`, places and providers are invented.

use domain::{Area, DelayReason, EndReason, Insats, Law};

/// What kind of work executing an insats is: it decides the delay reasons, offers and texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// A place to live: särskilt boende, bostad med särskild service (SoL, LSS 9§8, 9§9).
    Housing,
    /// A person or family to recruit and match: kontaktperson, kontaktfamilj.
    Contact,
    /// Korttidsvistelse and korttidstillsyn: a place at a unit or a stödfamilj.
    Respite,
    /// Daglig verksamhet, dagverksamhet, sysselsättning.
    Daily,
    /// Hours of help at home or outside: hemtjänst, boendestöd, assistans, ledsagning, avlösning.
    Hours,
    /// Familjehem and HVB.
    Placement,
    /// Öppenvård and övrigt bistånd.
    Other,
}

/// Everything the generator knows about one insats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    pub insats: Insats,
    /// Relative frequency among the decisions of its law (the weights of a law add up to 1000).
    pub weight: u32,
    pub group: Group,
    /// Age at the decision, in years: (weight, youngest, oldest) bands.
    pub ages: &'static [(u32, u32, u32)],
    /// Share of decisions not executed within three months (a reportable episode).
    pub wait: f64,
    /// Days from decision to execution when it goes as it should: (fewest, most).
    pub quick_days: (i64, i64),
    /// Share of decisions that are förhandsbesked.
    pub forhandsbesked: f64,
    /// Months a decision is valid for, when it is time-limited.
    pub validity_months: Option<i32>,
    /// Share of executed decisions interrupted later (avbrott).
    pub interrupt: f64,
    /// Share of executed decisions that end later within the period (death, need ceased, …).
    pub later_end: f64,
    /// Whether the granted hours can be executed in part (IVO's "2 of 5 hours").
    pub partial: bool,
    /// The granted scope: (unit, least, most).
    pub scope: Option<(&'static str, u32, u32)>,
    /// The municipality's cost, SEK per month: (least, most).
    pub cost: (u32, u32),
    /// The area of social services (elderly care becomes disability support under 65).
    pub area: Area,
    /// Who the order goes to.
    pub providers: &'static [&'static str],
    /// The utförare's user id: who records execution, summaries and interruptions.
    pub utforare: &'static [&'static str],
}

const ELDERLY: &[(u32, u32, u32)] = &[(80, 78, 98), (20, 65, 77)];
const HOME_CARE_AGES: &[(u32, u32, u32)] = &[(85, 67, 97), (15, 25, 64)];
const OLD: &[(u32, u32, u32)] = &[(100, 65, 95)];
const ADULT: &[(u32, u32, u32)] = &[(100, 19, 64)];
const CHILD: &[(u32, u32, u32)] = &[(100, 4, 17)];
const CHILD_OR_ADULT: &[(u32, u32, u32)] = &[(55, 7, 17), (45, 18, 64)];

const HEMTJANST_UTFORARE: &[&str] = &[
    "utforare.hemtjanst.norr",
    "utforare.hemtjanst.soder",
    "utforare.hemtjanst.centrum",
];

/// The catalogue: every insats of spec §4 with its profile.
pub(crate) const PROFILES: &[Profile] = &[
    // SoL, weights add up to 1000.
    Profile {
        insats: Insats::SolHemtjanst,
        weight: 300,
        group: Group::Hours,
        ages: HOME_CARE_AGES,
        wait: 0.03,
        quick_days: (1, 10),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.02,
        later_end: 0.40,
        partial: true,
        scope: Some(("timmar/vecka", 2, 20)),
        cost: (4_000, 45_000),
        area: Area::Aldreomsorg,
        providers: &[
            "Hemtjänst Norr",
            "Hemtjänst Söder",
            "Hemtjänst Centrum (extern utförare)",
        ],
        utforare: HEMTJANST_UTFORARE,
    },
    Profile {
        insats: Insats::SolSarskiltBoende,
        weight: 130,
        group: Group::Housing,
        ages: ELDERLY,
        wait: 0.30,
        quick_days: (10, 75),
        forhandsbesked: 0.10,
        validity_months: None,
        interrupt: 0.01,
        later_end: 0.50,
        partial: false,
        scope: None,
        cost: (60_000, 85_000),
        area: Area::Aldreomsorg,
        providers: &["Boendeförmedlingen"],
        utforare: &["utforare.boendeformedlingen"],
    },
    Profile {
        insats: Insats::SolBoendestod,
        weight: 100,
        group: Group::Hours,
        ages: ADULT,
        wait: 0.06,
        quick_days: (3, 28),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.04,
        later_end: 0.25,
        partial: true,
        scope: Some(("timmar/vecka", 2, 8)),
        cost: (4_000, 15_000),
        area: Area::Funktionsnedsattning,
        providers: &["Boendestödsteamet"],
        utforare: &["utforare.boendestod"],
    },
    Profile {
        insats: Insats::SolKontaktperson,
        weight: 90,
        group: Group::Contact,
        ages: CHILD_OR_ADULT,
        wait: 0.35,
        quick_days: (14, 80),
        forhandsbesked: 0.03,
        validity_months: Some(12),
        interrupt: 0.10,
        later_end: 0.30,
        partial: false,
        scope: Some(("träffar/månad", 2, 4)),
        cost: (2_000, 4_500),
        area: Area::Ifo,
        providers: &["Kontaktpersonsenheten"],
        utforare: &["utforare.rekrytering"],
    },
    Profile {
        insats: Insats::SolKontaktfamilj,
        weight: 50,
        group: Group::Contact,
        ages: &[(100, 2, 14)],
        wait: 0.35,
        quick_days: (14, 80),
        forhandsbesked: 0.03,
        validity_months: Some(12),
        interrupt: 0.08,
        later_end: 0.30,
        partial: false,
        scope: Some(("helger/månad", 1, 2)),
        cost: (5_000, 9_000),
        area: Area::Ifo,
        providers: &["Familjehemsenheten"],
        utforare: &["utforare.rekrytering"],
    },
    Profile {
        insats: Insats::SolKorttidsvistelse,
        weight: 70,
        group: Group::Respite,
        ages: &[(100, 66, 96)],
        wait: 0.06,
        quick_days: (1, 21),
        forhandsbesked: 0.03,
        validity_months: Some(6),
        interrupt: 0.02,
        later_end: 0.30,
        partial: false,
        scope: Some(("dygn/månad", 4, 14)),
        cost: (15_000, 40_000),
        area: Area::Aldreomsorg,
        providers: &["Korttidsenheten Solrosen"],
        utforare: &["utforare.korttidsenheten"],
    },
    Profile {
        insats: Insats::SolDagverksamhet,
        weight: 40,
        group: Group::Daily,
        ages: OLD,
        wait: 0.06,
        quick_days: (3, 30),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.02,
        later_end: 0.30,
        partial: false,
        scope: Some(("dagar/vecka", 1, 5)),
        cost: (5_000, 12_000),
        area: Area::Aldreomsorg,
        providers: &["Dagverksamheten Lärkan"],
        utforare: &["utforare.dagverksamhet"],
    },
    Profile {
        insats: Insats::SolBostadSarskildService,
        weight: 40,
        group: Group::Housing,
        ages: ADULT,
        wait: 0.35,
        quick_days: (20, 85),
        forhandsbesked: 0.15,
        validity_months: None,
        interrupt: 0.01,
        later_end: 0.05,
        partial: false,
        scope: None,
        cost: (55_000, 80_000),
        area: Area::Funktionsnedsattning,
        providers: &["Boendeteamet"],
        utforare: &["utforare.boendeteamet"],
    },
    Profile {
        insats: Insats::SolOppenvard,
        weight: 50,
        group: Group::Other,
        ages: &[(40, 13, 20), (60, 21, 65)],
        wait: 0.04,
        quick_days: (3, 30),
        forhandsbesked: 0.03,
        validity_months: Some(6),
        interrupt: 0.02,
        later_end: 0.30,
        partial: false,
        scope: Some(("samtal/månad", 2, 4)),
        cost: (8_000, 20_000),
        area: Area::Ifo,
        providers: &["Öppenvården"],
        utforare: &["utforare.oppenvarden"],
    },
    Profile {
        insats: Insats::SolFamiljehem,
        weight: 20,
        group: Group::Placement,
        ages: &[(100, 0, 17)],
        wait: 0.15,
        quick_days: (10, 75),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.02,
        later_end: 0.20,
        partial: false,
        scope: None,
        cost: (25_000, 45_000),
        area: Area::Ifo,
        providers: &["Familjehemsenheten"],
        utforare: &["utforare.ifo.placering"],
    },
    Profile {
        insats: Insats::SolHvb,
        weight: 20,
        group: Group::Placement,
        ages: &[(50, 13, 20), (50, 21, 60)],
        wait: 0.05,
        quick_days: (1, 30),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.02,
        later_end: 0.30,
        partial: false,
        scope: None,
        cost: (90_000, 160_000),
        area: Area::Ifo,
        providers: &["Placeringsenheten"],
        utforare: &["utforare.ifo.placering"],
    },
    Profile {
        insats: Insats::SolLedsagning,
        weight: 20,
        group: Group::Hours,
        ages: &[(60, 65, 92), (40, 25, 64)],
        wait: 0.08,
        quick_days: (7, 40),
        forhandsbesked: 0.03,
        validity_months: Some(12),
        interrupt: 0.03,
        later_end: 0.20,
        partial: false,
        scope: Some(("timmar/månad", 4, 16)),
        cost: (2_000, 7_000),
        area: Area::Aldreomsorg,
        providers: &["Ledsagar- och avlösarservice"],
        utforare: &["utforare.ledsagning.avlosning"],
    },
    Profile {
        insats: Insats::SolAvlosning,
        weight: 30,
        group: Group::Hours,
        ages: &[(100, 68, 95)],
        wait: 0.06,
        quick_days: (5, 30),
        forhandsbesked: 0.03,
        validity_months: Some(12),
        interrupt: 0.02,
        later_end: 0.30,
        partial: true,
        scope: Some(("timmar/månad", 4, 30)),
        cost: (2_000, 12_000),
        area: Area::Aldreomsorg,
        providers: &["Ledsagar- och avlösarservice"],
        utforare: &["utforare.ledsagning.avlosning"],
    },
    Profile {
        insats: Insats::SolSysselsattning,
        weight: 25,
        group: Group::Daily,
        ages: ADULT,
        wait: 0.10,
        quick_days: (7, 45),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.04,
        later_end: 0.20,
        partial: false,
        scope: Some(("dagar/vecka", 2, 5)),
        cost: (8_000, 15_000),
        area: Area::Funktionsnedsattning,
        providers: &["Centralen för sysselsättning"],
        utforare: &["utforare.centralen"],
    },
    Profile {
        insats: Insats::SolOvrigt,
        weight: 15,
        group: Group::Other,
        ages: &[(100, 18, 85)],
        wait: 0.03,
        quick_days: (1, 20),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.01,
        later_end: 0.20,
        partial: false,
        scope: None,
        cost: (2_000, 10_000),
        area: Area::Ifo,
        providers: &["Biståndsenheten"],
        utforare: &["utforare.bistandsenheten"],
    },
    // LSS, weights add up to 1000.
    Profile {
        insats: Insats::Lss9_4,
        weight: 200,
        group: Group::Contact,
        ages: &[(50, 8, 17), (50, 18, 64)],
        wait: 0.35,
        quick_days: (14, 80),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.10,
        later_end: 0.25,
        partial: false,
        scope: Some(("träffar/månad", 2, 4)),
        cost: (2_000, 4_500),
        area: Area::Funktionsnedsattning,
        providers: &["Kontaktpersonsenheten"],
        utforare: &["utforare.rekrytering"],
    },
    Profile {
        insats: Insats::Lss9_10,
        weight: 180,
        group: Group::Daily,
        ages: ADULT,
        wait: 0.15,
        quick_days: (7, 60),
        forhandsbesked: 0.10,
        validity_months: None,
        interrupt: 0.05,
        later_end: 0.10,
        partial: false,
        scope: Some(("dagar/vecka", 2, 5)),
        cost: (12_000, 20_000),
        area: Area::Funktionsnedsattning,
        providers: &["Centralen för sysselsättning"],
        utforare: &["utforare.centralen"],
    },
    Profile {
        insats: Insats::Lss9_9,
        weight: 150,
        group: Group::Housing,
        ages: ADULT,
        wait: 0.40,
        quick_days: (20, 85),
        forhandsbesked: 0.20,
        validity_months: None,
        interrupt: 0.01,
        later_end: 0.05,
        partial: false,
        scope: None,
        cost: (70_000, 110_000),
        area: Area::Funktionsnedsattning,
        providers: &["Boendeteamet"],
        utforare: &["utforare.boendeteamet"],
    },
    Profile {
        insats: Insats::Lss9_6,
        weight: 140,
        group: Group::Respite,
        ages: CHILD,
        wait: 0.18,
        quick_days: (7, 60),
        forhandsbesked: 0.03,
        validity_months: Some(12),
        interrupt: 0.06,
        later_end: 0.25,
        partial: false,
        scope: Some(("dygn/månad", 2, 10)),
        cost: (20_000, 50_000),
        area: Area::Funktionsnedsattning,
        providers: &["Korttidsenheten Solrosen", "Stödfamiljsenheten"],
        utforare: &["utforare.korttidsenheten"],
    },
    Profile {
        insats: Insats::Lss9_3,
        weight: 90,
        group: Group::Hours,
        ages: &[(100, 10, 64)],
        wait: 0.10,
        quick_days: (7, 45),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.03,
        later_end: 0.15,
        partial: false,
        scope: Some(("timmar/månad", 4, 20)),
        cost: (2_000, 8_000),
        area: Area::Funktionsnedsattning,
        providers: &["Ledsagar- och avlösarservice"],
        utforare: &["utforare.ledsagning.avlosning"],
    },
    Profile {
        insats: Insats::Lss9_5,
        weight: 60,
        group: Group::Hours,
        ages: &[(100, 3, 17)],
        wait: 0.10,
        quick_days: (7, 40),
        forhandsbesked: 0.03,
        validity_months: Some(12),
        interrupt: 0.03,
        later_end: 0.20,
        partial: true,
        scope: Some(("timmar/månad", 4, 24)),
        cost: (2_000, 10_000),
        area: Area::Funktionsnedsattning,
        providers: &["Ledsagar- och avlösarservice"],
        utforare: &["utforare.ledsagning.avlosning"],
    },
    Profile {
        insats: Insats::Lss9_7,
        weight: 60,
        group: Group::Respite,
        ages: &[(100, 12, 20)],
        wait: 0.10,
        quick_days: (7, 45),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.03,
        later_end: 0.20,
        partial: false,
        scope: None,
        cost: (8_000, 15_000),
        area: Area::Funktionsnedsattning,
        providers: &["Korttidstillsynen Fritidsgården"],
        utforare: &["utforare.korttidstillsyn"],
    },
    Profile {
        insats: Insats::Lss9_2,
        weight: 60,
        group: Group::Hours,
        ages: &[(100, 3, 64)],
        wait: 0.08,
        quick_days: (7, 45),
        forhandsbesked: 0.03,
        validity_months: None,
        interrupt: 0.04,
        later_end: 0.10,
        partial: true,
        scope: Some(("timmar/vecka", 20, 120)),
        cost: (30_000, 150_000),
        area: Area::Funktionsnedsattning,
        providers: &["Personlig assistans, egen regi"],
        utforare: &["utforare.personlig.assistans"],
    },
    Profile {
        insats: Insats::Lss9_8,
        weight: 60,
        group: Group::Housing,
        ages: &[(100, 8, 19)],
        wait: 0.30,
        quick_days: (20, 80),
        forhandsbesked: 0.05,
        validity_months: None,
        interrupt: 0.01,
        later_end: 0.10,
        partial: false,
        scope: None,
        cost: (90_000, 140_000),
        area: Area::Funktionsnedsattning,
        providers: &["Boendeteamet"],
        utforare: &["utforare.boendeteamet"],
    },
];

/// Share of decisions under SoL; the rest are LSS.
pub(crate) const SOL_SHARE: f64 = 0.60;
/// Share of persons with protected personal data (reserve number `YYYYMMDD-TFNN`).
pub(crate) const PROTECTED_SHARE: f64 = 0.02;

impl Profile {
    /// The profiles of one law with their weights.
    pub(crate) fn of_law(law: Law) -> impl Iterator<Item = &'static Profile> {
        PROFILES.iter().filter(move |p| p.insats.law() == law)
    }

    /// The area for a person of `age`: elderly care under 65 is disability support.
    pub(crate) fn area_for(&self, age: u32) -> Area {
        match self.area {
            Area::Aldreomsorg if age < 65 => Area::Funktionsnedsattning,
            area => area,
        }
    }

    /// Whether the person is elderly and frail (death is a common end).
    pub(crate) fn is_elderly_care(&self) -> bool {
        self.area == Area::Aldreomsorg
    }

    /// The delay reasons met in this group, weighted (IVO 2015: housing lacks places; contact
    /// persons are hard to recruit and match; elsewhere staff).
    pub(crate) fn delay_reasons(&self) -> &'static [(u32, DelayReason)] {
        use DelayReason::*;
        match self.group {
            Group::Housing => &[
                (70, NoPlaceAvailable),
                (15, IndividualWishes),
                (5, StaffShortage),
                (10, Other),
            ],
            Group::Contact => &[
                (75, RecruitingProvider),
                (15, IndividualWishes),
                (5, IndividualUnreachable),
                (5, Other),
            ],
            Group::Respite => &[
                (50, RecruitingProvider),
                (30, NoPlaceAvailable),
                (10, IndividualWishes),
                (10, Other),
            ],
            Group::Daily => &[
                (55, NoPlaceAvailable),
                (25, StaffShortage),
                (10, IndividualWishes),
                (10, Other),
            ],
            Group::Hours => &[
                (55, StaffShortage),
                (25, RecruitingProvider),
                (10, IndividualUnreachable),
                (10, Other),
            ],
            Group::Placement => &[
                (60, RecruitingProvider),
                (30, NoPlaceAvailable),
                (10, IndividualUnreachable),
            ],
            Group::Other => &[
                (50, StaffShortage),
                (25, IndividualUnreachable),
                (25, Other),
            ],
        }
    }

    /// Share of offers of the insats itself that the individual declines.
    pub(crate) fn decline_share(&self) -> f64 {
        match self.group {
            Group::Housing => 0.65,
            Group::Contact => 0.50,
            Group::Daily => 0.40,
            _ => 0.35,
        }
    }

    /// Whether the insats is executed through an offer the individual accepts (a place, a
    /// matched person) rather than simply starting.
    pub(crate) fn is_offered(&self) -> bool {
        matches!(
            self.group,
            Group::Housing | Group::Contact | Group::Daily | Group::Placement | Group::Respite
        )
    }
}

/// Case officers, by area.
pub(crate) fn handlaggare(area: Area) -> &'static [&'static str] {
    match area {
        Area::Aldreomsorg => &[
            "handlaggare.anna",
            "handlaggare.erik",
            "handlaggare.maria",
            "handlaggare.lars",
        ],
        Area::Funktionsnedsattning => &[
            "handlaggare.sara",
            "handlaggare.johan",
            "handlaggare.fatima",
            "handlaggare.karin",
        ],
        Area::Ifo => &["handlaggare.ali", "handlaggare.lena", "handlaggare.mikael"],
    }
}

/// The responsible unit, by area.
pub(crate) fn unit(area: Area, law: Law) -> &'static str {
    match (area, law) {
        (_, Law::Lss) => "LSS-enheten",
        (Area::Aldreomsorg, _) => "Biståndsenheten äldreomsorg",
        (Area::Funktionsnedsattning, _) => "Socialpsykiatri och funktionsstöd",
        (Area::Ifo, _) => "Individ- och familjeomsorgen",
    }
}

/// The IVO-rapportör's user id.
pub(crate) const IVO_RAPPORTOR: &str = "ivo.rapportor";
/// Who estimates costs.
pub(crate) const EKONOM: &str = "ekonom.socialtjanst";

/// Invented places, for offers.
const PLACES: &[&str] = &[
    "Björkhagen",
    "Solgården",
    "Ekbacken",
    "Tallmon",
    "Lindgården",
    "Norrgläntan",
    "Västra gården",
    "Kvarnbacken",
];

/// Text pools. Each function takes a `pick` in `0..u64::MAX` to choose a variant.
pub(crate) mod text {
    use super::{Group, PLACES, Profile};
    use domain::{DelayReason, EndReason, Insats};

    fn choose<'a>(pick: u64, options: &[&'a str]) -> &'a str {
        options[(pick % options.len() as u64) as usize]
    }

    /// The place named in an offer.
    pub(crate) fn place(pick: u64) -> &'static str {
        choose(pick, PLACES)
    }

    /// An offer of the insats itself.
    pub(crate) fn offer(profile: &Profile, pick: u64) -> String {
        let place = place(pick / 7);
        match (profile.group, profile.insats) {
            (Group::Housing, Insats::SolSarskiltBoende) => {
                format!("Erbjudande om plats på särskilt boende {place}.")
            }
            (Group::Housing, Insats::Lss9_8) => {
                format!("Erbjudande om plats i boende för barn och ungdomar, {place}.")
            }
            (Group::Housing, _) => format!("Erbjudande om lägenhet i gruppbostad, {place}."),
            (Group::Contact, Insats::SolKontaktfamilj) => {
                "Erbjudande om kontaktfamilj efter matchning.".to_owned()
            }
            (Group::Contact, _) => "Erbjudande om kontaktperson efter matchning.".to_owned(),
            (Group::Respite, _) => format!("Erbjudande om korttidsvistelse, {place}."),
            (Group::Daily, _) => format!("Erbjudande om plats i verksamheten {place}."),
            (Group::Placement, _) => "Erbjudande om placering i utrett familjehem.".to_owned(),
            _ => format!("Erbjudande om start av {}.", profile.insats.name()),
        }
    }

    /// A compensating offer while waiting (IVO's FAQ: "insatser som kommunen erbjuder under
    /// väntetiden"; seed 004: kontaktfamilj while waiting for a kontaktperson; seed 001:
    /// korttidsenhet while waiting for a stödfamilj).
    pub(crate) fn compensating_offer(profile: &Profile) -> &'static str {
        match (profile.group, profile.insats) {
            (Group::Housing, Insats::SolSarskiltBoende) => {
                "Korttidsplats i avvaktan på plats på särskilt boende."
            }
            (Group::Housing, _) => "Utökat boendestöd och avlösning i avvaktan på bostad.",
            (Group::Contact, Insats::SolKontaktfamilj) => {
                "Kontaktperson i avvaktan på kontaktfamilj."
            }
            (Group::Contact, _) => "Kontaktfamilj i avvaktan på kontaktperson.",
            (Group::Respite, _) => "Korttidsvistelse på korttidsenhet i avvaktan på stödfamilj.",
            (Group::Daily, _) => "Tillfällig praktikplats i avvaktan på plats i verksamheten.",
            (Group::Hours, Insats::SolHemtjanst) => {
                "Trygghetslarm och matdistribution i avvaktan på full hemtjänst."
            }
            _ => "Annan insats i avvaktan på verkställighet.",
        }
    }

    /// Why an offer was declined (IVO 2015: location, standard, near relatives, wishes about
    /// the contact person's age, sex and interests; seed 004: wants to wait for the right one).
    pub(crate) fn decline(group: Group, pick: u64) -> &'static str {
        match group {
            Group::Housing => choose(
                pick,
                &[
                    "Vill bo kvar i tätorten; boendet ligger för långt från anhöriga.",
                    "Önskar ett boende med annan standard.",
                    "Vill vänta på plats på det boende hen har önskat.",
                    "Anhöriga ska kunna besöka; erbjudandet ligger utanför tätorten.",
                ],
            ),
            Group::Contact => choose(
                pick,
                &[
                    "Vill vänta på en lämplig kontaktperson.",
                    "Önskemål om kontaktpersonens ålder och intressen uppfylls inte.",
                    "Önskar en kontaktperson av annat kön.",
                ],
            ),
            Group::Respite => choose(
                pick,
                &[
                    "Vårdnadshavaren tackar nej till korttidsenhet och vill vänta på stödfamilj.",
                    "Passar inte med familjens veckoschema.",
                ],
            ),
            Group::Daily => choose(
                pick,
                &[
                    "Verksamhetens inriktning motsvarar inte den enskildes intressen.",
                    "Resvägen till verksamheten är för lång.",
                ],
            ),
            _ => choose(
                pick,
                &[
                    "Tackar nej för tillfället.",
                    "Passar inte den enskildes dagsrytm.",
                ],
            ),
        }
    }

    /// The optional text of a delay reason.
    pub(crate) fn delay(reason: DelayReason, profile: &Profile) -> String {
        let name = profile.insats.name();
        match reason {
            DelayReason::NoPlaceAvailable => {
                format!("Ingen ledig plats ({name}); den enskilde står i kö.")
            }
            DelayReason::RecruitingProvider => format!(
                "Svårt att rekrytera en uppdragstagare som matchar behoven ({name}); \
                 annonsering och information i nätverk pågår."
            ),
            DelayReason::DeclinedOffer => {
                "Den enskilde har tackat nej till erbjudande; nytt erbjudande söks.".to_owned()
            }
            DelayReason::IndividualWishes => {
                "Den enskilde vill vänta på ett alternativ som motsvarar hens önskemål.".to_owned()
            }
            DelayReason::IndividualUnreachable => {
                "Den enskilde har inte gått att nå trots flera försök.".to_owned()
            }
            DelayReason::StaffShortage => {
                format!("Personalbrist hos utföraren ({name}); rekrytering pågår.")
            }
            DelayReason::Other => "Utredning om anpassning av insatsen pågår.".to_owned(),
        }
    }

    /// Who the case officer talks to.
    pub(crate) fn counterpart(child: bool, pick: u64) -> &'static str {
        if child {
            "vårdnadshavare"
        } else {
            choose(
                pick,
                &["den enskilde", "den enskilde", "god man", "anhörig"],
            )
        }
    }

    /// The contact note at about two months (seed 001: within two weeks after two months), and
    /// each quarter after.
    pub(crate) fn contact(
        first: bool,
        after_interruption: bool,
        counterpart: &str,
        profile: &Profile,
    ) -> String {
        let name = profile.insats.name();
        let since = if after_interruption {
            "avbrottet"
        } else {
            "beslut"
        };
        if first {
            format!(
                "Uppföljande kontakt med {counterpart} två månader efter {since}: {name} är ännu \
                 inte verkställd. Informerat om läget och hört hur situationen är."
            )
        } else {
            format!(
                "Fortsatt kontakt med {counterpart}: behovet av {name} kvarstår, väntan \
                 fortsätter. Informerat om vad som görs för att verkställa."
            )
        }
    }

    /// The utförare's summary of the last three months before the reference date (seed 001).
    pub(crate) fn summary(profile: &Profile, pick: u64) -> String {
        let short = profile.insats.short_form();
        let work = match profile.group {
            Group::Housing => choose(
                pick,
                &[
                    "ingen ledig plats under perioden; den enskilde står först i kön",
                    "ett erbjudande lämnat, boendeplanering med samordnaren pågår",
                ],
            ),
            Group::Contact => choose(
                pick,
                &[
                    "annonsering och två intervjuer utan att matchning kunnat ske",
                    "rekrytering via nätverk och föreningar, en möjlig uppdragstagare utreds",
                ],
            ),
            Group::Daily => "platser ses över tillsammans med verksamheterna",
            _ => "utföraren har sökt personal och planerat för start",
        };
        format!("Sammanfattning av de tre senaste månaderna, {short}: {work}.")
    }

    /// How the municipality plans to execute (IVO 2015: mapping needs, housing plans,
    /// recruitment).
    pub(crate) fn planning(profile: &Profile, pick: u64) -> &'static str {
        match profile.group {
            Group::Housing if profile.insats == Insats::SolSarskiltBoende => choose(
                pick,
                &[
                    "Boendeplanering: nytt särskilt boende öppnar; den enskilde står i kö dit.",
                    "Samordnaren för boende och korttids 'pusslar' för att frigöra en plats.",
                ],
            ),
            Group::Housing => choose(
                pick,
                &[
                    "Boendeplanering: ny gruppbostad planeras; den enskilde är anmäld dit.",
                    "Samordnaren för boende och korttids 'pusslar' för att frigöra en plats.",
                ],
            ),
            Group::Contact | Group::Respite | Group::Placement => choose(
                pick,
                &[
                    "Aktiv rekrytering: annonser, affischer på mindre orter, information på \
                     socionomutbildningen.",
                    "Avstämning med utföraren och den enskilde om förväntningar inför matchning.",
                ],
            ),
            Group::Daily => "Kartläggning av behov av daglig verksamhet bland gymnasieelever.",
            _ => "Utföraren planerar start när personal finns; uppföljning varje månad.",
        }
    }

    /// What the delay means for the individual.
    pub(crate) fn impact(profile: &Profile, age: u32) -> &'static str {
        match profile.group {
            Group::Housing if age < 65 => {
                "Den enskilde bor kvar i föräldrahemmet, vilket fördröjer möjligheten att bli mer \
                 självständig."
            }
            Group::Housing => {
                "Ökad oro och fallrisk i hemmet; anhöriga avlastar i större omfattning."
            }
            Group::Contact | Group::Respite if age < 18 => {
                "Barnet saknar extra stimulans; ökad ansträngning för hela familjen."
            }
            Group::Contact => "Den enskilde är isolerad och saknar stöd till fritidsaktiviteter.",
            Group::Daily => "Den enskilde saknar meningsfull sysselsättning på dagtid.",
            _ => "Den enskilde klarar vardagen sämre; anhöriga hjälper till i väntan på insatsen.",
        }
    }

    /// Why an executed insats was interrupted.
    pub(crate) fn interruption(profile: &Profile) -> &'static str {
        match profile.group {
            Group::Contact => "Uppdragstagaren har avslutat sitt uppdrag.",
            Group::Respite => "Stödfamiljen har avslutat uppdraget.",
            Group::Daily => "Gruppen har stängts; ny plats söks.",
            Group::Housing => "Boendet stängt för ombyggnad; den enskilde har flyttat hem.",
            _ => "Utföraren har avslutat insatsen; ny utförare söks.",
        }
    }

    /// The optional text of an ending.
    pub(crate) fn end(reason: EndReason) -> &'static str {
        match reason {
            EndReason::Withdrawn => "Den enskilde har återtagit sin ansökan.",
            EndReason::NeedCeased => "Behovet har upphört enligt uppföljning.",
            EndReason::Expired => "Beslutet har löpt ut utan att ha verkställts.",
            EndReason::Moved => "Den enskilde har flyttat från kommunen.",
            EndReason::Deceased => "Den enskilde har avlidit.",
            EndReason::Other => "Avslutat av annat skäl.",
        }
    }
}

/// The reasons a decision ends, weighted, for the elderly and for everyone else.
pub(crate) fn end_reasons(elderly: bool, child: bool) -> &'static [(u32, EndReason)] {
    use EndReason::*;
    if elderly {
        &[
            (50, Deceased),
            (20, NeedCeased),
            (15, Moved),
            (15, Withdrawn),
        ]
    } else if child {
        &[(55, NeedCeased), (25, Moved), (20, Withdrawn)]
    } else {
        &[
            (45, NeedCeased),
            (25, Withdrawn),
            (20, Moved),
            (5, Deceased),
            (5, Other),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_insats_has_one_profile_and_each_law_weighs_a_thousand() {
        for &insats in Insats::ALL {
            let count = PROFILES.iter().filter(|p| p.insats == insats).count();
            assert_eq!(count, 1, "{insats:?}");
        }
        for law in [Law::SoL, Law::Lss] {
            let total: u32 = Profile::of_law(law).map(|p| p.weight).sum();
            assert_eq!(total, 1000, "{law}");
        }
    }

    #[test]
    fn ranges_are_ordered_and_lss_is_granted_before_65() {
        for p in PROFILES {
            assert!(
                p.quick_days.0 >= 1 && p.quick_days.0 <= p.quick_days.1,
                "{p:?}"
            );
            assert!(p.cost.0 > 0 && p.cost.0 <= p.cost.1, "{p:?}");
            assert!((0.0..1.0).contains(&p.wait), "{p:?}");
            for &(w, lo, hi) in p.ages {
                assert!(w > 0 && lo <= hi, "{p:?}");
                if p.insats.law() == Law::Lss {
                    assert!(hi < 65, "{p:?}");
                }
            }
            if let Some((_, lo, hi)) = p.scope {
                assert!(lo >= 1 && lo <= hi, "{p:?}");
            }
            if p.partial {
                assert!(p.scope.is_some(), "partial execution needs a scope: {p:?}");
            }
        }
    }
}
