// Records the git commit and rustc version the binary was built from, for results files.
use std::process::Command;

fn main() {
    for p in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if std::path::Path::new(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    let out = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    if let Some(commit) = out("git", &["rev-parse", "--short=12", "HEAD"]) {
        let dirty = out("git", &["status", "--porcelain", "--untracked-files=no"]).is_some();
        let suffix = if dirty { "-dirty" } else { "" };
        println!("cargo:rustc-env=ACCELBENCH_GIT_COMMIT={commit}{suffix}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Some(v) = out(&rustc, &["--version"]) {
        println!("cargo:rustc-env=ACCELBENCH_RUSTC={v}");
    }
}
