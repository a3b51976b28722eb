from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inventory.access import get_for_user, get_subscription_for_user, role_for
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm, role_allows

from .forms import ImportForm, IndicatorFilterForm
from .indicators import IndicatorError, delete_indicator, export_bundle, import_file
from .models import Indicator

SHOWN = 200


def _context(request: HttpRequest, subscription: Subscription, **extra) -> dict:
    form = IndicatorFilterForm(request.GET)
    rows = Indicator.objects.filter(subscription=subscription)
    if form.is_valid() and form.cleaned_data["q"]:
        rows = rows.filter(value__icontains=form.cleaned_data["q"])
    return {"subscription": subscription, "filter": form, "total": rows.count(),
            "indicators": list(rows.order_by("-updated_at", "-id")[:SHOWN]), "shown": SHOWN,
            "may_manage": role_allows(role_for(request.user, subscription.pk), Perm.DETECTIONS),
            "import_form": ImportForm(), **extra}


@require_GET
def indicator_list(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    return render(request, "detections/indicators.html", _context(request, subscription))


@require_POST
def indicator_import(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.DETECTIONS)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.INGEST_MAX_BYTES:
            form.add_error("file", f"The file is over {settings.INGEST_MAX_BYTES:,} bytes.")
        else:
            try:
                report = import_file(subscription, upload.read(), filename=upload.name,
                                     source=form.cleaned_data["source"],
                                     actor=Actor.of_user(request.user),
                                     role=role_for(request.user, sub))
            except IndicatorError as exc:
                form.add_error("file", str(exc))
            else:
                return render(request, "detections/indicators.html",
                              _context(request, subscription, report=report,
                                       filename=upload.name))
    return render(request, "detections/indicators.html",
                  _context(request, subscription, import_form=form), status=400)


@require_GET
def indicator_export(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    response = HttpResponse(export_bundle(subscription.pk), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="indicators.stix.json"'
    return response


@require_POST
def indicator_delete(request: HttpRequest, sub: int, indicator_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    indicator = get_for_user(Indicator.objects.filter(subscription_id=sub), request.user,
                             indicator_id, Perm.DETECTIONS)
    delete_indicator(indicator, actor=Actor.of_user(request.user),
                     role=role_for(request.user, sub))
    messages.success(request, f"Indicator {indicator.value} deleted.")
    return redirect("detections:indicators", sub=sub)
