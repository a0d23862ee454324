//! Host fingerprint: CPU, cores, memory, OS, kernel, build commit. Read through sysinfo.

use sysinfo::System;

use crate::results::Host;

fn system() -> Option<System> {
    System::new().ok()
}

/// Fingerprint of the machine this process runs on. Never fails: unknown fields say so.
pub fn host() -> Host {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let (cpu_model, memory_bytes) = match system() {
        Some(mut sys) => {
            sys.refresh_memory();
            sys.refresh_cpu_all();
            let model = sys
                .cpus()
                .first()
                .map(|c| c.brand().trim().to_string())
                .filter(|s| !s.is_empty());
            (model, sys.total_memory())
        }
        None => (None, 0),
    };
    Host {
        hostname: System::host_name().unwrap_or_else(|_| "unknown-host".into()),
        os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into()),
        kernel: System::kernel_version().unwrap_or_else(|_| "unknown".into()),
        cpu_model: cpu_model.unwrap_or_else(|| "unknown CPU".into()),
        cores: System::physical_core_count().unwrap_or(threads),
        threads,
        memory_bytes,
        git_commit: option_env!("ACCELBENCH_GIT_COMMIT").map(str::to_string),
        rustc: option_env!("ACCELBENCH_RUSTC").map(str::to_string),
    }
}

/// Memory currently available to new allocations, bytes (0 when unknown).
pub fn available_memory_bytes() -> u64 {
    system()
        .map(|mut sys| {
            sys.refresh_memory();
            sys.available_memory()
        })
        .unwrap_or(0)
}

/// CPU frequency in MHz as the OS reports it, if known.
pub fn cpu_frequency_mhz() -> Option<u64> {
    let mut sys = system()?;
    sys.refresh_cpu_all();
    sys.cpus().first().map(|c| c.frequency()).filter(|&f| f > 0)
}
