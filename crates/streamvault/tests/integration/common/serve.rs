//! The real binary as a child process: started, its URL read from what it prints, stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The first line the child prints on its stdout (`streamvault serve` prints where it listens).
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    line
}

/// Spawns `cmd` (a `streamvault serve`) with its stdout piped and returns it with the URL it
/// printed (the last word of its first line).
pub fn spawn_serve(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let url = first_line(&mut child).split_whitespace().last().unwrap().to_owned();
    (child, url)
}

/// Sends SIGTERM to `child`; whether `kill` succeeded.
pub fn sigterm(child: &Child) -> bool {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().is_ok_and(|s| s.success())
}
