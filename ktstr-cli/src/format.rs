//! Human-readable sizes and ages for `kernel list`.

/// Bytes as `512 B`, `3.2 MB`, `1.4 GB` (powers of 1000).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Seconds as the largest whole unit: `45s`, `12m`, `5h`, `3d`.
pub fn age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// Seconds as `6m12s` (or `12.3s` under a minute).
pub fn duration(secs: f64) -> String {
    if secs < 60.0 {
        return format!("{secs:.1}s");
    }
    let whole = secs.round() as u64;
    format!("{}m{:02}s", whole / 60, whole % 60)
}

/// Left-aligned columns separated by two spaces; a short row's last cell runs on.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter(|r| r.len() == cols)
                .map(|r| r[c].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c + 1 == row.len() {
                    cell.clone()
                } else {
                    format!("{cell:<w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_ages_and_durations_read_naturally() {
        for (bytes, want) in [
            (0, "0 B"),
            (999, "999 B"),
            (3_200_000, "3.2 MB"),
            (131_000_000, "131.0 MB"),
            (1_400_000_000, "1.4 GB"),
        ] {
            assert_eq!(size(bytes), want);
        }
        for (secs, want) in [
            (0, "0s"),
            (59, "59s"),
            (60, "1m"),
            (7200, "2h"),
            (3 * 86400 + 5, "3d"),
        ] {
            assert_eq!(age(secs), want);
        }
        for (secs, want) in [(12.34, "12.3s"), (372.4, "6m12s"), (60.0, "1m00s")] {
            assert_eq!(duration(secs), want);
        }
    }

    #[test]
    fn table_aligns_full_rows_and_lets_short_rows_run_on() {
        let rows: Vec<Vec<String>> = [
            vec!["KEY", "V"],
            vec!["6.12.117-kcabc", "6.12.117"],
            vec!["broken"],
        ]
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
        assert_eq!(
            table(&rows),
            "KEY             V\n6.12.117-kcabc  6.12.117\nbroken\n"
        );
    }
}
