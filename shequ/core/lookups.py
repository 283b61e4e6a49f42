"""The `within` lookup: "this code lies in the subtree of that place code".

Place codes are prefix codes (DESIGN §1), so a subtree is a prefix. Each database gets the form
its index can serve:

* PostgreSQL: ``code LIKE '310101020%'``, served by a ``varchar_pattern_ops`` index (a plain
  b-tree under a non-C collation cannot serve LIKE).
* SQLite: ``code >= '310101020' AND code < '310101021'``, a range the ordinary b-tree serves
  (SQLite's own LIKE optimisation needs case_sensitive_like and no ESCAPE clause, which Django's
  ``startswith`` does not give it).

The codes are digits only, so the successor of a prefix is the prefix with its last digit raised
(``…9`` carries into ``:``, the next character after ``9``, which still sorts correctly).
"""

from __future__ import annotations

from django.db.models import CharField, Lookup


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def validate_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or not prefix.isdigit():
        raise ValueError(f"a place-code prefix must be digits, got {prefix!r}")
    return prefix


@CharField.register_lookup
class Within(Lookup):
    lookup_name = "within"
    prepare_rhs = False

    def get_prep_lookup(self):
        return validate_prefix(self.rhs)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} LIKE %s", [*lhs_params, self.rhs + "%"]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return (
            f"({lhs} >= %s AND {lhs} < %s)",
            [*lhs_params, self.rhs, *lhs_params, prefix_upper_bound(self.rhs)],
        )
