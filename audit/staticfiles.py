"""Serve plotly.js from the installed `plotly` package as static/vendor/plotly.min.js:
no CDN (the console works on a closed network), and no 4.6 MB copy in the repository.
Works with runserver, collectstatic and whitenoise alike."""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

# What plotly.js needs beyond the console's Content-Security-Policy, on the pages that draw
# charts (and only there): when it loads, it adds an empty <style> element and fills it
# through the CSS object model (allowed by the hash of the empty string; an empty element
# styles nothing, whoever adds it), and it adds the stylesheet of its map library, a fixed
# text inside plotly.min.js (allowed by that text's hash). No 'unsafe-inline'. A new plotly
# release may change the second hash: the browser's CSP test then fails and Chromium's
# message names the new one.
PLOTLY_CSP = {
    "style-src": [
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # "" (plotly.js rules)
        "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",  # maplibre-gl's CSS
    ]
}

SOURCE = Path(plotly.__file__).resolve().parent / "package_data"
NAME = "plotly.min.js"
PUBLIC = f"vendor/{NAME}"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(SOURCE))
        self.storage.prefix = "vendor"

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != PUBLIC or not (SOURCE / NAME).exists():
            return [] if find_all else None
        match = str(SOURCE / NAME)
        return [match] if find_all else match

    def list(self, ignore_patterns):
        yield NAME, self.storage
