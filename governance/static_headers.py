"""Cache headers for the vendored third-party scripts in static/vendor/.

Their file names carry the library's version (plotly-basic-4.1.1.min.js), so a given URL
never changes content: browsers may keep them for a year without asking again, even when
the demo serves static files without collectstatic's hashed names. WhiteNoise calls this
for every file it serves (WHITENOISE_ADD_HEADERS_FUNCTION); it imports nothing of Django
because settings.py imports it."""

import re

VERSIONED_VENDOR_FILE = re.compile(r"/vendor/[\w.-]+-\d+\.\d+\.\d+(\.min)?\.js$")
ONE_YEAR = 365 * 24 * 3600


def vendor_cache_headers(headers, path: str, url: str) -> None:
    """A year and `immutable` for a versioned vendored script; other files keep
    WhiteNoise's own headers."""
    if VERSIONED_VENDOR_FILE.search(url):
        headers["Cache-Control"] = f"max-age={ONE_YEAR}, public, immutable"
