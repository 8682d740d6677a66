//! `#[ktstr_test]` mistakes are compile errors that point at the attribute and name the fix
//! (expected output in tests/ui/*.stderr); `TRYBUILD=overwrite` regenerates them after a deliberate change.

#[test]
fn attribute_mistakes_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
