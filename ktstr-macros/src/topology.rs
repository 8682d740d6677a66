//! The `XnYlZcWt` form, checked at compile time with the library's rules (every dimension at least 1, LLCs
//! a multiple of NUMA nodes).

/// `(nodes, llcs, cores, threads)`, or why the text is not a topology.
pub(crate) fn parse(text: &str) -> Result<(u32, u32, u32, u32), String> {
    let mut rest = text;
    let mut take = |unit: char, what: &str| -> Result<u32, String> {
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .filter(|&i| rest[i..].starts_with(unit))
            .ok_or_else(|| {
                format!("expected the number of {what} followed by '{unit}' in {text:?}; write it like 1n2l4c1t")
            })?;
        let n: u32 = rest[..end]
            .parse()
            .map_err(|_| format!("the number of {what} in {text:?} is not a number"))?;
        if n == 0 {
            return Err(format!(
                "{text:?} has 0 {what}; every dimension needs at least 1"
            ));
        }
        rest = &rest[end + 1..];
        Ok(n)
    };
    let nodes = take('n', "NUMA nodes")?;
    let llcs = take('l', "LLCs")?;
    let cores = take('c', "cores per LLC")?;
    let threads = take('t', "threads per core")?;
    if !rest.is_empty() {
        return Err(format!(
            "{text:?} has {rest:?} after the threads; write it like 1n2l4c1t"
        ));
    }
    if llcs % nodes != 0 {
        return Err(format!(
            "{llcs} LLCs cannot be split evenly over {nodes} NUMA nodes; use a multiple of {nodes} LLCs"
        ));
    }
    Ok((nodes, llcs, cores, threads))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse_and_bad_ones_say_why() {
        assert_eq!(parse("1n2l2c1t"), Ok((1, 2, 2, 1)));
        assert_eq!(parse("2n4l1c2t"), Ok((2, 4, 1, 2)));
        for bad in [
            "",
            "1n2l",
            "0n1l1c1t",
            "3n2l1c1t",
            "1n2l2c1tx",
            "nlct",
            "1x2l2c1t",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
