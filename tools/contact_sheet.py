"""`python tools/contact_sheet.py`: the README's pictures of text, icons, drawing, progress bars, charts,
effects, overlays, layouts and transitions, from the golden PNGs.

The golden pictures (tests/golden/, drawn by the renderers and compared pixel
for pixel by the tests) are what the panel shows; this lays a chosen few out
as a sheet, each scaled by whole pixels with its caption, so the README shows
what the project renders, not a drawing. `make golden` runs it after
rewriting the goldens; tests/test_render_text.py checks the sheet is current.
"""

import sys
from pathlib import Path

from PIL import Image

from pixie.render import fonts

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SHEETS = {
    "docs/text.png": [
        ("text_font_10x20", 'font "10x20" (clipped)'),
        ("text_font_6x13", 'font "6x13"'),
        ("text_font_4x6", 'font "4x6"'),
        ("text_fallback_cjk_in_6x13", "fallback to unifont"),
        ("text_outline_shadow", "outline, shadow"),
        ("text_align_left", 'align "left"'),
        ("text_align_right", 'align "right"'),
        ("text_offsets", "offset_x, offset_y"),
        ("text_overflow_wrap", 'overflow "wrap"'),
        ("text_overflow_shrink", 'overflow "shrink"'),
        ("text_multi_line_parts", "lines, coloured parts"),
        ("text_top_text", "top_text"),
        ("text_rtl_hebrew_reversed", "right to left"),
        ("text_sans_stays_anti_aliased", 'font "sans"'),
        ("effect_rainbow", "rainbow"),
        ("effect_gradient", "gradient"),
        ("text_scroll_middle", "scrolling"),
    ],
    "docs/icons.png": [
        ("icon_beside_still_text", "icon, still text"),
        ("icon_fixed_first", 'icon_mode "fixed": first'),
        ("icon_fixed_middle", "... middle"),
        ("icon_fixed_last", "... last"),
        ("icon_once_first", 'icon_mode "once": first'),
        ("icon_once_middle", "... middle"),
        ("icon_once_last", "... last"),
        ("icon_scroll_first", 'icon_mode "scroll": first'),
        ("icon_scroll_middle", "... middle"),
        ("icon_scroll_last", "... last"),
    ],
    "docs/draw.png": [
        ("draw_pixel_64x32", "pixel"),
        ("draw_line_64x32", "line"),
        ("draw_rect_64x32", "rect"),
        ("draw_filled_rect_64x32", "filled_rect"),
        ("draw_circle_64x32", "circle"),
        ("draw_filled_circle_64x32", "filled_circle"),
        ("draw_text_64x32", "text"),
        ("draw_bitmap_64x32", "bitmap"),
        ("draw_circle_32x16", "circle on 32x16"),
        ("draw_text_32x16", "text on 32x16"),
        ("draw_awtrix_example", "AWTRIX's example"),
        ("draw_over_scrolling_text", "over a text"),
    ],
    "docs/charts.png": [
        ("progress_alone_64x32", "progress 40"),
        ("progress_with_text_64x32", "progress, text"),
        ("progress_with_icon_64x32", "progress, icon"),
        ("progress_under_text_64x32", "a text's progress"),
        ("chart_bar_64x32", "bar chart"),
        ("chart_line_64x32", "line chart"),
        ("chart_autoscale_64x32", "line, autoscale"),
        ("chart_fixed_range_64x32", "... min 0, max 30"),
        ("chart_baseline_64x32", "baseline 0"),
        ("chart_beside_icon_64x32", "beside an icon"),
        ("chart_under_text_64x32", "under a text"),
        ("progress_with_text_32x16", "progress on 32x16"),
    ],
    "docs/effects.png": [
        ("background_Matrix_later_64x32", "Matrix"),
        ("background_Plasma_later_64x32", "Plasma"),
        ("background_PlasmaCloud_later_64x32", "PlasmaCloud"),
        ("background_Fade_later_64x32", "Fade"),
        ("background_ColorWaves_later_64x32", "ColorWaves"),
        ("background_TwinklingStars_later_64x32", "TwinklingStars"),
        ("background_Ripple_later_64x32", "Ripple"),
        ("background_Radar_later_64x32", "Radar"),
        ("background_MovingLine_later_64x32", "MovingLine"),
        ("background_BrickBreaker_later_64x32", "BrickBreaker"),
        ("background_PingPong_later_64x32", "PingPong"),
        ("background_Checkerboard_later_64x32", "Checkerboard"),
        ("background_Fireworks_later_64x32", "Fireworks"),
        ("background_Snake_later_64x32", "Snake"),
        ("background_Pacifica_later_64x32", "Pacifica"),
        ("background_TheaterChase_later_64x32", "TheaterChase"),
        ("background_SwirlIn_later_64x32", "SwirlIn"),
        ("background_SwirlOut_later_64x32", "SwirlOut"),
        ("background_LookingEyes_later_64x32", "LookingEyes"),
        ("overlay_snow_64x32", "overlay snow"),
        ("overlay_rain_64x32", "overlay rain"),
        ("overlay_storm_64x32", "overlay storm"),
        ("overlay_frost_64x32", "overlay frost"),
    ],
    "docs/layouts.png": [
        ("layout_row_64x32", "row"),
        ("layout_column_64x32", "column"),
        ("layout_stack_64x32", "stack"),
        ("layout_padding_64x32", "padding"),
        ("layout_box_64x32", "box"),
        ("layout_marquee_64x32", "marquee (first frame)"),
        ("layout_weather_64x32", "weather screen"),
        ("layout_energy_64x32", "energy screen"),
        ("layout_row_32x16", "row on 32x16"),
        ("layout_box_32x16", "box on 32x16"),
        ("layout_weather_32x16", "weather on 32x16"),
        ("layout_energy_32x16", "energy on 32x16"),
    ],
    "docs/transitions.png": [
        ("transition_fade_64x32", "fade"),
        ("transition_dim_64x32", "dim"),
        ("transition_slide-up_64x32", "slide-up"),
        ("transition_slide-down_64x32", "slide-down"),
        ("transition_slide-left_64x32", "slide-left"),
        ("transition_slide-right_64x32", "slide-right"),
        ("transition_wipe-up_64x32", "wipe-up"),
        ("transition_wipe-down_64x32", "wipe-down"),
        ("transition_wipe-left_64x32", "wipe-left"),
        ("transition_wipe-right_64x32", "wipe-right"),
        ("transition_zoom_64x32", "zoom"),
        ("transition_rotate_64x32", "rotate"),
        ("transition_pixelate_64x32", "pixelate"),
        ("transition_curtain_64x32", "curtain"),
        ("transition_ripple_64x32", "ripple"),
        ("transition_blink_64x32", "blink"),
        ("transition_reload_64x32", "reload"),
    ],
}
SCALE = 4
COLUMNS = 4
GAP = 8
CAPTION_FONT = "6x13"


def sheet(entries: list[tuple[str, str]]) -> Image.Image:
    tiles = [Image.open(GOLDEN / f"{name}.png").convert("RGB") for name, _ in entries]
    # A strip of moments (a transition's) is three panels wide: half the scale, two to a row.
    wide = max(t.width for t in tiles) > 4 * max(t.height for t in tiles)
    scale, columns = (SCALE // 2, 2) if wide else (SCALE, COLUMNS)
    tile_w = max(t.width for t in tiles) * scale
    tile_h = max(t.height for t in tiles) * scale
    caption = fonts.face(CAPTION_FONT, 13)
    cell_w, cell_h = tile_w + GAP, tile_h + caption.height + 2 * GAP
    rows = -(-len(tiles) // columns)
    out = Image.new("RGB", (columns * cell_w + GAP, rows * cell_h + GAP), (40, 40, 40))
    for i, (tile, (_, text)) in enumerate(zip(tiles, entries, strict=True)):
        x, y = GAP + i % columns * cell_w, GAP + i // columns * cell_h
        out.paste(tile.resize((tile.width * scale, tile.height * scale), Image.Resampling.NEAREST), (x, y))
        line = fonts.runs([(text, "#dddddd")], caption)
        fonts.draw(out, x, y + tile_h + GAP // 2 + caption.ascent, line)
    return out


def main() -> None:
    for path, entries in SHEETS.items():
        sheet(entries).save(ROOT / path, optimize=True)
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
