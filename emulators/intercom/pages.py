"""The shared look of the emulator's HTML pages (consent screen and dashboard): one small stylesheet."""

from __future__ import annotations

from html import escape

STYLE = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --accent:#1f6feb; --bg:#f5f7fa; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink);
       background:var(--bg); }
header { background:#102a43; color:#fff; padding:14px 28px; }
header h1 { margin:0; font-size:18px; font-weight:600; }
header p { margin:2px 0 0; color:#bcccdc; font-size:13px; }
main { max-width:1100px; margin:24px auto; padding:0 20px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:18px 22px; margin-bottom:20px; }
.card h2 { margin:0 0 4px; font-size:17px; }
.card h3 { margin:18px 0 6px; font-size:14px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
.meta { color:var(--muted); font-size:13px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; background:#e6f0ff; color:#1849a9;
         font-size:12px; font-weight:600; margin-left:6px; }
table { width:100%; border-collapse:collapse; font-size:13px; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; }
td code { font-size:12px; }
.empty { color:var(--muted); font-style:italic; }
fieldset { border:1px solid var(--line); border-radius:8px; padding:8px 14px; margin:14px 0; }
legend { padding:0 6px; color:var(--muted); font-size:13px; }
label.choice { display:block; padding:8px 4px; border-bottom:1px solid var(--line); cursor:pointer; }
label.choice:last-child { border-bottom:0; }
label.disabled { color:var(--muted); cursor:not-allowed; }
.actions { display:flex; gap:12px; margin-top:16px; }
button { font:inherit; padding:8px 18px; border-radius:6px; border:1px solid var(--line); background:#fff;
         cursor:pointer; }
button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button:focus-visible, input:focus-visible { outline:3px solid #79a6f6; outline-offset:2px; }
.error { color:#b42318; }
"""


def page(title: str, subtitle: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<main>{body}</main></body></html>"
    )
