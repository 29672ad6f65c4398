//! The IVO worklist for people: what the IVO-rapportör reports this quarter, grouped as IVO's
//! routine lists it (Nyrapportering, Nyrapportering avbrott, Återrapportering,
//! Slutrapportering), each item under its message title ready to copy.

use projections::worklist::{Worklist, WorklistItem};

use crate::csv::{self, Csv};
use crate::doc::{Align, Builder, Doc, Inline, Table, plain, text};
use crate::swedish::{self, ITEM_KINDS};

/// The CSV header: the JSON field names, with the insats's short form beside its code.
const HEADER: [&str; 17] = [
    "decision_id",
    "kind",
    "episode",
    "start_date",
    "reference_date",
    "law",
    "insats",
    "insats_short",
    "forhandsbesked",
    "status",
    "executed_on",
    "ended_on",
    "days_waiting",
    "reported",
    "missed_earlier",
    "previous_not_executed",
    "title",
];

/// One record per item.
pub(crate) fn csv(report: &Worklist) -> String {
    let mut out = Csv::new(&HEADER);
    for item in &report.items {
        out.record(vec![
            item.decision_id.to_string(),
            item.kind.as_str().to_owned(),
            item.episode.to_string(),
            item.start_date.to_string(),
            item.reference_date.to_string(),
            item.law.as_str().to_owned(),
            item.insats.code().to_owned(),
            item.insats.short_form().to_owned(),
            item.forhandsbesked.to_string(),
            item.status.as_str().to_owned(),
            csv::date(item.executed_on),
            csv::date(item.ended_on),
            item.days_waiting.to_string(),
            item.reported.to_string(),
            csv::list(&item.missed_earlier),
            item.previous_not_executed.to_string(),
            item.title.clone(),
        ]);
    }
    out.finish()
}

/// The worklist as a Swedish document.
pub(crate) fn document(report: &Worklist) -> Doc {
    let quarter = report.quarter;
    let title = format!(
        "IVO-rapportering kvartal {} {} ({} – {})",
        quarter.number(),
        quarter.year(),
        report.period_start,
        report.period_end
    );
    let mut doc = Builder::default();
    doc.heading(1, title.clone());
    doc.paragraph(format!(
        "{} Dagar i väntan räknas till {}.",
        swedish::as_of_line(report.as_of),
        report.on
    ));
    if report.items.is_empty() {
        doc.paragraph(format!(
            "Det finns inget att rapportera till IVO för kvartal {} {}.",
            quarter.number(),
            quarter.year()
        ));
        return doc.finish(title);
    }

    let mut summary = Table::new(&[
        ("Typ av rapport", Align::Left),
        ("Antal", Align::Right),
        ("Ej rapporterade", Align::Right),
    ]);
    for kind in ITEM_KINDS {
        let of_kind = report.items.iter().filter(|i| i.kind == kind);
        let unreported = of_kind.clone().filter(|i| !i.reported).count();
        summary.row(vec![
            plain(swedish::item_kind(kind)),
            plain(of_kind.count().to_string()),
            plain(unreported.to_string()),
        ]);
    }
    let unreported = report.items.iter().filter(|i| !i.reported).count();
    summary.footer = Some(vec![
        plain("Summa"),
        plain(report.items.len().to_string()),
        plain(unreported.to_string()),
    ]);
    doc.table(summary);

    for kind in ITEM_KINDS {
        let items: Vec<&WorklistItem> = report.items.iter().filter(|i| i.kind == kind).collect();
        if items.is_empty() {
            continue;
        }
        doc.heading(2, format!("{} ({})", swedish::item_kind(kind), items.len()));
        for item in items {
            doc.heading_runs(3, vec![Inline::Code(item.title.clone())]);
            doc.list(details(item));
        }
    }
    doc.finish(title)
}

/// The facts under an item's title.
fn details(item: &WorklistItem) -> Vec<Vec<Inline>> {
    let mut lines = vec![
        plain(format!(
            "Beslut-id: {} (episod {})",
            item.decision_id, item.episode
        )),
        plain(format!(
            "Insats: {} ({}){}",
            insats_with_law(item),
            item.insats.name(),
            if item.forhandsbesked {
                ", förhandsbesked"
            } else {
                ""
            }
        )),
        plain(format!("Status: {}", swedish::status(item.status))),
        plain(format!(
            "Startdatum: {} · referensdatum: {}",
            item.start_date, item.reference_date
        )),
    ];
    if let Some(on) = item.executed_on {
        lines.push(plain(format!("Verkställt: {on}")));
    }
    if let Some(on) = item.ended_on {
        lines.push(plain(format!("Avslutat: {on}")));
    }
    lines.push(plain(format!("Dagar i väntan: {}", item.days_waiting)));
    lines.push(if item.reported {
        plain("Till IVO: rapporterad")
    } else {
        vec![
            text("Till IVO: "),
            Inline::Strong("ej rapporterad".to_owned()),
        ]
    });
    if !item.missed_earlier.is_empty() {
        let quarters: Vec<String> = item.missed_earlier.iter().map(|q| q.to_string()).collect();
        lines.push(vec![Inline::Strong(format!(
            "Missad rapportering: {}",
            quarters.join(", ")
        ))]);
    }
    if item.previous_not_executed {
        lines.push(plain("Ersätter ett beslut som inte verkställts"));
    }
    lines
}

/// The insats's short form, with its law in front unless the short form already names it:
/// `LSS 9§10`, `SoL kontaktperson`.
fn insats_with_law(item: &WorklistItem) -> String {
    let (law, short) = (item.law.as_str(), item.insats.short_form());
    if short.starts_with(law) {
        short.to_owned()
    } else {
        format!("{law} {short}")
    }
}

#[cfg(test)]
mod tests {
    use domain::codes::{Insats, Law};
    use domain::rules::ExecutionStatus;
    use projections::worklist::{ItemKind, Worklist, WorklistItem};

    use crate::Format;
    use crate::testing::{assert_deterministic, assert_json_contract, date, id, instant};

    fn item(kind: ItemKind, decision: u8, title: &str) -> WorklistItem {
        WorklistItem {
            decision_id: id(decision),
            kind,
            episode: 1,
            start_date: date(2023, 1, 8),
            reference_date: date(2023, 4, 8),
            law: Law::Lss,
            insats: Insats::Lss9_10,
            forhandsbesked: false,
            status: ExecutionStatus::NotExecuted,
            executed_on: None,
            ended_on: None,
            days_waiting: 173,
            reported: false,
            missed_earlier: Vec::new(),
            previous_not_executed: false,
            title: title.to_owned(),
        }
    }

    fn report(items: Vec<WorklistItem>) -> Worklist {
        Worklist {
            quarter: "2023Q2".parse().expect("quarter"),
            period_start: date(2023, 4, 1),
            period_end: date(2023, 6, 30),
            on: date(2023, 6, 30),
            as_of: instant("2023-07-15T08:30:00Z"),
            items,
        }
    }

    fn sample() -> Worklist {
        let mut new = item(
            ItemKind::New,
            1,
            "IVO - Nyrapportering 2023-04-08, Förhandsbesked, 9§10",
        );
        new.forhandsbesked = true;
        new.previous_not_executed = true;
        let mut follow_up = item(
            ItemKind::FollowUp,
            2,
            "IVO - Återrapportering 2023-03-08, SoL kontaktperson",
        );
        follow_up.law = Law::SoL;
        follow_up.insats = Insats::SolKontaktperson;
        follow_up.status = ExecutionStatus::PartiallyExecuted;
        follow_up.missed_earlier = vec!["2023Q1".parse().expect("quarter")];
        let mut last = item(
            ItemKind::Final,
            3,
            "IVO - Slutrapportering, verkställt 2023-05-02, 9§10",
        );
        last.status = ExecutionStatus::Executed;
        last.executed_on = Some(date(2023, 5, 2));
        last.reported = true;
        report(vec![new, follow_up, last])
    }

    #[test]
    fn json_is_the_serde_output() {
        assert_json_contract(&sample(), crate::ivo_worklist(&sample(), Format::Json));
        assert_json_contract(
            &report(vec![]),
            crate::ivo_worklist(&report(vec![]), Format::Json),
        );
    }

    #[test]
    fn markdown_puts_each_title_on_its_own_line_under_its_kind() {
        let md = crate::ivo_worklist(&sample(), Format::Md);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(
            lines[0],
            "# IVO-rapportering kvartal 2 2023 (2023-04-01 – 2023-06-30)"
        );
        assert!(md.contains(
            "Underlaget avser registreringar t.o.m. 2023-07-15 10:30 (svensk tid). \
             Dagar i väntan räknas till 2023-06-30."
        ));
        for title in [
            "### `IVO - Nyrapportering 2023-04-08, Förhandsbesked, 9§10`",
            "### `IVO - Återrapportering 2023-03-08, SoL kontaktperson`",
            "### `IVO - Slutrapportering, verkställt 2023-05-02, 9§10`",
        ] {
            assert!(lines.contains(&title), "{title} missing in\n{md}");
        }
        let position = |needle: &str| {
            lines
                .iter()
                .position(|l| *l == needle)
                .unwrap_or_else(|| panic!("{needle} missing in\n{md}"))
        };
        assert!(position("## Nyrapportering (1)") < position("## Återrapportering (1)"));
        assert!(position("## Återrapportering (1)") < position("## Slutrapportering (1)"));
        assert!(
            !md.contains("## Nyrapportering avbrott"),
            "empty groups are left out"
        );
        assert!(md.contains("| Nyrapportering avbrott | 0 | 0 |"));
        assert!(md.contains("| **Summa** | **3** | **2** |"));
        assert!(md.contains("- Status: delvis verkställt"));
        assert!(md.contains("- Status: verkställt\n"));
        assert!(md.contains("- Verkställt: 2023-05-02"));
        assert!(md.contains("- Till IVO: rapporterad"));
        assert!(md.contains("- Till IVO: **ej rapporterad**"));
        assert!(md.contains("- **Missad rapportering: 2023Q1**"));
        assert!(md.contains("- Ersätter ett beslut som inte verkställts"));
        assert_eq!(md.matches("Ersätter ett beslut").count(), 1);
        assert!(md.contains("- Insats: LSS 9§10 (daglig verksamhet), förhandsbesked"));
        assert!(md.contains("- Insats: SoL kontaktperson (kontaktperson)"));
        assert!(md.contains("- Dagar i väntan: 173"));
    }

    #[test]
    fn an_empty_worklist_says_there_is_nothing_to_report() {
        let empty = report(vec![]);
        let md = crate::ivo_worklist(&empty, Format::Md);
        assert!(md.contains("Det finns inget att rapportera till IVO för kvartal 2 2023."));
        assert!(!md.contains('|'));
        let html = crate::ivo_worklist(&empty, Format::Html);
        assert!(
            html.contains("<p>Det finns inget att rapportera till IVO för kvartal 2 2023.</p>")
        );
        let csv = crate::ivo_worklist(&empty, Format::Csv);
        assert_eq!(csv.lines().count(), 1, "only the header");
    }

    #[test]
    fn csv_has_the_header_and_one_quoted_record_per_item() {
        let csv = crate::ivo_worklist(&sample(), Format::Csv);
        let records: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            records[0],
            "decision_id,kind,episode,start_date,reference_date,law,insats,insats_short,\
             forhandsbesked,status,executed_on,ended_on,days_waiting,reported,missed_earlier,\
             previous_not_executed,title"
        );
        assert_eq!(records.len(), 5, "header, three items, and the empty tail");
        assert_eq!(
            records[2],
            format!(
                "{},follow_up,1,2023-01-08,2023-04-08,SoL,sol_kontaktperson,SoL kontaktperson,\
                 false,partially_executed,,,173,false,2023Q1,false,\
                 \"IVO - Återrapportering 2023-03-08, SoL kontaktperson\"",
                crate::testing::id(2)
            )
        );
        assert!(records[3].contains(",2023-05-02,,"));
    }

    #[test]
    fn html_shows_titles_as_copyable_code() {
        let html = crate::ivo_worklist(&sample(), Format::Html);
        assert!(html.contains(
            "<h3><code>IVO - Nyrapportering 2023-04-08, Förhandsbesked, 9§10</code></h3>"
        ));
        assert!(html.contains("<li>Till IVO: <strong>ej rapporterad</strong></li>"));
    }

    #[test]
    fn every_format_is_deterministic() {
        assert_deterministic(|f| crate::ivo_worklist(&sample(), f));
    }
}
