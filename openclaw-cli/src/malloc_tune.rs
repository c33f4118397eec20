//! glibc heap policy for the long-running gateway: freed large blocks go back to the kernel.
//!
//! Each turn builds transient copies that grow with the conversation (the run's working
//! context, the provider's message list, the model request). glibc's default policy keeps
//! that churn: its mmap threshold rises to the largest block freed so far (up to 32 MiB), so
//! ever larger transient buffers come from the heap, and its trim threshold rises with it, so
//! the freed space stays mapped. Fixing both thresholds at startup (`mallopt`) turns the
//! dynamic adjustment off: blocks of 128 KiB and more are mmapped and unmapped when freed, and
//! a free heap top above 128 KiB is trimmed. Measured with `benches/gateway_rss.rs` (1,000
//! chats on one session): RSS growth +9.3 → +6.3 MiB; a periodic `malloc_trim(0)` on top
//! gained nothing more, so there is none.

/// Apply the policy. A no-op on other C libraries.
pub fn apply() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: libc::c_int = 128 * 1024;
        // SAFETY: mallopt only changes allocator parameters; it is called before the
        // runtime's threads start.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD);
        }
    }
}
