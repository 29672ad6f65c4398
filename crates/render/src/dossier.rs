//! The dossier for people: one decision's record as an IVO inspector reads and prints it, in
//! Swedish — the decision, the individual, status and episodes with what the delay could cost,
//! then the sections in the order IVO asks for them (the reasons for the delay, what it means
//! for the individual, how the municipality worked, insatser while waiting, planning, costs),
//! the reports to IVO, retractions, the whole timeline and the checksums that prove it whole.
//!
//! The person's identity number is shown as the dossier gives it and nowhere else; a protected
//! person's comes masked and is shown as "Skyddade personuppgifter". Its CSV is the timeline.

use projections::dossier::{Dossier, Entry, EpisodeSummary, TimelineEntry};

use crate::csv::Csv;
use crate::doc::{Align, Builder, Doc, Inline, Table, plain, text};
use crate::swedish::{self, NONE, NOTHING_RECORDED};

/// How many hex characters of a hash the timeline shows; the appendix has them all.
const HASH_SHOWN_CHARS: usize = 12;

/// The CSV header: the timeline's JSON field names, with the local recording time beside UTC.
const HEADER: [&str; 11] = [
    "position",
    "version",
    "event_id",
    "type",
    "occurred_on",
    "recorded_at",
    "recorded_at_local",
    "actor",
    "summary",
    "retracted_by",
    "hash",
];

/// The timeline, one record per event, in the dossier's order.
pub(crate) fn csv(report: &Dossier) -> String {
    let mut out = Csv::new(&HEADER);
    for e in &report.timeline {
        out.record(vec![
            e.position.to_string(),
            e.version.to_string(),
            e.event_id.to_string(),
            e.event_type.clone(),
            e.occurred_on.to_string(),
            domain::event::format_instant(&e.recorded_at),
            swedish::local_time(e.recorded_at),
            e.actor.clone().unwrap_or_default(),
            e.summary.clone(),
            e.retracted_by.map(|r| r.to_string()).unwrap_or_default(),
            e.hash.clone(),
        ]);
    }
    out.finish()
}

/// The dossier as a Swedish document.
pub(crate) fn document(report: &Dossier) -> Doc {
    let title = format!(
        "Underlag för yttrande till IVO – beslut {}",
        report.decision_id
    );
    let mut doc = Builder::default();
    doc.heading(1, title.clone());
    doc.paragraph(format!(
        "{} Dagar i väntan räknas till {}.",
        swedish::as_of_line(report.as_of),
        report.on
    ));

    decision(&mut doc, report);
    person(&mut doc, report);
    episodes(&mut doc, report);

    doc.heading(2, "Skälen till dröjsmålet");
    entries(&mut doc, &report.delay_reasons, report, false);
    doc.heading(2, "Vad dröjsmålet innebär för den enskilde");
    entries(&mut doc, &report.impact, report, false);
    doc.heading(2, "Hur kommunen arbetat med att verkställa beslutet");
    entries(&mut doc, &report.work, report, true);
    doc.heading(2, "Insatser under väntetiden");
    entries(&mut doc, &report.compensating, report, false);
    doc.heading(2, "Planering");
    entries(&mut doc, &report.planning, report, false);
    doc.heading(2, "Kostnader");
    entries(&mut doc, &report.costs, report, false);

    reports(&mut doc, report);
    retractions(&mut doc, report);
    timeline(&mut doc, report);
    checksums(&mut doc, report);
    doc.finish(title)
}

fn decision(doc: &mut Builder, report: &Dossier) {
    let d = &report.decision;
    doc.heading(2, "Beslutet");
    let mut table = Table::new(&[("Uppgift", Align::Left), ("Värde", Align::Left)]);
    let mut row = |label: &str, value: String| table.row(vec![plain(label), plain(value)]);
    row("Beslut-id", report.decision_id.to_string());
    row("Beslutsdatum", d.decided_on.to_string());
    row("Lag", d.law.clone());
    row("Insats", format!("{} ({})", d.insats_name, d.insats_short));
    row("Beviljat enligt", d.granting_paragraph.clone());
    row(
        "Rapporteringsskyldighet enligt",
        d.reporting_paragraphs.clone(),
    );
    row(
        "Förhandsbesked",
        swedish::yes_no(d.forhandsbesked).to_owned(),
    );
    row(
        "Omfattning",
        d.scope.as_ref().map_or_else(
            || NONE.to_owned(),
            |s| format!("{} {}", swedish::quantity(s.amount), s.unit),
        ),
    );
    row(
        "Ansvarig enhet",
        d.unit.clone().unwrap_or_else(|| NONE.to_owned()),
    );
    row(
        "Ersätter beslut",
        match d.replaces {
            None => NONE.to_owned(),
            Some(previous) if d.previous_not_executed => {
                format!("{previous} – ersätter ett beslut som inte verkställts")
            }
            Some(previous) => previous.to_string(),
        },
    );
    doc.table(table);
}

fn person(doc: &mut Builder, report: &Dossier) {
    let p = &report.decision.person;
    doc.heading(2, "Den enskilde");
    let mut table = Table::new(&[("Uppgift", Align::Left), ("Värde", Align::Left)]);
    let identity = match (&p.id, p.protected) {
        (_, true) => "Skyddade personuppgifter".to_owned(),
        (Some(id), false) => id.clone(),
        (None, false) => NONE.to_owned(),
    };
    table.row(vec![plain("Identitet"), plain(identity)]);
    table.row(vec![plain("Kön"), plain(swedish::sex_code(&p.sex))]);
    table.row(vec![plain("Födelseår"), plain(p.birth_year.to_string())]);
    doc.table(table);
}

fn episodes(doc: &mut Builder, report: &Dossier) {
    doc.heading(2, "Status och väntetider");
    doc.paragraph_runs(vec![
        text(format!("Status {}: ", report.on)),
        Inline::Strong(swedish::status_code(&report.status).to_owned()),
        text("."),
    ]);
    if report.episodes.is_empty() {
        doc.paragraph(NOTHING_RECORDED);
    }
    for e in &report.episodes {
        doc.heading(
            3,
            format!(
                "Episod {} – {} {}",
                e.number,
                swedish::episode_kind(e.kind),
                e.start_date
            ),
        );
        doc.list(episode_lines(e));
    }
}

fn episode_lines(e: &EpisodeSummary) -> Vec<Vec<Inline>> {
    let x = &e.exposure;
    let mut lines = vec![
        plain(format!("Referensdatum (tre månader): {}", e.reference_date)),
        plain(format!(
            "Rapporteringsskyldig till IVO: {}",
            swedish::yes_no(e.reportable).to_lowercase()
        )),
    ];
    if let Some(on) = e.partially_executed_on {
        lines.push(plain(format!("Delvis verkställt: {on}")));
    }
    lines.push(plain(match (e.closed_on, e.outcome) {
        (Some(on), Some(outcome)) => {
            format!("Väntan avslutad: {on} ({})", swedish::outcome(outcome))
        }
        (Some(on), None) => format!("Väntan avslutad: {on}"),
        (None, _) => "Väntan pågår".to_owned(),
    }));
    lines.push(plain(format!("Dagar i väntan: {}", e.days_waiting)));
    lines.push(plain(match x.sek_per_month {
        Some(cost) => format!(
            "Kommunens kostnad för insatsen: {} per månad",
            swedish::sek(cost)
        ),
        None => "Kommunens kostnad för insatsen: ingen registrerad".to_owned(),
    }));
    let bounds = format!("{} – {}", swedish::sek(x.min_sek), swedish::sek(x.max_sek));
    lines.push(match x.estimate_sek {
        Some(estimate) => vec![
            text("Uppskattad särskild avgift: högst "),
            Inline::Strong(swedish::sek(estimate)),
            text(format!(
                " (kostnad per dag × {} dagar i väntan + 25 %, inom ramen {bounds})",
                x.days_waiting
            )),
        ],
        None => plain(format!(
            "Uppskattad särskild avgift: kan inte beräknas utan registrerad kostnad (ramen är {bounds})"
        )),
    });
    lines.push(plain(format!(
        "Ansökan måste delges kommunen senast {}.",
        x.service_deadline
    )));
    lines
}

/// A section's entries as a dated list, or [`NOTHING_RECORDED`]. With `label_notes`, a note's
/// kind (Kontakt, Sammanfattning, Övrigt) leads its text, since the section mixes them.
fn entries(doc: &mut Builder, entries: &[Entry], report: &Dossier, label_notes: bool) {
    if entries.is_empty() {
        doc.paragraph(NOTHING_RECORDED);
        return;
    }
    let items = entries
        .iter()
        .map(|e| {
            let label = domain::NoteKind::ALL
                .iter()
                .find(|k| label_notes && k.code() == e.kind)
                .map(|k| format!("{}: ", k.swedish()))
                .unwrap_or_default();
            let mut line = plain(format!(
                "{} – {label}{} (position {})",
                e.occurred_on, e.text, e.position
            ));
            if let Some(note) = retracted_note(report, e.position) {
                line.push(text(note));
            }
            line
        })
        .collect();
    doc.list(items);
}

/// For a retraction at `position`: which events it withdrew, as a sentence.
fn retracted_note(report: &Dossier, position: u64) -> Option<String> {
    let retraction = report.timeline.iter().find(|t| t.position == position)?;
    let withdrawn: Vec<String> = report
        .timeline
        .iter()
        .filter(|t| t.retracted_by == Some(retraction.event_id))
        .map(|t| format!("{}, {} (position {})", t.occurred_on, t.summary, t.position))
        .collect();
    (!withdrawn.is_empty()).then(|| format!(". Gällde: {}", withdrawn.join("; ")))
}

fn reports(doc: &mut Builder, report: &Dossier) {
    doc.heading(2, "Rapporter till IVO");
    doc.heading(3, "Gjorda rapporter");
    entries(doc, &report.reports_made, report, false);
    doc.heading(3, "Rapporter som har varit aktuella");
    if report.reports_owed.is_empty() {
        doc.paragraph(NOTHING_RECORDED);
        return;
    }
    let mut table = Table::new(&[
        ("Kvartal", Align::Left),
        ("Typ av rapport", Align::Left),
        ("Referensdatum", Align::Left),
        ("Senast", Align::Left),
        ("Rapporterad", Align::Left),
    ]);
    for owed in &report.reports_owed {
        table.row(vec![
            plain(owed.quarter.to_string()),
            plain(swedish::item_kind(owed.kind)),
            plain(owed.reference_date.to_string()),
            plain(owed.due.to_string()),
            if owed.reported {
                plain("Ja")
            } else {
                vec![Inline::Strong("Nej".to_owned())]
            },
        ]);
    }
    doc.table(table);
}

fn retractions(doc: &mut Builder, report: &Dossier) {
    doc.heading(2, "Återkallade registreringar");
    entries(doc, &report.retractions, report, false);
}

fn timeline(doc: &mut Builder, report: &Dossier) {
    doc.heading(2, "Tidslinje");
    if report.timeline.is_empty() {
        doc.paragraph(NOTHING_RECORDED);
        return;
    }
    let mut table = Table::new(&[
        ("Händelsedatum", Align::Left),
        ("Registrerad", Align::Left),
        ("Registrerad av", Align::Left),
        ("Händelse", Align::Left),
        ("Position", Align::Right),
        ("Kontrollsumma", Align::Left),
    ]);
    for e in &report.timeline {
        table.row(vec![
            plain(e.occurred_on.to_string()),
            plain(swedish::local_time(e.recorded_at)),
            plain(e.actor.clone().unwrap_or_else(|| NONE.to_owned())),
            event_cell(report, e),
            plain(e.position.to_string()),
            vec![Inline::Code(short_hash(&e.hash).to_owned())],
        ]);
    }
    doc.table(table);
    doc.paragraph(format!(
        "Registrerad = när verkstall fick uppgiften, svensk tid. Kontrollsumman visas med de \
         första {HASH_SHOWN_CHARS} tecknen; hela står under Kontrollsummor."
    ));
}

/// The event's text; a retracted one is struck through and says by what.
fn event_cell(report: &Dossier, e: &TimelineEntry) -> Vec<Inline> {
    let Some(by) = e.retracted_by else {
        return plain(e.summary.clone());
    };
    let mut cell = vec![
        Inline::Struck(e.summary.clone()),
        text(" "),
        Inline::Strong("återkallad".to_owned()),
    ];
    if let Some(r) = report.timeline.iter().find(|t| t.event_id == by) {
        cell.push(text(format!(" (position {})", r.position)));
    }
    cell
}

fn short_hash(hash: &str) -> &str {
    hash.char_indices()
        .nth(HASH_SHOWN_CHARS)
        .map_or(hash, |(end, _)| &hash[..end])
}

fn checksums(doc: &mut Builder, report: &Dossier) {
    doc.heading(2, "Kontrollsummor");
    doc.paragraph(format!(
        "Beslutet har {} registrerade händelser. Varje händelses kontrollsumma binder den till \
         föregående händelse i verkstalls logg, så att en ändrad, borttagen eller inskjuten \
         händelse upptäcks.",
        report.chain.events
    ));
    if !report.timeline.is_empty() {
        let mut table = Table::new(&[("Position", Align::Right), ("Kontrollsumma", Align::Left)]);
        let mut entries: Vec<&TimelineEntry> = report.timeline.iter().collect();
        entries.sort_by_key(|e| e.position);
        for e in entries {
            table.row(vec![
                plain(e.position.to_string()),
                vec![Inline::Code(e.hash.clone())],
            ]);
        }
        doc.table(table);
    }
    doc.paragraph_runs(vec![
        text(format!(
            "Logghuvud: position {}, hash {}. Kontrollera med ",
            report.chain.log_position,
            report.chain.log_hash.as_deref().unwrap_or("saknas")
        )),
        Inline::Code("verkstall verify".to_owned()),
        text("."),
    ]);
}

#[cfg(test)]
mod tests {
    use domain::event::Scope;
    use projections::dossier::{
        ChainSummary, DecisionSummary, Dossier, Entry, EpisodeSummary, OwedReport, PersonSummary,
        TimelineEntry,
    };
    use projections::exposure::Exposure;
    use projections::worklist::ItemKind;
    use projections::{EpisodeKind, Outcome};

    use crate::Format;
    use crate::testing::{assert_deterministic, assert_json_contract, date, event_id, id, instant};

    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const HEAD: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    fn entry(position: u64, kind: &str, text: &str) -> Entry {
        Entry {
            occurred_on: date(2023, 3, 1),
            kind: kind.to_owned(),
            text: text.to_owned(),
            position,
        }
    }

    fn event(position: u64, event_type: &str, summary: &str) -> TimelineEntry {
        TimelineEntry {
            position,
            version: position,
            event_id: event_id(position as u8),
            event_type: event_type.to_owned(),
            occurred_on: date(2023, 3, 1),
            recorded_at: instant("2023-03-01T09:15:00Z"),
            actor: Some("handlaggare-7".to_owned()),
            summary: summary.to_owned(),
            retracted_by: None,
            hash: format!("{:0>64x}", position),
        }
    }

    fn sample() -> Dossier {
        let mut timeline = vec![
            event(
                1,
                "DecisionGranted",
                "Beslut om kontaktperson (SoL kontaktperson, SoL)",
            ),
            event(
                2,
                "DelayReasonRecorded",
                "Skäl till dröjsmål: Personalbrist",
            ),
            event(
                3,
                "NoteRecorded",
                "Anteckning (kontakt): Ringde <script>alert(1)</script> & \"mamma\"",
            ),
            event(4, "EventRetracted", "Händelse … återkallad: fel ärende"),
        ];
        timeline[0].occurred_on = date(2022, 12, 8);
        timeline[0].actor = None;
        timeline[1].retracted_by = Some(event_id(4));
        timeline[2].hash = HASH.to_owned();
        Dossier {
            decision_id: id(9),
            as_of: instant("2023-09-30T21:59:59.999999Z"),
            on: date(2023, 9, 30),
            decision: DecisionSummary {
                decided_on: date(2022, 12, 8),
                law: "SoL".to_owned(),
                insats: "sol_kontaktperson".to_owned(),
                insats_name: "kontaktperson".to_owned(),
                insats_short: "SoL kontaktperson".to_owned(),
                granting_paragraph: "4 kap. 1 § SoL (2001:453)".to_owned(),
                reporting_paragraphs: "16 kap. 6 a–h §§ SoL (2001:453)".to_owned(),
                forhandsbesked: false,
                scope: Some(Scope {
                    amount: 10.0,
                    unit: "timmar/månad".to_owned(),
                }),
                unit: Some("Enheten för barn & unga".to_owned()),
                replaces: Some(id(8)),
                previous_not_executed: true,
                person: PersonSummary {
                    id: Some("20150315-1234".to_owned()),
                    protected: false,
                    sex: "male".to_owned(),
                    birth_year: 2015,
                },
            },
            status: "not_executed".to_owned(),
            episodes: vec![EpisodeSummary {
                number: 1,
                kind: EpisodeKind::Decision,
                start_date: date(2022, 12, 8),
                reference_date: date(2023, 3, 8),
                reportable: true,
                partially_executed_on: None,
                closed_on: None,
                outcome: None,
                days_waiting: 296,
                exposure: Exposure {
                    sek_per_month: Some(12_000.0),
                    days_waiting: 296,
                    estimate_sek: Some(145_972.6),
                    min_sek: 10_000.0,
                    max_sek: 1_000_000.0,
                    service_deadline: date(2024, 12, 8),
                },
            }],
            timeline,
            delay_reasons: Vec::new(),
            impact: vec![entry(
                5,
                "impact",
                "Pojken saknar stöd <b>utanför</b> skolan",
            )],
            work: vec![
                entry(3, "contact", "Ringde <script>alert(1)</script> & \"mamma\""),
                entry(6, "OrderSent", "Beställning skickad till Utförare AB"),
            ],
            compensating: Vec::new(),
            planning: Vec::new(),
            costs: vec![entry(
                7,
                "CostEstimated",
                "Kostnad för insatsen: 12000 kr per månad",
            )],
            reports_made: Vec::new(),
            reports_owed: vec![OwedReport {
                quarter: "2023Q1".parse().expect("quarter"),
                kind: ItemKind::New,
                reference_date: date(2023, 3, 8),
                due: date(2023, 4, 30),
                reported: false,
            }],
            retractions: vec![entry(4, "EventRetracted", "eeee: fel ärende")],
            chain: ChainSummary {
                events: 4,
                log_position: 120,
                log_hash: Some(HEAD.to_owned()),
            },
        }
    }

    const HEADINGS: [&str; 15] = [
        "# Underlag för yttrande till IVO – beslut 00000000-0000-4000-8000-000000000009",
        "## Beslutet",
        "## Den enskilde",
        "## Status och väntetider",
        "## Skälen till dröjsmålet",
        "## Vad dröjsmålet innebär för den enskilde",
        "## Hur kommunen arbetat med att verkställa beslutet",
        "## Insatser under väntetiden",
        "## Planering",
        "## Kostnader",
        "## Rapporter till IVO",
        "## Återkallade registreringar",
        "## Tidslinje",
        "## Kontrollsummor",
        "Logghuvud: position 120, hash fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210. Kontrollera med `verkstall verify`.",
    ];

    #[test]
    fn json_is_the_serde_output() {
        assert_json_contract(&sample(), crate::dossier(&sample(), Format::Json));
    }

    #[test]
    fn markdown_has_every_section_in_ivos_order() {
        let md = crate::dossier(&sample(), Format::Md);
        let lines: Vec<&str> = md.lines().collect();
        let mut last = 0;
        for heading in HEADINGS {
            let at = lines
                .iter()
                .position(|l| *l == heading)
                .unwrap_or_else(|| panic!("{heading} missing in\n{md}"));
            assert!(at >= last, "{heading} out of order");
            last = at;
        }
        assert_eq!(lines.last(), HEADINGS.last());
    }

    #[test]
    fn markdown_shows_the_decision_person_and_exposure() {
        let md = crate::dossier(&sample(), Format::Md);
        assert!(md.contains("| Beviljat enligt | 4 kap. 1 § SoL (2001:453) |"));
        assert!(
            md.contains("| Rapporteringsskyldighet enligt | 16 kap. 6 a–h §§ SoL (2001:453) |")
        );
        assert!(md.contains("| Omfattning | 10 timmar/månad |"));
        assert!(md.contains("– ersätter ett beslut som inte verkställts |"));
        assert!(md.contains("| Identitet | 20150315-1234 |"));
        assert!(md.contains("| Kön | Man |\n| Födelseår | 2015 |"));
        assert!(md.contains("Status 2023-09-30: **ej verkställt**."));
        assert!(md.contains("### Episod 1 – väntan från beslutet 2022-12-08"));
        assert!(md.contains("- Kommunens kostnad för insatsen: 12 000 kr per månad"));
        assert!(md.contains(
            "- Uppskattad särskild avgift: högst **145 973 kr** (kostnad per dag × 296 dagar i väntan + 25 %, inom ramen 10 000 kr – 1 000 000 kr)"
        ));
        assert!(md.contains("- Ansökan måste delges kommunen senast 2024-12-08."));
        assert!(md.contains("| 2023Q1 | Nyrapportering | 2023-03-08 | 2023-04-30 | **Nej** |"));
    }

    #[test]
    fn empty_sections_say_nothing_is_recorded() {
        let md = crate::dossier(&sample(), Format::Md);
        let after = |heading: &str| {
            let at = md.find(heading).expect("heading") + heading.len();
            md[at..]
                .trim_start()
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        };
        assert_eq!(after("## Skälen till dröjsmålet"), "Inget registrerat.");
        assert_eq!(after("## Insatser under väntetiden"), "Inget registrerat.");
        assert_eq!(after("## Planering"), "Inget registrerat.");
        assert_eq!(after("### Gjorda rapporter"), "Inget registrerat.");
        assert_eq!(
            after("## Hur kommunen arbetat med att verkställa beslutet"),
            "- 2023-03-01 – Kontakt: Ringde \\<script\\>alert(1)\\</script\\> & \"mamma\" (position 3)"
        );
    }

    #[test]
    fn a_protected_person_shows_no_identity() {
        let mut report = sample();
        report.decision.person.id = None;
        report.decision.person.protected = true;
        for format in [Format::Md, Format::Html, Format::Csv] {
            let text = crate::dossier(&report, format);
            assert!(!text.contains("20150315"), "{format}");
        }
        assert!(
            crate::dossier(&report, Format::Md)
                .contains("| Identitet | Skyddade personuppgifter |")
        );
    }

    #[test]
    fn a_retracted_event_is_marked_in_the_timeline_and_in_the_retractions() {
        let md = crate::dossier(&sample(), Format::Md);
        assert!(md.contains(
            "| 2023-03-01 | 2023-03-01 10:15 | handlaggare-7 | ~~Skäl till dröjsmål: Personalbrist~~ **återkallad** (position 4) | 2 | `000000000000` |"
        ), "{md}");
        assert!(md.contains(
            "- 2023-03-01 – eeee: fel ärende (position 4). Gällde: 2023-03-01, Skäl till dröjsmål: Personalbrist (position 2)"
        ));
        let html = crate::dossier(&sample(), Format::Html);
        assert!(html.contains("<td><del>Skäl till dröjsmål: Personalbrist</del> <strong>återkallad</strong> (position 4)</td>"));
    }

    #[test]
    fn hashes_are_short_in_the_timeline_and_whole_in_the_appendix() {
        let md = crate::dossier(&sample(), Format::Md);
        assert!(md.contains("| 3 | `0123456789ab` |"));
        let appendix = &md[md.find("## Kontrollsummor").expect("appendix")..];
        assert!(appendix.contains(&format!("| 3 | `{HASH}` |")));
        assert!(appendix.contains(
            "| 1 | `0000000000000000000000000000000000000000000000000000000000000001` |"
        ));
        assert!(!md[..md.find("## Kontrollsummor").expect("appendix")].contains(HASH));
    }

    #[test]
    fn html_escapes_free_text_and_is_printable() {
        let html = crate::dossier(&sample(), Format::Html);
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>"));
        assert!(
            html.contains("Ringde &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;mamma&quot;")
        );
        assert!(html.contains("Enheten för barn &amp; unga"));
        assert!(html.contains("@media print"));
        assert!(html.contains("<h2>Tidslinje</h2>"));
        assert!(html.contains("Kontrollera med <code>verkstall verify</code>.</p>"));
    }

    #[test]
    fn csv_is_the_timeline_with_quoted_free_text() {
        let csv = crate::dossier(&sample(), Format::Csv);
        let records: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            records[0],
            "position,version,event_id,type,occurred_on,recorded_at,recorded_at_local,actor,summary,retracted_by,hash"
        );
        assert_eq!(records.len(), 6, "header, four events, the empty tail");
        assert!(records[1].starts_with(
            "1,1,eeeeeeee-0000-4000-8000-000000000001,DecisionGranted,2022-12-08,2023-03-01T09:15:00.000000Z,2023-03-01 10:15,,\"Beslut om kontaktperson (SoL kontaktperson, SoL)\",,"
        ));
        assert!(
            records[2].contains(
                ",Skäl till dröjsmål: Personalbrist,eeeeeeee-0000-4000-8000-000000000004,"
            )
        );
        assert!(records[3].contains(
            ",\"Anteckning (kontakt): Ringde <script>alert(1)</script> & \"\"mamma\"\"\","
        ));
        assert!(records[3].ends_with(HASH));
    }

    #[test]
    fn an_episode_without_cost_says_the_fee_cannot_be_estimated() {
        let mut report = sample();
        let x = &mut report.episodes[0].exposure;
        x.sek_per_month = None;
        x.estimate_sek = None;
        report.episodes[0].closed_on = Some(date(2023, 5, 2));
        report.episodes[0].outcome = Some(Outcome::Executed);
        let md = crate::dossier(&report, Format::Md);
        assert!(md.contains("- Kommunens kostnad för insatsen: ingen registrerad"));
        assert!(md.contains(
            "kan inte beräknas utan registrerad kostnad (ramen är 10 000 kr – 1 000 000 kr)"
        ));
        assert!(md.contains("- Väntan avslutad: 2023-05-02 (verkställt)"));
    }

    #[test]
    fn every_format_is_deterministic() {
        assert_deterministic(|f| crate::dossier(&sample(), f));
    }
}
