"""`api_path`: a route without a trailing slash (the documented one) and its alias with one."""

from django.urls import path


def api_path(route: str, view, name: str) -> list:
    return [path(route, view, name=name), path(f"{route}/", view)]
