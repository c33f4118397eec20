use super::*;
use serde_json::json;

const CODE: &str = "def main():\n    pass\n\n\ndef helper():\n    pass\n";

async fn edit(dir: &std::path::Path, args: Value) -> Result<ToolOutput, ToolError> {
    EditTool::new(Arc::new(ToolEnv::new(dir)))
        .execute(args, ToolCallContext::detached("c"))
        .await
}

#[tokio::test]
async fn golden_sequence() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("code.py");
    std::fs::write(&f, CODE).unwrap();
    let out = edit(
        d.path(),
        json!({"path": "code.py", "edits": [{"oldText": "def main():", "newText": "def main(argv):"}]}),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"content":[{"type":"text","text":"Successfully replaced 1 block(s) in code.py."}],"details":{"diff":"-1 def main():\n+1 def main(argv):\n 2     pass\n 3 \n 4 \n 5 def helper():\n   ...","firstChangedLine":1}}"#
    );
    let err = edit(
        d.path(),
        json!({"path": "code.py", "edits": [{"oldText": "pass", "newText": "return 0"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        "Found 2 occurrences of the text in code.py. The text must be unique. Please provide more context to make it unique."
    );
    let err = edit(
        d.path(),
        json!({"path": "code.py", "edits": [{"oldText": "no such text", "newText": "x"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        "Could not find the exact text in code.py. The old text must match exactly including all whitespace and newlines."
    );
    // Legacy top-level form.
    let out = edit(
        d.path(),
        json!({"path": "code.py", "oldText": "def helper():", "newText": "def helper2():"}),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"content":[{"type":"text","text":"Successfully replaced 1 block(s) in code.py."}],"details":{"diff":" 1 def main(argv):\n 2     pass\n 3 \n 4 \n-5 def helper():\n+5 def helper2():\n 6     pass","firstChangedLine":5}}"#
    );
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "def main(argv):\n    pass\n\n\ndef helper2():\n    pass\n"
    );
}

#[test]
fn legacy_form_is_folded_after_edits() {
    let tool = EditTool::new(Arc::new(ToolEnv::new("/")));
    let folded = tool.prepare_arguments(json!({
        "path": "p", "edits": [{"oldText": "a", "newText": "b"}], "oldText": "c", "newText": "d"
    }));
    assert_eq!(
        folded,
        json!({"path": "p", "edits": [{"oldText": "a", "newText": "b"}, {"oldText": "c", "newText": "d"}]})
    );
    let untouched = json!({"path": "p", "edits": []});
    assert_eq!(tool.prepare_arguments(untouched.clone()), untouched);
}

#[tokio::test]
async fn multiple_edits_match_the_original_and_must_not_overlap() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("f.txt"), "one\ntwo\nthree\n").unwrap();
    let out = edit(
        d.path(),
        json!({"path": "f.txt", "edits": [
            {"oldText": "three", "newText": "3"},
            {"oldText": "one", "newText": "two"}
        ]}),
    )
    .await
    .unwrap();
    assert_eq!(
        out.content[0].as_text(),
        Some("Successfully replaced 2 block(s) in f.txt.")
    );
    assert_eq!(
        std::fs::read_to_string(d.path().join("f.txt")).unwrap(),
        "two\ntwo\n3\n"
    );

    let err = edit(
        d.path(),
        json!({"path": "f.txt", "edits": [
            {"oldText": "two\ntwo", "newText": "x"},
            {"oldText": "two\n3", "newText": "y"}
        ]}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        "edits[0] and edits[1] overlap in f.txt. Merge them into one edit or target disjoint regions."
    );
    let err = edit(
        d.path(),
        json!({"path": "f.txt", "edits": [
            {"oldText": "3", "newText": "x"},
            {"oldText": "two", "newText": "y"}
        ]}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        "Found 2 occurrences of edits[1] in f.txt. Each oldText must be unique. Please provide more context to make it unique."
    );
    let err = edit(
        d.path(),
        json!({"path": "f.txt", "edits": [
            {"oldText": "3", "newText": "x"},
            {"oldText": "nope", "newText": "y"}
        ]}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        "Could not find edits[1] in f.txt. The oldText must match exactly including all whitespace and newlines."
    );
    // Nothing was written by the failed calls.
    assert_eq!(
        std::fs::read_to_string(d.path().join("f.txt")).unwrap(),
        "two\ntwo\n3\n"
    );
}

#[tokio::test]
async fn crlf_and_bom_are_preserved() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("w.txt");
    std::fs::write(&f, "\u{FEFF}first\r\nsecond\r\nthird\r\n").unwrap();
    let out = edit(
        d.path(),
        json!({"path": "w.txt", "edits": [{"oldText": "second\nthird", "newText": "2nd\n3rd"}]}),
    )
    .await
    .unwrap();
    assert_eq!(out.details.as_ref().unwrap()["firstChangedLine"], 2);
    assert_eq!(
        std::fs::read(&f).unwrap(),
        "\u{FEFF}first\r\n2nd\r\n3rd\r\n".as_bytes()
    );
}

#[tokio::test]
async fn fuzzy_match_rewrites_in_normalised_form() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("q.txt");
    std::fs::write(&f, "say \u{201C}hi\u{201D}   \nnext\u{2014}line\n").unwrap();
    edit(
        d.path(),
        json!({"path": "q.txt", "edits": [{"oldText": "say \"hi\"\n", "newText": "say \"hello\"\n"}]}),
    )
    .await
    .unwrap();
    // pi writes the whole file in fuzzy-normalised form when fuzzy matching was used.
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "say \"hello\"\nnext-line\n"
    );
}

#[tokio::test]
async fn other_errors() {
    let d = tempfile::tempdir().unwrap();
    let err = edit(
        d.path(),
        json!({"path": "none.txt", "edits": [{"oldText": "a", "newText": "b"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.message, "File not found: none.txt");
    std::fs::write(d.path().join("s.txt"), "same\n").unwrap();
    let err = edit(
        d.path(),
        json!({"path": "s.txt", "edits": [{"oldText": "same", "newText": "same"}]}),
    )
    .await
    .unwrap_err();
    assert!(
        err.message
            .starts_with("No changes made to s.txt. The replacement produced identical content.")
    );
    let err = edit(
        d.path(),
        json!({"path": "s.txt", "edits": [{"oldText": "", "newText": "b"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.message, "oldText must not be empty in s.txt.");
    let err = edit(d.path(), json!({"path": "s.txt", "edits": []}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "Edit tool input is invalid. edits must contain at least one replacement."
    );
}
