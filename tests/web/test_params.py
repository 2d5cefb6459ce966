"""Page numbers of the listings: a whole number from 1 to 10,000, else a ParamError."""

from __future__ import annotations

import pytest

from breakingon.web.params import MAX_PAGE, ParamError, parse_page


def test_page_numbers() -> None:
    assert parse_page(None) == 1 and parse_page("") == 1 and parse_page("  ") == 1
    assert parse_page("3") == 3 and parse_page(" 7 ") == 7 and parse_page(str(MAX_PAGE)) == MAX_PAGE
    for bad in ("0", "-2", "x", "2.0", "1e2", "9" * 5000, str(MAX_PAGE + 1), "0x10"):
        with pytest.raises(ParamError) as err:
            parse_page(bad)
        assert err.value.parameter == "page"
        assert err.value.detail == "expected a page number from 1 to 10,000"
