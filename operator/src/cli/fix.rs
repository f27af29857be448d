//! `kiln fix`.

pub fn run(_args: &[String]) -> i32 {
    1
}
