"""The URL rule: https to public addresses only, unless the setting allows loopback and
private networks (tests, the demo)."""

from __future__ import annotations

import pytest

from booking.kernel.errors import InvalidError
from booking.webhooks.urls import check_url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://93.184.215.14/hooks", "https://"),
        ("ftp://93.184.215.14/hooks", "https://"),
        ("https://127.0.0.1/hooks", "private, loopback or reserved"),
        ("https://localhost:8443/hooks", "private, loopback or reserved"),
        ("https://10.1.2.3/hooks", "private, loopback or reserved"),
        ("https://192.168.0.7/hooks", "private, loopback or reserved"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback or reserved"),
        ("https://[::1]/hooks", "private, loopback or reserved"),
        ("https://[::ffff:10.0.0.1]/hooks", "private, loopback or reserved"),
        ("https://0.0.0.0/hooks", "private, loopback or reserved"),
        ("https://user:pw@93.184.215.14/hooks", "user names"),
        ("https:///hooks", "name a host"),
        ("", "Give the URL"),
    ],
)
async def test_a_url_outside_the_rule_is_refused_with_a_reason(url: str, says: str) -> None:
    with pytest.raises(InvalidError) as refused:
        await check_url(url, allow_private=False)
    assert refused.value.field == "url"
    assert says in refused.value.detail


async def test_https_to_a_public_address_is_accepted() -> None:
    assert await check_url(" https://93.184.215.14/hooks ", allow_private=False) == (
        "https://93.184.215.14/hooks"
    )


async def test_the_setting_allows_plain_http_to_loopback() -> None:
    url = "http://127.0.0.1:9/hooks"
    assert await check_url(url, allow_private=True) == url


@pytest.mark.parametrize(
    ("allow_private", "says"),
    [(False, "must start with https:// ("), (True, "must start with https:// or http://")],
)
async def test_a_refused_scheme_names_the_schemes_this_server_takes(
    allow_private: bool, says: str
) -> None:
    with pytest.raises(InvalidError) as refused:
        await check_url("ftp://x/hooks", allow_private=allow_private)
    assert says in refused.value.detail
