"""report.html: report.md as one self-contained page (issue 18 point 4)."""

import base64
import re

from src.reports.html import markdown_to_html, write_html


def _png(path) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path)
    plt.close(fig)
    return path.read_bytes()


def test_the_page_embeds_its_figures_and_renders_its_tables(tmp_path):
    png = _png(tmp_path / "learning_curve_digits.png")
    (tmp_path / "report.md").write_text(
        "# Report: x\n\n| model | test_accuracy |\n|---|---|\n| mlp | **0.97** |\n\n"
        "![Learning curves](learning_curve_digits.png)\n"
    )
    write_html(tmp_path / "report.md", tmp_path / "report.html", "Report: x")
    page = (tmp_path / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<table>" in page and "<th>model</th>" in page and "<strong>0.97</strong>" in page
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) == 1 and sources[0].startswith("data:image/png;base64,")
    assert base64.b64decode(sources[0].split(",", 1)[1]) == png  # the figure itself, not a link to it
    assert "learning_curve_digits.png" not in page.replace('alt="Learning curves"', "")
    assert "[Learning curves]" not in page  # not left as literal Markdown


def test_a_missing_image_or_a_url_stays_a_reference_and_html_in_the_markdown_is_escaped(tmp_path):
    page = markdown_to_html("![gone](gone.png) ![web](https://example.org/a.png) <script>x</script>", tmp_path, "t")
    assert 'src="gone.png"' in page and 'src="https://example.org/a.png"' in page
    assert "<script>" not in page
