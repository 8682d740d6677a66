use ktstr::prelude::*;

#[derive(Scheduler)]
#[scheduler(binary = "scx_qmap", min_llc = 2)]
pub enum QmapFlags {
    #[flag(args = ["-b", "8"])]
    Batch,
}

fn main() {}
