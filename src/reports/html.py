"""report.md as one self-contained HTML page, report.html.

MLflow's artifact viewer renders a Markdown file's tables but not its
images, and a browser needs the PNGs beside the file. The HTML page carries
everything: the Markdown rendered by markdown-it-py (CommonMark with tables),
each local image embedded as a base64 data URI, and a small stylesheet for the
tables. It displays whole in MLflow's artifact viewer and in any browser.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from pathlib import Path

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 72rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1f2328; }
h1, h2, h3 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fbfcfd; }
img { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; }
"""
_IMAGE_SOURCE = re.compile(r'(<img\s[^>]*src=")([^"]+)(")')


def _embedded(folder: Path, source: str) -> str:
    """A local image as a data URI; anything else (a URL, a missing file) as it was."""
    path = folder / html.unescape(source)
    if "://" in source or source.startswith("data:") or not path.is_file():
        return source
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def markdown_to_html(markdown: str, folder: Path, title: str) -> str:
    """The page for `markdown`, whose relative image paths are files in `folder`."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    body = _IMAGE_SOURCE.sub(lambda m: m.group(1) + _embedded(folder, m.group(2)) + m.group(3), body)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def write_html(markdown_path: Path, html_path: Path, title: str) -> None:
    """Write `markdown_path` (its images beside it) as the self-contained page `html_path`."""
    page = markdown_to_html(markdown_path.read_text(), markdown_path.parent, title)
    html_path.write_text(page, encoding="utf-8")
