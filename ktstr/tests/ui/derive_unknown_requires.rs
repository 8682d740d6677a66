use ktstr::prelude::*;

#[derive(Scheduler)]
#[scheduler(binary = "scx_qmap")]
pub enum QmapFlags {
    #[flag(args = ["-b", "8"])]
    Batch,
    #[flag(args = ["-H"], requires = [Bach])]
    BoostNice,
}

fn main() {}
