import re
from datetime import UTC

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.db.models import Count, Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory.access import get_for_user, get_subscription_for_user, role_for, subscriptions_for
from inventory.activity import PRESENT_COLUMNS, Actor, activity_page, iter_filtered, present
from inventory.collection import CollectionError, set_auto_provisioning, set_collection
from inventory.forms import (
    ActivityFilterForm,
    CollectionForm,
    DefenderPlanForm,
    LoginForm,
    MemberForm,
    ReasonForm,
    ResourceFilterForm,
    RetentionForm,
    TokenForm,
    WorkspaceForm,
)
from inventory.models import (
    Activity,
    ApiToken,
    Invitation,
    Membership,
    Resource,
    Subscription,
    Workspace,
)
from inventory.password_links import LINK_HOURS, PasswordLinkError, find_link, use_link
from inventory.people import (
    INVITATION_DAYS,
    accept_invitation,
    decline_invitation,
    grant_role,
    invite,
    pending_invitations,
    remove_member,
    revoke_invitation,
)
from inventory.plans import off_periods, set_defender_plan
from inventory.roles import Perm, role_allows
from inventory.subscriptions import InventoryError, create_workspace, set_retention
from inventory.tokens import TokenError, create_token, revoke_token
from socconsole.errors import bad_request_page
from socconsole.lib import kql
from socconsole.lib.csvexport import stream_rows
from socconsole.lib.htmx import is_partial
from socconsole.lib.net import client_address
from socconsole.lib.paging import BadCursor, keyset_page

NEW_TOKEN_COOKIE = "soc_new_token"
NEW_LINK_COOKIE = "soc_new_link"


class SocLoginView(LoginView):
    form_class = LoginForm
    template_name = "inventory/login.html"
    redirect_authenticated_user = True


soc_login = login_not_required(SocLoginView.as_view())


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    first = subscriptions_for(request.user).order_by("pk").first()
    if first is None:
        return render(request, "inventory/no_subscriptions.html",
                      {"invitations": pending_invitations(request.user)})
    return redirect("dashboard:page", sub=first.pk)


@require_GET
def overview(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    return render(request, "inventory/overview.html", {
        "subscription": subscription,
        "resources": subscription.resources.all()[:200],
        "workspaces": subscription.workspaces.all(),
    })


@require_GET
def activity_list(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ACTIVITY)
    form = ActivityFilterForm(request.GET)
    page, status = None, 200
    if form.is_valid():
        try:
            page = activity_page(subscription.pk, form.activity_filter(),
                                 form.cleaned_data["cursor"] or None)
        except BadCursor as exc:
            form.add_error("cursor", str(exc))
    if page is None:
        status = 400
    query = request.GET.copy()
    query.pop("cursor", None)
    template = "inventory/activity.html"
    if is_partial(request) and page is not None:
        template += "#activity-rows"
    context = {
        "subscription": subscription, "page": page, "form": form,
        "filter_query": query.urlencode(),
        "filtered": page is not None and not form.activity_filter().is_empty,
    }
    if template.endswith(".html"):
        context["choices"] = _activity_choices(subscription.pk)
        verbs = context["choices"]["verb"]
        context["verb_choices"] = sorted({v.split(".")[0] + "." for v in verbs} | set(verbs))
    return render(request, template, context, status=status)


def _activity_choices(subscription_id: int) -> dict[str, list[str]]:
    """The actors, verbs and target kinds the log holds, for the filters' suggestions:
    cached until the next entry (keyed by the newest id), as a million-row log's actors
    take tens of milliseconds to list."""
    newest = (Activity.objects.filter(subscription_id=subscription_id)
              .order_by("-created_at", "-id").values_list("id", flat=True).first())
    return cache.get_or_set(
        f"activity-choices:{subscription_id}:{newest}",
        lambda: {column: present(subscription_id, column) for column in PRESENT_COLUMNS},
        timeout=600)


CSV_HEADER = ("time", "actor", "verb", "target kind", "target id", "target label", "reason",
              "before", "after")
CSV_COLUMNS = ("created_at", "actor_label", "verb", "target_type", "target_id", "target_label",
               "reason", "before", "after")


@require_GET
def activity_export(request: HttpRequest, sub: int) -> HttpResponse:
    """The filtered log as CSV, streamed a keyset batch at a time."""
    subscription = get_subscription_for_user(request.user, sub, Perm.ACTIVITY)
    form = ActivityFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Bad filter: " + form.errors.as_text(),
                                      content_type="text/plain; charset=utf-8")
    entries = iter_filtered(subscription.pk, form.activity_filter(), CSV_COLUMNS)
    rows = ((at.astimezone(UTC).isoformat(), actor, verb, kind, target, label, reason,
             before or "", after or "")
            for at, actor, verb, kind, target, label, reason, before, after in entries)
    response = StreamingHttpResponse(stream_rows(CSV_HEADER, rows),
                                     content_type="text/csv; charset=utf-8")
    # Only ASCII letters, digits and dashes reach the header: no quoting, no injection.
    name = re.sub(r"[^a-z0-9]+", "-", subscription.name.lower()).strip("-")[:40] or "log"
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = (f'attachment; filename="activity-{subscription.pk}-'
                                       f'{name}-{stamp}.csv"')
    return response


def _settings_context(subscription: Subscription, user: AbstractBaseUser, **extra) -> dict:
    members = list(Membership.objects.filter(subscription=subscription)
                   .select_related("user").order_by("user__username"))
    own = [m for m in members if m.user_id == user.pk]
    return {
        "subscription": subscription,
        "members": members,
        "own": own,
        "tokens": ApiToken.objects.filter(subscription=subscription).select_related("user"),
        "token_form": TokenForm(members=own),
        "member_form": MemberForm(),
        "invitations": Invitation.objects.filter(
            subscription=subscription, state=Invitation.State.PENDING,
            expires_at__gt=timezone.now()).select_related("invited_by").order_by("username"),
        "workspaces": subscription.workspaces.order_by("-is_default", "name"),
        "workspace_form": WorkspaceForm(),
        **extra,
    }


@require_GET
def settings_page(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    context = _settings_context(subscription, request.user)
    new = request.get_signed_cookie(NEW_TOKEN_COOKIE, default="", salt=NEW_TOKEN_COOKIE,
                                    max_age=60)
    token_id, _, plaintext = new.partition(":")
    if plaintext:
        context.update(new_token=next((t for t in context["tokens"] if str(t.pk) == token_id),
                                      None), new_plaintext=plaintext)
    link = request.get_signed_cookie(NEW_LINK_COOKIE, default="", salt=NEW_LINK_COOKIE,
                                     max_age=60)
    name, _, url = link.partition("\n")
    if url:
        context.update(new_link=url, new_link_for=name, link_hours=LINK_HOURS)
    response = render(request, "inventory/settings.html", context)
    response["Cache-Control"] = "no-store"  # the page may hold a token's or a link's secret
    response.delete_cookie(NEW_TOKEN_COOKIE, path=request.path)
    response.delete_cookie(NEW_LINK_COOKIE, path=request.path)
    return response


def _show_once(response: HttpResponse, cookie: str, value: str, path: str) -> HttpResponse:
    """Carry a secret to the next page only, in a short-lived signed cookie: a reload must
    not create a second one, and no server storage ever holds it."""
    response.set_signed_cookie(cookie, value, salt=cookie, max_age=60, path=path,
                               secure=settings.SESSION_COOKIE_SECURE, httponly=True,
                               samesite="Strict")
    return response


@require_POST
def token_create(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    context = _settings_context(subscription, request.user)
    form = TokenForm(request.POST, members=context["own"])
    if form.is_valid():
        try:
            token, plaintext = create_token(
                subscription=subscription, name=form.cleaned_data["name"],
                user=form.cleaned_data["user"], scopes=form.cleaned_data["scopes"],
                actor=Actor.of_user(request.user))
        except TokenError as exc:
            form.add_error(None, str(exc))
        else:
            url = reverse("inventory:settings", kwargs={"sub": sub})
            return _show_once(redirect(f"{url}#tokens"), NEW_TOKEN_COOKIE,
                              f"{token.pk}:{plaintext}", url)
    context["token_form"] = form
    return render(request, "inventory/settings.html", context, status=400)


@require_POST
def token_revoke(request: HttpRequest, sub: int, pk: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    token = get_for_user(ApiToken.objects.filter(subscription_id=sub), request.user, pk,
                         Perm.ADMINISTER)
    form = ReasonForm(request.POST)
    form.is_valid()
    if revoke_token(token, actor=Actor.of_user(request.user),
                    reason=form.cleaned_data.get("reason", "")):
        messages.success(request, f"Token {token.name} revoked.")
    return redirect("inventory:settings", sub=sub)


@require_POST
def member_save(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    form = MemberForm(request.POST)
    if form.is_valid():
        data, actor = form.cleaned_data, Actor.of_user(request.user)
        # A member's role changes at once; anyone else is invited, with the same answer
        # whether or not the name is a user (of this console or another subscription).
        member = Membership.objects.filter(subscription=subscription,
                                           user__username=data["username"])\
            .select_related("user").first()
        try:
            if member:
                grant_role(subscription=subscription, user=member.user, role=data["role"],
                           actor=actor, reason=data["reason"])
            else:
                _, link = invite(subscription=subscription, username=data["username"],
                                 role=data["role"], actor=actor, reason=data["reason"],
                                 email=data["email"])
        except InventoryError as exc:
            if member:
                messages.error(request, str(exc))
            else:
                form.add_error(None, str(exc))
        else:
            role = data["role"].replace("_", " ")
            if member:
                messages.success(request, f"{data['username']} is now {role}.")
                return _after_own_change(request, subscription)
            messages.success(request, f"Invitation for {data['username']} saved: they become "
                             f"{role} once they accept it. It expires in {INVITATION_DAYS} "
                             "days.")
            url = reverse("inventory:settings", kwargs={"sub": sub})
            return _show_once(redirect(f"{url}#people"), NEW_LINK_COOKIE,
                              f"{data['username']}\n{link}", url)
    return render(request, "inventory/settings.html",
                  _settings_context(subscription, request.user, member_form=form), status=400)


def _after_own_change(request: HttpRequest, subscription: Subscription) -> HttpResponse:
    """Back to the settings, unless the admin just took away their own right to see them."""
    # Not role_for: it caches the role the request started with.
    role = Membership.objects.filter(user=request.user, subscription=subscription)\
        .values_list("role", flat=True).first()
    if role and role_allows(role, Perm.ADMINISTER):
        return redirect("inventory:settings", sub=subscription.pk)
    return redirect("home")


@require_POST
def invitation_revoke(request, sub, invitation_id):
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    invitation = Invitation.objects.filter(subscription=subscription, pk=invitation_id).first()
    if invitation is None:
        raise Http404("No such invitation.")
    if revoke_invitation(invitation, actor=Actor.of_user(request.user)):
        messages.success(request, f"Invitation for {invitation.username} withdrawn.")
    return redirect("inventory:settings", sub=sub)


@require_GET
def invitation_list(request):
    """The invitations to the signed-in user's name, to accept or decline."""
    return render(request, "inventory/invitations.html",
                  {"invitations": pending_invitations(request.user)})


@require_POST
def invitation_answer(request, invitation_id, answer):
    if answer not in ("accept", "decline"):
        raise Http404("No such answer.")
    # Another person's invitation is not there at all, as another subscription's object.
    if not Invitation.objects.filter(pk=invitation_id,
                                     username=request.user.get_username()).exists():
        raise Http404("No such invitation.")
    try:
        if answer == "accept":
            membership = accept_invitation(invitation_id, user=request.user)
        else:
            decline_invitation(invitation_id, user=request.user)
    except InventoryError as exc:
        messages.error(request, str(exc))
        return redirect("inventory:invitations")
    if answer == "decline":
        messages.success(request, "Invitation declined.")
        return redirect("inventory:invitations")
    messages.success(request, f"You are now {membership.get_role_display().lower()} in "
                              f"{membership.subscription.name}.")
    return redirect("incidents:queue", sub=membership.subscription_id)


@require_POST
def member_remove(request: HttpRequest, sub: int, user_id: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    membership = (Membership.objects.filter(subscription=subscription, user_id=user_id)
                  .select_related("user").first())
    if membership is None:
        raise Http404("No such member.")
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        remove_member(subscription=subscription, user=membership.user,
                      actor=Actor.of_user(request.user),
                      reason=form.cleaned_data.get("reason", ""))
    except InventoryError as exc:
        messages.error(request, str(exc))
        return render(request, "inventory/settings.html",
                      _settings_context(subscription, request.user), status=400)
    messages.success(request, f"{membership.user.get_username()} removed.")
    return _after_own_change(request, subscription)


@login_not_required
def set_password(request: HttpRequest, secret: str) -> HttpResponse:
    """The page a one-time link opens: choose a password twice, then be signed in."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    try:
        link = find_link(secret)
    except PasswordLinkError as exc:
        return _link_refused(request, exc)
    # A link that sets nothing shows the same form: only using it tells them apart.
    user = link.user or get_user_model()(username=link.username)
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = use_link(secret, form.cleaned_data["new_password1"],
                            address=client_address(request, settings.TRUSTED_PROXIES))
        except PasswordLinkError as exc:
            return _link_refused(request, exc)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your password is set, and you are signed in.")
        return redirect("home")
    response = render(request, "inventory/set_password.html",
                      {"form": form, "username": link.username, "expires_at": link.expires_at},
                      status=400 if request.method == "POST" else 200)
    return _secret_page(response)


def _link_refused(request: HttpRequest, exc: PasswordLinkError) -> HttpResponse:
    response = render(request, "inventory/set_password_refused.html", {"message": str(exc)},
                      status=410 if exc.expired else 404)
    return _secret_page(response)


def _secret_page(response: HttpResponse) -> HttpResponse:
    # The secret is in the URL: no cache keeps the page, no Referer carries it off-site.
    # (Not no-referrer: Chromium then posts the form with "Origin: null", which CSRF refuses.)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
def workspace_create(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    form = WorkspaceForm(request.POST)
    if form.is_valid():
        try:
            workspace = create_workspace(subscription=subscription, name=form.cleaned_data["name"],
                                         retention_days=form.cleaned_data["retention_days"],
                                         actor=Actor.of_user(request.user))
        except InventoryError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Workspace {workspace.name} created.")
            return redirect(reverse("inventory:settings", kwargs={"sub": sub}) + "#workspaces")
    context = _settings_context(subscription, request.user, workspace_form=form)
    return render(request, "inventory/settings.html", context, status=400)


@require_POST
def workspace_retention(request: HttpRequest, sub: int, workspace_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    workspace = get_for_user(Workspace.objects.filter(subscription_id=sub), request.user,
                             workspace_id, Perm.ADMINISTER)
    form = RetentionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Retention is a number of days from 1 to 3650.")
    else:
        set_retention(workspace, form.cleaned_data["retention_days"],
                      actor=Actor.of_user(request.user), reason=form.cleaned_data["reason"])
        messages.success(request, f"{workspace.name} keeps events "
                                  f"{workspace.retention_days} days after ingestion.")
    return redirect(reverse("inventory:settings", kwargs={"sub": sub}) + "#workspaces")


def _administered(user: AbstractBaseUser) -> list[Subscription]:
    return [s for s in subscriptions_for(user) if role_allows(role_for(user, s.pk),
                                                              Perm.ADMINISTER)]


@require_GET
def pricing(request: HttpRequest, sub: int) -> HttpResponse:
    """Pricing and settings: the Defender plan of every subscription the user administers."""
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    rows = [(s, off_periods(s)) for s in _administered(request.user)]
    return render(request, "inventory/pricing.html", {"subscription": subscription,
                                                      "rows": rows})


@require_http_methods(["GET", "POST"])
def defender_plan(request: HttpRequest, sub: int) -> HttpResponse:
    """GET ?plan=on|off: the confirmation, saying what the change does, asking a reason;
    POST: the change."""
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    if request.method == "GET":
        plan = request.GET.get("plan")
        if plan not in ("on", "off"):
            return bad_request_page(request, "Say plan=on or plan=off.")
        return _confirm_plan(request, subscription, DefenderPlanForm(initial={"plan": plan}),
                             plan)
    form = DefenderPlanForm(request.POST)
    if form.is_valid():
        on = form.cleaned_data["plan"] == "on"
        try:
            changed = set_defender_plan(subscription, on=on, actor=Actor.of_user(request.user),
                                        reason=form.cleaned_data["reason"],
                                        role=role_for(request.user, subscription.pk))
        except InventoryError as exc:
            form.add_error("reason", str(exc))
        else:
            state = "is now" if changed else "was already"
            messages.success(request, f"The Defender plan of {subscription.name} {state} "
                                      f"{'on' if on else 'off'}.")
            return redirect(reverse("inventory:pricing", kwargs={"sub": sub})
                            + f"#plan-{subscription.pk}")
    plan = request.POST.get("plan") if request.POST.get("plan") in ("on", "off") else "off"
    return _confirm_plan(request, subscription, form, plan, status=400)


def _confirm_plan(request: HttpRequest, subscription: Subscription, form: DefenderPlanForm,
                  plan: str, status: int = 200) -> HttpResponse:
    return render(request, "inventory/defender_plan.html",
                  {"subscription": subscription, "form": form, "plan": plan}, status=status)


def _search_link(subscription_id: int, resource: Resource) -> str:
    query = f"SecurityEvent | where Computer == {kql.quote(resource.name)}"
    return reverse("search:page", kwargs={"sub": subscription_id}) + "?" + urlencode(
        {"query": query, "range": "7d"})


@require_GET
def resource_list(request: HttpRequest, sub: int) -> HttpResponse:
    """Every resource with its collection state; counts for the page's rows only, each
    kind by one aggregate query."""
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    form = ResourceFilterForm(request.GET)
    if not form.is_valid():
        return bad_request_page(request, "Bad filter: " + form.errors.as_text())
    data = form.cleaned_data
    resources = Resource.objects.filter(subscription=subscription)
    if data["kind"]:
        resources = resources.filter(kind=data["kind"])
    if data["not_monitored"]:
        resources = resources.filter(collecting=False)
    try:
        page = keyset_page(resources.select_related("collection_changed_by"), ("name", "id"),
                           data["cursor"] or None, size=50)
    except BadCursor as exc:
        return bad_request_page(request, str(exc))
    ids = [r.pk for r in page.items]
    alerts = dict(Resource.objects.filter(pk__in=ids).values_list("pk").annotate(
        n=Count("alerts")))
    incidents = dict(Resource.objects.filter(pk__in=ids).values_list("pk").annotate(
        n=Count("incidents")))
    for resource in page.items:
        resource.alert_count = alerts.get(resource.pk, 0)
        resource.incident_count = incidents.get(resource.pk, 0)
        resource.search_url = _search_link(subscription.pk, resource)
    query = request.GET.copy()
    query.pop("cursor", None)
    template = "inventory/resources.html"
    if is_partial(request):
        template += "#resource-rows"
    return render(request, template, {
        "subscription": subscription, "page": page, "form": form,
        "filter_query": query.urlencode(), "filtered": bool(data["kind"] or
                                                            data["not_monitored"]),
        "not_monitored": Resource.objects.filter(subscription=subscription,
                                                 collecting=False).count(),
        "can_administer": role_allows(role_for(request.user, subscription.pk),
                                      Perm.ADMINISTER),
    })


@require_POST
def resource_collection(request: HttpRequest, sub: int, resource_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    resource = get_for_user(Resource.objects.filter(subscription_id=sub), request.user,
                            resource_id, Perm.ADMINISTER)
    form = CollectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            set_collection(resource, on=form.cleaned_data["state"],
                           actor=Actor.of_user(request.user), reason=form.cleaned_data["reason"],
                           role=role_for(request.user, sub))
        except CollectionError as exc:
            messages.error(request, str(exc))
        else:
            state = "on" if resource.collecting else "off"
            messages.success(request, f"Data collection is {state} for {resource.name}.")
    # Back to the list as it was filtered; only a path on this site.
    target = request.POST.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}):
        target = reverse("inventory:resources", kwargs={"sub": sub})
    return redirect(target)


def _policy_context(subscription: Subscription, **extra) -> dict:
    counts = Resource.objects.filter(subscription=subscription).aggregate(
        collect=Count("pk", filter=Q(collecting=True)),
        not_monitored=Count("pk", filter=Q(collecting=False)))
    return {"subscription": subscription, "counts": counts,
            "form": CollectionForm(initial={"state": "off" if subscription.auto_provisioning
                                            else "on"}), **extra}


@require_GET
def security_policy(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    subscription = Subscription.objects.select_related("auto_provisioning_by").get(
        pk=subscription.pk)
    return render(request, "inventory/security_policy.html", _policy_context(subscription))


@require_POST
def auto_provisioning(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    form = CollectionForm(request.POST)
    if form.is_valid():
        try:
            set_auto_provisioning(subscription, on=form.cleaned_data["state"],
                                  actor=Actor.of_user(request.user),
                                  reason=form.cleaned_data["reason"],
                                  role=role_for(request.user, sub))
        except CollectionError as exc:
            form.add_error(None, str(exc))
        else:
            state = "on" if subscription.auto_provisioning else "off"
            messages.success(request, f"Automatic provisioning is {state}.")
            return redirect("inventory:policy", sub=sub)
    subscription = Subscription.objects.select_related("auto_provisioning_by").get(
        pk=subscription.pk)
    return render(request, "inventory/security_policy.html",
                  _policy_context(subscription, form=form), status=400)
