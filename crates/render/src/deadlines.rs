//! Deadlines for people: what falls due between two dates, grouped by due date (with its
//! weekday), each with what the deadline is in Swedish.

use chrono::NaiveDate;
use projections::deadlines::{Deadline, Deadlines};

use crate::csv::Csv;
use crate::doc::{Align, Builder, Doc, Table, plain};
use crate::swedish;

/// The CSV header: the JSON field names.
const HEADER: [&str; 4] = ["decision_id", "kind", "due", "reference_date"];

/// One record per deadline.
pub(crate) fn csv(report: &Deadlines) -> String {
    let mut out = Csv::new(&HEADER);
    for d in &report.items {
        out.record(vec![
            d.decision_id.to_string(),
            d.kind.as_str().to_owned(),
            d.due.to_string(),
            d.reference_date.to_string(),
        ]);
    }
    out.finish()
}

/// Deadlines as a Swedish document, one section per due date.
pub(crate) fn document(report: &Deadlines) -> Doc {
    let title = format!("Tidsfrister {} – {}", report.from, report.to);
    let mut doc = Builder::default();
    doc.heading(1, title.clone());
    doc.paragraph(swedish::as_of_line(report.as_of));
    if report.items.is_empty() {
        doc.paragraph(format!(
            "Inga tidsfrister infaller {} – {}.",
            report.from, report.to
        ));
        return doc.finish(title);
    }
    let groups = by_due(&report.items);
    doc.paragraph(format!(
        "{} {} på {} {}.",
        report.items.len(),
        if report.items.len() == 1 {
            "tidsfrist"
        } else {
            "tidsfrister"
        },
        groups.len(),
        if groups.len() == 1 { "dag" } else { "dagar" },
    ));
    for (due, items) in groups {
        doc.heading(
            2,
            format!("{} ({})", swedish::date_with_weekday(due), items.len()),
        );
        let mut table = Table::new(&[
            ("Beslut-id", Align::Left),
            ("Tidsfrist", Align::Left),
            ("Referensdatum", Align::Left),
        ]);
        for d in items {
            table.row(vec![
                plain(d.decision_id.to_string()),
                plain(d.kind.swedish()),
                plain(d.reference_date.to_string()),
            ]);
        }
        doc.table(table);
    }
    doc.finish(title)
}

/// The deadlines in runs of one due date, in the report's order (it is by due date).
fn by_due(items: &[Deadline]) -> Vec<(NaiveDate, Vec<&Deadline>)> {
    let mut groups: Vec<(NaiveDate, Vec<&Deadline>)> = Vec::new();
    for d in items {
        match groups.last_mut() {
            Some((due, group)) if *due == d.due => group.push(d),
            _ => groups.push((d.due, vec![d])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use projections::deadlines::{Deadline, DeadlineKind, Deadlines};

    use crate::Format;
    use crate::testing::{assert_deterministic, assert_json_contract, date, id, instant};

    fn report(items: Vec<Deadline>) -> Deadlines {
        Deadlines {
            from: date(2023, 7, 1),
            to: date(2023, 7, 31),
            as_of: instant("2023-06-30T10:00:00Z"),
            items,
        }
    }

    fn sample() -> Deadlines {
        let d = |n, kind, due| Deadline {
            decision_id: id(n),
            kind,
            due,
            reference_date: date(2023, 7, 8),
        };
        report(vec![
            d(1, DeadlineKind::Summary, date(2023, 7, 7)),
            d(2, DeadlineKind::Contact, date(2023, 7, 7)),
            d(1, DeadlineKind::ReportMessage, date(2023, 7, 10)),
        ])
    }

    #[test]
    fn json_is_the_serde_output() {
        assert_json_contract(&sample(), crate::deadlines(&sample(), Format::Json));
    }

    #[test]
    fn markdown_groups_by_due_date_with_the_weekday() {
        let md = crate::deadlines(&sample(), Format::Md);
        assert!(md.starts_with("# Tidsfrister 2023-07-01 – 2023-07-31\n"));
        assert!(md.contains("3 tidsfrister på 2 dagar."));
        let first = md.find("## 2023-07-07, fredag (2)").expect("first day");
        let second = md.find("## 2023-07-10, måndag (1)").expect("second day");
        assert!(first < second);
        let day_one = &md[first..second];
        assert!(day_one.contains(&format!(
            "| {} | Utförarens sammanfattning | 2023-07-08 |",
            id(1)
        )));
        assert!(day_one.contains(&format!(
            "| {} | Kontakt med den enskilde | 2023-07-08 |",
            id(2)
        )));
        assert!(md[second..].contains("| Meddelande till IVO-rapportör |"));
    }

    #[test]
    fn no_deadlines_says_so() {
        let md = crate::deadlines(&report(vec![]), Format::Md);
        assert!(md.contains("Inga tidsfrister infaller 2023-07-01 – 2023-07-31."));
        assert!(!md.contains("## "));
    }

    #[test]
    fn csv_is_the_json_fields_in_order() {
        let csv = crate::deadlines(&sample(), Format::Csv);
        assert_eq!(
            csv,
            format!(
                "decision_id,kind,due,reference_date\r\n\
                 {0},summary,2023-07-07,2023-07-08\r\n\
                 {1},contact,2023-07-07,2023-07-08\r\n\
                 {0},report_message,2023-07-10,2023-07-08\r\n",
                id(1),
                id(2)
            )
        );
    }

    #[test]
    fn every_format_is_deterministic() {
        assert_deterministic(|f| crate::deadlines(&sample(), f));
    }
}
