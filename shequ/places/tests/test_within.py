"""The `code__within` lookup returns exactly a subtree, and an index serves it."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from shequ.core.lookups import prefix_upper_bound
from shequ.places.models import Place

from .factories import build_tree

# A small alphabet makes shared prefixes likely; 9 exercises the carry in the range's upper bound.
codes = st.text(alphabet="0189", min_size=1, max_size=15)
prefixes = st.text(alphabet="0189", min_size=1, max_size=8)


class WithinLookupTests(TestCase):
    @settings(max_examples=60, deadline=None)
    @given(tree=st.sets(codes, max_size=40), prefix=prefixes)
    def test_within_is_exactly_the_python_prefix_filter(self, tree, prefix):
        Place.objects.bulk_create([Place(code=code, name=code, kind="grid") for code in tree])
        found = set(Place.objects.filter(code__within=prefix).values_list("code", flat=True))
        assert found == {code for code in tree if code.startswith(prefix)}
        # The queryset helper is the same predicate.
        assert set(Place.objects.within(prefix).values_list("code", flat=True)) == found

    @settings(max_examples=30, deadline=None)
    @given(tree=st.sets(codes, min_size=1, max_size=40), data=st.data())
    def test_within_a_code_in_the_tree(self, tree, data):
        Place.objects.bulk_create([Place(code=code, name=code, kind="grid") for code in tree])
        root = data.draw(st.sampled_from(sorted(tree)))
        found = set(Place.objects.filter(code__within=root).values_list("code", flat=True))
        assert root in found
        assert found == {code for code in tree if code.startswith(root)}


@given(prefixes, st.text(alphabet="0123456789", max_size=10))
def test_upper_bound_sorts_after_the_whole_subtree(prefix, tail):
    upper = prefix_upper_bound(prefix)
    assert prefix < upper and prefix + tail < upper


def test_within_rejects_non_digits():
    with pytest.raises(ValueError):
        list(Place.objects.filter(code__within="31%"))


def _plan(queryset, prefix: str = "") -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join(" ".join(str(col) for col in row) for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db
def test_postgresql_uses_the_pattern_ops_index_for_within():
    build_tree()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _plan(Place.objects.filter(code__within="310101"), "EXPLAIN ")
    assert "place_code_prefix" in plan, plan
    assert "~>=~" in plan or "LIKE" in plan or "~~" in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plan")
@pytest.mark.django_db
def test_sqlite_serves_the_range_form_with_an_index():
    build_tree()
    plan = _plan(Place.objects.filter(code__within="310101"), "EXPLAIN QUERY PLAN ")
    assert "SEARCH" in plan and "INDEX" in plan, plan
    assert "code>?" in plan.replace(" ", "") and "code<?" in plan.replace(" ", ""), plan
