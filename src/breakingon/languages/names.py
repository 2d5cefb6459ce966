"""A language's name in English and in itself, from its ISO 639 code (Babel's CLDR data).

`english_name("de")` is "German", `native_name("de")` "Deutsch", `label("de")` "German
(Deutsch)"; `direction` is "rtl" for Arabic, Hebrew, Persian, Urdu. A code Babel does
not know is its own name (upper case), never an error. Pure, cached.
"""

from __future__ import annotations

import functools

__all__ = ["direction", "english_name", "label", "native_name"]


@functools.lru_cache(maxsize=512)
def _names(code: str) -> tuple[str, str, str]:
    from babel import Locale, UnknownLocaleError

    try:
        loc = Locale.parse(code)
    except (UnknownLocaleError, ValueError, TypeError):
        return code.upper(), code.upper(), "ltr"
    english = loc.get_display_name("en") or code.upper()
    native = loc.get_display_name(loc) or english
    return english, native, loc.text_direction or "ltr"


def english_name(code: str) -> str:
    """ "German" for "de"; the code in upper case when unknown; "" for ""."""
    return _names(code)[0] if code else ""


def native_name(code: str) -> str:
    """The language's name in itself: "Deutsch" for "de", "français" for "fr"."""
    return _names(code)[1] if code else ""


def label(code: str) -> str:
    """ "German (Deutsch)"; "English" alone when both names are one."""
    english, native = english_name(code), native_name(code)
    return english if native.casefold() == english.casefold() else f"{english} ({native})"


def direction(code: str) -> str:
    """The writing direction of the language: "ltr" or "rtl"."""
    return _names(code)[2] if code else "ltr"
