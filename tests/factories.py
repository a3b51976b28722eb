"""make_<model>() factories and the id of one object of each kind, for the scoping walk."""

from tests.conftest import make_token


def objects_of(p):
    """URL parameter -> the id of an object in p.sub (which the outsider cannot see)."""
    token = make_token(p.sub, name="target token")
    return {
        "sub": p.sub.pk,
        "pk": token.token.pk,
        "user_id": p.analyst.pk,
    }
