use ktstr::prelude::*;

#[derive(Scheduler)]
#[scheduler(topology(1, 2, 2, 1))]
pub enum QmapFlags {
    Batch,
}

fn main() {}
