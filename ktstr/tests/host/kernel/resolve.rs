//! Which kernel a VM test boots: `KTSTR_KERNEL`, then the newest fit cache entry, then an error.

use std::ffi::OsStr;

use ktstr::kernel::{
    resolve_kernel_in, Cache, Fragment, KernelError, KernelFlavor, KernelOrigin, ResolvedKernel,
};

use super::fake::{fake_entry, fake_tree, WORKING};

/// The default flavor's kernel with `KTSTR_KERNEL` set to `env`.
fn resolve(env: Option<&OsStr>, cache: &Cache) -> Result<ResolvedKernel, KernelError> {
    resolve_kernel_in(env, KernelFlavor::Default, cache)
}

#[test]
fn with_no_fit_entry_resolution_is_an_error_naming_the_build_command() {
    let scratch = tempfile::tempdir().unwrap();
    let cache = Cache::at(scratch.path());
    let no_kernel = resolve(None, &cache).unwrap_err();
    assert!(
        matches!(no_kernel, KernelError::NoKernel { .. })
            && no_kernel.to_string().contains("run `ktstr kernel build`")
    );
    fake_entry(&cache, "stale", 50, "0ld");
    let stale = resolve(None, &cache).unwrap_err();
    assert!(
        matches!(stale, KernelError::OnlyStaleKernels { count: 1, .. }),
        "{stale}"
    );
}

#[test]
fn the_newest_fit_entry_wins_unless_ktstr_kernel_names_an_entry_or_image() {
    let scratch = tempfile::tempdir().unwrap();
    let cache = Cache::at(scratch.path());
    let hash = Fragment::ktstr().hash();
    fake_entry(&cache, "stale", 50, "0ld");
    let old = fake_entry(&cache, "old", 10, &hash);
    fake_entry(&cache, "new", 20, &hash);
    let origin = |env: Option<&OsStr>| resolve(env, &cache).unwrap().origin().clone();
    assert_eq!(origin(None), KernelOrigin::Cache("new".into()));
    assert_eq!(
        origin(Some("old".as_ref())),
        KernelOrigin::Cache("old".into())
    );
    assert_eq!(
        origin(Some(old.as_os_str())),
        KernelOrigin::Cache("old".into())
    );
    let image = resolve(Some(old.join("bzImage").as_os_str()), &cache).unwrap();
    assert_eq!(
        (image.origin(), image.image()),
        (&KernelOrigin::Image, old.join("bzImage").as_path())
    );
    assert!(matches!(
        resolve(Some("nope".as_ref()), &cache),
        Err(KernelError::UnknownKernel { .. })
    ));
}

#[test]
fn ktstr_kernel_naming_a_source_tree_boots_it_once_built() {
    let scratch = tempfile::tempdir().unwrap();
    let cache = Cache::at(scratch.path());
    let old = fake_entry(&cache, "old", 10, &Fragment::ktstr().hash());
    let tree = scratch.path().join("linux");
    fake_tree(&tree, &WORKING);
    assert!(matches!(
        resolve(Some(tree.as_os_str()), &cache),
        Err(KernelError::TreeNotBuilt { .. })
    ));
    std::fs::create_dir_all(tree.join("arch/x86/boot")).unwrap();
    std::fs::copy(old.join("bzImage"), tree.join("arch/x86/boot/bzImage")).unwrap();
    assert_eq!(
        resolve(Some(tree.as_os_str()), &cache).unwrap().origin(),
        &KernelOrigin::Tree(tree.clone())
    );
}

#[test]
fn ktstr_kernel_pointing_at_a_non_kernel_file_names_the_fix() {
    let scratch = tempfile::tempdir().unwrap();
    let junk = scratch.path().join("bzImage");
    std::fs::write(&junk, vec![7u8; 4096]).unwrap();
    let err = resolve_kernel_in(
        Some(junk.as_os_str()),
        KernelFlavor::Default,
        &Cache::at(scratch.path()),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, KernelError::NotAKernelImage { .. }),
        "{err:?}"
    );
    assert!(
        message.starts_with("KTSTR_KERNEL=")
            && message.contains("point it at arch/x86/boot/bzImage"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1);
}

#[test]
fn each_flavor_resolves_only_its_own_entries() {
    let scratch = tempfile::tempdir().unwrap();
    let cache = Cache::at(scratch.path());
    fake_entry(&cache, "plain", 10, &Fragment::ktstr().hash());
    let debug = resolve_kernel_in(None, KernelFlavor::Debug, &cache).unwrap_err();
    assert!(
        matches!(
            debug,
            KernelError::OnlyStaleKernels {
                count: 1,
                flavor: KernelFlavor::Debug,
                ..
            }
        ) && debug
            .to_string()
            .contains("ktstr kernel build --flavor debug"),
        "{debug}"
    );
    fake_entry(&cache, "lockdep", 5, &KernelFlavor::Debug.fragment().hash());
    let origin = |flavor| {
        resolve_kernel_in(None, flavor, &cache)
            .unwrap()
            .origin()
            .clone()
    };
    assert_eq!(
        origin(KernelFlavor::Debug),
        KernelOrigin::Cache("lockdep".into())
    );
    assert_eq!(
        origin(KernelFlavor::Default),
        KernelOrigin::Cache("plain".into())
    );
}
