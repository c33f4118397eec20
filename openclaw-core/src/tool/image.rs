//! Fitting images for the model, as pi's `read` does: an image larger than 2000x2000 (or whose
//! base64 is over 4.5 MB) is scaled down, keeping its aspect ratio, and re-encoded as the
//! smaller of PNG and JPEG; the text note then says how coordinates map back.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, ImageFormat};

/// Largest width and height sent.
pub const MAX_DIMENSION: u32 = 2000;
/// Largest base64 payload sent.
pub const MAX_BASE64_BYTES: usize = 4_718_592; // 4.5 MB

/// An image ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedImage {
    pub bytes: Vec<u8>,
    pub mime_type: String,
    pub original: (u32, u32),
    pub displayed: (u32, u32),
}

impl FittedImage {
    pub fn was_resized(&self) -> bool {
        self.original != self.displayed
    }

    /// pi's note for a resized image, `None` if it was sent as it was.
    pub fn dimension_note(&self) -> Option<String> {
        if !self.was_resized() {
            return None;
        }
        let (ow, oh) = self.original;
        let (w, h) = self.displayed;
        let scale = ow as f64 / w.max(1) as f64;
        Some(format!(
            "[Image: original {ow}x{oh}, displayed at {w}x{h}. Multiply coordinates by {scale:.2} to map to original image.]"
        ))
    }
}

fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

fn encode_png(img: &DynamicImage) -> Option<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

fn encode_jpeg(img: &DynamicImage, quality: u8) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&DynamicImage::ImageRgb8(img.to_rgb8()))
        .ok()?;
    Some(out)
}

/// Fit `bytes` (of type `mime`) within the limits. Images that cannot be decoded are passed
/// through unchanged.
pub fn fit_image(bytes: &[u8], mime: &str) -> FittedImage {
    let passthrough = |dims: (u32, u32)| FittedImage {
        bytes: bytes.to_vec(),
        mime_type: mime.to_string(),
        original: dims,
        displayed: dims,
    };
    let Ok(img) = image::load_from_memory(bytes) else {
        return passthrough((0, 0));
    };
    let (w, h) = img.dimensions();
    if w <= MAX_DIMENSION && h <= MAX_DIMENSION && base64_len(bytes.len()) <= MAX_BASE64_BYTES {
        return passthrough((w, h));
    }
    let mut bound = MAX_DIMENSION.min(w.max(h));
    for _ in 0..8 {
        let scaled = img.resize(bound, bound, FilterType::Triangle);
        let mut candidates: Vec<(Vec<u8>, &str)> = Vec::new();
        if let Some(p) = encode_png(&scaled) {
            candidates.push((p, "image/png"));
        }
        for q in [80u8, 60, 40] {
            if let Some(j) = encode_jpeg(&scaled, q) {
                candidates.push((j, "image/jpeg"));
            }
            let best = candidates
                .iter()
                .filter(|(b, _)| base64_len(b.len()) <= MAX_BASE64_BYTES)
                .min_by_key(|(b, _)| b.len());
            if let Some((b, m)) = best {
                return FittedImage {
                    bytes: b.clone(),
                    mime_type: m.to_string(),
                    original: (w, h),
                    displayed: scaled.dimensions(),
                };
            }
        }
        bound = (bound as f64 * 0.75) as u32;
    }
    passthrough((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_images_are_scaled_to_fit() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(4000, 30, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
        }));
        let png = encode_png(&img).unwrap();
        let fitted = fit_image(&png, "image/png");
        assert_eq!(fitted.original, (4000, 30));
        assert_eq!(fitted.displayed, (2000, 15));
        let decoded = image::load_from_memory(&fitted.bytes).unwrap();
        assert_eq!(decoded.dimensions(), (2000, 15));
        assert_eq!(
            fitted.dimension_note().unwrap(),
            "[Image: original 4000x30, displayed at 2000x15. Multiply coordinates by 2.00 to map to original image.]"
        );
    }

    #[test]
    fn small_images_pass_through() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(10, 20));
        let png = encode_png(&img).unwrap();
        let fitted = fit_image(&png, "image/png");
        assert_eq!(fitted.bytes, png);
        assert!(fitted.dimension_note().is_none());
        // Undecodable data is sent as it is.
        let junk = b"\x89PNG\r\n\x1a\nbroken".to_vec();
        assert_eq!(fit_image(&junk, "image/png").bytes, junk);
    }
}
