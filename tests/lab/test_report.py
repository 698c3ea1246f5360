"""The HTML report: content, escaping, self-containment, and a real render.

The render tests open the report in headless Chromium and read back, for every image, whether it
decoded (``naturalWidth > 0``); a deliberately corrupt image proves that the probe catches breakage.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from relulab.lab import report
from relulab.lab import figures as plots
from relulab.lab.stats import Estimate, SummaryRow

NAN = math.nan
HOSTILE = '<img src=x onerror="alert(1)">&co'
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary (chromium, chromium-browser or google-chrome) on PATH; CI installs it")


def estimates(accuracy: Estimate, **others: Estimate) -> dict[str, Estimate]:
    blank = Estimate(NAN, NAN, NAN, 0)
    return {"test_accuracy": accuracy, "test_loss": others.get("test_loss", blank),
            "dead_fraction": others.get("dead_fraction", blank), "grad_ratio": others.get("grad_ratio", blank),
            "seconds": others.get("seconds", Estimate(12.5, 11.5, 13.5, 3))}


ROWS = [
    SummaryRow("relu", (64, 64), 0.001, "he_normal",
               estimates(Estimate(0.8712, 0.8612, 0.8812, 3), test_loss=Estimate(0.3541, 0.3, 0.4082, 3),
                         dead_fraction=Estimate(0.125, 0.1, 0.15, 3), grad_ratio=Estimate(0.000123, 0.0001, 0.000146, 3)),
               None, is_baseline=True),
    SummaryRow("tanh", (64, 64), 0.001, "glorot_uniform", estimates(Estimate(0.8912, 0.8812, 0.9012, 3)),
               Estimate(0.02, 0.01, 0.03, 3)),
    SummaryRow(HOSTILE, (64, 64), 0.001, "he_normal", estimates(Estimate(0.5, NAN, NAN, 1)), Estimate(-0.1, NAN, NAN, 1)),
]
EXPERIMENT = {
    "grid": {"dataset": "fashion_mnist", "activations": ["relu", "tanh", HOSTILE], "seeds": [0, 1, 2]},
    "command": ["relulab", "compare", "--out", "my results/<run>"],
    "versions": {"keras": "3.15.1", "tensorflow": "2.21.0", "evil<key>": "1 & 2"},
    "created": 1_700_000_000.0, "fingerprint": "0123abcd",
}


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> dict[str, Path]:
    """A real lab figure (PNG) and a small hand-made one (SVG)."""
    folder = tmp_path_factory.mktemp("figures")
    png = folder / "activation_functions.png"
    plots.activation_functions(["relu", "tanh"]).savefig(png, dpi=60)
    sketch = Figure(figsize=(3, 2))
    FigureCanvasAgg(sketch)
    sketch.subplots().plot([0, 1], [0, 1], label="line")
    svg = folder / "sketch.svg"
    sketch.savefig(svg)
    return {"activation_functions": png, "sketch": svg}


def write(path: Path, figures: dict[str, Path], *, runs_done: int = 9) -> str:
    out = report.write_html(path, experiment=EXPERIMENT, rows=ROWS, baseline="relu", figures=figures,
                            runs_total=9, runs_done=runs_done)
    assert out == path
    return path.read_text(encoding="utf-8")


def test_report_shows_title_date_table_values_and_paired_differences(tmp_path, figures):
    text = write(tmp_path / "report.html", figures)
    assert "<title>relulab comparison on fashion_mnist, 2023-11-14</title>" in text
    assert "2023-11-14 22:13 UTC" in text and "9 of 9 runs finished" in text and "Partial results" not in text
    for value in ("0.8712 ± 0.0100", "0.3541 ± 0.0541", "0.125 ± 0.025", "0.000123 [0.0001, 0.00015]", "12.5 ± 1.0",
                  "(baseline)", "64x64", "Δ accuracy vs relu"):
        assert value in text, value
    assert '<td class="num better">+0.0200<br><small>[+0.0100, +0.0300]</small></td>' in text
    assert '<td class="num">-0.1000</td>' in text  # one seed: a difference without interval, not coloured
    assert "<th>initializer</th>" in text and "How to read this" in text
    assert text.index("<h2>Figures</h2>") < text.index('id="activation_functions"') < text.index('id="sketch"')
    assert html.escape(plots.CAPTIONS["activation_functions"]) in text
    assert "relulab compare --out &#x27;my results/&lt;run&gt;&#x27;" in text


def test_report_marks_partial_results(tmp_path, figures):
    assert "Partial results: 4 run(s) have not finished" in write(tmp_path / "report.html", figures, runs_done=5)
    assert "no run has finished yet" in write(tmp_path / "empty.html", {}, runs_done=0)


def test_every_user_string_is_escaped(tmp_path, figures):
    text = write(tmp_path / "report.html", figures)
    assert HOSTILE not in text and "<img src=x" not in text
    assert html.escape(HOSTILE) in text
    assert "evil&lt;key&gt;" in text and "1 &amp; 2" in text
    assert "<script" not in text.lower()


def test_report_is_self_contained(tmp_path, figures):
    text = write(tmp_path / "report.html", figures)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.IGNORECASE)
    sources = re.findall(r'<img [^>]*src="([^"]*)"', text)
    assert len(sources) == 2
    assert sources[0].startswith("data:image/png;base64,") and sources[1].startswith("data:image/svg+xml;base64,")
    assert "<link" not in text and "@import" not in text and "url(" not in text


def test_a_figure_that_is_not_an_image_is_refused(tmp_path):
    pdf = tmp_path / "curves.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(ValueError, match=r"figure 'curves' must be one of \['.jpeg', .*Received: '.*curves.pdf'"):
        write(tmp_path / "report.html", {"curves": pdf})


# Injected into a copy of the report (the report itself has no script): after every image has loaded or
# failed, record for each its decoded width and the fraction of its pixels that are opaque. The lab's
# figures have opaque backgrounds, so a fully decoded one is 100% opaque; a file cut short decodes
# partially in Chromium (its header gives a width) and leaves the missing rows transparent.
PROBE = """<script>
addEventListener("load", () => {
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", {willReadFrequently: true});
  const states = [...document.images].map(image => {
    let opaque = 0;
    if (image.naturalWidth > 0) {
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 3; i < pixels.length; i += 4) count += pixels[i] === 255;
      opaque = count / (pixels.length / 4);
    }
    return {alt: image.alt, complete: image.complete, width: image.naturalWidth, opaque};
  });
  const out = document.createElement("pre");
  out.id = "image-probe";
  out.textContent = JSON.stringify(states);
  document.body.appendChild(out);
});
</script>"""


def decoded(state: dict) -> bool:
    """An image loaded, has a size, and every pixel of it was drawn."""
    return state["complete"] and state["width"] > 0 and state["opaque"] == 1


def chromium(tmp_path: Path, *args: str) -> str:
    """Run headless Chromium with a fresh profile and no network chatter; return its stdout."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def image_states(report_path: Path, tmp_path: Path) -> list[dict]:
    """For each image of the rendered report: alt text, load state, decoded width, opaque fraction."""
    probed = tmp_path / "probed.html"
    probed.write_text(report_path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", probed.as_uri())
    found = re.search(r'<pre id="image-probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, "the probe did not run: the page did not finish loading"
    return json.loads(html.unescape(found.group(1)))


@needs_chromium
def test_report_renders_in_chromium_with_every_image_decoded(tmp_path, figures):
    page = tmp_path / "report.html"
    write(page, figures)
    states = image_states(page, tmp_path)
    assert [s["alt"] for s in states] == ["activation functions", "sketch"]
    assert all(decoded(s) for s in states), states
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", page.as_uri())
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (3000, 1200)
    assert np.unique(pixels.reshape(-1, pixels.shape[-1])[::97], axis=0).shape[0] > 50  # not a blank page


@needs_chromium
@pytest.mark.parametrize("damage", ["not an image", "cut short"])
def test_the_render_check_catches_a_broken_image(tmp_path, figures, damage):
    good = figures["activation_functions"].read_bytes()
    broken = tmp_path / "learning_curves.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not a picture" if damage == "not an image" else good[: len(good) // 2])
    page = tmp_path / "report.html"
    write(page, {"activation_functions": figures["activation_functions"], "learning_curves": broken})
    states = {s["alt"]: s for s in image_states(page, tmp_path)}
    assert decoded(states["activation functions"])
    assert states["learning curves"]["complete"] and not decoded(states["learning curves"])
