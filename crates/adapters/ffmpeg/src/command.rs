//! Running one of the ffmpeg tools.

use std::process::{Output, Stdio};

use streamvault_core::{Error, Result};
use tokio::process::Command;

#[derive(Debug, Clone)]
pub(crate) struct Tool {
    program: &'static str,
    /// Run under `nice -n` this.
    nice: Option<i32>,
}

impl Tool {
    pub(crate) fn new(program: &'static str, nice: Option<i32>) -> Self {
        Self { program, nice }
    }

    /// Whether `program args` runs and succeeds.
    pub(crate) async fn runs(program: &str, args: &[&str]) -> bool {
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    /// The command, killed when dropped. stdin is closed: ffmpeg must never wait for a key.
    pub(crate) fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = match self.nice {
            Some(n) => {
                let mut c = Command::new("nice");
                c.arg("-n").arg(n.to_string()).arg(self.program);
                c
            }
            None => Command::new(self.program),
        };
        cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
        die_with_parent(&mut cmd);
        cmd
    }

    /// Runs to the end, collecting both outputs.
    pub(crate) async fn output<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Result<Output> {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await
            .map_err(|e| Error::unavailable(self.program.to_string(), e))
    }

    /// The command line, for logs and for re-running it by hand (the benchmark does).
    pub(crate) fn display<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(n) = self.nice {
            parts.extend(["nice".into(), "-n".into(), n.to_string()]);
        }
        parts.push(self.program.into());
        for a in args {
            let a = a.as_ref().to_string_lossy();
            let plain = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,+%".contains(c));
            parts.push(if plain { a.into_owned() } else { format!("'{}'", a.replace('\'', r"'\''")) });
        }
        parts.join(" ")
    }
}

/// `kill_on_drop` covers a job that is dropped, not a worker that is killed (`kill -9`, OOM):
/// the kernel then sends the encoder SIGKILL too, instead of leaving it to run for an hour.
/// (ffmpeg ignores SIGPIPE, so a broken progress pipe does not stop it.)
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe calls (prctl, getppid), allocating nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the prctl: then nobody will reap us.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::other("parent exited"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

/// The reason in ffmpeg's last error line, without the input's name it starts with.
pub(crate) fn last_error(stderr: &[u8]) -> String {
    let err = String::from_utf8_lossy(stderr);
    let line = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("unreadable");
    line.rsplit(": ").next().unwrap_or("unreadable").trim().chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_a_shell_would_split() {
        let t = Tool::new("ffmpeg", Some(10));
        assert_eq!(
            t.display(&["-i", "a b.mp4", "-vf", "scale=-2:240", "it's"]),
            "nice -n 10 ffmpeg -i 'a b.mp4' -vf scale=-2:240 'it'\\''s'"
        );
    }

    #[test]
    fn last_error_line_without_the_input_name() {
        assert_eq!(last_error(b"x\n/tmp/a.mp4: moov atom not found\n\n"), "moov atom not found");
        assert_eq!(last_error(b""), "unreadable");
    }
}
