use ktstr::prelude::*;

#[derive(Scheduler)]
#[scheduler(binary = "scx_qmap")]
pub enum QmapFlags {
    Slice(u32),
}

fn main() {}
