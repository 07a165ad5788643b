"""Crumbs link only the levels the reader may open: every crumb link of a place, household,
person or visits page answers 200 for the reader, and the levels above their reach are text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from linli.testing import sign_in

pytestmark = pytest.mark.django_db


def _crumbs(html: str) -> tuple[list[str], list[str]]:
    """The crumb links (their addresses) and every crumb's text."""
    found = re.search(r'<nav class="crumbs"[^>]*>(.*?)</nav>', html, re.S)
    assert found, html[:400]
    nav = found.group(1)
    links = re.findall(r'href="([^"]+)"', nav)
    names = [n.strip() for n in re.sub(r"<[^>]+>", "", nav).split("›")]
    return links, names


@pytest.mark.parametrize(
    ("who", "page", "unlinked"),
    [
        ("grid_worker", "/places/t-a-g1-b1/", {"武汉市", "江汉区", "汉兴街道", "常二社区"}),
        ("building_leader", "/places/t-a-g1-b1-101/", {"武汉市", "江汉区", "汉兴街道", "常二社区", "第一网格"}),
        ("secretary", "/places/t-a-g1-b1/", {"武汉市", "江汉区", "汉兴街道"}),
        ("street_official", "/places/t-a-g1/", {"武汉市", "江汉区"}),
        ("grid_worker", "/visits/coverage/t-a-g1-b1/", {"武汉市", "江汉区", "汉兴街道", "常二社区", "1栋"}),
    ],
)
def test_every_crumb_link_opens_and_the_levels_above_are_text(
    client: Client, world: Any, who: str, page: str, unlinked: set[str]
) -> None:
    sign_in(client, world.users[who])
    response = client.get(page, follow=True)
    assert response.status_code == 200, page
    links, names = _crumbs(response.content.decode())
    assert links, names
    for link in links:
        assert client.get(link, follow=True).status_code == 200, (who, link)
    linked_names = set(re.findall(r'<a href="[^"]+">([^<]+)</a>', _nav(response.content.decode())))
    assert unlinked <= set(names) and not (unlinked & linked_names), (names, linked_names)


def _nav(html: str) -> str:
    found = re.search(r'<nav class="crumbs"[^>]*>(.*?)</nav>', html, re.S)
    return found.group(1) if found else ""


def test_a_persons_page_links_their_home_when_the_reader_may_open_it(client: Client, world: Any) -> None:
    sign_in(client, world.users["grid_worker"])
    person = world.people["resident_a"]
    links, names = _crumbs(client.get(f"/people/{person.pk}/").content.decode())
    assert names[-1] == "1单元101" and links[-1].endswith("/places/t-a-g1-b1-101/")
    assert all(client.get(link, follow=True).status_code == 200 for link in links)
