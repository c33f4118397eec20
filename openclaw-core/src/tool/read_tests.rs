use super::*;
use serde_json::json;

async fn read(dir: &std::path::Path, args: Value) -> Result<ToolOutput, ToolError> {
    ReadTool::new(Arc::new(ToolEnv::new(dir)))
        .execute(args, ToolCallContext::detached("c"))
        .await
}

fn text(out: &ToolOutput) -> &str {
    out.content[0].as_text().unwrap()
}

#[tokio::test]
async fn golden_texts() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("notes.txt"), "alpha\nbeta\ngamma\n").unwrap();
    let out = read(d.path(), json!({"path": "notes.txt"})).await.unwrap();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"content":[{"type":"text","text":"alpha\nbeta\ngamma\n"}]}"#
    );
    let out = read(
        d.path(),
        json!({"path": "notes.txt", "offset": 2, "limit": 1}),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"content":[{"type":"text","text":"beta\n\n[2 more lines in file. Use offset=3 to continue.]"}]}"#
    );
    let err = read(d.path(), json!({"path": "missing.txt"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "ENOENT: no such file or directory, access '{}/missing.txt'",
            d.path().display()
        )
    );
}

#[tokio::test]
async fn offset_past_end() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("n.txt"), "a\nb\nc\n").unwrap();
    // "a\nb\nc\n" is four lines to pi (the last one empty).
    let out = read(d.path(), json!({"path": "n.txt", "offset": 4}))
        .await
        .unwrap();
    assert_eq!(text(&out), "");
    let err = read(d.path(), json!({"path": "n.txt", "offset": 5}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "Offset 5 is beyond end of file (4 lines total)"
    );
    let out = read(d.path(), json!({"path": "n.txt", "offset": 2}))
        .await
        .unwrap();
    assert_eq!(text(&out), "b\nc\n");
}

#[tokio::test]
async fn line_limit_truncation_and_continuation() {
    let d = tempfile::tempdir().unwrap();
    let body: String = (1..=2500).map(|i| format!("line {i}\n")).collect();
    std::fs::write(d.path().join("long.txt"), body).unwrap();
    let out = read(d.path(), json!({"path": "long.txt"})).await.unwrap();
    let t = text(&out);
    assert!(t.starts_with("line 1\n"));
    assert!(
        t.ends_with("line 2000\n\n[Showing lines 1-2000 of 2501. Use offset=2001 to continue.]")
    );
    let details = out.details.unwrap();
    assert_eq!(details["truncation"]["truncatedBy"], "lines");
    assert_eq!(details["truncation"]["outputLines"], 2000);

    let out = read(d.path(), json!({"path": "long.txt", "offset": 2001}))
        .await
        .unwrap();
    assert!(text(&out).starts_with("line 2001\n"));
    assert!(out.details.is_none());
}

#[tokio::test]
async fn byte_limit_truncation() {
    let d = tempfile::tempdir().unwrap();
    let line = "x".repeat(99);
    let body: String = (0..1000).map(|_| format!("{line}\n")).collect();
    std::fs::write(d.path().join("wide.txt"), body).unwrap();
    let out = read(d.path(), json!({"path": "wide.txt"})).await.unwrap();
    let t = text(&out);
    assert!(t.ends_with(&format!(
        "{line}\n\n[Showing lines 1-512 of 1001 (50.0KB limit). Use offset=513 to continue.]"
    )));
    assert_eq!(out.details.unwrap()["truncation"]["truncatedBy"], "bytes");
}

#[tokio::test]
async fn huge_first_line_hint() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("big.txt"),
        format!("{}\nsmall\n", "y".repeat(60_000)),
    )
    .unwrap();
    let out = read(d.path(), json!({"path": "big.txt"})).await.unwrap();
    assert_eq!(
        text(&out),
        "[Line 1 is 58.6KB, exceeds 50.0KB limit. Use bash: sed -n '1p' big.txt | head -c 51200]"
    );
    assert_eq!(
        out.details.unwrap()["truncation"]["firstLineExceedsLimit"],
        true
    );
    let out = read(d.path(), json!({"path": "big.txt", "offset": 2}))
        .await
        .unwrap();
    assert_eq!(text(&out), "small\n");
}

#[tokio::test]
async fn images_by_content() {
    let d = tempfile::tempdir().unwrap();
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    std::fs::write(d.path().join("pic.dat"), &png).unwrap();
    std::fs::write(d.path().join("fake.png"), "not an image").unwrap();
    let out = read(d.path(), json!({"path": "pic.dat"})).await.unwrap();
    assert_eq!(out.content.len(), 2);
    assert_eq!(text(&out), "Read image file [image/png]");
    match &out.content[1] {
        ContentBlock::Image(img) => {
            assert_eq!(img.mime_type, "image/png");
            assert_eq!(
                base64::engine::general_purpose::STANDARD
                    .decode(&img.data)
                    .unwrap(),
                png
            );
        }
        other => panic!("expected an image, got {other:?}"),
    }
    let out = read(d.path(), json!({"path": "fake.png"})).await.unwrap();
    assert_eq!(text(&out), "not an image");
    assert_eq!(sniff_image_mime(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
    assert_eq!(sniff_image_mime(b"GIF89a.."), Some("image/gif"));
    assert_eq!(
        sniff_image_mime(b"RIFF\0\0\0\0WEBPVP8 "),
        Some("image/webp")
    );
    assert_eq!(sniff_image_mime(b"RIFF\0\0\0\0WAVE"), None);
}

#[tokio::test]
async fn aborted_before_start() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a"), "x").unwrap();
    let ctx = ToolCallContext::detached("c");
    ctx.cancel.cancel();
    let err = ReadTool::new(Arc::new(ToolEnv::new(d.path())))
        .execute(json!({"path": "a"}), ctx)
        .await
        .unwrap_err();
    assert_eq!(err.message, "Operation aborted");
}

#[tokio::test]
async fn large_image_is_resized_with_a_note() {
    let d = tempfile::tempdir().unwrap();
    let img = ::image::DynamicImage::ImageRgb8(::image::RgbImage::new(3000, 10));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, ::image::ImageFormat::Png).unwrap();
    std::fs::write(d.path().join("wide.png"), png.into_inner()).unwrap();
    let out = read(d.path(), json!({"path": "wide.png"})).await.unwrap();
    let note = text(&out);
    assert!(note.starts_with("Read image file [image/"), "{note}");
    assert!(note.ends_with("\n[Image: original 3000x10, displayed at 2000x7. Multiply coordinates by 1.50 to map to original image.]"), "{note}");
    let ContentBlock::Image(block) = &out.content[1] else {
        panic!("no image block")
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&block.data)
        .unwrap();
    assert_eq!(::image::load_from_memory(&bytes).unwrap().width(), 2000);
}
