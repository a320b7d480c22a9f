"""Hypothesis strategies for arbitrary unicode, shared by the handlers' fuzz tests."""

from __future__ import annotations

from hypothesis import strategies as st

# Any code point, with lone surrogates drawn often (they are the interesting case).
any_char = st.one_of(st.characters(exclude_categories=()),
                     st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()))
any_text = st.text(alphabet=any_char, max_size=24)
# JSON-shaped values (nested lists and objects) whose strings, keys included, are ``any_text``.
any_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
                         max_leaves=8)
