//! What this host can boot: a VM whose vCPUs or memory it cannot serve is refused before QEMU starts,
//! with the limits it can serve. Under TCG every vCPU is a host thread, so a guest much wider than the
//! host crawls: a 2-core host took over 90 s without reaching the first guest message at 128 vCPUs.

use super::{Accel, VmError};
use crate::topology::Topology;

/// vCPUs per host CPU under TCG: beyond this the guest spends its time waiting for host threads.
const TCG_VCPUS_PER_HOST_CPU: u32 = 8;
/// vCPUs per host CPU under KVM, where vCPUs run natively and overcommit is cheap.
const KVM_VCPUS_PER_HOST_CPU: u32 = 16;
/// The guest kernel's CONFIG_NR_CPUS.
const GUEST_NR_CPUS: u32 = 256;

/// The most vCPUs a guest may have on a host with `host_cpus` CPUs under `accel`.
pub fn vcpu_limit(accel: Accel, host_cpus: u32) -> u32 {
    let per_cpu = match accel {
        Accel::Tcg => TCG_VCPUS_PER_HOST_CPU,
        Accel::Kvm => KVM_VCPUS_PER_HOST_CPU,
    };
    host_cpus.max(1).saturating_mul(per_cpu).min(GUEST_NR_CPUS)
}

/// Refuses `topology` when this host cannot run it under `accel`.
pub fn check_capacity(topology: &Topology, accel: Accel) -> Result<(), VmError> {
    let host_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    check_capacity_on(topology, accel, host_cpus)
}

/// `check_capacity` on a host of `host_cpus` CPUs.
pub fn check_capacity_on(topology: &Topology, accel: Accel, host_cpus: u32) -> Result<(), VmError> {
    let limit = vcpu_limit(accel, host_cpus);
    let requested = topology.total_cpus();
    if requested > limit {
        return Err(VmError::TooManyVcpus {
            topology: topology.to_string(),
            requested,
            limit,
            accel,
            host_cpus,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_the_accelerator_and_the_guest_kernel() {
        assert_eq!(vcpu_limit(Accel::Tcg, 2), 16);
        assert_eq!(vcpu_limit(Accel::Kvm, 2), 32);
        assert_eq!(vcpu_limit(Accel::Kvm, 64), 256);
        assert_eq!(vcpu_limit(Accel::Tcg, 0), 8);
    }

    #[test]
    fn a_topology_wider_than_the_host_can_serve_is_refused_naming_the_limit() {
        let topo = |t: &str| t.parse::<Topology>().unwrap();
        assert!(check_capacity_on(&topo("2n4l2c2t"), Accel::Tcg, 2).is_ok());
        for wide in ["2n8l4c2t", "4n64l16c2t"] {
            let err = check_capacity_on(&topo(wide), Accel::Tcg, 2).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("at most 16 vCPUs") && text.contains(wide),
                "{text}"
            );
        }
    }
}
