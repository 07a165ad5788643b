"""Random requests against every Open311 endpoint, in both formats: whatever the query
parameters, form fields or JSON bodies (random unicode, dates, huge or negative numbers,
unknown codes, bad keys, raw bytes that are not UTF-8), the answer is never a 5xx, an error
is in the spec's format, and a success parses in the format asked for."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode
from xml.etree import ElementTree as ET

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.accounts.api_keys import api_client_register
from linli.core.access import SYSTEM
from linli.needs.models import Need
from linli.needs.services import need_create
from linli.open311.tests.test_open311 import assert_in_reader_language

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
FORMATS = ("json", "xml")
WHO = ("client", "anyone")
#: each endpoint and format gets 2 × 20 examples: as the registered client, and as anyone
FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies --------------------------------------------------------------------------------------

#: any text a client could send (surrogates cannot be encoded, so no client can send them)
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=8),
).map(str)
dates = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.dates().map(str),
    st.builds(lambda d, tz: d.isoformat() + tz, st.datetimes(), st.sampled_from(["Z", "+08:00", " 08:00", "-23:59"])),
    st.sampled_from(["2026-02-30", "0000-01-01", "9999-12-31T23:59:59", "today", "2026-13-01T00:00:00+25:00"]),
)
ids = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.lists(st.integers(min_value=0, max_value=10**19), max_size=5).map(lambda xs: ",".join(map(str, xs))),
    st.just(",".join(["1"] * 1001)),
)
codes = st.one_of(st.sampled_from(["lighting", "water", "dispute", "", "LIGHTING", "t-city"]), any_text)
value = st.one_of(any_text, numbers, dates, ids, codes)


def api_keys(good: str, who: str) -> st.SearchStrategy[str | None]:
    """The client's real key (``who="client"``: the fuzz gets past authentication), or for
    anyone: often the real key, else none, a near miss or junk."""
    if who == "client":
        return st.just(good)
    choices: dict[str, st.SearchStrategy[str | None]] = {
        "good": st.just(good),
        "none": st.none(),
        "near": st.sampled_from([good + "x", good[:8], good.upper()]),
        "junk": any_text,
    }
    return st.sampled_from(["good", "good", "good", "good", "none", "near", "junk"]).flatmap(choices.__getitem__)


def _params(good_key: str, who: str, names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(names, value))
    extra = st.dictionaries(any_text.filter(bool), value, max_size=3)
    return st.builds(
        lambda k, kn, ex: {**ex, **kn, **({"api_key": k} if k is not None else {})},
        api_keys(good_key, who),
        known,
        extra,
    )


def _raw_query(good_key: str, who: str) -> st.SearchStrategy[str]:
    """A query string of raw bytes (invalid UTF-8, NULs, stray %-signs)."""
    prefix = f"api_key={quote(good_key)}&" if who == "client" else ""
    pair = st.tuples(st.binary(max_size=12), st.binary(max_size=24)).map(
        lambda kv: f"{quote_from_bytes(kv[0])}={quote_from_bytes(kv[1])}"
    )
    junk = st.text(string.printable, max_size=20)
    return st.lists(st.one_of(pair, junk), max_size=4).map(lambda parts: prefix + "&".join(parts))


REQUEST_FIELDS = [
    "service_code",
    "description",
    "lat",
    "long",
    "coordinates",
    "address_id",
    "address_string",
    "attribute[urgency]",
    "attribute[floor]",
    "first_name",
    "last_name",
    "phone",
    "email",
    "device_id",
    "account_id",
    "media_url",
    "jurisdiction_id",
]
LIST_FIELDS = ["jurisdiction_id", "service_request_id", "service_code", "status", "start_date", "end_date"]
#: fields that make a valid request likely, so the fuzzer also reaches need_create
PLAUSIBLE = st.fixed_dictionaries(
    {
        "service_code": st.sampled_from(["lighting", "water", "dispute"]),
        "description": st.one_of(any_text, st.sampled_from(["楼道灯坏了", "路灯不亮，电话13912345678"])),
        "address_id": st.sampled_from(["t-a-g1-b1", "t-a-g1-b1", "t-a", "t-a-g1", "t-b-g1-b1", "t-city", "x"]),
    },
    optional={
        "lat": st.one_of(numbers, st.floats(min_value=-90, max_value=90).map(str)),
        "long": st.one_of(numbers, st.floats(min_value=-180, max_value=180).map(str)),
        "address_string": any_text,
        "coordinates": st.sampled_from(["wgs84", "gcj02", "GCJ02", "bd09", ""]),
        "attribute[urgency]": st.sampled_from(["normal", "urgent", "emergency", "EMERGENCY", "soon", ""]),
        "attribute[floor]": st.one_of(numbers, any_text),
        "phone": st.sampled_from(["13912345678", "+86 139 1234 5678", "12345", ""]),
    },
)

# --- checks ---------------------------------------------------------------------------------------------


def check(response: Any, fmt: str) -> None:
    status = response.status_code
    assert status < 500, (status, response.content[:500])
    content_type = response.get("Content-Type", "")
    if fmt == "xml":
        assert content_type.startswith("text/xml"), (status, content_type)
        root = ET.fromstring(response.content)  # noqa: S314 - our own answer, not untrusted input
        if status >= 400:
            assert root.tag == "errors", response.content[:500]
            errors = root.findall("error")
            assert errors, response.content[:500]
            for error in errors:
                assert error.findtext("code") == str(status)
                assert_in_reader_language(response, error.findtext("description") or "")
    else:
        assert content_type.startswith("application/json"), (status, content_type)
        body = json.loads(response.content)
        if status >= 400:
            assert isinstance(body, list) and body, body
            for error in body:
                assert set(error) == {"code", "description"} and error["code"] == status, body
                assert_in_reader_language(response, error["description"])


@pytest.fixture
def good_key(nw: Any) -> str:
    _, key = api_client_register(actor=SYSTEM, name="fuzz bridge", user=nw.users["community_staff"])
    return key


@pytest.fixture
def needs(nw: Any) -> list[Need]:
    """Needs the fuzz can find: two the client may see (one with a phone number in it), and
    one of the other community."""
    staff, other = nw.users["community_staff"], nw.users["grid_worker_b"]
    return [
        need_create(actor=staff, text="楼道灯坏了", place=nw.building_a, category_code="lighting"),
        need_create(actor=staff, text="停水了，电话13912345678", place=nw.building_a, category_code="water"),
        need_create(actor=other, text="路灯不亮", place=nw.building_b, category_code="lighting"),
    ]


def _get(path: str, params: dict[str, Any] | str) -> Any:
    query = params if isinstance(params, str) else urlencode(params)
    return Client().get(f"{path}?{query}" if query else path)


def _suffixed(route: str, segment: str, fmt: str) -> tuple[str, str]:
    """The path of ``route/<segment>.<fmt>`` and the format it answers in (an empty segment
    makes ``route/.xml``: an unknown endpoint, still answered in the format asked for)."""
    return f"{BASE}{route}/{quote(segment, safe='')}.{fmt}", fmt


def _fuzz_get(path_of: Callable[[str], str], names: list[str], fmt: str, key: str, who: str) -> None:
    @FUZZ
    @given(params=st.one_of(_params(key, who, names), _raw_query(key, who)))
    def run(params: dict[str, Any] | str) -> None:
        check(_get(path_of(fmt), params), fmt)

    run()


# --- the endpoints -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", WHO)
def test_discovery(good_key: str, fmt: str, who: str) -> None:
    _fuzz_get(lambda f: f"{BASE}discovery.{f}", ["jurisdiction_id"], fmt, good_key, who)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", WHO)
def test_service_list(good_key: str, fmt: str, who: str) -> None:
    _fuzz_get(lambda f: f"{BASE}services.{f}", ["jurisdiction_id"], fmt, good_key, who)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", WHO)
def test_service_definition(good_key: str, fmt: str, who: str) -> None:
    @FUZZ
    @given(code=codes, params=_params(good_key, who, ["jurisdiction_id"]))
    def run(code: str, params: dict[str, Any]) -> None:
        path, answers_in = _suffixed("services", code, fmt)
        check(_get(path, params), answers_in)

    run()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", WHO)
def test_request_list(good_key: str, needs: list[Need], fmt: str, who: str) -> None:
    _fuzz_get(lambda f: f"{BASE}requests.{f}", LIST_FIELDS, fmt, good_key, who)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", WHO)
def test_request_detail(good_key: str, needs: list[Need], fmt: str, who: str) -> None:
    known = st.sampled_from([str(n.pk) for n in needs])

    @FUZZ
    @given(rid=st.one_of(known, ids, any_text), params=_params(good_key, who, ["jurisdiction_id"]))
    def run(rid: str, params: dict[str, Any]) -> None:
        path, answers_in = _suffixed("requests", rid, fmt)
        check(_get(path, params), answers_in)

    run()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", WHO)
def test_token(good_key: str, needs: list[Need], fmt: str, who: str) -> None:
    known = st.sampled_from([str(n.token) for n in needs])

    @FUZZ
    @given(token=st.one_of(known, st.uuids().map(str), any_text), params=_params(good_key, who, ["jurisdiction_id"]))
    def run(token: str, params: dict[str, Any]) -> None:
        path, answers_in = _suffixed("tokens", token, fmt)
        check(_get(path, params), answers_in)

    run()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", WHO)
def test_unknown_paths(fmt: str, who: str) -> None:
    @FUZZ
    @given(path=st.lists(any_text, min_size=1, max_size=3))
    def run(path: list[str]) -> None:
        query = "?api_key=x" if who == "client" else ""
        check(Client().get(f"{BASE}{'/'.join(quote(p, safe='') for p in path)}x.{fmt}{query}"), fmt)

    run()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=8,
)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", WHO)
def test_post_request(good_key: str, fmt: str, who: str) -> None:
    """Forms, JSON bodies (of any shape) and raw bytes, with or without a retry key."""
    form = st.builds(
        lambda base, extra: {**base, **extra},
        _params(good_key, who, REQUEST_FIELDS),
        PLAUSIBLE if who == "client" else st.one_of(st.just({}), PLAUSIBLE),
    )
    as_json = st.builds(
        lambda f, nested: ("json", {**f, **nested}),
        form,
        st.dictionaries(st.sampled_from(["attribute", "lat", "description"]), json_values, max_size=2),
    )
    odd = st.one_of(json_values.map(lambda v: ("json", v)), st.binary(max_size=80).map(lambda b: ("raw", b)))
    kinds = {"form": form.map(lambda f: ("form", f)), "json": as_json, "odd": odd}
    body = (
        st.sampled_from(["form", "form", "form", "json"]) if who == "client" else st.sampled_from(list(kinds))
    ).flatmap(kinds.__getitem__)
    retry = st.one_of(st.none(), st.sampled_from(["k-1", "k-2"]), st.text(string.printable, max_size=120))

    @FUZZ
    @given(body=body, retry=retry)
    def run(body: tuple[str, Any], retry: str | None) -> None:
        kind, data = body
        headers = {"Idempotency-Key": retry} if retry is not None else {}
        path = f"{BASE}requests.{fmt}"
        if kind == "form":
            response = Client().post(path, data, headers=headers)
        elif kind == "json":
            key = data.get("api_key") if isinstance(data, dict) else None
            query = f"?{urlencode({'api_key': key})}" if isinstance(key, str) else ""
            response = Client().post(path + query, json.dumps(data), content_type="application/json", headers=headers)
        else:
            response = Client().post(
                f"{path}?api_key={quote(good_key)}",
                data,
                content_type="application/x-www-form-urlencoded",
                headers=headers,
            )
        check(response, fmt)

    run()
