"""Alembic's autogenerate does not compare CHECK constraints, so this test does: every CHECK the models
declare exists, by name, in the database the migrations built (on SQLite and on PostgreSQL)."""

import sqlalchemy as sa

from dsr.extensions import db


def _model_checks() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table in db.metadata.sorted_tables:
        names = set()
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint) and constraint.name:
                names.add(str(constraint.name))
        # Enum columns with create_constraint carry their CHECK on the type, named by the convention.
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and column.type.create_constraint:
                names.add(f"ck_{table.name}_{column.type.name}")
        found[table.name] = {n if n.startswith("ck_") else f"ck_{table.name}_{n}" for n in names}
    return found


def test_every_model_check_constraint_exists_in_the_migrated_schema(ctx):
    inspector = sa.inspect(db.engine)
    for table, expected in _model_checks().items():
        actual = {c["name"] for c in inspector.get_check_constraints(table)}
        assert expected <= actual, f"{table}: missing {sorted(expected - actual)}"
        assert actual <= expected, f"{table}: unexpected {sorted(actual - expected)}"


def test_the_database_refuses_a_refused_case_without_a_ground(ctx):
    from dsr.domain.enums import Role
    from tests.factories import make_case, make_user

    case = make_case(actor=make_user(Role.STAFF))
    with db.engine.connect() as conn:
        try:
            conn.execute(sa.text("UPDATE cases SET state = 'refused', decision = 'x', closed_at = created_at "
                                 "WHERE id = :id"), {"id": case.id})
            conn.commit()
        except sa.exc.IntegrityError as exc:
            assert "refused_has_ground" in str(exc)
        else:
            raise AssertionError("a refused case without a ground was stored")
