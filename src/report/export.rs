//! PDF and PNG beside an SVG figure (cargo feature `figures`, on by default): the SVG is
//! parsed once by `usvg`, drawn by `svg2pdf` (vector, text embedded as a font subset) and by
//! `resvg` (300 dpi, white background, the resolution recorded in the PNG's `pHYs` chunk).
//!
//! Text is set in the bundled DejaVu Sans (`data/fonts/`, embedded in the binary) and in no
//! other font, so a figure renders the same on every machine, fonts installed or not.

use super::Res;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The bundled font (DejaVu Sans 2.37, Bitstream Vera licence: `data/fonts/LICENSE`).
pub const FONT: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

/// The resolution of the PNG files, dots per inch.
pub const DPI: f64 = 300.0;

/// CSS pixels per inch: how `usvg` turns an SVG's millimetres into its user units.
const CSS_DPI: f64 = 96.0;

/// Largest PNG side we render, px (a 175 mm figure at 300 dpi is 2067 px wide; this bounds
/// the pixmap a very tall figure would allocate).
const MAX_SIDE: u32 = 12_000;

/// The parse options with the bundled font as every generic family, built once.
fn options() -> &'static resvg::usvg::Options<'static> {
    static OPTIONS: OnceLock<resvg::usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        for set in [
            resvg::usvg::fontdb::Database::set_sans_serif_family,
            resvg::usvg::fontdb::Database::set_serif_family,
            resvg::usvg::fontdb::Database::set_monospace_family,
        ] {
            set(&mut db, "DejaVu Sans");
        }
        let mut options = resvg::usvg::Options {
            font_family: "DejaVu Sans".into(),
            ..Default::default()
        };
        options.fontdb = Arc::new(db);
        options
    })
}

/// Writes `X.pdf` and `X.png` beside `X.svg` (the SVG's declared size in mm is the page
/// size and, at [`DPI`], the PNG's); returns both paths.
pub fn pdf_and_png(svg: &Path) -> Res<Vec<PathBuf>> {
    let text = std::fs::read_to_string(svg)?;
    let tree = resvg::usvg::Tree::from_str(&text, options())
        .map_err(|e| anyhow::anyhow!("{}: {e}", svg.display()))?;
    let pdf = svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions {
            dpi: CSS_DPI as f32,
        },
    )
    .map_err(|e| anyhow::anyhow!("{}: PDF: {e}", svg.display()))?;
    let pdf_path = svg.with_extension("pdf");
    crate::output::atomic_write(&pdf_path, &pdf)?;
    let png_path = svg.with_extension("png");
    crate::output::atomic_write(&png_path, &png(&tree, svg)?)?;
    Ok(vec![pdf_path, png_path])
}

/// The tree drawn at [`DPI`] on white, encoded as an 8-bit RGB PNG with its resolution.
fn png(tree: &resvg::usvg::Tree, svg: &Path) -> Res<Vec<u8>> {
    let size = tree.size();
    let scale = DPI / CSS_DPI;
    let px = |v: f32| (f64::from(v) * scale).round() as u32;
    let (w, h) = (px(size.width()), px(size.height()));
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        anyhow::bail!(
            "{}: {w} × {h} px at {DPI} dpi, outside 1 … {MAX_SIDE} px a side",
            svg.display()
        );
    }
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| anyhow::anyhow!("{}: no {w} × {h} pixmap", svg.display()))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    let transform =
        resvg::tiny_skia::Transform::from_scale(w as f32 / size.width(), h as f32 / size.height());
    resvg::render(tree, transform, &mut pixmap.as_mut());
    // Opaque on white, so the premultiplied pixels are the plain ones: keep R, G, B.
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = vec![];
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let per_metre = (DPI / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_metre,
        yppu: per_metre,
        unit: png::Unit::Meter,
    }));
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

/// A piece of a figure's text and the box it takes on the page, in the SVG's pixels.
#[derive(Debug, Clone)]
pub struct TextBox {
    /// The text.
    pub text: String,
    /// Left, top, right, bottom.
    pub rect: [f32; 4],
}

/// The drawing's size in its own pixels and every text's box as the bundled font sets it,
/// for checking that no text leaves the page or covers another.
pub fn text_boxes(svg: &Path) -> Res<((f32, f32), Vec<TextBox>)> {
    let text = std::fs::read_to_string(svg)?;
    let tree = resvg::usvg::Tree::from_str(&text, options())
        .map_err(|e| anyhow::anyhow!("{}: {e}", svg.display()))?;
    // The root carries the mm-to-pixel scale of the declared size: undo it.
    let view = text
        .split_once("viewBox=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| {
            v.split(' ')
                .filter_map(|x| x.parse::<f32>().ok())
                .collect::<Vec<_>>()
        })
        .filter(|v| v.len() == 4)
        .ok_or_else(|| anyhow::anyhow!("{}: no viewBox", svg.display()))?;
    let scale = tree.size().width() / view[2];
    let mut boxes = vec![];
    collect(tree.root(), scale, &mut boxes);
    Ok(((view[2], view[3]), boxes))
}

fn collect(group: &resvg::usvg::Group, scale: f32, out: &mut Vec<TextBox>) {
    for node in group.children() {
        match node {
            resvg::usvg::Node::Group(g) => collect(g, scale, out),
            resvg::usvg::Node::Text(t) => {
                let b = t.abs_bounding_box();
                out.push(TextBox {
                    text: t.chunks().iter().map(|c| c.text()).collect(),
                    rect: [
                        b.left() / scale,
                        b.top() / scale,
                        b.right() / scale,
                        b.bottom() / scale,
                    ],
                });
            }
            _ => {}
        }
    }
}

/// The characters of `text` the bundled font has no glyph for (a figure's text must have
/// none: they would render as empty boxes).
pub fn missing_glyphs(text: &str) -> Vec<char> {
    let face = ttf_parser::Face::parse(FONT, 0).expect("the bundled font parses");
    let mut missing: Vec<char> = text
        .chars()
        .filter(|&c| !c.is_control() && face.glyph_index(c).is_none())
        .collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_has_every_character_the_figures_use() {
        // Every non-ASCII character in the report's sources, and ASCII.
        let sources = [
            include_str!("mod.rs"),
            include_str!("figure3.rs"),
            include_str!("html.rs"),
        ];
        let used: String = sources
            .iter()
            .flat_map(|s| s.chars())
            .filter(|c| !c.is_ascii())
            .chain(' '..='~')
            .collect();
        assert_eq!(missing_glyphs(&used), Vec::<char>::new());
        // And the check can fail: a character DejaVu Sans lacks.
        assert_eq!(missing_glyphs("a\u{4E2D}"), vec!['\u{4E2D}']);
    }
}
