//! The council's statistics for people, laid out like the municipal table the nämnd already
//! reads (seed 004): one row per reported decision or interruption — decision date as
//! `YYMMDD`, insats, reason, actions taken, sex, executed, ended, days — then the totals as
//! small tables with a sum. No identity anywhere: the rows carry none, and none is added.

use std::collections::BTreeMap;

use domain::{Insats, Law, Sex};
use projections::council::{CouncilReport, CouncilRow};

use crate::csv::{self, Csv};
use crate::doc::{Align, Builder, Doc, Table, plain};
use crate::swedish::{self, ITEM_KINDS, NONE, WAIT_BANDS};

/// The CSV header: the JSON field names, with the insats's short form and the waiting band.
const HEADER: [&str; 12] = [
    "decided_on",
    "insats",
    "insats_short",
    "law",
    "sex",
    "kind",
    "reason",
    "actions",
    "executed_on",
    "ended_on",
    "days_waiting",
    "wait",
];

/// One record per row; the totals are sums a spreadsheet makes from them.
pub(crate) fn csv(report: &CouncilReport) -> String {
    let mut out = Csv::new(&HEADER);
    for row in &report.rows {
        let actions: Vec<String> = row.actions.iter().map(csv::code).collect();
        out.record(vec![
            row.decided_on.to_string(),
            row.insats.code().to_owned(),
            row.insats.short_form().to_owned(),
            row.law.as_str().to_owned(),
            row.sex.as_str().to_owned(),
            row.kind.as_str().to_owned(),
            row.reason.map(|r| r.code().to_owned()).unwrap_or_default(),
            csv::list(&actions),
            csv::date(row.executed_on),
            csv::date(row.ended_on),
            row.days_waiting.to_string(),
            row.wait.as_str().to_owned(),
        ]);
    }
    out.finish()
}

/// The council's report as a Swedish document.
pub(crate) fn document(report: &CouncilReport) -> Doc {
    let quarter = report.quarter;
    let title = format!(
        "Sammanställning av ej verkställda gynnande beslut, kvartal {} {}",
        quarter.number(),
        quarter.year()
    );
    let mut doc = Builder::default();
    doc.heading(1, title.clone());
    let in_quarter = format!(
        "Under {} kvartalet {} ({} – {})",
        swedish::quarter_ordinal(quarter.number()),
        quarter.year(),
        report.period_start,
        report.period_end
    );
    if report.rows.is_empty() {
        doc.paragraph(format!(
            "{in_quarter} finns inga ej verkställda gynnande beslut att redovisa."
        ));
    } else {
        doc.paragraph(format!(
            "{in_quarter} redovisas totalt {} beslut enligt SoL och LSS som inte verkställts \
             inom tre månader från beslutet eller från ett avbrott i verkställigheten, eller \
             som tidigare rapporterats och nu har verkställts eller avslutats. Redovisningen \
             innehåller inga personuppgifter.",
            swedish::count_neuter(report.rows.len())
        ));
    }
    doc.paragraph(format!(
        "{} Dagar räknas till {}.",
        swedish::as_of_line(report.as_of),
        report.on
    ));
    if report.rows.is_empty() {
        return doc.finish(title);
    }

    let mut table = Table::new(&[
        ("Beslut", Align::Left),
        ("Typ", Align::Left),
        ("Skäl", Align::Left),
        ("Vidtagna åtgärder", Align::Left),
        ("Kön", Align::Left),
        ("Verkställt", Align::Left),
        ("Avslutat", Align::Left),
        ("Dagar", Align::Right),
        ("Typ av rapport", Align::Left),
    ]);
    for row in &report.rows {
        table.row(cells(row));
    }
    doc.table(table);

    let totals = &report.totals;
    doc.heading(2, "Antal per kategori");
    let laws = [Law::SoL, Law::Lss].map(|l| known(l.as_str(), l.as_str()));
    totals_table(&mut doc, "Per lag", "Lag", &totals.by_law, &laws);
    let insatser: Vec<Known> = Insats::ALL
        .iter()
        .map(|i| Known {
            code: i.code(),
            label: i.short_form(),
            always: false,
        })
        .collect();
    totals_table(
        &mut doc,
        "Per insats",
        "Insats",
        &totals.by_insats,
        &insatser,
    );
    let sexes = [Sex::Male, Sex::Female].map(|s| known(s.as_str(), swedish::sex(s)));
    totals_table(&mut doc, "Per kön", "Kön", &totals.by_sex, &sexes);
    let kinds = ITEM_KINDS.map(|k| known(k.as_str(), swedish::item_kind(k)));
    totals_table(
        &mut doc,
        "Per typ av rapport",
        "Typ av rapport",
        &totals.by_kind,
        &kinds,
    );
    let bands = WAIT_BANDS.map(|b| Known {
        code: b.as_str(),
        label: b.swedish(),
        // Under three months is possible only when counted to an early date: shown when there.
        always: b != projections::council::WaitBand::Under3,
    });
    totals_table(
        &mut doc,
        "Per väntetid",
        "Väntetid",
        &totals.by_wait,
        &bands,
    );
    doc.finish(title)
}

/// One row of the table, in the municipal table's order.
fn cells(row: &CouncilRow) -> Vec<Vec<crate::doc::Inline>> {
    let actions: Vec<&str> = row.actions.iter().map(|a| a.swedish()).collect();
    let date_or_no =
        |date: Option<chrono::NaiveDate>| date.map_or("Nej".to_owned(), swedish::yymmdd);
    vec![
        plain(swedish::yymmdd(row.decided_on)),
        plain(row.insats.short_form()),
        plain(row.reason.map_or("Ej angivet", |r| r.swedish())),
        plain(if actions.is_empty() {
            NONE.to_owned()
        } else {
            actions.join(", ")
        }),
        plain(swedish::sex(row.sex)),
        plain(date_or_no(row.executed_on)),
        plain(date_or_no(row.ended_on)),
        plain(row.days_waiting.to_string()),
        plain(swedish::item_kind(row.kind)),
    ]
}

/// A code the totals may hold, with its Swedish label; `always` rows show even when zero.
struct Known {
    code: &'static str,
    label: &'static str,
    always: bool,
}

const fn known(code: &'static str, label: &'static str) -> Known {
    Known {
        code,
        label,
        always: true,
    }
}

/// A totals table: the known codes in their order, then any code not known here as it is, and
/// a sum of what the map holds.
fn totals_table(
    doc: &mut Builder,
    heading: &str,
    column: &str,
    counts: &BTreeMap<String, u64>,
    known: &[Known],
) {
    doc.heading(3, heading);
    let mut table = Table::new(&[(column, Align::Left), ("Antal", Align::Right)]);
    for k in known {
        let n = counts.get(k.code).copied().unwrap_or(0);
        if n > 0 || k.always {
            table.row(vec![plain(k.label), plain(n.to_string())]);
        }
    }
    for (code, n) in counts {
        if !known.iter().any(|k| k.code == code) {
            table.row(vec![plain(code.clone()), plain(n.to_string())]);
        }
    }
    table.footer = Some(vec![
        plain("Summa"),
        plain(counts.values().sum::<u64>().to_string()),
    ]);
    doc.table(table);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use domain::Sex;
    use domain::codes::{DelayReason, Insats, Law};
    use projections::council::{Action, CouncilReport, CouncilRow, Totals, WaitBand};
    use projections::worklist::ItemKind;

    use crate::Format;
    use crate::testing::{assert_deterministic, assert_json_contract, date, instant};

    fn row() -> CouncilRow {
        CouncilRow {
            decided_on: date(2022, 12, 8),
            insats: Insats::SolKontaktperson,
            law: Law::SoL,
            sex: Sex::Male,
            kind: ItemKind::FollowUp,
            reason: Some(DelayReason::RecruitingProvider),
            actions: vec![Action::CompensatingOffer],
            executed_on: None,
            ended_on: None,
            days_waiting: 277,
            wait: WaitBand::From6To12,
            reference_date: date(2023, 3, 8),
        }
    }

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|&(k, n)| (k.to_owned(), n)).collect()
    }

    fn report(rows: Vec<CouncilRow>) -> CouncilReport {
        let totals = if rows.is_empty() {
            Totals::default()
        } else {
            Totals {
                by_law: counts(&[("LSS", 1), ("SoL", 1)]),
                by_insats: counts(&[("lss_9_4", 1), ("sol_kontaktperson", 1)]),
                by_sex: counts(&[("female", 1), ("male", 1)]),
                by_kind: counts(&[("final", 1), ("follow_up", 1)]),
                by_wait: counts(&[("3_to_6_months", 1), ("6_to_12_months", 1)]),
            }
        };
        CouncilReport {
            quarter: "2023Q2".parse().expect("quarter"),
            period_start: date(2023, 4, 1),
            period_end: date(2023, 6, 30),
            on: date(2023, 6, 30),
            as_of: instant("2023-07-15T08:30:00Z"),
            rows,
            totals,
        }
    }

    fn sample() -> CouncilReport {
        let second = CouncilRow {
            decided_on: date(2023, 1, 2),
            insats: Insats::Lss9_4,
            law: Law::Lss,
            sex: Sex::Female,
            kind: ItemKind::Final,
            reason: None,
            actions: vec![Action::OrderSent, Action::Contact],
            executed_on: Some(date(2023, 5, 2)),
            ended_on: None,
            days_waiting: 120,
            wait: WaitBand::From3To6,
            reference_date: date(2023, 4, 2),
        };
        report(vec![row(), second])
    }

    #[test]
    fn json_is_the_serde_output() {
        assert_json_contract(&sample(), crate::council(&sample(), Format::Json));
        let json = crate::council(&sample(), Format::Json);
        assert!(json.contains("\"sex\": \"male\""));
        assert!(!json.contains("decision_id"));
    }

    #[test]
    fn markdown_reads_like_the_municipal_table() {
        let md = crate::council(&sample(), Format::Md);
        assert!(
            md.starts_with("# Sammanställning av ej verkställda gynnande beslut, kvartal 2 2023\n")
        );
        assert!(md.contains(
            "Under andra kvartalet 2023 (2023-04-01 – 2023-06-30) redovisas totalt två beslut"
        ));
        assert!(md.contains(
            "| Beslut | Typ | Skäl | Vidtagna åtgärder | Kön | Verkställt | Avslutat | Dagar | Typ av rapport |"
        ));
        assert!(md.contains(
            "| 221208 | SoL kontaktperson | Svårighet att rekrytera utförare | Erbjudit kompenserande insats | Man | Nej | Nej | 277 | Återrapportering |"
        ));
        assert!(md.contains(
            "| 230102 | 9§4 | Ej angivet | Beställning skickad, Kontakt med den enskilde | Kvinna | 230502 | Nej | 120 | Slutrapportering |"
        ));
    }

    #[test]
    fn totals_are_small_tables_with_a_sum_in_a_fixed_order() {
        let md = crate::council(&sample(), Format::Md);
        let expected_by_wait = "### Per väntetid\n\n| Väntetid | Antal |\n|---|---:|\n\
            | 3–6 månader | 1 |\n| 6–12 månader | 1 |\n| över 12 månader | 0 |\n\
            | **Summa** | **2** |";
        assert!(md.contains(expected_by_wait), "{md}");
        assert!(md.contains("| Nyrapportering | 0 |\n| Nyrapportering avbrott | 0 |\n| Återrapportering | 1 |\n| Slutrapportering | 1 |"));
        assert!(md.contains("| SoL | 1 |\n| LSS | 1 |"));
        assert!(md.contains("| 9§4 | 1 |\n| SoL kontaktperson | 1 |\n| **Summa** | **2** |"));
        assert!(md.contains("| Man | 1 |\n| Kvinna | 1 |"));
        let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("### ")).collect();
        assert_eq!(
            headings,
            [
                "### Per lag",
                "### Per insats",
                "### Per kön",
                "### Per typ av rapport",
                "### Per väntetid"
            ]
        );
    }

    #[test]
    fn an_unknown_code_in_the_totals_is_shown_and_summed() {
        let mut report = sample();
        report.totals.by_wait.insert("under_3_months".to_owned(), 2);
        report.totals.by_law.insert("XYZ".to_owned(), 1);
        let md = crate::council(&report, Format::Md);
        assert!(md.contains("| under 3 månader | 2 |\n| 3–6 månader | 1 |"));
        assert!(md.contains("| XYZ | 1 |\n| **Summa** | **3** |"));
    }

    #[test]
    fn an_empty_quarter_says_so() {
        let md = crate::council(&report(vec![]), Format::Md);
        assert!(md.contains(
            "Under andra kvartalet 2023 (2023-04-01 – 2023-06-30) finns inga ej verkställda gynnande beslut att redovisa."
        ));
        assert!(!md.contains("| Beslut |"));
        assert_eq!(
            crate::council(&report(vec![]), Format::Csv).lines().count(),
            1
        );
    }

    #[test]
    fn one_decision_is_counted_in_words() {
        let md = crate::council(&report(vec![row()]), Format::Md);
        assert!(md.contains("redovisas totalt ett beslut"));
    }

    #[test]
    fn csv_has_codes_and_quotes_lists_only_when_needed() {
        let csv = crate::council(&sample(), Format::Csv);
        let records: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            records[0],
            "decided_on,insats,insats_short,law,sex,kind,reason,actions,executed_on,ended_on,days_waiting,wait"
        );
        assert_eq!(
            records[1],
            "2022-12-08,sol_kontaktperson,SoL kontaktperson,SoL,male,follow_up,recruiting_provider,compensating_offer,,,277,6_to_12_months"
        );
        assert_eq!(
            records[2],
            "2023-01-02,lss_9_4,9§4,LSS,female,final,,order_sent;contact,2023-05-02,,120,3_to_6_months"
        );
    }

    #[test]
    fn html_is_a_bordered_table_with_no_identity() {
        let html = crate::council(&sample(), Format::Html);
        assert!(html.contains("<td>221208</td><td>SoL kontaktperson</td>"));
        assert!(html.contains("<tfoot>"));
        assert!(!html.contains("00000000-"));
    }

    #[test]
    fn every_format_is_deterministic() {
        assert_deterministic(|f| crate::council(&sample(), f));
    }
}
