//! Open cases for people: every waiting episode on a date, as one Swedish table with the days
//! waiting, whether it has passed its reference date, and the next deadline with what it is.

use projections::open_cases::{OpenCase, OpenCases};

use crate::csv::{self, Csv};
use crate::doc::{Align, Builder, Doc, Inline, Table, plain};
use crate::swedish::{self, NONE};

/// The CSV header: the JSON field names, with the insats's short form and the next deadline's
/// kind (which the JSON leaves out).
const HEADER: [&str; 12] = [
    "decision_id",
    "episode",
    "start_date",
    "reference_date",
    "law",
    "insats",
    "insats_short",
    "status",
    "days_waiting",
    "overdue",
    "next_deadline",
    "next_deadline_kind",
];

/// One record per open episode.
pub(crate) fn csv(report: &OpenCases) -> String {
    let mut out = Csv::new(&HEADER);
    for case in &report.items {
        out.record(vec![
            case.decision_id.to_string(),
            case.episode.to_string(),
            case.start_date.to_string(),
            case.reference_date.to_string(),
            case.law.as_str().to_owned(),
            case.insats.code().to_owned(),
            case.insats.short_form().to_owned(),
            case.status.as_str().to_owned(),
            case.days_waiting.to_string(),
            case.overdue.to_string(),
            csv::date(case.next_deadline),
            case.next_deadline_kind
                .map(|k| k.as_str().to_owned())
                .unwrap_or_default(),
        ]);
    }
    out.finish()
}

/// Open cases as a Swedish document.
pub(crate) fn document(report: &OpenCases) -> Doc {
    let title = format!("Pågående ej verkställda beslut {}", report.on);
    let mut doc = Builder::default();
    doc.heading(1, title.clone());
    doc.paragraph(format!(
        "{} Dagar i väntan räknas till {}.",
        swedish::as_of_line(report.as_of),
        report.on
    ));
    if report.items.is_empty() {
        doc.paragraph(format!(
            "Inga beslut väntar på verkställighet den {}.",
            report.on
        ));
        return doc.finish(title);
    }
    let overdue = report.items.iter().filter(|c| c.overdue).count();
    doc.paragraph(format!(
        "{} pågående {}, varav {overdue} har passerat referensdatum (tre månader) och ska \
         rapporteras till IVO.",
        report.items.len(),
        if report.items.len() == 1 {
            "väntetid"
        } else {
            "väntetider"
        },
    ));
    let mut table = Table::new(&[
        ("Beslut-id", Align::Left),
        ("Episod", Align::Right),
        ("Startdatum", Align::Left),
        ("Referensdatum", Align::Left),
        ("Lag", Align::Left),
        ("Insats", Align::Left),
        ("Status", Align::Left),
        ("Dagar", Align::Right),
        ("Försenad", Align::Left),
        ("Nästa tidsfrist", Align::Left),
        ("Avser", Align::Left),
    ]);
    for case in &report.items {
        table.row(cells(case));
    }
    doc.table(table);
    doc.finish(title)
}

fn cells(case: &OpenCase) -> Vec<Vec<Inline>> {
    vec![
        plain(case.decision_id.to_string()),
        plain(case.episode.to_string()),
        plain(case.start_date.to_string()),
        plain(case.reference_date.to_string()),
        plain(case.law.as_str()),
        plain(case.insats.short_form()),
        plain(swedish::status(case.status)),
        plain(case.days_waiting.to_string()),
        if case.overdue {
            vec![Inline::Strong("Ja".to_owned())]
        } else {
            plain("Nej")
        },
        plain(swedish::date_or_none(case.next_deadline)),
        plain(case.next_deadline_kind.map_or(NONE, |k| k.swedish())),
    ]
}

#[cfg(test)]
mod tests {
    use domain::codes::{Insats, Law};
    use domain::rules::ExecutionStatus;
    use projections::deadlines::DeadlineKind;
    use projections::open_cases::{OpenCase, OpenCases};

    use crate::Format;
    use crate::testing::{assert_deterministic, assert_json_contract, date, id, instant};

    fn case(n: u8) -> OpenCase {
        OpenCase {
            decision_id: id(n),
            episode: 1,
            start_date: date(2023, 3, 8),
            reference_date: date(2023, 6, 8),
            law: Law::Lss,
            insats: Insats::Lss9_4,
            status: ExecutionStatus::NotExecuted,
            days_waiting: 114,
            overdue: true,
            next_deadline: Some(date(2023, 8, 31)),
            next_deadline_kind: Some(DeadlineKind::IvoReport),
        }
    }

    fn report(items: Vec<OpenCase>) -> OpenCases {
        OpenCases {
            on: date(2023, 6, 30),
            as_of: instant("2023-06-30T21:59:59.999999Z"),
            items,
        }
    }

    fn sample() -> OpenCases {
        let mut second = case(2);
        second.episode = 2;
        second.insats = Insats::Lss9_10;
        second.status = ExecutionStatus::PartiallyExecuted;
        second.days_waiting = 20;
        second.overdue = false;
        second.next_deadline = None;
        second.next_deadline_kind = None;
        report(vec![case(1), second])
    }

    #[test]
    fn json_is_the_serde_output_without_the_deadline_kind() {
        let json = crate::open_cases(&sample(), Format::Json);
        assert_json_contract(&sample(), json.clone());
        assert!(!json.contains("next_deadline_kind"));
    }

    #[test]
    fn markdown_is_a_swedish_table_with_the_next_deadline_and_its_kind() {
        let md = crate::open_cases(&sample(), Format::Md);
        assert!(md.starts_with("# Pågående ej verkställda beslut 2023-06-30\n"));
        assert!(
            md.contains("Underlaget avser registreringar t.o.m. 2023-06-30 23:59 (svensk tid).")
        );
        assert!(md.contains("2 pågående väntetider, varav 1 har passerat referensdatum"));
        assert!(md.contains(
            "| Beslut-id | Episod | Startdatum | Referensdatum | Lag | Insats | Status | Dagar | Försenad | Nästa tidsfrist | Avser |"
        ));
        assert!(md.contains(&format!(
            "| {} | 1 | 2023-03-08 | 2023-06-08 | LSS | 9§4 | ej verkställt | 114 | **Ja** | 2023-08-31 | Kvartalsrapport till IVO |",
            id(1)
        )));
        assert!(md.contains(&format!(
            "| {} | 2 | 2023-03-08 | 2023-06-08 | LSS | 9§10 | delvis verkställt | 20 | Nej | – | – |",
            id(2)
        )));
    }

    #[test]
    fn no_open_cases_says_so() {
        let md = crate::open_cases(&report(vec![]), Format::Md);
        assert!(md.contains("Inga beslut väntar på verkställighet den 2023-06-30."));
        assert!(!md.contains('|'));
    }

    #[test]
    fn csv_carries_the_deadline_kind_code() {
        let csv = crate::open_cases(&sample(), Format::Csv);
        let records: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            records[0],
            "decision_id,episode,start_date,reference_date,law,insats,insats_short,status,days_waiting,overdue,next_deadline,next_deadline_kind"
        );
        assert_eq!(
            records[1],
            format!(
                "{},1,2023-03-08,2023-06-08,LSS,lss_9_4,9§4,not_executed,114,true,2023-08-31,ivo_report",
                id(1)
            )
        );
        assert!(records[2].ends_with(",20,false,,"));
    }

    #[test]
    fn every_format_is_deterministic() {
        assert_deterministic(|f| crate::open_cases(&sample(), f));
    }
}
