use ktstr::prelude::*;

#[derive(Scheduler)]
#[scheduler(binary = "scx_qmap", topology(2, 3, 2, 1))]
pub enum QmapFlags {
    Batch,
}

fn main() {}
