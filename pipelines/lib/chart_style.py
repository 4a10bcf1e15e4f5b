"""The look every chart shares (the risk report's and the monitoring page's): fonts with Chinese
glyphs, SVG text kept as text, light grids."""

FONTS = ["Noto Sans CJK SC", "Noto Sans", "DejaVu Sans"]
STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": FONTS,
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "legend.frameon": False,
    "legend.fontsize": 7,
    "figure.dpi": 100,
}
