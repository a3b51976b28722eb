"""A bad request on a page answers in the console's layout, escaped, not as bare text."""

import pytest


@pytest.mark.parametrize("path", ["queue/", "alerts/"])
def test_a_bad_filter_is_a_page_of_the_console_that_says_why(p, as_user, path):
    response = as_user(p.analyst).get(f"/s/{p.sub.pk}/{path}",
                                      {"severity": "<script>alert(1)</script>"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Sign out" in body and "Bad request" in body  # the layout, with its navigation
    assert "Bad filter" in body and "severity" in body
    assert "<script>alert(1)" not in body
