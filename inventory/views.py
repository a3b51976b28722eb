import re
from datetime import UTC

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.views import LoginView
from django.core.cache import cache
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
from django.views.decorators.http import require_GET, require_POST

from inventory.access import get_for_user, get_subscription_for_user, subscriptions_for
from inventory.activity import PRESENT_COLUMNS, Actor, activity_page, iter_filtered, present
from inventory.forms import (
    ActivityFilterForm,
    LoginForm,
    MemberForm,
    ReasonForm,
    RetentionForm,
    TokenForm,
    WorkspaceForm,
)
from inventory.models import Activity, ApiToken, Invitation, Membership, Subscription, Workspace
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
from inventory.roles import Perm
from inventory.subscriptions import InventoryError, create_workspace, set_retention
from inventory.tokens import TokenError, create_token, revoke_token
from socconsole.lib.csvexport import stream_rows
from socconsole.lib.htmx import is_partial
from socconsole.lib.paging import BadCursor

NEW_TOKEN_COOKIE = "soc_new_token"


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
    return redirect("incidents:queue", sub=first.pk)


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
    response = render(request, "inventory/settings.html", context)
    response["Cache-Control"] = "no-store"  # the page may hold a token's secret
    response.delete_cookie(NEW_TOKEN_COOKIE, path=request.path)
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
            # Shown once, on the next page only: a reload must not create a second token.
            # The secret rides in a short-lived signed cookie, never in server storage.
            url = reverse("inventory:settings", kwargs={"sub": sub})
            response = redirect(f"{url}#tokens")
            response.set_signed_cookie(
                NEW_TOKEN_COOKIE, f"{token.pk}:{plaintext}", salt=NEW_TOKEN_COOKIE, max_age=60,
                path=url, secure=settings.SESSION_COOKIE_SECURE, httponly=True,
                samesite="Strict")
            return response
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
                invite(subscription=subscription, username=data["username"], role=data["role"],
                       actor=actor, reason=data["reason"])
        except InventoryError as exc:
            form.add_error(None, str(exc))
        else:
            role = data["role"].replace("_", " ")
            messages.success(request, f"{data['username']} is now {role}." if member else
                             f"Invitation for {data['username']} saved: once signed in as "
                             f"{data['username']}, they can accept it and become {role}. It "
                             f"expires in {INVITATION_DAYS} days.")
            return redirect("inventory:settings", sub=sub)
    return render(request, "inventory/settings.html",
                  _settings_context(subscription, request.user, member_form=form), status=400)


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
    if membership.user_id == request.user.pk:
        messages.error(request, "You cannot remove yourself; ask another admin.")
        return redirect("inventory:settings", sub=sub)
    form = ReasonForm(request.POST)
    form.is_valid()
    remove_member(subscription=subscription, user=membership.user,
                  actor=Actor.of_user(request.user), reason=form.cleaned_data.get("reason", ""))
    messages.success(request, f"{membership.user.get_username()} removed.")
    return redirect("inventory:settings", sub=sub)


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
