//! Which kernel a VM test boots: `KTSTR_KERNEL`, then the newest fit cache entry, then an error.

use ktstr::kernel::{resolve_kernel_in, Cache, Fragment, KernelError, KernelFlavor, KernelOrigin};

use super::fake::{fake_entry, fake_tree, WORKING};

#[test]
fn resolution_order_is_env_then_newest_fit_entry_then_an_error() {
    let scratch = tempfile::tempdir().unwrap();
    let cache = Cache::at(scratch.path());
    let hash = Fragment::ktstr().hash();
    let no_kernel = resolve_kernel_in(None, KernelFlavor::Default, &cache).unwrap_err();
    assert!(
        matches!(no_kernel, KernelError::NoKernel { .. })
            && no_kernel.to_string().contains("run `ktstr kernel build`")
    );

    fake_entry(&cache, "stale", 50, "0ld");
    let stale = resolve_kernel_in(None, KernelFlavor::Default, &cache).unwrap_err();
    assert!(
        matches!(stale, KernelError::OnlyStaleKernels { count: 1, .. }),
        "{stale}"
    );

    let old = fake_entry(&cache, "old", 10, &hash);
    fake_entry(&cache, "new", 20, &hash);
    assert_eq!(
        resolve_kernel_in(None, KernelFlavor::Default, &cache)
            .unwrap()
            .origin(),
        &KernelOrigin::Cache("new".into())
    );
    assert_eq!(
        resolve_kernel_in(Some("old".as_ref()), KernelFlavor::Default, &cache)
            .unwrap()
            .origin(),
        &KernelOrigin::Cache("old".into())
    );
    let image = resolve_kernel_in(
        Some(old.join("bzImage").as_os_str()),
        KernelFlavor::Default,
        &cache,
    )
    .unwrap();
    assert_eq!(
        (image.origin(), image.image()),
        (&KernelOrigin::Image, old.join("bzImage").as_path())
    );
    assert_eq!(
        resolve_kernel_in(Some(old.as_os_str()), KernelFlavor::Default, &cache)
            .unwrap()
            .origin(),
        &KernelOrigin::Cache("old".into())
    );

    let tree = scratch.path().join("linux");
    fake_tree(&tree, &WORKING);
    assert!(matches!(
        resolve_kernel_in(Some(tree.as_os_str()), KernelFlavor::Default, &cache),
        Err(KernelError::TreeNotBuilt { .. })
    ));
    std::fs::create_dir_all(tree.join("arch/x86/boot")).unwrap();
    std::fs::copy(old.join("bzImage"), tree.join("arch/x86/boot/bzImage")).unwrap();
    assert_eq!(
        resolve_kernel_in(Some(tree.as_os_str()), KernelFlavor::Default, &cache)
            .unwrap()
            .origin(),
        &KernelOrigin::Tree(tree.clone())
    );
    assert!(matches!(
        resolve_kernel_in(Some("nope".as_ref()), KernelFlavor::Default, &cache),
        Err(KernelError::UnknownKernel { .. })
    ));
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
