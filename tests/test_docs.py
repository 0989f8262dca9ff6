"""The README stays a newcomer's ten-minute read; the reference lives in docs/, every link
resolves, every page is in the site's navigation, and the site builds with warnings as errors."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """The heading anchors of a Markdown file (outside fenced code), as MkDocs and GitHub make them."""
    found, fenced = set(), False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"^#+ (.*)", line)):
            found.add(re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-"))
    return found


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if p.name != "index.md")  # index.md: README, written by make docs


def test_the_readme_is_at_most_300_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 300


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    broken = []
    for source in [ROOT / "README.md", *_pages()]:
        for target in LINK.findall(source.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            file, _, anchor = target.partition("#")
            path = source if not file else (source.parent / file)
            if file == "index.md" and source.parent == DOCS:
                path = ROOT / "README.md"  # the site's home page is the README
            if not path.exists():
                broken.append(f"{source.name}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{source.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_every_docs_page_is_in_the_sites_navigation_and_linked_from_the_readme():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    in_nav = {next(iter(entry.values())) for entry in config["nav"]}
    readme = (ROOT / "README.md").read_text()
    for page in _pages():
        assert page.name in in_nav, f"{page.name} is missing from mkdocs.yml's nav"
        assert f"(docs/{page.name}" in readme, f"the README does not link docs/{page.name}"


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("index.md"))
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    home = (ROOT / "README.md").read_text().replace("](docs/", "](")  # what make docs writes
    (tmp_path / "docs" / "index.md").write_text(home)
    mkdocs = Path(sys.executable).parent / "mkdocs"
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "-f", str(tmp_path / "mkdocs.yml"), "-d", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "site" / "report" / "index.html").exists()
