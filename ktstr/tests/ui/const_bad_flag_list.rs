use ktstr::prelude::*;

// A hand-written declaration is checked when the const is evaluated: "steal" requires an undeclared flag.
const MINE: Scheduler = Scheduler::new("scx_mine").flags(&[FlagDecl::new("steal").requires(&["llc"])]);

fn main() {
    let _ = MINE.name();
}
