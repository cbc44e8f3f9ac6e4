"""The API docs work offline: every script, stylesheet and icon the pages load is conch's own."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from support.live import LiveConch


class _Assets(HTMLParser):
    """The URLs of the scripts, stylesheets and icons a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


def _assets(page: str) -> list[str]:
    parser = _Assets()
    parser.feed(page)
    return parser.urls


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_a_docs_page_is_served_by_conch(conch: LiveConch, page: str) -> None:
    page_url = f"{conch.base_url}{page}"
    answer = httpx.get(page_url)
    assert answer.status_code == 200
    assets = [urljoin(page_url, url) for url in _assets(answer.text)]
    assert any(url.endswith(".js") for url in assets), answer.text
    for url in assets:
        assert urlsplit(url).netloc == urlsplit(conch.base_url).netloc, f"{url} is not conch's"
        fetched = httpx.get(url)
        assert fetched.status_code == 200 and fetched.content, url
    # The page reads conch's own description of the API, too.
    assert "'/openapi.json'" in answer.text or '"/openapi.json"' in answer.text
