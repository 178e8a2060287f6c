"""Serve plotly.js from the installed `plotly` package as static/vendor/plotly.min.js:
no CDN (the console works on a closed network), and no 4.6 MB copy in the repository.
Works with runserver, collectstatic and whitenoise alike."""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

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
