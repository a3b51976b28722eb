"""Error pages in the console's layout (API paths get the JSON envelope instead)."""

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.html import escape

from socconsole.lib.htmx import is_partial


def page(request, status, heading, message):
    return render(request, "error.html", {"status": status, "heading": heading,
                                          "message": message}, status=status)


def bad_request_page(request, message: str):
    """A 400 in the console's layout, saying what was wrong (form errors, a bad filter);
    the message may carry what was sent, so it is escaped like any text of the page. An
    htmx request gets the message alone, for the element that asked."""
    if is_partial(request):
        return HttpResponseBadRequest(escape(message))
    return page(request, 400, "Bad request", message)


def bad_request(request, exception=None):
    return page(request, 400, "Bad request", "The request could not be understood.")


def forbidden(request, exception=None):
    detail = str(exception) if exception and str(exception) else ""
    return page(request, 403, "Not allowed",
                 detail or "Your role in this subscription does not allow this.")


def not_found(request, exception=None):
    return page(request, 404, "Not found",
                 "There is nothing here, or it belongs to a subscription you are not in.")


def server_error(request):
    # No request context processors here: the failure may have come from them.
    from django.http import HttpResponseServerError
    from django.template import loader

    html = loader.get_template("500.html").render()
    return HttpResponseServerError(html)
