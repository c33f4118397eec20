//! The Landlock layer of the native sandbox: everything readable (bubblewrap already decided
//! what is visible), writes only below the writable paths, and no TCP connect or bind unless
//! the network is allowed. Also the availability probe: the best ABI the kernel offers.

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, path_beneath_rules,
};

use crate::helper::HelperSpec;

/// The newest ABI this crate knows; older kernels get what they support (best effort), but a
/// kernel without Landlock at all is refused.
const ABI_WANTED: ABI = ABI::V6;

/// Restricts this process (and what it `exec`s).
pub(crate) fn apply(spec: &HelperSpec) -> Result<(), String> {
    let fail = |e: landlock::RulesetError| format!("landlock: {e}");
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(ABI_WANTED))
        .map_err(fail)?;
    if !spec.network {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(ABI_WANTED))
            .map_err(fail)?;
    }
    let status = ruleset
        .create()
        .map_err(fail)?
        .add_rules(path_beneath_rules(["/"], AccessFs::from_read(ABI_WANTED)))
        .map_err(fail)?
        .add_rules(path_beneath_rules(
            &spec.writable,
            AccessFs::from_all(ABI_WANTED),
        ))
        .map_err(fail)?
        .restrict_self()
        .map_err(fail)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("landlock: the kernel enforces no Landlock rules".into());
    }
    Ok(())
}

/// The highest Landlock ABI the running kernel supports, or why there is none.
pub(crate) fn probe() -> Result<u8, String> {
    let all = [ABI::V6, ABI::V5, ABI::V4, ABI::V3, ABI::V2, ABI::V1];
    for abi in all {
        let made = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(abi))
            .and_then(|r| r.create());
        if made.is_ok() {
            return Ok(abi as u8);
        }
    }
    Err("the kernel offers no Landlock ABI (needs Linux 5.13+ with Landlock enabled)".into())
}
