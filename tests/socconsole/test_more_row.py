"""templates/partials/more_row.html: the one "More" row of every paged list."""

from django.template.loader import render_to_string


def more(**context):
    return render_to_string("partials/more_row.html", context).strip()


def test_it_keeps_the_filters_and_loads_the_next_page_in_its_place():
    html = more(cursor="abc", colspan=10, label="More", query="severity=high&status=active")
    assert html.startswith('<tr class="more"><td colspan="10">')
    link = "?severity=high&amp;status=active&amp;cursor=abc"
    assert f'href="{link}" hx-get="{link}"' in html
    assert 'hx-target="closest tr" hx-swap="outerHTML">More</a>' in html


def test_it_draws_nothing_on_the_last_page_and_escapes_the_filters():
    assert more(cursor=None, colspan=6, label="More", query="") == ""
    assert 'href="?cursor=abc"' in more(cursor="abc", colspan=6, label="Older", query="")
    html = more(cursor="abc", colspan=6, label="Older", query='token="><script>')
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html


def test_the_rejected_list_keeps_its_token_filter(p, as_user):
    from tests.factories import make_rejected

    item = make_rejected(p.sub)
    for _ in range(50):  # a page is 50
        item.pk = None
        item.save()
    body = as_user(p.admin).get(f"/s/{p.sub.pk}/settings/rejected/?token=none")\
        .content.decode()
    assert '<tr class="more">' in body and 'href="?token=none&amp;cursor=' in body
