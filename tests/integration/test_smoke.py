from dsr.domain.enums import Right, Role
from tests.factories import make_case, make_user


def test_log_request_and_reference(ctx):
    staff = make_user(Role.STAFF)
    first = make_case(actor=staff, rights=[Right.ERASURE, Right.ACCESS])
    second = make_case(actor=staff)
    assert first.reference == "DSR-2026-00001"
    assert second.reference == "DSR-2026-00002"
    assert first.right_values == [Right.ACCESS, Right.ERASURE]
