"""Property tests of the code rules (codes.code_errors, codes.subtree_prefix)."""

from __future__ import annotations

import itertools
import string

from hypothesis import assume, given
from hypothesis import strategies as st

from shequ.places.codes import code_errors, parent_code_of, subtree_prefix

province = st.integers(11, 65).map(lambda n: f"{n:02d}")
# A municipality (310000) or a prefecture-level city (320500).
city = st.one_of(
    province.map(lambda p: p + "0000"),
    st.tuples(province, st.integers(1, 99)).map(lambda t: f"{t[0]}{t[1]:02d}00"),
)


@st.composite
def district_of(draw, city_code: str) -> str:
    prefix = subtree_prefix(city_code, "city")
    middle = "" if len(prefix) == 4 else f"{draw(st.integers(0, 99)):02d}"
    return prefix + middle + f"{draw(st.integers(1, 99)):02d}"


@st.composite
def chains(draw) -> list[tuple[str, str]]:
    """(code, kind) from a city down to a grid, each valid under the previous one."""
    c = draw(city)
    d = draw(district_of(c))
    s = d + f"{draw(st.integers(1, 599)):03d}"
    m = s + f"{draw(st.integers(1, 999)):03d}"
    g = m + f"{draw(st.integers(1, 999)):03d}"
    return [(c, "city"), (d, "district"), (s, "street"), (m, "committee"), (g, "grid")]


def names_code(errors: list[str], code: str) -> bool:
    return any(code in message for message in errors)


@given(chains())
def test_valid_chains_are_accepted(chain):
    parent_code = parent_kind = None
    for code, kind in chain:
        assert code_errors(code, kind, parent_code, parent_kind) == [], (code, kind, parent_code)
        parent_code, parent_kind = code, kind


@given(chains())
def test_parent_code_of_points_at_the_parent_below_the_city(chain):
    for (parent, _pk), (code, kind) in itertools.pairwise(chain[1:]):
        assert parent_code_of(code, kind) == parent


@given(chains(), chains(), st.integers(1, 4))
def test_code_not_under_its_parent_is_rejected(chain, other, level):
    code, kind = chain[level]
    foreign_parent, parent_kind = other[level - 1]
    assume(not code.startswith(subtree_prefix(foreign_parent, parent_kind)))
    errors = code_errors(code, kind, foreign_parent, parent_kind)
    assert errors and names_code(errors, code)


@given(chains(), st.integers(1, 4), st.booleans(), st.sampled_from(string.digits))
def test_wrong_length_is_rejected(chain, level, longer, digit):
    code, kind = chain[level]
    parent_code, parent_kind = chain[level - 1]
    bad = code + digit if longer else code[:-1]
    errors = code_errors(bad, kind, parent_code, parent_kind)
    assert errors and names_code(errors, bad)


@given(chains(), st.integers(0, 4), st.data())
def test_non_digits_are_rejected(chain, level, data):
    code, kind = chain[level]
    parent_code, parent_kind = chain[level - 1] if level else (None, None)
    position = data.draw(st.integers(0, len(code) - 1))
    char = data.draw(st.sampled_from("aX -０١"))  # letters, space, dash, full-width and Arabic-Indic digits
    bad = code[:position] + char + code[position + 1 :]
    errors = code_errors(bad, kind, parent_code, parent_kind)
    assert errors and names_code(errors, bad)


@given(chains(), st.integers(2, 4))
def test_zero_segment_is_rejected(chain, level):
    parent_code, parent_kind = chain[level - 1]
    kind = chain[level][1]
    bad = parent_code + "000"
    errors = code_errors(bad, kind, parent_code, parent_kind)
    assert errors and names_code(errors, bad)


@given(chains())
def test_district_ending_in_00_is_rejected(chain):
    city_code = chain[0][0]
    bad = chain[1][0][:4] + "00"
    assume(bad != city_code)
    errors = code_errors(bad, "district", city_code, "city")
    assert errors and names_code(errors, bad)


@given(chains())
def test_subtree_prefix(chain):
    city_code = chain[0][0]
    prefix = subtree_prefix(city_code, "city")
    # The city's prefix drops only the zero padding, and every place below starts with it.
    assert city_code.startswith(prefix) and set(city_code[len(prefix) :]) <= {"0"}
    assert len(prefix) in (2, 4)
    for code, kind in chain[1:]:
        assert code.startswith(prefix)
        assert subtree_prefix(code, kind) == code
    # Every level's prefix is a prefix of the next level's.
    prefixes = [subtree_prefix(code, kind) for code, kind in chain]
    for upper, lower in itertools.pairwise(prefixes):
        assert lower.startswith(upper) and len(lower) > len(upper)
