"""POLL_ACCOUNTS: which provider accounts the poller works on."""

from __future__ import annotations

import pytest

from dlrhub.runtime.settings import parse_accounts


@pytest.mark.parametrize(
    ("text", "accounts"),
    [
        ("", []),
        ("  ", []),
        ("infin8linx/main", [("infin8linx", "main")]),
        (
            "infin8linx/main,huawei/cn,webcom/main,innopaas/main",
            [("infin8linx", "main"), ("huawei", "cn"), ("webcom", "main"), ("innopaas", "main")],
        ),
        (" infin8linx/main , huawei/cn ,", [("infin8linx", "main"), ("huawei", "cn")]),
        ("infin8linx/a,,infin8linx/b", [("infin8linx", "a"), ("infin8linx", "b")]),
        ("webcom/eu-1_b", [("webcom", "eu-1_b")]),
    ],
)
def test_accounts_in_order(text: str, accounts: list[tuple[str, str]]) -> None:
    assert parse_accounts(text) == accounts


@pytest.mark.parametrize("text", ["infin8linx", "infin8linx/", "/main", "huawei/cn, webcom", "/"])
def test_an_entry_without_provider_and_account_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="provider/account"):
        parse_accounts(text)
