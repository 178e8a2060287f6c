"""The charts' figures and the plotly.js bundle that draws them."""

import gzip
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from plotly.offline import get_plotlyjs_version

from audit.insights.charts import CHARTS, PLOTLY_JS, TRACE_TYPES
from audit.insights.dashboard import window_parse
from audit.insights.rollups import rollups_refresh

pytestmark = pytest.mark.django_db


def test_the_vendored_bundle_is_the_plotly_js_the_plotly_package_targets():
    path = Path(finders.find(PLOTLY_JS))
    banner = path.read_text()[:200]
    version = re.search(r"plotly\.js \(basic - minified\) v(\d+\.\d+)\.\d+", banner).group(1)
    assert get_plotlyjs_version().startswith(version + ".")
    assert (path.parent / "plotly.js-LICENSE.txt").exists()
    # The precompressed copy WhiteNoise serves is exactly the script.
    assert gzip.decompress(Path(f"{path}.gz").read_bytes()) == path.read_bytes()


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_uses_only_trace_types_the_bundle_draws(history, name):
    rollups_refresh(full=True)
    figure, _ = CHARTS[name](window_parse({"days": "7"}))
    assert {trace.type for trace in figure.data} <= TRACE_TYPES


def test_the_bundle_is_served_gzipped_and_cached_for_a_year(client):
    response = client.get(settings.STATIC_URL + PLOTLY_JS, HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert int(response["Content-Length"]) < 450_000
    assert response["Cache-Control"] == "max-age=31536000, public, immutable"


def test_the_dashboard_fetches_the_small_bundle_only_to_draw_its_charts(client, leader):
    client.force_login(leader)
    page = client.get("/audit/dashboard/").content.decode()
    # charts.js fetches it once the page has loaded, for the first chart in view.
    assert f'data-plotly="{settings.STATIC_URL}{PLOTLY_JS}"' in page
    assert '<script src="/static/vendor/' not in page and "plotly.min.js" not in page
