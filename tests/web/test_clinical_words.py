"""Clinical words on every page a clinician reads (issue 11 item 3).

Each demo persona signs in and follows the links from the home page and from a demo run's page (same site, GET,
one page per URL shape: ids replaced by N), on the full demo. The visible text of every page reached must hold:

- [x] no parameter code from the parameter registry (``anti_xa_iu_ml``, ``blood_flow_l_min`` …)
- [x] no other code-like snake_case word with a unit or a number in it (``eolia_pf_80_6h``)
- [x] no document reference: no "§", no "core-api", no "ref §", no source key ("[S31]"): sources read as citations

A file format's column names (CSV import, catalogue import) are what the file must contain: they are shown in
``<code>`` inside a paragraph marked ``file-format`` and are the one place a code may appear. A raw message as
received (``<pre>``, e.g. an HL7 message) is evidence shown verbatim and is not checked.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from ecmo_core.surveillance.parameters import PARAMETERS
from ecmo_web.demo import seed as demo_seed

SKIP = ("/admin/", "/logout", "/accounts/logout", "/api/", "/static/", "/media/", "/health")
DOWNLOAD = re.compile(r"\.(csv|json|pdf|zip|ndjson|txt|png|svg|hl7)$|/download/|/export", re.I)
CODE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, PARAMETERS), key=len, reverse=True)) + r")\b")
# snake_case with a number or a unit in it: a leaked code ("eolia_pf_80_6h", "delta_p_mmhg")
CODE_LIKE = re.compile(
    r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*_(?:\d+[a-z]*|mmhg|kpa|l_min|g_dl|mg_dl|iu_ml|ml_kg|pct|min|h|s|rpm)\b"
    r"|\bdelta_p\b"  # the ΔP rule's evidence mode ("(delta_p)" on the rounds board, issue 11)
)
# "[S31]", "[✔ S14, S15]": a source key of the project's reference notes, which a clinician cannot look up
REFERENCE = re.compile(r"§|core-api|\bref §|reference §|\[[✔◐○]?\s*S\d+")
PER_SHAPE = 1
MAX_PAGES = 400


class _Visible(HTMLParser):
    """Visible text (not scripts, styles or attributes) and the links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._file_format = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template", "pre") or (tag == "code" and self._file_format):
            self._hidden += 1
        if tag == "p" and "file-format" in (dict(attrs).get("class") or "").split():
            self._file_format = True
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if (
            tag in ("script", "style", "template", "pre") or (tag == "code" and self._file_format)
        ) and self._hidden:
            self._hidden -= 1
        if tag == "p":
            self._file_format = False

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def _shape(path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/N", path)


def _offences(text: str) -> list[str]:
    found = [f"code {m}" for m in CODE.findall(text)]
    found += [f"code-like {m}" for m in CODE_LIKE.findall(text) if m not in PARAMETERS]
    found += [f"reference {text[max(0, m.start() - 30) : m.end() + 30]!r}" for m in REFERENCE.finditer(text)]
    return found


def crawl(client: Client, starts: list[str]) -> dict[str, list[str]]:
    """Every page reachable from ``starts`` (one per URL shape) → the offences in its visible text."""
    seen_shapes: dict[str, int] = {}
    queue = list(starts)
    visited: set[str] = set()
    report: dict[str, list[str]] = {}
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url).path
        shape = _shape(path)
        if url in visited or seen_shapes.get(shape, 0) >= PER_SHAPE:
            continue
        visited.add(url)
        seen_shapes[shape] = seen_shapes.get(shape, 0) + 1
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = _Visible()
        page.feed(response.content.decode())
        offences = _offences(" ".join(page.text))
        if offences:
            report[path] = sorted(set(offences))
        for href in page.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or href.startswith(("#", "mailto:", "javascript:")):
                if parts.netloc not in ("", "testserver"):
                    continue
            target_path = parts.path  # one page per path: query strings page or filter the same template
            if not target_path.startswith("/") or target_path.startswith(SKIP) or DOWNLOAD.search(parts.path):
                continue
            queue.append(target_path)
    return report


@pytest.fixture
def demo(db: Any, settings: Any, tmp_path: Any) -> Any:
    settings.VAR_DIR = tmp_path
    return demo_seed.seed_demo(now=timezone.now(), password="steward-demo-test")


def test_no_page_a_persona_reaches_shows_a_code_or_a_document_reference(demo: Any) -> None:
    runs = {code: run for code, run in demo.runs.items()}
    everywhere: dict[str, list[str]] = {}
    personas: dict[tuple[Any, ...], Any] = {}  # one persona per role and program (the others see the same)
    for user in demo.users.values():
        key = tuple(sorted(user.memberships.values_list("program_id", "role")))
        personas.setdefault(key, user)
    for user in personas.values():
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        own = [r for r in runs.values() if r.program.memberships.filter(user=user).exists()]
        starts = ["/"] + [f"/runs/{r.pk}/" for r in own[:2]]
        for path, offences in crawl(client, starts).items():
            everywhere.setdefault(f"{_shape(path)}", [])
            everywhere[_shape(path)] = sorted(set(everywhere[_shape(path)]) | {f"{o}" for o in offences})
    if os.environ.get("ECMO_CLINICAL_WORDS_REPORT"):
        Path(os.environ["ECMO_CLINICAL_WORDS_REPORT"]).write_text(
            "\n".join(f"{p}: {', '.join(o)}" for p, o in sorted(everywhere.items()))
        )
    assert not everywhere, "\n".join(f"{p}: {', '.join(o)}" for p, o in sorted(everywhere.items()))
