//! Shared support for the sandbox crate's tests: looking at the host's processes (a sandbox's
//! and a container's processes are the host's too).

/// Live (not zombie) host processes whose command line (NULs as spaces) satisfies `matches`.
pub fn host_procs(matches: impl Fn(&str) -> bool) -> Vec<i32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'));
        if !zombie && matches(&String::from_utf8_lossy(&cmdline).replace('\0', " ")) {
            found.push(pid);
        }
    }
    found
}
