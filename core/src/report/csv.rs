//! CSV outputs of sweeps and frontiers, written through the csv crate: a field holding a comma, a
//! quote or a line break is quoted (a country or material id may hold any of them).

use crate::analysis::frontier::FrontierReport;
use crate::analysis::sweep::{Kpis, SweepReport};

/// KPI column names of the CSV outputs, in order.
pub const KPI_COLUMNS: [&str; 13] = [
    "investment",
    "stockpile",
    "expected_operating",
    "expected_shortfall_penalty",
    "expected_shortfall_t",
    "cvar95_shortfall_t",
    "worst_shortfall_t",
    "shortfall_probability",
    "largest_country_share",
    "largest_country",
    "open_sites",
    "capacity_t",
    "stock_t",
];

/// The sweep as CSV: one row per variant, a column per parameter, then index, status, objective,
/// gap, runtime, warm start and the KPIs.
pub fn sweep_csv(report: &SweepReport) -> String {
    let mut header: Vec<String> = report.parameters.iter().map(|p| p.path.clone()).collect();
    header.extend(
        [
            "index",
            "status",
            "objective",
            "mip_gap",
            "runtime_s",
            "warm_from",
        ]
        .map(String::from),
    );
    header.extend(KPI_COLUMNS.iter().map(|s| s.to_string()));
    let rows = report.variants.iter().map(|v| {
        let mut row: Vec<String> = report
            .parameters
            .iter()
            .map(|p| {
                v.values
                    .get(&p.path)
                    .map(|x| x.to_string())
                    .unwrap_or_default()
            })
            .collect();
        row.push(v.index.to_string());
        row.push(v.status.as_str().to_string());
        row.push(opt(v.objective));
        row.push(opt(v.mip_gap));
        row.push(format!("{:.4}", v.runtime_s));
        row.push(v.warm_from.map(|j| j.to_string()).unwrap_or_default());
        row.extend(kpi_cells(v.kpis.as_ref()));
        row
    });
    write(std::iter::once(header).chain(rows))
}

/// The frontier as CSV: one row per level.
pub fn frontier_csv(report: &FrontierReport) -> String {
    let mut header: Vec<String> = [
        "level",
        "status",
        "cost",
        "resilience",
        "dominated",
        "knee",
        "mip_gap",
        "runtime_s",
        "warm_from",
    ]
    .map(String::from)
    .to_vec();
    header.extend(KPI_COLUMNS.iter().map(|s| s.to_string()));
    let rows = report.points.iter().enumerate().map(|(i, p)| {
        let mut row = vec![
            p.level.to_string(),
            p.status.as_str().to_string(),
            opt(p.cost),
            opt(p.resilience),
            p.dominated.to_string(),
            (report.knee == Some(i)).to_string(),
            opt(p.mip_gap),
            format!("{:.4}", p.runtime_s),
            p.warm_from.map(|j| j.to_string()).unwrap_or_default(),
        ];
        row.extend(kpi_cells(p.kpis.as_ref()));
        row
    });
    write(std::iter::once(header).chain(rows))
}

fn kpi_cells(k: Option<&Kpis>) -> Vec<String> {
    match k {
        None => vec![String::new(); KPI_COLUMNS.len()],
        Some(k) => vec![
            k.investment.to_string(),
            k.stockpile.to_string(),
            k.expected_operating.to_string(),
            k.expected_shortfall_penalty.to_string(),
            k.expected_shortfall_t.to_string(),
            k.cvar95_shortfall_t.to_string(),
            k.worst_shortfall_t.to_string(),
            k.shortfall_probability.to_string(),
            k.largest_country_share.to_string(),
            k.largest_country.clone(),
            k.open_sites.to_string(),
            k.capacity_t.to_string(),
            k.stock_t.to_string(),
        ],
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// Rows as CSV text, one `\n` after each record, fields quoted only where needed.
fn write(rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(&row)
            .expect("a CSV record written to memory cannot fail");
    }
    let bytes = w
        .into_inner()
        .expect("a CSV writer over memory flushes without error");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_and_quotes_are_quoted() {
        let text = write(
            [
                vec!["a".to_string(), "b,c".to_string()],
                vec!["say \"hi\"".to_string(), String::new()],
            ]
            .into_iter(),
        );
        assert_eq!(text, "a,\"b,c\"\n\"say \"\"hi\"\"\",\n");
    }
}
