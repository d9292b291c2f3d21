"""mkdocs hook: a site that loads nothing from the network.

Material's ``offline`` plugin makes the site work from the file system (no directory URLs, the
search index inlined), but it also adds a script from unpkg.com (``iframe-worker``) so that the
search can start its worker from a ``file://`` page in every browser. This hook, which runs
after the plugins' ``on_config``, takes that script out again: the built pages fetch nothing
from anywhere. Search then works when the site is served (``python -m http.server -d site``)
and, from the file system, in the browsers that start a worker from a ``file://`` page.
"""

from __future__ import annotations

from typing import Any


def remote(url: object) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://", "//"))


def on_config(config: Any) -> Any:
    extra = config.get("extra") or {}
    polyfills = extra.get("polyfills")
    if polyfills:
        extra["polyfills"] = [url for url in polyfills if not remote(url)]
    return config
