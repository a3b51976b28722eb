import pytest

from inventory.roles import ROLE_PERMISSIONS, Perm, Role, parse_scopes, role_allows


def test_it_matches_the_design_table():
    assert role_allows(Role.ANALYST, Perm.TRIAGE)
    assert not role_allows(Role.ANALYST, Perm.LEAD)
    assert role_allows(Role.SHIFT_LEAD, Perm.LEAD)
    assert not role_allows(Role.ADMIN, Perm.TRIAGE)
    assert not role_allows(Role.ADMIN, Perm.RESPOND)
    assert role_allows(Role.ADMIN, Perm.ADMINISTER)
    assert not role_allows(Role.SHIFT_LEAD, Perm.ADMINISTER)
    assert role_allows(Role.ADMIN, Perm.SEARCH)
    assert not role_allows(Role.ADMIN, Perm.INVESTIGATE)
    assert all(Perm.VIEW in perms and Perm.ACTIVITY in perms for perms in ROLE_PERMISSIONS.values())


def test_it_refuses_no_role():
    assert not role_allows(None, Perm.VIEW)


def test_it_parses_scopes():
    assert parse_scopes("ingest, read,read") == ("ingest", "read")
    with pytest.raises(ValueError, match="Unknown scope 'write'"):
        parse_scopes("ingest,write")
    with pytest.raises(ValueError):
        parse_scopes(" , ")
